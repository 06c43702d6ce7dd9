"""Shared helpers for mastwatch's integration tests (run with /usr/bin/python3)."""
import hashlib
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
