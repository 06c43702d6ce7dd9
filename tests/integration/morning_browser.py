#!/usr/bin/python3
"""The morning report in a real headless browser (Debian's chromium).

For the clean night and the incident night (tests/python/nightbuilder.py): the page loads with
no console message at all (the report has no script; a blocked resource or a CSP violation
would be logged), and the rendered DOM has one incident card per incident of the results
files and one <svg> per station timeline plus the plane mix. Two control pages prove that the
console check sees errors and blocked loads. SKIP (77) when chromium is not installed.

usage: morning_browser.py MASTWATCH SOURCE_DIR [SCREENSHOT.png]
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import h5py

from mwtest import SKIP, Failures, run

CSP = ("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'; img-src data:\">")


def chromium():
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def browse(browser, url, *extra):
    """(DOM after load, console lines of this page)."""
    r = run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
             "--v=0", *extra, "--dump-dom", url], timeout=120)
    console = [ln for ln in r.stderr.splitlines() if ":CONSOLE" in ln]
    return r.stdout, console


def main(argv):
    browser = chromium()
    if not browser:
        print("SKIP: chromium is not installed")
        return SKIP
    mw, root = argv[1], argv[2]
    os.environ.setdefault("MW_BIN", mw)
    os.environ.setdefault("MW_SOURCE", root)
    sys.path.insert(0, os.path.join(root, "tests", "python"))
    import nightbuilder as nb
    fails = Failures()
    with tempfile.TemporaryDirectory(prefix="mw-browser-") as tmp:
        # the console check must see what it is looking for
        bad = os.path.join(tmp, "control-error.html")
        with open(bad, "w") as f:
            f.write("<!DOCTYPE html><p>x</p><script>console.error('control'); nope();</script>")
        blocked = os.path.join(tmp, "control-blocked.html")
        with open(blocked, "w") as f:
            f.write(f"<!DOCTYPE html><html><head>{CSP}</head><body>"
                    "<img src='http://192.0.2.1/x.png'></body></html>")
        for page, want in ((bad, "control"), (blocked, "violates")):
            _, console = browse(browser, "file://" + page)
            fails.check(any(want in ln for ln in console),
                        f"control page {os.path.basename(page)}: console shows {console}")

        for kind in ("clean", "incident"):
            night = os.path.join(tmp, kind)
            nb.build_night(night, kind, tmp)
            r = run(["/usr/bin/python3", os.path.join(root, "scripts", "mw_morning.py"), night])
            fails.check(r.returncode == (0 if kind == "clean" else 1),
                        f"{kind}: mw_morning exit {r.returncode} {r.stderr[-300:]}")
            with open(os.path.join(night, "report.json")) as f:
                summary = json.load(f)
            with open(os.path.join(night, "night.json")) as f:
                entries = json.load(f)["captures"]
            incidents = set()
            for c in (c for c in entries if c.get("results")):
                with h5py.File(os.path.join(night, c["results"]), "r") as f:
                    incidents |= {(c["results"], int(i)) for i in f["anomalies"]["incident_id"]}
            dom, console = browse(browser, "file://" + os.path.join(night, "report.html"))
            fails.check(not console, f"{kind}: console messages {console[:3]}")
            cards = re.findall(r'<section class="incident (?:high|medium|low)"', dom)
            fails.check(len(cards) == len(incidents),
                        f"{kind}: {len(cards)} incident cards in the DOM, {len(incidents)} incidents")
            svgs = dom.count("<svg")
            want = len(summary["timelines"]) + 1
            fails.check(svgs == want and len(summary["timelines"]) >= 4,
                        f"{kind}: {svgs} <svg> in the DOM, want {want}")
            fails.check(dom.count('<figure class="plot timeline"') == len(summary["timelines"]),
                        f"{kind}: timeline figures")
            fails.check(("Nothing was flagged." in dom) == (kind == "clean"),
                        f"{kind}: verdict text")
            if kind == "incident" and len(argv) > 3:
                r = run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                         "--hide-scrollbars", "--window-size=1000,1400",
                         f"--screenshot={argv[3]}", "file://" + os.path.join(night,
                                                                             "report.html")],
                        timeout=120)
                fails.check(os.path.exists(argv[3]), f"screenshot: {r.stderr[-300:]}")
    return fails.finish("morning report renders in chromium: cards, plots, no console message")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
