#!/usr/bin/python3
"""FTP data connections are named from their control session (service FTP-data), on real
packets:

- a session written here (packet by packet, no ../shared needed): passive (227) and
  extended passive (229) transfers of the station, an active transfer the EMS makes from a
  port of its own (not 20) after PORT, and a third host connecting to an announced port,
  which is not the transfer, nor are the station's connections to a host or a service port
  a 227 names (the MME, the EMS's SSH); without their handshakes the transfers are still named, the
  right way round; with 1 and 3 threads the same records; the counters say
  what was announced; trained on a week of such sessions, the next day's transfers on
  ports of their own raise nothing;
- with ../shared/captures: nDPI's ftp.pcap and Zeek's ftp/ipv6.pcap (IPv4 PASV, IPv6 EPSV
  and EPRT): a record is FTP-data exactly when a port of it is one tshark reads from the
  control session (ftp.passive.port, ftp.epsv.port, ftp.active.port, ftp.eprt.port) and it
  is not the control connection; a copy of the server's side only (a one-way SPAN port,
  which still shows the replies) names them too.

usage: ftp_data.py MASTWATCH REPO_ROOT SHARED_DIR
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import h5py
import numpy as np

from mwtest import Failures, run

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "scripts"))
import mw_realattack as ra  # noqa: E402

STATION, EMS, OTHER = "10.10.1.11", "10.20.0.10", "198.51.100.9"
T0 = 1794304800  # 2026-11-10 10:00 UTC


def ipv4(a):
    return bytes(int(x) for x in a.split("."))


def checksum(b):
    s = sum(struct.unpack(f">{len(b) // 2}H", b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff


def tcp_frame(src, sport, dst, dport, flags, seq, ack, payload=b""):
    tcp = struct.pack(">HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, ipv4(src),
                     ipv4(dst))
    ip = ip[:10] + struct.pack(">H", checksum(ip)) + ip[12:]
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip + tcp


class Session:
    """A TCP connection's packets, both ways, with sequence numbers that add up."""

    def __init__(self, frames, t, client, cport, server, sport, handshake=True):
        self.f, self.t = frames, t
        self.c, self.cp, self.s, self.sp = client, cport, server, sport
        self.cseq, self.sseq = 1000, 5000
        if not handshake:  # begun before the capture
            return
        self.add(True, 0x02)
        self.cseq += 1
        self.add(False, 0x12)
        self.sseq += 1
        self.add(True, 0x10)

    def add(self, from_client, flags, payload=b""):
        self.t += 0.01
        if from_client:
            fr = tcp_frame(self.c, self.cp, self.s, self.sp, flags, self.cseq, self.sseq, payload)
            self.cseq += len(payload)
        else:
            fr = tcp_frame(self.s, self.sp, self.c, self.cp, flags, self.sseq, self.cseq, payload)
            self.sseq += len(payload)
        self.f.append((int(self.t * 1e9), fr, len(fr)))

    def say(self, from_client, text):
        self.add(from_client, 0x18, text.encode())

    def close(self):
        self.add(True, 0x11)
        self.add(False, 0x11)
        self.add(True, 0x10)


def written_session(path, days=1, base=0, handshake=True):
    """days of one FTP session a day; base moves the ports of the day; without handshake,
    the data connections are seen from their first data packet (the server's)."""
    frames = []
    for d in range(days):
        session_frames(frames, T0 + d * 86400, base + d * 10, handshake)
    frames.sort(key=lambda f: f[0])
    ra.write_pcap(path, frames)


def session_frames(frames, t0, shift, handshake=True):
    ctl = Session(frames, t0, STATION, 40000, EMS, 21)
    ctl.say(False, "220 EMS software depot\r\n")
    ctl.say(True, "USER ran\r\n")
    ctl.say(False, "331 Password required\r\n")
    ctl.say(True, "PASS secret\r\n")
    ctl.say(False, "230 Logged in\r\n")
    ctl.say(True, "PASV\r\n")
    ctl.say(False, f"227 Entering Passive Mode (10,20,0,10,195,{80 + shift}).\r\n")  # 50000
    data = Session(frames, ctl.t, STATION, 40001, EMS, 50000 + shift, handshake)
    data.say(False, "\x7fELF" + "x" * 1200)
    data.close()
    # a host that is not the control session's client, on the announced port
    other = Session(frames, data.t, OTHER, 40002, EMS, 50000 + shift)
    other.say(False, "y" * 700)
    other.close()
    ctl.t = other.t
    ctl.say(True, "EPSV\r\n")
    ctl.say(False, f"229 Entering Extended Passive Mode (|||{50001 + shift}|)\r\n")
    data = Session(frames, ctl.t, STATION, 40003, EMS, 50001 + shift, handshake)
    data.say(False, "z" * 900)
    data.close()
    ctl.t = data.t
    ctl.say(True, f"PORT 10,10,1,11,157,{shift}\r\n")  # 40192
    ctl.say(False, "200 PORT command successful\r\n")
    data = Session(frames, ctl.t, EMS, 55555, STATION, 40192 + shift, handshake)  # active
    data.say(True, "w" * 800)
    data.close()
    ctl.t = data.t
    ctl.say(True, "QUIT\r\n")
    ctl.close()


