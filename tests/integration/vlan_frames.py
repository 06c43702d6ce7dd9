"""Captures re-framed with VLAN tags per packet, for the tests of VLAN handling: each IP
frame of a capture (Ethernet, Linux cooked, raw IP) becomes an Ethernet frame carrying the
802.1Q tags a function of its source and destination addresses picks."""
import ipaddress
import struct

import mwtest  # noqa: F401 (puts scripts/ on the path)
import mw_realattack as ra  # noqa: E402

MACS = bytes.fromhex("020000000001") + bytes.fromhex("020000000002")


def frames_of(path):
    """[(ts_ns, ethertype, network bytes)] of a capture's IP frames."""
    lt, pkts = ra.read_capture(path)
    out = []
    for ts, data, _orig in pkts:
        l3 = ra.l3_of(lt, data)
        if l3 and l3[0] in (0x0800, 0x86DD):
            out.append((ts, l3[0], data[l3[1]:]))
    return out


def src_dst(et, net):
    if et == 0x0800 and len(net) >= 20:
        return ipaddress.ip_address(net[12:16]), ipaddress.ip_address(net[16:20])
    if et == 0x86DD and len(net) >= 40:
        return ipaddress.ip_address(net[8:24]), ipaddress.ip_address(net[24:40])
    return None, None


def ether(et, net, vlans=()):
    tags = b"".join(struct.pack("!HH", 0x8100, v) for v in vlans)
    return MACS + tags + struct.pack("!H", et) + net


def write(path, frames):
    ra.write_pcap(path, [(ts, d, len(d)) for ts, d in frames])


def tagged(frames, vlan_of):
    """Ethernet frames, each with the tags vlan_of(src, dst) returns (a tuple; () none)."""
    out = []
    for ts, et, net in frames:
        s, d = src_dst(et, net)
        out.append((ts, ether(et, net, vlan_of(s, d) if s is not None else ())))
    return out


def vlan_capture(src, out, vlan_of):
    """Writes src's IP frames to out (pcap), each tagged vlan_of(src_addr, dst_addr)."""
    write(out, tagged(frames_of(src), vlan_of))
