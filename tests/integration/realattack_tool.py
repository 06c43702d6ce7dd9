#!/usr/bin/python3
"""scripts/mw_realattack.py, the tool (not detection quality): puts ndpi/icmp-tunnel.pcap
onto gnb-002 of a generated clean day and checks that the merged capture is readable by
mastwatch, the station's address and the new outside peer appear in its flows with every
packet of the tunnel, inside the truth's window, and that the truth names the right
station and peer in mw-scengen's shape. Also: a missing captures folder is a clean SKIP,
the rewritten packets have good checksums (tshark), and the one-way halves of a day add
up to the day. Skips (77) when ../shared/captures is absent.

usage: realattack_tool.py MASTWATCH MW_SCENGEN SHARED_DIR
"""
import ipaddress
import json
import os
import sys
import tempfile

from mwtest import SKIP, Failures, check_h5, mw_flows, run, shared_captures

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "..", "..", "scripts", "mw_realattack.py")
PY = "/usr/bin/python3"
BS, BS_ADDR = "gnb-002", "10.10.1.12"
OUTSIDE = [ipaddress.ip_network("198.51.100.0/24"), ipaddress.ip_network("203.0.113.0/24")]


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    mastwatch, scengen, shared = sys.argv[1:]
    caps = shared_captures(shared)
    fails = Failures()
    with tempfile.TemporaryDirectory(prefix="mw-realattack-") as w:
        P = lambda n: os.path.join(w, n)  # noqa: E731
        p = run([scengen, "-q", "-o", P("day.pcap"), "--seed", "4242", "--start",
                 "2026-11-09T00:00:00Z", "--days", "1", "--base-stations", "4",
                 "--inventory", P("site.yaml"), "--truth", P("ref.truth.json"),
                 "--inject", "new_peer:bs=enb-001"])
        if p.returncode != 0:
            print("FAIL: mw-scengen:", p.stderr)
            return 1
        # a day without the injection, to merge into
        run([scengen, "-q", "-o", P("clean.pcap"), "--seed", "4242", "--start",
             "2026-11-09T00:00:00Z", "--days", "1", "--base-stations", "4"])

        # a missing captures folder: SKIP, with a message, no output
        p = run([PY, TOOL, "inject", "-b", "icmp_tunnel", "--day", P("clean.pcap"),
                 "--inventory", P("site.yaml"), "-o", P("none.pcap"), "--truth", P("none.json"),
                 "--captures", P("no-such-dir")])
        fails.check(p.returncode == SKIP and "SKIP" in p.stderr
                    and not os.path.exists(P("none.pcap")),
                    f"absent captures: exit {p.returncode}, stderr {p.stderr.strip()!r}")

        p = run([PY, TOOL, "inject", "-b", "icmp_tunnel", "--bs", BS, "--seed", "7",
                 "--day", P("clean.pcap"), "--inventory", P("site.yaml"), "-o", P("inj.pcap"),
                 "--truth", P("inj.truth.json"), "--attack-only", P("alone.pcap"),
                 "--captures", caps])
        if p.returncode != 0:
            print("FAIL: mw_realattack.py inject:", p.stderr)
            return 1
        print(p.stderr.strip())

        # the truth: mw-scengen's shape, the right station and an outside peer
        with open(P("ref.truth.json")) as f:
            ref = json.load(f)[0]
        with open(P("inj.truth.json")) as f:
            truth = json.load(f)
        fails.check(isinstance(truth, list) and len(truth) == 1, f"truth: {truth!r:.200}")
        t = truth[0]
        fails.check(set(ref) <= set(t), f"truth lacks scengen's keys {set(ref) - set(t)}")
        fails.check(set(ref["params"]) <= set(t["params"]),
                    f"truth params lack {set(ref['params']) - set(t['params'])}")
        fails.check(set(ref["flows"][0]) <= set(t["flows"][0]),
                    f"truth flows lack {set(ref['flows'][0]) - set(t['flows'][0])}")
        fails.check(t["type"] == "icmp_tunnel" and t["base_station"] == BS,
                    f"truth names {t['type']} on {t['base_station']}")
        peer = t["params"]["peer"]
        fails.check(any(ipaddress.ip_address(peer) in n for n in OUTSIDE) and t["peers"] == [peer],
                    f"peer {peer} / peers {t['peers']} not one outside address")
        fails.check(t["address_map"] == {"192.168.154.131": BS_ADDR, "192.168.154.132": peer},
                    f"address map {t['address_map']}")
        ends = {(f["src"], f["dst"]) for f in t["flows"]}
        fails.check(ends == {(BS_ADDR, peer)}, f"truth flows between {ends}")
        fails.check(t["end"] - t["start"] >= 1100 and 1794182400 <= t["start"] < t["end"]
                    <= 1794182400 + 86400, f"window {t['start_iso']}..{t['end_iso']}")
        n_attack = sum(f["packets"] for f in t["flows"])
        fails.check(n_attack == 863, f"{n_attack} tunnel packets in the truth, 863 in the capture")

        # the rewritten packets: checksums good, nothing malformed
        p = run(["tshark", "-r", P("alone.pcap"), "-o", "ip.check_checksum:TRUE",
                 "-Y", "ip.checksum.status==0 or icmp.checksum.status==0 or _ws.malformed"])
        fails.check(p.returncode == 0 and not p.stdout.strip(),
                    f"tshark: bad packets: {p.stdout[:300]}{p.stderr[:200]}")

        # mastwatch reads the merged day; the tunnel is a flow between the station and peer
        p = run([mastwatch, "analyze", "-q", "--inventory", P("site.yaml"), "-o", P("inj.h5"),
                 P("inj.pcap")])
        fails.check(p.returncode == 0, f"mastwatch analyze: exit {p.returncode}: {p.stderr}")
        if p.returncode == 0:
            attrs = check_h5(P("inj.h5"))
            fails.check(int(attrs.get("complete", 1)) == 1, "results file not complete")
            df = mw_flows.load(P("inj.h5"))
            fails.check((df.src == BS_ADDR).any() or (df.dst == BS_ADDR).any(),
                        f"{BS_ADDR} not in the flows")
            tun = df[((df.src == BS_ADDR) & (df.dst == peer))
                     | ((df.src == peer) & (df.dst == BS_ADDR))]
            fails.check(len(tun) >= 1 and set(tun.l4_proto) == {1},
                        f"flows between {BS_ADDR} and {peer}: {len(tun)}, l4 {set(tun.l4_proto)}")
            npk = int(tun.c2s_packets.sum() + tun.s2c_packets.sum())
            fails.check(npk == n_attack,
                        f"{npk} packets in mastwatch's tunnel flows, {n_attack} injected")
            if len(tun):
                fails.check(tun.first_us.min() >= t["start"] * 1e6
                            and tun.last_us.max() <= t["end"] * 1e6,
                            "tunnel flows outside the truth window")
                if "bs" in tun:
                    fails.check(set(tun.bs) == {BS}, f"tunnel flows on stations {set(tun.bs)}")

        # one-way halves add up to the day
        counts = []
        for keep in ("from-bs", "to-bs"):
            p = run([PY, TOOL, "oneway", "--inventory", P("site.yaml"), "--keep", keep,
                     P("clean.pcap"), P(keep + ".pcap")])
            fails.check(p.returncode == 0, f"oneway {keep}: {p.stderr}")
            counts.append(int(p.stderr.split()[0]) if p.returncode == 0 else -1)
            total = int(p.stderr.split()[2]) if p.returncode == 0 else -2
        fails.check(counts[0] > 0 and counts[1] > 0 and sum(counts) == total,
                    f"one-way halves {counts} of {total} frames")
    return fails.finish("mw_realattack.py: icmp_tunnel on gnb-002 readable, right station and peer")


if __name__ == "__main__":
    sys.exit(main())
