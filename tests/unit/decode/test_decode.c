/*
 * test_decode.c - every decoder on crafted frames: good packets, truncated
 * ones and headers whose length fields lie. Frames are built layer by layer
 * by the small builder below; each test says what it builds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "decode/decode.h"

typedef struct {
    uint8_t b[2048];
    uint32_t n;
} frame_t;

static void put(frame_t *f, const void *bytes, uint32_t len)
{
    memcpy(f->b + f->n, bytes, len);
    f->n += len;
}

static void put16(frame_t *f, uint16_t v)
{
    uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    put(f, x, 2);
}

static void put32(frame_t *f, uint32_t v)
{
    put16(f, (uint16_t)(v >> 16));
    put16(f, (uint16_t)v);
}

/* dst 00:11:22:33:44:55, src 66:77:88:99:aa:bb, then the ethertype */
static void eth(frame_t *f, uint16_t type)
{
    static const uint8_t macs[12] = { 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
        0xbb };
    put(f, macs, 12);
    put16(f, type);
}

/* IPv4 header 10.0.0.1 -> 10.0.0.2, ihl words, total length, frag field */
static void ipv4(frame_t *f, uint8_t proto, uint16_t total, uint8_t ihl, uint16_t frag)
{
    uint8_t h[20] = { (uint8_t)(0x40 | ihl), 0, (uint8_t)(total >> 8), (uint8_t)total, 0, 1,
        (uint8_t)(frag >> 8), (uint8_t)frag, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2 };
    put(f, h, 20);
    for (unsigned i = 5; i < ihl; i++)
        put32(f, 0x01010101); /* NOP options */
}

static void udp(frame_t *f, uint16_t sport, uint16_t dport, uint16_t len)
{
    put16(f, sport);
    put16(f, dport);
    put16(f, len);
    put16(f, 0);
}

static void tcp(frame_t *f, uint16_t sport, uint16_t dport, uint8_t doff, uint8_t flags)
{
    put16(f, sport);
    put16(f, dport);
    put32(f, 1);
    put32(f, 0);
    uint8_t x[4] = { (uint8_t)(doff << 4), flags, 0xff, 0xff };
    put(f, x, 4);
    put32(f, 0);
}

/* IPv6 header 2001:db8::1 -> 2001:db8::2 */
static void ipv6(frame_t *f, uint8_t next, uint16_t payload_len)
{
    uint8_t h[40] = { 0x60, 0, 0, 0, (uint8_t)(payload_len >> 8), (uint8_t)payload_len, next, 64,
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 2 };
    put(f, h, 40);
}

static int decode(int dlt, frame_t *f, mw_packet_t *p)
{
    memset(p, 0, sizeof(*p));
    p->wirelen = f->n;
    return mw_decode_frame(dlt, f->b, f->n, p);
}

static void test_eth_ipv4_tcp(void **state)
{
    frame_t f = { .n = 0 };
    mw_packet_t p;
    (void)state;
    eth(&f, 0x0800);
    ipv4(&f, 6, 40, 5, 0);
    tcp(&f, 40000, 22, 5, 0x02);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.outer.ip_version, 4);
    assert_int_equal(p.outer.sport, 40000);
    assert_int_equal(p.outer.dport, 22);
    assert_int_equal(p.outer.tcp_flags, 0x02);
    assert_int_equal(p.outer.l3_off, 14);
    assert_int_equal(p.outer.src[10], 0xff); /* IPv4-mapped */
    assert_int_equal(p.outer.src[15], 1);
}

/* One UDP datagram sport -> dport with payload pl; returns what it says of the exchange. */
static uint8_t udp_exchange(uint16_t sport, uint16_t dport, const uint8_t *pl, uint16_t n)
{
    frame_t f = { .n = 0 };
    mw_packet_t p;

    eth(&f, 0x0800);
    ipv4(&f, 17, (uint16_t)(20 + 8 + n), 5, 0);
    udp(&f, sport, dport, (uint16_t)(8 + n));
    put(&f, pl, n);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    return p.outer.handshake;
}

/* NTP's mode and DNS's QR bit say who asked, on the protocol's port only. */
static void test_udp_request_answer(void **state)
{
    uint8_t ntp[48] = { 0 }, dns[12] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
    (void)state;

    ntp[0] = 0x23; /* version 4, mode 3: a client's request */
    assert_int_equal(udp_exchange(123, 123, ntp, 48), MW_HS_OPEN);
    assert_int_equal(udp_exchange(40000, 123, ntp, 48), MW_HS_OPEN);
    assert_int_equal(udp_exchange(123, 40000, ntp, 48), MW_HS_NONE); /* a request from 123 */
    ntp[0] = 0x24; /* mode 4: the server's answer */
    assert_int_equal(udp_exchange(123, 123, ntp, 48), MW_HS_ACCEPT);
    assert_int_equal(udp_exchange(123, 40000, ntp, 48), MW_HS_ACCEPT);
    assert_int_equal(udp_exchange(40000, 123, ntp, 48), MW_HS_NONE);
    ntp[0] = 0x25; /* mode 5, broadcast: nobody asked */
    assert_int_equal(udp_exchange(123, 123, ntp, 48), MW_HS_NONE);
    ntp[0] = 0x04; /* version 0: not NTP */
    assert_int_equal(udp_exchange(123, 123, ntp, 48), MW_HS_NONE);
    ntp[0] = 0x24;
    assert_int_equal(udp_exchange(123, 123, ntp, 47), MW_HS_NONE); /* cut short */

    assert_int_equal(udp_exchange(40000, 53, dns, 12), MW_HS_OPEN);
    dns[2] = 0x81; /* QR: an answer */
    assert_int_equal(udp_exchange(53, 40000, dns, 12), MW_HS_ACCEPT);
    assert_int_equal(udp_exchange(40000, 53, dns, 12), MW_HS_NONE); /* an answer to 53 */
    assert_int_equal(udp_exchange(53, 53, dns, 12), MW_HS_NONE);    /* server to server */
    dns[5] = 2; /* two questions: not what resolvers send */
    assert_int_equal(udp_exchange(53, 40000, dns, 12), MW_HS_NONE);
}

/* IKE's header names the SA's initiator: IKEv2 IKE_SA_INIT and IKE_AUTH requests and
 * responses (flags I and R), IKEv1's first message (no responder cookie), behind the
 * non-ESP marker on port 4500; ESP on 4500, later exchanges and lies say nothing. */
