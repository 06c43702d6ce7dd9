/*
 * main.c - argv -> mw_config -> mw_engine_run(). No analysis logic here:
 * only signals, messages and exit codes.
 *
 * Exit codes: 0 success; 1 a run failed (unreadable/corrupt input,
 * unwritable output); 2 usage or configuration error; 128+N an offline
 * analysis stopped by signal N (its output is still complete and valid).
 * A live capture stopped by SIGINT/SIGTERM is a normal end: 0.
 * recover: 0 recovered, 1 failed, 2 usage. batch: analyzer/batch/batch.h.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "batch/batch.h"
#include "capture/capture.h"
#include "classify/classify_ndpi.h"
#include "core/config.h"
#include "core/log.h"
#include "core/mw.h"
#include "engine/baseline_jobs.h"
#include "engine/engine.h"
#include "engine/extract.h"
#include "output/h5_model.h"
#include "output/h5_recover.h"
#include "output/summary.h"

#include "classify/inventory.h"

static void on_stop_signal(int sig)
{
    mw_engine_request_stop(sig);
}

static void on_hup(int sig)
{
    (void)sig;
    mw_engine_request_reopen();
}

static void on_usr1(int sig)
{
    (void)sig;
    mw_engine_request_status();
}

static void on_usr2(int sig)
{
    (void)sig;
    mw_engine_request_reload();
}

/* As the daemons operators know: INT/TERM stop with everything written, HUP
 * reopens the anomaly feed, USR1 prints a status line, USR2 reloads the
 * inventory, model and suppressions; none loses a flow. */
static void install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    sa.sa_flags = 0;
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

static int print_version(void)
{
    printf("mastwatch %s\nnDPI %s\n%s\nflow schema %d\n", MW_VERSION, mw_classifier_ndpi_version(),
            mw_capture_lib_version(), MW_SCHEMA_VERSION);
    return 0;
}

static int run_inventory_check(const mw_config_t *cfg)
{
    char err[MW_ERRBUF_SIZE] = "";
    mw_inventory_t *inv = mw_inventory_load(cfg->inventory, err, sizeof(err));

    if (inv == NULL) {
        mw_log_error("%s", err);
        return 2;
    }
    mw_inventory_print_summary(inv, stdout);
    mw_inventory_destroy(inv);
    return 0;
}

static int run_engine(const mw_config_t *cfg)
{
    char err[MW_ERRBUF_SIZE] = "";
    mw_run_summary_t sum;
    int rc;

    install_signals();
    mw_log_set_quiet(cfg->quiet);
    rc = mw_engine_run(cfg, &sum, err, sizeof(err));
    /* said after the run, so an error stays one line */
    if (rc == 0 && cfg->output == NULL && cfg->command != MW_CMD_TRAIN)
        mw_log_warn("no -o: the flow records were not saved (%s); add -o FILE.h5 to keep them",
                cfg->anomalies != NULL ? "the anomalies went to --anomalies" : "summary only");
    if (!cfg->quiet && sum.started)
        mw_summary_print(stderr, cfg, &sum);
    if (rc != 0) {
        mw_log_error("%s", err);
        return rc == MW_EINVAL ? 2 : 1;
    }
    if (sum.stop_signal && cfg->command == MW_CMD_ANALYZE) {
        mw_log_error("interrupted by signal %d; results so far are written", sum.stop_signal);
        return 128 + sum.stop_signal;
    }
    return 0;
}

static int run_model_job(const mw_config_t *cfg)
{
    char err[MW_ERRBUF_SIZE] = "";
    int rc;

    mw_log_set_quiet(cfg->quiet);
    if (cfg->command == MW_CMD_MODEL_SHOW)
        rc = mw_model_show(cfg->model, stdout, err, sizeof(err));
    else if (cfg->command == MW_CMD_MODEL_MERGE)
        rc = mw_model_merge_files(cfg, err, sizeof(err));
    else
        rc = mw_train_from_results(cfg, err, sizeof(err));
    if (rc != 0) {
        mw_log_error("%s", err);
        return rc == MW_EINVAL ? 2 : 1;
    }
    return 0;
}

static int run_recover(const mw_config_t *cfg)
{
    char err[MW_ERRBUF_SIZE] = "";
    uint64_t rows = 0;
    int rc = mw_h5_recover(cfg->recover, &rows, err, sizeof(err));

    if (rc != 0) {
        mw_log_error("%s", err);
        return rc == MW_EINVAL ? 2 : 1;
    }
    if (!cfg->quiet)
        fprintf(stderr, "recovered    %llu flow rows from %s (complete=0, recovered=1)\n",
                (unsigned long long)rows, cfg->recover);
    return 0;
}

static int run_command(mw_config_t *cfg, int argc, char **argv)
{
    switch (cfg->command) {
        case MW_CMD_HELP: /* batch parses its own options (analyzer/batch/) */
            fputs(cfg->help_for == MW_CMD_BATCH ? mw_batch_usage() : mw_config_usage(cfg->help_for),
                    stdout);
            return 0;
        case MW_CMD_VERSION:
            return print_version();
        case MW_CMD_INVENTORY_CHECK:
            return run_inventory_check(cfg);
        case MW_CMD_RECOVER:
            return run_recover(cfg);
        case MW_CMD_EXTRACT:
            return mw_extract_main(cfg->argc, cfg->argv);
        case MW_CMD_MODEL_SHOW:
        case MW_CMD_MODEL_MERGE:
            return run_model_job(cfg);
        case MW_CMD_TRAIN:
            switch (mw_inputs_are_results(cfg)) {
                case 1:
                    return run_model_job(cfg);
                case -1:
                    mw_log_error("train: give either captures or results files, not both");
                    return 2;
                default:
                    return run_engine(cfg);
            }
        case MW_CMD_ANALYZE:
        case MW_CMD_CAPTURE:
            return run_engine(cfg);
        case MW_CMD_BATCH:
            return mw_batch_main(argc - 1, argv + 1);
        default:
            fputs(mw_config_usage(MW_CMD_NONE), stderr);
            return 2;
    }
}

int main(int argc, char **argv)
{
    mw_config_t cfg;
    char err[MW_ERRBUF_SIZE] = "";
    int rc;

    if (argc == 4 && strcmp(argv[1], MW_H5_PROBE_COMMAND) == 0)
        return mw_h5_probe_main(argv[2], argv[3]); /* the run's own child (h5_model.h) */
    if (mw_config_parse(&cfg, argc, argv, err, sizeof(err)) != 0) {
        mw_log_error("%s", err);
        mw_config_free(&cfg);
        return 2;
    }
    cfg.self_exe = "/proc/self/exe";
    rc = run_command(&cfg, argc, argv);
    mw_config_free(&cfg);
    return rc;
}
