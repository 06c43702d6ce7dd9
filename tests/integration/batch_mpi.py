#!/usr/bin/python3
"""`mastwatch batch` under mpirun (an -DMW_MPI=ON build; docs/BATCH.md "Across machines").

Spool: batch.py's (sample captures, generated days, truncated, corrupt, gzip'd, same-named,
unmatched). Checks:
- `mpirun -np 2 --oversubscribe` and `-np 3` give the same index as `--jobs 1` without
  mpirun: /flows, /anomalies and /captures byte for byte (no timing column is in them),
  the root attributes, anomalies.jsonl, and one state line per capture;
- --train over clean generated days: the model of `-np 2` and `-np 3` (per-rank training
  reduced by model merge) has the same tables as the `--jobs 1` model, byte for byte
  (only the provenance attributes created_utc and sources differ);
- a rank SIGKILLed mid-run (rank 1, then rank 0 on the resumed run): the state names only
  captures whose results exist, and a third run (no mpirun, --jobs 2) completes the spool:
  every capture once, index equal to the uninterrupted one.
Moments (when to kill) never decide pass/fail.

usage: batch_mpi.py MASTWATCH(MPI build) MW-SCENGEN SOURCE_DIR
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from batch import NIGHT, make_spool, write_config  # noqa: E402
from mwtest import SKIP, Failures  # noqa: E402

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")


def mpirun(n, mw, cfg, out, spool, *extra, wait=True):
    cmd = ["mpirun", "--oversubscribe", "-np", str(n), mw, "batch", "--config", cfg, "-o", out,
           "--night", NIGHT, "-q", *extra, spool]
    if not wait:
        return subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
    return subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=600)


def single(mw, cfg, out, spool, *extra):
    env = dict(os.environ, MW_BATCH_MPI="0")
    return subprocess.run([mw, "batch", "--config", cfg, "-o", out, "--night", NIGHT, "-q",
                           *extra, spool], env=env, capture_output=True, text=True, timeout=600)


def index(out):
    """The index's tables as bytes, its root attributes, anomalies.jsonl."""
    d = os.path.join(out, NIGHT)
    with h5py.File(os.path.join(d, "index.h5"), "r") as f:
        t = {k: f[k][:] for k in ("flows", "anomalies", "captures")}
        attrs = {k: v for k, v in f.attrs.items()}
    return t, attrs, open(os.path.join(d, "anomalies.jsonl")).read()


def meta_of(out, name):
    """Root attribute name of every capture's results file of the night."""
    vals = []
    for root, _, files in os.walk(os.path.join(out, NIGHT, "captures")):
        for n in files:
            if n.endswith(".h5"):
                with h5py.File(os.path.join(root, n), "r") as f:
                    vals.append(int(f.attrs[name]))
    return vals


def same_index(a, b):
    """Differences between two index() results (empty when equal)."""
    diffs = [f"/{k} differs ({len(a[0][k])} vs {len(b[0][k])} rows)" for k in a[0]
             if a[0][k].dtype != b[0][k].dtype or a[0][k].tobytes() != b[0][k].tobytes()]
    diffs += [f"root attribute {k}" for k in a[1] if not np.array_equal(a[1][k], b[1].get(k))]
    if a[2] != b[2]:
        diffs.append("anomalies.jsonl")
    return diffs


def model_diffs(p1, p2):
    """Datasets that differ byte for byte, and root attributes that differ."""
    out, attrs = [], []
    with h5py.File(p1, "r") as f, h5py.File(p2, "r") as g:
        names = []
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        for n in names:
            if n not in g or f[n][:].tobytes() != g[n][:].tobytes():
                out.append(n)
        attrs = [k for k in set(f.attrs) | set(g.attrs)
                 if k not in f.attrs or k not in g.attrs or
                 not np.array_equal(f.attrs[k], g.attrs[k])]
    return out, sorted(attrs)


def rank_pid(rank, under):
    """pid of the `mastwatch batch` process of this MPI rank under session leader `under`."""
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            if os.getsid(int(p)) != under:
                continue
            cmd = open(f"/proc/{p}/cmdline", "rb").read().split(b"\0")
            env = open(f"/proc/{p}/environ", "rb").read().split(b"\0")
        except (OSError, ProcessLookupError):
            continue
        if len(cmd) > 1 and cmd[1] == b"batch" and f"OMPI_COMM_WORLD_RANK={rank}".encode() in env:
            return int(p)
    return None


def state_lines(out):
    p = os.path.join(out, "state", "done.tsv")
    return open(p).read().splitlines() if os.path.exists(p) else []


def kill_rank(mw, cfg, out, spool, rank):
    """Starts -np 2, SIGKILLs `rank` once it records one more capture; how many are recorded."""
    start = len(state_lines(out))
    p = mpirun(2, mw, cfg, out, spool, wait=False)
    deadline = time.time() + 120
    killed, pid = False, None
    while p.poll() is None and time.time() < deadline:
        if pid is None:
            pid = rank_pid(rank, p.pid)
        elif not killed and len(state_lines(out)) > start:
            os.kill(pid, signal.SIGKILL)
            killed = True
        time.sleep(0.002)
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    return killed, len(state_lines(out))


def durable(out):
    """State lines whose results are missing (must be none)."""
    bad = []
    for ln in state_lines(out):
        f = ln.split("\t")
        if f[2] == "done" and not os.path.exists(os.path.join(out, f[1], f[9])):
            bad.append(f[-1])
    return bad


