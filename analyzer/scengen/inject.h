/*
 * inject.h - the switchable anomalous behaviours. Each --inject spec names a
 * type and optional parameters:
 *   TYPE[:bs=ID,day=N,start=T,end=T,peer=IP,port=N,period=D,jitter=D,
 *         bytes=B,count=N,proto=NAME,rate=BPS]
 * Every injection registers one anomaly in the ground truth, and every flow
 * it creates is tracked there with its real first/last frame times.
 */
#ifndef MW_SG_INJECT_H
#define MW_SG_INJECT_H

#include <stddef.h>
#include <stdint.h>

#include "sg.h"

typedef struct mw_inject mw_inject_t;

mw_inject_t *mw_inject_create(mw_sg_t *sg);
void mw_inject_destroy(mw_inject_t *in);
/* Parses and validates one spec (sg->site and sg->start_s must be set). */
int mw_inject_add(mw_inject_t *in, const char *spec, char *errbuf, size_t errlen);
/* Registers the anomalies in the ground truth; call once after all adds. */
int mw_inject_prepare(mw_inject_t *in);
/* Generates the injected sessions starting in [t0_s, t1_s). */
void mw_inject_slice(mw_inject_t *in, uint64_t t0_s, uint64_t t1_s);
/* Writes the list of types and their defaults (for --help). */
void mw_inject_help(void *fp);

#endif
