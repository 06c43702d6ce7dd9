#!/usr/bin/python3
"""Who opened a flow, on real captures as a capture point sees them.

For real third-party captures whose sessions open on the wire (SSH, FTP, Telnet, SSH
guessing, open5gs S1AP/NGAP/Diameter over SCTP), the full capture gives the truth: the
sender of each TCP SYN / SCTP INIT. Then each capture is
  - cut at random frames (the capture begins mid-session: no handshake for open flows), and
  - reduced to the responders' packets only (a one-way SPAN port: only SYN-ACKs/INIT-ACKs
    and answers),
and every flow of those copies that belongs to a truth session must name the same opener
(src), whatever told it (the SYN-ACK, the listening port, the port ranges). The copies'
records must not claim a start they did not see (start_seen only with a handshake).

usage: orientation_real.py MASTWATCH SHARED_DIR
"""
import os
import random
import subprocess
import sys
import tempfile

from mwtest import Failures, mw_flows, run, shared_captures

CAPTURES = ["ndpi/ssh.pcap", "zeek/ssh/single-conn.pcap", "zeek/ssh/sshguess.pcap",
            "ndpi/ftp.pcap", "ndpi/telnet.pcap", "zeek/ftp/bruteforce.pcap",
            "open5gs/5g-roaming-lbo.pcapng", "open5gs/srsenb.pcapng"]
# open5gs runs captured after their S1/NG associations came up: no INIT on the wire
MID_ASSOCIATION = ["open5gs/testattach.pcapng", "open5gs/testregistration.pcapng",
                   "open5gs/testepc.pcapng", "open5gs/srsenb.pcapng"]
CUTS = 5


def flows(mw, pcap, out):
    r = run([mw, "analyze", "-q", "-o", out, pcap], timeout=300)
    assert r.returncode == 0, f"{pcap}: {r.stderr}"
    df = mw_flows.load(out)
    return df[df.l4_proto.isin([6, 132])]


def key(row):
    return (row.l4_proto, frozenset([(row.src, row.src_port), (row.dst, row.dst_port)]))


def truth_of(df):
    """Opener of each session whose handshake the full capture shows."""
    return {key(r): (r.src, r.src_port) for r in df.itertuples() if r.orient == 1}


def responders_only(src, dst, truth):
    clauses = []
    # the responder of each session: the endpoint that is not the opener
    for (l4, ends), opener in truth.items():
        (raddr, rport), = [e for e in ends if e != opener] or [opener]
        ip = "ipv6.src" if ":" in raddr else "ip.src"
        proto = "tcp" if l4 == 6 else "sctp"
        clauses.append(f"({ip}=={raddr} && {proto}.srcport=={rport})")
    flt = " || ".join(clauses[:400])  # a display filter has no practical size limit below that
    subprocess.run(["tshark", "-r", src, "-Y", flt, "-w", dst, "-F", "pcap"], check=True,
                   capture_output=True)


def frames(pcap):
    out = subprocess.run(["capinfos", "-c", "-M", pcap], capture_output=True, text=True).stdout
    return int(out.split("Number of packets:")[1].split()[0])


def check_copy(fails, name, df, truth):
    matched = wrong = claimed = 0
    for r in df.itertuples():
        k = key(r)
        if k not in truth:
            continue
        matched += 1
        if (r.src, r.src_port) != truth[k]:
            wrong += 1
            fails.check(False, f"{name}: {r.src}:{r.src_port} -> {r.dst}:{r.dst_port} named as "
                        f"opener (orient {r.orient}); the handshake says {truth[k]}")
        if r.start_seen and r.orient != 1:
            claimed += 1
    fails.check(claimed == 0, f"{name}: {claimed} records claim a start without a handshake")
    return matched, wrong


def main():
    mw, caps = sys.argv[1], shared_captures(sys.argv[2])
    fails = Failures()
    rnd = random.Random(11)
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for rel in CAPTURES:
            path = os.path.join(caps, rel)
            if not os.path.exists(path):
                continue
            full = flows(mw, path, os.path.join(tmp, "full.h5"))
            truth = truth_of(full)
            fails.check(truth, f"{rel}: no handshake seen in the full capture")
            n = frames(path)
            for i in range(CUTS):
                first = rnd.randrange(2, max(3, n))
                cut = os.path.join(tmp, f"cut{i}.pcap")
                subprocess.run(["editcap", "-F", "pcap", "-r", path, cut, f"{first}-{n}"],
                               check=True, capture_output=True)
                m, _ = check_copy(fails, f"{rel} cut at {first}", flows(mw, cut,
                                  os.path.join(tmp, "c.h5")), truth)
                total += m
            one = os.path.join(tmp, "oneway.pcap")
            responders_only(path, one, truth)
            m, _ = check_copy(fails, f"{rel} responders only",
                              flows(mw, one, os.path.join(tmp, "o.h5")), truth)
            fails.check(m > 0, f"{rel} responders only: no session left to check")
            total += m
        # associations already up: the listening S1AP/NGAP port names the MME/AMF side
        assoc = 0
        for rel in MID_ASSOCIATION:
            path = os.path.join(caps, rel)
            if not os.path.exists(path):
                continue
            df = flows(mw, path, os.path.join(tmp, "m.h5"))
            sig = df[(df.l4_proto == 132) & (df.sctp_ppid.isin([18, 60]))]
            for r in sig.itertuples():
                assoc += 1
                fails.check(r.dst_port in (36412, 38412) and r.orient == 2 and not r.start_seen,
                            f"{rel}: S1AP/NGAP {r.src}:{r.src_port} -> {r.dst}:{r.dst_port} "
                            f"(orient {r.orient}, start_seen {r.start_seen})")
        fails.check(assoc > 0, "no S1AP/NGAP association in the mid-association captures")
    return fails.finish(f"{total} records of cut and one-way copies of {len(CAPTURES)} real "
                        f"captures name the opener the handshake names; {assoc} S1AP/NGAP "
                        "records picked up mid-association name the eNB/gNB as opener")


if __name__ == "__main__":
    sys.exit(main())
