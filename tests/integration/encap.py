#!/usr/bin/python3
"""A capture point fed by a remote SPAN session or an overlay: every frame arrives inside
ERSPAN (types I, II, III), Ethernet in GRE, VXLAN or Geneve.

The test wraps each frame of real captures - the committed incident day and, when
../shared/captures exists, third-party ones (TLS, FTP, IPv6, an EPC attach with S1AP,
GTP-U, PFCP and Diameter, a capture with VLAN tags) - in each encapsulation, the delivery
itself over IPv4 or IPv6 and in a VLAN of its own, and checks that the analysis is the
one of the frames as captured where they were mirrored:

- /flows equal the unwrapped capture's in every column (flow ids, bytes, VLAN ids of the
  carried frames, labels, planes), at 1 and 2 threads; /stats/counters encap.<name> counts
  every wrapped frame and the other counters are the unwrapped run's;
- on the incident day, the anomalies (detector, station, peer, opener) are the unwrapped
  day's, its C2 beacon among them;
- a Geneve delivery of bare IP packets (no Ethernet header) gives the flows of the same
  packets framed without VLAN tags;
- ERSPAN frames cut by the snaplen inside the ERSPAN header are counted
  (skipped.encap_truncated and encap.erspan), not guessed at;
- the run says once, without -q, which encapsulation and which two ends deliver the frames;
- a delivery with a base station of the inventory at one end (a station tunnelling its own
  traffic in VXLAN to an outside host) is not stripped: it is the station's flow, with a
  warning, encap.kept_station, and an anomaly naming the station and that host; a
  station's own GRE tunnel to an outside host (Zeek's GRE sample re-addressed) is a
  new_peer too.

usage: encap.py MASTWATCH REPO_ROOT SHARED_DIR
"""
import ipaddress
import os
import struct
import sys
import tempfile

import numpy as np

from mwtest import Failures, analyze_file, run
from vlan_frames import ether, frames_of

import mw_realattack as ra  # noqa: E402 (scripts/ is on the path via mwtest)

OUTER_MACS = bytes.fromhex("0200000000aa") + bytes.fromhex("0200000000bb")
OUTER4 = (bytes([192, 0, 2, 10]), bytes([192, 0, 2, 20]))
OUTER6 = (ipaddress.ip_address("2001:db8::a").packed, ipaddress.ip_address("2001:db8::b").packed)


def gre(proto, seq=None, key=None):
    flags = (0x2000 if key is not None else 0) | (0x1000 if seq is not None else 0)
    h = struct.pack("!HH", flags, proto)
    if key is not None:
        h += struct.pack("!I", key)
    if seq is not None:
        h += struct.pack("!I", seq)
    return h


def erspan2(i):
    return gre(0x88BE, seq=i) + struct.pack("!HHI", 0x1000 | 7, 0x0800 | 101, i & 0xFFFFF)


def erspan3(i, subheader):
    tail = 0x0001 if subheader else 0  # the O bit: an 8-byte platform subheader follows
    h = gre(0x22EB, seq=i) + struct.pack("!HHIHH", 0x2000 | 7, 101, i, 0, tail)
    return h + (bytes(8) if subheader else b"")


def udp(dport, payload_len):
    return struct.pack("!HHHH", 40000, dport, 8 + payload_len, 0)


def vxlan():
    return struct.pack("!II", 0x08000000, 4242 << 8)


def geneve(proto):
    # version 0, 8 bytes of options (one TLV: class, type, length 1 word, 4 bytes)
    return struct.pack("!BBHI", 2, 0, proto, 77 << 8) + struct.pack("!HBBI", 0x0103, 1, 1, 0)


def outer_ip(v6, proto, payload_len, ends=None):
    if v6:
        return (struct.pack("!IHBB", 0x60000000, payload_len, proto, 64) + OUTER6[0] +
                OUTER6[1], 0x86DD)
    src, dst = ends or OUTER4
    h = struct.pack("!BBHHHBBH", 0x45, 0, 20 + payload_len, 0, 0x4000, 64, proto, 0)
    return h + src + dst, 0x0800


