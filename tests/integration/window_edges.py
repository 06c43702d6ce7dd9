#!/usr/bin/python3
"""Sessions that cross a window's edge, on the demo site and model (written packets, no
../shared): with a model, flow records are cut where packet time crosses a window's edge,
so what a session sends lands in the window, and the hour, it was sent in.

- SSH opened at 01:57 on a Sunday, a 550 kB download at 02:00:30, inside the maintenance
  window (Sun 02:00-04:00): no off_hours finding (the download was judged at 01:57 before).
- Opened at 03:57, the download at 04:00:30, after the window: one off_hours finding for
  enb-001, dated from 04:00 (the download was judged at 03:57, inside, and missed).
- A 550 kB upload at 10:05:30 on a Thursday in a session opened at 10:01: every volume
  finding of enb-001 is in windows from 10:05 on (it was booked into 10:00-10:05).
- The records: none spans an edge of a 5-minute window.
- `--active-timeout 3600` with the model is said on one line (window volumes go coarse).

usage: window_edges.py MASTWATCH SOURCE_DIR
"""
import calendar
import json
import os
import sys
import tempfile
import time

import h5py

from ftp_data import Session, ra
from mwtest import Failures, run

STATION, EMS = "10.10.1.11", "10.20.0.10"
WINDOW = 300


def utc(iso):
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%S"))


def ssh_session(frames, login, bulk, cport, download=True, size=550_000):
    """enb-001 opens SSH to the EMS at login; size bytes go one way from bulk on."""
    s = Session(frames, login, STATION, cport, EMS, 22)
    s.say(False, "SSH-2.0-OpenSSH_8.9p1 Debian-3\r\n")
    s.say(True, "SSH-2.0-OpenSSH_8.4p1\r\n")
    for _ in range(6):  # key exchange and login, small
        s.add(True, 0x18, b"k" * 300)
        s.add(False, 0x18, b"K" * 400)
    s.t = bulk
    for _ in range(size // 1400):
        s.add(not download, 0x18, b"d" * 1400)
        if _ % 8 == 0:
            s.add(download, 0x10)
    s.close()


def analyze(mw, src, tmp, name, frames):
    pcap, out = os.path.join(tmp, name + ".pcap"), os.path.join(tmp, name + ".h5")
    frames.sort(key=lambda f: f[0])
    ra.write_pcap(pcap, frames)
    jsonl = os.path.join(tmp, name + ".jsonl")
    r = run([mw, "analyze", "-q", "--inventory", os.path.join(src, "captures", "site.yaml"),
             "--model", os.path.join(src, "models", "demo-site.h5"), "--anomalies", jsonl,
             "-o", out, pcap], timeout=120)
    if r.returncode not in (0, 1):
        raise RuntimeError(f"{name}: exit {r.returncode}: {r.stderr[-300:]}")
    with open(jsonl) as f:
        found = [json.loads(line) for line in f if line.strip()]
    with h5py.File(out, "r") as f:
        flows = f["flows"][:]
    return found, flows


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    mw, src = sys.argv[1:]
    fails = Failures()
    with tempfile.TemporaryDirectory(prefix="mw-edges-") as tmp:
        frames = []
        ssh_session(frames, utc("2026-11-15T01:57:00"), utc("2026-11-15T02:00:30"), 51000)
        found, flows = analyze(mw, src, tmp, "inside", frames)
        oh = [a for a in found if a["detector"] == "off_hours"]
        fails.check(not oh, f"download at 02:00:30 inside the window: {len(oh)} off_hours: "
                    + "; ".join(a["explanation"] for a in oh))
        spans = [(int(r["first_us"]) // 10**6 // WINDOW, int(r["last_us"]) // 10**6 // WINDOW)
                 for r in flows]
        fails.check(all(a == b for a, b in spans),
                    f"records spanning a window's edge: {sum(a != b for a, b in spans)}")

        frames = []
        ssh_session(frames, utc("2026-11-15T03:57:00"), utc("2026-11-15T04:00:30"), 51001)
        found, _ = analyze(mw, src, tmp, "after", frames)
        oh = [a for a in found if a["detector"] == "off_hours"]
        fails.check(len(oh) == 1 and oh[0]["bs"] == "enb-001" and
                    oh[0]["start_us"] >= utc("2026-11-15T04:00:00") * 10**6,
                    f"download at 04:00:30 after the window: {len(oh)} off_hours "
                    + "; ".join(f"{a['bs']} from {a['start']}" for a in oh))

        frames = []
        ssh_session(frames, utc("2026-11-12T10:01:00"), utc("2026-11-12T10:05:30"), 51002,
                    download=False)
        found, _ = analyze(mw, src, tmp, "upload", frames)
        vol = [a for a in found if a["detector"] == "volume" and a["bs"] == "enb-001"]
        early = [a for a in vol if a["start_us"] < utc("2026-11-12T10:05:00") * 10**6]
        fails.check(vol and not early,
                    f"upload at 10:05:30: {len(vol)} volume findings, {len(early)} before 10:05: "
                    + "; ".join(f"{a['start']}: {a['explanation']}" for a in early))
        # an active timeout other than the window: said, once, on one line
        pcap = os.path.join(tmp, "upload.pcap")
        r = run([mw, "analyze", "--inventory", os.path.join(src, "captures", "site.yaml"),
                 "--model", os.path.join(src, "models", "demo-site.h5"), "--active-timeout",
                 "3600", "-o", os.path.join(tmp, "t3600.h5"), pcap], timeout=120)
        notes = [ln for ln in r.stderr.splitlines() if "--active-timeout 3600 s" in ln]
        fails.check(r.returncode in (0, 1) and len(notes) == 1,
                    f"--active-timeout 3600 with a model: exit {r.returncode}, {r.stderr[-300:]!r}")
    return fails.finish("window edges: off_hours and volume where the bytes were sent")


if __name__ == "__main__":
    sys.exit(main())