def records(path):
    with h5py.File(path, "r") as f:
        flows = f["flows"][:]
        names = {int(i): n.decode() for i, n in f["meta/services"][:]}
        counters = {n.decode(): int(v) for n, v in f["stats/counters"][:]}
    return flows, names, counters


def analyze(mw, root, pcap, out, extra=()):
    r = run([mw, "analyze", "-q", "-o", out, *extra, pcap], timeout=300)
    assert r.returncode == 0, r.stderr
    return records(out)


def ftp_data_ports(flows, names):
    """(src_port, dst_port) -> service name, for every record."""
    return {(int(x["src_port"]), int(x["dst_port"])): names[int(x["service"])] for x in flows}


def check_written(mw, root, tmp, fails):
    pcap = os.path.join(tmp, "ftp-written.pcap")
    written_session(pcap)
    inv = ["--inventory", os.path.join(root, "captures", "site.yaml")]
    flows, names, counters = analyze(mw, root, pcap, os.path.join(tmp, "w1.h5"), inv)
    got = ftp_data_ports(flows, names)
    want = {(40000, 21): "FTP", (40001, 50000): "FTP-data", (40003, 50001): "FTP-data",
            (55555, 40192): "FTP-data"}
    for k, v in want.items():
        fails.check(got.get(k) == v, f"written session: {k} is {got.get(k)}, want {v}")
    fails.check(got.get((40002, 50000)) not in (None, "FTP-data"),
                f"a third host on the announced port: {got.get((40002, 50000))}")
    fails.check(counters.get("ftp_data_announced") == 3 and counters.get("ftp_data_not_kept") == 0,
                f"counters: {counters.get('ftp_data_announced')} announced, "
                f"{counters.get('ftp_data_not_kept')} not kept")
    # lines naming other sessions: a 227 naming the MME, one naming the EMS's SSH port; the
    # station's connections there are what they are, not transfers
    odd = os.path.join(tmp, "ftp-odd.pcap")
    frames = []
    ctl = Session(frames, T0, STATION, 41000, EMS, 21)
    ctl.say(True, "PASV\r\n")
    ctl.say(False, "227 Entering Passive Mode (10,30,0,1,195,90).\r\n")  # MME, 50010
    other = Session(frames, ctl.t, STATION, 41001, "10.30.0.1", 50010)
    other.say(True, "SSH-2.0-OpenSSH_9.2\r\n")
    other.close()
    ctl.t = other.t
    ctl.say(True, "PASV\r\n")
    ctl.say(False, "227 Entering Passive Mode (10,20,0,10,0,22).\r\n")  # the EMS's SSH
    ssh = Session(frames, ctl.t, STATION, 41002, EMS, 22)
    ssh.say(True, "SSH-2.0-OpenSSH_9.2\r\n")
    ssh.close()
    frames.sort(key=lambda f: f[0])
    ra.write_pcap(odd, frames)
    flows_o, names_o, counters_o = analyze(mw, root, odd, os.path.join(tmp, "wo.h5"), inv)
    got = ftp_data_ports(flows_o, names_o)
    fails.check(got.get((41001, 50010)) != "FTP-data" and got.get((41002, 22)) == "SSH",
                f"connections a control session named elsewhere: {sorted(got.items())}")
    fails.check(counters_o.get("ftp_data_refused") == 1,
                f"the SSH port's announcement not refused: {counters_o.get('ftp_data_refused')}")
    # the data connections seen without their handshake, from a packet of the side that
    # did not connect: the announcement still says who listens
    nohs = os.path.join(tmp, "ftp-nohs.pcap")
    written_session(nohs, handshake=False)
    flows_n, names_n, _ = analyze(mw, root, nohs, os.path.join(tmp, "wn.h5"), inv)
    orients = {int(i): n.decode() for i, n in h5py.File(os.path.join(tmp, "wn.h5"), "r")
               ["meta/orientations"][:]}
    got = {(int(x["src_port"]), int(x["dst_port"])): (names_n[int(x["service"])],
                                                      orients[int(x["orient"])])
           for x in flows_n}
    for k in ((40001, 50000), (40003, 50001), (55555, 40192)):
        fails.check(got.get(k) == ("FTP-data", "port"),
                    f"no handshake: {k} missing or the other way round: {sorted(got.items())}")
    flows3, _, _ = analyze(mw, root, pcap, os.path.join(tmp, "w3.h5"), [*inv, "-t", "3"])
    fails.check(np.array_equal(np.sort(flows, order="flow_id"), np.sort(flows3, order="flow_id")),
                "1 and 3 threads give different records")
    # a week of such sessions learned, the next day's on ports of its own is normal: no
    # anomaly (before, each transfer was "unclassified traffic" on its port of the day)
    week, model = os.path.join(tmp, "ftp-week.pcap"), os.path.join(tmp, "ftp-week-model.h5")
    written_session(week, days=7)
    r = run([mw, "train", "-q", *inv, "-o", model, week], timeout=300)
    fails.check(r.returncode == 0, f"train: {r.stderr}")
    day8 = os.path.join(tmp, "ftp-day8.pcap")
    frames = []
    session_frames(frames, T0 + 7 * 86400, 5)
    frames.sort(key=lambda f: f[0])
    ra.write_pcap(day8, frames)
    jsonl = os.path.join(tmp, "w.jsonl")
    r = run([mw, "analyze", "-q", *inv, "--model", model, "--anomalies", jsonl, "-o",
             os.path.join(tmp, "wm.h5"), day8], timeout=300)
    fails.check(r.returncode == 0, r.stderr)
    with open(jsonl) as f:
        anoms = [json.loads(line) for line in f]
    fails.check(not anoms, "the eighth day's transfers: "
                f"{[(a['detector'], a['service_port'], a['explanation'][:100]) for a in anoms]}")


