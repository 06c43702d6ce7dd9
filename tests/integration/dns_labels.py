#!/usr/bin/python3
"""Each DNS flow record's dns_max_label (the longest label of any question its packets
carried) agrees with tshark's dissection: per UDP conversation on port 53, 5353 or 5355,
the longest label of every dns.qry.name tshark shows (with ../shared/captures; SKIP otherwise). Written
TCP sessions, always: a query whose length comes alone in its segment, queries pipelined in
one segment, and a DKIM-sized TXT answer whose base64 continues over several segments (none
of it read as a question); each record's host is its first query's name. Names tshark prints with escapes or
non-ASCII bytes (binary labels) or as a placeholder ("<Name too long>") are not their
length: where a conversation has any, its readable names only bound dns_max_label from
below.

usage: dns_labels.py MASTWATCH SHARED_DIR
"""
import ipaddress
import os
import sys
import tempfile
from collections import defaultdict

import h5py

from mwtest import Failures, run

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import mw_realattack as ra  # noqa: E402
from ftp_data import T0, Session  # noqa: E402  (TCP sessions written packet by packet)

CAPTURES = ["ndpi/dns-tunnel-iodine.pcap", "ndpi/dns.pcap", "ndpi/dns_fragmented.pcap",
            "ndpi/malformed_dns.pcap", "zeek/ipv6-fragmented-dns.pcap", "tcpdump/dns_udp.pcap",
            "tcpdump/dns-badlabel.pcap", "tcpdump/dns-zlip-1.pcap", "ndpi/instagram.pcap",
            "ndpi/teams.pcap", "ndpi/netflix.pcap", "ndpi/zoom.pcap", "ndpi/malware.pcap",
            "ndpi/alexa-app.pcapng", "pcapplusplus/example.pcap"]
DNS_PORTS = {53, 5353, 5355}


def conv_key(a, ap, b, bp):
    return frozenset([(a, ap), (b, bp)])


def tshark_labels(path):
    """conversation -> longest label, and the conversations with unreadable names."""
    fields = ["ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "udp.srcport", "udp.dstport",
              "dns.qry.name"]
    r = run(["tshark", "-n", "-r", path, "-Y", "dns && udp", "-T", "fields", "-E",
             "occurrence=a", "-E", "aggregator=;"] + [x for f in fields for x in ("-e", f)])
    best, unreadable = defaultdict(int), set()
    for line in r.stdout.splitlines():
        v = line.split("\t")
        if len(v) < len(fields) or not v[4]:
            continue
        src, dst = (v[0], v[1]) if v[0] else (v[2], v[3])
        src, dst = src.split(";")[0], dst.split(";")[0]  # the outer header
        sport, dport = int(v[4].split(";")[0]), int(v[5].split(";")[0])
        if not DNS_PORTS & {sport, dport}:
            continue
        key = conv_key(str(ipaddress.ip_address(src)), sport, str(ipaddress.ip_address(dst)),
                       dport)
        best[key] = max(best[key], 0)
        for name in filter(None, v[6].split(";")):
            # escapes, binary bytes, tshark's "<Name too long>" / "<Root>": not the name
            if "\\" in name or not name.isascii() or not name.isprintable() or name[0] == "<":
                unreadable.add(key)
                continue
            best[key] = max([best[key]] + [len(label) for label in name.split(".")])
    return best, unreadable


def ours(mastwatch, path, out, l4_proto=17):
    r = run([mastwatch, "analyze", "-q", "-o", out, path])
    assert r.returncode == 0, r.stderr
    got = defaultdict(int)
    with h5py.File(out, "r") as f:
        for x in f["flows"][:]:
            if int(x["l4_proto"]) != l4_proto or int(x["kind"]) != 0:
                continue
            a = ipaddress.ip_address((int(x["src_hi"]) << 64 | int(x["src_lo"])).to_bytes(16, "big"))
            b = ipaddress.ip_address((int(x["dst_hi"]) << 64 | int(x["dst_lo"])).to_bytes(16, "big"))
            a, b = (str(i.ipv4_mapped or i) for i in (a, b))
            key = conv_key(a, int(x["src_port"]), b, int(x["dst_port"]))
            got[key] = max(got[key], int(x["dns_max_label"]))
    return got


