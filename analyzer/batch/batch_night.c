/*
 * batch_night.c - the three files the morning reads: index.h5 (the whole
 * night as one table, output/h5_index.c), anomalies.jsonl (every capture's
 * anomalies, each line tagged with capture_id, capture and site) and
 * night.json (what was done, per capture and in total). All are rebuilt
 * from the state and the results files at the end of each run, so a run
 * that was killed leaves the previous version in place and the next run
 * writes a complete one.
 */
#include "batch/batch_night.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch/batch_util.h"
#include "core/mw.h"

static void read_infos(mw_batch_night_t *nt)
{
    size_t i;

    for (i = 0; i < nt->n; i++) {
        mw_batch_night_capture_t *c = &nt->caps[i];
        char err[MW_ERRBUF_SIZE];
        char *p;
        if (c->rec->results == NULL)
            continue;
        p = mw__batch_printf("%s/%s", nt->dir, c->rec->results);
        c->have_info = p != NULL && mw_h5_results_info(p, &c->info, err, sizeof(err)) == 0;
        free(p);
    }
}

static int write_index(mw_batch_night_t *nt, char *errbuf, size_t errlen)
{
    mw_index_capture_t *ic = calloc(nt->n > 0 ? nt->n : 1, sizeof(*ic));
    char *path = mw__batch_printf("%s/index.h5", nt->dir);
    char *tmp = mw__batch_printf("%s/index.h5.tmp.%ld", nt->dir, (long)getpid());
    uint64_t frow = 0, arow = 0;
    size_t i;
    int rc = MW_ENOMEM;

    if (ic == NULL || path == NULL || tmp == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        goto out;
    }
    for (i = 0; i < nt->n; i++) {
        const mw_batch_night_capture_t *c = &nt->caps[i];
        ic[i].capture_id = (uint32_t)(i + 1);
        ic[i].path = c->rec->path;
        ic[i].site = c->rec->site;
        ic[i].status = mw__batch_status_name(c->rec->status);
        ic[i].error = c->rec->error;
        ic[i].exit_code = c->rec->exit_code;
        ic[i].results = c->have_info ? c->rec->results : NULL;
        ic[i].flows = c->have_info ? c->info.flows : 0;
        ic[i].anomalies = c->have_info ? c->info.anomalies : 0;
        ic[i].complete = (int8_t)(c->have_info ? c->info.complete : 0);
        ic[i].first_flow_row = frow;
        ic[i].first_anomaly_row = arow;
        frow += ic[i].flows;
        arow += ic[i].anomalies;
    }
    rc = mw_h5_index_write(tmp, nt->dir, nt->night, ic, nt->n, errbuf, errlen);
    if (rc == 0)
        rc = mw__batch_commit(tmp, path, errbuf, errlen);
    if (rc != 0)
        unlink(tmp);
out:
    free(ic);
    free(path);
    free(tmp);
    return rc;
}

/* Appends capture i's anomaly lines, tagged, to out. */
static int append_anomalies(const mw_batch_night_t *nt, size_t i, FILE *out)
{
    const mw_batch_record_t *r = nt->caps[i].rec;
    char *p, *line = NULL;
    size_t cap = 0;
    FILE *in;

    if (r->anomalies == NULL || !nt->caps[i].have_info)
        return 0;
    p = mw__batch_printf("%s/%s", nt->dir, r->anomalies);
    if (p == NULL)
        return MW_ENOMEM;
    in = fopen(p, "r");
    free(p);
    if (in == NULL)
        return 0; /* none written */
    while (getline(&line, &cap, in) > 0) {
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        char *s;
        if (o == NULL || !json_is_object(o)) {
            json_decref(o);
            continue;
        }
        json_object_set_new(o, "capture_id", json_integer((json_int_t)(i + 1)));
        json_object_set_new(o, "capture", json_string(r->path));
        json_object_set_new(o, "site", r->site ? json_string(r->site) : json_null());
        s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (s == NULL) {
            free(line);
            fclose(in);
            return MW_ENOMEM;
        }
        fputs(s, out);
        fputc('\n', out);
        free(s);
    }
    free(line);
    fclose(in);
    return 0;
}

