#!/usr/bin/python3
"""Compare mastwatch with nDPI's own reader (same nDPI) on the shared captures.

For every capture whose ndpiReader 4.2 output (-v 2, GTP decapsulated) is in
../shared/captures/expected/ndpi42-v2t, run `mastwatch analyze` and compare,
per capture, the flows (protocol + unordered endpoint pair) and the label of
each flow. Every disagreement must be listed, with its reason, in
ndpireader_known_differences.tsv; a disagreement not listed there, or a
listed one that no longer happens, fails the test (so the list stays true).

usage: compare_ndpireader.py MASTWATCH SHARED_DIR [--write-list]
Exit 77 (ctest SKIP) when SHARED_DIR is absent.
"""
import csv
import ipaddress
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
import mw_flows  # noqa: E402

LINE = re.compile(r"^\t\d+\t(\S+) (\S+) (<->|->) (\S+) .*?\[proto: ([^\]]+)\]")
# ndpiReader names these; other protocols it prints as numbers
L4 = {6: "TCP", 17: "UDP", 1: "ICMP", 58: "ICMPV6", 2: "IGMP", 112: "VRRP"}
HERE = os.path.dirname(os.path.abspath(__file__))
KNOWN = os.path.join(HERE, "ndpireader_known_differences.tsv")


def split_endpoint(ep):
    if ep.startswith("["):
        addr, port = ep[1:].rsplit("]:", 1)
    else:
        addr, port = ep.rsplit(":", 1)
    try:  # glibc and Python shorten IPv6 differently ("::" for one zero group)
        addr = str(ipaddress.ip_address(addr))
    except ValueError:
        pass
    return addr, int(port)


def expected_flows(path):
    flows = {}
    with open(path, errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            proto, a, _, b, label = m.groups()
            label = label.split("/", 1)[1] if "/" in label else label
            key = (proto, frozenset([split_endpoint(a), split_endpoint(b)]))
            flows.setdefault(key, Counter())[label] += 1
    return flows


def our_flows(h5):
    df = mw_flows.load(h5)
    # ndpiReader replaces a GTP-U or IP-in-IP packet by its inner packet, so a tunnel
    # shows up there only when none of its packets carried one (echo, end marker).
    carriers = set(df.tunnel_flow_id[df.tunnel_flow_id != 0]) | set(
        df.last_tunnel_flow_id[df.last_tunnel_flow_id != 0])
    df = df[(df.kind != 1) | ~df.flow_id.isin(carriers)]
    flows = {}
    for r in df.itertuples():
        proto = L4.get(int(r.l4_proto), str(int(r.l4_proto)))
        sport, dport = int(r.src_port), int(r.dst_port)
        if r.l4_proto == 132:
            # nDPI 4.2's reader does not parse SCTP ports: it keys SCTP on addresses
            # alone. mastwatch keeps one flow per association (S1AP per eNB port), so
            # fold them the same way before comparing.
            sport = dport = 0
        key = (proto, frozenset([(r.src, sport), (r.dst, dport)]))
        labels = flows.setdefault(key, Counter())
        if r.l4_proto == 132 and labels:
            continue
        labels[r.protocol] += 1
    return flows


def fmt(key):
    proto, eps = key
    return f"{proto} {' '.join(sorted(f'{a}:{p}' for a, p in eps))}"


def labels(counter):
    return ",".join(f"{k}x{v}" if v > 1 else k for k, v in sorted(counter.items()))


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    mastwatch, shared = sys.argv[1], sys.argv[2]
    caps = os.path.join(shared, "captures")
    if not os.path.isdir(caps):
        print(f"SKIP: {caps} absent")
        return 77
    rows = list(csv.DictReader(open(os.path.join(caps, "NDPI42_STATUS.tsv")), delimiter="\t"))
    found = {}
    compared = agreed_flows = total_flows = 0
    with tempfile.TemporaryDirectory() as tmp:
        for row in rows:
            rel = row["relpath"]
            exp = os.path.join(caps, "expected", "ndpi42-v2t", rel.replace("/", "__") + ".out")
            if row["ndpi42_v2t_status"] != "ok" or not os.path.exists(exp):
                continue
            out = os.path.join(tmp, "o.h5")
            # ndpiReader never splits a flow on time in offline runs: neither do we here
            r = subprocess.run([mastwatch, "analyze", "-q", "--idle-timeout", "86400",
                                "--active-timeout", "604800", "-o", out, os.path.join(caps, rel)],
                               capture_output=True, text=True)
            if not os.path.exists(out):
                found[(rel, "run", r.stderr.strip().splitlines()[-1] if r.stderr else "")] = 1
                continue
            compared += 1
            want, got = expected_flows(exp), our_flows(out)
            os.unlink(out)
            total_flows += sum(sum(c.values()) for c in want.values())
            for key in set(want) | set(got):
                w, g = want.get(key, Counter()), got.get(key, Counter())
                agreed_flows += sum((w & g).values())
                if w == g:
                    continue
                if not g:
                    side = "ndpiReader-only"
                elif not w:
                    side = "mastwatch-only"
                else:
                    side = "label-or-count"
                found[(rel, side, f"{fmt(key)} ndpiReader={labels(w)} mastwatch={labels(g)}")] = 1

    if "--write-list" in sys.argv:
        old = {}
        if os.path.exists(KNOWN):
            for r in csv.reader(open(KNOWN), delimiter="\t"):
                if r and not r[0].startswith("#") and len(r) >= 4:
                    old[(r[0], r[1], r[2])] = r[3]
        with open(KNOWN, "w") as f:
            f.write("# capture\tside\tflow (proto endpoints label)\treason\n")
            for k in sorted(found):
                f.write("\t".join(k) + "\t" + old.get(k, "TODO") + "\n")
        print(f"wrote {len(found)} rows to {KNOWN}")
        return 0

    known = {}
    for r in csv.reader(open(KNOWN), delimiter="\t"):
        if r and not r[0].startswith("#"):
            known[(r[0], r[1], r[2])] = r[3] if len(r) > 3 else ""
    unexplained = [k for k in found if k not in known or known[k] in ("", "TODO")]
    stale = [k for k in known if k not in found]
    print(f"{compared} captures compared, {agreed_flows}/{total_flows} ndpiReader flows matched "
          f"exactly (endpoints + label), {len(found)} explained differences")
    for k in sorted(unexplained)[:50]:
        print("UNEXPLAINED", *k, sep="\t")
    for k in sorted(stale)[:50]:
        print("NO LONGER HAPPENS (remove from the list)", *k, sep="\t")
    return 1 if unexplained or stale else 0


if __name__ == "__main__":
    sys.exit(main())
