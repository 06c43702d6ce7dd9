/*
 * pcap_read_loop.c - the floor for any pcap reader: libpcap's own read
 * loop doing nothing with the packets. Used only by scripts/bench-engine.
 */
#include <pcap/pcap.h>
#include <stdio.h>

static void count(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    (void)h;
    (void)bytes;
    (*(unsigned long long *)user)++;
}

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    unsigned long long n = 0;
    pcap_t *p;

    if (argc != 2) {
        fprintf(stderr, "usage: pcap_read_loop FILE\n");
        return 2;
    }
    p = pcap_open_offline(argv[1], err);
    if (p == NULL) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    pcap_loop(p, -1, count, (u_char *)&n);
    pcap_close(p);
    printf("%llu\n", n);
    return 0;
}
