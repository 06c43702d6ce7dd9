#!/usr/bin/python3
"""Full host names: the test writes a pcap with a DNS query, a TLS ClientHello and an HTTP
request whose names are longer than nDPI 4.2 keeps (it keeps the last 79 bytes, and the
record used to keep only the first 63 of those), and checks that each flow's `host` is the
whole name, lowercased, as tshark reads it (dns.qry.name, TLS server_name, http.host).

usage: hostnames.py MASTWATCH
"""
import os
import struct
import sys
import tempfile

from mwtest import Failures, mw_flows, run
from fragments import MAC, ip4, tcp, udp

LABEL = "x" * 60
DNS_NAME = ".".join([LABEL.replace("x", c) for c in "abc"]) + ".Tunnel.Example.COM"  # 201
SNI = "c2-" + "k" * 150 + ".updates.example.net"  # 173
HOST = "portal-" + "q" * 100 + ".oam.example.org"  # 123


def dns_query(name):
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", 16, 1)


def client_hello(sni):
    name = sni.encode()
    ext = struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
    body = struct.pack("!H", 0x0303) + bytes(32) + b"\0" + struct.pack("!HH", 2, 0x1301) + \
        b"\x01\x00" + struct.pack("!H", len(ext)) + ext
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def build(path):
    c = "10.1.0.2"
    frames = [ip4(c, "192.0.2.53", 17, 1, 0, udp(40000, 53, dns_query(DNS_NAME)))]
    for sport, dst, dport, payload in ((41000, "192.0.2.10", 443, client_hello(SNI)),
                                       (41001, "192.0.2.11", 80,
                                        f"GET / HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())):
        frames += [ip4(c, dst, 6, 2, 0, tcp(sport, dport, 1, 0, 0x02)),
                   ip4(dst, c, 6, 3, 0, tcp(dport, sport, 1, 2, 0x12)),
                   ip4(c, dst, 6, 4, 0, tcp(sport, dport, 2, 2, 0x10)),
                   ip4(c, dst, 6, 5, 0, tcp(sport, dport, 2, 2, 0x18, payload))]
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, ip in enumerate(frames):
            eth = MAC + b"\x08\x00" + ip
            f.write(struct.pack("<IIII", 1700000000, i * 1000, len(eth), len(eth)) + eth)


def main():
    mastwatch = sys.argv[1]
    fails = Failures()
    with tempfile.TemporaryDirectory() as tmp:
        pcap, out = os.path.join(tmp, "names.pcap"), os.path.join(tmp, "o.h5")
        build(pcap)
        r = run(["tshark", "-n", "-r", pcap, "-T", "fields", "-e", "dns.qry.name", "-e",
                 "tls.handshake.extensions_server_name", "-e", "http.host"])
        seen = {x for line in r.stdout.splitlines() for x in line.split("\t") if x}
        fails.check(seen == {DNS_NAME, SNI, HOST}, f"tshark reads {seen}")
        r = run([mastwatch, "analyze", "-q", "-o", out, pcap])
        fails.check(r.returncode == 0, f"exit {r.returncode} {r.stderr}")
        hosts = {int(x.dst_port): x.host for x in mw_flows.load(out).itertuples()}
        for port, want in ((53, DNS_NAME), (443, SNI), (80, HOST)):
            fails.check(hosts.get(port) == want.lower(),
                        f"port {port}: host {hosts.get(port)!r} ({len(hosts.get(port) or '')} "
                        f"chars), want {len(want)} chars {want.lower()!r}")
    return fails.finish("DNS query, TLS SNI and HTTP Host names of 123-201 characters kept whole")


if __name__ == "__main__":
    sys.exit(main())
