#!/usr/bin/python3
"""Puts real third-party attack captures onto a base station of a generated site.

Takes a capture from ../shared/captures (nDPI's and Zeek's test traces: iodine, ICMP
tunnel, Telnet/FTP logins, scans, SSH guessing, SSH bulk transfer, log4shell, SQL
injection, VPNs, a malware contact, Teredo), keeps the
IPv4 packets of the attack's endpoints, maps the inside host onto a base station's
address and every other endpoint onto a never-seen documentation address (198.51.100.x,
203.0.113.x, random per seed), fixes the IPv4/TCP/UDP/ICMP checksums, writes Ethernet
frames (Linux SLL converted, VLAN tags dropped, the generator's MAC addresses), shifts
the timestamps to a random time of a generated clean day - inside or outside the
inventory's maintenance windows - and merges the result with that day (mergecap). A
ground-truth file in mw-scengen's shape (docs/SCENGEN.md) says which station, which
peer(s), when. Also cuts and one-way copies of clean days ("hard clean days").

usage:
  mw_realattack.py list
  mw_realattack.py inject -b BEHAVIOUR --day DAY.pcap --inventory SITE.yaml -o OUT.pcap
                   --truth OUT.truth.json [--bs ID] [--seed N] [--window in|out|any]
  mw_realattack.py cut --seed N IN.pcap OUT.pcap          # starts at a random frame
  mw_realattack.py fragment --size 8 [--reverse] IN OUT   # every IP packet in fragments
  mw_realattack.py oneway --inventory SITE.yaml --keep from-bs|to-bs IN.pcap OUT.pcap

Exit status: 0 done, 1 failed, 2 usage, 77 (SKIP) when ../shared/captures is absent.
Pure Python (no scapy): pcap/pcapng in, classic pcap (microseconds, Ethernet) out.
"""
import argparse
import datetime as _dt
import ipaddress
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CAPTURES = os.path.join(ROOT, "..", "shared", "captures")
SKIP = 77

GATEWAY_MAC = bytes.fromhex("00005e000101")  # the generator's router (VRRP MAC)