static void test_ike_initiator(void **state)
{
    uint8_t ike[32] = { 0 }, natt[36] = { 0 };
    (void)state;

    memset(ike, 0x11, 8); /* the initiator's SPI */
    ike[16] = 33;         /* next payload: SA */
    ike[17] = 0x20;       /* version 2.0 */
    ike[18] = 34;         /* IKE_SA_INIT */
    ike[19] = 0x08;       /* Initiator, a request */
    ike[27] = 32;         /* length */
    assert_int_equal(udp_exchange(500, 500, ike, 32), MW_HS_OPEN);
    assert_int_equal(udp_exchange(40000, 500, ike, 32), MW_HS_OPEN);
    assert_int_equal(udp_exchange(500, 40000, ike, 32), MW_HS_NONE); /* a request from 500 */
    assert_int_equal(udp_exchange(500, 500, ike, 27), MW_HS_NONE);   /* cut short */
    ike[8] = 1; /* a request with the responder's SPI: not the first message */
    assert_int_equal(udp_exchange(500, 500, ike, 32), MW_HS_NONE);
    ike[19] = 0x20; /* the response (responder's SPI set) */
    assert_int_equal(udp_exchange(500, 500, ike, 32), MW_HS_ACCEPT);
    assert_int_equal(udp_exchange(40000, 500, ike, 32), MW_HS_NONE);
    ike[19] = 0x28; /* I and R together: no IKE_SA_INIT carries that */
    assert_int_equal(udp_exchange(500, 500, ike, 32), MW_HS_NONE);
    ike[18] = 35; /* IKE_AUTH request, message 1 */
    ike[19] = 0x08;
    ike[23] = 1;
    assert_int_equal(udp_exchange(500, 500, ike, 32), MW_HS_OPEN);
    ike[18] = 37; /* INFORMATIONAL: after a rekey the initiator may be the other end */
    assert_int_equal(udp_exchange(500, 500, ike, 32), MW_HS_NONE);
    ike[18] = 35;
    ike[27] = 20; /* a length under the header's */
    assert_int_equal(udp_exchange(500, 500, ike, 32), MW_HS_NONE);
    ike[27] = 32;
    /* on 4500 behind the non-ESP marker; ESP (an SPI in its place) says nothing */
    memcpy(natt + 4, ike, 32);
    assert_int_equal(udp_exchange(14500, 4500, natt, 36), MW_HS_OPEN);
    natt[4 + 19] = 0x20;
    assert_int_equal(udp_exchange(4500, 14500, natt, 36), MW_HS_ACCEPT);
    natt[3] = 7;
    assert_int_equal(udp_exchange(4500, 14500, natt, 36), MW_HS_NONE);
    assert_int_equal(udp_exchange(4500, 14500, natt, 1), MW_HS_NONE); /* NAT keepalive */
    /* IKEv1 main mode: the first message has no responder cookie; the rest say nothing */
    memset(ike + 8, 0, 8);
    ike[17] = 0x10;
    ike[18] = 2;
    ike[19] = 0;
    ike[23] = 0;
    assert_int_equal(udp_exchange(500, 500, ike, 32), MW_HS_OPEN);
    ike[8] = 0x22;
    assert_int_equal(udp_exchange(500, 500, ike, 32), MW_HS_NONE);
}

/* A header-only capture (the snaplen cut the transport header after its ports): the ports
 * name the flow, no flags, nothing for nDPI, a soft event; an IP length that leaves no
 * room for the header is still a truncated packet, and so is one without its ports. */
static void test_snaplen_cut_transport_header(void **state)
{
    frame_t f = { .n = 0 };
    mw_packet_t p;
    (void)state;

    eth(&f, 0x86dd);
    ipv6(&f, 6, 20 + 100);
    tcp(&f, 40000, 830, 5, 0x18);
    f.n = 14 + 40 + 10; /* -s 64 */
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.outer.sport, 40000);
    assert_int_equal(p.outer.dport, 830);
    assert_int_equal(p.outer.l4_cut, 1);
    assert_int_equal(p.outer.tcp_flags, 0);
    assert_int_equal(p.outer.payload_len, 0);
    assert_int_equal(p.soft_event, MW_DEC_TCP_TRUNCATED);
    f.n = 14 + 40 + 3; /* not even the ports */
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_TCP_TRUNCATED);
    f.n = 0; /* the IP header says 10 bytes: no room for a TCP header, a lie */
    eth(&f, 0x86dd);
    ipv6(&f, 6, 10);
    tcp(&f, 40000, 830, 5, 0x18);
    f.n = 14 + 40 + 10;
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_TCP_TRUNCATED);
    f.n = 0; /* UDP cut after its ports */
    eth(&f, 0x0800);
    ipv4(&f, 17, 20 + 8 + 40, 5, 0);
    udp(&f, 40000, 161, 8 + 40);
    f.n = 14 + 20 + 6;
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.outer.dport, 161);
    assert_int_equal(p.outer.l4_cut, 1);
    assert_int_equal(p.soft_event, MW_DEC_UDP_TRUNCATED);
}

static void test_ipv4_options_and_lies(void **state)
{
    frame_t f = { .n = 0 };
    mw_packet_t p;
    (void)state;
    /* ihl 7: 8 bytes of options before UDP */
    eth(&f, 0x0800);
    ipv4(&f, 17, 28 + 8, 7, 0);
    udp(&f, 161, 50000, 8);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.outer.sport, 161);

    /* ihl says 60 bytes, only 20 captured */
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 17, 60, 5, 0);
    f.b[14] = 0x4f;
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_IPV4_TRUNCATED);

    /* ihl below 5 */
    f.b[14] = 0x44;
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_IPV4_BAD_HEADER);

    /* total length 10 < header length 20 */
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 17, 10, 5, 0);
    udp(&f, 1, 2, 8);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_IPV4_BAD_LENGTH);

    /* truncated Ethernet */
    f.n = 10;
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_L2_TRUNCATED);
}

