#!/usr/bin/python3
"""The capture service's unit, run as systemd would where systemd cannot run
(CI containers): its ExecStart line, with the unit's user (nobody here) and
exactly its AmbientCapabilities applied by setpriv, captures on lo, writes
its strftime-named results, anomaly feed and Prometheus textfile, and stops
cleanly on SIGTERM. Without the capabilities it fails with one line. The
unit passes `systemd-analyze verify` and its sandbox scores well.
Needs root and setpriv; exits 77 (skip) otherwise.

usage: capture_unit.py MASTWATCH BUILD_DIR PROJECT_DIR
"""
import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import h5py

from mwtest import SKIP, Failures, run


def exec_start(unit_text):
    text = unit_text.replace("\\\n", " ")
    return re.search(r"^ExecStart=(.*)$", text, re.M).group(1)


def send_udp(seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    end = time.time() + seconds
    i = 0
    while time.time() < end:
        s.sendto(b"unit test %d" % i, ("127.0.0.1", 47000 + i % 7))
        i += 1
        time.sleep(0.01)
    s.close()
    return i


def main():
    mw, build, root = sys.argv[1], sys.argv[2], sys.argv[3]
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("SKIP: needs root and setpriv")
        return SKIP
    fails = Failures()
    unit_path = os.path.join(build, "packaging", "mastwatch-capture@.service")
    unit = open(unit_path).read()
    caps = re.search(r"^AmbientCapabilities=(.*)$", unit, re.M).group(1).split()
    fails.check(set(caps) == {"CAP_NET_RAW", "CAP_NET_ADMIN"}, f"capabilities {caps}")
    fails.check(re.search(r"^Type=notify$", unit, re.M) and "WatchdogSec=" in unit,
                "the unit waits for READY=1 and has a watchdog")

    if shutil.which("systemd-analyze"):
        tmpu = tempfile.mkdtemp()
        u = os.path.join(tmpu, "mastwatch-capture@.service")
        open(u, "w").write(re.sub(r"^ExecStart=\S+", "ExecStart=" + mw, unit, flags=re.M))
        inst = os.path.join(tmpu, "mastwatch-capture@lo.service")
        os.symlink(u, inst)
        v = run(["systemd-analyze", "verify", "--man=no", inst])
        fails.check(v.returncode == 0 and v.stderr.strip() == "", f"verify: {v.stderr!r}")
        s = run(["systemd-analyze", "security", "--offline=true", inst])
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", s.stdout + s.stderr)
        fails.check(m is not None and float(m.group(1)) <= 3.0,
                    f"capture sandbox exposure {m.group(1) if m else '?'} (want <= 3.0)")

    # the ExecStart line as systemd would run it: %i, %%, $MASTWATCH_CAPTURE_OPTS, the paths
    tmp = tempfile.mkdtemp()
    nobody = pwd.getpwnam("nobody")
    dirs = {}
    for d in ("/var/lib/prometheus/node-exporter", "/var/log/mastwatch", "/var/lib/mastwatch/live"):
        dirs[d] = os.path.join(tmp, d.strip("/").replace("/", "_"))
        os.makedirs(dirs[d])
        os.chown(dirs[d], nobody.pw_uid, nobody.pw_gid)
    os.chmod(tmp, 0o755)
    line = exec_start(unit).replace("%%", "\0").replace("%i", "lo").replace("\0", "%")
    for d, t in dirs.items():
        line = line.replace(d + "/", t + "/")
    site = os.path.join(tmp, "site.yaml")
    shutil.copy(os.path.join(root, "captures", "site.yaml"), site)
    os.chmod(site, 0o644)
    line = line.replace("$MASTWATCH_CAPTURE_OPTS", "--inventory " + site)
    argv = shlex.split(line)
    argv[0] = mw
    os.chmod(os.path.dirname(mw), 0o755)
    capset = ",".join("+" + c[4:].lower() for c in caps)
    setpriv = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
               "--clear-groups", f"--inh-caps={capset}", f"--ambient-caps={capset}",
               f"--bounding-set=-all,{capset}", "--"]
    proc = subprocess.Popen(setpriv + argv, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    sent = send_udp(2.0)
    time.sleep(0.5)
    proc.send_signal(signal.SIGUSR1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        err = "hang: " + err
    fails.check(proc.returncode == 0, f"ExecStart as nobody with {caps}: exit {proc.returncode} "
                                      f"{err[-400:]!r}")
    fails.check("status:" in err, f"SIGUSR1 status line missing: {err[-300:]!r}")
    files = glob.glob(os.path.join(dirs["/var/lib/mastwatch/live"], "lo-*.h5"))
    fails.check(len(files) == 1 and re.search(r"lo-\d{8}-\d{6}\.h5$", files[0] if files else ""),
                f"strftime-named results file: {files}")
    if files:
        fails.check(os.stat(files[0]).st_uid == nobody.pw_uid, "results not written as nobody")
        with h5py.File(files[0]) as f:
            ports = set(f["flows"]["dst_port"][:]) | set(f["flows"]["src_port"][:])
            fails.check(f.attrs["stop_signal"] == signal.SIGTERM and
                        any(47000 <= p < 47007 for p in ports),
                        f"the test's UDP flows not captured ({sent} sent)")
    prom = os.path.join(dirs["/var/lib/prometheus/node-exporter"], "mastwatch-lo.prom")
    text = open(prom).read() if os.path.exists(prom) else ""
    m = re.search(r"^mastwatch_packets_total (\d+)$", text, re.M)
    fails.check(m is not None and int(m.group(1)) >= sent,
                f"textfile packets {m.group(1) if m else None}, sent {sent}")
    fails.check("mastwatch_kernel_dropped_total" in text, "live textfile lacks kernel drops")

    # the same line without the capabilities: one clear line, exit 1
    no_caps = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
               "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"]
    r = subprocess.run(no_caps + argv, capture_output=True, text=True, timeout=30)
    fails.check(r.returncode == 1 and r.stderr.strip().count("\n") == 0 and
                "lo" in r.stderr, f"without capabilities: exit {r.returncode} {r.stderr!r}")
    return fails.finish("the unit's ExecStart captures as nobody with only its capabilities")


if __name__ == "__main__":
    sys.exit(main())
