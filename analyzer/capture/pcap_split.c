/*
 * pcap_split.c - a plain pcap file read ahead by one or more threads.
 *
 * The file is cut into ranges of SPLIT_RANGE bytes (as long as it was at
 * open: what is appended later is libpcap's, as are records it would not
 * pass). A range holds the records that start in it; a thread preads the
 * range plus the largest record that can overhang its end, guesses where
 * its first record starts (a chain of plausible record headers) and walks
 * the records from there.
 * The caller takes the ranges in order and checks each guess against where
 * the previous range's last record really ended; a wrong guess (a payload
 * that looked like record headers) is walked again from the true offset, so
 * the records handed over are exactly the file's, in its order.
 *
 * Ranges go round nslots slots: a slot is given its range by the caller,
 * filled by any thread, read by the caller and given the range nslots ahead.
 */
#include "capture/pcap_split.h"

#include "capture/pcap_file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/mw.h"
#include "core/pool.h"

#define SPLIT_BUF    (2u << 20)                     /* a slot's buffer: one huge page */
#define SPLIT_MAXREC (MW_PCAP_RECORD_LEN + 262144u) /* a record header and the largest caplen */
#define SPLIT_RANGE  (SPLIT_BUF - (512u << 10))     /* leaves room for the overhanging record */
#define SPLIT_CHAIN  4                              /* headers in a row that make a guess */
/* records of a range prepared at most: a range of tiny records is the caller's to work on,
 * so a slot's prepared bytes stay under 32k x prepared_size */
#define SPLIT_PREPARED_MAX 24576
#define PCAP_MAGIC_US      0xa1b2c3d4u
#define PCAP_MAGIC_NS      0xa1b23c4du
#define PCAP_MAX_SNAPLEN   262144u /* libpcap's max_snaplen_for_dlt() for the types taken */

/* HELD: handed over, waiting for its holders' releases */
enum slot_state { SLOT_FREE, SLOT_ASSIGNED, SLOT_BUSY, SLOT_READY, SLOT_HELD };
enum walk_stop { WALK_DONE = 0, WALK_HAND_OVER }; /* libpcap goes on at slot->next */

typedef struct split_rec {
    uint32_t off; /* in the slot's buffer */
    uint32_t caplen, len;
    int32_t sec, frac; /* as in the file */
} split_rec_t;

typedef struct split_slot {
    enum slot_state state;
    uint64_t seq, start, end; /* the range: records that start in [start, end) */
    uint8_t *buf;             /* the file's bytes from start */
    size_t buf_len;
    split_rec_t *recs;
    size_t nrecs, recs_cap;
    uint8_t *prepared; /* params.prepared_size bytes per record */
    size_t prepared_cap;
    int have_prepared;
    uint64_t first; /* where the thread's walk began (UINT64_MAX: no guess) */
    uint64_t next;  /* the record after the walk, or where libpcap must go on */
    enum walk_stop stop;
    int nomem;      /* the record list could not grow: the caller walks it again */
    unsigned holds; /* releases still to come */
    struct mw_split *owner;
} split_slot_t;

struct mw_split {
    mw_split_params_t params;
    int fd;
    uint64_t size, nranges, range;
    uint32_t snapshot;
    int file_ns, dlt;
    struct bpf_program prog;
    int have_prog;
    pthread_mutex_t mu;
    pthread_cond_t work_cv, ready_cv; /* ready_cv: also a release */
    int mu_ok, work_ok, ready_ok;
    unsigned held; /* slots HELD */
    split_slot_t *slots;
    unsigned nslots;
    pthread_t *threads;
    unsigned started; /* threads running */
    int quit;
    /* the caller's side */
    uint64_t cur_seq;  /* the next range to take */
    split_slot_t *cur; /* the range being handed over */
    size_t cur_i;
    uint64_t expect; /* where the next range's first record starts */
    uint64_t rewalked;
};

