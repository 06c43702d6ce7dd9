#!/usr/bin/python3
"""`mastwatch batch` on a real spool, end to end (docs/BATCH.md).

Spool: the two sample captures, two days made now by mw-scengen, a truncated copy, a
corrupt file, a gzip'd copy, a same-named capture in a second directory, a capture matching
no site. Checks:
- the index reads as one table with h5py + pandas; /captures says what happened to each;
  night.json has the agreed shape; exit status 3 (failed + not matched wins over findings);
- a second run analyzes nothing and gives the same index;
- SIGKILL in the middle of a run, then a resumed run: every capture exactly once, rows equal
  to the uninterrupted run's;
- --jobs 1 and --jobs 4 give identical index contents (sorted by flow_id per capture);
- a file added to the spool while a batch runs is done by the next run (too young before);
- two batches at once on one OUTDIR: the second fails at once (exit 3, one line);
- config errors: one line FILE:LINE: reason, exit 2.
Moments (when to kill) never decide pass/fail.

usage: batch.py MASTWATCH MW-SCENGEN SOURCE_DIR
"""
import gzip
import ipaddress
import json
import re
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np
import pandas as pd

from mwtest import Failures, file_sha256, fill_disk, run, small_disk
from vlan_frames import vlan_capture

import mw_realattack as ra  # noqa: E402 (scripts/ is on the path via mwtest)

NIGHT = "2026-11-30"


