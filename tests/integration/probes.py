#!/usr/bin/python3
"""Probes a station refused, and time it served, on packets as they cross the wire (the
tenth-and-first audit's defects), against the demo site and model:

- a UDP scan of enb-001 from 203.0.113.20, every probe answered with the station's ICMP
  port unreachable: each unreachable is counted in the probe's own record (refused_by 2:
  the station refused), no ICMP record of the station's, the same records with 2 threads;
  the scanner is one new_peer (opened by the peer, 0 bytes up), and no volume ("upload" of
  the unreachables), time_source (port 123), leakage (GTP-C 2123) or cleartext (TFTP 69)
  finding about it;
- the same over IPv6 (ICMPv6 port unreachable) to gnb-002;
- an SCTP INIT to enb-001's S1AP port answered by ABORT: refused, no leakage
  ("signalling with a new peer"), a new_peer;
- an outside NTP client asking gnb-002 the time: no "new time source", a new_peer;
- an ICMP "fragmentation needed" stays an ICMP record (path MTU refuses nothing), so does
  the port unreachable of the probe to GTP-U's 2152 (a tunnel's path is keyed apart), and so
  do "unreachables" of 1,400 bytes the station sends an outsider (larger than any error may
  be: an upload in forged errors keeps its bytes).

usage: probes.py MASTWATCH REPO_ROOT
"""
import ipaddress
import json
import os
import struct
import subprocess
import sys
import tempfile

import h5py
import numpy as np

from mwtest import Failures, run

T0 = 1794218400  # 2026-11-09 10:00 UTC, the incident day of the demo model
SCANNER, SCTP_PROBER, NTP_CLIENT, MTU_HOST, DROP = ("203.0.113.20", "203.0.113.30",
                                                    "203.0.113.40", "203.0.113.50",
                                                    "203.0.113.60")
FORGED = 300
SCANNER6 = "2001:db8:ff::20"
ENB1, GNB2, GNB2_6 = "10.10.1.11", "10.10.1.12", "2001:db8:a:1::c"
UDP_PORTS = list(range(1, 6001))  # includes 69 (TFTP), 123 (NTP), 161, 2123 (GTP-C)


def eth(ethertype, payload):
    return b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb" + struct.pack("!H", ethertype) + \
        payload


def ip4(src, dst, proto, payload, ident=1, frag=0):
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xffff, frag, 64,
                       proto, 0, ipaddress.IPv4Address(src).packed,
                       ipaddress.IPv4Address(dst).packed) + payload


def ip6(src, dst, nh, payload):
    return struct.pack("!IHBB", 0x60000000, len(payload), nh, 64) + \
        ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed + payload


def udp(sport, dport, payload=b""):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def icmp_error(typ, code, quoted):
    return struct.pack("!BBHI", typ, code, 0, 0) + quoted[:28 if quoted[0] >> 4 == 4 else 48]


def sctp(sport, dport, chunk_type, body=b""):
    chunk = struct.pack("!BBH", chunk_type, 0, 4 + len(body)) + body
    return struct.pack("!HHII", sport, dport, 0 if chunk_type == 1 else 0x1234, 0) + chunk


def ntp(mode):
    return bytes([0x20 | mode]) + bytes(47)


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, frame in frames:
            s = int(t)
            f.write(struct.pack("<IIII", s, int((t - s) * 1e6), len(frame), len(frame)) + frame)


def build(path):
    frames, t = [], T0
    for i, port in enumerate(UDP_PORTS):  # 50 probes a second, each refused
        probe = ip4(SCANNER, ENB1, 17, udp(40000, port), ident=i)
        frames.append((t, eth(0x0800, probe)))
        frames.append((t + 0.0005, eth(0x0800, ip4(ENB1, SCANNER, 1, icmp_error(3, 3, probe)))))
        t += 0.02
    for port in (161, 2123):
        probe = ip6(SCANNER6, GNB2_6, 17, udp(40001, port))
        frames.append((t, eth(0x86DD, probe)))
        frames.append((t + 0.0005, eth(0x86DD, ip6(GNB2_6, SCANNER6, 58,
                                                   icmp_error(1, 4, probe)))))
        t += 0.02
    init = struct.pack("!IIHHI", 0x1234, 65536, 10, 10, 1)
    frames.append((t, eth(0x0800, ip4(SCTP_PROBER, ENB1, 132, sctp(50000, 36412, 1, init)))))
    frames.append((t + 0.001, eth(0x0800, ip4(ENB1, SCTP_PROBER, 132, sctp(36412, 50000, 6)))))
    t += 1
    for k in range(3):  # an NTP client asks gnb-002, which answers
        frames.append((t, eth(0x0800, ip4(NTP_CLIENT, GNB2, 17, udp(40123, 123, ntp(3))))))
        frames.append((t + 0.002, eth(0x0800, ip4(GNB2, NTP_CLIENT, 17, udp(123, 40123, ntp(4))))))
        t += 64
    big = ip4(ENB1, MTU_HOST, 17, udp(50123, 9000, bytes(1400)))
    frames.append((t, eth(0x0800, big)))
    frames.append((t + 0.001, eth(0x0800, ip4("10.99.0.1", ENB1, 1, icmp_error(3, 4, big)))))
    for k in range(FORGED):  # the station uploads in "port unreachables" to an outsider
        quoted = ip4(DROP, ENB1, 17, udp(5000, 6000 + k, bytes(1400 - 28)))
        frames.append((t + 1 + k * 0.01, eth(0x0800, ip4(ENB1, DROP, 1, struct.pack(
            "!BBHI", 3, 3, 0, 0) + quoted))))
    write_pcap(path, frames)


