#!/usr/bin/python3
"""CLI conventions every subcommand follows (issue 11): options may follow
file names (GNU permutation) with identical results, `--` ends options,
`help COMMAND` and `COMMAND --help` for every command and subcommand, no
-o is said out loud, `-` reads standard input. Uses the bundled captures.

usage: cli_conventions.py MASTWATCH PROJECT_DIR
"""
import os
import sys
import tempfile

import h5py
import numpy as np

from mwtest import Failures, run


def flows(path):
    with h5py.File(path, "r") as f:
        return np.sort(f["flows"][:], order="flow_id")


def main():
    mw, root = sys.argv[1], sys.argv[2]
    fails = Failures()
    tmp = tempfile.mkdtemp()
    cap = os.path.join(root, "captures", "incident-day.pcap")
    site = os.path.join(root, "captures", "site.yaml")
    model = os.path.join(root, "models", "demo-site.h5")

    # help for every command, both spellings, same text
    for words in (["analyze"], ["capture"], ["train"], ["recover"], ["extract"], ["inventory"],
                  ["inventory", "check"], ["model"], ["model", "show"], ["model", "merge"],
                  ["batch"]):
        a = run([mw, "help"] + words)
        b = run([mw] + words + ["--help"])
        fails.check(a.returncode == 0 and a.stdout.startswith("usage: mastwatch " + words[0]),
                    f"help {' '.join(words)}: exit {a.returncode} {a.stdout[:60]!r} {a.stderr!r}")
        fails.check(b.returncode == 0 and b.stdout == a.stdout,
                    f"{' '.join(words)} --help differs from help {' '.join(words)}: {b.stderr!r}")
    r = run([mw, "help", "nosuch"])
    fails.check(r.returncode == 2 and r.stderr.count("\n") == 1, f"help nosuch: {r.stderr!r}")
    r = run([mw, "model", "show", model, "--help"])
    fails.check(r.returncode == 0 and "model show" in r.stdout, "model show FILE --help")

    # options after the file name: the same records as before it
    before, after = os.path.join(tmp, "before.h5"), os.path.join(tmp, "after.h5")
    r1 = run([mw, "analyze", "-q", "--inventory", site, "--model", model, "-o", before, cap])
    r2 = run([mw, "analyze", cap, "-o", after, "--model", model, "-q", "--inventory", site])
    fails.check(r1.returncode == 0 and r2.returncode == 0, f"permuted run: {r2.stderr!r}")
    if r1.returncode == 0 and r2.returncode == 0:
        a, b = flows(before), flows(after)
        fails.check(len(a) > 0 and np.array_equal(a, b),
                    f"options after files: {len(a)} vs {len(b)} records, not identical")
        with h5py.File(before) as f1, h5py.File(after) as f2:
            fails.check(len(f1["anomalies"]) > 0 and len(f1["anomalies"]) == len(f2["anomalies"]),
                        "options after files: anomalies differ")

    # `--` ends the options: a file named like an option is read as a file
    dash = os.path.join(tmp, "-q.pcap")
    os.symlink(cap, dash)
    r = run([mw, "analyze", "-o", os.path.join(tmp, "dash.h5"), "--", dash], cwd=tmp)
    fails.check(r.returncode == 0 and "packets" in r.stderr, f"-- then '-q.pcap': {r.stderr!r}")

    # `-` reads standard input, with options after it
    with open(cap, "rb") as f:
        r = run([mw, "analyze", "-", "-q", "--inventory", site, "--model", model,
                 "-o", os.path.join(tmp, "stdin.h5")], stdin=f)
    fails.check(r.returncode == 0 and np.array_equal(flows(os.path.join(tmp, "stdin.h5")),
                                                     flows(before))
                if r.returncode == 0 else False, f"analyze - : {r.stderr!r}")

    # no -o: said, not silent (even with -q); results still computed
    r = run([mw, "analyze", "-q", cap])
    fails.check(r.returncode == 0 and "no -o" in r.stderr and r.stderr.count("\n") == 1,
                f"no -o: {r.stderr!r}")

    # train and model merge take options after their inputs too
    m1, m2 = os.path.join(tmp, "m1.h5"), os.path.join(tmp, "m2.h5")
    r = run([mw, "train", before, "-q", "-o", m1, "--inventory", site])
    fails.check(r.returncode == 0 and os.path.exists(m1), f"train, options last: {r.stderr!r}")
    r = run([mw, "model", "merge", m1, model, "-o", m2])
    fails.check(r.returncode == 0 and os.path.exists(m2), f"merge, -o last: {r.stderr!r}")

    # --config FILE: the same settings from YAML give the same records; the command line wins
    conf = os.path.join(tmp, "mw.yaml")
    feed_file, feed_cli = os.path.join(tmp, "file.jsonl"), os.path.join(tmp, "cli.jsonl")
    with open(conf, "w") as f:
        f.write(f"# settings\ninventory: {site}\nmodel: {model}\nquiet: true\n"
                f"anomalies: {feed_file}\n")
    viaconf = os.path.join(tmp, "viaconf.h5")
    r = run([mw, "analyze", "--config", conf, "--anomalies", feed_cli, "-o", viaconf, cap])
    fails.check(r.returncode == 0 and os.path.exists(viaconf), f"--config: {r.stderr!r}")
    if r.returncode == 0:
        fails.check(np.array_equal(flows(viaconf), flows(before)), "--config: other records")
        fails.check(os.path.exists(feed_cli) and not os.path.exists(feed_file),
                    "--config: the command line's --anomalies did not win")
    for text, want in (("bogus: 1\n", "unknown setting 'bogus'"), ("quiet: maybe\n", "true or false"),
                       ("a: [1\n", "mw.yaml:2:"), ("- inventory\n", "mapping")):
        open(conf, "w").write(text)
        r = run([mw, "analyze", "--config", conf, "-o", os.path.join(tmp, "never.h5"), cap])
        fails.check(r.returncode == 2 and want in r.stderr and r.stderr.count("\n") == 1,
                    f"--config {text!r}: exit {r.returncode} {r.stderr!r}")

    # an unknown option names the command's help
    r = run([mw, "train", "--bogus"])
    fails.check(r.returncode == 2 and "help train" in r.stderr, f"train --bogus: {r.stderr!r}")
    return fails.finish("options anywhere, help for every command, no silent -o, stdin")


if __name__ == "__main__":
    sys.exit(main())