def main():
    mw, scengen, src = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
    if shutil.which("mpirun") is None:
        print("SKIP: no mpirun")
        return SKIP
    fails = Failures()
    with tempfile.TemporaryDirectory(prefix="mw-batch-mpi-") as tmp:
        spool = make_spool(tmp, scengen, src)
        # vlan_tracking: false and dedup: true travel to the ranks with each capture
        cfg = write_config(tmp, src, "sites:\n  - name: north\n"
                           "    match: [\"*/north/*\", \"*/north2/*\"]\n"
                           f"    inventory: {src}/captures/site.yaml\n"
                           f"    model: {src}/models/demo-site.h5\n    vlan_tracking: false\n"
                           "    dedup: true\n")
        ncaps = sum(len(fs) for _, _, fs in os.walk(spool))

        # 1. the same index whatever ran it
        out1 = os.path.join(tmp, "out1")
        r = single(mw, cfg, out1, spool, "--jobs", "1")
        fails.check(r.returncode == 3, f"--jobs 1: exit {r.returncode}: {r.stderr}")
        ref = index(out1)
        fails.check(len(ref[0]["captures"]) == ncaps and len(ref[0]["flows"]) > 0, "reference")
        for n in (2, 3):
            out = os.path.join(tmp, f"np{n}")
            r = mpirun(n, mw, cfg, out, spool)
            fails.check(r.returncode == 3, f"-np {n}: exit {r.returncode}: {r.stderr[-2000:]}")
            d = same_index(ref, index(out))
            fails.check(not d, f"-np {n}: index differs from --jobs 1: {d}")
            tracking = meta_of(out, "vlan_tracking")
            fails.check(tracking and set(tracking) == {0},
                        f"-np {n}: vlan_tracking of the results files {tracking}, want 0")
            dedup = meta_of(out, "dedup")
            fails.check(dedup and set(dedup) == {1},
                        f"-np {n}: dedup of the results files {dedup}, want 1")
            lines = state_lines(out)
            fails.check(len(lines) == ncaps - 1 and
                        len({ln.split("\t")[-1] for ln in lines}) == ncaps - 1,
                        f"-np {n}: {len(lines)} state lines for {ncaps - 1} captures")
            r = mpirun(n, mw, cfg, out, spool)  # again: nothing to do
            fails.check(len(state_lines(out)) == ncaps - 1 and not same_index(ref, index(out)),
                        f"-np {n} rerun analyzed something or changed the index")

        # 2. --train: one model from the ranks' models
        clean = os.path.join(tmp, "clean")
        os.makedirs(os.path.join(clean, "north"))
        for i in range(5):
            subprocess.run([scengen, "-q", "--seed", str(31 + i), "--start",
                            f"2026-11-{12 + i}T00:00:00Z", "--days", "1", "--scale", "6", "-o",
                            os.path.join(clean, "north", f"day{i}.pcap")], check=True)
        old = time.time() - 3600
        for n_ in os.listdir(os.path.join(clean, "north")):
            os.utime(os.path.join(clean, "north", n_), (old, old))
        models = {}
        for how in ("jobs1", "np2", "np3"):
            model = os.path.join(tmp, f"model-{how}.h5")
            shutil.copy(os.path.join(src, "models", "demo-site.h5"), model)
            c = os.path.join(tmp, "cfg-" + how)
            os.makedirs(c)
            c = write_config(c, src, "sites:\n  - name: north\n    match: [\"*/north/*\"]\n"
                             f"    inventory: {src}/captures/site.yaml\n    model: {model}\n")
            out = os.path.join(tmp, f"train-{how}")
            r = (single(mw, c, out, clean, "--jobs", "1", "--train") if how == "jobs1" else
                 mpirun(int(how[2:]), mw, c, out, clean, "--train"))
            fails.check(r.returncode in (0, 1) and "folded 5 results file(s)" in r.stderr,
                        f"--train {how}: exit {r.returncode}: {r.stderr[-2000:]}")
            models[how] = model
        for how in ("np2", "np3"):
            ds, attrs = model_diffs(models["jobs1"], models[how])
            fails.check(not ds, f"--train {how}: model datasets differ from --jobs 1: {ds}")
            fails.check(set(attrs) <= {"created_utc", "sources"},
                        f"--train {how}: root attributes differ: {attrs}")

        # 3. a rank killed mid-run, twice; then a run without mpirun completes the spool
        outk = os.path.join(tmp, "outk")
        for rank in (1, 0):
            killed, at = kill_rank(mw, cfg, outk, spool, rank)
            print(f"note: rank {rank} {'killed' if killed else 'not killed (run ended first)'}"
                  f" with {at} of {ncaps - 1} captures recorded")
            bad = durable(outk)
            fails.check(not bad, f"after killing rank {rank}: state names missing results {bad}")
        r = single(mw, cfg, outk, spool, "--jobs", "2")
        fails.check(r.returncode == 3, f"resume: exit {r.returncode}: {r.stderr}")
        d = same_index(ref, index(outk))
        fails.check(not d, f"resume after killed ranks: index differs: {d}")
        lines = state_lines(outk)
        fails.check(len(lines) == ncaps - 1 and
                    len({ln.split("\t")[-1] for ln in lines}) == ncaps - 1,
                    f"resume: {len(lines)} state lines for {ncaps - 1} captures")
        leftovers = [n for _, _, fs in os.walk(outk) for n in fs if ".partial" in n or ".tmp." in n]
        fails.check(not leftovers, f"resume: leftovers {leftovers}")
    return fails.finish("batch under mpirun: -np 2/3 = --jobs 1 (index, model), killed rank")


if __name__ == "__main__":
    sys.exit(main())
