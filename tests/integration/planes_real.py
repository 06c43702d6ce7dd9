#!/usr/bin/python3
"""Planes on real captures: for each shared capture with a telecom or OAM
protocol, an inventory written for it, and the plane every single flow must
land in (plus roles and initiator where the capture makes them clear).

usage: planes_real.py MASTWATCH SHARED_DIR
"""
import os
import sys
import tempfile

from mwtest import Failures, mw_flows, run, shared_captures


def inventory(bs=(), **roles):
    lines = ["site: test", "base_stations:"]
    for i, prefix in enumerate(bs):
        lines += [f"  - id: bs-{i + 1}", "    type: enb", f"    prefixes: [\"{prefix}\"]"]
    if not bs:
        lines[-1] = "base_stations: []"
    lines.append("roles:")
    for role, prefixes in roles.items():
        lines.append(f"  {role}: [" + ", ".join(f'"{p}"' for p in prefixes) + "]")
    if not roles:
        lines[-1] = "roles: {}"
    return "\n".join(lines) + "\n"


def everything(plane):
    return lambda r: plane


def testcups(r):
    """open5gs CUPS test: eNB 127.0.0.1, MME .2, SGW-C .3, SMF .4, SGW-U .6, UPF .7."""
    if r.kind_name in ("tunnel", "inner"):
        return "user"
    if r.l4_proto in (1, 58):
        return "transport"
    return "control"  # S1AP, Diameter (SCTP 3868), GTP-C, PFCP


CASES = [
    # capture, inventory, expected plane per flow, extra per-flow checks
    ("ndpi/gtp_c.pcap", inventory(["10.101.0.2/32"], mme=["10.102.0.2/32"]), everything("control"),
     lambda r: r.bs == "bs-1" and r.peer_role_name == "mme" and r.service_name == "GTP-C"),
    ("ndpi/diameter.pcap", inventory(mme=["10.201.9.245/32"]), everything("control"),
     lambda r: r.service_name == "Diameter"),
    ("ndpi/ssh.pcap", inventory(["172.16.238.168/32"], ems=["172.16.238.1/32"]),
     everything("management"),
     lambda r: r.src != "172.16.238.1" or (r.peer_role_name == "ems" and r.initiator == 2)),
    ("ndpi/telnet.pcap", inventory(["192.168.0.1/32"]), everything("management"),
     lambda r: r.service_name == "Telnet" and r.bs == "bs-1" and r.peer_role_name == "unknown"),
    ("ndpi/ftp.pcap", inventory(["192.168.1.212/32"], ems=["90.130.70.73/32"]),
     everything("management"), lambda r: r.initiator == 1 and r.peer_role_name == "ems"),
    ("ndpi/tftp.pcap", inventory(["172.28.4.53/32", "172.28.5.91/32", "192.168.0.253/32",
                                  "192.168.2.45/32"],
                                 ems=["172.16.5.170/32", "172.28.5.170/32", "192.168.0.10/32",
                                      "192.168.2.200/32"]),
     everything("management"), lambda r: r.bs_index > 0 and r.peer_role_name == "ems"),
    ("ndpi/snmp.pcap", inventory(), everything("management"),
     lambda r: r.service_name in ("SNMP", "SNMP-trap")),
    ("ndpi/NTPv4.pcap", inventory(), everything("sync"), lambda r: r.service_name == "NTP"),
    ("tcpdump/ptp.pcap", inventory(["11.0.0.110/32"], ptp=["11.0.0.9/32"]), everything("sync"),
     lambda r: r.service_name == "PTP"),
    ("zeek/tunnels/gtp/gtp7_ipv6.pcap", inventory(["118.92.124.41/32"], sgw=["118.92.124.72/32"]),
     everything("user"), lambda r: r.bs == "bs-1"),  # inner flows inherit the tunnel's station
    ("open5gs/testcups.pcapng", inventory(["127.0.0.1/32"], mme=["127.0.0.2/32"],
                                          sgw=["127.0.0.3/32", "127.0.0.6/32"],
                                          smf=["127.0.0.4/32"], upf=["127.0.0.7/32"]),
     # eNB and MME share 127.0.0.1 in this test run: the S1AP service comes from port + PPID
     testcups, lambda r: r.l4_proto != 132 or r.dst_port != 36412 or
     (r.service_name == "S1AP" and r.sctp_ppid == 18)),
]


def main():
    mw, caps = sys.argv[1], shared_captures(sys.argv[2])
    fails = Failures()
    tmp = tempfile.mkdtemp()
    total = 0
    for rel, inv, plane_of, check in CASES:
        path = os.path.join(caps, rel)
        inv_path = os.path.join(tmp, "site.yaml")
        open(inv_path, "w").write(inv)
        out = os.path.join(tmp, "o.h5")
        r = run([mw, "analyze", "-q", "--inventory", inv_path, "-o", out, path])
        fails.check(r.returncode == 0, f"{rel}: exit {r.returncode}: {r.stderr}")
        if r.returncode != 0:
            continue
        df = mw_flows.load(out)
        fails.check(len(df) > 0, f"{rel}: no flows")
        for row in df.itertuples():
            total += 1
            what = f"{rel}: {row.src}:{row.src_port} -> {row.dst}:{row.dst_port} ({row.protocol}," \
                   f" {row.service_name})"
            fails.check(row.plane_name == plane_of(row),
                        f"{what}: plane {row.plane_name}, expected {plane_of(row)}")
            fails.check(check(row), f"{what}: roles/service wrong: bs={row.bs} "
                        f"peer={row.peer_role_name} initiator={row.initiator}")
    return fails.finish(f"{total} flows in {len(CASES)} captures: every flow on its expected plane")


if __name__ == "__main__":
    sys.exit(main())
