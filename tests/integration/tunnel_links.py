#!/usr/bin/python3
"""A flow carried by more than one tunnel shows it: `tunnels` is the number of distinct
tunnel flows (outer 5-tuples) that carried the record's packets, `tunnel_flow_id` the
first and `last_tunnel_flow_id` the last of them to join. Checked against tshark on
captures where one flow crosses two tunnels: GTP-U uplink and downlink on different
outer ports (zeek gtp2, open5gs testepc) and one IPv6 flow on two 6in4 legs (nDPI syslog).

usage: tunnel_links.py MASTWATCH SHARED_DIR
"""
import sys
import tempfile
from collections import defaultdict

from mwtest import Failures, present, run, shared_captures, whole_flows

CAPTURES = ["zeek/tunnels/gtp/gtp2_different_udp_port.pcap", "open5gs/testepc.pcapng",
            "ndpi/syslog.pcap"]
FIELDS = ["ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "udp.srcport", "udp.dstport",
          "tcp.srcport", "tcp.dstport", "ip.proto", "ipv6.nxt", "gtp.message"]


def tshark_carriers(path):
    """inner flow -> set of tunnels (outer 5-tuples) that carried it, from tshark."""
    r = run(["tshark", "-n", "-r", path, "-Y", "(gtp.message == 255 && ip) || ip.proto == 41",
             "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,"]
            + [x for f in FIELDS for x in ("-e", f)])
    carried = defaultdict(set)
    for line in r.stdout.splitlines():
        v = dict(zip(FIELDS, [x.split(",") if x else [] for x in line.split("\t")]))
        osrc, odst = v["ip.src"][0], v["ip.dst"][0]
        if v["gtp.message"]:  # outer IPv4/UDP, inner is the next IP header
            tunnel = (17, frozenset([(osrc, v["udp.srcport"][0]), (odst, v["udp.dstport"][0])]))
            if len(v["ip.src"]) > 1:
                isrc, idst, proto = v["ip.src"][1], v["ip.dst"][1], v["ip.proto"][1]
            else:
                isrc, idst, proto = v["ipv6.src"][0], v["ipv6.dst"][0], v["ipv6.nxt"][-1]
            ports = v["udp.srcport"][1:] + v["udp.dstport"][1:] + v["tcp.srcport"][:1] + \
                v["tcp.dstport"][:1]
            ctx = frozenset([osrc, odst])  # GTP-U inner flows are keyed by tunnel endpoints
        else:  # 6in4
            tunnel = (41, frozenset([(osrc, "0"), (odst, "0")]))
            isrc, idst, proto = v["ipv6.src"][0], v["ipv6.dst"][0], v["ipv6.nxt"][-1]
            ports = v["udp.srcport"][:1] + v["udp.dstport"][:1] + v["tcp.srcport"][:1] + \
                v["tcp.dstport"][:1]
            ctx = None
        sport, dport = (ports[0], ports[1]) if len(ports) >= 2 else ("0", "0")
        inner = (int(proto), frozenset([(isrc, sport), (idst, dport)]), ctx)
        carried[inner].add(tunnel)
    return carried


def main():
    mastwatch, caps = sys.argv[1], shared_captures(sys.argv[2])
    fails = Failures()
    crossing = checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        for rel, path in present(caps, CAPTURES):
            df, r = whole_flows(mastwatch, path, tmp)
            fails.check(r.returncode == 0, f"{rel}: exit {r.returncode} {r.stderr}")
            tunnels = {int(t.flow_id): (int(t.l4_proto), frozenset(
                [(t.src, str(int(t.src_port))), (t.dst, str(int(t.dst_port)))]))
                for t in df[df.kind == 1].itertuples()}
            want = tshark_carriers(path)
            for x in df[df.tunnel_flow_id != 0].itertuples():
                first, last = int(x.tunnel_flow_id), int(x.last_tunnel_flow_id)
                ctx = None if x.kind != 2 else frozenset(a for a, _ in tunnels[first][1])
                key = (int(x.l4_proto), frozenset([(x.src, str(int(x.src_port))),
                                                    (x.dst, str(int(x.dst_port)))]), ctx)
                expect = want.get(key, set())
                named = {tunnels.get(first), tunnels.get(last)}
                checked += 1
                fails.check(int(x.tunnels) == len(expect) and named <= expect and
                            len(named) == min(2, len(expect)),
                            f"{rel}: flow {x.flow_id}: tunnels {x.tunnels} first {first} last "
                            f"{last}; tshark: carried by {len(expect)} tunnels {sorted(expect)}")
                crossing += int(x.tunnels) > 1
    fails.check(checked > 0, "no carried flow found")
    fails.check(crossing >= 1, "no flow crossing two tunnels")
    return fails.finish(f"{checked} carried flows, {crossing} crossing two tunnels: counts and "
                        "links agree with tshark")


if __name__ == "__main__":
    sys.exit(main())