# One entry per real behaviour (row "type:variant" when a type has several sources).
# inside: the address that becomes the base station; peers: the other endpoints, each
# mapped to its own outside address (only packets between these addresses are kept);
# expected: the detectors whose claim is this behaviour (recall counts only them).
REAL_BEHAVIOURS = [
    {"name": "dns_tunnel", "file": "ndpi/dns-tunnel-iodine.pcap",
     "inside": "10.0.2.30", "peers": ["10.0.2.20"], "port": 53, "proto": "dns",
     "expected": ["dns"],
     "description": "iodine DNS tunnel: NULL queries with long encoded labels, the station "
                    "as the tunnel client, straight to the tunnel's name server"},
    {"name": "doh_tunnel", "file": "ndpi/dns2tcp_tunnel.pcap",
     "inside": "192.168.20.211", "peers": ["1.1.1.1"], "port": 443, "proto": "tls",
     "expected": ["direction"],
     "description": "dns2tcp through DNS-over-HTTPS (Linux SLL capture): one TLS 1.3 session, "
                    "ALPN h2, no SNI, opened by the station to an outside resolver; no DNS "
                    "on the wire"},
    {"name": "icmp_tunnel", "file": "ndpi/icmp-tunnel.pcap",
     "inside": "192.168.154.131", "peers": ["192.168.154.132"], "port": 0, "proto": "icmp",
     "expected": ["new_peer", "new_service", "volume"],
     "description": "ICMP tunnel: echo requests/replies with 32-1028 byte payloads for 19 "
                    "minutes, the station as the tunnel client"},
    {"name": "telnet_login", "file": "ndpi/telnet.pcap",
     "inside": "192.168.0.1", "peers": ["192.168.0.2"], "port": 23, "proto": "telnet",
     "expected": ["cleartext", "new_service"],
     "description": "Telnet login and shell from an outside host onto the station"},
    {"name": "ftp_login:client", "file": "ndpi/ftp.pcap",
     "inside": "192.168.1.212", "peers": ["90.130.70.73"], "port": 21, "proto": "ftp",
     "expected": ["cleartext"],
     "description": "the station logs into an outside FTP server (USER/PASS in clear, PASV "
                    "listing and download); the PASV reply still names the original address"},
    {"name": "ftp_login:bruteforce", "file": "zeek/ftp/bruteforce.pcap",
     "inside": "192.168.56.101", "peers": ["192.168.56.1"], "port": 21, "proto": "ftp",
     "expected": ["cleartext"],
     "description": "FTP password guessing against the station: 30 USER/PASS attempts in a "
                    "minute from an outside host"},
    {"name": "port_scan:synscan", "file": "ndpi/synscan.pcap",
     "inside": "64.13.134.52", "peers": ["172.16.0.8"], "port": 0, "proto": "tcp",
     "expected": ["new_peer", "new_service"],
     "description": "nmap SYN scan of 1000 ports of the station from an outside host (1994 "
                    "SYNs in 23 s)"},
    {"name": "port_scan:tcp_scan", "file": "ndpi/tcp_scan.pcapng",
     "inside": "192.168.1.2", "peers": ["192.168.1.178"], "port": 0, "proto": "tcp",
     "expected": ["new_peer", "new_service"],
     "description": "small TCP scan of the station (SYN, FIN, NULL, Xmas probes on 7 ports)"},
    {"name": "ssh_guessing", "file": "zeek/ssh/sshguess.pcap",
     "inside": "192.168.56.103", "peers": ["192.168.56.1"], "port": 22, "proto": "ssh",
     "expected": ["new_peer", "rate"],
     "description": "SSH password guessing against the station from an outside host "
                    "(many short SSH sessions in 70 s)"},
    {"name": "outbound_ssh", "file": "zeek/ssh/single-conn.pcap",
     "inside": "192.150.186.169", "peers": ["131.159.14.23"], "port": 22, "proto": "ssh",
     "expected": ["direction"],
     "description": "the station opens an SSH session to an outside host (it is the client)"},
    {"name": "ssh_exfil", "file": "zeek/ssh/ssh.pcap",
     "inside": "131.103.20.168", "peers": ["192.168.1.32"], "port": 22, "proto": "ssh",
     "expected": ["volume"],
     "description": "1.1 MB leaves the station over SSH: the station is the SSH server, an "
                    "outside client pulls 2 x 535 kB (the capture's bulk goes server -> "
                    "client, so the station must be the server for it to be an upload)"},
    {"name": "log4shell", "file": "ndpi/log4j-webapp-exploit.pcap",
     "inside": "172.16.238.10", "peers": ["172.16.238.1", "172.16.238.11", "10.10.10.31"],
     "port": 8080, "proto": "http",
     "expected": ["direction", "new_peer", "new_service"],
     "description": "log4shell (Linux SLL capture): JNDI string POSTed to the station's web "
                    "UI on 8080, then the station fetches LDAP (1389) and Exploit.class (HTTP) "
                    "from the attacker's server and opens a reverse shell to 9001 - three "
                    "outside peers"},
    {"name": "web_attack:sqlinj", "file": "ndpi/WebattackSQLinj.pcap",
     "inside": "192.168.10.50", "peers": ["172.16.0.1"], "port": 80, "proto": "http",
     "expected": ["new_peer", "cleartext"],
     "description": "SQL injection against the station's web UI: an outside host sends "
                    "requests with injected SQL to port 80 for two minutes (9 HTTP sessions; "
                    "the station answers 22 kB)"},
    {"name": "vpn_tunnel:opera", "file": "ndpi/opera-vpn.pcapng",
     "inside": "192.168.1.29", "peers": ["77.111.247.69"], "port": 443, "proto": "tls",
     "expected": ["direction", "new_peer"],
     "description": "Opera VPN (pcapng): the station opens 62 TLS connections to one outside "
                    "VPN server in 8 s, 309 kB up and 1.1 MB down"},
    {"name": "vpn_tunnel:psiphon", "file": "ndpi/psiphon3.pcap",
     "inside": "192.168.0.103", "peers": ["104.18.151.190"], "port": 443, "proto": "tls",
     "expected": ["direction", "new_peer"],
     "description": "Psiphon 3 circumvention: one TLS session from the station to a "
                    "Cloudflare-fronted address (nDPI 4.2 names it Cloudflare, newer nDPI "
                    "Psiphon; its certificate has expired)"},
    {"name": "malware_c2", "file": "ndpi/malware.pcap",
     "inside": "192.168.7.7", "peers": ["1.1.1.1", "144.139.247.220", "67.215.92.210"],
     "port": 443, "proto": "tls",
     "expected": ["new_peer", "direction"],
     "description": "malware contact: the station resolves www.internetbadguys.com (OpenDNS's "
                    "test name for a malicious domain) through an outside resolver, pings and "
                    "probes another address, and 2.2 hours later fetches HTTP and opens TLS to "
                    "the address it was given (the capture's later, unrelated host is left "
                    "out)"},
    {"name": "ipsec_tunnel", "file": "ndpi/ipsec_isakmp_esp.pcap",
     "inside": "192.168.2.100",
     "peers": ["109.237.187.193", "109.237.187.227", "109.237.187.195", "109.237.187.130",
               "109.237.187.225", "109.237.187.194", "109.237.187.131", "109.237.187.129",
               "109.237.187.226"],
     "port": 500, "proto": "ike",
     "expected": ["new_peer"],
     "description": "an IPsec VPN client: the station runs IKE (500, NAT-T 4500) and ESP "
                    "with nine outside gateways over 19 hours, 10-86 kB each (the capture's "
                    "segments are out of time order)"},
    {"name": "ipv6_tunnel:teredo", "file": "ndpi/teredo.pcap",
     "inside": "10.112.16.67", "peers": ["194.136.28.76"], "port": 3544, "proto": "udp",
     "expected": ["new_peer"],
     "description": "Teredo: the station tunnels IPv6 over UDP to an outside Teredo server "
                    "on 3544 (qualification and bubbles, 14 datagrams in 17 s)"},
]
BY_NAME = {b["name"]: b for b in REAL_BEHAVIOURS}


