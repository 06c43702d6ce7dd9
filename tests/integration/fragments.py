#!/usr/bin/python3
"""IP fragments: every one counts toward its flow, and nDPI sees whole datagrams.

The first pcap holds uploads whose IP packets are fragmented - UDP and TCP over IPv4, UDP
over IPv6 (fragment header), UDP inside GTP-U, TCP in 8-byte fragments whose first holds
only the ports (RFC 1858) - plus a datagram whose first fragment is missing: every flow's
packets and bytes per direction must equal tshark's, where tshark's IP reassembly says
which frames form each datagram; the datagrams are put back together (datagrams_reassembled),
the orphan fragments counted (fragments_orphan, fragments_not_reassembled) and their bytes
kept in a ports-0 flow of the same hosts.

The second holds TLS sessions whose ClientHello is one IP packet in two fragments with the
server name in the second: sent last fragment first, with a third fragment overlapping the
first with other bytes (counted, warned, the first bytes kept), inside GTP-U whose outer
packet is fragmented, carried by a VXLAN delivery whose own packet is fragmented, and
mirrored in VXLAN as fragments (each in a delivery of its own). nDPI
must name each session's server (it reads the name only from the whole ClientHello), and the
records count what each layer sent: the tunnel its fragments, the flow inside it one packet,
the carried flow the carried frame.

usage: fragments.py MASTWATCH
"""
import os
import struct
import sys
import tempfile
from collections import defaultdict

from mwtest import Failures, mw_flows, run

