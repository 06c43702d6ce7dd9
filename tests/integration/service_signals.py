#!/usr/bin/python3
"""Signals and files as operators know them from daemons (issue 12), on a
run fed slowly through a FIFO so the signals land mid-run:
- logrotate "create": rename the feed, SIGHUP -> the lines after go to a new
  file; old + new = the lines of an undisturbed run, none lost or doubled;
- logrotate "copytruncate": copy, truncate -> no NUL bytes, every line kept
  in copy + file;
- SIGUSR1 prints a status line and the run goes on to the same records;
- SIGUSR2 reloads the inventory (and model, suppressions): records finished
  after it use the new inventory, no flow is lost; a broken inventory is
  refused with one line and the run goes on unchanged, and so is a model on
  which libhdf5 itself crashes (read first in a fresh process, `__h5-probe`,
  since the run's threads are working);
- --prometheus writes a textfile node-exporter parses, with the final counts.

usage: service_signals.py MASTWATCH PROJECT_DIR
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import json

import h5py
import numpy as np

from mwtest import Failures, run


def feeder(fifo, data, chunk=1 << 18, pause=0.35):
    with open(fifo, "wb") as f:
        for i in range(0, len(data), chunk):
            f.write(data[i:i + chunk])
            f.flush()
            time.sleep(pause)


def lines(*paths):
    out = []
    for p in paths:
        if os.path.exists(p):
            raw = open(p, "rb").read()
            out.append(raw)
    return b"".join(out)


def normalized(raw):
    """The feed's lines, sorted, without the input's name (a FIFO here, a file there)."""
    out = []
    for ln in raw.splitlines():
        o = json.loads(ln)
        o.pop("source", None)
        out.append(json.dumps(o, sort_keys=True))
    return sorted(out)


def slow_run(mw, args, data, tmp, actions):
    """Runs analyze on a FIFO fed slowly; actions(proc) runs mid-run. Returns (rc, stderr)."""
    fifo = os.path.join(tmp, "in.pcap")
    if os.path.exists(fifo):
        os.unlink(fifo)
    os.mkfifo(fifo)
    proc = subprocess.Popen([mw, "analyze"] + args + [fifo], stderr=subprocess.PIPE, text=True)
    t = threading.Thread(target=feeder, args=(fifo, data))
    t.start()
    actions(proc)
    t.join()
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


def main():
    mw, root = sys.argv[1], sys.argv[2]
    fails = Failures()
    tmp = tempfile.mkdtemp()
    cap = os.path.join(root, "captures", "incident-day.pcap")
    data = open(cap, "rb").read()
    base = ["-q", "--inventory", os.path.join(root, "captures", "site.yaml"),
            "--model", os.path.join(root, "models", "demo-site.h5")]

    ref_feed, ref_h5 = os.path.join(tmp, "ref.jsonl"), os.path.join(tmp, "ref.h5")
    r = run([mw, "analyze"] + base + ["--anomalies", ref_feed, "-o", ref_h5, cap])
    fails.check(r.returncode == 0, f"reference run: {r.stderr!r}")
    ref_lines = normalized(open(ref_feed, "rb").read())
    fails.check(len(ref_lines) > 0, "the reference run reports anomalies")

    # logrotate create + SIGHUP, with SIGUSR1 on the way
    feed, out = os.path.join(tmp, "feed.jsonl"), os.path.join(tmp, "o.h5")
    prom = os.path.join(tmp, "mastwatch.prom")

    def create_and_hup(proc):
        time.sleep(1.2)
        proc.send_signal(signal.SIGUSR1)
        time.sleep(1.0)
        os.rename(feed, feed + ".1")
        proc.send_signal(signal.SIGHUP)

    rc, err = slow_run(mw, base + ["--anomalies", feed, "--prometheus", prom, "-o", out], data,
                       tmp, create_and_hup)
    fails.check(rc == 0, f"run with HUP/USR1: exit {rc} {err[-300:]!r}")
    fails.check(re.search(r"^mastwatch: status: \d+ packets", err, re.M) is not None,
                f"SIGUSR1 printed no status line: {err[-300:]!r}")
    got = normalized(lines(feed + ".1", feed))
    fails.check(os.path.exists(feed), "SIGHUP did not reopen the feed under its name")
    fails.check(got == ref_lines, f"create+HUP: {len(got)} lines vs {len(ref_lines)} undisturbed")
    with h5py.File(out) as a, h5py.File(ref_h5) as b:
        fails.check(np.array_equal(np.sort(a["flows"][:], order="flow_id"),
                                   np.sort(b["flows"][:], order="flow_id")),
                    "signals changed the flow records")
    text = open(prom).read() if os.path.exists(prom) else ""
    m = re.search(r"^mastwatch_packets_total (\d+)$", text, re.M)
    with h5py.File(ref_h5) as b:
        packets = int(dict((bytes(n).rstrip(b"\0").decode(), v)
                           for n, v in b["stats/counters"][:])["packets"])
    fails.check(m is not None and int(m.group(1)) == packets,
                f"prometheus packets {m.group(1) if m else None} vs {packets}")
    for ln in text.splitlines():  # the exposition format node-exporter reads
        fails.check(ln.startswith("# ") or
                    re.fullmatch(r'[a-z_]+(\{[a-z_]+="[^"]*"\})? [0-9.e+-]+', ln) is not None,
                    f"not a Prometheus line: {ln!r}")
    fails.check(not [n for n in os.listdir(tmp) if n.endswith(".tmp")], "textfile temp left")

    # logrotate copytruncate: no NUL bytes, no line lost
    feed2 = os.path.join(tmp, "feed2.jsonl")

    def copytruncate(proc):
        time.sleep(2.0)
        shutil.copyfile(feed2, feed2 + ".1")
        os.truncate(feed2, 0)

    rc, err = slow_run(mw, base + ["--anomalies", feed2, "-o", os.path.join(tmp, "o2.h5")], data,
                       tmp, copytruncate)
    raw = lines(feed2 + ".1", feed2)
    fails.check(rc == 0 and b"\0" not in raw, f"copytruncate: exit {rc}, NULs {raw.count(0)}")
    fails.check(b"\0" not in raw and normalized(raw) == ref_lines,
                f"copytruncate: {len(raw.splitlines())} lines vs {len(ref_lines)}")
    # SIGUSR2: a changed inventory (the EMS address loses its role) applies to records that
    # finish after the reload; a broken one is refused; no flow lost either way
    inv = os.path.join(tmp, "site.yaml")
    text = open(os.path.join(root, "captures", "site.yaml")).read()
    open(inv, "w").write(text)
    model = os.path.join(tmp, "model.h5")
    shutil.copyfile(os.path.join(root, "models", "demo-site.h5"), model)
    rl = base[:]
    rl[rl.index("--inventory") + 1] = inv
    rl[rl.index("--model") + 1] = model
    out3 = os.path.join(tmp, "o3.h5")

    def reload_twice(proc):
        time.sleep(1.5)
        open(inv, "w").write("site: demo-site\nbase_stations: [oops\n")
        proc.send_signal(signal.SIGUSR2)
        time.sleep(1.0)
        open(inv, "w").write(text.replace("ems: [10.20.0.10/32, ", "ems: ["))
        proc.send_signal(signal.SIGUSR2)

    rc, err = slow_run(mw, rl + ["-o", out3], data, tmp, reload_twice)
    fails.check(rc == 0, f"reload run: exit {rc} {err[-300:]!r}")
    fails.check("reload (SIGUSR2) refused" in err and "reloaded (SIGUSR2)" in err,
                f"reload messages: {err[-400:]!r}")

    # the probe command the reload runs: a good model read (0), a crashing one dies there
    crash = os.path.join(root, "tests", "fuzz", "corpus_model", "h5hl-negative-memcpy-1")
    probe = [run([mw, "__h5-probe", "model", m]).returncode
             for m in (os.path.join(root, "models", "demo-site.h5"), crash)]
    probe.append(run([mw, "__h5-probe", "nonsense", crash]).returncode)
    fails.check(probe[0] == 0 and probe[1] not in (0, 3) and probe[2] == 2,
                f"__h5-probe exit codes {probe} (want 0, a crash, 2)")

    # a model libhdf5 itself aborts on (a negative-size copy in its local heap): the probe's
    # fresh process dies, the reload is refused in one line, the run goes on unchanged
    open(inv, "w").write(text)
    out4 = os.path.join(tmp, "o4.h5")

    def reload_crashing_model(proc):
        time.sleep(1.5)
        shutil.copyfile(crash, model)
        proc.send_signal(signal.SIGUSR2)

    rc, err = slow_run(mw, rl + ["-o", out4], data, tmp, reload_crashing_model)
    refused = re.findall(r"^mastwatch: warning: reload \(SIGUSR2\) refused.*$", err, re.M)
    fails.check(rc == 0 and len(refused) == 1 and "libhdf5 failed reading it" in refused[0],
                f"a crashing model's reload: exit {rc} {err[-400:]!r}")
    with h5py.File(out4) as a, h5py.File(ref_h5) as b:
        fails.check(np.array_equal(np.sort(a["flows"][:], order="flow_id"),
                                   np.sort(b["flows"][:], order="flow_id")),
                    "a refused reload changed the flow records")
    with h5py.File(out3) as a, h5py.File(ref_h5) as b:
        fa, fb = np.sort(a["flows"][:], order="flow_id"), np.sort(b["flows"][:], order="flow_id")
        fails.check(np.array_equal(fa["flow_id"], fb["flow_id"]) and
                    np.array_equal(fa["c2s_packets"] + fa["s2c_packets"],
                                   fb["c2s_packets"] + fb["s2c_packets"]),
                    "the reload lost or changed flows")
        roles = [n.decode() if isinstance(n, bytes) else n for n in b["meta/roles"]["name"]]
        ems = roles.index("ems") if "ems" in roles else -1
        before = int((fb["peer_role"] == ems).sum())
        after = int((fa["peer_role"] == ems).sum())
        fails.check(0 < after < before,
                    f"EMS records: {before} undisturbed, {after} with the reload (want fewer, > 0)")
    return fails.finish("HUP reopens, USR1 reports, USR2 reloads, textfile parses, no NULs")


if __name__ == "__main__":
    sys.exit(main())
