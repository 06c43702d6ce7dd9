#!/usr/bin/python3
"""Packet and byte counts per conversation and direction agree with tshark's
(frames and frame bytes each endpoint sent) on a sample of the shared captures.

usage: tshark_counts.py MASTWATCH SHARED_DIR
"""
import ipaddress
import os
import sys
import tempfile
from collections import defaultdict

from mwtest import Failures, run, shared_captures, whole_flows

SAMPLE = ["ndpi/ssh.pcap", "ndpi/snmp.pcap", "ndpi/diameter.pcap", "ndpi/http_ipv6.pcap",
          "ndpi/ftp.pcap", "ndpi/telnet.pcap", "ndpi/dns_long_domainname.pcap",
          "zeek/ntp/NTPv4.pcap", "zeek/ntp/NTP-digest.pcap", "ndpi/tftp.pcap"]


def norm(a):
    return str(ipaddress.ip_address(a.strip("[]")))


def tshark_convs(path):
    """Per conversation and sender: (frames, frame bytes), from tshark's own dissection.

    tshark's -z conv table rounds bytes to kB above 10000, so the same numbers are
    summed here from its per-frame fields (first, i.e. outermost, IP/port fields)."""
    fields = ["frame.len", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport",
              "tcp.dstport", "udp.srcport", "udp.dstport", "ip.flags.mf", "ip.frag_offset"]
    r = run(["tshark", "-n", "-r", path, "-T", "fields", "-E", "occurrence=f"]
            + [x for f in fields for x in ("-e", f)])
    convs = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for line in r.stdout.splitlines():
        v = line.split("\t")
        if len(v) < len(fields):
            continue
        src, dst = (v[1], v[2]) if v[1] else (v[3], v[4])
        if v[5]:
            proto, sport, dport = 6, v[5], v[6]
        elif v[7]:
            proto, sport, dport = 17, v[7], v[8]
        else:
            continue
        if v[10] not in ("", "0"):
            continue  # later IPv4 fragment: no ports of its own
        a, b = (norm(src), int(sport)), (norm(dst), int(dport))
        side = convs[(proto, frozenset([a, b]))][a]
        side[0] += 1
        side[1] += int(v[0])
    return convs


def our_convs(mastwatch, path, tmp):
    df, r = whole_flows(mastwatch, path, tmp)
    assert r.returncode == 0, r.stderr
    df = df[(df.kind == 0) & df.l4_proto.isin([6, 17])]
    convs = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for x in df.itertuples():
        key = (int(x.l4_proto), frozenset([(x.src, int(x.src_port)), (x.dst, int(x.dst_port))]))
        convs[key][(x.src, int(x.src_port))][0] += int(x.c2s_packets)
        convs[key][(x.src, int(x.src_port))][1] += int(x.c2s_bytes)
        convs[key][(x.dst, int(x.dst_port))][0] += int(x.s2c_packets)
        convs[key][(x.dst, int(x.dst_port))][1] += int(x.s2c_bytes)
    return convs


def main():
    mastwatch, caps = sys.argv[1], shared_captures(sys.argv[2])
    fails = Failures()
    compared = 0
    with tempfile.TemporaryDirectory() as tmp:
        for rel in SAMPLE:
            path = os.path.join(caps, rel)
            if not os.path.exists(path):
                continue
            want, got = tshark_convs(path), our_convs(mastwatch, path, tmp)
            fails.check(len(want) > 0, f"{rel}: tshark found no conversations")
            for key, sides in want.items():
                compared += 1
                ours = got.get(key)
                fails.check(ours is not None, f"{rel}: conversation {sorted(key[1])} missing")
                if ours is None:
                    continue
                # sender -> (frames, bytes): tshark gives what each endpoint SENT
                for ep, (frames, nbytes) in list(sides.items()):
                    mine = tuple(ours.get(ep, [0, 0]))
                    fails.check(mine == (frames, nbytes),
                                f"{rel}: {sorted(key[1])} from {ep}: tshark {frames} frames/"
                                f"{nbytes} B, mastwatch {mine[0]}/{mine[1]}")
            fails.check(len(got) == len(want),
                        f"{rel}: {len(got)} TCP/UDP conversations, tshark {len(want)}")
    return fails.finish(f"{compared} conversations in {len(SAMPLE)} captures: packets and bytes "
                        "per direction equal tshark's")


if __name__ == "__main__":
    sys.exit(main())
