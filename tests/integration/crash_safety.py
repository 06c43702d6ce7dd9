#!/usr/bin/python3
"""Crash-safe results and safe outputs, on the real binary.

- SIGKILL at seeded random moments of `analyze` (captures/clean-week.pcap fed
  through a FIFO, slowly, so a run lasts a few seconds and flushes several
  times) and of `capture -i lo` (tcpreplay; root only): every .partial opens
  with h5py (swmr=True) and /flows loads into pandas, its rows are rows of
  the full run, nothing a reader saw before the kill is lost, and
  `mastwatch recover` turns it into an ordinary file (complete=0,
  recovered=1) that mw_report.py and `train` accept. Every other kill runs
  with --deflate-threads 3 (three /flows chunks in flight); a whole run
  with it writes the same rows in the same order as one thread.
- Two runs on one -o: the second fails at once, the first is untouched.
- -o equal to an input, a device, a directory, "-", a symlink planted at
  X.h5.partial (its target untouched); --anomalies equal to an input or a
  directory; all refused before any input is read.
- A full disk under the results file (root: a small tmpfs): one line, no
  HDF5-DIAG stack.
- Models: written under a temporary name and renamed (nothing else left).
Timing is never a pass/fail criterion: moments only decide where a run dies.

usage: crash_safety.py MASTWATCH SOURCE_DIR [MOMENTS]
"""
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

import h5py
import pandas as pd

from mwtest import Failures, file_sha256, mw_flows, run, small_disk

SEED = 20261130
CHUNK, PAUSE = 65536, 0.04  # FIFO feed: ~1.6 MB/s, clean-week.pcap in ~7 s


def one_line_error(r_stderr):
    lines = [ln for ln in r_stderr.splitlines() if ln.strip()]
    return len(lines) == 1 and lines[0].startswith("mastwatch: ") and "HDF5-DIAG" not in r_stderr


def feeder(fifo, data, stop):
    """Writes data into the FIFO slowly; gives up quietly when the reader dies."""
    try:
        with open(fifo, "wb") as f:
            for i in range(0, len(data), CHUNK):
                if stop.is_set():
                    return
                f.write(data[i:i + CHUNK])
                f.flush()
                time.sleep(PAUSE)
    except (BrokenPipeError, OSError):
        pass


def swmr_rows(path):
    """Rows a live reader sees now (None when the file is not there or not readable yet)."""
    try:
        with h5py.File(path, "r", swmr=True) as f:
            return f["flows"].shape[0]
    except (OSError, KeyError):
        return None


def rows_by_id(path, swmr=False):
    with h5py.File(path, "r", swmr=swmr) as f:
        a = f["flows"][:]
    return {int(r["flow_id"]): r.tobytes() for r in a}, len(a)


