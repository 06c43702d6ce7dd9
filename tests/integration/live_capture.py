#!/usr/bin/python3
"""Live capture for real: `mastwatch capture -i lo` while tcpreplay sends a
known capture onto the loopback interface. Checks the flows written, that
-Z dropped root (process uid and file owner), that SIGTERM leaves a complete
HDF5 file with exit 0 - also with 100 packets still waiting in the kernel ring (the
process stopped with SIGSTOP while they were sent: they are read before the run ends) -
and that -c stops the capture by itself.
Needs root and tcpreplay; exits 77 (skip) otherwise.

usage: live_capture.py MASTWATCH
"""
import json
import os
import pwd
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

from bad_input import PCAP_HEADER, record
import h5py

from mwtest import SKIP, Failures, check_h5, finish, mw_flows, run

SRC, DST = bytes([10, 99, 0, 1]), bytes([10, 99, 0, 2])


def frame(i):
    payload = b"live %d" % i
    udp = struct.pack("!HHHH", 20000 + i % 25, 5514, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0, SRC, DST) + udp
    return b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08\x00" + ip


def tcp_frame(i, flags):
    """10.10.1.11 (enb-001 in captures/site.yaml) -> 203.0.113.200:443, a peer no model knows."""
    payload = b"x" * 40 if flags & 0x08 else b""
    tcp = struct.pack("!HHIIBBHHH", 40001, 443, 1000 + i * 40, 0, 5 << 4, flags, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), i, 0, 64, 6, 0,
                     bytes([10, 10, 1, 11]), bytes([203, 0, 113, 200]))
    return b"\x00" * 12 + b"\x08\x00" + ip + tcp + payload


def uid_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return -1


