#!/usr/bin/python3
"""capture --readers N (issue 9): several reader threads share an interface
in one PACKET_FANOUT group. On a veth pair the test creates, tcpreplay sends
the project's sample site (a week of GTP-U, S1AP and OAM traffic of four
base stations) and, when ../shared is there, nDPI's GTP and fragment
captures, the same way to `capture --readers 1` and to `--readers 3`.
Every packet sent is received once (no duplicates across readers, no
drops; a packet the veth pair itself dropped under load - its tx_dropped, before any socket
- is left out, and so are the flows it belonged to, as are up to five packets sent that no
socket was ever handed (the sockets' own count, pcap_stats); every packet the sockets
received is read once); each of the three readers read some; and the records are the same:
for every flow (kind, protocol, VLAN, endpoints) the same number of records
with the same packets, bytes, TCP flags, nDPI labels, host name, plane,
base station, roles, TEIDs, subscriber side and tunnel count (FTP data
connections are named as such with 3 readers, as with 1). Only flow ids
(frame numbers are counted per reader) and times differ. SIGTERM ends the
run with its file written out (final name, stop_signal 15).
Needs root, tcpreplay and the right to create links; exits 77 (skip) otherwise.

usage: fanout_readers.py MASTWATCH PROJECT_DIR SHARED_DIR
"""
import collections
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py

from mwtest import SKIP, Failures, finish, run

A, B = "mwtfana", "mwtfanb"
COLUMNS = ["c2s_packets", "s2c_packets", "c2s_bytes", "s2c_bytes", "c2s_tcp_flags",
           "s2c_tcp_flags", "master_proto", "app_proto", "category", "risk", "host", "plane",
           "bs_index", "service", "tunnels", "subscriber", "teid_c2s", "teid_s2c", "initiator",
           "local_role", "peer_role", "end_reason", "orient", "start_seen"]
MTU_FRAME = 1514  # a veth carries frames up to its MTU; tcpreplay skips longer ones


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True)


def make_veth():
    sh(f"ip link del {A}")
    if sh(f"ip link add {A} type veth peer name {B}").returncode != 0:
        return False
    # no IPv6 autoconfiguration: the kernel's own router solicitations are not ours (a
    # kernel without IPv6 has none to send)
    sh(f"sysctl -qw net.ipv6.conf.{A}.disable_ipv6=1 net.ipv6.conf.{B}.disable_ipv6=1")
    if sh(f"ip link set {A} up && ip link set {B} up").returncode != 0:
        return False
    for _ in range(50):
        if open(f"/sys/class/net/{A}/operstate").read().strip() == "up":
            return True
        time.sleep(0.1)
    return False


def build_input(project, shared, tmp):
    parts = [os.path.join(project, "captures", "clean-week.pcap"),
             os.path.join(project, "captures", "incident-day.pcap")]
    for rel in ("ndpi/gtp.pcap", "ndpi/ipv6_in_gtp.pcap", "ndpi/dns_fragmented.pcap",
                "pcapplusplus/ip4_fragments.pcap", "zeek/tunnels/gtp/gtp1_gn_normal_incl_fragmentation.pcap",
                "ndpi/ftp.pcap", "zeek/ftp/ipv6.pcap"):
        p = os.path.join(shared, "captures", rel)
        if os.path.exists(p):
            parts.append(p)
    merged = os.path.join(tmp, "merged.pcap")
    r = run(["mergecap", "-a", "-F", "pcap", "-w", merged] + parts)
    assert r.returncode == 0, r.stderr
    sendable = os.path.join(tmp, "send.pcap")
    r = run(["tshark", "-r", merged, "-Y", f"frame.cap_len <= {MTU_FRAME}", "-F", "pcap",
             "-w", sendable])
    assert r.returncode == 0, r.stderr
    return sendable


def veth_dropped():
    """Packets the veth pair dropped on their way to the capture side (its peer's backlog
    full under load: before any socket, so no capture can see them)."""
    with open(f"/sys/class/net/{A}/statistics/tx_dropped") as f:
        return int(f.read())