def dns_query(name, qtype=1):
    msg = bytes.fromhex("12340100000100000000 0000".replace(" ", ""))
    for label in name.split("."):
        msg += bytes([len(label)]) + label.encode()
    return msg + b"\x00" + qtype.to_bytes(2, "big") + b"\x00\x01"


def framed(msg):
    return len(msg).to_bytes(2, "big") + msg


def check_written_tcp(mastwatch, tmp, fails):
    tunnel = "b" * 50 + ".t.example.com"
    frames = []
    split = Session(frames, T0, "10.10.1.11", 41000, "10.40.0.53", 53)
    q = dns_query(tunnel)
    split.add(True, 0x18, len(q).to_bytes(2, "big"))  # the length alone
    split.add(True, 0x18, q)
    split.close()
    pipe = Session(frames, split.t, "10.10.1.11", 41001, "10.40.0.53", 53)
    pipe.add(True, 0x18, framed(dns_query("www.example.com")) + framed(dns_query(tunnel)))
    pipe.close()
    txt = Session(frames, pipe.t, "10.10.1.11", 41002, "10.40.0.53", 53)
    txt.add(True, 0x18, framed(dns_query("sel._domainkey.example.com", 16)))
    answer = framed(dns_query("sel._domainkey.example.com", 16)[:12] + b"2" * 3400)
    for i in range(0, len(answer), 1200):
        txt.add(False, 0x18, answer[i:i + 1200])
    txt.close()
    frames.sort(key=lambda f: f[0])
    pcap, out = os.path.join(tmp, "dns-tcp.pcap"), os.path.join(tmp, "dns-tcp.h5")
    ra.write_pcap(pcap, frames)
    got = ours(mastwatch, pcap, out, l4_proto=6)
    want = {41000: 50, 41001: 50, 41002: 10}
    for port, n in want.items():
        key = conv_key("10.10.1.11", port, "10.40.0.53", 53)
        fails.check(got.get(key) == n, f"written DNS over TCP, port {port}: dns_max_label "
                                       f"{got.get(key)}, want {n}")
    # the host is the first query's name, also when its length came alone
    with h5py.File(out, "r") as f:
        hosts = {int(x["src_port"]): x["host"].decode() for x in f["flows"][:]
                 if int(x["l4_proto"]) == 6}
    want_hosts = {41000: tunnel, 41001: "www.example.com", 41002: "sel._domainkey.example.com"}
    fails.check(all(hosts.get(p) == h for p, h in want_hosts.items()),
                f"written DNS over TCP: hosts {hosts}")


def main():
    mastwatch, shared = sys.argv[1], sys.argv[2]
    fails = Failures()
    compared = longest = 0
    with tempfile.TemporaryDirectory() as tmp:
        check_written_tcp(mastwatch, tmp, fails)
        caps = os.path.join(shared, "captures")
        if not os.path.isdir(caps):
            print(f"note: {caps} absent: the shared captures are not compared")
            return fails.finish("written DNS over TCP read right")
        for rel in CAPTURES:
            path = os.path.join(caps, rel)
            if not os.path.exists(path):
                continue
            want, unreadable = tshark_labels(path)
            got = ours(mastwatch, path, os.path.join(tmp, "o.h5"))
            for key, n in want.items():
                compared += 1
                longest = max(longest, n)
                if key in unreadable:  # the readable names are a lower bound
                    fails.check(n <= (got.get(key) or 0) <= 63,
                                f"{rel}: {sorted(key)}: dns_max_label {got.get(key)}, tshark's "
                                f"readable names {n}")
                    continue
                fails.check(got.get(key) == n,
                            f"{rel}: {sorted(key)}: dns_max_label {got.get(key)}, tshark {n}")
    fails.check(compared >= 20, f"only {compared} DNS conversations compared")
    fails.check(longest >= 30, f"no long label among them (longest {longest})")
    return fails.finish(f"{compared} DNS conversations: dns_max_label equals tshark's longest "
                        f"label (longest {longest})")


if __name__ == "__main__":
    sys.exit(main())
