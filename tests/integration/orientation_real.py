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

IKE (nDPI's IPsec captures: IKEv2 on 500 <-> 500, and on 4500 behind NAT): tshark's reading
of each IKE_SA_INIT / IKE_AUTH header (flags Initiator and Response) gives the initiator of
each UDP conversation; the full capture, its cuts and the responders' packets alone must
name that side as opener wherever they name one from the packets (orient 1), and the
500 <-> 500 exchange, which no port can orient, is named from the packets.

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


def flows_file(mw, pcap, out):
    r = run([mw, "analyze", "-q", "-o", out, pcap], timeout=300)
    assert r.returncode == 0, f"{pcap}: {r.stderr}"
    return out


def flows(mw, pcap, out):
    df = mw_flows.load(flows_file(mw, pcap, out))
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


IKE_CAPTURES = ["ndpi/esp.pcapng", "ndpi/ipsec_isakmp_esp.pcap"]


def ike_truth(path):
    """{(frozenset of the two endpoints): initiator endpoint} from tshark's IKE headers."""
    out = subprocess.run(["tshark", "-r", path, "-Y", "isakmp.exchangetype == 34 || isakmp.exchangetype == 35", "-T",
                          "fields", "-e", "ip.src", "-e", "udp.srcport", "-e", "ip.dst", "-e",
                          "udp.dstport", "-e", "isakmp.flag_i", "-e", "isakmp.flag_r"],
                         capture_output=True, text=True, check=True).stdout
    truth = {}
    for line in out.splitlines():
        src, sport, dst, dport, i, r = line.split("\t")[:6]
        a, b = (src, int(sport)), (dst, int(dport))
        truth[frozenset([a, b])] = a if (i, r) == ("1", "0") else b
    return truth


def check_ike(fails, name, df, truth):
    """Records of IKE conversations that name an opener (from the packets or a listening
    port) name the right one; returns how many did from the packets."""
    checked = 0
    for r in df[df.l4_proto == 17].itertuples():
        k = frozenset([(r.src, r.src_port), (r.dst, r.dst_port)])
        if k not in truth or r.orient == 0:
            continue
        checked += r.orient == 1
        fails.check((r.src, r.src_port) == truth[k],
                    f"{name}: IKE {r.src}:{r.src_port} -> {r.dst}:{r.dst_port} named as "
                    f"opener; the IKE headers say {truth[k]}")
    return checked


def frames(pcap):
    out = subprocess.run(["capinfos", "-c", "-M", pcap], capture_output=True, text=True).stdout
    return int(out.split("Number of packets:")[1].split()[0])


def random_cuts(path, tmp, rnd):
    """CUTS copies of path that begin at a random frame: (that frame, the copy's path)."""
    n = frames(path)
    for i in range(CUTS):
        first = rnd.randrange(2, max(3, n))
        cut = os.path.join(tmp, f"cut{i}.pcap")
        subprocess.run(["editcap", "-F", "pcap", "-r", path, cut, f"{first}-{n}"],
                       check=True, capture_output=True)
        yield first, cut


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
            for first, cut in random_cuts(path, tmp, rnd):
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
        ike = 0
        for rel in IKE_CAPTURES:
            path = os.path.join(caps, rel)
            truth = ike_truth(path)
            full = mw_flows.load(flows_file(mw, path, os.path.join(tmp, "ike.h5")))
            n_full = check_ike(fails, rel, full, truth)
            fails.check(n_full > 0, f"{rel}: no IKE record named from its headers")
            both_500 = full[(full.src_port == 500) & (full.dst_port == 500)]
            fails.check(all(both_500.orient == 1),
                        f"{rel}: 500 <-> 500 not named from the headers: {list(both_500.orient)}")
            ike += n_full
            for first, cut in random_cuts(path, tmp, rnd):
                ike += check_ike(fails, f"{rel} cut at {first}", mw_flows.load(
                    flows_file(mw, cut, os.path.join(tmp, "ike-c.h5"))), truth)
            one = os.path.join(tmp, "ike-oneway.pcap")
            flt = " || ".join(f"(ip.src=={b[0]} && udp.srcport=={b[1]})"
                              for k, a in truth.items() for b in k if b != a)
            subprocess.run(["tshark", "-r", path, "-Y", flt, "-w", one, "-F", "pcap"],
                           check=True, capture_output=True)
            m = check_ike(fails, f"{rel} responders only",
                          mw_flows.load(flows_file(mw, one, os.path.join(tmp, "ike-o.h5"))), truth)
            fails.check(m > 0, f"{rel} responders only: no IKE record named from its headers")
            ike += m
    return fails.finish(f"{total} records of cut and one-way copies of {len(CAPTURES)} real "
                        f"captures name the opener the handshake names; {assoc} S1AP/NGAP "
                        "records picked up mid-association name the eNB/gNB as opener; "
                        f"{ike} IKE records (full, cut, responders only) name the initiator "
                        "the IKE headers name")


if __name__ == "__main__":
    sys.exit(main())