def main():
    mw = sys.argv[1]
    if os.geteuid() != 0 or shutil.which("tcpreplay") is None:
        print("SKIP: needs root and tcpreplay")
        return SKIP
    fails = Failures()
    tmp = tempfile.mkdtemp()
    os.chmod(tmp, 0o777)
    pcap = os.path.join(tmp, "send.pcap")
    with open(pcap, "wb") as f:
        f.write(PCAP_HEADER)
        for i in range(100):
            f.write(record(i, frame(i)))
    out = os.path.join(tmp, "live.h5")
    flt = "udp and host 10.99.0.1 and host 10.99.0.2"

    proc = subprocess.Popen([mw, "capture", "-i", "lo", "-f", flt, "-Z", "nobody", "-o", out,
                             "--no-progress"], stderr=subprocess.PIPE, text=True)
    nobody = pwd.getpwnam("nobody").pw_uid
    deadline = time.time() + 10
    while time.time() < deadline and uid_of(proc.pid) != nobody:
        time.sleep(0.05)
    fails.check(uid_of(proc.pid) == nobody, "-Z nobody: the process still runs as root")
    time.sleep(0.3)
    r = run(["tcpreplay", "-i", "lo", "--pps", "500", pcap])
    fails.check(r.returncode == 0, f"tcpreplay failed: {r.stderr}")
    time.sleep(1.0)
    err = finish(proc, signal.SIGTERM)
    fails.check(proc.returncode == 0, f"SIGTERM: exit {proc.returncode}: {err}")
    fails.check(os.path.exists(out) and not os.path.exists(out + ".partial"),
                "SIGTERM: output not renamed into place")
    if os.path.exists(out):
        fails.check(os.stat(out).st_uid == nobody, "output not written by the dropped user")
        attrs = check_h5(out)
        df = mw_flows.load(out)
        c = mw_flows.counters(out)
        fails.check(attrs["command"] == "capture" and attrs["stop_signal"] == signal.SIGTERM,
                    f"attributes: {attrs}")
        fails.check(len(df) == 25 and int(df.c2s_packets.sum()) == 100,
                    f"expected 25 flows / 100 packets, got {len(df)} / {df.c2s_packets.sum()}")
        fails.check(set(df.src) == {"10.99.0.1"} and set(df.dst_port) == {5514},
                    "flow endpoints wrong")
        fails.check(c["kernel_received"] >= 100, f"pcap_stats not reported: {c}")
        fails.check("kernel" in err and "dropped" in err, f"no drop report in summary: {err}")

    # -c: stops by itself after N packets
    out2 = os.path.join(tmp, "count.h5")
    proc = subprocess.Popen([mw, "capture", "-q", "-i", "lo", "-f", flt, "-c", "30", "-o", out2],
                            stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    run(["tcpreplay", "-i", "lo", "--pps", "500", pcap])
    finish(proc)
    fails.check(proc.returncode == 0, f"-c 30: exit {proc.returncode}")
    if os.path.exists(out2):
        fails.check(mw_flows.counters(out2)["packets"] == 30, "-c 30 did not stop at 30 packets")
    else:
        fails.check(False, "-c 30: no output")
    # a stop while packets wait in the kernel ring (the run stopped behind them): read first
    out4 = os.path.join(tmp, "drain.h5")
    proc = subprocess.Popen([mw, "capture", "-q", "-i", "lo", "-f", flt, "-o", out4],
                            stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGSTOP)
    run(["tcpreplay", "-i", "lo", "--pps", "500", pcap])
    time.sleep(1.5)  # the kernel retires the ring's blocks
    os.kill(proc.pid, signal.SIGTERM)
    os.kill(proc.pid, signal.SIGCONT)
    err = finish(proc)
    fails.check(proc.returncode == 0 and os.path.exists(out4) and
                mw_flows.counters(out4)["packets"] == 100,
                f"SIGTERM with 100 packets waiting in the ring: exit {proc.returncode}, "
                f"{mw_flows.counters(out4)['packets'] if os.path.exists(out4) else 'no file'} "
                f"read: {err[-300:]}")
    # --model: an anomaly is reported while the capture runs, within a window of its evidence
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    model = os.path.join(root, "models", "demo-site.h5")
    site = os.path.join(root, "captures", "site.yaml")
    attack = os.path.join(tmp, "attack.pcap")
    with open(attack, "wb") as f:
        f.write(PCAP_HEADER)
        for i, flags in enumerate([0x02, 0x18, 0x18, 0x18, 0x11]):
            f.write(record(i, tcp_frame(i, flags)))
    jsonl, out3 = os.path.join(tmp, "anomalies.jsonl"), os.path.join(tmp, "model.h5")
    with open(jsonl, "w") as f:  # a previous run's feed: a restart must append, not wipe it
        f.write('{"previous_run": true}\n')
    proc = subprocess.Popen([mw, "capture", "-q", "-i", "lo", "-f", "host 203.0.113.200",
                             "--idle-timeout", "2", "--inventory", site, "--model", model,
                             "--anomalies", jsonl, "-o", out3], stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    run(["tcpreplay", "-i", "lo", "--pps", "50", attack])
    sent = time.time()
    seen = []
    while time.time() - sent < 30 and not any(a.get("detector") == "new_peer" for a in seen):
        time.sleep(0.25)
        if os.path.exists(jsonl):
            seen = [json.loads(line) for line in open(jsonl) if line.strip()]
    delay = time.time() - sent
    fails.check(any(a.get("detector") == "new_peer" and a.get("event") == "open" and
                    a.get("bs") == "enb-001" for a in seen),
                f"--model live: no new_peer anomaly while capturing: {seen}")
    fails.check(delay < 300, f"--model live: anomaly after {delay:.0f} s, more than a window")
    err = finish(proc, signal.SIGTERM)
    fails.check(proc.returncode == 0, f"--model live: exit {proc.returncode}: {err}")
    with open(jsonl) as f:
        first = f.readline()
    fails.check(first.startswith('{"previous_run": true}'),
                f"--model live: the feed of the previous run was wiped: {first!r}")
    if os.path.exists(out3):
        with h5py.File(out3) as f:
            dets = {int(r["detector"]) for r in f["anomalies"][:]}
        fails.check(len(dets) >= 1, "--model live: /anomalies empty after SIGTERM")
    print(f"live anomaly reported {delay:.1f} s after the packets were sent")
    shutil.rmtree(tmp)
    return fails.finish("live capture on lo: flows, -Z, SIGTERM, -c and live anomalies all correct")


if __name__ == "__main__":
    sys.exit(main())
