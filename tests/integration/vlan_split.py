#!/usr/bin/python3
"""A capture point whose SPAN port or TAP tags each direction with a VLAN of its own.

The test puts each direction of real captures into its own VLAN - the committed incident
day (its base stations' packets in VLAN 101, what reaches them in VLAN 102) and, when
../shared/captures exists, third-party captures (TLS, FTP, IPv6, an EPC attach with S1AP,
GTP-U, PFCP and Diameter; the sender with the lower address in one VLAN, the other in
another) - and checks:

- by default (the VLAN id is part of the flow key) the run says so: one warning naming the
  two VLANs and --no-vlan-tracking, /stats/counters vlan_split_sessions counting the split
  sessions (a lower bound: at least 95 % of the sessions the untagged capture has both ways;
  never more), /meta vlan_tracking 1;
- with --no-vlan-tracking every session is one flow again: /flows equal the untagged
  capture's in every column but the bytes (the tag's 4 bytes a packet) and the VLAN ids,
  at 1 and 2 threads; on the incident day the anomalies are the untagged day's (detector,
  station, peer, opener; its C2 beacon among them); /meta vlan_tracking 0 and no warning;
- a session whose packets pass the capture point in two VLANs both ways (a router on a
  trunk) raises no warning (the hint is for one-way halves only) and its C2 beacon is one
  beacon, as when each direction is in a VLAN of its own and the VLAN id is in the key (two
  records of one session are one start); one direction tagged and the other not is a split
  too.
- as captured, nDPI's syslog.pcap holds a TCP syslog session whose SYN went out in VLAN 1506
  and whose SYN-ACK came back in VLAN 1906: by default two records, one warning and a count
  of 1; with --no-vlan-tracking one record seen both ways, opened by the SYN's sender.

usage: vlan_split.py MASTWATCH REPO_ROOT SHARED_DIR
"""
import ipaddress
import os
import sys
import tempfile

import numpy as np

from mwtest import Failures, analyze_file
from vlan_frames import ether, frames_of, tagged, write

import mw_realattack as ra  # noqa: E402 (scripts/ is on the path via mwtest)

BYTE_COLUMNS = ("bytes", "len_min", "len_mean", "len_max", "len_std")


def analyze(mw, pcap, out, extra=(), model=None):
    r = analyze_file(mw, pcap, out, extra, model)
    return r.flows, r.counters, int(r.attrs["vlan_tracking"]), r.anomalies, r.stderr


def warnings_of(stderr):
    return [ln for ln in stderr.splitlines() if "--no-vlan-tracking" in ln and "warning" in ln]


def same_flows(a, b):
    """Columns of a and b that differ, leaving out bytes and VLAN ids."""
    if len(a) != len(b):
        return [f"{len(a)} records, want {len(b)}"]
    keep = [n for n in b.dtype.names
            if not n.startswith("vlan_") and not any(n.endswith(c) for c in BYTE_COLUMNS)]
    return [n for n in keep if not np.array_equal(a[n], b[n])]


def address(hi, lo):
    a = ipaddress.ip_address(int(hi).to_bytes(8, "big") + int(lo).to_bytes(8, "big"))
    return a.ipv4_mapped or a


def split_sessions(flows, vlan_of):
    """Records a capture tagged by vlan_of turns into two one-way halves: seen both ways,
    their directions put in different VLANs, the first record of their session, not a flow
    inside a tunnel (its tunnel's halves stand for it)."""
    n = 0
    for r in flows:
        if r["c2s_packets"] and r["s2c_packets"] and not r["continued"] and r["kind"] != 2:
            s, d = address(r["src_hi"], r["src_lo"]), address(r["dst_hi"], r["dst_lo"])
            n += vlan_of(s, d) != vlan_of(d, s)
    return n


def by_flow_id(flows):
    return np.sort(flows, order="flow_id")


def check(fails, mw, tmp, name, frames, vlan_of, model=None):
    """Returns the untagged capture's flows (no model)."""
    plain, split = os.path.join(tmp, name + "-plain.pcap"), os.path.join(tmp, name + "-vlan.pcap")
    write(plain, tagged(frames, lambda s, d: ()))
    write(split, tagged(frames, vlan_of))
    untagged = by_flow_id(analyze(mw, plain, plain + ".h5")[0])
    got, counters, tracking, _, err = analyze(mw, split, split + ".h5")
    expected = split_sessions(untagged, vlan_of)
    found = counters.get("vlan_split_sessions", -1)
    fails.check(expected > 0, f"{name}: no session seen both ways: nothing to test")
    fails.check(0.95 * expected <= found <= expected,
                f"{name}: vlan_split_sessions {found}, want {expected} (at least 95 %)")
    print(f"note: {name}: {found} of {expected} split sessions counted")
    warned = warnings_of(err)
    fails.check(len(warned) == 1 and tracking == 1,
                f"{name}: default run: warnings {warned}, vlan_tracking {tracking}")
    fails.check(len(got) > len(untagged), f"{name}: default run: {len(got)} records, untagged "
                f"{len(untagged)}: the split was not seen")
    want, want_anoms = untagged, []
    if model:  # records cut at the model's windows: the untagged capture's with the model
        flows, _, _, want_anoms, _ = analyze(mw, plain, plain + "-model.h5", model=model)
        want = by_flow_id(flows)
        fails.check(any(a["detector"] == "beacon" for a in want_anoms),
                    f"{name}: the untagged capture raises no beacon: nothing to compare")

    def key(a):
        return (a["detector"], a["bs"], a["peer"], a["opened_by"])
    if model:  # by default: two records a session, and still its beacon (one start each)
        halves = analyze(mw, split, split + "-model.h5", model=model)[3]
        lost = sorted(set(map(key, want_anoms)) - set(map(key, halves)))
        print(f"note: {name}: by default the split capture raises {len(halves)} anomalies, the "
              f"untagged {len(want_anoms)}; missing: {lost}")
        fails.check(not [k for k in lost if k[0] == "beacon"],
                    f"{name}: by default the split capture loses its beacon: {lost}")
        def beacons(anoms):
            return sorted((a["bs"], a["peer"], a["host"], a["n_flows"]) for a in anoms
                          if a["detector"] == "beacon")
        fails.check(beacons(halves) == beacons(want_anoms),
                    f"{name}: by default the split capture's beacons {beacons(halves)}, the "
                    f"untagged capture's {beacons(want_anoms)}")
    for threads in ("1", "2"):
        joined, counters, tracking, anoms, err = analyze(
            mw, split, split + f"-nv{threads}.h5", ["--no-vlan-tracking", "-t", threads],
            model=model)
        diff = same_flows(by_flow_id(joined), want)
        fails.check(not diff, f"{name}: --no-vlan-tracking -t {threads}: /flows differ from "
                    f"the untagged capture's in {diff[:6]}")
        fails.check(tracking == 0 and counters.get("vlan_split_sessions") == 0 and
                    not warnings_of(err),
                    f"{name}: --no-vlan-tracking: vlan_tracking {tracking}, counter "
                    f"{counters.get('vlan_split_sessions')}, warnings {warnings_of(err)}")
        fails.check(sorted(map(key, anoms)) == sorted(map(key, want_anoms)),
                    f"{name}: --no-vlan-tracking -t {threads}: anomalies "
                    f"{sorted(set(map(key, anoms)) ^ set(map(key, want_anoms)))[:4]} "
                    f"differ from the untagged capture's")
    return untagged


