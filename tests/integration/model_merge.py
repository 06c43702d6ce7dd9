#!/usr/bin/python3
"""Models merge: training on day A and on day B separately, then
`mastwatch model merge`, gives the same model as training on A and B together
(every dataset as an unordered set of rows, floats to 1e-6 relative, and the
root attributes, except those naming sources, files or creation time). Checked
with captures (pcap) and with mastwatch result files (.h5) as training input;
merging is also order-insensitive, and `model show` works on every model.
Whether a model trained on a capture equals one trained on that capture's
results file is printed as a note only.
Skips (77) while `mastwatch train` / `model merge` do not exist.

usage: model_merge.py MASTWATCH MW-SCENGEN
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import mw_eval  # noqa: E402
from mwtest import SKIP, Failures  # noqa: E402

SEED_A, SEED_B = 7400001, 7400002


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    tools = mw_eval.Tools(sys.argv[1], sys.argv[2])
    if not tools.has_train() or not tools.has_merge():
        print("SKIP: this mastwatch has no 'train' / 'model merge' command yet")
        return SKIP
    fails = Failures()
    with tempfile.TemporaryDirectory(prefix="mw-merge-") as w:
        P = lambda n: os.path.join(w, n)  # noqa: E731
        inv = P("site.yaml")
        # two adjacent days (Monday, Tuesday), each its own capture
        tools.generate(P("A.pcap"), SEED_A, mw_eval.TRAIN_START, 1, 4, inventory=inv)
        tools.generate(P("B.pcap"), SEED_B, mw_eval.shift_day(mw_eval.TRAIN_START, 1), 1, 4,
                       inventory=P("site-b.yaml"))
        for d in "AB":
            p = subprocess.run([tools.mastwatch, "analyze", "-q", "--inventory", inv, "-o",
                                P(f"{d}.h5"), P(f"{d}.pcap")], capture_output=True, text=True)
            if p.returncode != 0:
                fails.check(False, f"analyze {d}.pcap: exit {p.returncode}: {p.stderr}")
                return fails.finish("")

        def same(m1, m2, what):
            try:
                diffs = mw_eval.compare_models(m1, m2)
            except Exception as e:  # an unreadable model is a failure, not a crash
                diffs = [f"cannot compare: {e!r}"]
            for d in diffs[:10]:
                print("  ", d)
            fails.check(not diffs, f"{what}: {len(diffs)} differences")

        for ext in ("pcap", "h5"):
            try:
                tools.train(inv, P(f"mA.{ext}.h5"), [P(f"A.{ext}")])
                tools.train(inv, P(f"mB.{ext}.h5"), [P(f"B.{ext}")])
                tools.train(inv, P(f"mAB-joint.{ext}.h5"), [P(f"A.{ext}"), P(f"B.{ext}")])
                tools.merge(P(f"mAB-merged.{ext}.h5"), [P(f"mA.{ext}.h5"), P(f"mB.{ext}.h5")])
                tools.merge(P(f"mBA-merged.{ext}.h5"), [P(f"mB.{ext}.h5"), P(f"mA.{ext}.h5")])
            except mw_eval.ToolError as e:
                fails.check(False, f"{ext} input: {e}")
                continue
            same(P(f"mAB-merged.{ext}.h5"), P(f"mAB-joint.{ext}.h5"),
                 f"{ext} input: merge(train A, train B) vs train A+B")
            same(P(f"mAB-merged.{ext}.h5"), P(f"mBA-merged.{ext}.h5"),
                 f"{ext} input: merge(A, B) vs merge(B, A)")
            if ext == "h5":
                # informational: a results file holds flows cut by analyze's timeouts,
                # which need not be the records train makes from the capture itself
                d = mw_eval.compare_models(P("mA.pcap.h5"), P("mA.h5.h5"))
                print(f"NOTE: train A.pcap vs train A.h5 (analyze's flows): {len(d)} "
                      "differences (not a failure)")
                for x in d[:5]:
                    print("  ", x[:300])
        for m in sorted(os.listdir(w)):
            if m.startswith("m") and m.endswith(".h5"):
                try:
                    out = tools.show(P(m))
                    fails.check(out.strip() != "", f"model show {m}: empty output")
                except mw_eval.ToolError as e:
                    fails.check(False, f"model show {m}: {e}")
        if os.path.exists(P("mAB-merged.h5.h5")):
            print(tools.show(P("mAB-merged.h5.h5")))
    return fails.finish("model merge: merged models equal jointly trained ones")


if __name__ == "__main__":
    sys.exit(main())