static void test_ipv4_fragments(void **state)
{
    frame_t f = { .n = 0 };
    mw_packet_t p;
    (void)state;
    /* first fragment: MF set, offset 0 - ports are there */
    eth(&f, 0x0800);
    ipv4(&f, 17, 36, 5, 0x2000);
    udp(&f, 53, 5353, 100);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.outer.frag, MW_FRAG_FIRST);
    assert_int_equal(p.outer.dport, 5353);
    assert_int_equal(p.outer.frag_id, 1);
    /* later fragment: no ports, but what finds the first fragment's flow */
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 17, 36, 5, 0x0003);
    udp(&f, 53, 5353, 100);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_IP_FRAGMENT_LATER);
    assert_int_equal(p.outer.frag, MW_FRAG_LATER);
    assert_int_equal(p.outer.frag_id, 1);
    assert_int_equal(p.outer.l4_proto, 17);
    assert_int_equal(p.outer.ip_len, 36);
    assert_int_equal(p.outer.sport, 0);
    /* a tiny first fragment (RFC 1858): 8 bytes of TCP, the flags in the next fragment - the
     * ports name the flow, the header is marked cut; not a fragment: truncated */
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 6, 28, 5, 0x2000);
    put16(&f, 40000);
    put16(&f, 23);
    put32(&f, 1);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.outer.sport, 40000);
    assert_int_equal(p.outer.dport, 23);
    assert_int_equal(p.outer.l4_cut, 1);
    assert_int_equal(p.outer.tcp_flags, 0);
    assert_int_equal(p.outer.payload_len, 0);
    f.b[14 + 6] = 0;
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_TCP_TRUNCATED);
    /* the same for SCTP's 12-byte common header */
    f.b[14 + 6] = 0x20;
    f.b[14 + 9] = 132;
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.outer.dport, 23);
    assert_int_equal(p.outer.l4_cut, 1);
    /* not even the ports */
    f.n -= 6;
    f.b[14 + 3] = 22;
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_SCTP_TRUNCATED);
}

static void test_udp_tcp_lies(void **state)
{
    frame_t f = { .n = 0 };
    mw_packet_t p;
    (void)state;
    eth(&f, 0x0800);
    ipv4(&f, 17, 28, 5, 0);
    udp(&f, 1, 2, 4); /* UDP length 4 < 8 */
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_UDP_BAD_LENGTH);

    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 6, 40, 5, 0);
    tcp(&f, 1, 2, 3, 0x10); /* data offset 12 bytes */
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_TCP_BAD_HEADER);

    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 6, 40, 5, 0);
    put16(&f, 1234); /* only 2 bytes of TCP */
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_TCP_TRUNCATED);

    /* data offset 60 with a 20-byte header captured (snaplen): ports still read */
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 6, 80, 5, 0);
    tcp(&f, 5555, 443, 15, 0x18);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.outer.dport, 443);
    assert_int_equal(p.outer.payload_len, 0);
}

static void test_vlan_qinq_and_depth(void **state)
{
    frame_t f = { .n = 0 };
    mw_packet_t p;
    (void)state;
    /* 802.1ad S-tag 100, 802.1Q C-tag 200, IPv4 */
    eth(&f, 0x88a8);
    put16(&f, 100);
    put16(&f, 0x8100);
    put16(&f, 200);
    put16(&f, 0x0800);
    ipv4(&f, 17, 28, 5, 0);
    udp(&f, 123, 123, 8);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.vlan_count, 2);
    assert_int_equal(p.vlan[0], 100);
    assert_int_equal(p.vlan[1], 200);
    assert_int_equal(p.outer.sport, 123);

    /* 40 stacked tags: the layer cap stops the walk */
    f.n = 0;
    eth(&f, 0x8100);
    for (int i = 0; i < 40; i++) {
        put16(&f, (uint16_t)i);
        put16(&f, 0x8100);
    }
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_TOO_DEEP);

    /* tag cut short */
    f.n = 0;
    eth(&f, 0x8100);
    put16(&f, 5);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_VLAN_TRUNCATED);
}

static void test_mpls(void **state)
{
    frame_t f = { .n = 0 };
    mw_packet_t p;
    (void)state;
    /* label 16000 (not bottom), label 17 (bottom), IPv4 */
    eth(&f, 0x8847);
    put32(&f, (16000u << 12) | 64);
    put32(&f, (17u << 12) | 0x100 | 64);
    ipv4(&f, 17, 28, 5, 0);
    udp(&f, 1000, 2000, 8);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.mpls_count, 2);
    assert_int_equal(p.mpls_label, 16000);
    assert_int_equal(p.outer.dport, 2000);

    /* no bottom-of-stack bit before the data ends */
    f.n = 0;
    eth(&f, 0x8847);
    put32(&f, 16000u << 12);
    put32(&f, 17u << 12);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_MPLS_TRUNCATED);
}

/* ::ffff:a.b.c.d is an IPv4 host's form here: an IPv6 packet carrying one (never valid on
 * the wire, RFC 4291 2.5.5.2) is skipped and counted, not passed off as that IPv4 host. */
static void test_ipv6_v4mapped_is_skipped(void **state)
{
    static const uint8_t ems[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 62, 0, 10 };
    frame_t f = { .n = 0 };
    mw_packet_t p;
    int side;
    (void)state;

    for (side = 0; side < 2; side++) {
        f.n = 0;
        eth(&f, 0x86dd);
        ipv6(&f, 6, 20);
        memcpy(f.b + 14 + (side == 0 ? 8 : 24), ems, 16);
        tcp(&f, 40000, 22, 5, 0x02);
        assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_IPV6_V4MAPPED);
    }
    /* ordinary IPv6 addresses are decoded as ever */
    f.n = 0;
    eth(&f, 0x86dd);
    ipv6(&f, 6, 20);
    tcp(&f, 40000, 22, 5, 0x02);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
}

