"""mastwatch.morning on nights built from the sample captures (nightbuilder)."""
import json
import re
import os
import shutil
import subprocess
import tempfile
import unittest
from unittest import mock

import h5py
import numpy as np

import nightbuilder as nb
from mastwatch import morning, results

PY = "/usr/bin/python3"
TMP = None
RUNS = {}


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def morning_cli(*args):
    return subprocess.run([PY, os.path.join(nb.SRC, "scripts", "mw_morning.py"), *args],
                          capture_output=True, text=True)


def setUpModule():
    global TMP
    if not nb.have_binary():
        raise unittest.SkipTest(f"no mastwatch binary at {nb.MW} (build it: scripts/build)")
    TMP = tempfile.TemporaryDirectory(prefix="mw-morning-")
    for kind in ("clean", "incident", "failed", "split", "regrown", "delivered"):
        d = os.path.join(TMP.name, kind)
        nb.build_night(d, kind, TMP.name)
        r = morning_cli(d)
        out = {n: read(os.path.join(d, "report." + n))
               for n in ("html", "md", "json")}
        RUNS[kind] = (r, out, json.loads(out["json"]))


def tearDownModule():
    TMP.cleanup()


def incidents_in_files(night):
    """(results file, incident_id) pairs and severities straight from the HDF5 files."""
    keys, sev = set(), {}
    for c, path in results.Night(night).results_files():
        with h5py.File(path, "r") as f:
            names = results.names(f, "severities")
            for r in f["anomalies"][:]:
                k = (c["results"], int(r["incident_id"]))
                keys.add(k)
                sev[k] = max(sev.get(k, 0), int(r["severity"]))
    return keys, {k: names[v] for k, v in sev.items()}


class CleanNight(unittest.TestCase):
    def test_all_clear_says_what_was_covered(self):
        r, out, js = RUNS["clean"]
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(js["verdict"]["state"], "clear")
        self.assertEqual(js["incidents"], [])
        scored = {s["bs"] for s in js["verdict"]["stations_scored"]}
        self.assertEqual(scored, {"enb-001", "gnb-002", "enb-003", "gnb-004"})
        for text in (out["html"], out["md"]):
            self.assertIn("Nothing was flagged.", text)
            self.assertIn("Covered north: 2026-11-02", text)
            for st in scored:
                self.assertIn(st, text)

    def test_timelines_carry_the_model_band(self):
        _, out, js = RUNS["clean"]
        self.assertEqual(len(js["timelines"]), 4)
        with h5py.File(nb.MODEL, "r") as f:
            hours = {(r["station"].decode(), int(r["hour_of_week"])): int(r["bytes_up"])
                     for r in f["hours"][:]}
        t = js["timelines"][0]
        self.assertEqual(len(t["hours"]), 168)  # the week, hour by hour
        # 2026-11-02 is a Monday: hour i of the week is hour_of_week i; one week of training
        for i in (0, 13, 100):
            lo, hi = t["hours"][i]["band_bytes_up"]
            self.assertEqual(t["hours"][i]["expected_bytes_up"], hours[(t["bs"], i)])
            day = [hours.get((t["bs"], d * 24 + i % 24), 0) for d in range(7)]
            self.assertEqual((lo, hi), (min(day), max(day)))
        self.assertEqual(out["html"].count("<svg"), len(js["timelines"]) + 1)


