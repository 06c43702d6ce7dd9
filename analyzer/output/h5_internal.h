/*
 * h5_internal.h - what the files of output/ that use HDF5 share. Only
 * output/h5_*.c include it: the rest of mastwatch never sees an hid_t.
 */
#ifndef MW_H5_INTERNAL_H
#define MW_H5_INTERNAL_H

#include <hdf5.h>

/* The /flows compound type, equal to mw_flow_record_t in memory. Caller closes it. */
hid_t mw__h5_flow_type(void);

#endif