def check_partial(mw, partial, ref, seen, fails, what):
    """The partial opens, loads, holds only rows of the full run, at least `seen`; recover works.
    Returns (rows in the partial, rows recovered)."""
    final = partial[: -len(".partial")]
    try:
        with h5py.File(partial, "r", swmr=True) as f:
            df = pd.DataFrame(f["flows"][:])
            attrs = dict(f.attrs)
            fails.check("meta/protocols" in f and "stats/counters" in f,
                        f"{what}: partial without /meta or /stats")
    except Exception as e:  # noqa: BLE001 - any failure to open is the finding
        fails.check(False, f"{what}: partial does not open with h5py: {e}")
        return 0, 0
    got, n = rows_by_id(partial, swmr=True)
    # complete=1 only after the file was closed and before its rename (the fsync between
    # them is the window): then it holds every row of the full run
    closed = attrs.get("complete") == 1 and ref is not None and n == len(ref)
    fails.check(attrs.get("schema_version") == 7 and (attrs.get("complete") == 0 or closed) and
                "command_line" in attrs,
                f"{what}: partial attributes {sorted(attrs)}, complete={attrs.get('complete')}, "
                f"{n} rows")
    fails.check(len(got) == n and len(df) == n, f"{what}: duplicate flow ids in the partial")
    if ref is not None:
        wrong = [k for k, v in got.items() if ref.get(k) != v]
        fails.check(not wrong, f"{what}: {len(wrong)} rows differ from the full run's")
    fails.check(seen is None or n >= seen,
                f"{what}: {n} rows after the kill, a reader saw {seen} before it")
    journal = partial + ".rows"
    fails.check(os.path.exists(journal), f"{what}: no rows journal beside the partial")
    r = run([mw, "recover", partial])
    fails.check(r.returncode == 0 and os.path.exists(final) and not os.path.exists(partial),
                f"{what}: recover exit {r.returncode}: {r.stderr!r}")
    if r.returncode != 0:
        return n, 0
    with h5py.File(final, "r") as f:  # an ordinary file now: no swmr needed
        rec = len(pd.DataFrame(f["flows"][:]))
        fa = dict(f.attrs)
    # /flows of a partial holds whole chunks; the journal adds the open chunk's flushed rows
    fails.check(rec >= n and fa.get("complete") == 0 and fa.get("recovered") == 1 and
                "recovery_reason" in fa, f"{what}: recovered {rec} of {n} rows, attrs {fa}")
    fails.check(not os.path.exists(journal), f"{what}: recover left the rows journal")
    if rec > 0:
        # the span comes from the run's last checkpoint, or from the rows before the first one
        with h5py.File(final, "r") as f:
            counters = {bytes(n).rstrip(b"\0").decode(): int(v)
                        for n, v in f["stats/counters"][:]}
            starts = f["flows"]["first_us"][:]
        fails.check(0 < fa.get("first_us", 0) <= starts[starts > 0].min() and
                    fa.get("last_us", 0) >= fa.get("first_us", 0),
                    f"{what}: recovered span {fa.get('first_us')}..{fa.get('last_us')}")
        if attrs.get("first_us", 0) != 0:  # a checkpoint reached the partial
            fails.check(counters.get("packets", 0) > 0 and counters.get("bytes", 0) > 0,
                        f"{what}: checkpointed counters lost: {counters.get('packets')}")
    if ref is not None:
        got, _ = rows_by_id(final)
        wrong = [k for k, v in got.items() if ref.get(k) != v]
        fails.check(len(got) == rec and not wrong,
                    f"{what}: {len(wrong)} recovered rows differ from the full run's")
    return n, rec


def deflate_threads_same(mw, cap, site, fails, tmp):
    """Three /flows chunks deflated at once reach the file in order: the same rows, in the
    same order and chunks, as with one deflating thread."""
    rows = []
    for n in ("1", "3"):
        path = os.path.join(tmp, f"deflate{n}.h5")
        r = run([mw, "analyze", "-q", "--deflate-threads", n] + site + ["-o", path, cap])
        fails.check(r.returncode == 0, f"--deflate-threads {n}: {r.stderr}")
        with h5py.File(path, "r") as f:
            rows.append(f["flows"][:])
    fails.check(len(rows[0]) > 3 * 2048, f"too few rows for chunks in flight: {len(rows[0])}")
    fails.check(len(rows[0]) == len(rows[1]) and rows[0].tobytes() == rows[1].tobytes(),
                f"--deflate-threads 3: {len(rows[1])} rows, not the {len(rows[0])} of one "
                "thread in the same order")


