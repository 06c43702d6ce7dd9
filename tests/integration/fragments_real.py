#!/usr/bin/python3
"""Real captures cut into IP fragments say what they said whole.

Each capture (SSH, TLS, DNS, FTP, HTTP over IPv6, SNMP, DTLS from nDPI's test set; the TLS
and some DTLS in GTP-U behind QinQ tags, so the tunnel's packets are the ones cut) is
written again with every IP packet longer than the piece size cut into fragments
(`mw_realattack.py fragment`) - as
small as 8 bytes (RFC 1858's tiny fragments, the classic way past an IDS), some captures
sent last fragment first, IPv6 with a fragment header - and both are analyzed. Every flow
must keep its label, nDPI's risks (a DNS message in IPv4 fragments may gain nDPI's
"Fragmented DNS Message": it did come in pieces), its server name, its longest DNS label,
its opener and its FTP-data naming, and count every fragment frame; every datagram must be
put back together. Before reassembly the SSH session's obsolete-cipher risk, the TLS server names
and most labels were lost.

usage: fragments_real.py MASTWATCH SHARED_DIR
"""
import os
import sys
import tempfile

from mwtest import Failures, mw_flows, run, shared_captures

import mw_realattack  # noqa: E402  (scripts/, on the path mwtest set)

# (capture, piece size in bytes, fragments sent last first)
CAPTURES = [("ndpi/ssh.pcap", 8, True), ("ndpi/tls_change_cipher.pcap", 64, False),
            ("ndpi/dns.pcap", 8, True), ("ndpi/ftp.pcap", 24, False),
            ("ndpi/http_ipv6.pcap", 56, True), ("ndpi/snmp.pcap", 16, False),
            ("ndpi/dtls.pcap", 256, True)]
SAME = ["app", "master", "risks", "host", "dns_max_label", "initiator", "service_name"]
# what nDPI says of a message because it came in IPv4 fragments (the whole datagram it gets
# keeps the MF bit: nDPI is told)
FRAGMENT_RISKS = {"Fragmented DNS Message"}


def risks(x):
    return set(r for r in str(x.risks).split(",") if r)


def flows(mastwatch, pcap, out):
    r = run([mastwatch, "analyze", "-q", "-o", out, pcap])
    df = mw_flows.load(out) if r.returncode == 0 else None
    import h5py
    counters = {}
    if r.returncode == 0:
        with h5py.File(out) as f:
            counters = {n.decode(): int(v) for n, v in f["stats/counters"][:]}
    return r, df, counters


def keyed(df):
    return {(int(x.l4_proto), x.src, int(x.src_port), x.dst, int(x.dst_port), int(x.kind)): x
            for x in df.itertuples()}


def main():
    mastwatch, caps = sys.argv[1], shared_captures(sys.argv[2])
    fails = Failures()
    compared = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, size, reverse in CAPTURES:
            plain = os.path.join(caps, name)
            cut = os.path.join(tmp, "cut.pcap")
            frames, _ = mw_realattack.fragment(plain, cut, size, reverse)
            r0, whole, _ = flows(mastwatch, plain, os.path.join(tmp, "a.h5"))
            r1, parts, counters = flows(mastwatch, cut, os.path.join(tmp, "b.h5"))
            if r0.returncode != 0 or r1.returncode != 0:
                fails.check(False, f"{name}: exit {r0.returncode}/{r1.returncode} {r1.stderr}")
                continue
            a, b = keyed(whole), keyed(parts)
            fails.check(set(a) == set(b), f"{name}: flows {sorted(set(a) ^ set(b))[:4]} on one "
                        f"side only")
            for key in set(a) & set(b):
                x, y = a[key], b[key]
                diff = [(c, getattr(x, c), getattr(y, c)) for c in SAME
                        if getattr(x, c) != getattr(y, c) and
                        not (c == "risks" and risks(y) == risks(x) | FRAGMENT_RISKS)]
                fails.check(not diff, f"{name} {key}: whole vs in pieces {diff}")
                fails.check(y.c2s_packets >= x.c2s_packets and y.s2c_packets >= x.s2c_packets,
                            f"{name} {key}: fewer packets in pieces")
                compared += 1
            # a tunnel's record counts the frames its inner flows count too
            own = parts[parts.kind != 1]
            packets = int(own.c2s_packets.sum() + own.s2c_packets.sum())
            fails.check(counters.get("datagrams_reassembled", 0) > 0 and
                        counters.get("fragments_not_reassembled", 0) == 0 and
                        counters.get("packets") == frames,
                        f"{name}: {frames} frames, counters "
                        f"{({k: v for k, v in counters.items() if 'frag' in k or 'datag' in k})}")
            fails.check(packets <= frames, f"{name}: {packets} packets in flows of {frames}")
            if name.endswith("ssh.pcap"):
                ssh_risks = " ".join(parts.risks.astype(str))
                fails.check("SSH Obsolete" in ssh_risks,
                            f"ssh.pcap in 8-byte pieces: risks {ssh_risks!r}")
    fails.check(compared >= 20, f"only {compared} flows compared")
    return fails.finish(f"{len(CAPTURES)} real captures in IP fragments: {compared} flows say "
                        f"what they said whole")


if __name__ == "__main__":
    sys.exit(main())