/* LINKTYPE_ values that libpcap hands over unchanged, as the DLT_ it reports. */
static int dlt_of_linktype(uint32_t linktype)
{
    switch (linktype) {
        case 1:   /* EN10MB */
        case 113: /* LINUX_SLL */
        case 276: /* LINUX_SLL2 */
        case 228: /* IPV4 */
        case 229: /* IPV6 */
            return (int)linktype;
        case 101: /* RAW: libpcap reports DLT_RAW */
            return DLT_RAW;
        default:
            return -1;
    }
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* A record header at buf[pos] that libpcap would pass through, its data in the buffer. */
static int regular_at(const mw_split_t *s, const uint8_t *buf, size_t len, size_t pos)
{
    uint32_t caplen;

    if (pos + MW_PCAP_RECORD_LEN > len)
        return 0;
    caplen = rd32(buf + pos + 8);
    return caplen <= s->snapshot && pos + MW_PCAP_RECORD_LEN + caplen <= len;
}

/* A guess: SPLIT_CHAIN plausible headers in a row from pos (or the buffer ends cleanly):
 * data in each, no more data than the packet had, times within a day of each other. Only
 * speed depends on it: the caller checks every guess. */
static int plausible_at(const mw_split_t *s, const uint8_t *buf, size_t len, size_t pos)
{
    uint32_t frac_max = s->file_ns ? 999999999u : 999999u, sec0 = 0;
    int i;

    for (i = 0; i < SPLIT_CHAIN; i++) {
        uint32_t sec, caplen;

        if (pos == len)
            return 1;
        if (!regular_at(s, buf, len, pos))
            return 0;
        sec = rd32(buf + pos);
        caplen = rd32(buf + pos + 8);
        if (i == 0)
            sec0 = sec;
        if (caplen == 0 || caplen > rd32(buf + pos + 12) || rd32(buf + pos + 4) > frac_max ||
                (sec > sec0 ? sec - sec0 : sec0 - sec) > 86400)
            return 0;
        pos += MW_PCAP_RECORD_LEN + caplen;
    }
    return 1;
}

/* Records from offset from; sets nrecs, next and stop. */
static void walk(mw_split_t *s, split_slot_t *sl, uint64_t from)
{
    size_t pos = (size_t)(from - sl->start);

    sl->nrecs = 0;
    sl->nomem = 0;
    sl->stop = WALK_DONE;
    while (sl->start + pos < sl->end) {
        split_rec_t *r;
        struct pcap_pkthdr h;

        if (!regular_at(s, sl->buf, sl->buf_len, pos)) {
            sl->stop = WALK_HAND_OVER; /* cut short, oversized: libpcap says which */
            break;
        }
        h.caplen = rd32(sl->buf + pos + 8);
        h.len = rd32(sl->buf + pos + 12);
        if (!s->have_prog ||
                pcap_offline_filter(&s->prog, &h, sl->buf + pos + MW_PCAP_RECORD_LEN)) {
            if (mw_grow((void **)&sl->recs, &sl->recs_cap, sl->nrecs + 1, sizeof(*sl->recs)) != 0) {
                sl->nomem = 1;
                break;
            }
            r = &sl->recs[sl->nrecs++];
            r->off = (uint32_t)(pos + MW_PCAP_RECORD_LEN);
            r->caplen = h.caplen;
            r->len = h.len;
            r->sec = (int32_t)rd32(sl->buf + pos);
            r->frac = (int32_t)rd32(sl->buf + pos + 4);
        }
        pos += MW_PCAP_RECORD_LEN + h.caplen;
    }
    sl->next = sl->start + pos;
}

/* A record's header as libpcap hands it over, with its scaling between the file's and
 * the asked precision. */
static void hdr_of(const mw_split_t *s, const split_rec_t *r, struct pcap_pkthdr *hdr)
{
    int64_t frac = r->frac;

    if (s->file_ns && !s->params.nano)
        frac /= 1000;
    else if (!s->file_ns && s->params.nano)
        frac *= 1000;
    hdr->ts.tv_sec = r->sec;
    hdr->ts.tv_usec = (suseconds_t)frac;
    hdr->caplen = r->caplen;
    hdr->len = r->len;
}

/* The caller's work on each record, done by the thread that read it. */
static void prepare_all(mw_split_t *s, split_slot_t *sl)
{
    size_t i, size = s->params.prepared_size;

    sl->have_prepared = 0;
    if (s->params.prepare == NULL || sl->nrecs == 0 || sl->nrecs > SPLIT_PREPARED_MAX ||
            mw_grow((void **)&sl->prepared, &sl->prepared_cap, sl->nrecs, size) != 0)
        return; /* not prepared: the caller does the work itself */
    for (i = 0; i < sl->nrecs; i++) {
        struct pcap_pkthdr h;
        hdr_of(s, &sl->recs[i], &h);
        s->params.prepare(
                s->params.prepare_ctx, &h, sl->buf + sl->recs[i].off, sl->prepared + i * size);
    }
    sl->have_prepared = 1;
}

/* A thread's work on one range: read it, guess its first record, walk. */
static void fill(mw_split_t *s, split_slot_t *sl)
{
    uint64_t want = MW_MIN(sl->end + SPLIT_MAXREC, s->size) - sl->start;
    size_t got = 0, pos;

    while (got < want) {
        ssize_t n = pread(s->fd, sl->buf + got, (size_t)(want - got), (off_t)(sl->start + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* an error or a shorter file: the walk stops there, libpcap reports it */
        got += (size_t)n;
    }
    sl->buf_len = got;
    sl->first = UINT64_MAX;
    if (sl->seq == 0) {
        sl->first = sl->start;
    } else {
        for (pos = 0; sl->start + pos < sl->end && pos < got; pos++)
            if (plausible_at(s, sl->buf, got, pos)) {
                sl->first = sl->start + pos;
                break;
            }
    }
    sl->nrecs = 0;
    if (sl->first != UINT64_MAX)
        walk(s, sl, sl->first);
    prepare_all(s, sl);
}

static void *thread_main(void *arg)
{
    mw_split_t *s = arg;

    pthread_setname_np(pthread_self(), "mw-fileread");
    pthread_mutex_lock(&s->mu);
    for (;;) {
        split_slot_t *pick = NULL;
        unsigned i;

        for (i = 0; i < s->nslots; i++)
            if (s->slots[i].state == SLOT_ASSIGNED && (pick == NULL || s->slots[i].seq < pick->seq))
                pick = &s->slots[i];
        if (pick == NULL) {
            if (s->quit)
                break;
            pthread_cond_wait(&s->work_cv, &s->mu);
            continue;
        }
        pick->state = SLOT_BUSY;
        pthread_mutex_unlock(&s->mu);
        fill(s, pick);
        pthread_mutex_lock(&s->mu);
        pick->state = SLOT_READY;
        pthread_cond_broadcast(&s->ready_cv);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Under the lock: gives slot the range seq (if the file has it). */
static void assign(mw_split_t *s, split_slot_t *sl, uint64_t seq)
{
    if (seq >= s->nranges) {
        sl->state = SLOT_FREE;
        return;
    }
    sl->seq = seq;
    sl->start = MW_PCAP_HEADER_LEN + seq * s->range;
    sl->end = MW_MIN(sl->start + s->range, s->size);
    sl->state = SLOT_ASSIGNED;
    pthread_cond_signal(&s->work_cv);
}

static int read_header(mw_split_t *s, const char *filter)
{
    uint8_t h[MW_PCAP_HEADER_LEN];
    uint32_t magic, snaplen;
    pcap_t *dead;
    int ok;

    if (pread(s->fd, h, sizeof(h), 0) != (ssize_t)sizeof(h))
        return -1;
    magic = rd32(h);
    if ((magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS) || h[4] + 256 * h[5] != 2 ||
            h[6] + 256 * h[7] != 4)
        return -1; /* pcapng, compressed, swapped, old: libpcap's */
    s->dlt = dlt_of_linktype(rd32(h + 20));
    if (s->dlt < 0)
        return -1;
    s->file_ns = magic == PCAP_MAGIC_NS;
    snaplen = rd32(h + 16);
    /* libpcap's pcap_adjust_snapshot(): 0 or absurd means the maximum */
    s->snapshot = snaplen == 0 || snaplen > PCAP_MAX_SNAPLEN ? PCAP_MAX_SNAPLEN : snaplen;
    if (filter == NULL || filter[0] == '\0')
        return 0;
    dead = pcap_open_dead_with_tstamp_precision(s->dlt, (int)s->snapshot,
            s->params.nano ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
    if (dead == NULL)
        return -1;
    ok = pcap_compile(dead, &s->prog, filter, 1, PCAP_NETMASK_UNKNOWN) == 0;
    pcap_close(dead);
    s->have_prog = ok;
    return ok ? 0 : -1;
}

mw_split_t *mw__split_open(const char *path, const mw_split_params_t *params, int *dlt)
{
    mw_split_t *s = calloc(1, sizeof(*s));
    unsigned nthreads = params->nthreads;
    const char *filter = params->filter;
    struct stat st;
    unsigned i;

    if (s == NULL)
        return NULL;
    s->params = *params;
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0 || fstat(s->fd, &st) != 0 || !S_ISREG(st.st_mode) ||
            (uint64_t)st.st_size <= MW_PCAP_HEADER_LEN || read_header(s, filter) != 0)
        goto fail;
    s->size = (uint64_t)st.st_size;
    s->range = params->range_bytes > 0 && params->range_bytes < SPLIT_RANGE ? params->range_bytes
                                                                            : SPLIT_RANGE;
    s->nranges = (s->size - MW_PCAP_HEADER_LEN + s->range - 1) / s->range;
    s->expect = MW_PCAP_HEADER_LEN;
    (void)posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    s->mu_ok = pthread_mutex_init(&s->mu, NULL) == 0;
    s->work_ok = pthread_cond_init(&s->work_cv, NULL) == 0;
    s->ready_ok = pthread_cond_init(&s->ready_cv, NULL) == 0;
    if (!s->mu_ok || !s->work_ok || !s->ready_ok)
        goto fail;
    /* every thread busy while the caller reads one, one waits and ranges are held */
    s->nslots = 2 * nthreads + 2;
    s->slots = calloc(s->nslots, sizeof(*s->slots));
    s->threads = calloc(nthreads, sizeof(*s->threads));
    if (s->slots == NULL || s->threads == NULL)
        goto fail;
    for (i = 0; i < s->nslots; i++) {
        s->slots[i].owner = s;
        if ((s->slots[i].buf = mw_huge_alloc(SPLIT_BUF)) == NULL)
            goto fail;
    }
    *dlt = s->dlt; /* before the threads: their prepare reads it */
    pthread_mutex_lock(&s->mu);
    for (i = 0; i < s->nslots; i++)
        assign(s, &s->slots[i], i);
    pthread_mutex_unlock(&s->mu);
    for (i = 0; i < nthreads; i++) {
        if (pthread_create(&s->threads[i], NULL, thread_main, s) != 0)
            break;
        s->started++;
    }
    if (s->started == 0)
        goto fail;
    return s;
fail:
    mw__split_close(s, 0, NULL, NULL);
    return NULL;
}

/* A holder is done with a range (any thread). */
static void release_slot(void *arg)
{
    split_slot_t *sl = arg;
    mw_split_t *s = sl->owner;

    pthread_mutex_lock(&s->mu);
    if (sl->state == SLOT_HELD && --sl->holds == 0) {
        s->held--;
        assign(s, sl, sl->seq + s->nslots);
        pthread_cond_broadcast(&s->ready_cv);
    }
    pthread_mutex_unlock(&s->mu);
}

/* The caller has taken every record of sl: its slot goes to the range nslots ahead, at
 * once or once the holders released it. */
static void hand_back(mw_split_t *s, split_slot_t *sl)
{
    if (s->params.holders == 0) {
        pthread_mutex_lock(&s->mu);
        assign(s, sl, sl->seq + s->nslots);
        pthread_mutex_unlock(&s->mu);
        return;
    }
    pthread_mutex_lock(&s->mu);
    sl->state = SLOT_HELD;
    sl->holds = s->params.holders;
    s->held++;
    pthread_mutex_unlock(&s->mu);
    s->params.range_done(s->params.range_done_ctx, release_slot, sl);
}

int mw__split_released(mw_split_t *s)
{
    int released;

    pthread_mutex_lock(&s->mu);
    released = s->held == 0;
    pthread_mutex_unlock(&s->mu);
    return released;
}

/* Whether the file is longer now than at open (still being written): libpcap, which
 * reads to the end it finds, takes the rest. */
static int grew(const mw_split_t *s)
{
    struct stat st;

    return fstat(s->fd, &st) == 0 && (uint64_t)st.st_size > s->size;
}

/* The caller: waits for range seq, then checks (and if need be redoes) its first record. */
static split_slot_t *take(mw_split_t *s, uint64_t seq)
{
    split_slot_t *sl = &s->slots[seq % s->nslots];

    pthread_mutex_lock(&s->mu);
    while (sl->state != SLOT_READY)
        pthread_cond_wait(&s->ready_cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    if (sl->first != s->expect || sl->nomem) {
        s->rewalked++;
        walk(s, sl, s->expect);
        prepare_all(s, sl);
    }
    return sl;
}

int mw__split_next(mw_split_t *s, struct pcap_pkthdr *hdr, const uint8_t **data, void **prepared,
        uint64_t *resume_off)
{
    for (;;) {
        split_slot_t *sl = s->cur;

        if (sl != NULL && s->cur_i < sl->nrecs) {
            const split_rec_t *r = &sl->recs[s->cur_i++];

            hdr_of(s, r, hdr);
            *data = sl->buf + r->off;
            *prepared = sl->have_prepared
                                ? sl->prepared + (size_t)(r - sl->recs) * s->params.prepared_size
                                : NULL;
            return 1;
        }
        if (sl != NULL) {
            enum walk_stop stop = sl->stop;
            int nomem = sl->nomem;

            s->expect = sl->next;
            s->cur = NULL;
            hand_back(s, sl);
            if (stop == WALK_HAND_OVER || nomem) {
                *resume_off = s->expect;
                return 2;
            }
        }
        if (s->cur_seq >= s->nranges) {
            if (s->expect == s->size && !grew(s))
                return 0;
            *resume_off = s->expect; /* the file changed under us: libpcap reads on */
            return 2;
        }
        s->cur = take(s, s->cur_seq++);
        s->cur_i = 0;
    }
}

double mw__split_cpu_s(const mw_split_t *s)
{
    double sum = 0;
    unsigned i;

    for (i = 0; s != NULL && i < s->started; i++) {
        clockid_t id;
        struct timespec ts;
        if (pthread_getcpuclockid(s->threads[i], &id) == 0 && clock_gettime(id, &ts) == 0)
            sum += (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    }
    return sum;
}

uint64_t mw__split_rewalked(const mw_split_t *s)
{
    return s != NULL ? s->rewalked : 0;
}

uint64_t mw__split_done_bytes(const mw_split_t *s)
{
    return s->expect;
}

void mw__split_close(mw_split_t *s, int wait, double *cpu_s, uint64_t *rewalked)
{
    unsigned i;

    if (s == NULL)
        return;
    if (wait && s->started > 0) {
        pthread_mutex_lock(&s->mu);
        while (s->held > 0)
            pthread_cond_wait(&s->ready_cv, &s->mu);
        pthread_mutex_unlock(&s->mu);
    }
    if (cpu_s != NULL)
        *cpu_s += mw__split_cpu_s(s); /* before the threads end */
    if (s->started > 0) {
        pthread_mutex_lock(&s->mu);
        s->quit = 1;
        for (i = 0; i < s->nslots; i++)
            if (s->slots[i].state == SLOT_ASSIGNED)
                s->slots[i].state = SLOT_FREE; /* no range read in vain */
        pthread_cond_broadcast(&s->work_cv);
        pthread_mutex_unlock(&s->mu);
        for (i = 0; i < s->started; i++)
            pthread_join(s->threads[i], NULL);
    }
    if (rewalked != NULL)
        *rewalked += s->rewalked;
    for (i = 0; s->slots != NULL && i < s->nslots; i++) {
        free(s->slots[i].buf);
        free(s->slots[i].recs);
        free(s->slots[i].prepared);
    }
    free(s->slots);
    free(s->threads);
    if (s->have_prog)
        pcap_freecode(&s->prog);
    if (s->ready_ok)
        pthread_cond_destroy(&s->ready_cv);
    if (s->work_ok)
        pthread_cond_destroy(&s->work_cv);
    if (s->mu_ok)
        pthread_mutex_destroy(&s->mu);
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}
