#!/usr/bin/python3
"""The flows and their labels do not depend on --threads: the same inputs
analysed with 1, 2 and 3 workers give the same set of records (ids, tunnel
links, endpoints, counters, nDPI labels, planes), only in another order. The
workers' nDPI modules share the first one's tables: every run checks that
dissecting left them as built (MW_CHECK_TABLES: the run aborts otherwise).

usage: threads_identical.py MASTWATCH SHARED_DIR
"""
import glob
import os
import sys
import tempfile

from mwtest import Failures, mw_flows, run, shared_captures

COLUMNS = ["flow_id", "tunnel_flow_id", "last_tunnel_flow_id", "tunnels", "kind", "first_us", "last_us", "src_hi", "src_lo",
           "dst_hi", "dst_lo", "src_port", "dst_port", "l4_proto", "vlan_outer", "teid_c2s",
           "teid_s2c", "c2s_packets", "c2s_bytes", "s2c_packets", "s2c_bytes", "c2s_tcp_flags",
           "master_proto", "app_proto", "category", "risk", "host", "end_reason", "plane",
           "service"]


def flows(mastwatch, inputs, threads, tmp):
    out = os.path.join(tmp, f"t{threads}.h5")
    r = run([mastwatch, "analyze", "-q", "-t", str(threads), "--idle-timeout", "30", "-o", out]
            + inputs, timeout=600, env=dict(os.environ, MW_CHECK_TABLES="1"))
    assert r.returncode == 0, r.stderr
    df = mw_flows.load(out, raw=True)
    return sorted(tuple(row) for row in df[COLUMNS].itertuples(index=False))


def main():
    mastwatch, caps = sys.argv[1], shared_captures(sys.argv[2])
    inputs = sorted(glob.glob(os.path.join(caps, "open5gs", "*.pcap*")))
    inputs += sorted(glob.glob(os.path.join(caps, "zeek", "tunnels", "gtp", "*.pcap")))
    inputs += [os.path.join(caps, "ndpi", n) for n in ("gtp.pcap", "ipv6_in_gtp.pcap",
                                                        "ssh.pcap", "snmp.pcap", "syslog.pcap",
                                                        "dns_fragmented.pcap", "6in4tunnel.pcap")]
    inputs += [os.path.join(caps, "pcapplusplus", n) for n in ("ip4_fragments.pcap",
                                                               "ip6_fragments.pcap")]
    inputs = [p for p in inputs if os.path.exists(p)]
    fails = Failures()
    with tempfile.TemporaryDirectory() as tmp:
        base = flows(mastwatch, inputs, 1, tmp)
        fails.check(len(base) > 500, f"too few flows to compare: {len(base)}")
        fails.check(any(r[COLUMNS.index("kind")] == 2 for r in base), "no inner GTP-U flows in the inputs")
        for n in (2, 3):
            other = flows(mastwatch, inputs, n, tmp)
            diff = set(base) ^ set(other)
            fails.check(other == base, f"--threads {n}: {len(diff)} records differ, e.g. "
                        f"{sorted(diff)[:2]}")
    return fails.finish(f"{len(base)} flow records from {len(inputs)} captures identical "
                        "with 1, 2 and 3 threads")


if __name__ == "__main__":
    sys.exit(main())