class Error(Exception):
    pass


# ---------------------------------------------------------------------------
# pcap / pcapng


def read_capture(path):
    """(linktype, [(ts_ns, data, orig_len), ...]) from a pcap or pcapng file."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 24:
        raise Error(f"{path}: too short for a capture")
    magic = buf[:4]
    if magic == b"\x0a\x0d\x0d\x0a":
        return _read_pcapng(path, buf)
    m = {b"\xd4\xc3\xb2\xa1": ("<", 1000), b"\xa1\xb2\xc3\xd4": (">", 1000),
         b"\x4d\x3c\xb2\xa1": ("<", 1), b"\xa1\xb2\x3c\x4d": (">", 1)}.get(magic)
    if not m:
        raise Error(f"{path}: not a pcap or pcapng file")
    e, mult = m
    linktype = struct.unpack(e + "I", buf[20:24])[0] & 0x0FFFFFFF
    pkts, off = [], 24
    while off + 16 <= len(buf):
        sec, frac, incl, orig = struct.unpack(e + "IIII", buf[off:off + 16])
        off += 16
        if off + incl > len(buf):
            break  # truncated last record
        pkts.append((sec * 1_000_000_000 + frac * mult, buf[off:off + incl], orig))
        off += incl
    return linktype, pkts


def _read_pcapng(path, buf):
    off, e, ifaces, pkts = 0, "<", [], []
    while off + 12 <= len(buf):
        btype = struct.unpack(e + "I", buf[off:off + 4])[0]
        if btype == 0x0A0D0D0A:
            e = "<" if buf[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            ifaces = []
        blen = struct.unpack(e + "I", buf[off + 4:off + 8])[0]
        if blen < 12 or off + blen > len(buf):
            break
        body = buf[off + 8:off + blen - 4]
        if btype == 1:  # interface description
            lt = struct.unpack(e + "H", body[:2])[0]
            res = 1000  # default 10^-6 s -> ns multiplier
            o = 8
            while o + 4 <= len(body):
                code, olen = struct.unpack(e + "HH", body[o:o + 4])
                if code == 0:
                    break
                if code == 9 and olen >= 1:
                    r = body[o + 4]
                    res = (10 ** 9 // 10 ** r) if not r & 0x80 else 0
                    if r & 0x80:  # power of two: rare, keep ns by float
                        res = -(r & 0x7F)
                o += 4 + ((olen + 3) & ~3)
            ifaces.append((lt, res))
        elif btype == 6:  # enhanced packet
            iid, hi, lo, cap, orig = struct.unpack(e + "IIIII", body[:20])
            lt, res = ifaces[iid]
            ts = (hi << 32) | lo
            ts_ns = ts * res if res > 0 else int(ts * 1e9 / (1 << -res))
            pkts.append((ts_ns, body[20:20 + cap], orig, lt))
        off += blen
    lts = {p[3] for p in pkts}
    if len(lts) > 1:
        raise Error(f"{path}: interfaces with different link types {sorted(lts)}")
    lt = lts.pop() if lts else (ifaces[0][0] if ifaces else 1)
    return lt, [(t, d, o) for t, d, o, _ in pkts]


def write_pcap(path, frames):
    """frames: [(ts_ns, data, orig_len)], classic pcap, microseconds, Ethernet."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for ts, data, orig in frames:
            us = (ts + 500) // 1000
            f.write(struct.pack("<IIII", us // 1_000_000, us % 1_000_000, len(data), orig))
            f.write(data)


def l3_of(linktype, data):
    """(ethertype, offset of the network header, MAC dst, MAC src) of a frame, or None.
    VLAN/QinQ tags are skipped (and so dropped from the rewritten frame)."""
    if linktype == 1:  # Ethernet
        if len(data) < 14:
            return None
        et, off = struct.unpack(">H", data[12:14])[0], 14
        while et in (0x8100, 0x88A8, 0x9100) and len(data) >= off + 4:
            et, off = struct.unpack(">H", data[off + 2:off + 4])[0], off + 4
        return et, off, data[0:6], data[6:12]
    if linktype == 113:  # Linux cooked v1
        if len(data) < 16:
            return None
        return struct.unpack(">H", data[14:16])[0], 16, None, None
    if linktype == 276:  # Linux cooked v2
        if len(data) < 20:
            return None
        return struct.unpack(">H", data[0:2])[0], 20, None, None
    if linktype in (101, 12, 14):  # raw IP
        if not data:
            return None
        return (0x0800 if data[0] >> 4 == 4 else 0x86DD), 0, None, None
    if linktype == 0:  # BSD loopback
        if len(data) < 4:
            return None
        fam = struct.unpack("<I", data[:4])[0]
        return (0x0800 if fam == 2 else 0x86DD), 4, None, None
    raise Error(f"link type {linktype} is not handled")


# ---------------------------------------------------------------------------
# IPv4 rewriting


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f">{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _csum_adjust(old_sum, old_words, new_words):
    """RFC 1624 incremental update: HC' = ~(~HC + ~m + m')."""
    s = ~old_sum & 0xFFFF
    for w in old_words:
        s += ~w & 0xFFFF
    for w in new_words:
        s += w
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _words(addr4):
    return struct.unpack(">HH", addr4)


def rewrite_ipv4(pkt, amap):
    """pkt: bytes from the IPv4 header on (may be cut by the snap length). amap:
    {old 4 bytes: new 4 bytes}. Returns the rewritten bytes, checksums fixed: IP header
    always; TCP/UDP/ICMP fully recomputed when the whole datagram is present and unfragmented,
    else adjusted incrementally; ICMP errors get their quoted IP header rewritten too."""
    p = bytearray(pkt)
    ihl = (p[0] & 0x0F) * 4
    tot = struct.unpack(">H", p[2:4])[0]
    old_src, old_dst = bytes(p[12:16]), bytes(p[16:20])
    src, dst = amap.get(old_src, old_src), amap.get(old_dst, old_dst)
    p[12:16], p[16:20] = src, dst
    p[10:12] = b"\0\0"
    p[10:12] = struct.pack(">H", _csum(bytes(p[:ihl])))
    proto = p[9]
    frag = struct.unpack(">H", p[6:8])[0]
    first_frag = (frag & 0x1FFF) == 0
    whole = first_frag and not (frag & 0x2000) and len(p) >= tot
    end = min(len(p), tot)
    l4 = ihl
    old_w, new_w = _words(old_src) + _words(old_dst), _words(src) + _words(dst)
    if proto in (6, 17) and first_frag:
        co = l4 + (16 if proto == 6 else 6)
        if co + 2 > end:
            return bytes(p)
        old = struct.unpack(">H", p[co:co + 2])[0]
        if proto == 17 and old == 0:
            return bytes(p)  # no UDP checksum
        if whole:
            p[co:co + 2] = b"\0\0"
            seg = bytes(p[l4:tot])
            ph = src + dst + struct.pack(">BBH", 0, proto, len(seg))
            c = _csum(ph + seg)
            if proto == 17 and c == 0:
                c = 0xFFFF
            p[co:co + 2] = struct.pack(">H", c)
        else:
            p[co:co + 2] = struct.pack(">H", _csum_adjust(old, old_w, new_w))
    elif proto == 1 and first_frag and end >= l4 + 8 + 20:
        typ = p[l4]
        if typ in (3, 4, 5, 11, 12):  # an error quoting the offending datagram
            q = l4 + 8
            qihl = (p[q] & 0x0F) * 4
            if q + 20 <= end:
                qs, qd = bytes(p[q + 12:q + 16]), bytes(p[q + 16:q + 20])
                p[q + 12:q + 16], p[q + 16:q + 20] = amap.get(qs, qs), amap.get(qd, qd)
                if q + qihl <= end:
                    p[q + 10:q + 12] = b"\0\0"
                    p[q + 10:q + 12] = struct.pack(">H", _csum(bytes(p[q:q + qihl])))
    if proto == 1 and whole and tot >= l4 + 4:  # ICMP: always recomputed when whole
        p[l4 + 2:l4 + 4] = b"\0\0"
        p[l4 + 2:l4 + 4] = struct.pack(">H", _csum(bytes(p[l4:tot])))
    return bytes(p)


def mac_of(addr):
    """The generator's MAC for a station address: 02:00 + the IPv4 address."""
    return b"\x02\x00" + ipaddress.IPv4Address(addr).packed


# ---------------------------------------------------------------------------
# inventory, time


def inventory(path):
    """{'stations': {id: [addr, ...]}, 'windows': [(weekday 0=Mon, start min, end min)],
    'timezone': name} from a site inventory as mw-scengen writes it."""
    out = {"stations": {}, "windows": [], "timezone": "UTC"}
    cur, in_w, win = None, False, None
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].rstrip()
            if not line.strip():
                continue
            m = re.match(r"timezone:\s*\"?([^\"\s]+)", line)
            if m:
                out["timezone"] = m.group(1)
            if re.match(r"\S", line):
                in_w = line.startswith("maintenance_windows:")
                cur = None
                continue
            if in_w:
                m = re.match(r"\s*-?\s*days:\s*\[(.*)\]", line)
                if m:
                    win = {"days": [days.index(d.strip().strip('"').lower()[:3])
                                    for d in m.group(1).split(",") if d.strip()]}
                    out["windows"].append(win)
                m = re.match(r"\s*(start|end):\s*\"?(\d+):(\d+)", line)
                if m and win is not None:
                    win[m.group(1)] = int(m.group(2)) * 60 + int(m.group(3))
                continue
            m = re.match(r"\s*- id:\s*\"?([^\"\s]+)", line)
            if m:
                cur = m.group(1)
                out["stations"][cur] = []
                continue
            m = re.match(r"\s*prefixes:\s*\[(.*)\]", line)
            if m and cur is not None:
                out["stations"][cur] = [p.strip().strip('"').split("/")[0]
                                        for p in m.group(1).split(",") if p.strip()]
    out["windows"] = [(d, w.get("start", 0), w.get("end", 1440))
                      for w in out["windows"] for d in w["days"]]
    return out


def _tz(name):
    if name in ("UTC", "Etc/UTC", "Z"):
        return _dt.timezone.utc
    from zoneinfo import ZoneInfo
    return ZoneInfo(name)


def window_intervals(inv, lo, hi):
    """Maintenance windows [(start s, end s)] (UTC epoch) overlapping [lo, hi]."""
    tz = _tz(inv["timezone"])
    out = []
    day = _dt.datetime.fromtimestamp(lo, tz).date() - _dt.timedelta(days=1)
    last = _dt.datetime.fromtimestamp(hi, tz).date()
    while day <= last:
        for wd, s, e in inv["windows"]:
            if day.weekday() != wd:
                continue
            base = _dt.datetime(day.year, day.month, day.day, tzinfo=tz)
            a = (base + _dt.timedelta(minutes=s)).timestamp()
            b = (base + _dt.timedelta(minutes=e if e > s else e + 1440)).timestamp()
            if b > lo and a < hi:
                out.append((a, b))
        day += _dt.timedelta(days=1)
    return sorted(out)


def iso(t):
    return _dt.datetime.fromtimestamp(t, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_us(t):
    return _dt.datetime.fromtimestamp(t, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def place(rng, lo, hi, dur, windows, want, margin=60):
    """A start time t for an attack of dur seconds in [lo + margin, hi - margin]: inside
    one maintenance window (want 'in'), outside all of them ('out'). None if impossible."""
    if want == "in":
        fits = [(a, b) for a, b in windows
                if min(b, hi - margin) - max(a, lo + margin) >= dur + 2]
        if not fits:
            return None
        a, b = rng.choice(fits)
        a, b = max(a, lo + margin), min(b, hi - margin)
        return a + 1 + rng.random() * (b - a - dur - 2)
    for _ in range(2000):
        t = lo + margin + rng.random() * max(0.0, hi - lo - 2 * margin - dur)
        if all(t + dur < a - 1 or t > b + 1 for a, b in windows):
            return t
    return None


def outside_addresses(rng, n, avoid=()):
    out = []
    while len(out) < n:
        a = rng.choice(["198.51.100.", "203.0.113."]) + str(rng.randint(2, 254))
        if a not in out and a not in avoid:
            out.append(a)
    return out


# ---------------------------------------------------------------------------
# the injection


def captures_dir(path=None):
    return os.path.abspath(path or os.environ.get("MW_SHARED_CAPTURES") or CAPTURES)


def prepare(beh, caps, bs_addr, peers_new):
    """Reads the behaviour's capture, keeps the IPv4 packets between its endpoints,
    rewrites them. Returns (frames with original timestamps, address map as text)."""
    path = os.path.join(caps, beh["file"])
    if not os.path.isfile(path):
        raise Error(f"{path} is missing")
    linktype, pkts = read_capture(path)
    amap_txt = {beh["inside"]: bs_addr}
    amap_txt.update(dict(zip(beh["peers"], peers_new)))
    amap = {ipaddress.IPv4Address(k).packed: ipaddress.IPv4Address(v).packed
            for k, v in amap_txt.items()}
    bs_packed = ipaddress.IPv4Address(bs_addr).packed
    frames = []
    for ts, data, orig in pkts:
        l3 = l3_of(linktype, data)
        if not l3 or l3[0] != 0x0800:
            continue
        et, off, _, _ = l3
        ip = data[off:]
        if len(ip) < 20 or ip[0] >> 4 != 4:
            continue
        s, d = bytes(ip[12:16]), bytes(ip[16:20])
        if s not in amap or d not in amap:
            continue
        ip = rewrite_ipv4(ip, amap)
        src_mac = mac_of(bs_addr) if ip[12:16] == bs_packed else GATEWAY_MAC
        dst_mac = mac_of(bs_addr) if ip[16:20] == bs_packed else GATEWAY_MAC
        eth = dst_mac + src_mac + b"\x08\x00"
        frames.append((ts, eth + ip, orig - off + 14))
    if not frames:
        raise Error(f"{path}: no IPv4 packet between {beh['inside']} and {beh['peers']}")
    frames.sort(key=lambda f: f[0])
    return frames, amap_txt


def flows_of(frames):
    """Ground-truth flow entries (mw-scengen's shape) from rewritten Ethernet frames."""
    flows = {}
    for ts, data, orig in frames:
        ip = data[14:]
        ihl = (ip[0] & 0x0F) * 4
        proto = ip[9]
        src, dst = str(ipaddress.IPv4Address(ip[12:16])), str(ipaddress.IPv4Address(ip[16:20]))
        sp = dp = 0
        syn_only = False
        if proto in (6, 17) and len(ip) >= ihl + 4:
            sp, dp = struct.unpack(">HH", ip[ihl:ihl + 4])
            if proto == 6 and len(ip) >= ihl + 14:
                syn_only = (ip[ihl + 13] & 0x12) == 0x02
        key = (proto,) + tuple(sorted([(src, sp), (dst, dp)]))
        fl = flows.get(key)
        if fl is None:
            fl = flows[key] = {"proto": {6: "tcp", 17: "udp", 1: "icmp"}.get(proto, str(proto)),
                               "src": src, "sport": sp, "dst": dst, "dport": dp,
                               "first": ts / 1e9, "last": ts / 1e9, "packets": 0, "bytes": 0}
        if syn_only and not fl.get("_syn"):  # the first pure SYN names the initiator
            fl.update(src=src, sport=sp, dst=dst, dport=dp, _syn=True)
        fl["last"] = ts / 1e9
        fl["packets"] += 1
        fl["bytes"] += orig
    out = sorted(flows.values(), key=lambda f: f["first"])
    for f in out:
        f.pop("_syn", None)
        f["first"], f["last"] = round(f["first"], 6), round(f["last"], 6)
        f["first_iso"], f["last_iso"] = iso_us(f["first"]), iso_us(f["last"])
    return out


def day_span(path):
    lt, pkts = read_capture(path)
    if lt != 1:
        raise Error(f"{path}: link type {lt}, expected Ethernet (a mw-scengen day)")
    if not pkts:
        raise Error(f"{path}: empty")
    return pkts[0][0] / 1e9, pkts[-1][0] / 1e9


def mergecap(out, inputs):
    p = subprocess.run(["mergecap", "-F", "pcap", "-w", out] + list(inputs),
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise Error(f"mergecap: {p.stderr.strip()}")


def inject(name, day, inv_path, out, truth_path, bs=None, seed=1, window="any",
           p_inside=0.3, caps=None, inj_id=1, keep_alone=None, fallback=None):
    """Injects real behaviour `name` into the clean day capture `day`; writes out
    (merged pcap) and truth_path. Returns the truth entry (its in_maintenance_window says
    where it went). fallback (default: window "any"): a capture that does not fit where
    window asked (longer than a maintenance window) goes to the other side instead."""
    if name not in BY_NAME:
        raise Error(f"unknown behaviour {name}; known: {', '.join(BY_NAME)}")
    beh = BY_NAME[name]
    caps = captures_dir(caps)
    inv = inventory(inv_path)
    rng = random.Random(f"{seed}:{name}")
    stations = sorted(inv["stations"])
    if not stations:
        raise Error(f"{inv_path}: no base station")
    bs = bs or rng.choice(stations)
    if bs not in inv["stations"]:
        raise Error(f"{inv_path}: no base station {bs}")
    v4 = [a for a in inv["stations"][bs] if ":" not in a]
    if not v4:
        raise Error(f"{bs} has no IPv4 address")
    peers = outside_addresses(rng, len(beh["peers"]))
    frames, amap = prepare(beh, caps, v4[0], peers)
    lo, hi = day_span(day)
    dur = (frames[-1][0] - frames[0][0]) / 1e9
    wins = window_intervals(inv, lo, hi)
    want = window
    if want == "any":
        want = "in" if wins and rng.random() < p_inside else "out"
    t0 = place(rng, lo, hi, dur, wins, want)
    if t0 is None and (window == "any" if fallback is None else fallback):
        want = "out" if want == "in" else "in"
        t0 = place(rng, lo, hi, dur, wins, want)
    if t0 is None:
        raise Error(f"no room for {dur:.0f} s {'inside' if want == 'in' else 'outside'} the "
                    f"maintenance windows of {iso(lo)}..{iso(hi)}")
    shift = int(t0 * 1e9) - frames[0][0]
    frames = [(ts + shift, d, o) for ts, d, o in frames]
    fl = flows_of(frames)
    first, last = frames[0][0] / 1e9, frames[-1][0] / 1e9
    entry = {
        "id": inj_id, "type": name.split(":")[0], "variant": name.partition(":")[2] or None,
        "name": name, "real": True, "plane": "management", "base_station": bs,
        "start": int(first), "end": int(last) + 1,
        "start_iso": iso(int(first)), "end_iso": iso(int(last) + 1),
        "params": {"peer": peers[0], "port": beh["port"], "proto": beh["proto"], "period": 0,
                   "jitter": 0, "bytes": sum(f["bytes"] for f in fl), "count": len(fl)},
        "peers": peers,
        "expected": beh["expected"],
        "in_maintenance_window": want == "in",
        "source": beh["file"], "address_map": amap,
        "description": beh["description"],
        "flows": fl,
    }
    tmpdir = tempfile.mkdtemp(prefix="mw-realattack-")
    try:
        alone = keep_alone or os.path.join(tmpdir, "attack.pcap")
        write_pcap(alone, frames)
        mergecap(out + ".part", [day, alone])
        os.replace(out + ".part", out)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    with open(truth_path, "w") as f:
        json.dump([entry], f, indent=1)
        f.write("\n")
    return entry


# ---------------------------------------------------------------------------
# hard clean days


def cut(inp, out, seed=1, lo_frac=0.0, hi_frac=0.5):
    """Keeps the frames from a random frame number on (editcap -r IN OUT N-LAST), N drawn in
    [lo_frac, hi_frac] of the frames, so the capture starts in the middle of sessions.
    Returns N (1-based)."""
    lt, pkts = read_capture(inp)
    rng = random.Random(f"{seed}:cut")
    n = rng.randint(max(2, int(len(pkts) * lo_frac)), max(2, int(len(pkts) * hi_frac)))
    p = subprocess.run(["editcap", "-F", "pcap", "-r", inp, out, f"{n}-{len(pkts)}"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise Error(f"editcap: {p.stderr.strip()}")
    return n


def _outer_src(data):
    l3 = l3_of(1, data)
    if not l3:
        return None
    et, off = l3[0], l3[1]
    if et == 0x0800 and len(data) >= off + 20:
        return str(ipaddress.IPv4Address(data[off + 12:off + 16]))
    if et == 0x86DD and len(data) >= off + 40:
        return str(ipaddress.IPv6Address(data[off + 8:off + 24]))
    return None


def one_way(inp, out, inv_path, keep):
    """Keeps only the frames whose outermost source address is a base station's
    (keep='from-bs') or is not ('to-bs'): a capture point that sees one direction.
    Returns (frames kept, frames in)."""
    if keep not in ("from-bs", "to-bs"):
        raise Error("keep must be from-bs or to-bs")
    inv = inventory(inv_path)
    mine = {str(ipaddress.ip_address(a)) for addrs in inv["stations"].values() for a in addrs}
    lt, pkts = read_capture(inp)
    if lt != 1:
        raise Error(f"{inp}: link type {lt}, expected Ethernet")
    kept = [p for p in pkts if (_outer_src(p[1]) in mine) == (keep == "from-bs")
            and _outer_src(p[1]) is not None]
    write_pcap(out, kept)
    return len(kept), len(pkts)


def _cut_ipv4(ip, size):
    ihl = (ip[0] & 15) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    flags = struct.unpack("!H", ip[6:8])[0]
    if ihl < 20 or flags & 0x3FFF or total > len(ip) or total <= ihl + size:
        return [ip[:total] if ihl <= total <= len(ip) else ip]
    payload, out = ip[ihl:total], []
    for off in range(0, len(payload), size):
        piece = payload[off:off + size]
        h = bytearray(ip[:ihl])
        h[2:4] = struct.pack("!H", ihl + len(piece))
        h[6:8] = struct.pack("!H", (0x2000 if off + size < len(payload) else 0) | off // 8)
        h[10:12] = b"\0\0"
        h[10:12] = struct.pack("!H", _csum(bytes(h)))
        out.append(bytes(h) + piece)
    return out


def _cut_ipv6(ip, size, ident):
    plen, nxt = struct.unpack("!H", ip[4:6])[0], ip[6]
    if nxt in (0, 43, 44, 60) or plen <= size or 40 + plen > len(ip):
        return [ip[:40 + plen] if 40 + plen <= len(ip) else ip]
    payload, out = ip[40:40 + plen], []
    for off in range(0, len(payload), size):
        piece = payload[off:off + size]
        fh = struct.pack("!BBHI", nxt, 0, off | (1 if off + size < len(payload) else 0), ident)
        out.append(ip[:4] + struct.pack("!H", 8 + len(piece)) + b"\x2c" + ip[7:40] + fh + piece)
    return out


def fragment(inp, out, size, reverse=False):
    """Cuts every IP packet (the frame's first IP header, after any VLAN tags) whose payload
    is longer than size bytes (a multiple of 8) into fragments of size bytes, last first
    when reverse, as a router or an evasion tool (fragroute) would. IPv6 packets with
    extension headers are left whole. Returns (frames written, frames in)."""
    if size < 8 or size % 8:
        raise Error("the fragment size is a multiple of 8 bytes")
    lt, pkts = read_capture(inp)
    if lt != 1:
        raise Error(f"{inp}: link type {lt}, expected Ethernet")
    frames = []
    for i, (ts, data, orig) in enumerate(pkts):
        l3 = l3_of(lt, data)
        et, off = (l3[0], l3[1]) if l3 else (0, len(data))
        if et == 0x0800 and len(data) >= off + 20 and orig == len(data):
            pieces = _cut_ipv4(data[off:], size)
        elif et == 0x86DD and len(data) >= off + 40 and orig == len(data):
            pieces = _cut_ipv6(data[off:], size, 0x5000 + i)
        else:
            pieces = [data[off:]]
        for piece in pieces[::-1] if reverse else pieces:
            frame = data[:off] + piece
            frames.append((ts, frame, len(frame) if len(pieces) > 1 else orig))
    write_pcap(out, frames)
    return len(frames), len(pkts)


# ---------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="the real behaviours and their source captures")
    a = sub.add_parser("inject", help="inject one real behaviour into a generated day")
    a.add_argument("-b", "--behaviour", required=True)
    a.add_argument("--day", required=True, help="clean day capture (mw-scengen, Ethernet)")
    a.add_argument("--inventory", required=True, help="the day's site inventory")
    a.add_argument("-o", "--output", required=True, help="merged capture (pcap)")
    a.add_argument("--truth", required=True, help="ground truth JSON to write")
    a.add_argument("--bs", help="base station id (default: random)")
    a.add_argument("--seed", type=int, default=1, help="picks station, peers, time (1)")
    a.add_argument("--window", choices=("in", "out", "any"), default="any",
                   help="inside or outside a maintenance window (any: inside with p=0.3)")
    a.add_argument("--attack-only", metavar="FILE",
                   help="also keep the rewritten attack alone (pcap)")
    a.add_argument("--captures", help="third-party captures (default ../shared/captures "
                   "relative to the repository, or $MW_SHARED_CAPTURES)")
    c = sub.add_parser("cut", help="a capture starting at a random frame (mid-session)")
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("input")
    c.add_argument("output")
    w = sub.add_parser("oneway", help="only one direction of a capture")
    w.add_argument("--inventory", required=True)
    w.add_argument("--keep", choices=("from-bs", "to-bs"), required=True)
    w.add_argument("input")
    w.add_argument("output")
    fr = sub.add_parser("fragment", help="every IP packet cut into fragments (IPv4, IPv6)")
    fr.add_argument("--size", type=int, default=8, help="bytes a fragment (multiple of 8)")
    fr.add_argument("--reverse", action="store_true", help="each packet's last fragment first")
    fr.add_argument("input")
    fr.add_argument("output")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "list":
            for b in REAL_BEHAVIOURS:
                print(f"{b['name']:22} {b['file']:32} expected: {', '.join(b['expected'])}")
            return 0
        if args.cmd == "inject":
            caps = captures_dir(args.captures)
            if not os.path.isdir(caps):
                print(f"SKIP: {caps} is absent; no real captures to inject", file=sys.stderr)
                return SKIP
            e = inject(args.behaviour, args.day, args.inventory, args.output, args.truth,
                       bs=args.bs, seed=args.seed, window=args.window, caps=caps,
                       keep_alone=args.attack_only)
            bs_addr = e["address_map"][BY_NAME[e["name"]]["inside"]]
            print(f"{e['name']} on {e['base_station']} ({bs_addr}) "
                  f"with {', '.join(e['peers'])}, {e['start_iso']}..{e['end_iso']}"
                  f"{' (maintenance window)' if e['in_maintenance_window'] else ''}, "
                  f"{len(e['flows'])} flows -> {args.output}", file=sys.stderr)
            return 0
        if args.cmd == "cut":
            n = cut(args.input, args.output, args.seed)
            print(f"from frame {n} -> {args.output}", file=sys.stderr)
            return 0
        if args.cmd == "fragment":
            k, n = fragment(args.input, args.output, args.size, args.reverse)
            print(f"{n} frames -> {k} ({args.size}-byte fragments) -> {args.output}",
                  file=sys.stderr)
            return 0
        if args.cmd == "oneway":
            k, n = one_way(args.input, args.output, args.inventory, args.keep)
            print(f"{k} of {n} frames ({args.keep}) -> {args.output}", file=sys.stderr)
            return 0
    except (Error, OSError) as e:
        print(f"mw_realattack: {e}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
