"""Shared helpers for mastwatch's integration tests (run with /usr/bin/python3)."""
import collections
import contextlib
import hashlib
import json
import os
import subprocess
import sys

import h5py

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import mw_flows  # noqa: E402,F401

SKIP = 77  # ctest SKIP_RETURN_CODE


def shared_captures(shared):
    caps = os.path.join(shared, "captures")
    if not os.path.isdir(caps):
        print(f"SKIP: {caps} is absent")
        sys.exit(SKIP)
    return caps


def file_sha256(path):
    """The file's SHA-256, hex: proof that a run left a file untouched."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


@contextlib.contextmanager
def small_disk(parent, name, size, what):
    """A tmpfs of size (mount's: "24k") at parent/name for a full-disk case, unmounted after;
    None, with a note that what is not run, when it cannot be had (not root)."""
    if os.geteuid() != 0:
        print(f"note: not root (a tmpfs is needed): {what} not run")
        yield None
        return
    disk = os.path.join(parent, name)
    os.mkdir(disk)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", disk]).returncode:
        print(f"note: cannot mount tmpfs: {what} not run")
        yield None
        return
    try:
        yield disk
    finally:
        subprocess.run(["umount", disk])


def fill_disk(disk, name="fill"):
    """Takes what space the disk has left, in disk/name: the next write there fails."""
    with open(os.path.join(disk, name), "wb", buffering=0) as f:
        try:
            while f.write(b"\0" * 4096):
                pass
        except OSError:
            pass


def finish(proc, sig=None, timeout=20):
    """Sends sig (if any), waits for proc to end; returns its stderr, "hang" when it did not
    end within timeout (it is killed then)."""
    if sig is not None:
        proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        err = "hang"
    return err or ""


Analysis = collections.namedtuple("Analysis", "flows counters attrs anomalies stderr")


def whole_flows(mw, pcap, tmp):
    """`mastwatch analyze` with no record cut on time (as ndpiReader and tshark count a
    conversation): (its /flows as mw_flows.load gives them, the run). The run's exit status
    is the caller's to check; no flows (an empty frame) when it wrote no file."""
    out = os.path.join(tmp, "whole.h5")
    if os.path.exists(out):
        os.unlink(out)
    r = run([mw, "analyze", "-q", "--idle-timeout", "86400", "--active-timeout", "604800",
             "-o", out, pcap])
    return (mw_flows.load(out) if os.path.exists(out) else None), r


def present(caps, rels):
    """(rel, path) of the captures of rels that are there."""
    for rel in rels:
        path = os.path.join(caps, rel)
        if os.path.exists(path):
            yield rel, path


def analyze_file(mw, pcap, out, extra=(), model=None, timeout=600):
    """`mastwatch analyze -q -o out [extra] pcap`, asserted to exit 0; with model
    (inventory, model) also scored into out.jsonl. Its /flows, /stats/counters by name,
    root attributes, anomalies (JSON lines, [] without a model) and stderr."""
    args = [mw, "analyze", "-q", "-o", out, *extra]
    if model:
        args += ["--inventory", model[0], "--model", model[1], "--anomalies", out + ".jsonl"]
    r = run(args + [pcap], timeout=timeout)
    assert r.returncode == 0, f"{pcap}: {r.stderr}"
    with h5py.File(out, "r") as f:
        flows = f["flows"][:]
        counters = {n.decode(): int(v) for n, v in f["stats/counters"][:]}
        attrs = dict(f.attrs)
    anomalies = []
    if model:
        with open(out + ".jsonl") as f:
            anomalies = [json.loads(line) for line in f]
    return Analysis(flows, counters, attrs, anomalies, r.stderr)


def check_h5(path):
    """The file opens, /flows loads into pandas, the lookup tables exist."""
    with h5py.File(path, "r") as f:
        assert "flows" in f and "meta/protocols" in f and "stats/counters" in f, list(f)
        assert f.attrs["schema_version"] >= 1
        import pandas as pd
        pd.DataFrame(f["flows"][:])
        return dict(f.attrs)


class Failures:
    def __init__(self):
        self.items = []

    def check(self, cond, what):
        if not cond:
            self.items.append(what)
            print("FAIL:", what)

    def finish(self, passed_msg):
        if self.items:
            print(f"{len(self.items)} checks failed")
            return 1
        print(passed_msg)
        return 0
