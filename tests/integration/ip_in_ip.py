#!/usr/bin/python3
"""IP-in-IP (protocol 4/41) keeps its outer header: each capture yields a tunnel record
for the outer endpoints (kind 1, l4_proto 41, label IP_in_IP) with tshark's frame and
byte counts, and every flow inside it is linked to it by tunnel_flow_id (odd flow id,
inner IP bytes, inner addresses).

usage: ip_in_ip.py MASTWATCH SHARED_DIR
"""
import sys
import tempfile

from mwtest import Failures, present, run, shared_captures, whole_flows

CAPTURES = ["ndpi/6in4tunnel.pcap", "zeek/tunnels/6in4.pcap"]


def tshark_outer(path):
    """(src, dst) of the outer IPv4 header -> [frames, frame bytes, inner IPv6 bytes]."""
    r = run(["tshark", "-n", "-r", path, "-Y", "ip.proto == 41", "-T", "fields",
             "-E", "occurrence=f", "-e", "ip.src", "-e", "ip.dst", "-e", "frame.len",
             "-e", "ip.len", "-e", "ip.hdr_len"])
    out = {}
    for line in r.stdout.splitlines():
        src, dst, flen, iplen, hlen = line.split("\t")
        side = out.setdefault((src, dst), [0, 0, 0])
        side[0] += 1
        side[1] += int(flen)
        side[2] += int(iplen) - int(hlen)
    return out


def main():
    mastwatch, caps = sys.argv[1], shared_captures(sys.argv[2])
    fails = Failures()
    checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        for rel, path in present(caps, CAPTURES):
            df, r = whole_flows(mastwatch, path, tmp)
            fails.check(r.returncode == 0, f"{rel}: exit {r.returncode} {r.stderr}")
            want = tshark_outer(path)
            tun = df[df.kind == 1]
            fails.check(len(tun) == 1, f"{rel}: {len(tun)} tunnel records, want 1")
            if len(tun) != 1:
                continue
            t = tun.iloc[0]
            fails.check(int(t.l4_proto) == 41 and t.protocol == "IP_in_IP",
                        f"{rel}: tunnel l4_proto {t.l4_proto} label {t.protocol}")
            got = {(t.src, t.dst): [int(t.c2s_packets), int(t.c2s_bytes)],
                   (t.dst, t.src): [int(t.s2c_packets), int(t.s2c_bytes)]}
            for pair, (frames, nbytes, _) in want.items():
                fails.check(got.get(pair) == [frames, nbytes],
                            f"{rel}: tunnel {pair}: tshark {frames}/{nbytes}, "
                            f"mastwatch {got.get(pair)}")
            inner = df[df.kind != 1]
            fails.check(len(inner) > 0, f"{rel}: no flow inside the tunnel")
            fails.check((inner.tunnel_flow_id == t.flow_id).all(),
                        f"{rel}: flows not linked to tunnel {t.flow_id}: "
                        f"{list(inner.tunnel_flow_id)}")
            fails.check((inner.kind == 0).all() and (inner.flow_id % 2 == 1).all()
                        and (inner.ip_version == 6).all(),
                        f"{rel}: inner kinds {set(inner.kind)}, ids {list(inner.flow_id)}")
            inner_pkts = int(inner.c2s_packets.sum() + inner.s2c_packets.sum())
            inner_bytes = int(inner.c2s_bytes.sum() + inner.s2c_bytes.sum())
            frames = sum(v[0] for v in want.values())
            fails.check(inner_pkts == frames and
                        inner_bytes == sum(v[2] for v in want.values()),
                        f"{rel}: inner flows {inner_pkts} packets/{inner_bytes} B, tshark "
                        f"{frames}/{sum(v[2] for v in want.values())} (IPv6 in the tunnel)")
            checked += 1
    fails.check(checked > 0, "no IP-in-IP capture found")
    return fails.finish(f"{checked} IP-in-IP captures: tunnel records and links agree with tshark")


if __name__ == "__main__":
    sys.exit(main())