def wrap(frames, how, v6=False, vlan=None, ends=None):
    """frames [(ts_ns, data, orig_len)] -> the same frames delivered as `how` says (from
    and to the IPv4 addresses ends, when given)."""
    out = []
    for i, (ts, data, orig) in enumerate(frames):
        if how == "erspan1":
            head, proto = gre(0x88BE), 47
        elif how == "erspan2":
            head, proto = erspan2(i), 47
        elif how == "erspan3":
            head, proto = erspan3(i, i % 2 == 1), 47
        elif how == "teb":
            head, proto = gre(0x6558, key=i if i % 2 else None), 47
        elif how == "vxlan":
            head, proto = vxlan(), 17
        elif how in ("geneve", "geneve-ip"):
            et = 0x6558 if how == "geneve" else (0x0800 if data[0] >> 4 == 4 else 0x86DD)
            head, proto = geneve(et), 17
        else:
            raise ValueError(how)
        if proto == 17:
            head = udp(4789 if how == "vxlan" else 6081, len(head) + orig) + head
        ip, et = outer_ip(v6, proto, len(head) + orig, ends)
        tags = struct.pack("!HH", 0x8100, vlan) if vlan else b""
        l2 = OUTER_MACS + tags + struct.pack("!H", et)
        pre = l2 + ip + head
        out.append((ts, pre + data, len(pre) + orig))
    return out


def ethernet_frames(path):
    """[(ts_ns, Ethernet frame, orig_len)]: the capture's own frames when it is Ethernet
    (tags and all), else its IP packets framed untagged."""
    lt, pkts = ra.read_capture(path)
    if lt == 1:
        return [(ts, d, orig) for ts, d, orig in pkts]
    return [(ts, ether(et, net), len(net) + 14) for ts, et, net in frames_of(path)]


def write_frames(path, frames):
    ra.write_pcap(path, frames)


def differing(a, b):
    if len(a) != len(b):
        return [f"{len(a)} records, want {len(b)}"]
    a, b = np.sort(a, order="flow_id"), np.sort(b, order="flow_id")
    return [n for n in b.dtype.names if not np.array_equal(a[n], b[n])]


def incidents(anoms):
    return sorted((a["detector"], a.get("bs"), a.get("peer"), a.get("opener"))
                  for a in anoms)


ENCAP_COUNTER = {"erspan1": "encap.erspan", "erspan2": "encap.erspan",
                 "erspan3": "encap.erspan", "teb": "encap.gre_teb", "vxlan": "encap.vxlan",
                 "geneve": "encap.geneve", "geneve-ip": "encap.geneve"}


def check(fails, mw, tmp, name, frames, ways, model=None):
    plain = os.path.join(tmp, f"{name}.pcap")
    write_frames(plain, frames)
    wants = {t: analyze_file(mw, plain, plain + f"-t{t}.h5", ["-t", t], model=model)
             for t in ("1", "2")}
    for how, v6, vlan in ways:
        label = f"{name} in {how}{' over IPv6' if v6 else ''}{f' in VLAN {vlan}' if vlan else ''}"
        path = os.path.join(tmp, f"{name}-{how}-{int(v6)}-{vlan or 0}.pcap")
        write_frames(path, wrap(frames, how, v6, vlan))
        for threads in ("1", "2"):
            want = wants[threads]
            got = analyze_file(mw, path, path + f"-t{threads}.h5", ["-t", threads], model=model)
            diff = differing(got.flows, want.flows)
            fails.check(not diff, f"{label} -t {threads}: /flows differ from the unwrapped "
                        f"capture's in {diff[:6]}")
            fails.check(got.counters.get(ENCAP_COUNTER[how]) == len(frames),
                        f"{label}: {ENCAP_COUNTER[how]} {got.counters.get(ENCAP_COUNTER[how])}, "
                        f"want {len(frames)}")
            # "bytes" is what arrived: the carried frames and their delivery
            others = {k: v for k, v in got.counters.items()
                      if not k.startswith("encap.") and k != "bytes" and
                      v != want.counters.get(k)}
            fails.check(not others, f"{label}: counters differ: {others} "
                        f"(unwrapped: { {k: want.counters.get(k) for k in others} })")
            if model:
                fails.check(incidents(got.anomalies) == incidents(want.anomalies),
                            f"{label}: anomalies {incidents(got.anomalies)}, want "
                            f"{incidents(want.anomalies)}")
    return wants["1"]


