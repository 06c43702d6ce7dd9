/*
 * batch_mpi_msg.c - packing and MPI transport for batch_mpi*.c. Integers
 * travel as 8 little-endian bytes and strings with a length, so ranks need
 * not share a struct layout; model files travel in chunks below INT_MAX.
 */
#include "batch/batch_mpi_msg.h"

#include <errno.h>
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "batch/batch_util.h"
#include "core/mw.h"

#define MW_MSG_NULL  UINT64_MAX
#define MW_MSG_CHUNK (64u << 20) /* model bytes per MPI message */

void mw__batch_mpi_err(int rc, const char *what, char *errbuf, size_t errlen)
{
    char s[MPI_MAX_ERROR_STRING];
    int n = 0;

    if (MPI_Error_string(rc, s, &n) != MPI_SUCCESS)
        snprintf(s, sizeof(s), "error %d", rc);
    mw_fmt_err(errbuf, errlen, "%s: %s", what, s);
}

static void reserve(mw_batch_msg_t *m, size_t more)
{
    size_t cap = m->cap ? m->cap : 256;
    unsigned char *p;

    if (m->bad || m->len + more <= m->cap)
        return;
    while (cap < m->len + more)
        cap *= 2;
    p = realloc(m->p, cap);
    if (p == NULL) {
        m->bad = 1;
        return;
    }
    m->p = p;
    m->cap = cap;
}

void mw__batch_msg_u64(mw_batch_msg_t *m, uint64_t v)
{
    int i;

    reserve(m, 8);
    if (m->bad)
        return;
    for (i = 0; i < 8; i++)
        m->p[m->len++] = (unsigned char)(v >> (8 * i));
}

void mw__batch_msg_str(mw_batch_msg_t *m, const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;

    mw__batch_msg_u64(m, s != NULL ? (uint64_t)n : MW_MSG_NULL);
    reserve(m, n);
    if (m->bad || s == NULL)
        return;
    memcpy(m->p + m->len, s, n);
    m->len += n;
}

uint64_t mw__batch_msg_get_u64(mw_batch_msg_t *m)
{
    uint64_t v = 0;
    int i;

    if (m->bad || m->len - m->pos < 8) {
        m->bad = 1;
        return 0;
    }
    for (i = 0; i < 8; i++)
        v |= (uint64_t)m->p[m->pos++] << (8 * i);
    return v;
}

char *mw__batch_msg_get_str(mw_batch_msg_t *m)
{
    uint64_t n = mw__batch_msg_get_u64(m);
    char *s;

    if (m->bad || n == MW_MSG_NULL)
        return NULL;
    if (n > m->len - m->pos || (s = malloc((size_t)n + 1)) == NULL) {
        m->bad = 1;
        return NULL;
    }
    memcpy(s, m->p + m->pos, (size_t)n);
    s[n] = '\0';
    m->pos += (size_t)n;
    return s;
}

void mw__batch_msg_free(mw_batch_msg_t *m)
{
    free(m->p);
    memset(m, 0, sizeof(*m));
}

int mw__batch_msg_send(const mw_batch_msg_t *m, int rank, int tag, char *errbuf, size_t errlen)
{
    static unsigned char none;
    int rc;

    if (m->bad || m->len > INT_MAX) {
        mw_fmt_err(errbuf, errlen, "out of memory packing a message");
        return -1;
    }
    rc = MPI_Send(m->p != NULL ? m->p : &none, (int)m->len, MPI_BYTE, rank, tag, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) {
        mw__batch_mpi_err(rc, "MPI_Send", errbuf, errlen);
        return -1;
    }
    return 0;
}

