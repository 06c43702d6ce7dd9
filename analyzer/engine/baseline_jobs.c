/*
 * baseline_jobs.c - train from results files (researchers re-train without
 * re-reading packets), model show and model merge.
 */
#include "engine/baseline_jobs.h"

#include <stdlib.h>
#include <string.h>

#include "baseline/trainer.h"
#include "classify/classify_ndpi.h"
#include "classify/inventory.h"
#include "core/log.h"
#include "core/mw.h"
#include "core/output_path.h"
#include "output/h5_model.h"

int mw_inputs_are_results(const mw_config_t *cfg)
{
    size_t i, h5 = 0;

    for (i = 0; i < cfg->nfiles; i++)
        h5 += mw_h5_is_hdf5(cfg->files[i]) ? 1 : 0;
    if (h5 == 0)
        return 0;
    return h5 == cfg->nfiles ? 1 : -1;
}

static const char *file_proto_name(void *ctx, unsigned id)
{
    const mw_h5_flows_t *f = ctx;
    return id < f->nproto ? f->proto_names[id] : "";
}

int mw_train_from_results(const mw_config_t *cfg, char *errbuf, size_t errlen)
{
    mw_inventory_t *inv;
    mw_model_t *m = NULL;
    uint64_t records = 0;
    size_t i, j;
    int rc = mw_config_check_outputs(cfg, errbuf, errlen);

    if (rc != 0)
        return rc;
    rc = MW_EINVAL;
    inv = mw_inventory_load(cfg->inventory, errbuf, errlen);
    if (inv == NULL)
        return MW_EINVAL;
    m = mw_model_create(cfg->window_us, errbuf, errlen);
    if (m == NULL)
        goto out;
    snprintf(mw_model_meta(m)->site, sizeof(mw_model_meta(m)->site), "%s", mw_inventory_site(inv));
    for (i = 0; i < cfg->nfiles; i++) {
        mw_h5_flows_t f;
        mw_trainer_t *t;
        size_t len;
        const char *yaml = mw_inventory_yaml_text(inv, &len);

        rc = mw_h5_flows_read(cfg->files[i], &f, errbuf, errlen);
        if (rc != 0)
            goto out;
        /* bs_index in a results file counts base stations of the inventory it was run with */
        if (f.inventory_yaml == NULL || yaml == NULL || strcmp(f.inventory_yaml, yaml) != 0)
            mw_log_note("%s: written with %s inventory than %s; base stations are matched by "
                        "position in the file",
                    cfg->files[i], f.inventory_yaml ? "another" : "no", cfg->inventory);
        if (f.active_timeout_s != cfg->window_us / 1000000) /* no product: hostile values */
            mw_log_note("%s: its flow records were cut every %lld s, not every window (%lld s): "
                        "window features are coarser than training on the capture gives "
                        "(write results with --active-timeout %lld to match)",
                    cfg->files[i], (long long)f.active_timeout_s,
                    (long long)(cfg->window_us / 1000000), (long long)(cfg->window_us / 1000000));
        t = mw_trainer_create(m, inv, file_proto_name, &f);
        if (t == NULL) {
            mw_h5_flows_free(&f);
            mw_fmt_err(errbuf, errlen, "out of memory");
            rc = MW_ENOMEM;
            goto out;
        }
        for (j = 0; j < f.n; j++)
            mw_trainer_record(t, &f.recs[j]);
        mw_trainer_finish(t);
        records += mw_trainer_records(t);
        mw_trainer_destroy(t);
        mw_h5_flows_free(&f);
    }
    if (records == 0) {
        mw_fmt_err(errbuf, errlen,
                "nothing learned: no flow record of the inventory's base stations in the results "
                "files (check the inventory against them)");
        rc = MW_EINVAL;
        goto out;
    }
    snprintf(mw_model_meta(m)->ndpi_version, sizeof(mw_model_meta(m)->ndpi_version), "%s",
            mw_classifier_ndpi_version());
    rc = mw_h5_model_save(m, cfg->output, cfg->command_line, errbuf, errlen);
    if (rc == 0 && !cfg->quiet)
        fprintf(stderr,
                "trained      %llu flow records of base stations from %zu results files\n"
                "output       %s\n",
                (unsigned long long)records, cfg->nfiles, cfg->output);
out:
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
    return rc;
}

int mw_model_show(const char *path, FILE *out, char *errbuf, size_t errlen)
{
    mw_model_t *m = mw_h5_model_load(path, errbuf, errlen);
    const mw_model_meta_t *meta;
    size_t i;

    if (m == NULL)
        return MW_EFORMAT; /* missing or corrupt: failed input, exit 1 */
    meta = mw_model_meta_const(m);
    fprintf(out, "model        %s (site %s, nDPI %s)\n", path, meta->site, meta->ndpi_version);
    fprintf(out, "window       %lld s\n", (long long)(meta->window_us / 1000000));
    fprintf(out, "training     %.1f days\n",
            (double)mw_span_us(meta->first_us, meta->last_us) / 86400e6);
    fprintf(out, "tuples       %zu\n", mw_model_tuple_count(m));
    fprintf(out, "%-12s %8s %8s %10s %12s %12s %10s\n", "station", "days", "records", "windows",
            "up/window", "max up/win", "peers/win");
    for (i = 0; i < mw_model_station_count(m); i++) {
        const mw_station_t *s = mw_model_station_at(m, i);
        fprintf(out, "%-12s %8.1f %8llu %10llu %12.0f %12.0f %10.1f%s\n", s->id,
                (double)mw_span_us(s->first_us, s->last_us) / 86400e6,
                (unsigned long long)s->records, (unsigned long long)s->win_up.n,
                mw_series_mean(&s->win_up), s->win_up.max, mw_series_mean(&s->win_peers),
                mw_station_learned(s) ? "" : "  (still learning)");
    }
    mw_model_destroy(m);
    return 0;
}

int mw_model_merge_files(const mw_config_t *cfg, char *errbuf, size_t errlen)
{
    mw_model_t *into = NULL;
    size_t i;
    int rc = mw_config_check_outputs(cfg, errbuf, errlen);

    for (i = 0; i < cfg->nfiles && rc == 0; i++) {
        mw_model_t *m = mw_h5_model_load(cfg->files[i], errbuf, errlen);
        if (m == NULL) {
            rc = MW_EFORMAT;
            break;
        }
        if (into == NULL) {
            into = m;
            continue;
        }
        rc = mw_model_merge(into, m, errbuf, errlen);
        mw_model_destroy(m);
    }
    if (rc == 0 && into == NULL) {
        mw_fmt_err(errbuf, errlen, "model merge: no model given");
        rc = MW_EINVAL;
    }
    if (rc == 0)
        rc = mw_h5_model_save(into, cfg->output, cfg->command_line, errbuf, errlen);
    mw_model_destroy(into);
    return rc;
}
