/*
 * batch_exec.c - the batch's process pool. Each capture is analyzed by a
 * child process (this same binary, `mastwatch analyze`): a crash or a memory
 * blow-up in one capture ends that child, not the night, and analyze is
 * already crash-safe on its own. Signals are read synchronously through a
 * signalfd (SIGCHLD, SIGINT, SIGTERM, SIGHUP blocked), so there is no
 * handler and no global flag. Children restore the signal mask before exec
 * and get SIGKILL when the batch dies (PR_SET_PDEATHSIG): a batch killed
 * with SIGKILL leaves no orphan still writing into the output tree.
 */
#include "batch/batch_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/mw.h"

static void stop_set(sigset_t *s)
{
    sigemptyset(s);
    sigaddset(s, SIGINT);
    sigaddset(s, SIGTERM);
    sigaddset(s, SIGHUP);
    sigaddset(s, SIGCHLD);
}

int mw__batch_exec_block_signals(void)
{
    sigset_t s;

    stop_set(&s);
    return sigprocmask(SIG_BLOCK, &s, NULL) == 0 ? 0 : -1;
}

int mw__batch_exec_pending_stop(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    sigset_t pend, one;
    struct timespec zero = { 0, 0 };
    size_t i;

    if (sigpending(&pend) != 0)
        return 0;
    for (i = 0; i < MW_ARRAY_LEN(sigs); i++) {
        if (sigismember(&pend, sigs[i]) != 1)
            continue;
        sigemptyset(&one);
        sigaddset(&one, sigs[i]);
        if (sigtimedwait(&one, NULL, &zero) == sigs[i])
            return sigs[i];
    }
    return 0;
}

/* In the child: never returns. */
static void exec_child(const char *exe, char *const *argv, int log_fd, pid_t parent)
{
    sigset_t none;
    int devnull = open("/dev/null", O_RDWR);

    sigemptyset(&none);
    signal(SIGPIPE, SIG_DFL);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(127); /* the batch is already gone */
    if (devnull >= 0) {
        (void)dup2(devnull, 0);
        (void)dup2(devnull, 1);
    }
    if (log_fd >= 0)
        (void)dup2(log_fd, 2);
    execv(exe, argv);
    dprintf(2, "mastwatch: batch: cannot run %s: %s\n", exe, strerror(errno));
    _exit(127);
}

static pid_t spawn(const char *exe, char *const *argv, int log_fd)
{
    pid_t parent = getpid();
    pid_t pid = fork();

    if (pid == 0)
        exec_child(exe, argv, log_fd, parent);
    return pid;
}

int mw__batch_exec_wait(const char *exe, char *const *argv, int log_fd)
{
    int status;
    pid_t pid = spawn(exe, argv, log_fd);

    if (pid < 0)
        return -1;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

typedef struct slot {
    pid_t pid;
    size_t job;
} slot_t;

static void signal_all(const slot_t *slots, unsigned jobs, int sig)
{
    unsigned i;

    for (i = 0; i < jobs; i++)
        if (slots[i].pid > 0)
            (void)kill(slots[i].pid, sig);
}

int mw__batch_exec_run(const char *exe, size_t n, unsigned jobs, const mw_batch_exec_ops_t *ops)
{
    sigset_t s;
    slot_t *slots = calloc(jobs, sizeof(*slots));
    size_t next = 0;
    unsigned running = 0, i;
    int sfd, stop = 0, failed = 0, exhausted = 0;

    stop_set(&s);
    if (slots == NULL)
        return -1;
    sfd = signalfd(-1, &s, SFD_CLOEXEC);
    if (sfd < 0) {
        free(slots);
        return -1;
    }
    for (;;) {
        struct signalfd_siginfo si;
        ssize_t got;
        while (!stop && !failed && !exhausted && running < jobs) {
            char *const *argv = NULL;
            int log_fd = -1, more;
            size_t job = next;
            pid_t pid;
            more = ops->next != NULL ? ops->next(ops->ctx, &job) : next < n ? 1 : -1;
            if (more <= 0) {
                exhausted = more < 0;
                break;
            }
            next++;
            if (ops->prepare(ops->ctx, job, &argv, &log_fd) != 0)
                continue;
            pid = spawn(exe, argv, log_fd);
            if (log_fd >= 0)
                close(log_fd);
            if (pid < 0) {
                if (ops->finished(ops->ctx, job, -1, errno, 0) != 0)
                    failed = 1;
                continue;
            }
            for (i = 0; i < jobs && slots[i].pid > 0; i++)
                ;
            slots[i].pid = pid;
            slots[i].job = job;
            running++;
        }
        if (running == 0 && (exhausted || stop || failed))
            break;
        if (ops->tick != NULL) {
            /* jobs may come from elsewhere: wake up now and then to look */
            struct pollfd pfd = { sfd, POLLIN, 0 };
            int ready = poll(&pfd, 1, MW_BATCH_EXEC_TICK_MS);
            if (ready == 0 || (ready < 0 && errno == EINTR)) {
                if (ops->tick(ops->ctx) != 0 && !failed) {
                    failed = 1;
                    signal_all(slots, jobs, SIGTERM);
                }
                continue;
            }
        }
        got = read(sfd, &si, sizeof(si));
        if (got < 0 && errno == EINTR)
            continue;
        if (got != (ssize_t)sizeof(si))
            break; /* cannot happen with a valid signalfd */
        if (si.ssi_signo != SIGCHLD) {
            /* first stop signal: ask the children to finish; a second: kill them */
            signal_all(slots, jobs, stop ? SIGKILL : SIGTERM);
            if (!stop)
                stop = (int)si.ssi_signo;
            continue;
        }
        for (;;) {
            int status;
            pid_t pid = waitpid(-1, &status, WNOHANG);
            if (pid <= 0)
                break;
            for (i = 0; i < jobs; i++) {
                if (slots[i].pid != pid)
                    continue;
                slots[i].pid = 0;
                running--;
                if (ops->finished(ops->ctx, slots[i].job, status, 0, stop != 0 || failed) != 0 &&
                        !failed) {
                    failed = 1;
                    signal_all(slots, jobs, SIGTERM);
                }
                break;
            }
        }
    }
    close(sfd);
    free(slots);
    if (stop)
        return stop;
    return failed ? -1 : 0;
}
