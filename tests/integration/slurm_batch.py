#!/usr/bin/python3
"""scripts/slurm-batch.sh without Slurm: the array tasks' bodies (SLURM_ARRAY_TASK_ID 0..2 of 3)
then the merge job, over batch.py's spool. Checks: every capture named like one is in exactly
one shard; the merged night's index equals a single `--jobs 1` run's byte for byte (/flows,
/anomalies, /captures, root attributes, anomalies.jsonl); one state line per capture; a
second merge changes nothing.

usage: slurm_batch.py MASTWATCH MW-SCENGEN SOURCE_DIR
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from batch import NIGHT, make_spool, write_config  # noqa: E402
from batch_mpi import index, same_index, single, state_lines  # noqa: E402
from mwtest import Failures  # noqa: E402


def main():
    mw, scengen, src = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
    script = os.path.join(src, "scripts", "slurm-batch.sh")
    fails = Failures()
    with tempfile.TemporaryDirectory(prefix="mw-slurm-") as tmp:
        spool = make_spool(tmp, scengen, src)
        cfg = write_config(tmp, src)
        ncaps = sum(len(fs) for _, _, fs in os.walk(spool))
        ref_out = os.path.join(tmp, "ref")
        single(mw, cfg, ref_out, spool, "--jobs", "1")
        ref = index(ref_out)
        out = os.path.join(tmp, "out")
        args = ["--tasks", "3", "--config", cfg, "-o", out, "--night", NIGHT, spool]
        env = dict(os.environ, MW_BIN=mw, MW_BATCH_MPI="0")
        for k in range(3):
            r = subprocess.run([script, "task", *args], env=dict(env, SLURM_ARRAY_TASK_ID=str(k)),
                               capture_output=True, text=True)
            fails.check(r.returncode == 0, f"task {k}: exit {r.returncode}: {r.stderr}")
        shard = {}
        for k in range(3):
            for ln in state_lines(os.path.join(out + ".shards", str(k))):
                p = ln.split("\t")[-1]
                fails.check(p not in shard, f"{p} in shards {shard.get(p)} and {k}")
                shard[p] = k
        print(f"note: shard sizes {[list(shard.values()).count(k) for k in range(3)]}")
        fails.check(len(shard) == ncaps - 1, f"{len(shard)} captures in shards, want {ncaps - 1}")
        for n in range(2):
            r = subprocess.run([script, "merge", *args], env=env, capture_output=True, text=True)
            fails.check(r.returncode == 3, f"merge {n}: exit {r.returncode}: {r.stderr}")
            d = same_index(ref, index(out))
            fails.check(not d, f"merge {n}: index differs from --jobs 1: {d}")
            lines = state_lines(out)
            fails.check(len(lines) == ncaps - 1 and
                        len({ln.split("\t")[-1] for ln in lines}) == ncaps - 1,
                        f"merge {n}: {len(lines)} state lines for {ncaps - 1} captures")
    return fails.finish("slurm-batch.sh: sharded tasks + merge = one --jobs 1 batch")


if __name__ == "__main__":
    sys.exit(main())
