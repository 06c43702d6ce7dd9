#!/usr/bin/python3
"""What a user sees: --help, --version, the summary, progress only on a
terminal, --quiet, the researcher's one-liner, GTP-U tunnel <-> inner links,
and planes from an inventory.

usage: cli.py MASTWATCH SHARED_DIR
"""
import os
import sys
import tempfile

import h5py
import pandas as pd

from mwtest import Failures, mw_flows, run, shared_captures


def main():
    mw, caps = sys.argv[1], shared_captures(sys.argv[2])
    fails = Failures()
    tmp = tempfile.mkdtemp()
    out = os.path.join(tmp, "o.h5")

    r = run([mw, "--help"])
    fails.check(r.returncode == 0 and "analyze" in r.stdout and "capture" in r.stdout, "--help")
    r = run([mw, "analyze", "--help"])
    fails.check(r.returncode == 0 and "--threads" in r.stdout and "-Z" not in r.stdout,
                "analyze --help")
    r = run([mw, "capture", "--help"])
    fails.check(r.returncode == 0 and "-Z, --user" in r.stdout, "capture --help")
    r = run([mw, "--version"])
    fails.check(r.returncode == 0 and "nDPI 4" in r.stdout and "libpcap" in r.stdout, "--version")

    gtp = os.path.join(caps, "zeek", "tunnels", "gtp", "gtp7_ipv6.pcap")
    r = run([mw, "analyze", "-o", out, gtp])
    fails.check(r.returncode == 0 and "packets" in r.stderr and "flows" in r.stderr and
                "\r" not in r.stderr, f"summary / no progress off a terminal: {r.stderr!r}")
    r = run([mw, "analyze", "-q", "-o", out, gtp])
    fails.check(r.stderr == "" and r.stdout == "", "--quiet prints nothing")

    # the researcher's one-liner works on the raw file
    df = pd.DataFrame(h5py.File(out)["flows"][:])
    fails.check(len(df) == 3 and "app_proto" in df, f"one-liner: {df.shape}")

    # tunnel <-> inner links
    df = mw_flows.load(out)
    tunnels, inner = df[df.kind_name == "tunnel"], df[df.kind_name == "inner"]
    fails.check(len(tunnels) == 1 and len(inner) == 2, "gtp7: 1 tunnel + 2 inner flows")
    fails.check(set(inner.tunnel_flow_id) == set(tunnels.flow_id), "inner -> tunnel link")
    fails.check(set(inner.protocol) == {"LLMNR", "ICMPV6"} and tunnels.protocol.iloc[0] ==
                "GTP.GTP_U", f"labels: {set(inner.protocol)}")
    fails.check(all(inner.plane_name == "user") and tunnels.plane_name.iloc[0] == "user",
                "GTP-U flows are user plane")

    # planes from an inventory written for a real S1AP capture
    inv = os.path.join(tmp, "site.yaml")
    with open(inv, "w") as f:
        f.write("site: lab\nbase_stations:\n  - id: enb-1\n    type: enb\n    prefixes: [127.0.0.1/32]\n"
                "roles:\n  mme: [127.0.0.2/32]\n  sgw: [127.0.0.4/32]\n")
    s1 = os.path.join(caps, "open5gs", "testattach.pcapng")
    r = run([mw, "analyze", "-q", "--inventory", inv, "-o", out, s1])
    fails.check(r.returncode == 0, f"inventory run: {r.stderr}")
    df = mw_flows.load(out)
    s1ap = df[(df.l4_proto == 132) & (df.dst_port == 36412)]
    fails.check(len(s1ap) > 0 and set(s1ap.service_name) == {"S1AP"} and
                set(s1ap.plane_name) == {"control"} and set(s1ap.bs) == {"enb-1"} and
                set(s1ap.peer_role_name) == {"mme"} and set(s1ap.sctp_ppid) == {18},
                f"S1AP flows: {s1ap[['service_name', 'plane_name', 'bs', 'sctp_ppid']].drop_duplicates()}")
    with h5py.File(out) as f:
        fails.check("site: lab" in f["meta/inventory"][()].decode(), "inventory stored in file")
    return fails.finish("CLI, summary, tunnel links and planes as documented")


if __name__ == "__main__":
    sys.exit(main())
