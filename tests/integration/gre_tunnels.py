#!/usr/bin/python3
"""GRE carrying IP is a tunnel, as IP-in-IP is: on real GRE captures (plain GRE, PPTP's
enhanced GRE carrying PPP, Cisco MetaData, GRE within GRE, keepalives) each outer endpoint
pair is one tunnel record (kind 1, l4_proto 47, label GRE) with tshark's frame and byte
counts per direction, and the IP packets GRE carries are flows linked to it
(tunnel_flow_id, odd flow_id) whose packets and IP bytes per host pair are tshark's
count of the second IP header.

usage: gre_tunnels.py MASTWATCH SHARED_DIR
"""
import sys
import tempfile
from collections import Counter

from mwtest import Failures, present, run, shared_captures, whole_flows

CAPTURES = ["zeek/tunnels/gre-sample.pcap", "zeek/tunnels/gre-within-gre.pcap",
            "pcapplusplus/GrePackets.cap", "tcpdump/various_gre.pcap", "ndpi/gre.pcapng"]


def tshark(path):
    """(outer (src, dst) -> [frames, bytes]), (inner {src, dst} -> [packets, IP bytes])."""
    r = run(["tshark", "-n", "-r", path, "-T", "fields", "-E", "occurrence=a",
             "-E", "aggregator=,", "-e", "ip.proto", "-e", "ip.src", "-e", "ip.dst",
             "-e", "ip.len", "-e", "frame.len"])
    outer, inner = {}, {}
    for line in r.stdout.splitlines():
        protos, srcs, dsts, lens, flen = line.split("\t")
        if not protos:
            continue
        protos, srcs, dsts, lens = (x.split(",") for x in (protos, srcs, dsts, lens))
        if protos[0] != "47":
            continue
        o = outer.setdefault((srcs[0], dsts[0]), [0, 0])
        o[0] += 1
        o[1] += int(flen)
        if len(srcs) > 1:  # the IP packet GRE carries (ICMP quoting adds no third here)
            i = inner.setdefault(frozenset((srcs[1], dsts[1])), [0, 0])
            i[0] += 1
            i[1] += int(lens[1])
    return outer, inner


def main():
    mastwatch, caps = sys.argv[1], shared_captures(sys.argv[2])
    fails = Failures()
    checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        for rel, path in present(caps, CAPTURES):
            df, r = whole_flows(mastwatch, path, tmp)
            fails.check(r.returncode == 0, f"{rel}: exit {r.returncode} {r.stderr}")
            want_outer, want_inner = tshark(path)
            tun = df[(df.kind == 1) & (df.l4_proto == 47)]
            fails.check(len(tun) == len({frozenset(k) for k in want_outer}),
                        f"{rel}: {len(tun)} GRE tunnel records, tshark {len(want_outer)} pairs")
            got_outer = {}
            for t in tun.itertuples():
                fails.check(t.protocol == "GRE", f"{rel}: tunnel label {t.protocol}")
                got_outer[(t.src, t.dst)] = [int(t.c2s_packets), int(t.c2s_bytes)]
                got_outer[(t.dst, t.src)] = [int(t.s2c_packets), int(t.s2c_bytes)]
            for pair, counts in want_outer.items():
                fails.check(got_outer.get(pair) == counts,
                            f"{rel}: tunnel {pair}: tshark {counts}, mastwatch "
                            f"{got_outer.get(pair)}")
            inner = df[df.tunnel_flow_id != 0]
            fails.check(inner.tunnel_flow_id.isin(set(tun.flow_id)).all() and
                        (inner.flow_id % 2 == 1).all() and (inner.kind == 0).all(),
                        f"{rel}: carried flows not linked to the GRE tunnels: "
                        f"{list(zip(inner.flow_id, inner.tunnel_flow_id))}")
            got_inner = Counter()
            for f in inner.itertuples():
                key = frozenset((f.src, f.dst))
                got_inner[(key, 0)] += int(f.c2s_packets + f.s2c_packets)
                got_inner[(key, 1)] += int(f.c2s_bytes + f.s2c_bytes)
            want = Counter()
            for key, (pkts, nbytes) in want_inner.items():
                want[(key, 0)] += pkts
                want[(key, 1)] += nbytes
            fails.check(got_inner == want,
                        f"{rel}: carried flows {dict(got_inner)}, tshark {dict(want)}")
            checked += 1
    fails.check(checked > 0, "no GRE capture found")
    return fails.finish(f"{checked} GRE captures: tunnel records and carried flows agree with "
                        f"tshark")


if __name__ == "__main__":
    sys.exit(main())