static void test_ipv6_ext_headers(void **state)
{
    frame_t f = { .n = 0 };
    mw_packet_t p;
    (void)state;
    /* hop-by-hop (8 bytes) -> destination options (8 bytes) -> UDP */
    eth(&f, 0x86dd);
    ipv6(&f, 0, 8 + 8 + 8);
    put32(&f, 0x3c000000); /* next 60, len 0 */
    put32(&f, 0);
    put32(&f, 0x11000000); /* next 17, len 0 */
    put32(&f, 0);
    udp(&f, 546, 547, 8);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.outer.ip_version, 6);
    assert_int_equal(p.outer.l4_proto, 17);
    assert_int_equal(p.outer.dport, 547);

    /* routing header claims 8 * (255 + 1) bytes */
    f.n = 0;
    eth(&f, 0x86dd);
    ipv6(&f, 43, 16);
    put32(&f, 0x11ff0000);
    put32(&f, 0);
    put32(&f, 0);
    put32(&f, 0);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_IPV6_EXT_TRUNCATED);

    /* fragment header, offset 8: later fragment */
    f.n = 0;
    eth(&f, 0x86dd);
    ipv6(&f, 44, 16);
    put32(&f, 0x11000008);
    put32(&f, 0xabcd);
    udp(&f, 1, 2, 8);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_IP_FRAGMENT_LATER);
    assert_int_equal(p.outer.frag_id, 0xabcd);
    assert_int_equal(p.outer.l4_proto, 17);

    /* 12 destination-option headers in a row: capped */
    f.n = 0;
    eth(&f, 0x86dd);
    ipv6(&f, 60, 12 * 8 + 8);
    for (int i = 0; i < 12; i++) {
        put32(&f, i == 11 ? 0x11000000 : 0x3c000000);
        put32(&f, 0);
    }
    udp(&f, 1, 2, 8);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_TOO_DEEP);
}

static void sctp_common(frame_t *f, uint16_t sport, uint16_t dport)
{
    put16(f, sport);
    put16(f, dport);
    put32(f, 0x11223344); /* verification tag */
    put32(f, 0);          /* checksum (not checked) */
}

static void test_sctp_ppid(void **state)
{
    frame_t f = { .n = 0 };
    mw_packet_t p;
    (void)state;
    /* SACK chunk (16 bytes) bundled before a DATA chunk with PPID 18 (S1AP) */
    eth(&f, 0x0800);
    ipv4(&f, 132, 20 + 12 + 16 + 20, 5, 0);
    sctp_common(&f, 36412, 36412);
    put32(&f, 0x03000010); /* SACK, len 16 */
    put32(&f, 0);
    put32(&f, 0);
    put32(&f, 0);
    put32(&f, 0x00030014); /* DATA, flags 3, len 20 */
    put32(&f, 1);          /* TSN */
    put32(&f, 0);          /* stream id + seq */
    put32(&f, 18);         /* PPID */
    put32(&f, 0);          /* 4 bytes of payload */
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.outer.sport, 36412);
    assert_int_equal(p.outer.sctp_ppid, 18);

    /* a chunk length of 0 stops the walk without a loop */
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 132, 20 + 12 + 8, 5, 0);
    sctp_common(&f, 38412, 38412);
    put32(&f, 0x00000000);
    put32(&f, 0);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.outer.sctp_ppid, 0);

    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 132, 28, 5, 0);
    put32(&f, 0);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_SCTP_TRUNCATED);
}

/* An ICMP error from 10.0.0.1 to 10.0.0.2 (type/code) quoting an IPv4 header src -> dst
 * (last bytes) of protocol proto, frag field frag, then quoted_l4 bytes of ports 40000 ->
 * 161; returns the decode result into p. */
static int icmp4_error_sized(mw_packet_t *p, uint8_t type, uint8_t code, uint8_t src, uint8_t dst,
        uint8_t proto, uint16_t frag, uint32_t quoted_l4, uint16_t dport, uint32_t extra)
{
    static frame_t f;
    uint8_t q[20] = { 0x45, 0, 0, 28, 0, 7, (uint8_t)(frag >> 8), (uint8_t)frag, 64, proto, 0, 0,
        10, 0, 0, src, 10, 0, 0, dst };

    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 1, (uint16_t)(20 + 8 + 20 + quoted_l4 + extra), 5, 0);
    put(&f, (uint8_t[]){ type, code, 0, 0, 0, 0, 0, 0 }, 8);
    put(&f, q, 20);
    put(&f, (uint8_t[]){ 0x9c, 0x40, (uint8_t)(dport >> 8), (uint8_t)dport, 0, 8, 0, 0 },
            quoted_l4);
    memset(f.b + f.n, 0, extra);
    f.n += extra;
    return decode(DLT_EN10MB, &f, p);
}

static int icmp4_error(mw_packet_t *p, uint8_t type, uint8_t code, uint8_t src, uint8_t dst,
        uint8_t proto, uint16_t frag, uint32_t quoted_l4)
{
    return icmp4_error_sized(p, type, code, src, dst, proto, frag, quoted_l4, 161, 0);
}

/* A destination unreachable is the answer of the flow it quotes - a UDP scan's port
 * unreachables are no ICMP flow the scanned host opened - when it quotes a whole first
 * packet of TCP, UDP or SCTP that its receiver sent; anything else stays ICMP. */
