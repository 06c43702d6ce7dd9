"""Reading mastwatch results files (docs/SCHEMA.md) and nights (a `mastwatch batch` directory).

    from mastwatch import results
    with results.open_results("day.h5") as f:
        an = results.anomalies(f)          # names instead of ids, addresses as text
        cov = results.coverage(f)
    night = results.Night("NIGHT")         # night.json, paths resolved
"""
import ipaddress
import json
import os
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import h5py
import numpy as np
import pandas as pd

COVERAGE_TEXT = {0: "unattributed", 1: "scored", 2: "scored by role group", 3: "still learning",
                 4: "NOT scored", 5: "no traffic"}
SCORED = (1, 2, 3)  # coverage statuses whose traffic was scored against a model


def addr(hi, lo):
    """Text address from the two big-endian halves of an IPv6 (IPv4 mapped) address."""
    raw = int(hi).to_bytes(8, "big") + int(lo).to_bytes(8, "big")
    a = ipaddress.IPv6Address(raw)
    return str(a.ipv4_mapped) if a.ipv4_mapped else str(a)


def addrs(hi, lo):
    """addr() over arrays, computed once per distinct address (a night has few of them)."""
    hi, lo = np.asarray(hi, dtype=np.uint64), np.asarray(lo, dtype=np.uint64)
    if len(hi) == 0:
        return np.array([], dtype=object)
    uniq, inverse = np.unique(np.stack([hi, lo], axis=1), axis=0, return_inverse=True)
    text = np.array([addr(h, l) for h, l in uniq], dtype=object)
    return text[inverse.reshape(-1)]


def decoded(values):
    """Fixed-length byte strings (NUL padded) to str, once per distinct value."""
    codes, uniq = pd.factorize(np.asarray(values))
    text = np.array([u.decode("utf-8", errors="replace") if isinstance(u, bytes) else u
                     for u in uniq], dtype=object)
    return text[codes] if len(codes) else np.array([], dtype=object)


def open_results(path):
    """An h5py.File for reading; a run's .partial is still being written: SWMR."""
    return h5py.File(path, "r", swmr=str(path).endswith(".partial"))


def _file(src):
    return (src, False) if isinstance(src, h5py.File) else (open_results(src), True)


def names(f, table):
    """{id: name} of /meta/<table>; {} when the file has no such table."""
    if "meta/" + table not in f:
        return {}
    return {int(r["id"]): r["name"].decode() for r in f["meta/" + table][:]}


def counters(src):
    """/stats/counters as {name: value}."""
    f, own = _file(src)
    try:
        return {r["name"].decode(): int(r["value"]) for r in f["stats/counters"][:]}
    finally:
        if own:
            f.close()


def attrs(f):
    """Root attributes with strings as str."""
    return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}


def inventory_text(f):
    if "meta/inventory" not in f:
        return None
    v = f["meta/inventory"][()]
    return v.decode("utf-8", errors="replace") if isinstance(v, bytes) else str(v)


def zone_of_inventory(text):
    """The site's time zone named by an inventory's `timezone:` (UTC when none or unknown)."""
    m = re.search(r"^timezone:\s*['\"]?([\w/+-]+)", text or "", re.M)
    try:
        return ZoneInfo(m.group(1)) if m else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def site_zone(f):
    """The site's time zone from the inventory stored in the results file."""
    return zone_of_inventory(inventory_text(f))


def anomalies(src):
    """/anomalies with names: detector_name, severity_name, bs, service_name, plane_name,
    local, peer (text), strings decoded. Empty frame when the run had no model."""
    f, own = _file(src)
    try:
        if "anomalies" not in f:
            return pd.DataFrame()
        an = pd.DataFrame(f["anomalies"][:])
        for col, table in (("detector", "detectors"), ("severity", "severities"),
                           ("bs_index", "base_stations"), ("service", "services"),
                           ("plane", "planes"), ("initiator", "initiators")):
            table_names = names(f, table)
            out = {"bs_index": "bs"}.get(col, col + "_name")
            an[out] = an[col].map(lambda i, t=table_names: t.get(int(i), str(i)))
        for col in ("app", "host", "community_id", "wireshark", "explanation"):
            if col in an:
                an[col] = decoded(an[col].values) if len(an) else an[col]
        an["local"] = addrs(an.local_hi, an.local_lo)
        an["peer"] = addrs(an.peer_hi, an.peer_lo)
        if "incident_id" not in an:
            an["incident_id"] = an.anomaly_id
        return an
    finally:
        if own:
            f.close()