def capture(mastwatch, readers, pcap, out):
    dropped = veth_dropped()
    proc = subprocess.Popen([mastwatch, "capture", "-i", B, "--readers", str(readers), "-t", "2",
                             "--no-progress", "-o", out], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(2)  # the sockets are open and in their group
    r = run(["tcpreplay", "-i", A, "--pps", "20000", pcap])
    sent = re.search(r"Actual: (\d+) packets", r.stdout)
    trouble = [ln.strip() for ln in r.stdout.splitlines()
               if re.search(r"(Failed|Retried) packets.*: [1-9]", ln)]
    if trouble:
        print(f"note: --readers {readers}: tcpreplay: {trouble}")
    time.sleep(2)  # the last ring blocks are retired and read
    err = finish(proc, signal.SIGTERM, timeout=30)
    lost = veth_dropped() - dropped
    if lost:
        print(f"note: --readers {readers}: the veth pair dropped {lost} packets before the "
              "capture side (load)")
    return proc.returncode, err, (int(sent.group(1)) if sent else -1), lost


def records(path):
    by_flow = collections.defaultdict(list)
    with h5py.File(path, "r") as f:
        stopped_by = int(f.attrs.get("stop_signal", -1))
        for r in f["flows"][:]:
            a = (int(r["src_hi"]), int(r["src_lo"]), int(r["src_port"]))
            b = (int(r["dst_hi"]), int(r["dst_lo"]), int(r["dst_port"]))
            key = (int(r["kind"]), int(r["l4_proto"]), int(r["vlan_outer"]), a, b)
            by_flow[key].append(tuple(r[c].item() if hasattr(r[c], "item") else r[c]
                                      for c in COLUMNS))
    return stopped_by, {k: sorted(v) for k, v in by_flow.items()}


def summary_number(err, label):
    m = re.search(rf"^{label}\s+(\d+)", err, re.M)
    return int(m.group(1)) if m else -1


def main():
    mastwatch, project, shared = sys.argv[1], sys.argv[2], sys.argv[3]
    if os.geteuid() != 0 or shutil.which("tcpreplay") is None or not make_veth():
        print("SKIP: needs root, tcpreplay and the right to create a veth pair")
        return SKIP
    fails = Failures()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            pcap = build_input(project, shared, tmp)
            runs, vlost = {}, {}
            for n in (1, 3):
                out = os.path.join(tmp, f"readers{n}.h5")
                rc, err, sent, lost = capture(mastwatch, n, pcap, out)
                fails.check(rc == 0, f"--readers {n}: exit {rc}: {err[-400:]}")
                fails.check(sent > 50000, f"--readers {n}: tcpreplay sent {sent} packets")
                got = summary_number(err, "packets")
                drops = re.search(r"^kernel\s+(\d+) received, (\d+) dropped", err, re.M)
                # what the sockets were handed (pcap_stats, read after the stop): a packet
                # sent that no socket ever saw was lost on the way, not by the capture (the
                # one of 62,084 missing twice in CI under ASan was the capture's: a break
                # racing with a read, test_capture_break)
                received = int(drops.group(1)) if drops else -1
                unseen = sent - lost - received
                if drops and 0 < unseen <= 5:
                    print(f"note: --readers {n}: {unseen} packets sent never reached a socket "
                          f"(kernel received {received})")
                    lost += unseen
                fails.check(got == received, f"--readers {n}: {got} packets read, the sockets "
                            f"received {received} (each once: none lost, none twice)")
                fails.check(got == sent - lost, f"--readers {n}: {got} packets read, {sent} sent "
                            f"and {lost} lost before any socket (each once: none lost, none "
                            "twice)")
                vlost[n] = lost
                fails.check(drops is not None and drops.group(2) == "0",
                            f"--readers {n}: kernel drops: {drops.group(0) if drops else err}")
                if n > 1:
                    m = re.search(r"^readers\s+(\d+) .*packets each: ([\d ]+)$", err, re.M)
                    each = [int(x) for x in m.group(2).split()] if m else []
                    fails.check(len(each) == n and all(x > 0 for x in each)
                                and sum(each) == got,
                                f"--readers {n}: packets per reader {each}, {got} in all")
                runs[n] = records(out)
            (c1, one), (c3, three) = runs[1], runs[3]
            fails.check(c1 == signal.SIGTERM and c3 == signal.SIGTERM,
                        f"stop_signal attributes {c1}, {c3} after SIGTERM")
            differ = [k for k in set(one) | set(three) if one.get(k) != three.get(k)]
            n_records = sum(len(v) for v in one.values())
            fails.check(n_records > 1000, f"too few records to compare: {n_records}")
            fails.check(any(k[0] == 2 for k in one), "no inner GTP-U flows in the input")
            # a data connection and its FTP control session share a host pair, so one reader
            # sees both: the sample day's FTP transfer is named with 3 readers as with 1
            with h5py.File(os.path.join(tmp, "readers3.h5"), "r") as f:
                ftp_data = {n.decode(): int(i) for i, n in f["meta/services"][:]}["FTP-data"]
            fails.check(any(r[COLUMNS.index("service")] == ftp_data for v in three.values()
                            for r in v), "no FTP-data record with 3 readers")
            # a packet the veth pair dropped under load never reached either capture: the
            # flows it belonged to may differ, nothing else
            allowed = 2 * (vlost[1] + vlost[3])
            fails.check(len(differ) <= allowed, f"{len(differ)} of {len(one)} flows differ "
                        f"between 1 and 3 readers ({allowed} allowed for the veth pair's drops), "
                        f"e.g. {[(k, one.get(k), three.get(k)) for k in differ[:2]]}")
    finally:
        sh(f"ip link del {A}")
    return fails.finish(f"{n_records} records of {len(one)} flows identical with 1 and 3 "
                        "readers; every packet read once")


if __name__ == "__main__":
    sys.exit(main())