static void test_icmp_unreachable_joins_the_quoted_flow(void **state)
{
    mw_packet_t p;
    frame_t f = { .n = 0 };
    (void)state;

    /* port unreachable from 10.0.0.1 for 10.0.0.2:40000 -> 10.0.0.1:161 (UDP) */
    assert_int_equal(icmp4_error(&p, 3, 3, 2, 1, 17, 0, 8), MW_DEC_OK);
    assert_int_equal(p.outer.l4_proto, 17);
    assert_int_equal(p.outer.src[15], 1);
    assert_int_equal(p.outer.dst[15], 2);
    assert_int_equal(p.outer.sport, 161);
    assert_int_equal(p.outer.dport, 40000);
    assert_int_equal(p.outer.refusal, MW_REFUSAL_ICMP);
    assert_int_equal(p.outer.payload_len, 0);
    assert_int_equal(p.outer.handshake, MW_HS_NONE);
    /* a router's host unreachable (sent from 10.0.0.1 for 10.0.0.9): the flow is still
     * 10.0.0.2 -> 10.0.0.9's, answered for its destination */
    assert_int_equal(icmp4_error(&p, 3, 1, 2, 9, 6, 0, 8), MW_DEC_OK);
    assert_int_equal(p.outer.l4_proto, 6);
    assert_int_equal(p.outer.src[15], 9);
    assert_int_equal(p.outer.refusal, MW_REFUSAL_ICMP);
    /* only the ports are needed: RFC 792's 8 bytes may be cut to 4 */
    assert_int_equal(icmp4_error(&p, 3, 3, 2, 1, 132, 0, 4), MW_DEC_OK);
    assert_int_equal(p.outer.l4_proto, 132);

    /* stays ICMP: fragmentation needed (path MTU), an echo request's error, a quote of a
     * packet its receiver did not send, a later fragment, ports cut off, a time exceeded */
    assert_int_equal(icmp4_error(&p, 3, 4, 2, 1, 17, 0, 8), MW_DEC_OK);
    assert_int_equal(p.outer.l4_proto, 1);
    assert_int_equal(p.outer.refusal, MW_REFUSAL_NONE);
    assert_int_equal(icmp4_error(&p, 3, 3, 2, 1, 1, 0, 8), MW_DEC_OK);
    assert_int_equal(p.outer.l4_proto, 1);
    assert_int_equal(icmp4_error(&p, 3, 3, 7, 1, 17, 0, 8), MW_DEC_OK);
    assert_int_equal(p.outer.l4_proto, 1);
    assert_int_equal(icmp4_error(&p, 3, 3, 2, 1, 17, 0x0010, 8), MW_DEC_OK);
    assert_int_equal(p.outer.l4_proto, 1);
    assert_int_equal(icmp4_error(&p, 3, 3, 2, 1, 17, 0, 3), MW_DEC_OK);
    assert_int_equal(p.outer.l4_proto, 1);
    assert_int_equal(p.outer.sport, 0);
    assert_int_equal(icmp4_error(&p, 11, 0, 2, 1, 17, 0, 8), MW_DEC_OK);
    assert_int_equal(p.outer.l4_proto, 1);
    /* ... larger than RFC 1812's 576 bytes (a forged error carrying an upload), a GTP-U
     * path's error (its tunnel is keyed apart) */
    assert_int_equal(icmp4_error_sized(&p, 3, 3, 2, 1, 17, 0, 8, 161, 520), MW_DEC_OK);
    assert_int_equal(p.outer.l4_proto, 17); /* 576 exactly */
    assert_int_equal(icmp4_error_sized(&p, 3, 3, 2, 1, 17, 0, 8, 161, 521), MW_DEC_OK);
    assert_int_equal(p.outer.l4_proto, 1);
    assert_int_equal(icmp4_error_sized(&p, 3, 3, 2, 1, 17, 0, 8, 2152, 0), MW_DEC_OK);
    assert_int_equal(p.outer.l4_proto, 1);

    /* ICMPv6 port unreachable from 2001:db8::1 for 2001:db8::2 -> 2001:db8::1, UDP */
    eth(&f, 0x86dd);
    ipv6(&f, 58, 8 + 40 + 8);
    put(&f, (uint8_t[]){ 1, 4, 0, 0, 0, 0, 0, 0 }, 8);
    put(&f,
            (uint8_t[]){ 0x60, 0, 0, 0, 0, 8, 17, 64, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0,
                    0, 0, 0, 0, 2, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
            40);
    put(&f, (uint8_t[]){ 0x9c, 0x40, 0, 53, 0, 8, 0, 0 }, 8);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.outer.l4_proto, 17);
    assert_int_equal(p.outer.sport, 53);
    assert_int_equal(p.outer.dport, 40000);
    assert_int_equal(p.outer.src[15], 1);
    assert_int_equal(p.outer.refusal, MW_REFUSAL_ICMP);
    /* ICMPv6 packet too big (type 2) refuses nothing */
    f.b[14 + 40] = 2;
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.outer.l4_proto, 58);
    assert_int_equal(p.outer.refusal, MW_REFUSAL_NONE);
}

/* TCP RST and an SCTP ABORT refuse; a SYN, a SYN-ACK and an INIT do not. */
static void test_reset_and_abort_refuse(void **state)
{
    frame_t f = { .n = 0 };
    mw_packet_t p;
    static const uint8_t flags[] = { 0x02, 0x12, 0x04, 0x14 };
    unsigned i;
    (void)state;

    for (i = 0; i < sizeof(flags); i++) {
        f.n = 0;
        eth(&f, 0x0800);
        ipv4(&f, 6, 40, 5, 0);
        tcp(&f, 22, 40000, 5, flags[i]);
        assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
        assert_int_equal(p.outer.refusal, (flags[i] & 0x04) ? MW_REFUSAL_RESET : MW_REFUSAL_NONE);
    }
    /* a RST with data carries it */
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 6, 40 + 100, 5, 0);
    tcp(&f, 22, 40000, 5, 0x14);
    f.n += 100;
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.outer.refusal, MW_REFUSAL_NONE);
    /* an ABORT before a DATA chunk sends it */
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 132, 20 + 12 + 4 + 20, 5, 0);
    sctp_common(&f, 36412, 50000);
    put32(&f, 0x06000004);
    put32(&f, 0x00030014);
    put32(&f, 1);
    put32(&f, 0);
    put32(&f, 18);
    put32(&f, 0);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.outer.refusal, MW_REFUSAL_NONE);
    for (i = 1; i <= 6; i += 5) { /* INIT, then ABORT */
        f.n = 0;
        eth(&f, 0x0800);
        ipv4(&f, 132, 20 + 12 + 4, 5, 0);
        sctp_common(&f, 36412, 50000);
        put32(&f, (uint32_t)i << 24 | 4);
        assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
        assert_int_equal(p.outer.refusal, i == 6 ? MW_REFUSAL_RESET : MW_REFUSAL_NONE);
    }
}

/* GTP-U G-PDU: flags, type 255, length, TEID, [optional], inner packet */
static void gtpu(frame_t *f, uint8_t flags, uint16_t len, uint32_t teid)
{
    uint8_t h[4] = { flags, 0xff, (uint8_t)(len >> 8), (uint8_t)len };
    put(f, h, 4);
    put32(f, teid);
}

static void test_gtpu_inner(void **state)
{
    frame_t f = { .n = 0 };
    mw_packet_t p;
    (void)state;
    /* outer IPv4/UDP 2152 -> GTPv1 G-PDU TEID 0x1234 -> inner IPv4/TCP 443 */
    eth(&f, 0x0800);
    ipv4(&f, 17, 20 + 8 + 8 + 40, 5, 0);
    udp(&f, 2152, 2152, 8 + 8 + 40);
    gtpu(&f, 0x30, 40, 0x1234);
    ipv4(&f, 6, 40, 5, 0);
    tcp(&f, 50000, 443, 5, 0x02);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_true(p.has_gtp);
    assert_int_equal(p.teid, 0x1234);
    assert_int_equal(p.gtp_type, 255);
    assert_int_equal(p.inner.dport, 443);
    assert_int_equal(p.outer.dport, 2152);
    assert_int_equal(mw_packet_flow_l3(&p)->dport, 443);
}

