#!/usr/bin/python3
"""mastwatch extract and capture --pcap-ring.

Offline: analyze the incident day, then for several anomalies (TCP, UDP, and
GTP-U inner flows) `extract --anomaly` must give exactly the frames tshark's
display filter finds for the same 5-tuples (inner ones inside GTP-U) in the
same window (span +-1 s): timestamps and bytes; `extract --flow` gives the
record's c2s+s2c packets; --from/--to with --filter. Ring (root only, else
that part is skipped): a live capture on lo with a 1 MB ring rotates and
deletes, the total stays under the size, every file reads in capinfos
(also the one being written), and `extract --ring --flow` gives the flow's
packets. Bad input: one line and the right exit status.

usage: extract.py MASTWATCH PROJECT_DIR
"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import h5py

from mwtest import SKIP, Failures, run

MARGIN_US = 1_000_000


def read_pcap(path):
    """[(ts_us, bytes)] of a classic pcap file (micro or nanosecond, either byte order)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        e = "<"
    else:
        e = ">"
        magic = struct.unpack(">I", data[:4])[0]
    nano = magic == 0xA1B23C4D
    out, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(e + "IIII", data[off:off + 16])
        us = sec * 1_000_000 + (frac // 1000 if nano else frac)
        out.append((us, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return out


def addr(hi, lo):
    b = int(hi).to_bytes(8, "big") + int(lo).to_bytes(8, "big")
    if b[:12] == b"\0" * 10 + b"\xff\xff":
        return socket.inet_ntop(socket.AF_INET, b[12:])
    return socket.inet_ntop(socket.AF_INET6, b)


def tuple_filter(rec, layer):
    """Display filter for one flow record, both directions, on IP layer `layer` (1 outer, 2 inner)."""
    proto = {6: "tcp", 17: "udp", 132: "sctp"}[int(rec["l4_proto"])]
    v = "ip" if int(rec["ip_version"]) == 4 else "ipv6"
    a, b = addr(rec["src_hi"], rec["src_lo"]), addr(rec["dst_hi"], rec["dst_lo"])
    pa, pb = int(rec["src_port"]), int(rec["dst_port"])
    lay = f"#{layer}"
    one = (f"({v}.src{lay}=={a} && {v}.dst{lay}=={b} && {proto}.srcport=={pa} && "
           f"{proto}.dstport=={pb})")
    two = (f"({v}.src{lay}=={b} && {v}.dst{lay}=={a} && {proto}.srcport=={pb} && "
           f"{proto}.dstport=={pa})")
    return f"({one} || {two})" + (" && gtp" if layer == 2 else " && !gtp")


def tshark_frames(pcap, dfilter, lo, hi):
    """Frame numbers (1-based) tshark's filter selects, within [lo, hi] microseconds."""
    p = run(["tshark", "-n", "-r", pcap, "-o", "ip.defragment:FALSE", "-Y", dfilter, "-T",
             "fields", "-e", "frame.number", "-e", "frame.time_epoch"])
    assert p.returncode == 0, p.stderr
    frames = []
    for line in p.stdout.split("\n"):
        if not line.strip():
            continue
        num, t = line.split("\t")
        s, _, frac = t.partition(".")
        us = int(s) * 1_000_000 + int((frac + "000000")[:6])
        if lo <= us <= hi:
            frames.append(int(num))
    return frames


def one_line_error(fails, p, code, what):
    lines = [x for x in p.stderr.split("\n") if x.strip()]
    fails.check(p.returncode == code and len(lines) == 1,
                f"{what}: exit {p.returncode} (want {code}), stderr {p.stderr!r}")


def offline(mw, proj, tmp, fails):
    pcap = os.path.join(proj, "captures", "incident-day.pcap")
    res = os.path.join(tmp, "run.h5")
    p = run([mw, "analyze", "-q", "--inventory", os.path.join(proj, "captures", "site.yaml"),
             "--model", os.path.join(proj, "models", "demo-site.h5"), "-o", res, pcap])
    if p.returncode != 0:
        fails.check(False, f"analyze: {p.stderr}")
        return
    with h5py.File(res, "r") as f:
        anomalies = f["anomalies"][:]
        links = f["anomaly_flows"][:]
        flows = f["flows"][:]
    by_id = {int(r["flow_id"]): r for r in flows}
    source = read_pcap(pcap)
    kinds = {"tcp": 0, "udp": 0, "inner": 0}
    checked, done = 0, set()
    for a in anomalies:
        aid = int(a["anomaly_id"])
        recs = [by_id[int(l["flow_id"])] for l in links if int(l["anomaly_id"]) == aid]
        if not recs or any(int(r["l4_proto"]) not in (6, 17, 132) for r in recs):
            continue
        ids = frozenset(int(r["flow_id"]) for r in recs)
        if ids in done:
            continue  # another detector on the same flows
        done.add(ids)
        inner = int(a["inner"]) == 1
        key = "inner" if inner else {6: "tcp", 17: "udp"}.get(int(a["l4_proto"]), "other")
        if kinds.get(key, 9) >= 2:
            continue  # two of each kind
        kinds[key] = kinds.get(key, 0) + 1
        lo, hi = int(a["start_us"]) - MARGIN_US, int(a["end_us"]) + MARGIN_US
        dfilter = " || ".join(
            "(" + tuple_filter(r, 2 if int(r["kind"]) == 2 else 1) + ")" for r in recs)
        want = [source[n - 1] for n in tshark_frames(pcap, dfilter, lo, hi)]
        out = os.path.join(tmp, f"anomaly{aid}.pcap")
        # sources from the results file (absolute path: it exists)
        p = run([mw, "extract", "--results", res, "--anomaly", str(aid), "-o", out])
        if p.returncode != 0:
            fails.check(False, f"extract --anomaly {aid}: {p.stderr.strip()}")
            continue
        got = read_pcap(out)
        fails.check(got == want, f"anomaly {aid} ({key}, {len(recs)} flows): extract gave "
                    f"{len(got)} frames, tshark {len(want)} (or bytes/times differ)")
        fails.check(f"extracted {len(got)} packets" in p.stdout and "wireshark -r" in p.stdout,
                    f"anomaly {aid}: summary line {p.stdout!r}")
        print(f"anomaly {aid:3d} {key:5s} flows {len(recs):3d}: {len(got)} packets = tshark")
        checked += 1
        # --flow of its first linked flow: the record's packet count
        r = recs[0]
        out = os.path.join(tmp, f"flow{aid}.pcap")
        p = run([mw, "extract", "--results", res, "--flow", str(int(r["flow_id"])), "-o", out,
                 pcap])
        n = int(r["c2s_packets"]) + int(r["s2c_packets"])
        got = read_pcap(out) if p.returncode == 0 else []
        fails.check(len(got) == n, f"--flow {int(r['flow_id'])}: {len(got)} packets, record "
                    f"has {n} ({p.stderr.strip()})")
    fails.check(checked >= 5 and kinds["tcp"] and kinds["udp"] and kinds["inner"],
                f"anomalies checked: {checked} {kinds}")
    # a time range with a BPF filter
    t0 = source[100][0]
    out = os.path.join(tmp, "range.pcap")
    p = run([mw, "extract", "--from", "%d.%06d" % divmod(t0, 1_000_000), "--to",
             "%d.%06d" % divmod(t0 + 600_000_000, 1_000_000), "--filter", "udp", "-o", out,
             pcap])
    want = [x for n, x in enumerate(source)
            if t0 <= x[0] <= t0 + 600_000_000 and n + 1 in set(
                tshark_frames(pcap, "udp", t0, t0 + 600_000_000))]
    got = read_pcap(out) if p.returncode == 0 else []
    fails.check(p.returncode == 0 and got == want,
                f"--from/--to --filter udp: {len(got)} vs tshark {len(want)} {p.stderr.strip()}")
    # bad input
    one_line_error(fails, run([mw, "extract", "--results", res, "--anomaly", "999", "-o",
                               os.path.join(tmp, "no.pcap")]), 1, "unknown anomaly")
    one_line_error(fails, run([mw, "extract", "--results", os.path.join(tmp, "none.h5"),
                               "--anomaly", "1", "-o", os.path.join(tmp, "no.pcap")]), 1,
                   "missing results")
    one_line_error(fails, run([mw, "extract", "--results", res, "--anomaly", "1", "-o",
                               os.path.join(tmp, "anomaly1.pcap")]) if os.path.exists(
        os.path.join(tmp, "anomaly1.pcap")) else run([mw, "extract", "-o", pcap, "--results",
                                                       res, "--anomaly", "1"]), 1,
                   "output exists")
    p = run([mw, "extract", "--results", res, "--anomaly", "1", "--force", "-o", pcap + ".no"])
    fails.check(p.returncode == 0, f"--force to a new file: {p.stderr}")
    if os.path.exists(pcap + ".no"):
        os.unlink(pcap + ".no")
    one_line_error(fails, run([mw, "extract", "--results", res, "--anomaly", "1"]), 2, "no -o")
    one_line_error(fails, run([mw, "extract", "--results", res, "--anomaly", "1", "--flow", "2",
                               "-o", os.path.join(tmp, "no.pcap")]), 2, "two selections")
    # sources missing: a run over a copy that is gone
    copy = os.path.join(tmp, "gone.pcap")
    shutil.copy(pcap, copy)
    res2 = os.path.join(tmp, "gone.h5")
    run([mw, "analyze", "-q", "-o", res2, copy])
    os.unlink(copy)
    one_line_error(fails, run([mw, "extract", "--results", res2, "--flow", "2", "-o",
                               os.path.join(tmp, "no.pcap")]), 1, "sources missing")
    fails.check(not os.path.exists(os.path.join(tmp, "no.pcap")), "a failed extract left a file")
    # corrupt ring file
    ring = os.path.join(tmp, "badring")
    os.mkdir(ring)
    with open(os.path.join(ring, "ring-20260101-000000.pcap"), "wb") as f:
        f.write(b"this is not a pcap file at all, just text" * 3)
    one_line_error(fails, run([mw, "extract", "--ring", ring, "--from", "0", "--to",
                               "2000000000", "-o", os.path.join(tmp, "no.pcap")]), 1,
                   "corrupt ring file")


def ring_size(d):
    total = 0
    for n in os.listdir(d):
        try:
            total += os.path.getsize(os.path.join(d, n)) if n.startswith("ring-") else 0
        except FileNotFoundError:
            pass  # deleted by the ring meanwhile
    return total


def live(mw, tmp, fails):
    if os.geteuid() != 0:
        print("ring part skipped: needs root")
        return SKIP
    ring = os.path.join(tmp, "ring")
    res = os.path.join(tmp, "live.h5")
    size = 1 << 20
    cap = subprocess.Popen([mw, "capture", "-i", "lo", "-f", "udp and port 45002", "--no-progress",
                            "-d", "30", "--pcap-ring", ring, "--pcap-ring-size", "1M", "-o",
                            res], stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 45002))
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    seen, peak = set(), 0
    payload = b"r" * 1000
    for i in range(4000):  # ~4.2 MB on the wire through a 1 MB ring
        tx.sendto(payload, ("127.0.0.1", 45002))
        if i % 100 == 0:
            time.sleep(0.01)
            if os.path.isdir(ring):
                seen |= set(os.listdir(ring))
                peak = max(peak, ring_size(ring))
    marker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    marker.bind(("127.0.0.1", 45001))
    for i in range(50):
        marker.sendto(b"marker %d" % i, ("127.0.0.1", 45002))
    time.sleep(2.5)  # flushed at least every second
    files = sorted(os.listdir(ring))
    newest = max((os.path.join(ring, n) for n in files), key=os.path.getmtime)
    p = run(["capinfos", "-c", newest])
    fails.check(p.returncode == 0, f"capinfos on the file being written: {p.stderr}")
    cap.send_signal(signal.SIGTERM)
    _, err = cap.communicate(timeout=60)
    fails.check(cap.returncode == 0, f"capture exit {cap.returncode}: {err}")
    files = sorted(os.listdir(ring))
    seen |= set(files)
    total = ring_size(ring)
    print(f"ring: {len(seen)} files written, {len(files)} kept, {total} bytes (peak seen {peak})")
    fails.check(len(seen) > len(files) >= 2, f"no rotation/deletion: {len(seen)} seen, {files}")
    fails.check(total <= size and peak <= size, f"ring over its size: {total}, peak {peak}")
    for n in files:
        p = run(["capinfos", "-c", os.path.join(ring, n)])
        fails.check(p.returncode == 0, f"capinfos {n}: {p.stderr.strip()}")
    with h5py.File(res, "r") as f:
        flows = f["flows"][:]
        counters = {c["name"].decode(): int(c["value"]) for c in f["stats/counters"][:]}
    fails.check(counters.get("pcap_ring_dropped") == 0, f"pcap_ring_dropped {counters}")
    mk = [r for r in flows if 45001 in (int(r["src_port"]), int(r["dst_port"]))]
    fails.check(len(mk) == 1, f"marker flow records: {len(mk)}")
    if mk:
        r = mk[0]
        out = os.path.join(tmp, "ringflow.pcap")
        p = run([mw, "extract", "--results", res, "--flow", str(int(r["flow_id"])), "--ring",
                 ring, "-o", out])
        got = read_pcap(out) if p.returncode == 0 else []
        n = int(r["c2s_packets"]) + int(r["s2c_packets"])
        fails.check(len(got) == n == 50 and all(b"marker" in x[1] for x in got),
                    f"extract --ring --flow: {len(got)} packets, record {n}: {p.stderr.strip()}")
        print(f"ring flow {int(r['flow_id'])}: {len(got)} packets extracted, record has {n}")
        p = run([mw, "extract", "--results", res, "--flow", str(int(r["flow_id"])), "-o",
                 os.path.join(tmp, "no2.pcap")])
        one_line_error(fails, p, 1, "live results without --ring")
    return 0


def main():
    mw, proj = os.path.abspath(sys.argv[1]), sys.argv[2]
    if shutil.which("tshark") is None or shutil.which("capinfos") is None:
        print("SKIP: needs tshark and capinfos")
        return SKIP
    fails = Failures()
    tmp = tempfile.mkdtemp()
    try:
        offline(mw, proj, tmp, fails)
        live(mw, tmp, fails)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return fails.finish("extract: all checks passed")


if __name__ == "__main__":
    sys.exit(main())