def kill_analyze(mw, root, fails, moments, tmp):
    cap = os.path.join(root, "captures", "clean-week.pcap")
    data = open(cap, "rb").read()
    site = ["--inventory", os.path.join(root, "captures", "site.yaml")]
    ref_path = os.path.join(tmp, "ref.h5")
    r = run([mw, "analyze", "-q", "-t", "2"] + site + ["-o", ref_path, cap])
    fails.check(r.returncode == 0, f"reference run: {r.stderr}")
    ref, nref = rows_by_id(ref_path)
    deflate_threads_same(mw, cap, site, fails, tmp)
    rng = random.Random(SEED)
    stats = {"moments": moments, "no_file": 0, "finished": 0, "partial": 0, "rows": [],
             "stray": 0}
    for k in range(moments):
        d = os.path.join(tmp, f"kill{k}")
        os.mkdir(d)
        fifo, out = os.path.join(d, "in.pcap"), os.path.join(d, "k.h5")
        os.mkfifo(fifo)
        moment = rng.uniform(0.0, len(data) / CHUNK * PAUSE * 1.2)
        stop = threading.Event()
        feed = threading.Thread(target=feeder, args=(fifo, data, stop))
        # every other kill with three /flows chunks in flight (the rows journal holds the
        # oldest one's rows only)
        deflate = ["--deflate-threads", "3"] if k % 2 else []
        proc = subprocess.Popen([mw, "analyze", "-q", "-t", "2"] + deflate + site +
                                ["-o", out, fifo], stderr=subprocess.DEVNULL)
        feed.start()
        t0, seen = time.time(), None
        while time.time() - t0 < moment and proc.poll() is None:
            s = swmr_rows(out + ".partial")
            seen = s if s is not None else seen
            time.sleep(min(0.2, max(0.0, moment - (time.time() - t0))))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stop.set()
        try:  # unblock a feeder still waiting for a reader
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        except OSError:
            pass
        feed.join()
        leftovers = [n for n in os.listdir(d) if n not in ("in.pcap", "k.h5", "k.h5.partial")]
        stats["stray"] += bool(leftovers)
        if os.path.exists(out):
            stats["finished"] += 1
            with h5py.File(out, "r") as f:
                fails.check(f.attrs["complete"] == 1, f"kill {k}: final file not complete")
        elif os.path.exists(out + ".partial"):
            stats["partial"] += 1
            n, rec = check_partial(mw, out + ".partial", ref, seen, fails, f"analyze kill {k} "
                                   f"at {moment:.2f} s")
            stats["rows"].append((seen or 0, n, rec))
        else:
            stats["no_file"] += 1
            fails.check(not leftovers, f"kill {k} at {moment:.2f} s: left {leftovers}")
    # a recovered file is accepted by the report and by train
    recovered = [os.path.join(tmp, f"kill{k}", "k.h5") for k in range(moments)
                 if os.path.exists(os.path.join(tmp, f"kill{k}", "k.h5"))]
    if recovered:
        # the one with the most rows: a kill in the first second may leave nothing to learn
        def rows(p):
            with h5py.File(p, "r") as f:
                return len(f["flows"])
        recovered.sort(key=rows)
        rep = run(["/usr/bin/python3", os.path.join(root, "scripts", "mw_report.py"),
                   recovered[-1]])
        fails.check(rep.returncode in (0, 1) and "INCOMPLETE" not in rep.stderr,
                    f"mw_report on a recovered file: exit {rep.returncode} {rep.stderr!r}")
        model = os.path.join(tmp, "from-recovered.h5")
        tr = run([mw, "train", "-q", "--inventory", os.path.join(root, "captures", "site.yaml"),
                  "-o", model, recovered[-1]])
        fails.check(tr.returncode == 0 and os.path.exists(model),
                    f"train on a recovered file: exit {tr.returncode} {tr.stderr!r}")
    print(f"analyze: {moments} kills: {stats['partial']} partials (all checked), "
          f"{stats['finished']} finished first, {stats['no_file']} before the file existed, "
          f"{stats['stray']} with a leftover; full run {nref} rows")
    for seen, n, rec in stats["rows"]:
        print(f"  reader saw {seen:6d} rows before the kill, partial {n:6d}, recovered {rec:6d}")
    return stats