static void test_gtpu_extension_headers(void **state)
{
    frame_t f = { .n = 0 };
    mw_packet_t p;
    (void)state;
    /* E flag: seq/N-PDU/next=0x85 (PDU session container, 4 bytes, next 0), inner IPv6/UDP */
    eth(&f, 0x0800);
    ipv4(&f, 17, 20 + 8 + 8 + 4 + 4 + 48, 5, 0);
    udp(&f, 2152, 2152, 8 + 8 + 4 + 4 + 48);
    gtpu(&f, 0x34, 4 + 4 + 48, 7);
    put32(&f, 0x00000085);
    put32(&f, 0x01000900); /* len 1 (4 bytes), content, next 0 */
    ipv6(&f, 17, 8);
    udp(&f, 5000, 53, 8);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_true(p.has_gtp);
    assert_int_equal(p.inner.ip_version, 6);
    assert_int_equal(p.inner.dport, 53);

    /* extension length 0 would loop forever: soft event, tunnel kept, no inner */
    f.b[14 + 20 + 8 + 8 + 4] = 0;
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_false(p.has_gtp);
    assert_int_equal(p.soft_event, MW_DEC_GTP_BAD_HEADER);
    assert_int_equal(p.outer.dport, 2152);
}

static void test_gtpu_lies_and_gtpc(void **state)
{
    frame_t f = { .n = 0 };
    mw_packet_t p;
    (void)state;
    /* GTP header cut after 5 bytes */
    eth(&f, 0x0800);
    ipv4(&f, 17, 20 + 8 + 5, 5, 0);
    udp(&f, 2152, 2152, 13);
    put32(&f, 0x30ff0010);
    put(&f, "\x01", 1);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_false(p.has_gtp);
    assert_int_equal(p.soft_event, MW_DEC_GTP_TRUNCATED);

    /* G-PDU whose inner packet is not IP */
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 17, 20 + 8 + 8 + 4, 5, 0);
    udp(&f, 2152, 2152, 20);
    gtpu(&f, 0x30, 4, 9);
    put32(&f, 0xdeadbeef);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.soft_event, MW_DEC_GTP_INNER_NOT_IP);

    /* GTPv2-C echo request on 2123: recognised, not unpacked */
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 17, 20 + 8 + 12, 5, 0);
    udp(&f, 2123, 2123, 20);
    put32(&f, 0x40010008); /* v2, no TEID, type 1 echo request, length 8 */
    put32(&f, 0x00000100);
    put32(&f, 0x03000100); /* Recovery IE */
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.gtp_version, 2);
    assert_int_equal(p.gtp_type, 1);
    assert_false(p.has_gtp);
}

static void test_gtpu_inner_fragment(void **state)
{
    frame_t f = { .n = 0 };
    mw_packet_t p;
    (void)state;
    /* a later fragment inside GTP-U: kept as the inner packet, for the engine */
    eth(&f, 0x0800);
    ipv4(&f, 17, 20 + 8 + 8 + 36, 5, 0);
    udp(&f, 2152, 2152, 8 + 8 + 36);
    gtpu(&f, 0x30, 36, 0x1234);
    ipv4(&f, 17, 36, 5, 0x0003);
    udp(&f, 53, 5353, 100);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_true(p.has_gtp);
    assert_int_equal(p.inner.frag, MW_FRAG_LATER);
    assert_int_equal(p.inner.frag_id, 1);
    assert_int_equal(p.soft_event, 0);
}

static void test_ip_in_ip(void **state)
{
    frame_t f = { .n = 0 };
    mw_packet_t p;
    (void)state;
    /* 6in4: outer IPv4 10.0.0.1 -> 10.0.0.2 proto 41 -> inner IPv6/UDP 5000 -> 53 */
    eth(&f, 0x0800);
    ipv4(&f, 41, 20 + 40 + 8, 5, 0);
    ipv6(&f, 17, 8);
    udp(&f, 5000, 53, 8);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_true(p.has_ipip);
    assert_false(p.has_gtp);
    assert_int_equal(p.outer.ip_version, 4); /* the outer header is kept: the tunnel */
    assert_int_equal(p.outer.l4_proto, 41);
    assert_int_equal(p.outer.src[15], 1);
    assert_int_equal(p.inner.ip_version, 6);
    assert_int_equal(p.inner.dport, 53);
    assert_ptr_equal(mw_packet_flow_l3(&p), &p.inner);

    /* IPv4 in IPv4 (proto 4) */
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 4, 20 + 20 + 8, 5, 0);
    ipv4(&f, 17, 28, 5, 0);
    udp(&f, 161, 40000, 8);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_true(p.has_ipip);
    assert_int_equal(p.inner.sport, 161);

    /* inner header cut short: the tunnel stays, the inner packet is a soft event */
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 41, 20 + 40, 5, 0);
    put32(&f, 0x60000000);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_false(p.has_ipip);
    assert_int_equal(p.soft_event, MW_DEC_IPV6_TRUNCATED);
    assert_int_equal(p.outer.l4_proto, 41);
    assert_ptr_equal(mw_packet_flow_l3(&p), &p.outer);
}

