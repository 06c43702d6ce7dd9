/*
 * coverage_text.c - which base stations a detection run really scored, on
 * stderr, always (even with --quiet): a run that scored nothing must never
 * read as "all clear".
 */
#include "output/coverage_text.h"

#include <string.h>

#include "detect/anomaly.h"

static void list_status(FILE *out, const mw_inventory_t *inv, const mw_coverage_record_t *rows,
        size_t n, unsigned status, const char *label)
{
    size_t i, count = 0, shown = 0;

    for (i = 1; i < n; i++)
        count += rows[i].status == status;
    if (count == 0)
        return;
    fprintf(out, "coverage     %-16s %zu:", label, count);
    for (i = 1; i < n && shown < 12; i++) {
        if (rows[i].status != status)
            continue;
        fprintf(out, " %s", mw_inventory_bs_id(inv, rows[i].bs_index));
        shown++;
    }
    fprintf(out, "%s\n", count > shown ? " ..." : "");
}

int mw_coverage_print(
        FILE *out, const mw_inventory_t *inv, const mw_coverage_record_t *rows, size_t n)
{
    uint64_t flows = 0, mid = 0, oneway = 0, cont = 0;
    size_t i, scored = 0;

    for (i = 1; i < n; i++) {
        flows += rows[i].flows;
        mid += rows[i].mid_session;
        oneway += rows[i].one_way;
        cont += rows[i].continued;
        scored += rows[i].status == MW_COV_SCORED || rows[i].status == MW_COV_GROUP ||
                  rows[i].status == MW_COV_LEARNING;
    }
    list_status(out, inv, rows, n, MW_COV_SCORED, "scored");
    list_status(out, inv, rows, n, MW_COV_GROUP, "by role group");
    list_status(out, inv, rows, n, MW_COV_LEARNING, "still learning");
    list_status(out, inv, rows, n, MW_COV_NOT_SCORED, "NOT scored");
    list_status(out, inv, rows, n, MW_COV_SILENT, "no traffic");
    fprintf(out,
            "coverage     %llu flow records of base stations (%llu without their opening, %llu "
            "one-way, %llu continued); %llu of no base station\n",
            (unsigned long long)flows, (unsigned long long)mid, (unsigned long long)oneway,
            (unsigned long long)cont, (unsigned long long)(n > 0 ? rows[0].flows : 0));
    for (i = 1; i < n; i++)
        if (rows[i].flows > 0 && rows[i].silent_hours > 0)
            fprintf(out, "coverage     %s: no traffic in %u hours of the capture (gaps)\n",
                    mw_inventory_bs_id(inv, rows[i].bs_index), rows[i].silent_hours);
    if (scored == 0)
        fprintf(out,
                "coverage     NOTHING WAS SCORED: no base station of the inventory had traffic "
                "the model knows - this is not an all-clear\n");
    return (int)scored;
}
