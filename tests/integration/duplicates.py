#!/usr/bin/python3
"""Copies of packets: a SPAN port that mirrors both sides of a link (or a port's ingress and
egress) shows each packet twice, and every flow counts it twice.

- The committed incident day with every packet twice (the copy 20 us later, and as a router
  forwarded it: other MACs, TTL one less, its checksum redone): duplicate_packets counts every
  copy, the run warns once naming --dedup, and without --dedup each flow counts twice; with
  --dedup /flows and the anomalies equal the day's own, at 1 and 2 threads and with the
  file read by 2 range readers. A copy 3 ms late (outside the 2 ms window) is no copy; the
  day itself has none.
- Real captures (when ../shared/captures exists: nDPI's ftp-start-tls.pcap, where every
  server packet was captured twice, with TTL 63 and 61; and others with copies) give the
  count an independent reading of the same IP packets gives (whole packet, TTL and IPv4
  checksum left out, within 2 ms).

usage: duplicates.py MASTWATCH REPO_ROOT SHARED_DIR
"""
import hashlib
import os
import struct
import sys
import tempfile

import numpy as np

from mwtest import Failures, analyze_file
from vlan_frames import frames_of

import mw_realattack as ra  # noqa: E402 (scripts/ is on the path via mwtest)

WINDOW_NS = 2_000_000
# records in an order that does not depend on frame numbers (the copies take some)
ORDER = ("first_us", "kind", "src_hi", "src_lo", "dst_hi", "dst_lo", "src_port", "dst_port",
         "l4_proto", "last_us")
IDS = ("flow_id", "tunnel_flow_id", "last_tunnel_flow_id")
REAL = ["ndpi/ftp-start-tls.pcap", "ndpi/reddit.pcap", "ndpi/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap",
        "ndpi/psiphon3.pcap", "pcapplusplus/ip4_fragments.pcap", "open5gs/5g-roaming-lbo.pcapng"]
MACS = [bytes.fromhex("020000000001") + bytes.fromhex("020000000002"),
        bytes.fromhex("020000000003") + bytes.fromhex("020000000004")]


def checksum(b):
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def forwarded(et, net):
    """The packet as the next router sends it: TTL / hop limit one less, checksum redone."""
    b = bytearray(net)
    if et == 0x0800 and len(b) >= 20:
        ihl = (b[0] & 0x0f) * 4
        b[8] = max(b[8] - 1, 0)
        b[10:12] = b"\0\0"
        b[10:12] = struct.pack("!H", checksum(bytes(b[:ihl])))
    elif et == 0x86DD and len(b) >= 40:
        b[7] = max(b[7] - 1, 0)
    return bytes(b)


def write(path, frames):
    ra.write_pcap(path, [(ts, d, len(d)) for ts, d in frames])


def copies(frames):
    """The copies an independent reading finds: the whole IP packet, TTL / hop limit and
    IPv4 header checksum zeroed, seen within the window before."""
    last, n = {}, 0
    for ts, et, net in frames:
        b = bytearray(net)
        if et == 0x0800 and len(b) >= 20:
            b[8] = 0
            b[10:12] = b"\0\0"
        elif et == 0x86DD and len(b) >= 40:
            b[7] = 0
        k = hashlib.sha256(bytes(b)).digest()
        if k in last and 0 <= ts - last[k] <= WINDOW_NS:
            n += 1
        else:
            last[k] = ts
    return n


def analyze(mw, pcap, out, extra=(), model=None):
    r = analyze_file(mw, pcap, out, extra, model)
    return (np.sort(r.flows, order=list(ORDER)), r.counters, int(r.attrs["dedup"]), r.anomalies,
            r.stderr)


def warnings_of(stderr):
    return [ln for ln in stderr.splitlines() if "--dedup" in ln]


def main():
    mw, root, shared = sys.argv[1], sys.argv[2], sys.argv[3]
    fails = Failures()
    model = (os.path.join(root, "captures", "site.yaml"),
             os.path.join(root, "models", "demo-site.h5"))

    def key(a):  # its frame numbers and flow ids count the copies
        return (a["detector"], a["bs"], a["peer"], a["opened_by"], a["explanation"],
                a["bytes_up"], a["bytes_down"], a["start_us"], a["end_us"])
    with tempfile.TemporaryDirectory() as tmp:
        day = frames_of(os.path.join(root, "captures", "incident-day.pcap"))
        own = os.path.join(tmp, "day.pcap")
        write(own, [(ts, MACS[0] + struct.pack("!H", et) + net) for ts, et, net in day])
        plain, counters, _, _, err = analyze(mw, own, own + "-plain.h5")
        fails.check(counters["duplicate_packets"] == 0 and not warnings_of(err),
                    f"the day itself: {counters['duplicate_packets']} copies, {err!r}")
        want, _, _, want_anoms, _ = analyze(mw, own, own + ".h5", model=model)
        twice = os.path.join(tmp, "twice.pcap")
        frames = []
        for ts, et, net in day:
            frames += [(ts, MACS[0] + struct.pack("!H", et) + net),
                       (ts + 20_000, MACS[1] + struct.pack("!H", et) + forwarded(et, net))]
        write(twice, frames)
        got, counters, dedup, _, err = analyze(mw, twice, twice + ".h5")
        fails.check(counters["duplicate_packets"] == len(day) and len(warnings_of(err)) == 1 and
                    dedup == 0, f"each packet twice: {counters['duplicate_packets']} copies of "
                    f"{len(day)}, warnings {warnings_of(err)}, dedup {dedup}")
        fails.check(len(got) == len(plain) and
                    np.array_equal(got["c2s_packets"], 2 * plain["c2s_packets"]),
                    "each packet twice, without --dedup: flows do not count each packet twice")
        for extra in (("-t", "1"), ("-t", "2"), ("-t", "1", "--readers", "2")):
            got, counters, dedup, anoms, err = analyze(
                mw, twice, twice + "-d.h5", ("--dedup", *extra), model=model)
            same = len(got) == len(want) and all(
                np.array_equal(got[n], want[n]) for n in want.dtype.names if n not in IDS)
            fails.check(same and dedup == 1 and counters["duplicate_packets"] == len(day) and
                        not warnings_of(err), f"--dedup {extra}: /flows differ from the day's, "
                        f"or dedup {dedup}, copies {counters['duplicate_packets']}, {err!r}")
            fails.check(sorted(map(key, anoms)) == sorted(map(key, want_anoms)),
                        f"--dedup {extra}: anomalies differ from the day's")
        late = os.path.join(tmp, "late.pcap")
        write(late, [(ts + d, MACS[0] + struct.pack("!H", et) + net)
                     for ts, et, net in day[:2000] for d in (0, 3_000_000)])
        _, counters, _, _, _ = analyze(mw, late, late + ".h5")
        fails.check(counters["duplicate_packets"] == 0,
                    f"copies 3 ms late: {counters['duplicate_packets']} counted")

        caps = os.path.join(shared, "captures")
        if not os.path.isdir(caps):
            print(f"note: {caps} is absent: third-party captures not checked")
        else:
            for rel in REAL:
                path = os.path.join(caps, rel)
                want_n = copies(frames_of(path))
                _, counters, _, _, _ = analyze(mw, path, os.path.join(tmp, "r.h5"))
                fails.check(counters["duplicate_packets"] == want_n,
                            f"{rel}: {counters['duplicate_packets']} copies counted, an "
                            f"independent reading finds {want_n}")
                print(f"note: {rel}: {want_n} copies")
    return fails.finish("copies of packets are counted, said and, with --dedup, dropped")


if __name__ == "__main__":
    sys.exit(main())