class IncidentNight(unittest.TestCase):
    def test_one_card_per_incident(self):
        r, out, js = RUNS["incident"]
        self.assertEqual(r.returncode, 1, r.stderr)
        keys, sev = incidents_in_files(os.path.join(TMP.name, "incident"))
        self.assertEqual({(k["results"], k["incident_id"]) for k in js["incidents"]}, keys)
        self.assertEqual(out["html"].count('<section class="incident '), len(keys))
        self.assertEqual(js["verdict"]["by_severity"],
                         {s: n for s in ("high", "medium", "low")
                          if (n := sum(v == s for v in sev.values()))})
        # the incident day (31) and its truncated copy (15), each with the SSH between two
        # stations also flagged as lateral movement (new_service, kind 3)
        self.assertEqual(js["verdict"]["anomalies"], 31 + 15)
        for k in js["incidents"]:
            self.assertIn(f"#{k['number']} {k['severity'].upper()}", out["md"])
            self.assertTrue(k["wireshark"] and k["findings"] and k["frames"])

    def test_an_incident_across_captures_is_one_card(self):
        # the incident day cut at noon into two captures of one site (hourly -G files do the
        # same): an incident on both sides of the cut is one card, as in the whole day
        r, out, js = RUNS["split"]
        _, _, whole = RUNS["incident"]
        self.assertEqual(r.returncode, 1, r.stderr)
        keys, _ = incidents_in_files(os.path.join(TMP.name, "split"))
        joined = [k for k in js["incidents"] if len(k["captures"]) > 1]
        self.assertTrue(joined)
        self.assertLess(len(js["incidents"]), len(keys))
        north = [k for k in whole["incidents"] if k["site"] == "north"]
        self.assertEqual(sorted((k["station"], k["peer"]) for k in js["incidents"]),
                         sorted((k["station"], k["peer"]) for k in north))
        noon = 1794225600 * 10**6  # 2026-11-09 12:00 UTC, the cut
        for k in joined:  # described by the morning's capture, spanning the cut
            self.assertTrue(k["capture"].endswith("incident-am.pcap"), k["capture"])
            self.assertTrue(k["start_us"] < noon < k["end_us"], (k["start_us"], k["end_us"]))
        self.assertIn("continues in", out["md"])
        # no finding lost or counted twice by the joining
        self.assertEqual(sum(len(k["findings"]) for k in js["incidents"]),
                         js["verdict"]["anomalies"])

    def test_a_capture_analyzed_twice_counts_once(self):
        # analyzed half-written, then whole (batch keeps both analyses): the report is the
        # whole day's, and the first analysis is listed as superseded
        r, out, js = RUNS["regrown"]
        _, _, whole = RUNS["incident"]
        self.assertEqual(r.returncode, 1, r.stderr)
        north = [k for k in whole["incidents"] if k["site"] == "north"]
        self.assertEqual(sorted((k["station"], k["peer"], k["severity"]) for k in js["incidents"]),
                         sorted((k["station"], k["peer"], k["severity"]) for k in north))
        self.assertEqual(js["verdict"]["anomalies"], sum(len(k["findings"]) for k in north))
        self.assertEqual(js["verdict"]["captures"]["superseded"], 1)
        self.assertEqual(js["verdict"]["captures"]["done"], 1)
        self.assertEqual([h["status"] for h in js["health"]].count("superseded"), 1)

    def test_times_are_site_local_as_in_the_feed(self):
        _, _, js = RUNS["incident"]
        night = results.Night(os.path.join(TMP.name, "incident"))
        feeds = {c["results"]: results.read_jsonl(c["anomalies_path"])
                 for c, _ in night.results_files()}
        for k in js["incidents"]:
            first = min((a for a in feeds[k["results"]] if a["incident_id"] == k["incident_id"]),
                        key=lambda a: a["start_us"])
            self.assertEqual(k["start_local"],
                             first["start_local"].replace("T", " ")[:19] + " "
                             + first["start_local"][19:])
            want = ("+01:00", "Europe/Berlin") if k["site"] == "south" else ("+00:00", "UTC")
            self.assertTrue(k["start_local"].endswith(want[0]), k["start_local"])
            self.assertEqual(k["timezone"], want[1])

    def test_user_plane_bytes_counted_once(self):
        _, _, js = RUNS["incident"]
        tunnel = inner = 0
        for c, path in results.Night(os.path.join(TMP.name, "incident")).results_files():
            with h5py.File(path, "r") as f:
                a = f["flows"].fields(["kind", "plane", "tunnel_flow_id", "c2s_bytes",
                                       "s2c_bytes"])[:]
            b = a["c2s_bytes"].astype(np.int64) + a["s2c_bytes"]
            tunnel += int(b[(a["kind"] == 1) & (a["plane"] == 1)].sum())
            inner += int(b[a["kind"] == 2].sum())
        self.assertGreater(inner, 0)
        user = {p["plane"]: p["bytes"] for p in js["planes"]}["user"]
        self.assertEqual(user, tunnel)
        self.assertIn("counted once", js["plane_note"])

    def test_capture_health(self):
        _, out, js = RUNS["incident"]
        h = {os.path.basename(x["capture"]): x for x in js["health"]}
        self.assertEqual(h["south-cut.pcap"]["complete"], 0)
        self.assertIn("truncated", h["south-cut.pcap"]["error"])
        self.assertEqual(h["south-bad.pcap"]["status"], "failed")
        self.assertIn("unknown file format", h["south-bad.pcap"]["error"])
        self.assertEqual(h["incident-day.pcap"]["complete"], 1)
        self.assertGreater(h["incident-day.pcap"]["packets"], 0)
        self.assertEqual(js["verdict"]["captures"],
                         {"listed": 3, "done": 2, "failed": 1, "incomplete": 1,
                          "not_matched": 0, "skipped_young": 0, "superseded": 0})
        self.assertIn("INCOMPLETE", out["html"])
        self.assertIn("unknown file format", out["html"])

    def test_delivered_frames_are_said_and_judged(self):
        """The incident day delivered in VXLAN: its health says so, and its cards are the
        plain day's (the frames are analyzed as carried)."""
        _, out, js = RUNS["delivered"]
        h = js["health"][0]
        self.assertEqual(h["delivered"], {"VXLAN": h["packets"]})
        self.assertGreater(h["packets"], 10000)
        self.assertIn(f"{h['packets']} in VXLAN", out["md"])
        self.assertIn(f"{h['packets']} in VXLAN", out["html"])
        north = [c for c in RUNS["incident"][2]["incidents"] if c["site"] == "north"]
        cards = [(c["detectors"], c["station"], c["peer"], c["severity"]) for c in js["incidents"]]
        self.assertGreater(len(cards), 10)
        self.assertEqual(sorted(map(str, cards)), sorted(
            str((c["detectors"], c["station"], c["peer"], c["severity"])) for c in north))

    def test_html_is_self_contained(self):
        html = RUNS["incident"][1]["html"]
        for bad in ("<script", "<link", " src=", "@import", "<!DOCTYPE svg", "<?xml"):
            self.assertFalse(bad in html, bad)
        # SVG clip paths refer to the same page (url(#id)); anything else would load
        self.assertEqual(re.findall(r"url\((?!#)[^)]*\)", html), [])
        self.assertIn("Content-Security-Policy", html)


