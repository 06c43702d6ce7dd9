#!/usr/bin/python3
"""Learned baseline on generated scenarios, at a small scale: a model trained on
a clean generated week finds every behaviour mw-scengen can inject, each alone on
one evaluation day, with the expected detector and base station; a clean day
yields no anomaly above low severity; the anomaly JSON lines are well-formed.
Skips (77) while `mastwatch train` does not exist. The method is the one of
scripts/evaluate (docs/EVALUATION.md).

usage: baseline_behaviours.py MASTWATCH MW-SCENGEN
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import mw_eval  # noqa: E402
from mwtest import SKIP, Failures  # noqa: E402

SEED_BASE = 7300000  # not the committed samples', not scripts/evaluate's default
FIELDS = {"detector": str, "bs": str, "plane": str, "start_us": int, "end_us": int,
          "start": str, "end": str, "score": (int, float), "severity": str, "peer": str,
          "peer_port": int, "protocol": str, "service": str, "flow_ids": list,
          "explanation": str}


def well_formed(a):
    """Problems with one anomaly object, or []."""
    bad = [f"{k} missing or not {t}" for k, t in FIELDS.items()
           if k not in a or not isinstance(a[k], t) or isinstance(a[k], bool)]
    if bad:
        return bad
    if a["detector"] not in mw_eval.DETECTORS:
        bad.append(f"unknown detector {a['detector']!r}")
    if a["severity"] not in ("low", "medium", "high"):
        bad.append(f"bad severity {a['severity']!r}")
    if a["start_us"] > a["end_us"]:
        bad.append("start_us > end_us")
    if not all(isinstance(x, int) for x in a["flow_ids"]):
        bad.append("flow_ids are not all integers")
    if not a["explanation"].strip():
        bad.append("empty explanation")
    return bad


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    tools = mw_eval.Tools(sys.argv[1], sys.argv[2])
    if not tools.has_train():
        print("SKIP: this mastwatch has no 'train' command yet")
        return SKIP
    fails = Failures()
    with tempfile.TemporaryDirectory(prefix="mw-baseline-") as work:
        res = mw_eval.run_evaluation(tools, work, seed_base=SEED_BASE, repeat=1, clean_days=1,
                                     log=print)
        print(mw_eval.markdown(res))
        for e in res["errors"]:
            fails.check(False, f"tool error: {e}")
        for sc in res["scenarios"]:
            if sc["error"]:
                continue
            if sc["kind"] == "behaviour":
                for inj in sc["injections"]:
                    fails.check(inj["found"], f"{sc['name']} injected on {inj['bs']} "
                                f"({inj['start_iso']}..{inj['end_iso']}) not found by "
                                f"{'/'.join(inj['expected'])}; other detectors on it: "
                                f"{', '.join(inj['other_detectors']) or 'none'}")
            else:
                loud = [a for a in sc["anomalies"] if mw_eval.above_low(a)]
                fails.check(not loud, f"clean day {sc['start'][:10]}: {len(loud)} anomalies "
                            "above low severity, first: "
                            + (f"{loud[0]['detector']} {loud[0]['bs']} {loud[0]['severity']}: "
                               f"{loud[0]['explanation']}" if loud else ""))
        # the raw JSON lines: every field, in the documented types
        r0 = os.path.join(work, "r0")
        for name in sorted(os.listdir(r0)):
            if name.endswith(".anomalies.jsonl"):
                for n, a in enumerate(mw_eval.load_anomalies(os.path.join(r0, name)), 1):
                    bad = well_formed(a)
                    fails.check(not bad, f"{name}:{n}: " + "; ".join(bad))
        # --anomalies - writes the same objects to stdout
        beacon = os.path.join(r0, "beacon.pcap")
        if os.path.exists(beacon):
            p = subprocess.run([tools.mastwatch, "analyze", "-q", "--inventory",
                                os.path.join(r0, "site.yaml"), "--model",
                                os.path.join(r0, "model.h5"), "-o",
                                os.path.join(work, "stdout.h5"), "--anomalies", "-", beacon],
                               capture_output=True, text=True)
            fails.check(p.returncode == 0, f"--anomalies -: exit {p.returncode}: {p.stderr}")
            with open(os.path.join(work, "stdout.jsonl"), "w") as f:
                f.write(p.stdout)
            try:
                got = mw_eval.load_anomalies(os.path.join(work, "stdout.jsonl"))
            except mw_eval.ToolError as e:
                got = None
                fails.check(False, f"--anomalies -: {e}")
            want = mw_eval.load_anomalies(os.path.join(r0, "beacon.anomalies.jsonl"))
            if got is not None:
                fails.check(got == want, f"--anomalies - gave {len(got)} anomalies, "
                            f"the file {len(want)} (or they differ)")
    return fails.finish("baseline behaviours: all found, clean day quiet")


if __name__ == "__main__":
    sys.exit(main())