int mw__batch_msg_recv(mw_batch_msg_t *m, int source, int tag, int wait, int *from, int *tag_out,
        char *errbuf, size_t errlen)
{
    MPI_Status st;
    int flag = 1, count = 0, rc;

    mw__batch_msg_free(m);
    rc = wait ? MPI_Probe(source, tag, MPI_COMM_WORLD, &st)
              : MPI_Iprobe(source, tag, MPI_COMM_WORLD, &flag, &st);
    if (rc != MPI_SUCCESS) {
        mw__batch_mpi_err(rc, "MPI_Probe", errbuf, errlen);
        return -1;
    }
    if (!flag)
        return 1;
    rc = MPI_Get_count(&st, MPI_BYTE, &count);
    if (rc != MPI_SUCCESS || count < 0) {
        mw__batch_mpi_err(rc, "MPI_Get_count", errbuf, errlen);
        return -1;
    }
    m->p = malloc(count > 0 ? (size_t)count : 1);
    if (m->p == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory receiving a message");
        return -1;
    }
    m->cap = m->len = (size_t)count;
    /* the probed message itself: same source and tag, nothing can overtake it */
    rc = MPI_Recv(
            m->p, count, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) {
        mw__batch_mpi_err(rc, "MPI_Recv", errbuf, errlen);
        return -1;
    }
    if (from != NULL)
        *from = st.MPI_SOURCE;
    if (tag_out != NULL)
        *tag_out = st.MPI_TAG;
    return 0;
}

static int send_u64(uint64_t v, int rank, char *errbuf, size_t errlen)
{
    mw_batch_msg_t m = { 0 };
    int rc;

    mw__batch_msg_u64(&m, v);
    rc = mw__batch_msg_send(&m, rank, MW_TAG_MODEL, errbuf, errlen);
    mw__batch_msg_free(&m);
    return rc;
}

/* The whole file in memory (models are at most a few hundred MB). */
static unsigned char *slurp(const char *path, uint64_t *size)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    unsigned char *p = NULL;

    if (f == NULL)
        return NULL;
    if (fstat(fileno(f), &st) == 0 && st.st_size > 0 && (p = malloc((size_t)st.st_size)) != NULL &&
            fread(p, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *size = p != NULL ? (uint64_t)st.st_size : 0;
    return p;
}

int mw__batch_msg_send_file(const char *path, int failed, int rank, char *errbuf, size_t errlen)
{
    uint64_t size = 0, off;
    unsigned char *p = NULL;
    int rc;

    if (!failed && path != NULL && (p = slurp(path, &size)) == NULL)
        failed = 1;
    if (failed || path == NULL) {
        free(p);
        return send_u64(failed ? MW_BATCH_FILE_FAILED : MW_BATCH_FILE_NONE, rank, errbuf, errlen);
    }
    if (send_u64(size, rank, errbuf, errlen) != 0) {
        free(p);
        return -1;
    }
    for (off = 0; off < size; off += MW_MSG_CHUNK) {
        int n = (int)MW_MIN((uint64_t)MW_MSG_CHUNK, size - off);
        rc = MPI_Send(p + off, n, MPI_BYTE, rank, MW_TAG_MODEL_DATA, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) {
            mw__batch_mpi_err(rc, "MPI_Send", errbuf, errlen);
            free(p);
            return -1;
        }
    }
    free(p);
    return 0;
}

int mw__batch_msg_recv_file(const char *path, int rank, int *got, char *errbuf, size_t errlen)
{
    mw_batch_msg_t m = { 0 };
    uint64_t size, off;
    unsigned char *p;
    int rc;

    if (mw__batch_msg_recv(&m, rank, MW_TAG_MODEL, 1, NULL, NULL, errbuf, errlen) != 0)
        return -1;
    size = mw__batch_msg_get_u64(&m);
    mw__batch_msg_free(&m);
    *got = size == MW_BATCH_FILE_FAILED ? -1 : size == MW_BATCH_FILE_NONE ? 0 : 1;
    if (*got != 1)
        return 0;
    p = malloc((size_t)size);
    if (p == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory receiving a model");
        return -1; /* cannot drain the chunks: the job is broken */
    }
    for (off = 0; off < size; off += MW_MSG_CHUNK) {
        int n = (int)MW_MIN((uint64_t)MW_MSG_CHUNK, size - off);
        rc = MPI_Recv(
                p + off, n, MPI_BYTE, rank, MW_TAG_MODEL_DATA, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) {
            mw__batch_mpi_err(rc, "MPI_Recv", errbuf, errlen);
            free(p);
            return -1;
        }
    }
    rc = path != NULL ? mw__batch_write_atomic(path, (const char *)p, (size_t)size, errbuf, errlen)
                      : 0;
    free(p);
    if (rc != 0 || path == NULL)
        *got = -1; /* not kept: counts as failed */
    return 0;
}
