#!/usr/bin/python3
"""analyze --readers N reads a plain pcap file with N threads (byte ranges; one
by default) and must give exactly what libpcap alone gives (--readers 0, the
file read on the analysing thread): the same flow records (every column),
the same exit code and the same error lines - on files built to be hard for
it (payloads that are chains of pcap record headers, so ranges start on a
wrong guess; a record over the file's snaplen; a record libpcap refuses; a cut
file; nanosecond timestamps; a BPF filter; pcapng and gzip inputs between
plain ones) and, when ../shared is there, on the real captures.

usage: readers_offline.py MASTWATCH SHARED_DIR
"""
import gzip
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

import h5py

from mwtest import Failures, run

T0 = 1700000000


def frame(i, payload):
    """Ethernet/IPv4/UDP from one of 40 clients to one of 3 servers."""
    src = bytes([10, 1, (i % 40) // 250, 1 + (i % 40) % 250])
    dst = bytes([192, 0, 2, 1 + (i % 3)])
    udp = struct.pack(">HHHH", 40000 + i % 40, 5000 + i % 3, 8 + len(payload), 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0, src, dst)
    return b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00" + ip + udp


def fake_records(sec, size):
    """A payload that reads as a chain of pcap records (a capture file being uploaded)."""
    one = struct.pack("<IIII", sec, 123456, 8, 8) + b"\xaa" * 8
    return (one * (size // len(one) + 1))[:size]


def write_pcap(path, packets, nano=False, snaplen=262144):
    """packets: (ts_s, frac, data[, caplen_override]) in order."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D if nano else 0xA1B2C3D4, 2, 4, 0, 0, snaplen, 1))
        for p in packets:
            ts, frac, data = p[:3]
            caplen = p[3] if len(p) > 3 else len(data)
            f.write(struct.pack("<IIII", ts, frac, caplen, max(len(data), caplen)) + data)


def crafted(n, nano=False):
    out = []
    for i in range(n):
        frac = (i * 7919) % 1000000
        out.append((T0 + i // 100, frac * 1000 if nano else frac,
                    frame(i, fake_records(T0 + i // 100, 1200 + (i * 37) % 250))))
    return out


def analyze(mastwatch, tmp, name, inputs, extra, preexec=None):
    out = os.path.join(tmp, name + ".h5")
    r = run([mastwatch, "analyze", "--no-progress", "-o", out] + extra + inputs, timeout=600,
            preexec_fn=preexec)
    rows = None
    if os.path.exists(out):
        with h5py.File(out, "r") as f:
            rows = sorted(map(tuple, f["flows"][:].tolist()))
        os.unlink(out)
    errors = [l for l in r.stderr.splitlines() if l.startswith("mastwatch:")]
    return r.returncode, errors, rows, r.stderr


def compare(fails, mastwatch, tmp, label, inputs, threads, readers, extra=()):
    """--readers N (None: the default, one) against libpcap alone with the same workers."""
    base = analyze(mastwatch, tmp, "one", inputs,
                   ["-t", str(threads), "--readers", "0"] + list(extra))
    got = analyze(mastwatch, tmp, "many", inputs, ["-t", str(threads)] + list(extra) +
                  (["--readers", str(readers)] if readers is not None else []))
    fails.check(base[2] is not None and len(base[2]) > 0, f"{label}: no records from libpcap")
    fails.check(got[:3] == base[:3],
                f"{label}, -t {threads} --readers {readers}: exit {got[0]} vs {base[0]}, errors "
                f"{got[1]} vs {base[1]}, {len(got[2] or [])} vs {len(base[2] or [])} records, "
                f"{len(set(got[2] or []) ^ set(base[2] or []))} differ")
    return got[3]


def main():
    mastwatch, shared = sys.argv[1], sys.argv[2]
    fails = Failures()
    with tempfile.TemporaryDirectory() as tmp:
        plain = os.path.join(tmp, "uploads.pcap")
        packets = crafted(7000)
        write_pcap(plain, packets)
        fails.check(os.path.getsize(plain) > 6 * 1024 * 1024, "the crafted file spans few ranges")

        err = compare(fails, mastwatch, tmp, "payloads of pcap records", [plain], 2, 2)
        cpu = re.search(r"cpu .*, 2 file readers [0-9.]+ s \((\d+) ranges walked again\)", err)
        fails.check(cpu is not None and int(cpu.group(1)) > 0,
                    "the summary shows no range walked again (the wrong guesses were not caught?): "
                    + (re.search(r"cpu .*", err) or re.search(r".*", err)).group(0))
        compare(fails, mastwatch, tmp, "payloads of pcap records", [plain], 1, 3)
        err = compare(fails, mastwatch, tmp, "payloads of pcap records", [plain], 1, None)
        if len(os.sched_getaffinity(0)) > 1:
            fails.check(re.search(r"cpu .*, 1 file reader [0-9.]+ s", err) is not None,
                        "the default run shows no file reader: " + (re.search(r"cpu .*", err) or
                                                                     re.search(r".*", err)).group(0))
        # on one usable CPU the default is libpcap on the analysing thread (a reader thread
        # would only add hand-offs there): the same records, and no file reader
        one_cpu = min(os.sched_getaffinity(0))
        base = analyze(mastwatch, tmp, "one", [plain], ["-t", "1", "--readers", "0"])
        got = analyze(mastwatch, tmp, "pinned", [plain], ["-t", "1"],
                      preexec=lambda: os.sched_setaffinity(0, {one_cpu}))
        fails.check(got[:3] == base[:3], f"one CPU, default readers: {len(got[2] or [])} records "
                    f"against {len(base[2] or [])}, exit {got[0]}, errors {got[1]}")
        fails.check(re.search(r"cpu .*file reader", got[3]) is None,
                    "one CPU: the default run still starts a file reader: "
                    + (re.search(r"cpu .*", got[3]) or re.search(r".*", got[3])).group(0))
        compare(fails, mastwatch, tmp, "payloads of pcap records", [plain], 2, 1)
        compare(fails, mastwatch, tmp, "BPF filter", [plain], 3, 2, ["-f", "udp port 5001"])

        nano = os.path.join(tmp, "nano.pcap")
        write_pcap(nano, crafted(3000, nano=True))
        compare(fails, mastwatch, tmp, "nanosecond file", [nano], 2, 2)

        # over the file's snaplen (libpcap cuts it to the snaplen), then one it refuses
        big = crafted(3000)
        big[1500] = big[1500][:2] + (big[1500][2] + b"\x00" * 400,)
        oversnap = os.path.join(tmp, "oversnap.pcap")
        write_pcap(oversnap, big, snaplen=1500)
        compare(fails, mastwatch, tmp, "record over the snaplen", [oversnap], 2, 2)
        refused = os.path.join(tmp, "refused.pcap")
        bad = crafted(3000)
        bad[2000] = bad[2000][:3] + (300000,)  # caplen over libpcap's maximum: an error
        write_pcap(refused, bad)
        for readers in (2, None):
            err = compare(fails, mastwatch, tmp, "record libpcap refuses", [refused], 2, readers)
            fails.check("invalid packet capture length 300000" in err,
                        "libpcap's error is not shown")

        cut = os.path.join(tmp, "cut.pcap")
        with open(plain, "rb") as f:
            data = f.read()
        with open(cut, "wb") as f:
            f.write(data[:len(data) - 700])
        for readers in (2, None):
            err = compare(fails, mastwatch, tmp, "file cut mid-record", [cut], 2, readers)
            fails.check("truncated dump file" in err, "the cut file's error is not shown")

        # pcapng and gzip (one thread reads them) between plain files
        ng = os.path.join(tmp, "mid.pcapng")
        subprocess.run(["editcap", "-F", "pcapng", nano, ng], check=True)
        gz = os.path.join(tmp, "late.pcap.gz")
        with open(oversnap, "rb") as f, gzip.open(gz, "wb") as g:
            shutil.copyfileobj(f, g)
        compare(fails, mastwatch, tmp, "plain, pcapng, gzip, plain files", [plain, ng, gz, cut], 3, 2)
        compare(fails, mastwatch, tmp, "plain, pcapng, gzip, plain files", [plain, ng, gz, cut], 1,
                None)

        caps = os.path.join(shared, "captures")
        if os.path.isdir(caps):
            # every shared capture, malformed ones too, as one run
            with open(os.path.join(caps, "MANIFEST.tsv")) as f:
                inputs = [os.path.join(caps, line.split("\t")[0]) for line in f.read().splitlines()[1:]]
            fails.check(len(inputs) >= 200, f"only {len(inputs)} shared captures listed")
            for threads, readers in ((2, 2), (1, 2), (1, None)):
                compare(fails, mastwatch, tmp, f"{len(inputs)} shared captures", inputs, threads,
                        readers, ["--idle-timeout", "30"])
        else:
            print(f"note: {caps} is absent: the real captures are not compared")
    return fails.finish("--readers 1 (the default), 2 and 3 give libpcap's records, exit codes "
                        "and errors")


if __name__ == "__main__":
    sys.exit(main())
