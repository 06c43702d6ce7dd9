#!/usr/bin/python3
"""A live capture whose interface goes away (issue 12), on a veth pair the
test creates: set down for 3 s, then deleted and created again. The capture
says so on stderr each time, keeps its flows, opens the interface again and
goes on: every packet sent while the link was there is in the results, the
counters say how often and how long it was lost, and (with a model) a
capture_health anomaly reports each gap. Under -Z the interface cannot be
opened again: one clear line, exit 1, the results so far complete.
Needs root and the right to create links; exits 77 (skip) otherwise.

usage: interface_loss.py MASTWATCH PROJECT_DIR
"""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import h5py

from mwtest import SKIP, Failures

A, B = "mwtlossa", "mwtlossb"


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True)


def make_veth():
    sh(f"ip link del {A}")
    r = sh(f"ip link add {A} type veth peer name {B} && ip link set {A} up && ip link set {B} up")
    return r.returncode == 0


def frame(i):
    payload = b"loss %d" % i
    udp = struct.pack("!HHHH", 30000 + (i // 50) * 10 + i % 5, 5514, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                     bytes([10, 10, 1, 11]), bytes([198, 51, 100, 9])) + udp
    return b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01\x08\x00" + ip


def send(first, n):
    # only once both ends carry (a veth drops what is sent before its carrier is up)
    for _ in range(50):
        if open(f"/sys/class/net/{A}/operstate").read().strip() == "up":
            break
        time.sleep(0.1)
    time.sleep(0.5)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((B, 0))
    for i in range(first, first + n):
        s.send(frame(i))
        time.sleep(0.01)
    s.close()


def start(mw, args):
    proc = subprocess.Popen([mw, "capture", "-i", A, "--status", "1"] + args,
                            stderr=subprocess.PIPE, text=True)
    lines = []
    t = threading.Thread(target=lambda: lines.extend(proc.stderr))
    t.start()
    return proc, lines, t


def ours(path):
    with h5py.File(path, "r") as f:
        fl = f["flows"][:]
        sel = fl[(fl["dst_port"] == 5514) | (fl["src_port"] == 5514)]
        counters = {bytes(n).rstrip(b"\0").decode(): int(v) for n, v in f["stats/counters"][:]}
        per = {}
        for r in sel:
            per[(int(r["src_port"]) - 30000) // 10] = per.get((int(r["src_port"]) - 30000) // 10, 0) + int(r["c2s_packets"] + r["s2c_packets"])
        print(f"{os.path.basename(path)}: packets per phase {per}")
        return int((sel["c2s_packets"] + sel["s2c_packets"]).sum()), counters


def main():
    mw, root = sys.argv[1], sys.argv[2]
    if os.geteuid() != 0 or not make_veth():
        print("SKIP: needs root and the right to create a veth pair")
        return SKIP
    fails = Failures()
    tmp = tempfile.mkdtemp()
    out, feed = os.path.join(tmp, "v.h5"), os.path.join(tmp, "feed.jsonl")
    site = ["--inventory", os.path.join(root, "captures", "site.yaml"),
            "--model", os.path.join(root, "models", "demo-site.h5"), "--anomalies", feed]
    try:
        proc, lines, t = start(mw, site + ["-o", out])
        time.sleep(1.0)
        send(0, 50)
        sh(f"ip link set {A} down")
        time.sleep(3)
        sh(f"ip link set {A} up")
        time.sleep(2.5)
        send(50, 50)
        sh(f"ip link del {A}")
        time.sleep(3)
        make_veth()
        time.sleep(4)
        send(100, 50)
        time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        t.join()
        err = "".join(lines)
        fails.check(proc.returncode == 0, f"exit {proc.returncode}: {err[-400:]!r}")
        for want in ("the link is down", "the link is up again", "the capture was lost",
                     "capturing again", "CAPTURE DOWN"):
            fails.check(want in err, f"stderr lacks {want!r}")
        n, c = ours(out)
        fails.check(n == 150, f"{n} of the 150 packets sent while the link was there; "
                    f"kernel {c.get('kernel_received')} received, {c.get('kernel_dropped')} dropped")
        fails.check(c.get("capture_losses") == 2 and c.get("capture_lost_s", 0) >= 5,
                    f"counters: losses {c.get('capture_losses')}, {c.get('capture_lost_s')} s")
        health = [json.loads(x) for x in open(feed)] if os.path.exists(feed) else []
        gaps = [x for x in health if x.get("detector") == "capture_health" and
                "down or gone" in x.get("explanation", "")]
        # both gaps within half an hour: one capture_health incident (open, then final)
        fails.check(len(gaps) >= 1 and all(x["severity"] == "high" for x in gaps),
                    f"capture_health gap anomalies: {gaps[:1]}")

        # -Z: no privileges left to open it again: one line, exit 1, results complete
        make_veth()
        out2 = os.path.join(tmp, "z.h5")
        os.chmod(tmp, 0o777)
        proc, lines, t = start(mw, ["-Z", "nobody", "-o", out2])
        time.sleep(1.0)
        send(0, 20)
        sh(f"ip link del {A}")
        time.sleep(1)
        make_veth()
        proc.wait(timeout=30)
        t.join()
        err = "".join(lines)
        last = [ln for ln in err.splitlines() if "cannot open the interface again" in ln]
        fails.check(proc.returncode == 1 and len(last) == 1, f"-Z: exit {proc.returncode} "
                                                              f"{err[-300:]!r}")
        if os.path.exists(out2):
            n, _ = ours(out2)
            fails.check(n == 20, f"-Z: {n} of 20 packets in the results")
        else:
            fails.check(False, "-Z: no results file")
    finally:
        sh(f"ip link del {A}")
    return fails.finish("down, deleted and back: reported, reopened, nothing lost")


if __name__ == "__main__":
    sys.exit(main())