def main():
    mw, root, shared = sys.argv[1], sys.argv[2], sys.argv[3]
    fails = Failures()
    site = os.path.join(root, "captures", "site.yaml")
    model = (site, os.path.join(root, "models", "demo-site.h5"))
    inv = ra.inventory(site)
    stations = {ipaddress.ip_address(a) for addrs in inv["stations"].values() for a in addrs}
    with tempfile.TemporaryDirectory() as tmp:
        day = frames_of(os.path.join(root, "captures", "incident-day.pcap"))
        def uplink(s, d):
            return (101,) if s in stations else (102,)
        want = check(fails, mw, tmp, "incident-day", day, uplink, model=model)

        # one direction tagged, the other not: still two VLAN ids (0 and 101)
        half = os.path.join(tmp, "half.pcap")
        write(half, tagged(day, lambda s, d: (101,) if s in stations else ()))
        _, counters, _, _, err = analyze(mw, half, half + ".h5")
        fails.check(counters["vlan_split_sessions"] >= 0.95 * split_sessions(want, uplink) and
                    len(warnings_of(err)) == 1,
                    f"one direction untagged: counter {counters['vlan_split_sessions']}, "
                    f"warnings {warnings_of(err)}")

        # a router on a trunk: every packet in VLAN 10 and again in VLAN 20, both ways
        trunk = os.path.join(tmp, "trunk.pcap")
        both = []
        for ts, et, net in day:
            both += [(ts, ether(et, net, (10,))), (ts + 1000, ether(et, net, (20,)))]
        write(trunk, both)
        flows, counters, _, anoms, err = analyze(mw, trunk, trunk + ".h5", model=model)
        fails.check(counters["vlan_split_sessions"] == 0 and not warnings_of(err),
                    f"routed through two VLANs: counter {counters['vlan_split_sessions']}, "
                    f"warnings {warnings_of(err)}")
        fails.check(sum(a["detector"] == "beacon" for a in anoms) == 1,
                    f"routed through two VLANs (each session twice): beacons "
                    f"{[a['explanation'] for a in anoms if a['detector'] == 'beacon']}")

        caps = os.path.join(shared, "captures")
        if not os.path.isdir(caps):
            print(f"note: {caps} is absent: third-party captures not checked")
        else:
            def by_order(s, d):
                return (201,) if s < d else (202,)
            for rel in ("ndpi/443-curl.pcap", "ndpi/ftp.pcap", "ndpi/http_ipv6.pcap",
                        "open5gs/testattach.pcapng"):
                check(fails, mw, tmp, os.path.basename(rel), frames_of(os.path.join(caps, rel)),
                      by_order)
            # as captured: nDPI's syslog.pcap has a TCP syslog session whose SYN went out
            # in VLAN 1506 and whose SYN-ACK came back in VLAN 1906
            syslog = os.path.join(caps, "ndpi", "syslog.pcap")
            for extra, want in (((), 2), (("--no-vlan-tracking",), 1)):
                flows, counters, _, _, err = analyze(mw, syslog, os.path.join(tmp, "s.h5"), extra)
                sess = flows[(flows["src_port"] == 49948) | (flows["dst_port"] == 49948)]
                both = [int(r["c2s_packets"] > 0) + int(r["s2c_packets"] > 0) for r in sess]
                fails.check(len(sess) == want and (want == 2 or (both == [2] and
                            sess[0]["src_port"] == 49948 and sess[0]["orient"] == 1)),
                            f"syslog.pcap {extra}: the VLAN 1506/1906 session is {len(sess)} "
                            f"records (want {want}), ways {both}")
                fails.check((len(warnings_of(err)) == 1) == (want == 2) and
                            counters["vlan_split_sessions"] == (1 if want == 2 else 0),
                            f"syslog.pcap {extra}: warnings {warnings_of(err)}, counter "
                            f"{counters['vlan_split_sessions']}")
    return fails.finish("a capture that tags each direction with its own VLAN: the run says "
                        "so, and --no-vlan-tracking makes each session one flow")


if __name__ == "__main__":
    sys.exit(main())