def tshark_ports(pcap, fields):
    """The ports tshark reads from the control session's lines (fields)."""
    args = ["tshark", "-r", pcap, "-Y", "ftp", "-T", "fields"]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True).stdout
    return {int(v) for line in out.splitlines() for v in line.split("\t") if v.strip()}


def n_ftp_data(flows, names, ports):
    """TCP records that are FTP-data, and those with one of ports that are not port 21."""
    tcp = [x for x in flows if int(x["l4_proto"]) == 6]
    return (sum(names[int(x["service"])] == "FTP-data" for x in tcp),
            sum(bool({int(x["src_port"]), int(x["dst_port"])} & ports) for x in tcp
                if 21 not in (int(x["src_port"]), int(x["dst_port"]))))


def server_side_only(src, out, server):
    lt, pkts = ra.read_capture(src)
    keep = []
    for ts, data, orig in pkts:
        l3 = ra.l3_of(lt, data)
        if l3 is None:
            continue
        et, off = l3[0], l3[1]
        sender = data[off + 12:off + 16] if et == 0x0800 else data[off + 8:off + 24]
        if sender == server:
            keep.append((ts, data, orig))
    assert lt == 1, f"{src}: link type {lt}, not Ethernet"
    ra.write_pcap(out, keep)


def check_real(mw, root, tmp, fails, caps):
    import ipaddress
    for rel, server in (("ndpi/ftp.pcap", "90.130.70.73"),
                        ("zeek/ftp/ipv6.pcap", "2001:470:4867:99::21")):
        pcap = os.path.join(caps, rel)
        passive = tshark_ports(pcap, ["ftp.passive.port", "ftp.epsv.port"])
        ports = passive | tshark_ports(pcap, ["ftp.active.port", "ftp.eprt.port"])
        fails.check(len(ports) >= 2, f"{rel}: tshark read {ports}")
        flows, names, _ = analyze(mw, root, pcap, os.path.join(tmp, "real.h5"))
        tcp = [x for x in flows if int(x["l4_proto"]) == 6]
        for x in tcp:
            sp, dp, svc = int(x["src_port"]), int(x["dst_port"]), names[int(x["service"])]
            want = (sp in ports or dp in ports) and 21 not in (sp, dp)
            fails.check((svc == "FTP-data") == want,
                        f"{rel}: {sp} -> {dp} is {svc} (tshark's announced ports {sorted(ports)})")
        # one direction, the server's packets: its passive replies name their transfers; the
        # client's PORT/EPRT commands are not in the copy, so their transfers stay unnamed
        one = os.path.join(tmp, "oneway.pcap")
        server_side_only(pcap, one, ipaddress.ip_address(server).packed)
        flows1, names1, _ = analyze(mw, root, one, os.path.join(tmp, "oneway.h5"))
        got, want = n_ftp_data(flows1, names1, passive)
        fails.check(got == want and want > 0, f"{rel}, server side only: {got} FTP-data records, "
                                              f"{want} on the ports of its passive replies")


def main():
    mw, root, shared = sys.argv[1], sys.argv[2], sys.argv[3]
    fails = Failures()
    with tempfile.TemporaryDirectory() as tmp:
        check_written(mw, root, tmp, fails)
        caps = os.path.join(shared, "captures")
        if os.path.isdir(caps):
            check_real(mw, root, tmp, fails, caps)
        else:
            print(f"note: {caps} absent: real-capture checks skipped")
    return fails.finish("FTP data connections named from their control sessions")


if __name__ == "__main__":
    sys.exit(main())