static void test_link_types(void **state)
{
    frame_t f = { .n = 0 };
    mw_packet_t p;
    (void)state;
    /* Linux SLL: 14 bytes, then protocol 0x0800 */
    for (int i = 0; i < 14; i++)
        put(&f, "\0", 1);
    put16(&f, 0x0800);
    ipv4(&f, 17, 28, 5, 0);
    udp(&f, 514, 514, 8);
    assert_int_equal(decode(DLT_LINUX_SLL, &f, &p), MW_DEC_OK);
    assert_int_equal(p.outer.dport, 514);

    /* SLL2: protocol first, 20 bytes in all */
    f.n = 0;
    put16(&f, 0x86dd);
    for (int i = 0; i < 18; i++)
        put(&f, "\0", 1);
    ipv6(&f, 17, 8);
    udp(&f, 123, 123, 8);
    assert_int_equal(decode(276, &f, &p), MW_DEC_OK);
    assert_int_equal(p.outer.ip_version, 6);

    /* raw IPv4 */
    f.n = 0;
    ipv4(&f, 17, 28, 5, 0);
    udp(&f, 161, 1234, 8);
    assert_int_equal(decode(DLT_RAW, &f, &p), MW_DEC_OK);
    assert_int_equal(p.outer.sport, 161);

    /* BSD loopback: AF_INET in network order */
    f.n = 0;
    put32(&f, 2);
    ipv4(&f, 17, 28, 5, 0);
    udp(&f, 1, 2, 8);
    assert_int_equal(decode(DLT_LOOP, &f, &p), MW_DEC_OK);

    /* an unsupported link type is counted, not guessed */
    assert_int_equal(decode(147, &f, &p), MW_DEC_LINKTYPE_UNSUPPORTED);

    /* ARP is not IP */
    f.n = 0;
    eth(&f, 0x0806);
    put32(&f, 0);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_NON_IP);
}

/* GRE carrying IP is a tunnel like IP-in-IP; what it cannot read keeps the tunnel. */
static void test_gre(void **state)
{
    frame_t f = { .n = 0 };
    mw_packet_t p;
    (void)state;
    /* key and sequence present: 12 bytes of GRE, then IPv4/UDP 5000 -> 53 */
    eth(&f, 0x0800);
    ipv4(&f, 47, 20 + 12 + 28, 5, 0);
    put16(&f, 0x3000);
    put16(&f, 0x0800);
    put32(&f, 42);
    put32(&f, 1);
    ipv4(&f, 17, 28, 5, 0);
    udp(&f, 5000, 53, 8);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_true(p.has_ipip);
    assert_int_equal(p.outer.l4_proto, 47);
    assert_int_equal(p.inner.dport, 53);
    assert_int_equal(p.encap, MW_ENCAP_NONE);

    /* enhanced GRE (PPTP): key, sequence, ack; PPP with address/control, protocol 0x0021 */
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 47, 20 + 16 + 4 + 28, 5, 0);
    put16(&f, 0x3081);
    put16(&f, 0x880b);
    put32(&f, 0x00200001);
    put32(&f, 7);
    put32(&f, 6);
    put32(&f, 0xff030021);
    ipv4(&f, 17, 28, 5, 0);
    udp(&f, 1, 2, 8);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_true(p.has_ipip);
    assert_int_equal(p.inner.dport, 2);

    /* ... PPP control (LCP) is the tunnel's alone; version 1 without its key is not read */
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 47, 20 + 8 + 8, 5, 0);
    put16(&f, 0x2001);
    put16(&f, 0x880b);
    put32(&f, 0x00040001);
    put32(&f, 0xff03c021);
    put32(&f, 0);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_false(p.has_ipip);
    assert_int_equal(p.soft_event, 0);
    f.b[14 + 20 + 1] = 0x01; /* flags 0x0001: version 1, no key */
    f.b[14 + 20] = 0;
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_false(p.has_ipip);
    assert_int_equal(p.soft_event, MW_DEC_GRE_UNSUPPORTED);

    /* source routing (RFC 1701) is not walked; a header cut short is counted */
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 47, 20 + 8, 5, 0);
    put16(&f, 0x4000);
    put16(&f, 0x0800);
    put32(&f, 0);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.soft_event, MW_DEC_GRE_UNSUPPORTED);
    f.n = 14 + 20 + 2;
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.soft_event, MW_DEC_GRE_TRUNCATED);
    assert_int_equal(p.outer.l4_proto, 47);
}

/* The carried frame: VLAN 7, IPv4 10.0.0.1 -> 10.0.0.2, TCP 40000 -> 830. */
static void carried(frame_t *f)
{
    eth(f, 0x8100);
    put16(f, 7);
    put16(f, 0x0800);
    ipv4(f, 6, 40, 5, 0);
    tcp(f, 40000, 830, 5, 0x02);
}
#define CARRIED_LEN (14 + 4 + 40)

static void assert_carried(const mw_packet_t *p, uint8_t encap, uint32_t wirelen)
{
    assert_int_equal(p->encap, encap);
    assert_int_equal(p->outer.l4_proto, 6);
    assert_int_equal(p->outer.dport, 830);
    assert_int_equal(p->vlan_count, 1); /* the carried frame's tag, not the delivery's */
    assert_int_equal(p->vlan[0], 7);
    assert_false(mw_packet_has_inner(p));
    assert_int_equal(p->wirelen, wirelen); /* what it was where it was mirrored */
}

