/*
 * batch.h - `mastwatch batch`: the nightly run over a spool of captures
 * (docs/BATCH.md). main.c hands it the command's arguments; everything else
 * of the batch lives in analyzer/batch/.
 */
#ifndef MW_BATCH_H
#define MW_BATCH_H

/*
 * Runs the batch command; argv[0] is "batch". Returns the process exit
 * status: 0 nothing found, 1 anomalies found, 2 usage or configuration
 * error, 3 something could not be analyzed (a capture failed or matched no
 * site, the lock is held, the output cannot be written), 128+N stopped by
 * signal N.
 */
int mw_batch_main(int argc, char **argv);

/* The batch command's help text. */
const char *mw_batch_usage(void);

#endif
