#!/usr/bin/python3
"""gzip and zstd compressed captures, read on the fly (analyzer/capture/capture_decomp.c).

- captures/incident-day.pcap plain, .gz, .zst, and the .gz renamed to .pcap (the codec
  comes from the magic bytes, not the name): identical /flows, complete=1, exit 0.
- a truncated .gz and .zst: exit 1, one "corrupt or truncated" line, the rows read before
  the cut are written (complete=0); a file with a zstd magic and garbage: exit 1.

usage: compressed.py MASTWATCH SOURCE_DIR
"""
import gzip
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

from mwtest import Failures, run


def flows(path):
    with h5py.File(path, "r") as f:
        return f["flows"][:], int(f.attrs["complete"])


def main():
    mw, src = sys.argv[1], sys.argv[2]
    fails = Failures()
    plain = os.path.join(src, "captures", "incident-day.pcap")
    with tempfile.TemporaryDirectory(prefix="mw-compressed-") as tmp:
        data = open(plain, "rb").read()
        files = {"plain": plain}
        files["gz"] = os.path.join(tmp, "day.pcap.gz")
        with gzip.open(files["gz"], "wb") as f:
            f.write(data)
        files["renamed"] = os.path.join(tmp, "renamed.pcap")
        shutil.copy(files["gz"], files["renamed"])
        if shutil.which("zstd"):
            files["zst"] = os.path.join(tmp, "day.pcap.zst")
            subprocess.run(["zstd", "-q", "-f", plain, "-o", files["zst"]], check=True)
        else:
            print("note: no zstd tool, the .zst case is not run")
        ref = None
        for name, path in files.items():
            out = os.path.join(tmp, name + ".h5")
            r = run([mw, "analyze", "-q", "-o", out, path])
            fails.check(r.returncode == 0, f"{name}: exit {r.returncode}: {r.stderr.strip()}")
            if not os.path.exists(out):
                continue
            rows, complete = flows(out)
            fails.check(complete == 1, f"{name}: complete={complete}")
            if ref is None:
                ref = rows
            else:
                fails.check(len(rows) == len(ref) and np.array_equal(rows, ref),
                            f"{name}: /flows differs from the plain capture's")
        cuts = {"gz": files["gz"]}
        if "zst" in files:
            cuts["zst"] = files["zst"]
        for name, path in cuts.items():
            cut = os.path.join(tmp, "cut." + name)
            with open(path, "rb") as f:
                blob = f.read()
            with open(cut, "wb") as f:
                f.write(blob[:len(blob) // 2])
            out = cut + ".h5"
            r = run([mw, "analyze", "-q", "-o", out, cut])
            fails.check(r.returncode == 1, f"truncated {name}: exit {r.returncode}")
            fails.check("corrupt or truncated" in r.stderr, f"truncated {name}: {r.stderr!r}")
            if os.path.exists(out):
                rows, complete = flows(out)
                fails.check(complete == 0 and 0 < len(rows) < len(ref),
                            f"truncated {name}: complete={complete} rows={len(rows)}")
            else:
                fails.check(False, f"truncated {name}: no results file")
        bad = os.path.join(tmp, "bad.pcap")
        with open(bad, "wb") as f:
            f.write(b"\x28\xb5\x2f\xfd" + b"not zstd at all" * 10)
        r = run([mw, "analyze", "-q", "-o", bad + ".h5", bad])
        fails.check(r.returncode == 1 and "HDF5-DIAG" not in r.stderr,
                    f"garbage zstd: exit {r.returncode}: {r.stderr!r}")
    return fails.finish("compressed: gzip/zstd read like the plain capture; cuts reported")


if __name__ == "__main__":
    sys.exit(main())
