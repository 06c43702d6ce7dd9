"""Builds night directories (the `mastwatch batch` contract, README "Nights") from the sample
captures with `mastwatch analyze`, until the real batch command exists: swap build_night for
it then. Test helper only."""
import json
import os
import shutil
import subprocess

SRC = os.environ.get("MW_SOURCE") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
MW = os.environ.get("MW_BIN") or os.path.join(SRC, "build", "analyzer", "mastwatch")
MODEL = os.path.join(SRC, "models", "demo-site.h5")
INVENTORY = os.path.join(SRC, "captures", "site.yaml")


def have_binary():
    return os.access(MW, os.X_OK)


def _now():
    import datetime as dt
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def vxlan_wrapped(src, dst):
    """src's frames each delivered in VXLAN from 192.0.2.10 to 192.0.2.20, as a cloud mirror
    session sends them (integration.encap's wrapping)."""
    import sys
    sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
    import encap
    encap.write_frames(dst, encap.wrap(encap.ethernet_frames(src), "vxlan"))


def _analyze(night, site, pcap, inventory, fails=False, tag=""):
    name = os.path.splitext(os.path.basename(pcap))[0] + tag
    rel = os.path.join("captures", site, name + ".h5")
    rel_j = os.path.join("captures", site, name + ".anomalies.jsonl")
    os.makedirs(os.path.join(night, "captures", site), exist_ok=True)
    started = _now()
    r = subprocess.run([MW, "analyze", "-q", "--inventory", inventory, "--model", MODEL,
                        "-o", os.path.join(night, rel), "--anomalies", os.path.join(night, rel_j),
                        pcap], capture_output=True, text=True)
    entry = {"path": os.path.abspath(pcap), "site": site, "exit_code": r.returncode,
             "error": None, "results": None, "anomalies_jsonl": None, "flows": 0,
             "anomalies": 0, "complete": 0, "started_utc": started, "finished_utc": _now()}
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("mastwatch: ")]
    if fails:  # what batch records for an input that is no capture: no results kept
        for p in (rel, rel_j):
            if os.path.exists(os.path.join(night, p)):
                os.unlink(os.path.join(night, p))
    if os.path.exists(os.path.join(night, rel)):
        import h5py
        with h5py.File(os.path.join(night, rel), "r") as f:
            entry.update(status="done", results=rel, anomalies_jsonl=rel_j,
                         flows=int(f["flows"].shape[0]), anomalies=int(f["anomalies"].shape[0]),
                         complete=int(f.attrs["complete"]))
        if r.returncode:
            entry["error"] = errors[0] if errors else f"exit {r.returncode}"
    else:
        entry.update(status="failed", error=errors[0] if errors else f"exit {r.returncode}")
    return entry


def build_night(night, kind, work):
    """kind: "clean" (north: clean-week), "incident" (north: incident-day in UTC; south, in
    Europe/Berlin: a truncated incident-day (complete=0) and a capture that is not one),
    "split" (north: incident-day as two captures cut at noon), "regrown" (north: one capture
    analyzed half-written and again whole), "failed" (the batch failed).
    work: a scratch directory for the made-up inputs."""
    os.makedirs(night, exist_ok=True)
    caps = []
    sites = [{"name": "north", "inventory": INVENTORY, "model": MODEL}]
    status, error = "ok", None
    if kind == "clean":
        caps.append(_analyze(night, "north", os.path.join(SRC, "captures", "clean-week.pcap"),
                             INVENTORY))
    elif kind == "incident":
        south_inv = os.path.join(work, "south.yaml")
        with open(INVENTORY) as f:
            text = f.read().replace("timezone: UTC", "timezone: Europe/Berlin")
        with open(south_inv, "w") as f:
            f.write(text)
        sites.append({"name": "south", "inventory": south_inv, "model": MODEL})
        trunc = os.path.join(work, "south-cut.pcap")
        with open(os.path.join(SRC, "captures", "incident-day.pcap"), "rb") as f:
            data = f.read(2_500_000)  # ends inside a packet
        with open(trunc, "wb") as f:
            f.write(data)
        bad = os.path.join(work, "south-bad.pcap")
        with open(bad, "w") as f:
            f.write("not a capture\n")
        caps.append(_analyze(night, "north", os.path.join(SRC, "captures", "incident-day.pcap"),
                             INVENTORY))
        caps.append(_analyze(night, "south", trunc, south_inv))
        caps.append(_analyze(night, "south", bad, south_inv, fails=True))
        status = "partial"
    elif kind == "split":  # north: incident-day in two captures, cut at noon (as -G files)
        for part, opt in (("am", "-B"), ("pm", "-A")):
            pcap = os.path.join(work, f"incident-{part}.pcap")
            subprocess.run(["editcap", opt, "2026-11-09 12:00:00", os.path.join(
                SRC, "captures", "incident-day.pcap"), pcap], check=True, capture_output=True)
            caps.append(_analyze(night, "north", pcap, INVENTORY))
    elif kind == "regrown":  # north: a capture analyzed half-written, then whole again
        pcap = os.path.join(work, "growing.pcap")
        subprocess.run(["editcap", "-B", "2026-11-09 12:00:00", os.path.join(
            SRC, "captures", "incident-day.pcap"), pcap], check=True, capture_output=True)
        caps.append(_analyze(night, "north", pcap, INVENTORY, tag="-1"))
        shutil.copy(os.path.join(SRC, "captures", "incident-day.pcap"), pcap)
        caps.append(_analyze(night, "north", pcap, INVENTORY, tag="-2"))
    elif kind == "delivered":  # north: the incident day as a VXLAN mirror session delivers it
        pcap = os.path.join(work, "incident-vxlan.pcap")
        vxlan_wrapped(os.path.join(SRC, "captures", "incident-day.pcap"), pcap)
        caps.append(_analyze(night, "north", pcap, INVENTORY))
    elif kind == "failed":
        status, error = "failed", "capture directory /srv/captures/2026-11-30 is not mounted"
    feed = os.path.join(night, "anomalies.jsonl")
    with open(feed, "w") as out:
        for c in caps:
            if c.get("anomalies_jsonl"):
                with open(os.path.join(night, c["anomalies_jsonl"])) as f:
                    shutil.copyfileobj(f, out)
    done = [c for c in caps if c["status"] == "done"]
    meta = {"night": "2026-11-30", "status": status, "error": error,
            "started_utc": "2026-11-30T01:00:00Z", "finished_utc": _now(),
            "mastwatch_version": "test", "sites": sites, "captures": caps,
            "index": "index.h5", "anomalies_jsonl": "anomalies.jsonl",
            "totals": {"captures": len(caps), "done": len(done),
                       "failed": sum(c["status"] == "failed" for c in caps),
                       "flows": sum(c["flows"] for c in done),
                       "anomalies": sum(c["anomalies"] for c in done)}}
    with open(os.path.join(night, "night.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return meta