def kill_capture(mw, root, fails, moments, tmp):
    if os.geteuid() != 0 or shutil.which("tcpreplay") is None:
        print("note: capture kills need root and tcpreplay: not run")
        return
    cap = os.path.join(root, "captures", "clean-week.pcap")
    rng = random.Random(SEED + 1)
    done = []
    for k in range(moments):
        out = os.path.join(tmp, f"live{k}.h5")
        proc = subprocess.Popen([mw, "capture", "-q", "-i", "lo", "-f", "not port 22",
                                 "--idle-timeout", "1", "--active-timeout", "1", "-o", out],
                                stderr=subprocess.DEVNULL)
        replay = subprocess.Popen(["tcpreplay", "-q", "-i", "lo", "--pps", "8000", cap],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        moment = rng.uniform(0.5, 6.0)
        t0, seen = time.time(), None
        while time.time() - t0 < moment:
            s = swmr_rows(out + ".partial")
            seen = s if s is not None else seen
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        replay.kill()
        replay.wait()
        if os.path.exists(out + ".partial"):
            n, rec = check_partial(mw, out + ".partial", None, seen, fails,
                                   f"capture kill {k} at {moment:.2f} s")
            done.append((seen or 0, n, rec))
        else:
            fails.check(False, f"capture kill {k} at {moment:.2f} s: no partial")
    print(f"capture: {moments} kills, {len(done)} partials checked")
    for seen, n, rec in done:
        print(f"  reader saw {seen:6d} rows before the kill, partial {n:6d}, recovered {rec:6d}")



def unsafe_outputs(mw, root, fails, tmp):
    cap = os.path.join(tmp, "in.pcap")
    shutil.copy(os.path.join(root, "captures", "incident-day.pcap"), cap)
    before = file_sha256(cap)
    d = os.path.join(tmp, "outs")
    os.mkdir(d)
    cases = [("input", ["-o", cap], 2), ("device", ["-o", "/dev/null"], 2),
             ("directory", ["-o", d], 2), ("dash", ["-o", "-"], 2)]
    for name, args, code in cases:
        t0 = time.time()
        r = run([mw, "analyze", "-q"] + args + [cap], cwd=d)
        fails.check(r.returncode == code and one_line_error(r.stderr),
                    f"-o {name}: exit {r.returncode}: {r.stderr!r}")
        print(f"-o {name}: exit {r.returncode} in {time.time() - t0:.2f} s: {r.stderr.strip()}")
    fails.check(file_sha256(cap) == before, "-o input: the capture changed")
    fails.check(stat.S_ISCHR(os.stat("/dev/null").st_mode), "-o /dev/null: not a device any more")
    fails.check(os.listdir(d) == [], f"refused runs left files: {os.listdir(d)}")
    # a symlink planted at X.h5.partial: refused, its target untouched
    target = os.path.join(tmp, "precious.txt")
    open(target, "w").write("precious\n")
    out = os.path.join(d, "x.h5")
    os.symlink(target, out + ".partial")
    r = run([mw, "analyze", "-q", "-o", out, cap])
    fails.check(r.returncode == 1 and one_line_error(r.stderr) and "recover" in r.stderr,
                f"planted symlink: exit {r.returncode}: {r.stderr!r}")
    fails.check(open(target).read() == "precious\n" and os.path.islink(out + ".partial") and
                not os.path.exists(out), "planted symlink: its target or the link was touched")
    os.unlink(out + ".partial")
    # --anomalies: an input, a directory
    site = os.path.join(root, "captures", "site.yaml")
    model = os.path.join(root, "models", "demo-site.h5")
    for name, dest in (("input", cap), ("directory", d)):
        r = run([mw, "analyze", "-q", "--inventory", site, "--model", model, "--anomalies", dest,
                 "-o", os.path.join(d, "y.h5"), cap])
        fails.check(r.returncode == 2 and one_line_error(r.stderr),
                    f"--anomalies {name}: exit {r.returncode}: {r.stderr!r}")
    fails.check(file_sha256(cap) == before and os.listdir(d) == [],
                f"--anomalies refusals touched something: {os.listdir(d)}")


def concurrent_runs(mw, root, fails, tmp):
    cap = os.path.join(root, "captures", "clean-week.pcap")
    data = open(cap, "rb").read()
    d = os.path.join(tmp, "two")
    os.mkdir(d)
    fifo, out = os.path.join(d, "in.pcap"), os.path.join(d, "same.h5")
    os.mkfifo(fifo)
    stop = threading.Event()
    feed = threading.Thread(target=feeder, args=(fifo, data, stop))
    first = subprocess.Popen([mw, "analyze", "-q", "-o", out, fifo], stderr=subprocess.PIPE,
                             text=True)
    feed.start()
    deadline = time.time() + 30
    while time.time() < deadline and swmr_rows(out + ".partial") is None:
        time.sleep(0.05)
    ino = os.stat(out + ".partial").st_ino
    second = run([mw, "analyze", "-q", "-o", out, cap])
    fails.check(second.returncode == 1 and one_line_error(second.stderr) and
                "another run writes" in second.stderr,
                f"second run on the same -o: exit {second.returncode}: {second.stderr!r}")
    fails.check(first.poll() is None and os.stat(out + ".partial").st_ino == ino,
                "second run: the first run's partial was touched")
    feed.join()
    err = first.communicate(timeout=120)[1]
    fails.check(first.returncode == 0 and os.path.exists(out),
                f"first run after the second: exit {first.returncode} {err!r}")
    if os.path.exists(out):
        with h5py.File(out, "r") as f:
            fails.check(f.attrs["complete"] == 1 and f["flows"].shape[0] > 10000,
                        f"first run's file: {dict(f.attrs)}")


def full_disk(mw, root, fails, tmp):
    with small_disk(tmp, "disk", "320k", "full disk") as disk:
        if disk is None:
            return
        out = os.path.join(disk, "o.h5")
        r = run([mw, "analyze", "-q", "-o", out, os.path.join(root, "captures",
                                                                "clean-week.pcap")])
        fails.check(r.returncode == 1 and one_line_error(r.stderr) and "o.h5" in r.stderr,
                    f"full disk: exit {r.returncode}: {r.stderr!r}")
        fails.check(not os.path.exists(out), "full disk: a final file was created")
        print(f"full disk: exit {r.returncode}: {r.stderr.strip()}")


def recover_cli(mw, fails, tmp):
    for args, code in (([], 2), (["a.h5"], 2), (["x", "y"], 2),
                       ([os.path.join(tmp, "none.h5.partial")], 1)):
        r = run([mw, "recover"] + args)
        fails.check(r.returncode == code and one_line_error(r.stderr),
                    f"recover {args}: exit {r.returncode}: {r.stderr!r}")
    empty = os.path.join(tmp, "empty.h5.partial")
    open(empty, "wb").close()
    r = run([mw, "recover", empty])
    fails.check(r.returncode == 1 and one_line_error(r.stderr) and os.path.exists(empty),
                f"recover of an empty partial: exit {r.returncode}: {r.stderr!r}")
    junk = os.path.join(tmp, "junk.h5.partial")
    open(junk, "wb").write(os.urandom(5000))
    r = run([mw, "recover", junk])
    fails.check(r.returncode == 1 and one_line_error(r.stderr) and os.path.exists(junk),
                f"recover of garbage: exit {r.returncode}: {r.stderr!r}")


def model_outputs(mw, root, fails, tmp):
    d = os.path.join(tmp, "models")
    os.mkdir(d)
    site = os.path.join(root, "captures", "site.yaml")
    src = os.path.join(root, "models", "demo-site.h5")
    out = os.path.join(d, "merged.h5")
    r = run([mw, "model", "merge", "-o", out, src, src])
    fails.check(r.returncode == 0 and os.listdir(d) == ["merged.h5"],
                f"model merge: exit {r.returncode} {r.stderr!r}, files {os.listdir(d)}")
    fails.check(run([mw, "model", "show", out]).returncode == 0, "merged model does not load")
    r = run([mw, "model", "merge", "-o", d, src])
    fails.check(r.returncode == 2 and one_line_error(r.stderr),
                f"model merge -o DIR: exit {r.returncode}: {r.stderr!r}")
    r = run([mw, "model", "merge", "-o", src, src])
    fails.check(r.returncode == 2 and one_line_error(r.stderr),
                f"model merge -o INPUT: exit {r.returncode}: {r.stderr!r}")
    r = run([mw, "train", "-q", "--inventory", site, "-o", "-",
             os.path.join(root, "captures", "clean-week.pcap")])
    fails.check(r.returncode == 2 and one_line_error(r.stderr),
                f"train -o -: exit {r.returncode}: {r.stderr!r}")


def main():
    mw, root = sys.argv[1], sys.argv[2]
    moments = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    fails = Failures()
    tmp = tempfile.mkdtemp()
    os.chmod(tmp, 0o755)
    try:
        unsafe_outputs(mw, root, fails, tmp)
        recover_cli(mw, fails, tmp)
        model_outputs(mw, root, fails, tmp)
        concurrent_runs(mw, root, fails, tmp)
        full_disk(mw, root, fails, tmp)
        kill_analyze(mw, root, fails, moments, tmp)
        kill_capture(mw, root, fails, max(4, moments // 4), tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return fails.finish("crash-safe results, recover and safe outputs all hold")


if __name__ == "__main__":
    sys.exit(main())
