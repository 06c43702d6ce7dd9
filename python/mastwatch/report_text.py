"""A readable report of one mastwatch results file.

    /usr/bin/python3 scripts/mw_report.py results/incident-day.h5
    PYTHONPATH=python /usr/bin/python3 -m mastwatch.report_text results/incident-day.h5

Per base station: flows and bytes by plane. Then the anomalies the learned
baseline raised (`analyze --model`), most severe first, each with its
explanation, and which base stations were scored at all (a run that scored
nothing says so and exits 1: it is not an all-clear). A run without a
model gets "worth a look" instead: flows the
site inventory alone already questions (traffic on no known plane, a
management peer outside the inventory, cleartext management protocols, a
base station opening sessions itself, nDPI risks) - fixed rules only.
Exit status: 0 nothing flagged, 1 something flagged, 2 unreadable file.
"""
import sys

import h5py

from . import cli, results
from . import flows as mw_flows

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


site_zone = results.site_zone


def print_coverage(f, names):
    """Which stations were scored: a run that scored nothing is not an all-clear."""
    import pandas as pd
    cov = pd.DataFrame(f["coverage"][:])
    status = ["unattributed", "scored", "scored by role group", "still learning",
              "NOT scored", "no traffic"]
    print("\ncoverage (capture health per base station)")
    for r in cov[cov.bs_index > 0].itertuples():
        print(f"  {names['base_stations'].get(int(r.bs_index), '?'):<10} "
              f"{status[int(r.status)] if int(r.status) < len(status) else '?':<20} "
              f"{int(r.flows):>7} flows, {int(r.mid_session)} without their opening, "
              f"{int(r.one_way)} one-way, {int(r.silent_hours)} silent hours")
    row0 = cov[cov.bs_index == 0]
    if len(row0):
        print(f"  {int(row0.flows.iloc[0])} flow records of no base station")
    c = {r["name"].decode(): int(r["value"]) for r in f["stats/counters"][:]}
    malformed = sum(v for k, v in c.items() if k.startswith("skipped."))
    print(f"  capture: {c.get('kernel_dropped', 0)} packets dropped by the kernel, "
          f"{c.get('interface_dropped', 0)} by the interface, {malformed} not decodable, "
          f"{'complete' if f.attrs.get('complete', 1) else 'INCOMPLETE (a file was cut or the run stopped)'}")
    delivered = {k[6:]: v for k, v in c.items() if k.startswith("encap.") and v}
    if delivered:
        print("  delivered in: " + ", ".join(f"{k} {v}" for k, v in delivered.items()) +
              " (analyzed as the frames they carry; kept_station: a base station's own tunnel)")
    shed = {k[5:]: v for k, v in c.items() if k.startswith("shed.") and v}
    if c.get("flows_evicted") or shed:
        print(f"  memory cap {c.get('memcap_bytes', 0) >> 20} MB shed: "
              f"{c.get('flows_evicted', 0)} flows evicted"
              + "".join(f", {v} {k}" for k, v in shed.items()))
    return int(cov.status.isin([1, 2, 3]).sum())


def print_anomalies(f, attrs):
    """The baseline's anomalies, grouped by base station, most severe first."""
    import pandas as pd
    an = pd.DataFrame(f["anomalies"][:])
    names = {t: {int(r["id"]): r["name"].decode() for r in f["meta/" + t][:]}
             for t in ("detectors", "severities", "base_stations")}
    scored = print_coverage(f, names) if "coverage" in f else None
    tz = site_zone(f)
    print(f"\nanomalies against model {attrs.get('model', '?')}: {len(an)}")
    if an.empty:
        if scored == 0:
            print("  NOTHING WAS SCORED: no base station had traffic the model knows - "
                  "this is not an all-clear")
            return 1
        print(f"  none: the {scored if scored is not None else 'scored'} base stations stayed "
              "within their learned baseline")
        return 0
    an["bs"] = an.bs_index.map(lambda i: names["base_stations"].get(int(i), "?"))
    an["when"] = pd.to_datetime(an.start_us, unit="us", utc=True).dt.tz_convert(tz)
    if "incident_id" not in an:
        an["incident_id"] = an.anomaly_id
    counts = an.severity.map(lambda s: names["severities"][int(s)]).value_counts()
    incidents = an.groupby("incident_id")
    print(f"  {incidents.ngroups} incidents; findings: "
          + ", ".join(f"{n} {k}" for k, n in counts.items()) + f" (times in {tz})")
    # most severe incident first, then the earliest
    order = sorted(incidents, key=lambda g: (-g[1].score.max(), g[1].start_us.min()))
    for n, (_, g) in enumerate(order, 1):
        first = g.sort_values("start_us").iloc[0]
        peer = results.addr(int(first.peer_hi), int(first.peer_lo))
        sev = names["severities"][int(g.severity.max())]
        print(f"\n  incident {n}: {sev} (score {g.score.max():.1f}) {first.bs} with {peer}, "
              f"{g.when.min():%Y-%m-%d %H:%M %Z} .. "
              f"{pd.to_datetime(g.end_us.max(), unit='us', utc=True).tz_convert(tz):%H:%M}")
        for r in g.sort_values(["severity", "start_us"], ascending=[False, True]).itertuples():
            print(f"    {names['detectors'][int(r.detector)]:<11} {r.explanation.decode()}")
        print(f"    evidence: frames from {int(first.first_flow_id) // 2}; wireshark: "
              f"{first.wireshark.decode()}; community id {first.community_id.decode()}")
    return 1


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with h5py.File(argv[1], "r") as f:
            attrs = dict(f.attrs)
        df = mw_flows.load(argv[1])
    except (OSError, KeyError) as e:
        hint = (" (a run's partial file: complete it with `mastwatch recover "
                f"{argv[1]}` first)" if argv[1].endswith(".partial") else "")
        print(f"mw_report: {argv[1]}: {e}{hint}", file=sys.stderr)
        return 2
    c = mw_flows.counters(argv[1])
    print(f"site {attrs.get('site', '?')} - {attrs.get('sources', '')}")
    if len(df):
        print(f"{df['first'].min():%Y-%m-%d %H:%M} .. {df['last'].max():%Y-%m-%d %H:%M} UTC, "
              f"{c['packets']} packets, {len(df)} flow records, nDPI {attrs['ndpi_version']}")
    if "bs" not in df or not (df.bs_index > 0).any():
        with h5py.File(argv[1], "r") as f:
            if "anomalies" in f:  # a model run whose stations had no traffic: say so
                return print_anomalies(f, attrs)
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

    with h5py.File(argv[1], "r") as f:
        if "anomalies" in f:
            return print_anomalies(f, attrs)

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
    cli.run(main)
