/*
 * h5_recover.h - completes the FILE.h5.partial of a run that did not finish
 * (killed, crashed, failed) into FILE.h5, marked complete=0 and recovered=1.
 */
#ifndef MW_H5_RECOVER_H
#define MW_H5_RECOVER_H

#include <stddef.h>
#include <stdint.h>

/* 0 and the flow rows recovered; MW_EINVAL for a name without .partial; else MW_EIO
 * with a one-line message. The partial is removed only once FILE.h5 is in place. */
int mw_h5_recover(const char *partial, uint64_t *rows /* OUT */, char *errbuf, size_t errlen);

#endif
