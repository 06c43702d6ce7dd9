#!/usr/bin/python3
"""Load a mastwatch results file into pandas with readable columns.

    import sys; sys.path.insert(0, "scripts"); import mw_flows
    df = mw_flows.load("out.h5")          # one row per flow record

or from a shell:  /usr/bin/python3 scripts/mw_flows.py out.h5 [--csv]

Adds: src/dst (text addresses), master/app/protocol (nDPI names),
category_name, kind_name, end_reason_name, first/last (UTC timestamps),
risks (comma-separated names), host (str), service_name, plane_name,
local_role_name/peer_role_name, orient_name (how the opener was decided) and bs
(base-station id from the inventory). Needs Debian's python3-h5py and python3-pandas.
"""
import ipaddress
import sys

import h5py
import numpy as np
import pandas as pd


def _names(f, table):
    if "meta/" + table not in f:
        return {}
    rows = f["meta/" + table][:]
    return {int(r["id"]): r["name"].decode() for r in rows}


def _addr(hi, lo):
    raw = int(hi).to_bytes(8, "big") + int(lo).to_bytes(8, "big")
    a = ipaddress.IPv6Address(raw)
    return str(a.ipv4_mapped) if a.ipv4_mapped else str(a)


def protocol_name(master, app, names):
    """The label as nDPI's reader prints it: MASTER.APP, or APP alone."""
    m, a = names.get(int(master), "Unknown"), names.get(int(app), "Unknown")
    if master and app and master != app:
        return f"{m}.{a}"
    if app:
        return a
    if master:
        return m
    return "Unknown"


def risk_names(bitmap, names):
    bitmap = int(bitmap)
    return ",".join(names.get(i, str(i)) for i in range(64) if bitmap >> i & 1)


def counters(path):
    with h5py.File(path, "r") as f:
        return {r["name"].decode(): int(r["value"]) for r in f["stats/counters"][:]}


def load(path, raw=False):
    with h5py.File(path, "r") as f:
        df = pd.DataFrame(f["flows"][:])
        if raw:
            return df
        protos = _names(f, "protocols")
        cats = _names(f, "categories")
        risks = _names(f, "risks")
        kinds = _names(f, "flow_kinds")
        ends = _names(f, "end_reasons")
        planes = _names(f, "planes")
        roles = _names(f, "roles")
        services = _names(f, "services")
        stations = _names(f, "base_stations")
        orients = _names(f, "orientations")
    df["src"] = [_addr(h, l) for h, l in zip(df.src_hi, df.src_lo)]
    df["dst"] = [_addr(h, l) for h, l in zip(df.dst_hi, df.dst_lo)]
    df["master"] = df.master_proto.map(lambda i: protos.get(int(i), str(i)))
    df["app"] = df.app_proto.map(lambda i: protos.get(int(i), str(i)))
    df["protocol"] = [protocol_name(m, a, protos) for m, a in zip(df.master_proto, df.app_proto)]
    df["category_name"] = df.category.map(lambda i: cats.get(int(i), str(i)))
    df["kind_name"] = df.kind.map(lambda i: kinds.get(int(i), str(i)))
    df["end_reason_name"] = df.end_reason.map(lambda i: ends.get(int(i), str(i)))
    df["risks"] = df.risk.map(lambda b: risk_names(b, risks))
    df["host"] = df.host.map(lambda b: b.decode(errors="replace"))
    df["first"] = pd.to_datetime(df.first_us, unit="us", utc=True)
    df["last"] = pd.to_datetime(df.last_us, unit="us", utc=True)
    if planes:
        df["plane_name"] = df.plane.map(lambda i: planes.get(int(i), str(i)))
    if services:
        df["service_name"] = df.service.map(lambda i: services.get(int(i), str(i)))
    if stations:
        df["bs"] = df.bs_index.map(lambda i: stations.get(int(i), str(i)))
    if roles:
        df["local_role_name"] = df.local_role.map(lambda i: roles.get(int(i), str(i)))
        df["peer_role_name"] = df.peer_role.map(lambda i: roles.get(int(i), str(i)))
    if orients and "orient" in df:
        df["orient_name"] = df.orient.map(lambda i: orients.get(int(i), str(i)))
    return df


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    df = load(argv[1])
    cols = ["flow_id", "kind_name", "src", "src_port", "dst", "dst_port", "l4_proto", "protocol",
            "c2s_packets", "s2c_packets", "c2s_bytes", "s2c_bytes", "host"]
    cols += [c for c in ("bs", "service_name", "plane_name", "local_role_name", "peer_role_name")
             if c in df]
    if "--csv" in argv:
        df.to_csv(sys.stdout, index=False)
    else:
        with pd.option_context("display.max_rows", 200, "display.width", 200):
            print(df[cols].to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