def main():
    mw, root, shared = sys.argv[1], sys.argv[2], sys.argv[3]
    fails = Failures()
    site = os.path.join(root, "captures", "site.yaml")
    model = (site, os.path.join(root, "models", "demo-site.h5"))
    every = [("erspan1", False, None), ("erspan2", False, 300), ("erspan3", True, None),
             ("teb", False, None), ("vxlan", False, None), ("vxlan", True, 300),
             ("geneve", False, None)]
    with tempfile.TemporaryDirectory() as tmp:
        day = ethernet_frames(os.path.join(root, "captures", "incident-day.pcap"))
        want = check(fails, mw, tmp, "incident-day", day,
                     [("erspan2", False, 300), ("vxlan", False, None)], model=model)
        beacons = [a for a in want.anomalies if a["detector"] == "beacon"]
        fails.check(beacons, "incident day: no beacon found unwrapped (the test's premise)")

        # the note, once, naming the delivery's two ends
        path = os.path.join(tmp, "incident-day-erspan2-0-300.pcap")
        r = run([mw, "analyze", "-o", os.path.join(tmp, "note.h5"), path])
        notes = [ln for ln in r.stderr.splitlines() if "frames arrive in ERSPAN" in ln]
        fails.check(r.returncode == 0 and len(notes) == 1 and "from 192.0.2.10 to 192.0.2.20"
                    in notes[0], f"the note about ERSPAN: {notes} (exit {r.returncode})")

        # cut inside the ERSPAN header: counted as such, no flow guessed
        cut = [(ts, d[:14 + 20 + 8 + 4], orig)
               for ts, d, orig in wrap(day[:200], "erspan2", vlan=None)]
        path = os.path.join(tmp, "cut.pcap")
        write_frames(path, cut)
        got = analyze_file(mw, path, path + ".h5")
        fails.check(len(got.flows) == 0 and got.counters.get("skipped.encap_truncated") == 200
                    and got.counters.get("encap.erspan") == 200,
                    f"ERSPAN cut in its header: {len(got.flows)} flows, counters "
                    f"{ {k: v for k, v in got.counters.items() if 'encap' in k and v} }")

        # a base station's own VXLAN to an outside host: analyzed as sent, and found
        station, outside = "10.10.1.11", "203.0.113.99"  # enb-001 in captures/site.yaml
        ends = (ipaddress.ip_address(station).packed, ipaddress.ip_address(outside).packed)
        path = os.path.join(tmp, "station-vxlan.pcap")
        write_frames(path, wrap(day[:300], "vxlan", ends=ends))
        got = analyze_file(mw, path, path + ".h5", model=model)
        own = [f for f in got.flows if f["dst_port"] == 4789 and f["l4_proto"] == 17]
        # one session, cut at the model's windows
        fails.check(got.counters.get("encap.kept_station") == 300 and
                    got.counters.get("encap.vxlan") == 0 and len(own) >= 1 and
                    len(own) == len(got.flows) and
                    sum(int(f["c2s_packets"] + f["s2c_packets"]) for f in own) == 300,
                    f"a station's own VXLAN: {len(got.flows)} flows, {len(own)} to 4789, counters "
                    f"{ {k: v for k, v in got.counters.items() if 'encap' in k and v} }")
        fails.check(any(a.get("peer") == outside and a.get("bs") == "enb-001"
                        for a in got.anomalies),
                    f"a station's own VXLAN: no anomaly names enb-001 and {outside}: "
                    f"{incidents(got.anomalies)}")
        fails.check(any("has a base station at one end" in ln for ln in got.stderr.splitlines()),
                    f"a station's own VXLAN: no warning: {got.stderr}")
        got = analyze_file(mw, path, path + "-noinv.h5")  # no inventory: nothing says so
        fails.check(got.counters.get("encap.vxlan") == 300,
                    f"without an inventory the delivery is stripped: {got.counters}")

        caps = os.path.join(shared, "captures")
        if os.path.isdir(caps):
            for rel in ("ndpi/443-curl.pcap", "ndpi/ftp.pcap", "ndpi/http_ipv6.pcap",
                        "open5gs/testattach.pcapng", "ndpi/tls_invalid_reads.pcap"):
                path = os.path.join(caps, rel)
                if os.path.exists(path):
                    check(fails, mw, tmp, os.path.basename(rel), ethernet_frames(path), every)
            # a station's own GRE tunnel (Zeek's GRE sample, its outer end 172.27.1.66 made
            # enb-001, moved to the incident day): a tunnel record judged like any flow of
            # the station, so an outside end is a new peer (it was the user plane: nothing)
            path = os.path.join(caps, "zeek/tunnels/gre-sample.pcap")
            if os.path.exists(path):
                _lt, pkts = ra.read_capture(path)
                ours = ipaddress.ip_address(station).packed
                moved = []
                for ts, d, orig in pkts:
                    d = bytearray(d)
                    for at in (26, 30):  # the outer IPv4 source and destination
                        if d[at:at + 4] == bytes([172, 27, 1, 66]):
                            d[at:at + 4] = ours
                    moved.append((ts - pkts[0][0] + day[0][0] + 3600 * 10**9, bytes(d), orig))
                path = os.path.join(tmp, "station-gre.pcap")
                write_frames(path, moved)
                got = analyze_file(mw, path, path + ".h5", model=model)
                tun = [f for f in got.flows if f["kind"] == 1 and f["l4_proto"] == 47]
                fails.check(len(tun) == 1 and any(
                    a["detector"] == "new_peer" and a.get("bs") == "enb-001" and
                    a.get("peer") == "66.59.109.137" for a in got.anomalies),
                    f"a station's own GRE tunnel: {len(tun)} tunnel records, anomalies "
                    f"{incidents(got.anomalies)}")
            # bare IP packets in Geneve: the flows of the same packets framed untagged
            path = os.path.join(caps, "ndpi/443-curl.pcap")
            if os.path.exists(path):
                nets = frames_of(path)
                framed = [(ts, ether(et, net), len(net) + 14) for ts, et, net in nets]
                bare = [(ts, net, len(net)) for ts, _et, net in nets]
                plain = os.path.join(tmp, "framed.pcap")
                write_frames(plain, framed)
                want = analyze_file(mw, plain, plain + ".h5")
                path = os.path.join(tmp, "geneve-ip.pcap")
                write_frames(path, wrap(bare, "geneve-ip"))
                got = analyze_file(mw, path, path + ".h5")
                # the bare packets are 14 bytes shorter than the framed ones: bytes differ
                diff = [n for n in differing(got.flows, want.flows)
                        if "bytes" not in n and "len_" not in n]
                fails.check(not diff, f"Geneve carrying IP: /flows differ in {diff[:6]}")
        else:
            print("SKIP: ../shared/captures absent: the incident day only")
    return fails.finish("encapsulations: every carried frame analyzed as captured")


if __name__ == "__main__":
    sys.exit(main())