static int write_anomalies(mw_batch_night_t *nt, char *errbuf, size_t errlen)
{
    char *buf = NULL, *path;
    size_t len = 0, i;
    FILE *f = open_memstream(&buf, &len);
    int rc = 0;

    if (f == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    for (i = 0; i < nt->n && rc == 0; i++)
        rc = append_anomalies(nt, i, f);
    if (fclose(f) != 0 || rc != 0) {
        free(buf);
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    path = mw__batch_printf("%s/anomalies.jsonl", nt->dir);
    rc = path != NULL ? mw__batch_write_atomic(path, buf != NULL ? buf : "", len, errbuf, errlen)
                      : MW_ENOMEM;
    free(path);
    free(buf);
    return rc;
}

static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static json_t *capture_json(const mw_batch_night_t *nt, size_t i)
{
    const mw_batch_night_capture_t *c = &nt->caps[i];
    const mw_batch_record_t *r = c->rec;
    json_t *o = json_object();

    if (o == NULL)
        return NULL;
    json_object_set_new(o, "capture_id", json_integer((json_int_t)(i + 1)));
    json_object_set_new(o, "path", json_string(r->path));
    json_object_set_new(o, "site", str_or_null(r->site));
    json_object_set_new(o, "status", json_string(mw__batch_status_name(r->status)));
    json_object_set_new(
            o, "exit_code", r->exit_code >= 0 ? json_integer(r->exit_code) : json_null());
    json_object_set_new(o, "error", str_or_null(r->error));
    json_object_set_new(o, "results", str_or_null(c->have_info ? r->results : NULL));
    json_object_set_new(o, "anomalies_jsonl",
            str_or_null(c->have_info && c->info.has_anomalies ? r->anomalies : NULL));
    json_object_set_new(o, "log", str_or_null(r->log));
    json_object_set_new(o, "flows", json_integer((json_int_t)(c->have_info ? c->info.flows : 0)));
    json_object_set_new(
            o, "anomalies", json_integer((json_int_t)(c->have_info ? c->info.anomalies : 0)));
    json_object_set_new(o, "max_severity", json_integer(c->have_info ? c->info.max_severity : 0));
    json_object_set_new(o, "complete", json_integer(c->have_info ? c->info.complete : 0));
    json_object_set_new(o, "size", json_integer((json_int_t)r->size));
    json_object_set_new(o, "started_utc", str_or_null(r->started_utc[0] ? r->started_utc : NULL));
    json_object_set_new(
            o, "finished_utc", str_or_null(r->finished_utc[0] ? r->finished_utc : NULL));
    return o;
}

static void count(mw_batch_night_t *nt)
{
    size_t i;

    nt->done = nt->failed = nt->not_matched = nt->young = 0;
    nt->flows = nt->anomalies = 0;
    for (i = 0; i < nt->n; i++) {
        const mw_batch_night_capture_t *c = &nt->caps[i];
        switch (c->rec->status) {
            case MW_BS_DONE:
                nt->done++;
                break;
            case MW_BS_FAILED:
                nt->failed++;
                break;
            case MW_BS_NOT_MATCHED:
                nt->not_matched++;
                break;
            case MW_BS_YOUNG:
                nt->young++;
                break;
        }
        if (c->have_info) {
            nt->flows += c->info.flows;
            nt->anomalies += c->info.anomalies;
        }
    }
}

static int write_json(mw_batch_night_t *nt, const char *error, char *errbuf, size_t errlen)
{
    json_t *o = json_object(), *sites = json_array(), *caps = json_array(), *tot = json_object();
    char finished[MW_BATCH_UTC_LEN], *text = NULL, *path = NULL;
    const char *status;
    size_t i;
    int rc = MW_ENOMEM;

    if (o == NULL || sites == NULL || caps == NULL || tot == NULL)
        goto out;
    status = error != NULL ? "failed" : (nt->failed || nt->not_matched) ? "partial" : "ok";
    mw__batch_utc(mw__batch_now(), finished);
    json_object_set_new(o, "night", json_string(nt->night));
    json_object_set_new(o, "status", json_string(status));
    json_object_set_new(o, "error", str_or_null(error));
    json_object_set_new(o, "train_error", str_or_null(nt->train_error));
    json_object_set_new(o, "started_utc", json_string(nt->started_utc));
    json_object_set_new(o, "finished_utc", json_string(finished));
    json_object_set_new(o, "mastwatch_version", json_string(MW_VERSION));
    for (i = 0; i < mw__batch_config_nsites(nt->config); i++) {
        const mw_batch_site_t *s = mw__batch_config_site(nt->config, i);
        json_t *so = json_object();
        if (so == NULL)
            goto out;
        json_object_set_new(so, "name", json_string(s->name));
        json_object_set_new(so, "inventory", json_string(s->inventory));
        json_object_set_new(so, "model", str_or_null(s->model));
        json_array_append_new(sites, so);
    }
    json_object_set_new(o, "sites", sites);
    sites = NULL;
    for (i = 0; i < nt->n; i++) {
        json_t *c = capture_json(nt, i);
        if (c == NULL)
            goto out;
        json_array_append_new(caps, c);
    }
    json_object_set_new(o, "captures", caps);
    caps = NULL;
    json_object_set_new(o, "index", json_string("index.h5"));
    json_object_set_new(o, "anomalies_jsonl", json_string("anomalies.jsonl"));
    json_object_set_new(tot, "captures", json_integer((json_int_t)nt->n));
    json_object_set_new(tot, "done", json_integer((json_int_t)nt->done));
    json_object_set_new(tot, "failed", json_integer((json_int_t)nt->failed));
    json_object_set_new(tot, "not_matched", json_integer((json_int_t)nt->not_matched));
    json_object_set_new(tot, "skipped_young", json_integer((json_int_t)nt->young));
    json_object_set_new(tot, "flows", json_integer((json_int_t)nt->flows));
    json_object_set_new(tot, "anomalies", json_integer((json_int_t)nt->anomalies));
    json_object_set_new(o, "totals", tot);
    tot = NULL;
    text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    path = mw__batch_printf("%s/night.json", nt->dir);
    if (text == NULL || path == NULL)
        goto out;
    {
        size_t len = strlen(text);
        char *t2 = realloc(text, len + 2);
        if (t2 == NULL)
            goto out;
        text = t2;
        text[len] = '\n';
        text[len + 1] = '\0';
        rc = mw__batch_write_atomic(path, text, len + 1, errbuf, errlen);
    }
out:
    if (rc == MW_ENOMEM)
        mw_fmt_err(errbuf, errlen, "out of memory");
    json_decref(o);
    json_decref(sites);
    json_decref(caps);
    json_decref(tot);
    free(text);
    free(path);
    return rc;
}

int mw__batch_night_write(mw_batch_night_t *nt, char *errbuf, size_t errlen)
{
    char err[MW_ERRBUF_SIZE] = "";
    int rc;

    read_infos(nt);
    count(nt);
    rc = write_index(nt, err, sizeof(err));
    if (rc == 0)
        rc = write_anomalies(nt, err, sizeof(err));
    if (rc != 0) {
        /* still say so in night.json */
        (void)write_json(nt, err, errbuf, errlen);
        mw_fmt_err(errbuf, errlen, "%s", err);
        return rc;
    }
    return write_json(nt, nt->run_error, errbuf, errlen);
}

int mw__batch_night_rewrite_json(mw_batch_night_t *nt, char *errbuf, size_t errlen)
{
    return write_json(nt, nt->run_error, errbuf, errlen);
}
