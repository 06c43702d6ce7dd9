#!/usr/bin/python3
"""`cmake --install` (staged with DESTDIR) puts everything an operator needs
where Debian's tools find it, and each piece works: the binaries run, a man
page per command renders without warnings, bash completion completes
commands, options and subcommands, the systemd units verify and the
service's sandbox scores well, the timer's calendar parses, logrotate
accepts its file.

usage: install.py BUILD_DIR
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

from mwtest import Failures, run


def main():
    build = sys.argv[1]
    fails = Failures()
    stage = tempfile.mkdtemp()
    env = dict(os.environ, DESTDIR=stage)
    r = run(["cmake", "--install", build], env=env)
    fails.check(r.returncode == 0, f"cmake --install: {r.stderr}")
    prefix = re.search(r"CMAKE_INSTALL_PREFIX:PATH=(.*)",
                       open(os.path.join(build, "CMakeCache.txt")).read()).group(1)
    root = stage + prefix
    etc = stage + ("/etc" if prefix == "/usr" else prefix + "/etc")

    mw = os.path.join(root, "bin", "mastwatch")
    for b in ("mastwatch", "mw-scengen", "mastwatch-nightly"):
        p = os.path.join(root, "bin", b)
        fails.check(os.access(p, os.X_OK), f"bin/{b} missing or not executable")
    for b in ("mastwatch-morning", "mastwatch-report", "mastwatch-flows"):
        fails.check(os.access(os.path.join(root, "bin", b), os.X_OK), f"bin/{b} missing")
    # the installed module imports from its install path alone, and its tools run
    pydirs = glob.glob(os.path.join(root, "lib", "python3*", "dist-packages"))
    fails.check(len(pydirs) == 1 and os.path.exists(os.path.join(pydirs[0], "mastwatch",
                                                                  "morning.py")),
                f"python module not installed: {pydirs}")
    if pydirs:
        env2 = dict(os.environ, PYTHONPATH=pydirs[0])
        r = run(["/usr/bin/python3", "-c", "import mastwatch.flows, mastwatch.morning; "
                 "print(mastwatch.flows.__file__)"], env=env2, cwd="/")
        fails.check(r.returncode == 0 and r.stdout.startswith(pydirs[0]),
                    f"import from the install: {r.stdout!r} {r.stderr[-200:]!r}")
        r = run([os.path.join(root, "bin", "mastwatch-report"), "/nonexistent.h5"], env=env2,
                cwd="/")
        fails.check(r.returncode == 2 and "Traceback" not in r.stderr,
                    f"installed mastwatch-report: {r.returncode} {r.stderr[-200:]!r}")
    r = run([mw, "--version"])
    fails.check(r.returncode == 0 and r.stdout.startswith("mastwatch "), "installed binary runs")

    # a man page for the tool and for every command its help lists
    commands = sorted(set(re.findall(r"^  ([a-z]+) ", run([mw, "--help"]).stdout, re.M)) - {"mastwatch"})
    fails.check({"analyze", "capture", "train", "model", "recover"} <= set(commands),
                f"commands from --help: {commands}")
    for page in ["mastwatch"] + [f"mastwatch-{c}" for c in commands]:
        path = os.path.join(root, "share", "man", "man1", page + ".1")
        if not os.path.exists(path):
            fails.check(False, f"no man page {page}.1")
            continue
        g = run(["groff", "-man", "-ww", "-z", path])
        fails.check(g.returncode == 0 and g.stderr == "", f"{page}.1 renders with: {g.stderr!r}")
        text = open(path).read()
        fails.check("EXIT STATUS" in text and f".TH {page.upper()} " in text,
                    f"{page}.1 lacks its title or EXIT STATUS")

    # bash completion, with the installed binary first on PATH
    comp = os.path.join(root, "share", "bash-completion", "completions", "mastwatch")
    lib = "/usr/share/bash-completion/bash_completion"
    if os.path.exists(comp) and os.path.exists(lib):
        def complete(words):
            line = " ".join(words)
            script = (f"source {lib}; source {comp}; PATH={root}/bin:$PATH; "
                      f"COMP_WORDS=({' '.join(repr(w) for w in words)}); "
                      f"COMP_CWORD={len(words) - 1}; COMP_LINE={line!r}; "
                      f"COMP_POINT=${{#COMP_LINE}}; _mastwatch; echo \"${{COMPREPLY[*]}}\"")
            return run(["bash", "-c", script]).stdout.split()
        fails.check("analyze" in complete(["mastwatch", "an"]), "completion: commands")
        fails.check("--inventory" in complete(["mastwatch", "analyze", "--inv"]),
                    "completion: options from help")
        fails.check(set(complete(["mastwatch", "model", ""])) == {"show", "merge"},
                    "completion: model subcommands")
    else:
        fails.check(os.path.exists(comp), "no bash completion installed")

    # systemd: the units verify (ExecStart pointed at the staged binary) and the sandbox scores
    unitdir = next((os.path.join(d, "systemd", "system") for d in (root + "/lib", stage + "/lib",
                    stage + "/usr/lib") if os.path.isdir(os.path.join(d, "systemd", "system"))),
                   None)
    fails.check(unitdir is not None, "no systemd units installed")
    if unitdir and shutil.which("systemd-analyze"):
        tmp = tempfile.mkdtemp()
        for u in ("mastwatch-nightly.service", "mastwatch-nightly.timer"):
            text = open(os.path.join(unitdir, u)).read()
            text = re.sub(r"^ExecStart=(\S+)", lambda m: "ExecStart=" + stage + m.group(1), text,
                          flags=re.M)
            open(os.path.join(tmp, u), "w").write(text)
        svc = os.path.join(tmp, "mastwatch-nightly.service")
        v = run(["systemd-analyze", "verify", "--man=no", svc,
                 os.path.join(tmp, "mastwatch-nightly.timer")])
        fails.check(v.returncode == 0 and v.stderr.strip() == "", f"verify: {v.stderr!r}")
        s = run(["systemd-analyze", "security", "--offline=true", svc])
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", s.stdout + s.stderr)
        fails.check(m is not None and float(m.group(1)) <= 2.0,
                    f"sandbox exposure {m.group(1) if m else '?'} (want <= 2.0)")
        text = open(svc).read()
        fails.check("SuccessExitStatus=1" in text, "findings (exit 1) must count as success")
        cal = re.search(r"^OnCalendar=(.*)$", open(os.path.join(tmp, "mastwatch-nightly.timer"))
                        .read(), re.M).group(1)
        c = run(["systemd-analyze", "calendar", cal])
        fails.check(c.returncode == 0, f"timer calendar {cal!r}: {c.stderr!r}")

    lr = os.path.join(etc, "logrotate.d", "mastwatch")
    fails.check(os.path.exists(lr), "no logrotate file")
    if os.path.exists(lr) and shutil.which("logrotate"):
        state = os.path.join(tempfile.mkdtemp(), "state")
        r = run(["logrotate", "-d", "-s", state, lr])
        fails.check(r.returncode == 0 and "error" not in r.stderr.lower(), f"logrotate: {r.stderr}")
    fails.check(os.path.exists(os.path.join(etc, "default", "mastwatch")), "no /etc/default file")
    fails.check(os.path.exists(os.path.join(root, "share", "doc", "mastwatch", "examples",
                                            "mastwatch-nightly")), "no cron example")
    shutil.rmtree(stage)
    return fails.finish("installed files in place and each one works")


if __name__ == "__main__":
    sys.exit(main())
