/*
 * pcap_readdress.c - writes COPIES copies of an Ethernet capture, copy k
 * with the last byte of every IPv4/IPv6 address (after up to two VLAN
 * tags) XORed with k, so each copy is a new set of flows with the same
 * protocols. Used only by scripts/bench-engine to build its "nDPI-mix"
 * workload; tcprewrite aborts on several of the real-world captures.
 * Checksums are left as they are: neither reader under test checks them.
 * usage: pcap_readdress IN OUT COPIES
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void readdress(u_char *frame, bpf_u_int32 caplen, unsigned k)
{
    size_t off = 12;
    unsigned type;

    if (caplen < 14)
        return;
    type = (unsigned)frame[12] << 8 | frame[13];
    while ((type == 0x8100 || type == 0x88a8) && off + 6 <= caplen) {
        off += 4;
        type = (unsigned)frame[off] << 8 | frame[off + 1];
    }
    off += 2;
    if (type == 0x0800 && off + 20 <= caplen) {
        frame[off + 15] ^= (u_char)k; /* src: bytes 12..15 */
        frame[off + 19] ^= (u_char)k; /* dst: bytes 16..19 */
    } else if (type == 0x86dd && off + 40 <= caplen) {
        frame[off + 23] ^= (u_char)k; /* src: bytes 8..23 */
        frame[off + 39] ^= (u_char)k; /* dst: bytes 24..39 */
    }
}

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    unsigned copies, k;
    pcap_t *dead;
    pcap_dumper_t *out;

    if (argc != 4 || (copies = (unsigned)strtoul(argv[3], NULL, 10)) == 0 || copies > 255) {
        fprintf(stderr, "usage: pcap_readdress IN OUT COPIES(1..255)\n");
        return 2;
    }
    dead = pcap_open_dead(DLT_EN10MB, 262144);
    if (dead == NULL || (out = pcap_dump_open(dead, argv[2])) == NULL) {
        fprintf(stderr, "pcap_readdress: cannot write %s\n", argv[2]);
        return 1;
    }
    for (k = 0; k < copies; k++) {
        struct pcap_pkthdr *h;
        const u_char *bytes;
        u_char *copy = malloc(262144);
        pcap_t *in = pcap_open_offline(argv[1], err);
        int rc;

        if (in == NULL || copy == NULL) {
            fprintf(stderr, "pcap_readdress: %s\n", in == NULL ? err : "out of memory");
            return 1;
        }
        if (pcap_datalink(in) != DLT_EN10MB) {
            fprintf(stderr, "pcap_readdress: %s is not Ethernet\n", argv[1]);
            return 1;
        }
        while ((rc = pcap_next_ex(in, &h, &bytes)) == 1) {
            bpf_u_int32 n = h->caplen < 262144 ? h->caplen : 262144;
            memcpy(copy, bytes, n);
            readdress(copy, n, k);
            pcap_dump((u_char *)out, h, copy);
        }
        if (rc == PCAP_ERROR) {
            fprintf(stderr, "pcap_readdress: %s: %s\n", argv[1], pcap_geterr(in));
            return 1;
        }
        pcap_close(in);
        free(copy);
    }
    if (pcap_dump_flush(out) != 0) {
        fprintf(stderr, "pcap_readdress: write error on %s\n", argv[2]);
        return 1;
    }
    pcap_dump_close(out);
    pcap_close(dead);
    return 0;
}
