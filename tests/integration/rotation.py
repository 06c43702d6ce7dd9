#!/usr/bin/python3
"""capture -G (issue 12): over ~10 s with -G 2 a live capture on lo yields
6-7 results files named by the -o strftime pattern whose flows and packets
sum to those of a one-file capture of the same traffic; each finished one is
complete and readable at once (while the capture runs on); no flow is in
two files and every flow the test sent is in one; counters are the run's
totals up to each file's end (non-decreasing), the last has them all.
Needs root; exits 77 (skip) otherwise.

usage: rotation.py MASTWATCH
"""
import glob
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

import h5py

from mwtest import SKIP, Failures, run


def counters(f):
    return {bytes(n).rstrip(b"\0").decode(): int(v) for n, v in f["stats/counters"][:]}


def main():
    mw = sys.argv[1]
    if os.geteuid() != 0:
        print("SKIP: needs root for a live capture on lo")
        return SKIP
    fails = Failures()
    tmp = tempfile.mkdtemp()
    pattern = os.path.join(tmp, "live-%Y%m%d-%H%M%S.h5")
    r = run([mw, "capture", "-i", "lo", "-G", "2", "-o", os.path.join(tmp, "plain.h5")])
    fails.check(r.returncode == 2 and "strftime" in r.stderr, f"-G without a pattern: {r.stderr!r}")

    proc = subprocess.Popen([mw, "capture", "-i", "lo", "-q", "-G", "2", "--idle-timeout", "1",
                             "-f", "udp and port 45999", "-o", pattern], stderr=subprocess.PIPE,
                            text=True)
    # the same traffic into one file, for the sum
    single = os.path.join(tmp, "single.h5")
    one = subprocess.Popen([mw, "capture", "-i", "lo", "-q", "--idle-timeout", "1",
                            "-f", "udp and port 45999", "-o", single], stderr=subprocess.PIPE,
                           text=True)
    time.sleep(1.0)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    sent_ports = set()
    seen_complete_while_running = False
    t0 = time.time()
    i = 0
    while time.time() - t0 < 10.0:
        # a new source port every 0.5 s: short flows that end (idle 1 s) in every period
        sp = 40000 + int((time.time() - t0) * 2)
        if sp not in sent_ports:
            s.close()
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", sp))
            sent_ports.add(sp)
        s.sendto(b"rotation %d" % i, ("127.0.0.1", 45999))
        i += 1
        time.sleep(0.02)
        if not seen_complete_while_running and time.time() - t0 > 6:
            done = [p for p in glob.glob(os.path.join(tmp, "live-*.h5"))]
            for p in done:
                try:
                    with h5py.File(p, "r") as f:
                        seen_complete_while_running |= bool(f.attrs["complete"] == 1)
                except OSError:
                    pass
    time.sleep(2.0)  # the last flows end (idle 1 s)
    proc.send_signal(signal.SIGTERM)
    one.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    one.communicate(timeout=60)
    fails.check(proc.returncode == 0, f"capture -G: exit {proc.returncode} {err[-300:]!r}")
    fails.check(seen_complete_while_running, "no finished file was complete while it ran")
    files = sorted(glob.glob(os.path.join(tmp, "live-*.h5")))
    fails.check(all(re.search(r"live-\d{8}-\d{6}\.h5$", p) for p in files), f"names: {files}")
    fails.check(not glob.glob(os.path.join(tmp, "*.partial")), "a .partial was left")
    fails.check(6 <= len(files) <= 7, f"{len(files)} files in ~12 s with -G 2")
    ids, ports, prev_packets = {}, set(), -1
    for k, p in enumerate(files):
        with h5py.File(p, "r") as f:
            last = k == len(files) - 1
            fails.check(f.attrs["complete"] == (0 if last else 1),
                        f"{os.path.basename(p)}: complete={f.attrs['complete']}")
            fl = f["flows"][:]
            for fid in fl["flow_id"]:
                fails.check(fid not in ids, f"flow {fid} in {ids.get(fid)} and {p}")
                ids[fid] = p
            ports |= set(int(x) for x in fl["src_port"]) | set(int(x) for x in fl["dst_port"])
            c = counters(f)
            fails.check(c["packets"] >= prev_packets, f"{p}: counters went back")
            prev_packets = c["packets"]
    fails.check(sent_ports <= ports, f"ports sent but in no file: {sorted(sent_ports - ports)}")
    fails.check(prev_packets >= i, f"the last file counts {prev_packets} packets, {i} were sent")
    per_file = [len(h5py.File(p, "r")["flows"]) for p in files]
    with h5py.File(single, "r") as f:
        n_single = len(f["flows"])
        single_pkts = int((f["flows"]["c2s_packets"] + f["flows"]["s2c_packets"]).sum())
    rot_pkts = 0
    for p in files:
        with h5py.File(p, "r") as f:
            rot_pkts += int((f["flows"]["c2s_packets"] + f["flows"]["s2c_packets"]).sum())
    fails.check(sum(per_file) == n_single and rot_pkts == single_pkts,
                f"rotated files: {sum(per_file)} flows / {rot_pkts} packets, the one-file run "
                f"{n_single} / {single_pkts}")
    fails.check(sum(1 for n in per_file if n > 0) >= 4, f"flows per file {per_file}")
    print(f"{len(files)} files, flows per file {per_file}, {len(ids)} flows, {i} packets sent")
    return fails.finish("-G: files complete at once, every flow once, counters in order")


if __name__ == "__main__":
    sys.exit(main())
