#!/usr/bin/python3
"""check_ndpi.py - test (b): ndpiReader classifies the generated flows as intended.

Runs `ndpiReader -i FILE -v 2 -q` and checks every per-flow line whose server port
(or address) is one of the OAM/control services below against the nDPI protocol
it must carry. Flows that nDPI cannot classify by design (PTP, SCTP, FTP data,
the injected "unknown_proto") are allowed to be Unknown. Exit 1 on any mismatch
or if an expected protocol never appears.
usage: check_ndpi.py FILE REQUIRED_PROTO...
"""
import re
import subprocess
import sys

# server port -> nDPI protocol names accepted for flows on it
EXPECT = {
    22: {"SSH"}, 830: {"SSH"}, 161: {"SNMP"}, 514: {"Syslog"}, 123: {"NTP"},
    53: {"DNS"}, 443: {"TLS", "GTP.GTP_U"}, 8443: {"TLS"}, 5223: {"TLS"},
    21: {"FTP_CONTROL"}, 23: {"Telnet"}, 2152: {"GTP.GTP_U"}, 2123: {"GTP.GTP_C"},
}
# peers whose flows may legitimately differ: GTPDOOR echo requests with bytes after the
# declared GTP length fail nDPI's GTP-C length check and fall back to "GTP" by port.
PEER_EXPECT = {"198.51.100.99": {"GTP.GTP_C", "GTP"}}
FLOW = re.compile(r"^\s*\d+\s+(TCP|UDP|SCTP|\S+)\s+\[?([\d.a-f:]+?)\]?:(\d+)\s+<?->\s+"
                  r"\[?([\d.a-f:]+?)\]?:(\d+)\s+"
                  r"\[proto: [\d.]+/([^\]]+)\]")


def main():
    path, required = sys.argv[1], set(sys.argv[2:])
    out = subprocess.run(["ndpiReader", "-i", path, "-v", "2", "-q"], capture_output=True,
                         text=True, timeout=600).stdout
    seen, bad, nflows = {}, [], 0
    for line in out.splitlines():
        m = FLOW.match(line)
        if not m:
            continue
        nflows += 1
        l4, sp, dp, proto = m.group(1), int(m.group(3)), int(m.group(5)), m.group(6)
        seen[proto] = seen.get(proto, 0) + 1
        port = dp if dp in EXPECT else (sp if sp in EXPECT else None)
        if port is None:
            continue
        ok = EXPECT[port] | PEER_EXPECT.get(m.group(2), set()) | PEER_EXPECT.get(m.group(4), set())
        if proto not in ok:
            bad.append(f"{l4} port {port}: got {proto}: {line.strip()[:160]}")
    print(f"{path}: {nflows} flows; " + ", ".join(f"{k}={v}" for k, v in sorted(seen.items())))
    for b in bad[:20]:
        print("FAIL", b)
    missing = sorted(p for p in required if p not in seen)
    for p in missing:
        print("FAIL protocol never classified:", p)
    sys.exit(1 if bad or missing or nflows == 0 else 0)


if __name__ == "__main__":
    main()
