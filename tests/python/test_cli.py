"""The scripts/ wrappers: same CLI and exit codes, quiet on a closed pipe, importable."""
import os
import subprocess
import tempfile
import unittest

import nightbuilder as nb

PY = "/usr/bin/python3"
SCRIPTS = os.path.join(nb.SRC, "scripts")
TMP = None


def setUpModule():
    global TMP
    if not nb.have_binary():
        raise unittest.SkipTest(f"no mastwatch binary at {nb.MW} (build it: scripts/build)")
    TMP = tempfile.TemporaryDirectory(prefix="mw-cli-")
    nb.build_night(os.path.join(TMP.name, "incident"), "incident", TMP.name)
    nb.build_night(os.path.join(TMP.name, "clean"), "clean", TMP.name)


def tearDownModule():
    TMP.cleanup()


def h5(night, site, name):
    return os.path.join(TMP.name, night, "captures", site, name + ".h5")


def clean_env():
    # users do not set PYTHONPATH for the scripts: the wrappers find ../python themselves
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, env=clean_env(), **kw)


class Wrappers(unittest.TestCase):
    def test_report_exit_codes(self):
        r = run([PY, os.path.join(SCRIPTS, "mw_report.py"), h5("incident", "north", "incident-day")],
                cwd="/")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("16 incidents", r.stdout)
        r = run([PY, os.path.join(SCRIPTS, "mw_report.py"), h5("clean", "north", "clean-week")])
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run([PY, os.path.join(SCRIPTS, "mw_report.py"), os.path.join(TMP.name, "none.h5")])
        self.assertEqual((r.returncode, r.stderr.count("\n")), (2, 1), r.stderr)
        self.assertEqual(run([PY, os.path.join(SCRIPTS, "mw_report.py")]).returncode, 2)

    def test_closed_pipe_is_quiet(self):
        night = os.path.join(TMP.name, "incident")
        for cmd in (f"mw_report.py {h5('incident', 'north', 'incident-day')}",
                    f"mw_flows.py {h5('incident', 'north', 'incident-day')}",
                    f"mw_flows.py {night} --csv",
                    f"mw_morning.py {night} -o {TMP.name}"):
            r = run(["sh", "-c", f"{PY} {SCRIPTS}/{cmd} | head -1"])
            self.assertEqual(r.stderr, "", cmd)
            self.assertEqual(r.stdout.count("\n"), 1, cmd)
            self.assertEqual(r.returncode, 0, cmd)

    def test_mw_flows_still_imports_from_scripts(self):
        code = ("import sys; sys.path.insert(0, sys.argv[1]); import mw_flows; "
                "df = mw_flows.load(sys.argv[2]); c = mw_flows.counters(sys.argv[2]); "
                "print(len(df), c['packets'], mw_flows._addr(0, 0xffff0a0a010b))")
        r = run([PY, "-c", code, SCRIPTS, h5("incident", "north", "incident-day")])
        self.assertEqual(r.returncode, 0, r.stderr)
        n, packets, a = r.stdout.split()
        self.assertGreater(int(n), 1000)
        self.assertGreater(int(packets), int(n))
        self.assertEqual(a, "10.10.1.11")

    def test_wrapper_through_a_symlink(self):
        link = os.path.join(TMP.name, "mw_report_link.py")
        if not os.path.exists(link):
            os.symlink(os.path.join(SCRIPTS, "mw_report.py"), link)
        r = run([PY, link, h5("clean", "north", "clean-week")], cwd=TMP.name)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_module_entry_points(self):
        env = dict(clean_env(), PYTHONPATH=os.path.join(nb.SRC, "python"))
        r = subprocess.run([PY, "-m", "mastwatch.report_text", h5("clean", "north", "clean-week")],
                           capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("site demo-site", r.stdout)


if __name__ == "__main__":
    unittest.main()