def addr(hi, lo):
    v = (int(hi) << 64) | int(lo)
    a = ipaddress.IPv6Address(v)
    return str(a.ipv4_mapped) if a.ipv4_mapped else str(a)


def records(path):
    with h5py.File(path, "r") as f:
        return f["flows"][:]


def main():
    mw, root = sys.argv[1], sys.argv[2]
    fails = Failures()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "probes.pcap")
        build(pcap)
        out, jsonl = os.path.join(tmp, "p.h5"), os.path.join(tmp, "p.jsonl")
        r = run([mw, "analyze", "-q", "--inventory", os.path.join(root, "captures", "site.yaml"),
                 "--model", os.path.join(root, "models", "demo-site.h5"), "--anomalies", jsonl,
                 "-o", out, pcap], timeout=300)
        assert r.returncode == 0, r.stderr
        with open(jsonl) as f:
            anoms = [json.loads(line) for line in f]
        flows = records(out)
        src = [addr(h, l) for h, l in zip(flows["src_hi"], flows["src_lo"])]
        dst = [addr(h, l) for h, l in zip(flows["dst_hi"], flows["dst_lo"])]

        # the records: every probe's own, with its unreachable; no ICMP record of the station
        scan = [i for i in range(len(flows)) if src[i] == SCANNER]
        fails.check(len(scan) == len(UDP_PORTS),
                    f"{len(scan)} records from the scanner, want one per probe ({len(UDP_PORTS)})")
        bad = [i for i in scan if not (flows["l4_proto"][i] == 17 and dst[i] == ENB1 and
                                       flows["initiator"][i] == 2 and
                                       (flows["refused_by"][i], flows["s2c_packets"][i]) ==
                                       ((0, 0) if flows["dst_port"][i] == 2152 else (2, 1)))]
        fails.check(not bad, f"{len(bad)} probe records not UDP, refused by the station (2) "
                             f"with one answer, opened by the peer; first: "
                             f"{flows[bad[0]] if bad else None}")
        icmp = [i for i in range(len(flows)) if flows["l4_proto"][i] in (1, 58)]
        pairs = sorted(tuple(sorted((src[i], dst[i]))) for i in icmp)
        fails.check(pairs == sorted([("10.10.1.11", "10.99.0.1"), (ENB1, SCANNER), (ENB1, DROP)]),
                    f"ICMP records {pairs}: want the router's fragmentation-needed one, the "
                    f"2152 probe's unreachable and the forged ones")
        forged = [i for i in icmp if DROP in (src[i], dst[i])]
        sent = sum(int(flows["c2s_bytes"][i] if src[i] == ENB1 else flows["s2c_bytes"][i])
                   for i in forged)
        fails.check(sent == FORGED * (14 + 20 + 8 + 1400),
                    f"forged unreachables: {sent} bytes kept, want {FORGED * 1442}")
        v6 = [i for i in range(len(flows)) if src[i] == SCANNER6]
        fails.check(len(v6) == 2 and all(flows["refused_by"][i] == 2 for i in v6),
                    f"IPv6 probes: {[(dst[i], int(flows['dst_port'][i]), int(flows['refused_by'][i])) for i in v6]}")
        sc = [i for i in range(len(flows)) if SCTP_PROBER in (src[i], dst[i])]
        fails.check(len(sc) == 1 and flows["refused_by"][sc[0]] == 2 and src[sc[0]] == SCTP_PROBER,
                    f"SCTP INIT/ABORT: {[flows[i] for i in sc]}")

        # the findings: only new peers, each named right
        outsiders = {SCANNER, SCANNER6, SCTP_PROBER, NTP_CLIENT}
        about = [a for a in anoms if a["peer"] in outsiders]
        wrong = [(a["detector"], a["peer"], a["explanation"]) for a in about
                 if a["detector"] in ("volume", "time_source", "leakage", "cleartext")]
        fails.check(not wrong, f"findings claiming an exchange that never happened: {wrong}")
        for peer, bs in ((SCANNER, "enb-001"), (SCANNER6, "gnb-002"), (SCTP_PROBER, "enb-001"),
                         (NTP_CLIENT, "gnb-002")):
            got = [a for a in about if a["detector"] == "new_peer" and a["peer"] == peer]
            fails.check(len(got) == 1 and got[0]["bs"] == bs and got[0]["opened_by"] == "peer",
                        f"{peer}: want one new_peer at {bs} opened by the peer, got "
                        f"{[(a['bs'], a['opened_by'], a['explanation']) for a in got]}")
            if peer != NTP_CLIENT and got:
                fails.check(got[0]["bytes_up"] == 0,
                            f"{peer}: {got[0]['bytes_up']} bytes up in refusals, want 0")

        # two threads: each unreachable reaches the worker that holds its probe
        out2 = os.path.join(tmp, "p2.h5")
        r = run([mw, "analyze", "-q", "-t", "2", "--inventory",
                 os.path.join(root, "captures", "site.yaml"), "-o", out2, pcap], timeout=300)
        assert r.returncode == 0, r.stderr
        one, two = np.sort(flows, order="flow_id"), np.sort(records(out2), order="flow_id")
        fails.check(len(one) == len(two) and all(
            (one[n] == two[n]).all() for n in ("flow_id", "refused_by", "s2c_packets", "s2c_bytes",
                                               "l4_proto")),
                    "-t 2 gives other records than -t 1")
    return fails.finish(f"{len(UDP_PORTS)} refused UDP probes, 2 over IPv6, an SCTP INIT/ABORT "
                        f"and an outside NTP client: refused records, new peers only")


if __name__ == "__main__":
    sys.exit(main())
