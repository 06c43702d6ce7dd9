/*
 * batch_exec.h - runs child processes, at most N at a time (batch_exec.c),
 * and turns SIGINT/SIGTERM/SIGHUP into an orderly stop.
 */
#ifndef MW_BATCH_EXEC_H
#define MW_BATCH_EXEC_H

#include <stddef.h>

typedef struct mw_batch_exec_ops {
    void *ctx;
    /*
     * Prepares job i: fills *argv (NULL-terminated, owned by the callee until
     * finished() is called) and *log_fd (the child's stderr, -1 = inherit;
     * closed by the runner). Returns 0, or non-zero to skip the job (the
     * callee records why).
     */
    int (*prepare)(void *ctx, size_t i, char *const **argv, int *log_fd);
    /*
     * Job i ended: wait_status as from waitpid, or -1 when it could not be
     * started (errno_value says why); stopping = 1 when the batch was asked
     * to stop and the child got SIGTERM. Returns 0, or non-zero to stop the
     * batch (e.g. the state cannot be written).
     */
    int (*finished)(void *ctx, size_t i, int wait_status, int errno_value, int stopping);
    /*
     * Optional (NULL: jobs 0..n-1 in order): the next job into *i; 1 = one,
     * 0 = none yet (asked again after tick()), -1 = no more. Lets jobs come
     * from elsewhere while the pool runs (MPI ranks, batch_mpi.c).
     */
    int (*next)(void *ctx, size_t *i);
    /*
     * Optional: called at least every MW_BATCH_EXEC_TICK_MS while the pool
     * waits. Non-zero stops the batch as finished() does.
     */
    int (*tick)(void *ctx);
} mw_batch_exec_ops_t;

#define MW_BATCH_EXEC_TICK_MS 5

/*
 * Runs jobs 0..n-1 in order (or as ops->next hands them out), at most `jobs` at once, each as exe
 * with its argv (a child dies with the batch: PR_SET_PDEATHSIG). Returns the signal that stopped
 * the batch (0 = none), or -1 when finished() asked to stop. SIGINT/SIGTERM/SIGHUP are blocked from
 * mw__batch_exec_block_signals() on and read here; after a stop, running children get SIGTERM (a
 * second signal: SIGKILL) and are waited for, and no new job starts.
 */
int mw__batch_exec_run(const char *exe, size_t n, unsigned jobs, const mw_batch_exec_ops_t *ops);

/* Blocks the stop signals and SIGCHLD (call once, early). 0 or -1. */
int mw__batch_exec_block_signals(void);

/* A stop signal pending (blocked, not yet read), consumed; 0 when none. */
int mw__batch_exec_pending_stop(void);

/* Runs one child to its end (same rules); returns its wait status, or -1 with errno. */
int mw__batch_exec_wait(const char *exe, char *const *argv, int log_fd);

#endif