def anomaly_frames(src):
    """{anomaly_id: [frame numbers]} of the flows kept in /anomaly_flows (flow_id // 2)."""
    f, own = _file(src)
    try:
        if "anomaly_flows" not in f:
            return {}
        out = {}
        for r in f["anomaly_flows"][:]:
            out.setdefault(int(r["anomaly_id"]), []).append(int(r["flow_id"]) // 2)
        return {k: sorted(set(v)) for k, v in out.items()}
    finally:
        if own:
            f.close()


def coverage(src):
    """/coverage with `bs` and `status_text`; empty when the run had no model."""
    f, own = _file(src)
    try:
        if "coverage" not in f:
            return pd.DataFrame()
        cov = pd.DataFrame(f["coverage"][:])
        bs = names(f, "base_stations")
        cov["bs"] = cov.bs_index.map(lambda i: bs.get(int(i), str(i)))
        cov["status_text"] = cov.status.map(lambda s: COVERAGE_TEXT.get(int(s), str(s)))
        return cov
    finally:
        if own:
            f.close()


def windows(src):
    """/windows (management-plane features per station and window) with `bs`."""
    f, own = _file(src)
    try:
        if "windows" not in f:
            return pd.DataFrame()
        w = pd.DataFrame(f["windows"][:])
        bs = names(f, "base_stations")
        w["bs"] = w.bs_index.map(lambda i: bs.get(int(i), str(i)))
        return w
    finally:
        if own:
            f.close()


def read_jsonl(path):
    """The anomaly feed as a list of dicts; lines that are not JSON objects are skipped."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict):
                out.append(rec)
    return out


class NightError(Exception):
    """night.json is missing, unreadable or not a night."""


class Night:
    """A night directory: night.json with its paths resolved against the directory.

    captures: the night.json capture entries, each with `results_path`/`anomalies_path`
    (absolute, None when absent)."""

    def __init__(self, path):
        path = os.fspath(path)
        self.dir = os.path.dirname(os.path.abspath(path)) if path.endswith(".json") \
            else os.path.abspath(path)
        self.json_path = path if path.endswith(".json") else os.path.join(path, "night.json")
        try:
            with open(self.json_path, encoding="utf-8") as fh:
                meta = json.load(fh)
        except (OSError, ValueError) as e:
            raise NightError(f"{self.json_path}: {getattr(e, 'strerror', None) or e}") from e
        if not isinstance(meta, dict) or not isinstance(meta.get("captures", []), list):
            raise NightError(f"{self.json_path}: not a night (no captures list)")
        self.meta = meta
        self.name = str(meta.get("night") or os.path.basename(self.dir))
        self.status = str(meta.get("status") or "unknown")
        self.error = meta.get("error")
        self.train_error = meta.get("train_error")  # --train: the model was not updated
        self.sites = {s.get("name"): s for s in meta.get("sites") or [] if isinstance(s, dict)}
        self.captures = []
        for c in meta.get("captures") or []:
            if not isinstance(c, dict):
                continue
            c = dict(c)
            c["results_path"] = self.resolve(c.get("results"))
            c["anomalies_path"] = self.resolve(c.get("anomalies_jsonl"))
            self.captures.append(c)

    def resolve(self, rel):
        if not rel:
            return None
        return os.path.normpath(os.path.join(self.dir, rel))

    def results_files(self):
        """(capture entry, absolute path) of every capture with a results file on disk."""
        return [(c, c["results_path"]) for c in self.captures
                if c["results_path"] and os.path.exists(c["results_path"])]


def is_night(path):
    path = os.fspath(path)
    return os.path.isdir(path) or os.path.basename(path) == "night.json"