MAC = bytes.fromhex("001122334455") + bytes.fromhex("66778899aabb")


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ip4(src, dst, proto, ident, flags_off, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, flags_off, 64, proto, 0,
                    bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def ip6(src, dst, nxt, payload):
    import ipaddress
    return struct.pack("!IHBB", 0x60000000, len(payload), nxt, 64) + \
        ipaddress.ip_address(src).packed + ipaddress.ip_address(dst).packed + payload


def udp(sport, dport, data):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def tcp(sport, dport, seq, ack, flags, data=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + data


def frag4(src, dst, proto, ident, l4, mtu=1500):
    """IPv4 fragments of one transport segment, in order."""
    step = (mtu - 20) // 8 * 8
    out = []
    for off in range(0, len(l4), step):
        more = 0x2000 if off + step < len(l4) else 0
        out.append(ip4(src, dst, proto, ident, more | (off // 8), l4[off:off + step]))
    return out


def frag6(src, dst, nxt, ident, l4, mtu=1280):
    step = (mtu - 48) // 8 * 8
    out = []
    for off in range(0, len(l4), step):
        more = 1 if off + step < len(l4) else 0
        fh = struct.pack("!BBHI", nxt, 0, off | more, ident)
        out.append(ip6(src, dst, 44, fh + l4[off:off + step]))
    return out


def gtpu(teid, inner):
    return struct.pack("!BBHI", 0x30, 255, len(inner), teid) + inner


def client_hello(sni, pad):
    """A TLS 1.2 ClientHello whose server_name extension comes after pad bytes of padding."""
    name = sni.encode()
    ext = struct.pack("!HH", 0x15, pad) + bytes(pad)
    ext += struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
    body = b"\x03\x03" + bytes(range(32)) + b"\x00" + struct.pack("!H", 4) + \
        b"\x13\x01\xc0\x2f" + b"\x01\x00" + struct.pack("!H", len(ext)) + ext
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def tls_session(c, s, ident, hello):
    """IP packets: handshake, then the ClientHello as one TCP segment (not yet cut)."""
    return [ip4(c[0], s[0], 6, ident, 0, tcp(c[1], s[1], 1, 0, 0x02)),
            ip4(s[0], c[0], 6, ident + 1, 0, tcp(s[1], c[1], 1, 2, 0x12)),
            ip4(c[0], s[0], 6, ident + 2, 0, tcp(c[1], s[1], 2, 2, 0x10))], \
        tcp(c[1], s[1], 2, 2, 0x18, hello)


def vxlan_frame(inner_eth):
    """An Ethernet frame delivered in VXLAN from 192.0.2.1 to 192.0.2.2 (a mirror's)."""
    return udp(40123, 4789, struct.pack("!BBHI", 0x08, 0, 0, 7 << 8) + inner_eth)


def build_whole(path):
    ips = []  # (IP packet, Ethernet frame or None)
    # 1. a plain session, the ClientHello's fragments last first, and between them one that
    # overlaps both, its bytes over the last one's (the server name) other ones
    c, s = ("10.1.0.5", 43000), ("198.51.100.20", 443)
    hs, seg = tls_session(c, s, 1000, client_hello("oam-a.example.net", 1500))
    ips += hs
    parts = frag4(c[0], s[0], 6, 1003, seg)
    forged = seg[800:1480] + bytes(120)
    ips += [parts[1], ip4(c[0], s[0], 6, 1003, 0x2000 | 800 // 8, forged), parts[0]]
    # 2. GTP-U whose outer packet is fragmented: the subscriber's ClientHello is whole inside
    c2, s2 = ("10.46.0.2", 44000), ("203.0.113.30", 443)
    hs, seg = tls_session(c2, s2, 2000, client_hello("oam-b.example.net", 1400))
    inner = hs + [ip4(c2[0], s2[0], 6, 2003, 0, seg)]
    tunnel_frames = 0
    for i, pkt in enumerate(inner):
        outer = frag4("192.168.1.10", "192.168.1.20", 17, 3000 + i,
                      udp(2152, 2152, gtpu(0x4321, pkt)))
        ips += outer
        tunnel_frames += len(outer)
    # 3. a VXLAN delivery whose own packet is fragmented: the carried frame is whole
    c3, s3 = ("10.1.0.7", 45000), ("198.51.100.40", 443)
    hs, seg = tls_session(c3, s3, 4000, client_hello("oam-c.example.net", 1350))
    carried = hs + [ip4(c3[0], s3[0], 6, 4003, 0, seg)]
    for i, pkt in enumerate(carried):
        eth = MAC + struct.pack("!H", 0x0800) + pkt
        ips += frag4("192.0.2.1", "192.0.2.2", 17, 5000 + i, vxlan_frame(eth))
    # 4. the carried frames are the fragments (a mirror of fragmented traffic), each in a
    # VXLAN delivery of its own that is whole
    c4, s4 = ("10.1.0.9", 46000), ("198.51.100.50", 443)
    hs, seg = tls_session(c4, s4, 7000, client_hello("oam-d.example.net", 1500))
    for i, pkt in enumerate(hs + frag4(c4[0], s4[0], 6, 7003, seg)[::-1]):
        eth = MAC + struct.pack("!H", 0x0800) + pkt
        ips.append(ip4("192.0.2.1", "192.0.2.2", 17, 9000 + i, 0, vxlan_frame(eth)))
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, ip in enumerate(ips):
            eth = MAC + struct.pack("!H", 0x0800) + ip
            f.write(struct.pack("<IIII", 1700000000, i * 1000, len(eth), len(eth)) + eth)
    return len(carried[-1]) + 14, tunnel_frames  # the carried ClientHello frame's length


def check_whole(mastwatch, tmp, fails):
    import h5py
    pcap, out = os.path.join(tmp, "whole.pcap"), os.path.join(tmp, "w.h5")
    hello_frame, tunnel_frames = build_whole(pcap)
    r = run([mastwatch, "analyze", "-q", "-o", out, pcap])
    fails.check(r.returncode == 0, f"whole: exit {r.returncode} {r.stderr}")
    fails.check("overlap with different bytes" in r.stderr,
                f"no warning on the overlapping fragment: {r.stderr!r}")
    df = mw_flows.load(out)
    with h5py.File(out) as f:
        counters = {n.decode(): int(v) for n, v in f["stats/counters"][:]}
    hosts = {}
    for x in df[df.kind != 1].itertuples():
        hosts[(x.src, int(x.dst_port))] = x
    for src, name in (("10.1.0.5", "oam-a"), ("10.46.0.2", "oam-b"), ("10.1.0.7", "oam-c"),
                      ("10.1.0.9", "oam-d")):
        x = hosts.get((src, 443))
        fails.check(x is not None and x.host == f"{name}.example.net" and "TLS" in x.app,
                    f"{src}: {None if x is None else (x.host, x.app)}, want {name}.example.net "
                    f"and TLS (nDPI saw the whole ClientHello)")
    plain = hosts.get(("10.1.0.5", 443))
    if plain is not None:  # SYN, ACK, the two fragments and the overlapping one
        fails.check(int(plain.c2s_packets) == 5, f"plain session: {plain.c2s_packets} packets")
    sub = hosts.get(("10.46.0.2", 443))
    if sub is not None:  # inside the tunnel: SYN, ACK, the ClientHello, one packet each
        fails.check(int(sub.c2s_packets) == 3, f"GTP-U subscriber: {sub.c2s_packets} packets")
    tun = df[df.kind == 1]
    fails.check(len(tun) == 1 and tunnel_frames > 4 and
                int(tun.c2s_packets.sum() + tun.s2c_packets.sum()) == tunnel_frames,
                f"GTP-U tunnel: {tun[['c2s_packets', 's2c_packets']].values.tolist()}, want "
                f"{tunnel_frames} frames (its fragments)")
    carried = hosts.get(("10.1.0.7", 443))
    if carried is not None:  # the carried frames, as captured where they were mirrored
        fails.check(int(carried.c2s_packets) == 3 and
                    int(carried.c2s_bytes) == 2 * 54 + hello_frame,
                    f"carried: {carried.c2s_packets} packets, {carried.c2s_bytes} B, want 3 "
                    f"and {2 * 54 + hello_frame}")
    fails.check(counters.get("fragment_overlap_conflicts") == 1 and
                counters.get("fragments_not_reassembled") == 0 and
                # carried frames, each once: 4 (a delivery in fragments is one) + 5 (two of
                # them the fragments of one datagram)
                counters.get("encap.vxlan") == 9,
                f"whole: counters {({k: v for k, v in counters.items() if 'frag' in k or 'encap' in k or 'datagram' in k})}")


def build(path):
    frames = []
    data = bytes(range(256)) * 16  # 4096 bytes
    # UDP upload over IPv4: three datagrams of 4096 bytes, 3 fragments each
    for i in range(3):
        frames += frag4("10.1.0.2", "198.51.100.7", 17, 100 + i, udp(40000, 9000, data))
    frames.append(ip4("198.51.100.7", "10.1.0.2", 17, 7, 0, udp(9000, 40000, b"ok")))
    # TCP upload over IPv4: handshake, two 3000-byte segments fragmented, FIN
    c, s = ("10.1.0.2", 41000), ("198.51.100.8", 22)
    frames.append(ip4(c[0], s[0], 6, 200, 0, tcp(c[1], s[1], 1, 0, 0x02)))
    frames.append(ip4(s[0], c[0], 6, 300, 0, tcp(s[1], c[1], 1, 2, 0x12)))
    frames.append(ip4(c[0], s[0], 6, 201, 0, tcp(c[1], s[1], 2, 2, 0x10)))
    for i in range(2):
        frames += frag4(c[0], s[0], 6, 202 + i, tcp(c[1], s[1], 2 + 3000 * i, 2, 0x18,
                                                     data[:3000]))
    frames.append(ip4(s[0], c[0], 6, 301, 0, tcp(s[1], c[1], 2, 6002, 0x10)))
    # UDP upload over IPv6 with fragment headers
    for i in range(2):
        frames += frag6("2001:db8::2", "2001:db8:1::9", 17, 0x10000 + i, udp(40001, 9001, data))
    # UDP inside GTP-U, the inner packet fragmented (each fragment in its own G-PDU)
    for i in range(2):
        for f in frag4("10.45.0.2", "203.0.113.5", 17, 500 + i, udp(50000, 443, data[:2500]),
                       mtu=1400):
            frames.append(ip4("192.168.1.10", "192.168.1.20", 17, 900, 0,
                              udp(2152, 2152, gtpu(0x1234, f))))
    # Telnet cut into 8-byte fragments (RFC 1858's tiny fragments: the flags in the second)
    for i, seg in enumerate((tcp(42000, 23, 1, 0, 0x02), tcp(42000, 23, 2, 1, 0x18, data[:40]))):
        frames += frag4("10.1.0.3", "198.51.100.10", 6, 600 + i, seg, mtu=28)
    # a datagram whose first fragment was lost: two orphan fragments
    orphan = frag4("10.1.0.2", "198.51.100.9", 17, 777, udp(40002, 9002, data))[1:]
    frames += orphan
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, ip in enumerate(frames):
            eth = MAC + struct.pack("!H", 0x86dd if ip[0] >> 4 == 6 else 0x0800) + ip
            f.write(struct.pack("<IIII", 1700000000 + i // 100, (i % 100) * 1000, len(eth),
                                len(eth)) + eth)
    return len(orphan)


def tshark_convs(path):
    """(proto, sender, receiver) -> [frames, frame bytes], grouping fragments by tshark's
    reassembly (ip.fragment / ipv6.fragment list the frames of a datagram). The outermost
    IP header with ports is the flow, except inside GTP-U (the subscriber flow)."""
    fields = ["frame.number", "frame.len", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
              "udp.srcport", "udp.dstport", "tcp.srcport", "tcp.dstport", "ip.fragment",
              "ipv6.fragment", "gtp.teid"]
    r = run(["tshark", "-n", "-r", path, "-o", "ip.defragment:TRUE", "-o",
             "ipv6.defragment:TRUE", "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,"]
            + [x for f in fields for x in ("-e", f)])
    lens, convs = {}, defaultdict(lambda: [0, 0])
    rows = [dict(zip(fields, [x.split(",") if x else [] for x in line.split("\t")]))
            for line in r.stdout.splitlines()]
    for v in rows:
        lens[v["frame.number"][0]] = int(v["frame.len"][0])
    for v in rows:
        inner = 1 if v["gtp.teid"] else 0
        if v["udp.srcport"][inner:]:
            proto, sp, dp = 17, v["udp.srcport"][inner], v["udp.dstport"][inner]
        elif v["tcp.srcport"]:
            proto, sp, dp = 6, v["tcp.srcport"][0], v["tcp.dstport"][0]
        else:
            continue  # a fragment before its datagram completes, or an orphan
        if v["ip.src"][inner:]:
            src, dst = v["ip.src"][inner], v["ip.dst"][inner]
        else:
            src, dst = v["ipv6.src"][0], v["ipv6.dst"][0]
        parts = v["ip.fragment"] or v["ipv6.fragment"] or v["frame.number"]
        side = convs[(proto, (src, int(sp)), (dst, int(dp)))]
        side[0] += len(parts)
        side[1] += sum(lens[p] for p in parts)  # inner flows: IP bytes, fixed below
    return convs, rows


def main():
    mastwatch = sys.argv[1]
    fails = Failures()
    with tempfile.TemporaryDirectory() as tmp:
        pcap, out = os.path.join(tmp, "frag.pcap"), os.path.join(tmp, "o.h5")
        n_orphans = build(pcap)
        convs, _ = tshark_convs(pcap)
        r = run([mastwatch, "analyze", "-q", "-o", out, pcap])
        fails.check(r.returncode == 0, f"exit {r.returncode} {r.stderr}")
        df = mw_flows.load(out)
        import h5py
        with h5py.File(out) as f:
            counters = {n.decode(): int(v) for n, v in f["stats/counters"][:]}
        ours = {}
        for x in df[df.kind != 1].itertuples():
            a, b = (x.src, int(x.src_port)), (x.dst, int(x.dst_port))
            ours[(int(x.l4_proto), a, b)] = [int(x.c2s_packets), int(x.c2s_bytes)]
            ours[(int(x.l4_proto), b, a)] = [int(x.s2c_packets), int(x.s2c_bytes)]
        checked = 0
        for key, (frames, nbytes) in convs.items():
            mine = ours.get(key, [0, 0])
            if key[1][0].startswith("10.45."):
                # inner GTP-U flow: its IP bytes = frame bytes - Ethernet, outer IP/UDP, GTP
                nbytes -= frames * (14 + 20 + 8 + 8)
            fails.check(mine == [frames, nbytes], f"{key}: tshark {frames} frames/{nbytes} B, "
                        f"mastwatch {mine[0]}/{mine[1]}")
            checked += 1
        fails.check(checked == 7, f"{checked} flow directions compared, want 7")
        tiny = ours.get((6, ("10.1.0.3", 42000), ("198.51.100.10", 23)), [0, 0])
        fails.check(tiny[0] == 3 + 8, f"tiny fragments: {tiny} in the Telnet flow, want 11")
        up = ours.get((17, ("10.1.0.2", 40000), ("198.51.100.7", 9000)), [0, 0])
        fails.check(up[0] == 9, f"UDP upload: {up[0]} packets, want 9 (3 datagrams x 3)")
        # put together: 3 (IPv4 UDP), 2 (IPv4 TCP), 2 (IPv6), 2 (Telnet); the
        # fragments inside GTP-U are joined (2 later ones); the orphans are left
        fails.check(counters.get("datagrams_reassembled") == 9 and
                    counters.get("fragments_not_reassembled") == n_orphans and
                    counters.get("fragments_orphan") == n_orphans and
                    counters.get("fragments_joined") == 2,
                    f"counters: {({k: v for k, v in counters.items() if 'frag' in k or 'datag' in k})}")
        orphan = ours.get((17, ("10.1.0.2", 0), ("198.51.100.9", 0)), [0, 0])
        fails.check(orphan[0] == n_orphans, f"orphan fragments: {orphan} in the ports-0 flow")
        fails.check(counters.get("skipped.ip_fragment_not_first", 0) == 0,
                    "later fragments still skipped")
        check_whole(mastwatch, tmp, fails)
    return fails.finish(f"{checked} fragmented flow directions: packets and bytes equal tshark's")


if __name__ == "__main__":
    sys.exit(main())
