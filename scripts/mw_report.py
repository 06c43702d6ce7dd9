#!/usr/bin/python3
"""A readable report of one mastwatch results file.

    /usr/bin/python3 scripts/mw_report.py results/incident-day.h5

Per base station: flows and bytes by plane. Then "worth a look": flows the
site inventory alone already questions - base-station traffic on no known
plane, management traffic with a peer outside the inventory, cleartext
management protocols, a base station opening SSH/HTTPS/NETCONF itself, and
nDPI risks. These are fixed rules, not the learned baseline (see README).
Exit status: 0 nothing flagged, 1 something worth a look, 2 unreadable file.
"""
import sys

import h5py

import mw_flows

CLEARTEXT = {"Telnet", "FTP", "TFTP", "HTTP"}
OPENED_BY_BS_SUSPICIOUS = {"SSH", "NETCONF", "HTTPS", "Telnet"}
MANAGEMENT_SERVICES = {"SSH", "NETCONF", "SNMP", "SNMP_TRAP", "syslog", "Telnet", "FTP", "TFTP",
                       "CWMP", "HTTPS", "HTTP"}


def human(n):
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000:
            return f"{n:.0f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with h5py.File(argv[1], "r") as f:
            attrs = dict(f.attrs)
        df = mw_flows.load(argv[1])
    except (OSError, KeyError) as e:
        print(f"mw_report: {argv[1]}: {e}", file=sys.stderr)
        return 2
    c = mw_flows.counters(argv[1])
    print(f"site {attrs.get('site', '?')} - {attrs.get('sources', '')}")
    if len(df):
        print(f"{df['first'].min():%Y-%m-%d %H:%M} .. {df['last'].max():%Y-%m-%d %H:%M} UTC, "
              f"{c['packets']} packets, {len(df)} flow records, nDPI {attrs['ndpi_version']}")
    if "bs" not in df or not (df.bs_index > 0).any():
        print("no inventory was given (--inventory): no planes per base station")
        return 0
    df["bytes"] = df.c2s_bytes + df.s2c_bytes
    bs = df[df.bs_index > 0]
    print("\nflows (bytes) per base station and plane")
    table = bs.pivot_table(index="bs", columns="plane_name", values="bytes",
                           aggfunc=["count", "sum"], fill_value=0)
    planes = sorted(bs.plane_name.unique())
    print(f"  {'base station':<14}" + "".join(f"{p:>22}" for p in planes))
    for station in table.index:
        cells = "".join(f"{int(table.loc[station, ('count', p)]):>9} ({human(table.loc[station, ('sum', p)]):>9})"
                        .rjust(22) for p in planes)
        print(f"  {station:<14}{cells}")

    oam = bs[bs.kind_name != "inner"]
    findings = []
    for r in oam[oam.plane_name == "unknown"].itertuples():
        findings.append((r.bs, r.first, f"traffic on no known plane: {r.src}:{r.src_port} -> "
                         f"{r.dst}:{r.dst_port} {r.protocol}, {human(r.bytes)}"))
    mgmt = oam[oam.plane_name == "management"]
    for r in mgmt[mgmt.peer_role_name == "unknown"].itertuples():
        findings.append((r.bs, r.first, f"management peer outside the inventory: {r.dst}:"
                         f"{r.dst_port} {r.service_name}/{r.protocol}, {human(r.bytes)}"))
    for r in mgmt[mgmt.service_name.isin(CLEARTEXT) | mgmt.protocol.isin(CLEARTEXT)].itertuples():
        findings.append((r.bs, r.first, f"cleartext management protocol {r.protocol}: {r.src} -> "
                         f"{r.dst}:{r.dst_port}"))
    # a base station pushing files to its EMS is normal; opening a session elsewhere is not
    opened = oam[(oam.initiator == 1) & oam.service_name.isin(OPENED_BY_BS_SUSPICIOUS) &
                 (oam.peer_role_name == "unknown")]
    for r in opened.itertuples():
        findings.append((r.bs, r.first, f"base station opened {r.service_name} itself: {r.src} -> "
                         f"{r.dst}:{r.dst_port} ({r.peer_role_name})"))
    # NETCONF is SSH on 830: nDPI's "non standard port" risk says nothing there
    risky = bs[(bs.risk != 0) & ~((bs.service_name == "NETCONF") &
                                  (bs.risks == "Known Protocol on Non Standard Port"))]
    for r in risky.itertuples():
        findings.append((r.bs, r.first, f"nDPI risk {r.risks}: {r.src}:{r.src_port} -> "
                         f"{r.dst}:{r.dst_port} {r.protocol}"))
    inner_mgmt = bs[(bs.kind_name == "inner") & bs.service_name.isin(MANAGEMENT_SERVICES - {"HTTPS", "HTTP"})]
    for r in inner_mgmt.itertuples():
        findings.append((r.bs, r.first, f"management protocol inside GTP-U: {r.src} -> "
                         f"{r.dst}:{r.dst_port} {r.protocol}"))

    print(f"\nworth a look ({len(findings)}; inventory rules, not the learned baseline)")
    seen = set()
    for station, when, text in sorted(findings, key=lambda x: (x[0], x[1])):
        key = (station, text.split(":")[0], text.split(" ")[-1])
        if key in seen:
            continue  # one line per base station, kind and peer
        seen.add(key)
        print(f"  {station:<10} {when:%m-%d %H:%M}  {text}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
