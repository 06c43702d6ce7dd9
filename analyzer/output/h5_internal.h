/*
 * h5_internal.h - what the files of output/ that use HDF5 share. Only
 * output/h5_*.c include it: the rest of mastwatch never sees an hid_t.
 */
#ifndef MW_H5_INTERNAL_H
#define MW_H5_INTERNAL_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

/* The /flows compound type, equal to mw_flow_record_t in memory. Caller closes it. */
hid_t mw__h5_flow_type(void);
/* The /anomalies compound type, equal to mw_anomaly_record_t in memory. Caller closes it. */
hid_t mw__h5_anomaly_type(void);
/* Grows the 1-D dataset ds to at + count rows and writes rows (of type) at row at; 0 or -1. */
int mw__h5_write_rows(hid_t ds, hid_t type, uint64_t at, uint64_t count, const void *rows);

/* A NUL-padded fixed-length string type of n bytes. Caller closes it. */
hid_t mw__h5_fixed_string(size_t n);

/* Scalar root/group attributes (a UTF-8 variable-length string, an int64). */
int mw__h5_attr_string(hid_t loc, const char *name, const char *value);
int mw__h5_attr_int64(hid_t loc, const char *name, int64_t value);
/* A scalar NUL-terminated fixed-length string attribute (strlen + 1 bytes): what models
 * store, because readers never read variable-length data (h5_model.c). */
int mw__h5_attr_fixed_string(hid_t loc, const char *name, const char *value);

/* NAME.partial.rows, the journal of the open /flows chunk (h5_writer.c, h5_recover.c). */
typedef struct mw_journal_header {
    char magic[8];           /* "MWROWS1" */
    uint32_t record_size;    /* sizeof(mw_flow_record_t) */
    uint32_t schema_version; /* MW_SCHEMA_VERSION */
    uint64_t start_row;      /* /flows row index of the first journaled record */
} mw_journal_header_t;

#endif
