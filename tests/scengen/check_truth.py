#!/usr/bin/python3
"""check_truth.py - test (c): the ground truth matches the packets.

For every flow of every anomaly in TRUTH, re-derive from the pcap (tshark -T fields)
the frames of that 5-tuple (the inner tuple for GTP-U flows, whose outer tunnel
endpoints must match too) and compare the frame count and the first/last stamps.
Also checks that each anomaly's flows start inside its configured window, that
every injection type in the scenario produced flows, and (with --expect-empty)
that a clean capture has an empty truth list.
usage: check_truth.py PCAP TRUTH [--expect-empty] [--types T1,T2,...]
"""
import json
import subprocess
import sys
from collections import defaultdict

FIELDS = ["frame.time_epoch", "ip.src", "ip.dst", "ip.proto", "tcp.srcport", "tcp.dstport",
          "udp.srcport", "udp.dstport", "sctp.srcport", "sctp.dstport"]


def frames(pcap):
    cmd = ["tshark", "-r", pcap, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
           "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    index = defaultdict(list)
    for line in out.splitlines():
        v = line.split("\t")
        t = v[0]
        srcs, dsts, protos = v[1].split(","), v[2].split(","), v[3].split(",")
        # ports of the innermost transport header: the protocol of the last IP header
        col = {"6": 4, "17": 6, "132": 8}.get(protos[-1])
        if col is None or not v[col]:
            continue
        sp, dp = v[col].split(","), v[col + 1].split(",")
        # innermost IP header and innermost L4 ports (last occurrences)
        key = (protos[-1], srcs[-1], int(sp[-1]), dsts[-1], int(dp[-1]))
        outer = (srcs[0], dsts[0]) if len(srcs) > 1 else None
        index[key].append((t, outer))
    return index


def main():
    pcap, truth_path = sys.argv[1], sys.argv[2]
    expect_empty = "--expect-empty" in sys.argv
    types = []
    if "--types" in sys.argv:
        types = sys.argv[sys.argv.index("--types") + 1].split(",")
    truth = json.load(open(truth_path))
    if not isinstance(truth, list):
        print("FAIL truth is not a JSON list")
        return 1
    if expect_empty:
        print(f"{truth_path}: {len(truth)} anomalies (expected 0)")
        return 0 if not truth else 1
    index = frames(pcap)
    pnum = {"tcp": "6", "udp": "17", "sctp": "132"}
    errors, nflows = [], 0
    for a in truth:
        for k in ("id", "type", "base_station", "start", "end", "start_iso", "end_iso", "flows"):
            if k not in a:
                errors.append(f"anomaly {a.get('id')}: missing key {k}")
        if not a["flows"]:
            errors.append(f"anomaly {a['id']} {a['type']}: no flows")
        for f in a["flows"]:
            nflows += 1
            fwd = (pnum[f["proto"]], f["src"], f["sport"], f["dst"], f["dport"])
            rev = (pnum[f["proto"]], f["dst"], f["dport"], f["src"], f["sport"])
            pk = index.get(fwd, []) + index.get(rev, [])
            if "tunnel" in f:
                ends = {f["tunnel"]["ran_ip"], f["tunnel"]["core_ip"]}
                pk = [p for p in pk if p[1] is not None and set(p[1]) == ends]
            else:
                pk = [p for p in pk if p[1] is None]
            times = sorted(float(p[0]) for p in pk)
            tag = f"anomaly {a['id']} {a['type']} {fwd}"
            if len(times) != f["packets"]:
                errors.append(f"{tag}: {len(times)} frames in pcap, truth says {f['packets']}")
                continue
            if abs(times[0] - f["first"]) > 2e-6 or abs(times[-1] - f["last"]) > 2e-6:
                errors.append(f"{tag}: span {times[0]:.6f}-{times[-1]:.6f} in pcap, truth "
                              f"{f['first']:.6f}-{f['last']:.6f}")
            if not (a["start"] <= f["first"] <= a["end"]):
                errors.append(f"{tag}: first frame {f['first']} outside window "
                              f"{a['start']}-{a['end']}")
    got = {a["type"] for a in truth}
    for t in types:
        if t not in got:
            errors.append(f"injection type {t} missing from truth")
    for e in errors[:30]:
        print("FAIL", e)
    print(f"{truth_path}: {len(truth)} anomalies, {nflows} flows checked, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
