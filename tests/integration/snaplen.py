#!/usr/bin/python3
"""Header-only captures: a capture point that keeps the first 64 or 96 bytes of each packet
(privacy, disk) still counts every packet in its flow.

The committed incident day and, when ../shared/captures exists, real captures (HTTP and TLS
over IPv6, TLS, an EPC attach with S1AP over SCTP and GTP-U, a 5G roaming run) are cut to a
snaplen with editcap -s; a packet whose transport header the cut leaves with its ports (IPv6
TCP at 64 bytes, TCP inside GTP-U at 96) must still be counted:

- every plain and tunnel record of the whole capture is in the cut one with the same packets
  and wire bytes each way, at 64 and 96 bytes (but sessions an ICMP error refused: the cut
  may leave the error without the ports it quotes, and then it is an ICMP flow); on the incident day at 96 bytes the records
  inside GTP-U too, and tracked_packets equals the whole capture's;
- the incident day's anomalies at 96 bytes are the whole day's (detector, station, peer,
  opener); at 64 bytes (no DNS names, NTP modes or GTP-U inner headers left) a subset, naming
  the opener the same way or "unknown".

usage: snaplen.py MASTWATCH REPO_ROOT SHARED_DIR
"""
import os
import subprocess
import sys
import tempfile


from mwtest import Failures, analyze_file

REAL = ["ndpi/http_ipv6.pcap", "ndpi/443-curl.pcap", "open5gs/testattach.pcapng",
        "open5gs/5g-roaming-lbo.pcapng"]
KEY = ("src_hi", "src_lo", "dst_hi", "dst_lo", "src_port", "dst_port", "l4_proto", "kind",
       "first_us")
COUNTS = ("c2s_packets", "s2c_packets", "c2s_bytes", "s2c_bytes")


def analyze(mw, pcap, out, model=None):
    r = analyze_file(mw, pcap, out, model=model)
    return r.flows, r.counters, r.anomalies


def icmp_quoted_ports(pcap):
    """{(port, port)} of the packets ICMP destination unreachables quote, by tshark."""
    out = subprocess.run(["tshark", "-r", pcap, "-Y", "icmp.type == 3 || icmpv6.type == 1",
                          "-T", "fields", "-e", "udp.srcport", "-e", "udp.dstport", "-e",
                          "tcp.srcport", "-e", "tcp.dstport"],
                         capture_output=True, text=True, check=True).stdout
    ports = set()
    for line in out.splitlines():
        f = [int(x) for x in line.split("\t") if x]
        if len(f) == 2:
            ports |= {(f[0], f[1]), (f[1], f[0])}
    return ports


def records(flows, inner, refused=frozenset()):
    return {tuple(int(r[k]) for k in KEY): tuple(int(r[c]) for c in COUNTS) for r in flows
            if (inner or r["kind"] != 2) and
            (int(r["src_port"]), int(r["dst_port"])) not in refused}


def compare(fails, name, whole, cut, inner, refused=frozenset()):
    want, got = records(whole, inner, refused), records(cut, inner, refused)
    missing = [k for k in want if k not in got]
    differ = [k for k in want if k in got and got[k] != want[k]]
    fails.check(not missing and not differ,
                f"{name}: of {len(want)} records {len(missing)} missing, {len(differ)} with "
                f"other counts (first: {(missing + differ)[:1]})")


def cut(src, snaplen, out):
    subprocess.run(["editcap", "-s", str(snaplen), src, out], check=True, capture_output=True)
    return out


def main():
    mw, root, shared = sys.argv[1], sys.argv[2], sys.argv[3]
    fails = Failures()
    model = (os.path.join(root, "captures", "site.yaml"),
             os.path.join(root, "models", "demo-site.h5"))

    def key(a):
        return (a["detector"], a["bs"], a["peer"])
    with tempfile.TemporaryDirectory() as tmp:
        day = os.path.join(root, "captures", "incident-day.pcap")
        whole, counters, anoms = analyze(mw, day, os.path.join(tmp, "day.h5"), model)
        opener = {key(a): a["opened_by"] for a in anoms}
        for snaplen in (64, 96):
            c = cut(day, snaplen, os.path.join(tmp, f"day{snaplen}.pcap"))
            flows, cc, got = analyze(mw, c, c + ".h5", model)
            compare(fails, f"incident day at {snaplen} bytes", whole, flows, snaplen >= 96)
            if snaplen >= 96:
                fails.check(cc["tracked_packets"] == counters["tracked_packets"],
                            f"incident day at {snaplen}: {cc['tracked_packets']} packets "
                            f"tracked of {counters['tracked_packets']}")
                fails.check(sorted((key(a), a["opened_by"]) for a in got) ==
                            sorted((key(a), a["opened_by"]) for a in anoms),
                            f"incident day at {snaplen}: anomalies differ from the whole day's")
            else:
                wrong = [(key(a), a["opened_by"]) for a in got if key(a) not in opener or
                         a["opened_by"] not in ("unknown", opener[key(a)])]
                fails.check(not wrong, f"incident day at {snaplen}: anomalies the whole day "
                            f"does not raise, or openers named otherwise: {wrong[:4]}")
            print(f"note: incident day at {snaplen} bytes: {len(got)} of {len(anoms)} "
                  f"anomalies, {cc['tracked_packets']} of {counters['tracked_packets']} "
                  "packets tracked")
        caps = os.path.join(shared, "captures")
        if not os.path.isdir(caps):
            print(f"note: {caps} is absent: third-party captures not checked")
        else:
            for rel in REAL:
                src = os.path.join(caps, rel)
                whole, _, _ = analyze(mw, src, os.path.join(tmp, "w.h5"))
                for snaplen in (64, 96):
                    c = cut(src, snaplen, os.path.join(tmp, f"r{snaplen}.pcap"))
                    compare(fails, f"{rel} at {snaplen} bytes", whole,
                            analyze(mw, c, c + ".h5")[0], False, icmp_quoted_ports(src))
    return fails.finish("header-only captures (64, 96 bytes) count every packet whose ports "
                        "they keep, in the flow of the whole capture")


if __name__ == "__main__":
    sys.exit(main())
