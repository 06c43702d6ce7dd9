#!/usr/bin/python3
"""--no-extra-dissection: nDPI stops at a flow's application. The test writes DNS queries, each
with a 763-byte answer (nDPI names the flow at the query and finds "DNS Packet Larger Than 512
bytes" only in the answer, in its extra dissection) and checks that the default run has the
risk, the option's run does not, every other label is the same, and /meta says which. With
../shared it does the same on real captures whose risks come late (an SSH server's version, a
TLS server's certificate and cipher, fragmented DNS answers).

usage: extra_dissection.py MASTWATCH SHARED_DIR
"""
import os
import struct
import sys
import tempfile

import h5py

from mwtest import Failures, run
from fragments import MAC, ip4, udp

LABELS = ("master_proto", "app_proto", "category", "host")
# shared captures and the risks only extra dissection finds there
LATE = {"ndpi/ssh.pcap": {"SSH Obsolete Server Version/Cipher"},
        "ndpi/ja3_lots_of_cipher_suites_2_anon.pcap": {"Self-signed Certificate",
                                                       "Weak TLS Cipher"},
        "ndpi/dns_fragmented.pcap": {"DNS Packet Larger Than 512 bytes",
                                     "Fragmented DNS Message"}}


def qname(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"


def build(path):
    q = qname("oam.example.net") + struct.pack("!HH", 16, 1)
    query = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + q
    txt = b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 60, 61) + bytes([60]) + b"t" * 60
    answer = struct.pack("!HHHHHH", 0x4242, 0x8180, 1, 10, 0, 0) + q + txt * 10
    frames = []
    for port in range(40000, 40008):  # eight flows: with -t 2 both workers get some
        frames += [ip4("10.1.0.2", "192.0.2.53", 17, 1, 0, udp(port, 53, query)),
                   ip4("192.0.2.53", "10.1.0.2", 17, 2, 0, udp(53, port, answer))]
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, ip in enumerate(frames):
            eth = MAC + b"\x08\x00" + ip
            f.write(struct.pack("<IIII", 1700000000, i * 1000, len(eth), len(eth)) + eth)


def analyze(fails, mastwatch, pcap, out, extra):
    r = run([mastwatch, "analyze", "-q", "-o", out] + extra + [pcap])
    fails.check(r.returncode == 0, f"{pcap} {extra}: exit {r.returncode} {r.stderr[-300:]}")
    with h5py.File(out, "r") as f:
        names = {int(i): n.decode() for i, n in f["meta/risks"][:]}
        return {"attr": int(f.attrs["extra_dissection"]), "names": names, "flows": f["flows"][:]}


def risks(res):
    """Every risk name set on any flow."""
    seen = set()
    for bits in res["flows"]["risk"]:
        seen |= {n for i, n in res["names"].items() if i and int(bits) >> i & 1}
    return seen


def compare(fails, mastwatch, tmp, pcap, late):
    full = analyze(fails, mastwatch, pcap, os.path.join(tmp, "full.h5"), [])
    cut = analyze(fails, mastwatch, pcap, os.path.join(tmp, "cut.h5"), ["--no-extra-dissection"])
    name = os.path.basename(pcap)
    fails.check((full["attr"], cut["attr"]) == (1, 0),
                f"{name}: /meta extra_dissection {full['attr']}, {cut['attr']} (want 1, 0)")
    fails.check(len(full["flows"]) == len(cut["flows"]) > 0,
                f"{name}: {len(full['flows'])} flows vs {len(cut['flows'])}")
    for col in LABELS:
        fails.check((full["flows"][col] == cut["flows"][col]).all(), f"{name}: {col} differs")
    fails.check(late <= risks(full), f"{name}: the full run lacks {late - risks(full)}")
    fails.check(not late & risks(cut), f"{name}: the cut run still has {late & risks(cut)}")
    extra = [int(c) & ~int(f) for f, c in zip(full["flows"]["risk"], cut["flows"]["risk"])]
    fails.check(not any(extra), f"{name}: the cut run has risks the full run has not")


def main():
    mastwatch, shared = sys.argv[1], sys.argv[2]
    fails = Failures()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "dns.pcap")
        build(pcap)
        compare(fails, mastwatch, tmp, pcap, {"DNS Packet Larger Than 512 bytes"})
        # worker threads but the first build their nDPI modules in their own threads: the
        # option must reach those too
        threaded = analyze(fails, mastwatch, pcap, os.path.join(tmp, "t2.h5"),
                           ["-t", "2", "--no-extra-dissection"])
        fails.check(threaded["attr"] == 0 and not risks(threaded),
                    f"-t 2: extra_dissection {threaded['attr']}, risks {risks(threaded)}")
        caps = os.path.join(shared, "captures")
        if os.path.isdir(caps):
            for rel, late in LATE.items():
                compare(fails, mastwatch, tmp, os.path.join(caps, rel), late)
        else:
            print(f"note: {caps} is absent: only the written capture is checked")
    return fails.finish("--no-extra-dissection keeps every label, drops only the late risks, "
                        "and says so in /meta")


if __name__ == "__main__":
    sys.exit(main())