/* ERSPAN, Ethernet in GRE, VXLAN and Geneve are stripped: the carried frame is the packet. */
static void test_encapsulations(void **state)
{
    frame_t f = { .n = 0 };
    mw_packet_t p;
    (void)state;
    /* ERSPAN type II in a delivery VLAN: GRE with a sequence number, 8-byte header */
    eth(&f, 0x8100);
    put16(&f, 300);
    put16(&f, 0x0800);
    ipv4(&f, 47, 20 + 8 + 8 + CARRIED_LEN, 5, 0);
    put16(&f, 0x1000);
    put16(&f, 0x88be);
    put32(&f, 1);
    put32(&f, 0x10010865);
    put32(&f, 0);
    carried(&f);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_carried(&p, MW_ENCAP_ERSPAN, CARRIED_LEN);
    /* ... and left on when asked (the reader's view of the delivery) */
    memset(&p, 0, sizeof(p));
    assert_int_equal(
            mw_decode_frame_flags(DLT_EN10MB, f.b, f.n, MW_DECODE_KEEP_ENCAP, &p), MW_DEC_OK);
    assert_int_equal(p.encap, MW_ENCAP_NONE);
    assert_int_equal(p.outer.l4_proto, 47);
    assert_int_equal(p.vlan[0], 300);
    /* ... an unknown ERSPAN version is counted, still as ERSPAN */
    f.b[18 + 20 + 8] = 0x70;
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_GRE_UNSUPPORTED);
    assert_int_equal(p.encap, MW_ENCAP_ERSPAN);
    /* ... cut inside its header */
    f.n = 18 + 20 + 8 + 4;
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_ENCAP_TRUNCATED);
    assert_int_equal(p.encap, MW_ENCAP_ERSPAN);

    /* ERSPAN type III with its platform subheader (O bit) */
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 47, 20 + 8 + 12 + 8 + CARRIED_LEN, 5, 0);
    put16(&f, 0x1000);
    put16(&f, 0x22eb);
    put32(&f, 1);
    put32(&f, 0x20010065);
    put32(&f, 12345);
    put32(&f, 0x00000001);
    put32(&f, 0);
    put32(&f, 0);
    carried(&f);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_carried(&p, MW_ENCAP_ERSPAN, CARRIED_LEN);

    /* ERSPAN type I (no sequence number, no header) and Ethernet in GRE */
    for (uint16_t proto = 0x88be; proto != 0; proto = proto == 0x88be ? 0x6558 : 0) {
        f.n = 0;
        eth(&f, 0x0800);
        ipv4(&f, 47, 20 + 4 + CARRIED_LEN, 5, 0);
        put16(&f, 0);
        put16(&f, proto);
        carried(&f);
        assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
        assert_carried(&p, proto == 0x88be ? MW_ENCAP_ERSPAN : MW_ENCAP_GRE_TEB, CARRIED_LEN);
    }

    /* VXLAN over IPv6; without its I flag it is a UDP flow to 4789 */
    f.n = 0;
    eth(&f, 0x86dd);
    ipv6(&f, 17, 8 + 8 + CARRIED_LEN);
    udp(&f, 40001, 4789, 8 + 8 + CARRIED_LEN);
    put32(&f, 0x08000000);
    put32(&f, 0x00100000);
    carried(&f);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_carried(&p, MW_ENCAP_VXLAN, CARRIED_LEN);
    f.b[14 + 40 + 8] = 0;
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.encap, MW_ENCAP_NONE);
    assert_int_equal(p.outer.dport, 4789);

    /* Geneve with 4 bytes of options carrying Ethernet; then a bare IPv4 packet */
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 17, 20 + 8 + 12 + CARRIED_LEN, 5, 0);
    udp(&f, 40002, 6081, 8 + 12 + CARRIED_LEN);
    put32(&f, 0x01006558);
    put32(&f, 0x00002a00);
    put32(&f, 0x01030100);
    carried(&f);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_carried(&p, MW_ENCAP_GENEVE, CARRIED_LEN);
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 17, 20 + 8 + 8 + 40, 5, 0);
    udp(&f, 40002, 6081, 8 + 8 + 40);
    put32(&f, 0x00000800);
    put32(&f, 0x00002a00);
    ipv4(&f, 6, 40, 5, 0);
    tcp(&f, 40000, 830, 5, 0x02);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.encap, MW_ENCAP_GENEVE);
    assert_int_equal(p.outer.dport, 830);
    assert_int_equal(p.vlan_count, 0);
    assert_int_equal(p.wirelen, 40);

    /* one encapsulation is stripped, not two: VXLAN inside ERSPAN stays a UDP flow */
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 47, 20 + 4 + 14 + 20 + 8 + 8 + CARRIED_LEN, 5, 0);
    put16(&f, 0);
    put16(&f, 0x88be);
    eth(&f, 0x0800);
    ipv4(&f, 17, 20 + 8 + 8 + CARRIED_LEN, 5, 0);
    udp(&f, 40001, 4789, 8 + 8 + CARRIED_LEN);
    put32(&f, 0x08000000);
    put32(&f, 0x00100000);
    carried(&f);
    assert_int_equal(decode(DLT_EN10MB, &f, &p), MW_DEC_OK);
    assert_int_equal(p.encap, MW_ENCAP_ERSPAN);
    assert_int_equal(p.outer.l4_proto, 17);
    assert_int_equal(p.outer.dport, 4789);
}

/* Every prefix of a valid GTP-U frame must decode without reading past it. */
static void test_every_truncation(void **state)
{
    frame_t f = { .n = 0 };
    mw_packet_t p;
    uint8_t copy[2048];
    (void)state;
    eth(&f, 0x8100);
    put16(&f, 10);
    put16(&f, 0x0800);
    ipv4(&f, 17, 20 + 8 + 8 + 4 + 4 + 40, 5, 0);
    udp(&f, 2152, 2152, 8 + 8 + 4 + 4 + 40);
    gtpu(&f, 0x34, 4 + 4 + 40, 7);
    put32(&f, 0x00000085);
    put32(&f, 0x01000900);
    ipv4(&f, 6, 40, 5, 0);
    tcp(&f, 1, 2, 5, 0x02);
    for (uint32_t n = 0; n <= f.n; n++) {
        /* exact-size copy so ASan catches any read past n */
        uint8_t *buf = test_malloc(n ? n : 1);
        memcpy(buf, f.b, n);
        memset(&p, 0, sizeof(p));
        int rc = mw_decode_frame(DLT_EN10MB, buf, n, &p);
        assert_true(rc >= 0 && rc < MW_DEC_COUNT);
        test_free(buf);
    }
    memcpy(copy, f.b, f.n);
    assert_int_equal(mw_decode_frame(DLT_EN10MB, copy, f.n, &p), MW_DEC_OK);
    assert_true(p.has_gtp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eth_ipv4_tcp),
        cmocka_unit_test(test_ipv4_options_and_lies),
        cmocka_unit_test(test_ipv4_fragments),
        cmocka_unit_test(test_udp_tcp_lies),
        cmocka_unit_test(test_vlan_qinq_and_depth),
        cmocka_unit_test(test_mpls),
        cmocka_unit_test(test_ipv6_ext_headers),
        cmocka_unit_test(test_ipv6_v4mapped_is_skipped),
        cmocka_unit_test(test_sctp_ppid),
        cmocka_unit_test(test_gtpu_inner),
        cmocka_unit_test(test_gtpu_extension_headers),
        cmocka_unit_test(test_gtpu_lies_and_gtpc),
        cmocka_unit_test(test_gtpu_inner_fragment),
        cmocka_unit_test(test_ip_in_ip),
        cmocka_unit_test(test_gre),
        cmocka_unit_test(test_encapsulations),
        cmocka_unit_test(test_link_types),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_udp_request_answer),
        cmocka_unit_test(test_ike_initiator),
        cmocka_unit_test(test_snaplen_cut_transport_header),
        cmocka_unit_test(test_icmp_unreachable_joins_the_quoted_flow),
        cmocka_unit_test(test_reset_and_abort_refuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
