#!/usr/bin/python3
"""Every capture under ../shared/captures (incl. tcpdump's and nDPI's malformed
and fuzz files) runs to the end: exit 0, or exit 1 with one-line errors for a
corrupt/unreadable file; never a crash or sanitizer report; and the HDF5 file
is always complete and readable, including for broken inputs. With -q the only
output is the warning of the one capture whose two directions of a session carry
different VLAN ids (a TCP syslog session of nDPI's syslog.pcap: the SYN in VLAN 1506,
the SYN-ACK in VLAN 1906) and that of the one whose IP fragments overlap with different
bytes (Zeek's fragmented-4.pcap), each on that capture only.

usage: all_captures.py MASTWATCH SHARED_DIR
"""
import csv
import os
import sys
import tempfile

from mwtest import Failures, check_h5, run, shared_captures

WARNINGS = {"ndpi/syslog.pcap": "warning: 1 session seen one way in VLAN 1506 and the other "
                                "way in VLAN 1906",
            "zeek/ipv4/fragmented-4.pcap": "warning: fragments of an IP datagram overlap with "
                                           "different bytes"}


def main():
    mastwatch, caps = sys.argv[1], shared_captures(sys.argv[2])
    rows = list(csv.DictReader(open(os.path.join(caps, "MANIFEST.tsv")), delimiter="\t"))
    fails = Failures()
    ok = broken = 0
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "o.h5")
        for row in rows:
            path = os.path.join(caps, row["relpath"])
            r = run([mastwatch, "analyze", "-q", "-t", "2", "-o", out, path], timeout=300)
            name = row["relpath"]
            sanitizer = "Sanitizer" in r.stderr or "runtime error" in r.stderr
            fails.check(not sanitizer, f"{name}: sanitizer report: {r.stderr[-500:]}")
            fails.check(r.returncode in (0, 1), f"{name}: exit {r.returncode}: {r.stderr[-300:]}")
            if r.returncode == 1:
                broken += 1
                lines = [ln for ln in r.stderr.splitlines() if ln]
                fails.check(all(ln.startswith("mastwatch: ") for ln in lines),
                            f"{name}: error output is not one-line messages: {lines}")
            else:
                ok += 1
                want = WARNINGS.get(name)
                lines = r.stderr.splitlines()
                fails.check(len(lines) == 1 and want in lines[0] if want else r.stderr == "",
                            f"{name}: stderr with -q: {r.stderr!r} (want {want!r})")
            fails.check(os.path.exists(out), f"{name}: no HDF5 file written")
            if os.path.exists(out):
                try:
                    attrs = check_h5(out)
                    fails.check(attrs["complete"] == (1 if r.returncode == 0 else 0),
                                f"{name}: complete={attrs['complete']} with exit {r.returncode}")
                except Exception as e:  # noqa: BLE001 - any failure to read is the finding
                    fails.check(False, f"{name}: HDF5 unreadable: {e}")
                os.unlink(out)
            fails.check(not os.path.exists(out + ".partial"), f"{name}: .partial left behind")
    return fails.finish(f"{ok + broken} captures: {ok} read fully, {broken} reported broken "
                        f"with a clear error, all HDF5 outputs readable")


if __name__ == "__main__":
    sys.exit(main())
