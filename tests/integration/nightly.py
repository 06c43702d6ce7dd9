#!/usr/bin/python3
"""The nightly job end to end, as the systemd unit runs it (issue 11):
scripts/mastwatch-nightly = `mastwatch batch` over a spool + the morning
report of the night, on the real batch output:
- the incident night: exit 1, report.html/.md/.json in the night dir, one
  incident card per incident of the night's anomalies.jsonl, opened in
  headless chromium without a console message (when chromium is there);
- run again with nothing new: nothing re-analyzed, the report is rewritten;
- a broken config that night: exit 2 and a report that says the night
  FAILED and why - never the earlier report;
- a night without captures (the feed stopped): exit 3, "Nothing could be analyzed"
- a clean night: exit 0 and a report that says nothing was flagged and
  what was covered.

usage: nightly.py MASTWATCH PROJECT_DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from mwtest import Failures

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from morning_browser import browse, chromium  # noqa: E402


def nightly(root, mw, config, spool, out, night):
    env = dict(os.environ, MASTWATCH_BIN=mw, MASTWATCH_CONFIG=config, MASTWATCH_SPOOL=spool,
               MASTWATCH_OUT=out, MASTWATCH_NIGHT=night, MASTWATCH_BATCH_OPTS="-q --min-age 0")
    return subprocess.run([os.path.join(root, "scripts", "mastwatch-nightly")], env=env,
                          capture_output=True, text=True, timeout=600)


def main():
    mw, root = sys.argv[1], sys.argv[2]
    fails = Failures()
    tmp = tempfile.mkdtemp()
    spool, out = os.path.join(tmp, "spool"), os.path.join(tmp, "out")
    os.makedirs(os.path.join(spool, "north"))
    shutil.copy(os.path.join(root, "captures", "incident-day.pcap"),
                os.path.join(spool, "north", "day.pcap"))
    config = os.path.join(tmp, "batch.yaml")
    with open(config, "w") as f:
        f.write("sites:\n  - name: north\n    match: [\"*/north/*\"]\n"
                f"    inventory: {root}/captures/site.yaml\n"
                f"    model: {root}/models/demo-site.h5\n")

    night = "2026-11-30"
    nd = os.path.join(out, night)
    r = nightly(root, mw, config, spool, out, night)
    fails.check(r.returncode == 1, f"incident night: exit {r.returncode} {r.stderr[-400:]!r}")
    for name in ("report.html", "report.md", "report.json", "night.json", "index.h5"):
        fails.check(os.path.exists(os.path.join(nd, name)), f"incident night: no {name}")
    if os.path.exists(os.path.join(nd, "report.json")):
        rep = json.load(open(os.path.join(nd, "report.json")))
        lines = [json.loads(x) for x in open(os.path.join(nd, "anomalies.jsonl"))]
        incidents = {x["incident_id"] for x in lines}
        fails.check(rep["exit_status"] == 1 and len(rep["incidents"]) == len(incidents) > 0,
                    f"report: {len(rep['incidents'])} incidents, the night has {len(incidents)}")
        html = open(os.path.join(nd, "report.html")).read()
        cards = re.findall(r'<section class="incident (?:high|medium|low)"', html)
        fails.check(len(cards) == len(incidents), f"{len(cards)} cards, {len(incidents)} incidents")
        browser = chromium()
        if browser:
            dom, console = browse(browser, "file://" + os.path.join(nd, "report.html"))
            fails.check(not console, f"chromium console: {console[:3]}")
            fails.check(len(re.findall(r'<section class="incident (?:high|medium|low)"', dom))
                        == len(incidents), "chromium: incident cards missing from the DOM")
        first_mtime = os.path.getmtime(os.path.join(nd, "report.html"))

        # again, nothing new: nothing re-analyzed, the report is written anew
        time.sleep(1.1)
        r = nightly(root, mw, config, spool, out, night)
        done = open(os.path.join(out, "state", "done.tsv")).read().strip().splitlines()
        fails.check(r.returncode == 1 and len(done) == 1,
                    f"rerun: exit {r.returncode}, {len(done)} state lines")
        fails.check(os.path.getmtime(os.path.join(nd, "report.html")) > first_mtime,
                    "rerun: the report was not rewritten")

    # a broken config: the night's report says it failed, not what an earlier run found
    bad = os.path.join(tmp, "bad.yaml")
    open(bad, "w").write("sites: [oops\n")
    r = nightly(root, mw, bad, spool, out, night)
    fails.check(r.returncode == 2, f"broken config: exit {r.returncode}")
    rep = json.load(open(os.path.join(nd, "report.json")))
    md = open(os.path.join(nd, "report.md")).read()
    fails.check(rep["failed"] and rep["verdict"]["state"] == "failed" and
                "bad.yaml" in rep["verdict"]["headline"] and "FAILED" in md and
                "night status failed" in md, f"failed night's report: {rep['verdict']}")

    # a clean night: nothing flagged, and it says what it covered
    spool2, out2 = os.path.join(tmp, "spool2"), os.path.join(tmp, "out2")
    os.makedirs(os.path.join(spool2, "north"))
    shutil.copy(os.path.join(root, "captures", "clean-week.pcap"),
                os.path.join(spool2, "north", "week.pcap"))
    r = nightly(root, mw, config, spool2, out2, night)
    fails.check(r.returncode == 0, f"clean night: exit {r.returncode} {r.stderr[-300:]!r}")
    md = open(os.path.join(out2, night, "report.md")).read() if r.returncode == 0 else ""
    fails.check("Nothing was flagged" in md and "Scored 4 stations" in md,
                f"clean night's report: {md[:300]!r}")

    # a night no capture arrived in (the feed stopped): batch has nothing to do, but the
    # night is not clean - exit 3, and the report says nothing was analyzed
    spool3, out3 = os.path.join(tmp, "spool3"), os.path.join(tmp, "out3")
    os.makedirs(os.path.join(spool3, "north"))
    r = nightly(root, mw, config, spool3, out3, night)
    md = open(os.path.join(out3, night, "report.md")).read() \
        if os.path.exists(os.path.join(out3, night, "report.md")) else ""
    fails.check(r.returncode == 3 and "Nothing could be analyzed" in md,
                f"night without captures: exit {r.returncode}, report {md[:200]!r}")
    return fails.finish("nightly: batch + morning report, findings, rerun, failed and clean nights")


if __name__ == "__main__":
    sys.exit(main())