def make_spool(tmp, scengen, src):
    spool = os.path.join(tmp, "spool")
    a, b = os.path.join(spool, "north"), os.path.join(spool, "north2")
    os.makedirs(a)
    os.makedirs(b)
    caps = os.path.join(src, "captures")
    shutil.copy(os.path.join(caps, "clean-week.pcap"), a)
    shutil.copy(os.path.join(caps, "incident-day.pcap"), a)
    shutil.copy(os.path.join(caps, "incident-day.pcap"), b)  # same name, another directory
    for i, day in enumerate(["2026-11-10", "2026-11-11"]):
        subprocess.run([scengen, "-q", "--seed", str(7 + i), "--start", day + "T00:00:00Z",
                        "--days", "1", "--scale", "8", "-o", os.path.join(a, f"day{i}.pcap")],
                       check=True)
    data = open(os.path.join(caps, "clean-week.pcap"), "rb").read()
    with open(os.path.join(a, "truncated.pcap"), "wb") as f:
        f.write(data[:len(data) // 3])
    with open(os.path.join(a, "corrupt.pcap"), "wb") as f:
        f.write(os.urandom(4096))
    with gzip.open(os.path.join(b, "incident-copy.pcap.gz"), "wb") as f:
        f.write(open(os.path.join(caps, "incident-day.pcap"), "rb").read())
    os.makedirs(os.path.join(spool, "elsewhere"))
    shutil.copy(os.path.join(caps, "incident-day.pcap"), os.path.join(spool, "elsewhere"))
    old = time.time() - 3600
    for root, _, files in os.walk(spool):
        for n in files:
            os.utime(os.path.join(root, n), (old, old))
    return spool


def write_config(tmp, src, text=None):
    path = os.path.join(tmp, "batch.yaml")
    with open(path, "w") as f:
        f.write(text if text is not None else
                "sites:\n"
                "  - name: north\n"
                "    match: [\"*/north/*\", \"*/north2/*\"]\n"
                f"    inventory: {src}/captures/site.yaml\n"
                f"    model: {src}/models/demo-site.h5\n")
    return path


def batch(mw, cfg, out, spool, *extra):
    return run([mw, "batch", "--config", cfg, "-o", out, "--night", NIGHT, "-q", *extra, spool])


def index_tables(out):
    """{capture path: (flows sorted by flow_id, anomalies sorted)} and the /captures rows."""
    path = os.path.join(out, NIGHT, "index.h5")
    with h5py.File(path, "r") as f:
        flows = pd.DataFrame(f["flows"][:])
        anoms = pd.DataFrame(f["anomalies"][:])
        caps = pd.DataFrame(f["captures"][:])
    per = {}
    for _, c in caps.iterrows():
        p = c["path"].decode()
        fl = flows.iloc[c["first_flow_row"]:c["first_flow_row"] + c["flows"]]
        an = anoms.iloc[c["first_anomaly_row"]:c["first_anomaly_row"] + c["anomalies"]]
        per[p] = (c["status"].decode(), fl.sort_values("flow_id").reset_index(drop=True),
                  an.sort_values("anomaly_id").reset_index(drop=True))
    return per, caps, flows


def same_tables(x, y):
    if set(x) != set(y):
        return False
    for k in x:
        if x[k][0] != y[k][0] or not x[k][1].equals(y[k][1]) or not x[k][2].equals(y[k][2]):
            return False
    return True



def vlan_checks(mw, src, tmp, fails, untagged):
    """vlan_tracking: false makes the site's analyze runs join the two VLANs' halves (the
    untagged day's records); by default the capture's log says so. dedup: true (given with
    it here) reaches the runs too."""
    spool = os.path.join(tmp, "spool-vlan", "south")
    os.makedirs(spool)
    inv = ra.inventory(os.path.join(src, "captures", "site.yaml"))
    stations = {ipaddress.ip_address(a) for addrs in inv["stations"].values() for a in addrs}
    day = os.path.join(spool, "incident-vlan.pcap")
    vlan_capture(os.path.join(src, "captures", "incident-day.pcap"), day,
                 lambda s, d: (101,) if s in stations else (102,))
    old = time.time() - 3600
    os.utime(day, (old, old))
    for tracking, want_warning in (("false", False), ("true", True)):
        c = os.path.join(tmp, f"vlan-{tracking}")
        os.makedirs(c)
        cfg = write_config(c, src, "sites:\n  - name: south\n    match: '*/south/*'\n"
                           f"    inventory: {src}/captures/site.yaml\n"
                           f"    model: {src}/models/demo-site.h5\n"
                           f"    vlan_tracking: {tracking}\n"
                           f"    dedup: {'true' if tracking == 'false' else 'false'}\n")
        out = os.path.join(c, "out")
        r = batch(mw, cfg, out, os.path.dirname(spool))
        fails.check(r.returncode == 1, f"vlan_tracking {tracking}: exit {r.returncode} (want 1: "
                    f"anomalies found) {r.stderr}")
        base = os.path.join(out, NIGHT, "captures", "south", "incident-vlan")
        with h5py.File(base + ".h5", "r") as f:
            rows, attr = len(f["flows"]), int(f.attrs["vlan_tracking"])
            dedup = int(f.attrs["dedup"])
        fails.check(dedup == (tracking == "false"), f"vlan_tracking {tracking}: dedup {dedup}")
        log = open(base + ".log").read()
        fails.check(attr == (tracking == "true") and ("--no-vlan-tracking" in log) == want_warning,
                    f"vlan_tracking {tracking}: /meta {attr}, log {log!r}")
        fails.check((rows == len(untagged)) == (tracking == "false"),
                    f"vlan_tracking {tracking}: {rows} records, the untagged day {len(untagged)}")


def train_checks(mw, src, tmp, fails):
    model = os.path.join(tmp, "train-model.h5")
    shutil.copy(os.path.join(src, "models", "demo-site.h5"), model)
    before = file_sha256(model)
    old = time.time() - 3600
    for kind, pcap in (("clean", "clean-week.pcap"), ("incident", "incident-day.pcap")):
        spool = os.path.join(tmp, f"train-{kind}", "north")
        os.makedirs(spool)
        shutil.copy(os.path.join(src, "captures", pcap), spool)
        os.utime(os.path.join(spool, pcap), (old, old))
    cfg = os.path.join(tmp, "train.yaml")
    with open(cfg, "w") as f:
        f.write("sites:\n  - name: north\n    match: [\"*/north/*\"]\n"
                f"    inventory: {src}/captures/site.yaml\n    model: {model}\n")
    # an incident night: high anomalies, the model stays as it was
    out_i = os.path.join(tmp, "train-out-incident")
    r = run([mw, "batch", "--config", cfg, "-o", out_i, "--night", NIGHT, "--train",
             os.path.join(tmp, "train-incident")])
    fails.check(r.returncode == 1 and file_sha256(model) == before and "unchanged" in r.stderr,
                f"--train after an incident: exit {r.returncode}, model changed "
                f"{file_sha256(model) != before}, {r.stderr[-300:]!r}")
    # a clean night: trained in, the old model kept as .prev; a rerun does not fold it twice
    out_c = os.path.join(tmp, "train-out-clean")
    r = run([mw, "batch", "--config", cfg, "-o", out_c, "--night", NIGHT, "--train",
             os.path.join(tmp, "train-clean")])
    after = file_sha256(model)
    prev = model[:-3] + ".prev" if os.path.exists(model[:-3] + ".prev") else model + ".prev"
    fails.check(r.returncode == 0 and after != before and os.path.exists(prev) and
                file_sha256(prev) == before, f"--train of a clean night: exit {r.returncode}, "
                f"changed {after != before}, prev {os.path.exists(prev)}, {r.stderr[-300:]!r}")
    # the same week again: each station's records add up (the span stays 7 days)
    old_show = run([mw, "model", "show", prev]).stdout
    show = run([mw, "model", "show", model])
    rec = [re.search(r"^enb-001\s+[0-9.]+\s+(\d+)", t, re.M) for t in (old_show, show.stdout)]
    fails.check(show.returncode == 0 and all(rec) and
                int(rec[1].group(1)) == 2 * int(rec[0].group(1)),
                f"trained model: enb-001 records {[m.group(1) if m else None for m in rec]}")
    r = run([mw, "batch", "--config", cfg, "-o", out_c, "--night", NIGHT, "--train",
             os.path.join(tmp, "train-clean")])
    fails.check(r.returncode == 0 and file_sha256(model) == after,
                f"--train rerun folded the night again: exit {r.returncode} {r.stderr[-200:]!r}")
    train_fails_checks(mw, src, tmp, fails)


def train_fails_checks(mw, src, tmp, fails):
    """A clean night whose model cannot be written (a full disk): exit 3, night.json and the
    morning report say the model was not updated, the model is as it was."""
    with small_disk(tmp, "modeldisk", "100k", "the full-disk training case") as disk:
        if disk is None:
            return
        model = os.path.join(disk, "north.h5")
        shutil.copy(os.path.join(src, "models", "demo-site.h5"), model)
        fill_disk(disk)
        before = file_sha256(model)
        spool = os.path.join(tmp, "train-full", "north")
        os.makedirs(spool)
        shutil.copy(os.path.join(src, "captures", "clean-week.pcap"), spool)
        old = time.time() - 3600
        os.utime(os.path.join(spool, "clean-week.pcap"), (old, old))
        cfg = os.path.join(tmp, "train-full.yaml")
        with open(cfg, "w") as f:
            f.write("sites:\n  - name: north\n    match: [\"*/north/*\"]\n"
                    f"    inventory: {src}/captures/site.yaml\n    model: {model}\n")
        out = os.path.join(tmp, "train-full-out")
        r = run([mw, "batch", "-q", "--config", cfg, "-o", out, "--night", NIGHT, "--train",
                 os.path.join(tmp, "train-full")])
        nd = os.path.join(out, NIGHT)
        night = json.load(open(os.path.join(nd, "night.json")))
        fails.check(r.returncode == 3 and night.get("train_error") and
                    file_sha256(model) == before,
                    f"--train on a full disk: exit {r.returncode}, night.json train_error "
                    f"{night.get('train_error')!r}, model changed {file_sha256(model) != before}")
        rep = run(["/usr/bin/python3", os.path.join(src, "scripts", "mw_morning.py"), nd])
        md = open(os.path.join(nd, "report.md")).read() if rep.returncode == 3 else ""
        fails.check(rep.returncode == 3 and "model was NOT updated" in md,
                    f"--train on a full disk: report exit {rep.returncode}: {md[:300]!r}")


def main():
    mw, scengen, src = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
    fails = Failures()
    with tempfile.TemporaryDirectory(prefix="mw-batch-") as tmp:
        spool = make_spool(tmp, scengen, src)
        cfg = write_config(tmp, src)
        ncaps = sum(len(fs) for _, _, fs in os.walk(spool))

        # 1. a whole night
        out1 = os.path.join(tmp, "out1")
        r = batch(mw, cfg, out1, spool, "--jobs", "1")
        fails.check(r.returncode == 3, f"night 1: exit {r.returncode} (want 3): {r.stderr}")
        per1, caps, flows = index_tables(out1)
        fails.check(len(caps) == ncaps, f"/captures has {len(caps)} rows for {ncaps} files")
        fails.check(len(flows) == caps["flows"].sum() and len(flows) > 0, "flows rows")
        status = {os.path.relpath(p, spool): v[0] for p, v in per1.items()}
        fails.check(status.get("north/corrupt.pcap") == "failed", f"corrupt: {status}")
        fails.check(status.get("north/truncated.pcap") == "failed", f"truncated: {status}")
        fails.check(status.get("elsewhere/incident-day.pcap") == "not_matched", f"{status}")
        fails.check(status.get("north2/incident-copy.pcap.gz") == "done", f"gz: {status}")
        trunc = caps[caps["path"] == os.path.join(spool, "north/truncated.pcap").encode()]
        fails.check(len(trunc) == 1 and trunc["flows"].iloc[0] > 0 and
                    trunc["complete"].iloc[0] == 0, "truncated: partial rows, complete=0")
        a = per1[os.path.join(spool, "north/incident-day.pcap")]
        b = per1[os.path.join(spool, "north2/incident-day.pcap")]
        gz = per1[os.path.join(spool, "north2/incident-copy.pcap.gz")]
        fails.check(len(a[1]) > 0 and a[1].equals(b[1]) and a[1].equals(gz[1]),
                    "same capture in two directories / gzip'd: equal rows, both kept")
        with h5py.File(os.path.join(out1, NIGHT, "index.h5"), "r") as f:
            res = {r_.decode() for r_ in f["captures"]["results"] if r_}
        fails.check(len(res) == sum(1 for v in status.values() if v != "not_matched"),
                    f"one results file per analyzed capture (no overwrite): {sorted(res)}")
        night = json.load(open(os.path.join(out1, NIGHT, "night.json")))
        for k in ("night", "status", "error", "started_utc", "finished_utc", "mastwatch_version",
                  "sites", "captures", "index", "anomalies_jsonl", "totals"):
            fails.check(k in night, f"night.json lacks {k}")
        fails.check(night.get("status") == "partial", f"night status {night.get('status')}")
        t = night.get("totals", {})
        fails.check(t.get("captures") == ncaps and t.get("failed") == 2 and
                    t.get("flows") == len(flows), f"totals {t}")
        for c in night.get("captures", []):
            for k in ("path", "site", "status", "exit_code", "error", "results",
                      "anomalies_jsonl", "flows", "anomalies", "complete", "started_utc",
                      "finished_utc"):
                fails.check(k in c, f"night.json capture lacks {k}")
        nanom = sum(1 for _ in open(os.path.join(out1, NIGHT, "anomalies.jsonl")))
        fails.check(nanom == t.get("anomalies") and nanom > 0, f"anomalies.jsonl {nanom} lines")

        # 2. again: nothing to do, same index
        state = open(os.path.join(out1, "state", "done.tsv")).read()
        r = batch(mw, cfg, out1, spool, "--jobs", "2")
        fails.check(r.returncode == 3, f"night 1 again: exit {r.returncode}")
        fails.check(open(os.path.join(out1, "state", "done.tsv")).read() == state,
                    "second run analyzed something")
        per1b, _, _ = index_tables(out1)
        fails.check(same_tables(per1, per1b), "second run: index changed")

        # 3. --jobs 4: identical contents
        out4 = os.path.join(tmp, "out4")
        batch(mw, cfg, out4, spool, "--jobs", "4")
        per4, _, _ = index_tables(out4)
        fails.check(same_tables(per1, per4), "--jobs 4 index differs from --jobs 1")

        # 4. SIGKILL mid-run, then resume
        outk = os.path.join(tmp, "outk")
        done = os.path.join(outk, "state", "done.tsv")
        p = subprocess.Popen([mw, "batch", "--config", cfg, "-o", outk, "--night", NIGHT, "-q",
                              "--jobs", "1", spool], stderr=subprocess.DEVNULL)
        while p.poll() is None:
            if os.path.exists(done) and 2 <= open(done).read().count("\n"):
                p.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
        p.wait()
        killed_at = open(done).read().count("\n") if os.path.exists(done) else 0
        print(f"note: killed with {killed_at} of {ncaps - 1} captures recorded")
        r = batch(mw, cfg, outk, spool, "--jobs", "2")
        fails.check(r.returncode == 3, f"resume: exit {r.returncode}: {r.stderr}")
        perk, capsk, _ = index_tables(outk)
        fails.check(capsk["path"].is_unique, "resume: a capture twice in the index")
        fails.check(same_tables(per1, perk), "resume: index differs from the uninterrupted run")
        lines = open(done).read().splitlines()
        fails.check(len(lines) == ncaps - 1 and
                    len({ln.split("\t")[-1] for ln in lines}) == ncaps - 1,
                    f"resume: {len(lines)} state lines for {ncaps - 1} captures")
        leftovers = [n for _, _, fs in os.walk(outk) for n in fs if ".partial" in n or ".tmp." in n]
        fails.check(not leftovers, f"resume: leftovers {leftovers}")

        # 5. a file arriving during a run: too young now, done by the next run
        late = os.path.join(spool, "north", "late.pcap")
        outl = os.path.join(tmp, "outl")
        p = subprocess.Popen([mw, "batch", "--config", cfg, "-o", outl, "--night", NIGHT, "-q",
                              "--jobs", "1", spool], stderr=subprocess.PIPE, text=True)
        shutil.copy(os.path.join(src, "captures", "incident-day.pcap"), late)
        p.communicate()
        r = batch(mw, cfg, outl, spool, "--min-age", "0")
        perl, _, _ = index_tables(outl)
        fails.check(perl.get(late, ("?",))[0] == "done", f"late file: {perl.get(late, ('?',))[0]}")
        os.unlink(late)

        # 6. two batches at once
        outc = os.path.join(tmp, "outc")
        p = subprocess.Popen([mw, "batch", "--config", cfg, "-o", outc, "--night", NIGHT, "-q",
                              "--jobs", "1", spool], stderr=subprocess.DEVNULL)
        lock = os.path.join(outc, "state", "lock")
        while p.poll() is None and not (os.path.exists(lock) and os.path.getsize(lock) > 0):
            time.sleep(0.002)
        if p.poll() is None:
            r = batch(mw, cfg, outc, spool)
            if p.poll() is None:  # still running while the second one was refused
                lines_ = [ln for ln in r.stderr.splitlines() if ln.strip()]
                fails.check(r.returncode == 3 and len(lines_) == 1 and
                            "another batch" in lines_[0], f"second batch: {r.returncode} {r.stderr}")
            else:
                print("note: the first batch ended before the second was refused")
        p.wait()

        # 7. config errors
        bad = {
            "sites:\n  - name: x\n    match: [\"*\"]\n": ":2: site 'x' has no inventory",
            "sites:\n  - name: x\n    match: [\"*\"]\n    inventory: nope.yaml\n": ":4: inventory",
            "sites: [\n": ":",
            "sitez: []\n": ":1: unknown key",
            ("sites:\n  - name: x\n    match: '*'\n"
             f"    inventory: {src}/captures/site.yaml\n    colour: red\n"): ":5: unknown key",
            ("sites:\n  - name: x\n    match: '*'\n"
             f"    inventory: {src}/captures/site.yaml\n    vlan_tracking: no\n"):
            ":5: vlan_tracking: wants true or false",
            ("sites:\n  - name: x\n    match: '*'\n"
             f"    inventory: {src}/captures/site.yaml\n    dedup: 1\n"):
            ":5: dedup: wants true or false",
        }
        for text, want in bad.items():
            c = write_config(tmp, src, text)
            r = batch(mw, c, os.path.join(tmp, "outbad"), spool)
            lines_ = [ln for ln in r.stderr.splitlines() if ln.strip()]
            fails.check(r.returncode == 2 and len(lines_) == 1 and c in lines_[0] and
                        want in lines_[0], f"config {text!r}: {r.returncode} {r.stderr!r}")
        r = run([mw, "batch", "-o", tmp, spool])
        fails.check(r.returncode == 2, "no --config: exit 2")

        # 8. a site whose capture point tags each direction with its own VLAN
        vlan_checks(mw, src, tmp, fails, per1[os.path.join(spool, "north/incident-day.pcap")][1])

        # 9. --train folds a clean night into the model once, and leaves it after an incident
        train_checks(mw, src, tmp, fails)
    return fails.finish("batch: night, rerun, resume after SIGKILL, jobs, late file, lock, config")


if __name__ == "__main__":
    sys.exit(main())
