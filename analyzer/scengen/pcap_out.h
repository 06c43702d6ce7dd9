/*
 * pcap_out.h - writes frames to a classic pcap (microsecond, LINKTYPE_ETHERNET)
 * or a pcapng file. Written directly with stdio rather than through
 * libpcap's pcap_dump: the format is tiny, and a direct writer keeps the
 * generator fast and free of a second code path for pcapng.
 */
#ifndef MW_SG_PCAP_OUT_H
#define MW_SG_PCAP_OUT_H

#include <stddef.h>
#include <stdint.h>

typedef struct mw_pcap_out mw_pcap_out_t;

/* Opens path for writing; NULL with a message in errbuf on failure. */
mw_pcap_out_t *mw_pcap_out_open(const char *path, int pcapng, char *errbuf, size_t errlen);
/* Appends one frame stamped t_us (microseconds since the epoch). 0 or MW_EIO. */
int mw_pcap_out_write(mw_pcap_out_t *w, uint64_t t_us, const uint8_t *frame, uint32_t len);
/* Flushes and closes; returns MW_EIO if any write failed. NULL-safe. */
int mw_pcap_out_close(mw_pcap_out_t *w);

#endif
