/*
 * batch_mpi_msg.h - the messages MPI ranks of a batch exchange
 * (batch_mpi_msg.c): a byte buffer packed field by field, sent as MPI_BYTE,
 * and the tags. Every MPI call's return code is checked here; a failure is
 * reported as -1 with a one-line message.
 */
#ifndef MW_BATCH_MPI_MSG_H
#define MW_BATCH_MPI_MSG_H

#include <stddef.h>
#include <stdint.h>

enum mw_batch_mpi_tag {
    MW_TAG_REQ = 1, /* rank -> 0: a slot is free, send a capture */
    MW_TAG_ASSIGN,  /* 0 -> rank: analyze this capture */
    MW_TAG_NOMORE,  /* 0 -> rank: nothing left to hand out */
    MW_TAG_RESULT,  /* rank -> 0: a capture ended (record, discarded or error) */
    MW_TAG_BYE,     /* rank -> 0: this rank analyzes nothing more */
    MW_TAG_TRAIN,   /* 0 -> rank: train these results files, then reduce */
    MW_TAG_END,     /* 0 -> rank: the run is over */
    MW_TAG_MODEL,   /* rank -> parent in the reduction: a model file's size */
    MW_TAG_MODEL_DATA,
};

enum mw_batch_mpi_result {
    MW_RES_RECORD = 0, /* a record for the state follows */
    MW_RES_DISCARDED,  /* stopped: nothing to record, done again next run */
    MW_RES_ERROR,      /* the outputs could not be made durable: message follows */
};

typedef struct mw_batch_msg {
    unsigned char *p;
    size_t len, cap, pos;
    int bad; /* a put ran out of memory or a get ran past the end */
} mw_batch_msg_t;

void mw__batch_msg_u64(mw_batch_msg_t *m, uint64_t v);
void mw__batch_msg_str(mw_batch_msg_t *m, const char *s); /* NULL is kept as NULL */
uint64_t mw__batch_msg_get_u64(mw_batch_msg_t *m);
char *mw__batch_msg_get_str(mw_batch_msg_t *m); /* malloc'd; NULL for NULL (or bad) */
void mw__batch_msg_free(mw_batch_msg_t *m);

/* Sends m (may be empty) to rank with tag on MPI_COMM_WORLD. 0 or -1. */
int mw__batch_msg_send(const mw_batch_msg_t *m, int rank, int tag, char *errbuf, size_t errlen);

/*
 * Receives the next message from source (MPI_ANY_SOURCE allowed) with tag
 * (MPI_ANY_TAG allowed) into m; *from and *tag_out (may be NULL) say whose
 * and which. wait = 0: returns 1 at once when none is there. 0, 1 or -1.
 */
int mw__batch_msg_recv(mw_batch_msg_t *m, int source, int tag, int wait, int *from, int *tag_out,
        char *errbuf, size_t errlen);

#define MW_BATCH_FILE_NONE   0
#define MW_BATCH_FILE_FAILED UINT64_MAX

/*
 * A whole file to rank: its size (MW_BATCH_FILE_NONE when path is NULL,
 * MW_BATCH_FILE_FAILED when failed), then its bytes. 0 or -1; when the file
 * cannot be read, FAILED is sent and 0 returned.
 */
int mw__batch_msg_send_file(const char *path, int failed, int rank, char *errbuf, size_t errlen);

/*
 * Receives what send_file sent from rank into path (written only when a
 * file came; path NULL: dropped, *got -1). *got: 1 a file, 0 none, -1 the
 * sender failed or it could not be written. 0 or -1 (MPI failed).
 */
int mw__batch_msg_recv_file(const char *path, int rank, int *got, char *errbuf, size_t errlen);

/* "MPI_Send: <MPI's own words>" into errbuf. */
void mw__batch_mpi_err(int rc, const char *what, char *errbuf, size_t errlen);

#endif
