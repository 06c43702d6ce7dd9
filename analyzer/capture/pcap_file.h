/*
 * pcap_file.h - writes one classic pcap file with nanosecond timestamps
 * (magic 0xa1b23c4d) through a large buffer and plain write(2), so every
 * error is seen: a failed write cuts the file back to its last whole
 * record, and the packets of that write are reported as lost. The file is
 * valid (readable by tshark/capinfos) after every flush.
 */
#ifndef MW_PCAP_FILE_H
#define MW_PCAP_FILE_H

#include <stddef.h>
#include <stdint.h>

typedef struct mw_pcap_file mw_pcap_file_t;

#define MW_PCAP_HEADER_LEN 24u
#define MW_PCAP_RECORD_LEN 16u /* per-packet header */

/*
 * Creates path (never replaces an existing file) and writes the file header
 * to disk. Returns NULL with errno set.
 */
mw_pcap_file_t *mw_pcap_file_create(const char *path, int dlt, uint32_t snaplen, size_t bufsize);

/*
 * Appends a packet (buffered). Returns 0, or a negative errno when the
 * buffer had to be written and that failed: then *lost (added to) counts
 * the packets that are not in the file, this one included.
 */
int mw_pcap_file_write(mw_pcap_file_t *f, int64_t ts_ns, uint32_t caplen, uint32_t wirelen,
        const uint8_t *data, uint64_t *lost);

/* Writes the buffer out. 0 or a negative errno (*lost counts the dropped packets). */
int mw_pcap_file_flush(mw_pcap_file_t *f, uint64_t *lost);

/* Bytes in the file once the buffer is written. */
uint64_t mw_pcap_file_size(const mw_pcap_file_t *f);

/* Packets in the file once the buffer is written. */
uint64_t mw_pcap_file_packets(const mw_pcap_file_t *f);

/* Flushes, optionally fdatasync()s, closes and frees (NULL-safe). 0 or a negative errno. */
int mw_pcap_file_close(mw_pcap_file_t *f, int sync, uint64_t *lost);

/* The pcap LINKTYPE_ value written in the header for a libpcap DLT_ value. */
uint32_t mw_pcap_linktype_of(int dlt);

#endif
