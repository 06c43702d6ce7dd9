/*
 * defrag.h - puts fragmented IP datagrams back together, so that nDPI and
 * what reads payloads (DNS, FTP, IKE, GTP-U's inner packet, a delivery's
 * carried frame) see the whole datagram, not its first fragment.
 *
 * The table holds copies of the fragment frames of a datagram until it is
 * whole, then hands back one datagram standing for them. Whatever cannot be
 * put together - no last fragment within the timeout, more fragments or
 * bytes than the table holds, a fragment cut by the snaplen - is handed
 * back frame by frame, in offset order, through the release callback: its
 * packets still count (the engine's fragment table joins them to their
 * flow, as before reassembly). Overlapping fragments keep the bytes that
 * arrived first; one whose bytes differ is counted (an evasion attempt, or
 * a broken sender). One table per reader thread; nothing is locked.
 * specification: RFC 791 (IPv4 fragmentation), RFC 8200 4.5 (IPv6 fragment
 * header), RFC 5722 (overlaps), RFC 6946 (atomic fragments: not held)
 */
#ifndef MW_DEFRAG_H
#define MW_DEFRAG_H

#include <stddef.h>
#include <stdint.h>

typedef struct mw_defrag_params {
    size_t max_bytes;       /* frame copies and bookkeeping held at once */
    int64_t timeout_us;     /* a datagram not whole this long after its first fragment
                             * (packet time) is handed back frame by frame */
    unsigned max_fragments; /* fragments of one datagram held at most */
} mw_defrag_params_t;

typedef struct mw_defrag_stats {
    uint64_t datagrams;      /* datagrams put back together (and settled whole) */
    uint64_t fragments;      /* fragment frames in them */
    uint64_t released;       /* fragment frames handed back one by one */
    uint64_t conflicts;      /* datagrams whose fragments overlapped with other bytes */
    uint64_t held_bytes_max; /* most bytes held at once */
} mw_defrag_stats_t;

/* One fragment frame as it was read, to be processed again on its own. */
typedef struct mw_defrag_frame {
    const uint8_t *data;
    uint32_t caplen;
    uint32_t wirelen; /* as read */
    int64_t ts_us;
    uint64_t frame; /* the reader's frame number */
    int dlt;
    unsigned decode_flags; /* MW_DECODE_* it was decoded with */
} mw_defrag_frame_t;

/* A datagram put back together: frame is the first fragment's frame up to its IP header
 * followed by the whole datagram, no longer a fragment (decode it as that frame); its
 * fragments' count and counted lengths are what its flow accounts. */
typedef struct mw_defrag_datagram {
    uint8_t *frame; /* the table's: the caller may mark it (mw_defrag_mark_fragmented) */
    uint32_t len;
    int dlt;
    unsigned decode_flags;
    uint32_t fragments; /* frames it was made of */
    uint64_t count_len; /* the sum of the counted lengths add() was given */
    uint32_t ip_off;    /* where the datagram's IP header is in frame */
    uint32_t id;        /* its IP identification (IPv6: the fragment header's) */
    uint8_t conflict;   /* fragments overlapped with other bytes (the first ones kept) */
} mw_defrag_datagram_t;

typedef void (*mw_defrag_release_fn)(void *ctx, const mw_defrag_frame_t *frame);

typedef struct mw_defrag mw_defrag_t;

mw_defrag_t *mw_defrag_create(const mw_defrag_params_t *params, mw_defrag_release_fn release,
        void *release_ctx, char *errbuf, size_t errlen);
void mw_defrag_destroy(mw_defrag_t *t); /* NULL-safe; releases nothing */

enum {
    MW_DEFRAG_NOT_FRAGMENT = 0, /* not a fragment (or an atomic one): process it as it is */
    MW_DEFRAG_PASS = 1,         /* a fragment that cannot be held (cut, malformed): process it */
    MW_DEFRAG_HELD = 2,         /* kept until its datagram is whole or given up */
    MW_DEFRAG_COMPLETE = 3,     /* *out is its whole datagram, valid until the next call;
                                 * mw_defrag_settle() says what became of it */
};

/*
 * Offers the frame whose IP header is at ip_off. count_len is what its flow would count
 * for it on its own. Datagrams given up to make room are released first (through the
 * callback), so the caller must be able to process a released frame now.
 */
int mw_defrag_add(mw_defrag_t *t, const mw_defrag_frame_t *frame, uint32_t ip_off,
        uint32_t count_len, mw_defrag_datagram_t *out /* OUT */);

/* After MW_DEFRAG_COMPLETE: whole 1 when the datagram was analyzed whole (counted), 0 when
 * it could not be (a header that does not decode): its frames are released one by one, so
 * that they count as they did before reassembly. */
void mw_defrag_settle(mw_defrag_t *t, int whole);

/* Releases the datagrams older than the timeout at now_us (also those from after it:
 * packet time went back). */
void mw_defrag_expire(mw_defrag_t *t, int64_t now_us);

/* Releases everything held (the end of the input). */
void mw_defrag_flush(mw_defrag_t *t);

/* Sets an IPv4 datagram's MF bit again (offset 0: a first fragment holding everything),
 * once decoded: nDPI then still knows it came in pieces ("Fragmented DNS Message"), where
 * the decoder would not strip a delivery from a fragment. IPv6's fragment header is left
 * out (nDPI 4.2 judges IPv4's flags only). */
void mw_defrag_mark_fragmented(mw_defrag_datagram_t *dg);

void mw_defrag_get_stats(const mw_defrag_t *t, mw_defrag_stats_t *out /* OUT */);

#endif
