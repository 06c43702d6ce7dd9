/*
 * memcap.h - one memory cap in bytes (--memcap) and its parts. Every
 * structure that grows with the traffic takes its part in bytes and sheds
 * (evicts, drops) what would go past it, counting what it shed; the counts
 * reach /stats/counters ("shed.*"), the summary and the report.
 * The model's own tables are not in it: they are as large as the model file
 * (whose loader bounds them by the file's size), and they never grow.
 */
#ifndef MW_MEMCAP_H
#define MW_MEMCAP_H

#include <stdint.h>

#define MW_MEMCAP_DEFAULT (2ULL << 30) /* 2 GiB */
#define MW_MEMCAP_MIN     (64ULL << 20)

typedef struct mw_memcap {
    uint64_t total;
    uint64_t flows;    /* flow tables of all workers, with their nDPI state */
    uint64_t tunnels;  /* the reader's GTP-U / IP-in-IP tunnel table */
    uint64_t evidence; /* detection: evidence waiting to become anomalies */
    uint64_t windows;  /* open management-plane windows (training or detection) */
    uint64_t hours;    /* per-hour session starts (training, rate detector) */
    uint64_t beacon;   /* beacon series of session starts */
} mw_memcap_t;

/* What each part shed (counted, never silent). */
typedef struct mw_shed {
    uint64_t windows;  /* flows not counted in a window: too many windows open */
    uint64_t hours;    /* session starts not counted per hour */
    uint64_t evidence; /* evidence dropped before it became an anomaly */
    uint64_t beacon;   /* session starts of series past the beacon part */
} mw_shed_t;

/* Splits total into the parts: flows 55 %, tunnels 5 %, evidence 15 %, windows 10 %,
 * hours 10 %, beacon 5 %. */
void mw_memcap_split(mw_memcap_t *m, uint64_t total);

#endif