class FailedNights(unittest.TestCase):
    def test_failed_night_says_why(self):
        r, out, js = RUNS["failed"]
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(js["verdict"]["state"], "failed")
        for text in (out["html"], out["md"], js["verdict"]["headline"]):
            self.assertIn("is not mounted", text)

    def test_failed_flag_replaces_yesterdays_report(self):
        d = tempfile.mkdtemp(dir=TMP.name)
        night, outdir = os.path.join(d, "night"), os.path.join(d, "out")
        os.makedirs(outdir)
        for n in ("html", "md", "json"):
            with open(os.path.join(outdir, "report." + n), "w") as f:
                f.write("yesterday: Nothing was flagged.")
        r = morning_cli(night, "-o", outdir, "--failed", "batch killed: <b>OOM</b>")
        self.assertEqual(r.returncode, 3, r.stderr)
        html = read(os.path.join(outdir, "report.html"))
        self.assertNotIn("yesterday", html)
        self.assertIn("batch killed: &lt;b&gt;OOM&lt;/b&gt;", html)  # autoescape
        self.assertEqual(sorted(os.listdir(outdir)), ["report.html", "report.json", "report.md"])

    def test_unreadable_night_json(self):
        d = tempfile.mkdtemp(dir=TMP.name)
        with open(os.path.join(d, "night.json"), "w") as f:
            f.write("{not json")
        r = morning_cli(d)
        self.assertEqual(r.returncode, 2)
        self.assertIn("night.json", r.stderr)
        self.assertIn("night.json unreadable", read(os.path.join(d, "report.md")))

    def test_usage(self):
        self.assertEqual(morning_cli().returncode, 2)
        r = morning_cli(os.path.join(TMP.name, "clean"), "-o", os.path.join(TMP.name, "nodir"))
        self.assertEqual(r.returncode, 2)

    def test_unreadable_results_file_is_a_failed_capture(self):
        d = os.path.join(TMP.name, "broken")
        shutil.copytree(os.path.join(TMP.name, "clean"), d)
        with open(os.path.join(d, "captures", "north", "clean-week.h5"), "wb") as f:
            f.write(b"\0" * 100)
        r = morning_cli(d)
        self.assertEqual(r.returncode, 3, r.stderr)  # its only capture: nothing analyzed
        js = json.loads(read(os.path.join(d, "report.json")))
        self.assertIn("results file unreadable", js["health"][0]["error"])
        self.assertEqual(js["verdict"]["captures"]["failed"], 1)


class Atomic(unittest.TestCase):
    def test_a_failed_write_keeps_the_old_file(self):
        d = tempfile.mkdtemp(dir=TMP.name)
        path = os.path.join(d, "report.html")
        with open(path, "w") as f:
            f.write("old")
        with mock.patch("os.fsync", side_effect=OSError(28, "No space left on device")):
            with self.assertRaises(OSError):
                morning.write_atomic(path, "new")
        self.assertEqual(read(path), "old")
        self.assertEqual(os.listdir(d), ["report.html"])
        morning.write_atomic(path, "new")
        self.assertEqual(read(path), "new")


if __name__ == "__main__":
    unittest.main()
