"""The morning report of a night: what was flagged, what was covered, how healthy the captures were.

    /usr/bin/python3 scripts/mw_morning.py NIGHT_DIR [-o OUTDIR] [--failed REASON]
    PYTHONPATH=python /usr/bin/python3 -m mastwatch.morning NIGHT_DIR

Writes OUTDIR/report.html (one self-contained file: inline CSS and SVG plots, no script, no
network), report.md and report.json (the same summary), each atomically. OUTDIR defaults to
NIGHT_DIR. --failed REASON: the batch could not produce night.json (or it is unreadable); the
report then says the night failed and why.
Exit status: 0 nothing flagged; 1 findings (incidents, or the night is not an all-clear: a
capture failed or is incomplete, or no station was scored); 2 usage or unreadable input
(night.json unreadable without --failed: a report saying so is still written when OUTDIR is
writable); 3 the night failed or nothing could be analyzed.
"""
import argparse
import datetime as dt
import io
import json
import os
import sys
import tempfile
from collections import Counter, defaultdict

import numpy as np
import pandas as pd

from . import __version__, cli, flows, results

SEV_ORDER = {"high": 3, "medium": 2, "low": 1, "none": 0}
WHY_NOT_COVERED = {
    2: "not in the model: scored against its role group only",
    3: "training too short for the window statistics (volume not judged)",
    4: "neither the station nor its role group is in the model: nothing judged",
    5: "no traffic of this station in the night's captures",
}
GAP_US = 3600 * 10**6  # a gap in packet time worth naming: an hour without any flow record
CHUNK_ROWS = 1 << 20
PLANE_COLUMNS = ["bs_index", "plane_name", "kind_name", "tunnel_flow_id", "protocol",
                 "c2s_bytes", "s2c_bytes", "first_us", "last_us"]


def _utc(us):
    return dt.datetime.fromtimestamp(int(us) / 1e6, dt.timezone.utc)


def local_text(us, zone):
    """'2026-11-09 02:30:02 +01:00' in the site's zone."""
    t = _utc(us).astimezone(zone)
    off = t.strftime("%z")
    return f"{t:%Y-%m-%d %H:%M:%S} {off[:3]}:{off[3:]}"


def _iso_to_text(iso):
    """The feed's '2026-11-09T02:30:02+01:00' as '2026-11-09 02:30:02 +01:00'."""
    t = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    off = t.strftime("%z") or "+0000"
    return f"{t:%Y-%m-%d %H:%M:%S} {off[:3]}:{off[3:]}"


def human(n):
    n = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def _num(v):
    """A JSON-friendly number (numpy scalars are not)."""
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v


# ---------------------------------------------------------------- reading one capture

class Capture:
    """What the report needs of one capture entry of night.json, read once."""

    def __init__(self, entry, night, index):
        self.entry = entry
        self.index = index
        self.site = entry.get("site") or "?"
        self.status = entry.get("status") or "?"
        self.error = entry.get("error")
        self.ok = False
        self.read_error = None
        path = entry.get("results_path")
        if self.status != "done" or not path:
            return
        try:
            self._read(path, entry.get("anomalies_path"))
            self.ok = True
        except (OSError, KeyError, ValueError) as e:
            self.read_error = f"results file unreadable: {e}"

    def _read(self, path, jsonl):
        with results.open_results(path) as f:
            self.attrs = results.attrs(f)
            self.counters = results.counters(f)
            self.coverage = results.coverage(f)
            self.anomalies = results.anomalies(f)
            self.frames = results.anomaly_frames(f)
            self.windows = results.windows(f)
            self.inventory = results.inventory_text(f)
        self.feed = {}
        if jsonl and os.path.exists(jsonl):
            self.feed = {int(r["anomaly_id"]): r for r in results.read_jsonl(jsonl)
                         if "anomaly_id" in r}
        self._flow_summary(path)

    def _flow_summary(self, path):
        """Bytes per plane and protocol, counting each wire byte once, and time gaps, one chunk
        at a time (a night's flows need not fit in memory)."""
        planes = defaultdict(lambda: [0, 0])
        protos = Counter()
        carried = [0, 0]
        spans = []
        for df in flows.load(path, columns=PLANE_COLUMNS, chunk_rows=CHUNK_ROWS):
            b = df.c2s_bytes.astype("int64") + df.s2c_bytes.astype("int64")
            # carried flows (GTP-U inner, flows inside IP-in-IP) are the tunnel's bytes again
            inside = df.tunnel_flow_id.values != 0
            carried[0] += int(inside.sum())
            carried[1] += int(b[inside].sum())
            outer = df[~inside].assign(b=b[~inside])
            for plane, g in outer.groupby("plane_name"):
                planes[plane][0] += len(g)
                planes[plane][1] += int(g.b.sum())
            for proto, v in outer.groupby("protocol").b.sum().items():
                protos[proto] += int(v)
            spans.append(df[["first_us", "last_us"]].to_numpy())
        self.planes = dict(planes)
        self.protocols = protos
        self.carried = carried
        self.gaps = []
        if spans:
            s = np.concatenate(spans)
            s = s[np.argsort(s[:, 0], kind="stable")]
            ends = np.maximum.accumulate(s[:, 1])
            holes = s[1:, 0] - ends[:-1]
            for i in np.flatnonzero(holes >= GAP_US):
                self.gaps.append((int(ends[i]), int(s[i + 1, 0])))

    @property
    def complete(self):
        return int(self.attrs.get("complete", 1)) if self.ok else None


# ---------------------------------------------------------------- the model's band

class Model:
    """Hour-of-week tables of a model (docs/MODEL.md): expected management flows and upload."""

    def __init__(self, path):
        import h5py
        self.path = path
        self.hours = {}
        with h5py.File(path, "r") as f:
            span = int(f.attrs["last_us"]) - int(f.attrs["first_us"])
            self.weeks = max(1, round(span / (7 * 86400e6)))
            for r in f["hours"][:]:
                st = r["station"].decode()
                tab = self.hours.setdefault(st, np.zeros((168, 2)))
                tab[int(r["hour_of_week"]) % 168] = (int(r["flows"]), int(r["bytes_up"]))
        for tab in self.hours.values():
            tab /= self.weeks

    def band(self, station, how):
        """(low, high, expected) bytes up and flows for hours of week `how`: the range training
        saw at that hour of day on any weekday, and the same hour of week."""
        tab = self.hours.get(station)
        if tab is None:
            return None
        by_day = tab.reshape(7, 24, 2)
        hod = how % 24
        return by_day.min(axis=0)[hod], by_day.max(axis=0)[hod], tab[how]


def _model(path, cache):
    if not path:
        return None
    if path not in cache:
        try:
            cache[path] = Model(path)
        except (OSError, KeyError, ValueError):
            cache[path] = None
    return cache[path]


# ---------------------------------------------------------------- the summary

def _incident_cards(caps, zones):
    cards = []
    for c in caps:
        if not c.ok or c.anomalies.empty:
            continue
        zone = zones[c.site]
        for inc_id, g in c.anomalies.groupby("incident_id"):
            g = g.sort_values(["severity", "start_us"], ascending=[False, True])
            first = g.sort_values("start_us").iloc[0]
            feed = c.feed.get(int(first.anomaly_id), {})
            start_us, end_us = int(g.start_us.min()), int(g.end_us.max())
            last = g.sort_values("end_us").iloc[-1]
            last_feed = c.feed.get(int(last.anomaly_id), {})
            frames = sorted({fr for a in g.anomaly_id for fr in c.frames.get(int(a), [])})
            sev = max(g.severity_name, key=lambda s: SEV_ORDER.get(s, 0))
            cards.append({
                "key": f"c{c.index}-i{int(inc_id)}",
                "site": c.site, "capture": c.entry.get("path"), "results": c.entry.get("results"),
                "incident_id": int(inc_id), "severity": sev, "score": round(float(g.score.max()), 2),
                "detectors": list(dict.fromkeys(g.detector_name)),
                "station": first.bs, "local": first.local,
                "local_kind": feed.get("local_kind", "subscriber" if first.inner else "base_station"),
                "peer": first.peer, "peer_role": feed.get("peer_role", ""),
                "local_port": int(first.local_port), "peer_port": int(first.peer_port),
                "service": first.service_name, "protocol": first.app, "host": first.host,
                "opened_by": feed.get("opened_by", first.initiator_name),
                "start_us": start_us, "end_us": end_us,
                "start_local": _iso_to_text(feed["start_local"]) if "start_local" in feed
                else local_text(start_us, zone),
                "end_local": _iso_to_text(last_feed["end_local"]) if "end_local" in last_feed
                else local_text(end_us, zone),
                "timezone": feed.get("timezone", str(zone)),
                "bytes_up": int(g.bytes_up.max()), "bytes_down": int(g.bytes_down.max()),
                "n_flows": int(g.n_flows.max()),
                "findings": [{"detector": r.detector_name, "severity": r.severity_name,
                              "score": round(float(r.score), 2), "value": float(r.value),
                              "limit": float(r.limit), "explanation": r.explanation,
                              "anomaly_id": int(r.anomaly_id)} for r in g.itertuples()],
                "wireshark": first.wireshark, "community_id": first.community_id,
                "first_frame": int(first.first_flow_id) // 2,
                "source": feed.get("source", c.entry.get("path")),
                "source_frame": feed.get("source_frame", int(first.first_flow_id) // 2),
                "frames": frames,
            })
    cards = _join_across_captures(cards)
    cards.sort(key=lambda k: (-SEV_ORDER.get(k["severity"], 0), -k["score"], k["start_us"]))
    for n, k in enumerate(cards, 1):
        k["number"] = n
    return cards


INCIDENT_GAP_US = 3600 * 10**6  # the engine's: spans within 1 h of each other are one event


def _join_across_captures(cards):
    """One card per event, as each capture's own incidents are: cards of one site, station
    and peer from different captures (hourly files of a capture point, a night cut at
    midnight) whose spans come within an hour of each other are one card, its findings and
    totals from all of them, described by its earliest capture's."""
    out = []
    key = lambda k: (k["site"], k["station"], k["local"], k["peer"])
    for k in sorted(cards, key=lambda k: (key(k), k["start_us"], k["key"])):
        last = out[-1] if out else None
        if (last is None or key(last) != key(k) or k["capture"] in last["captures"] or
                k["start_us"] > last["end_us"] + INCIDENT_GAP_US):
            k["captures"] = [k["capture"]]
            out.append(k)
            continue
        last["captures"].append(k["capture"])
        if SEV_ORDER.get(k["severity"], 0) > SEV_ORDER.get(last["severity"], 0):
            last["severity"] = k["severity"]
        last["score"] = max(last["score"], k["score"])
        last["detectors"] = list(dict.fromkeys(last["detectors"] + k["detectors"]))
        if k["end_us"] > last["end_us"]:
            last["end_us"], last["end_local"] = k["end_us"], k["end_local"]
        for f in ("bytes_up", "bytes_down", "n_flows"):
            last[f] += k[f]
        last["findings"] += k["findings"]
    return out


def _stations(caps):
    """Per (site, station): the best coverage status over the night's captures."""
    best = {}
    rank = {1: 0, 2: 1, 3: 2, 4: 3, 5: 4, 0: 5}  # scored beats group beats learning ...
    for c in caps:
        if not c.ok or c.coverage.empty:
            continue
        for r in c.coverage[c.coverage.bs_index > 0].itertuples():
            key = (c.site, r.bs)
            st = int(r.status)
            if key not in best or rank.get(st, 9) < rank.get(best[key]["status"], 9):
                best[key] = {"site": c.site, "bs": r.bs, "status": st,
                             "status_text": results.COVERAGE_TEXT.get(st, str(st)),
                             "flows": 0}
            best[key]["flows"] += int(r.flows)
    return best


def _timelines(caps, cards, zones, night, model_cache):
    out = []
    by_site = defaultdict(list)
    for c in caps:
        if c.ok and not c.windows.empty:
            by_site[c.site].append(c)
    for site, group in sorted(by_site.items()):
        zone = zones[site]
        w = pd.concat([c.windows for c in group], ignore_index=True)
        first = min(int(c.attrs.get("first_us") or w.start_us.min()) for c in group)
        last = max(int(c.attrs.get("last_us") or w.start_us.max()) for c in group)
        model = _model((night.sites.get(site) or {}).get("model"), model_cache)

        def local_hour(us):
            # naive local clock hours: floor() on aware times fails at DST changes
            t = pd.DatetimeIndex(pd.to_datetime(np.atleast_1d(np.asarray(us, dtype="int64")),
                                                unit="us", utc=True))
            h = t.tz_convert(zone).tz_localize(None).floor("H")
            return h if np.ndim(us) else h[0]
        hours = pd.date_range(local_hour(first), local_hour(last), freq="H")
        w["hour"] = local_hour(w.start_us).values
        for bs, g in w.groupby("bs"):
            per = g.groupby("hour")[["bytes_up", "flows"]].sum().reindex(hours, fill_value=0)
            how = (hours.dayofweek * 24 + hours.hour).to_numpy()
            band = model.band(bs, how) if model else None
            rows = []
            for i, h in enumerate(hours):
                row = {"hour": f"{h:%Y-%m-%d %H:00}", "bytes_up": int(per.bytes_up.iloc[i]),
                       "flows": int(per.flows.iloc[i])}
                if band is not None:
                    lo, hi, exp = band[0][i], band[1][i], band[2][i]
                    row.update(band_bytes_up=[float(lo[1]), float(hi[1])],
                               band_flows=[float(lo[0]), float(hi[0])],
                               expected_bytes_up=float(exp[1]), expected_flows=float(exp[0]))
                rows.append(row)
            marks = [{"number": k["number"], "severity": k["severity"],
                      "hour": f"{local_hour(k['start_us']):%Y-%m-%d %H:00}"}
                     for k in cards if k["site"] == site and k["station"] == bs]
            out.append({"site": site, "bs": bs, "timezone": str(zone), "hours": rows,
                        "incidents": marks, "model": model.path if model and band is not None
                        else None})
    return out


def _new_things(cards):
    peers, services = {}, {}
    for k in cards:
        for fnd in k["findings"]:
            if fnd["detector"] == "new_peer":
                key = (k["site"], k["station"], k["peer"])
                p = peers.setdefault(key, {"site": k["site"], "bs": k["station"], "peer": k["peer"],
                                           "peer_role": k["peer_role"], "service": k["service"],
                                           "port": k["peer_port"], "bytes": 0, "incidents": []})
                p["bytes"] += k["bytes_up"] + k["bytes_down"]
                p["incidents"].append(k["number"])
            elif fnd["detector"] == "new_service":
                key = (k["site"], k["station"], k["service"], k["protocol"], k["peer_port"])
                s = services.setdefault(key, {"site": k["site"], "bs": k["station"],
                                              "service": k["service"], "protocol": k["protocol"],
                                              "port": k["peer_port"], "peer": k["peer"],
                                              "bytes": 0, "incidents": []})
                s["bytes"] += k["bytes_up"] + k["bytes_down"]
                s["incidents"].append(k["number"])
    key = lambda x: -x["bytes"]  # noqa: E731
    return sorted(peers.values(), key=key)[:10], sorted(services.values(), key=key)[:10]


DELIVERY_NAMES = {"erspan": "ERSPAN", "gre_teb": "Ethernet in GRE", "vxlan": "VXLAN",
                  "geneve": "Geneve", "kept_station": "a base station's own tunnel"}


def _health(caps, zones):
    out = []
    for c in caps:
        e = c.entry
        h = {"site": c.site, "capture": e.get("path"), "status": c.status,
             "exit_code": e.get("exit_code"), "error": e.get("error") or c.read_error,
             "results": e.get("results")}
        if c.ok:
            cnt = c.counters
            cov = c.coverage
            zone = zones[c.site]
            h.update(
                packets=cnt.get("packets", 0), kernel_dropped=cnt.get("kernel_dropped", 0),
                interface_dropped=cnt.get("interface_dropped", 0),
                input_errors=cnt.get("input_errors", 0),
                malformed={k[8:]: v for k, v in cnt.items() if k.startswith("skipped.") and v},
                # frames that came in ERSPAN, VXLAN, ... (analyzed as the frames they carry)
                delivered={DELIVERY_NAMES.get(k[6:], k[6:]): v for k, v in cnt.items()
                           if k.startswith("encap.") and v},
                one_way=int(cov.one_way.sum()) if not cov.empty else 0,
                mid_session=int(cov.mid_session.sum()) if not cov.empty else 0,
                silent_hours={r.bs: int(r.silent_hours) for r in cov.itertuples()
                              if r.bs_index > 0 and r.silent_hours} if not cov.empty else {},
                gaps=[{"from": local_text(a, zone), "to": local_text(b, zone),
                       "hours": round((b - a) / 3.6e9, 1)} for a, b in c.gaps],
                complete=c.complete, recovered=int(c.attrs.get("recovered", 0)),
                recovery_reason=c.attrs.get("recovery_reason"),
                stop_signal=int(c.attrs.get("stop_signal", 0) or 0),
                first=local_text(c.attrs["first_us"], zone) if c.attrs.get("first_us") else None,
                last=local_text(c.attrs["last_us"], zone) if c.attrs.get("last_us") else None,
            )
        out.append(h)
    return out


def _planes(caps):
    planes = defaultdict(lambda: [0, 0])
    protos = Counter()
    carried = [0, 0]
    for c in caps:
        if not c.ok:
            continue
        for p, (n, b) in c.planes.items():
            planes[p][0] += n
            planes[p][1] += b
        protos.update(c.protocols)
        carried[0] += c.carried[0]
        carried[1] += c.carried[1]
    total = sum(b for _, b in planes.values()) or 1
    rows = [{"plane": p, "flows": n, "bytes": b, "share": round(100.0 * b / total, 1)}
            for p, (n, b) in sorted(planes.items(), key=lambda x: -x[1][1])]
    note = ("User-plane bytes are counted once, from the GTP-U tunnel records (wire bytes, "
            "outer headers included); the "
            f"{carried[0]} records carried inside tunnels (GTP-U inner subscriber flows, flows "
            f"inside IP-in-IP: {human(carried[1])} of their own IP bytes) describe the same "
            "packets and are not added.")
    top = [{"protocol": p, "bytes": b} for p, b in protos.most_common(10)]
    return rows, top, note


def summarize(night, failed_reason=None):
    """The whole report as one JSON-ready dict (report.json; the HTML and Markdown render it)."""
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    base = {"report_version": 1, "generated_utc": now, "mastwatch_python": __version__}
    if night is None or night.status == "failed" or failed_reason:
        reason = failed_reason or (night.error if night else None) or "no reason given"
        meta = night.meta if night else {}
        nm = _night_meta(night, meta)
        if failed_reason:  # tonight's run failed: an earlier night.json is not its status
            nm.update(status="failed", error=failed_reason)
        base.update(night=nm, failed=True, exit_status=3, verdict={
            "state": "failed", "headline": f"The night FAILED: {reason}",
            "lines": ["No traffic of this night was judged: this is not an all-clear.",
                      "Yesterday's report does not stand in for it."],
            "by_severity": {}, "incidents": 0, "anomalies": 0, "stations_scored": [],
            "stations_not_covered": [], "captures": _capture_counts(night, [])},
            incidents=[], timelines=[], new_peers=[], new_services=[], planes=[],
            protocols=[], plane_note="",
            health=[{"site": c.get("site"), "capture": c.get("path"), "status": c.get("status"),
                     "exit_code": c.get("exit_code"), "error": c.get("error"),
                     "results": c.get("results")} for c in (night.captures if night else [])])
        return base

    zones = {}
    for s, site in night.sites.items():
        inv = site.get("inventory")
        try:
            with open(inv, encoding="utf-8") as fh:
                zones[s] = results.zone_of_inventory(fh.read())
        except (OSError, TypeError):
            pass
    caps = [Capture(c, night, i) for i, c in enumerate(night.captures)]
    _mark_superseded(caps)
    for c in caps:
        if c.site not in zones:
            zones[c.site] = results.zone_of_inventory(c.inventory if c.ok else None)
    model_cache = {}
    cards = _incident_cards(caps, zones)
    stations = _stations(caps)
    timelines = _timelines(caps, cards, zones, night, model_cache)
    new_peers, new_services = _new_things(cards)
    planes, protos, note = _planes(caps)
    health = _health(caps, zones)
    counts = _capture_counts(night, caps)

    sev = Counter()
    for k in cards:
        sev[k["severity"]] += 1
    n_anom = sum(len(k["findings"]) for k in cards)
    scored = [s for s in stations.values() if s["status"] in results.SCORED]
    not_covered = [dict(s, why=WHY_NOT_COVERED.get(s["status"], s["status_text"]))
                   for s in stations.values() if s["status"] not in (1,)]
    for site in sorted(set(night.sites) | {c.site for c in caps}):
        if not any(c.ok and c.site == site for c in caps):
            errs = "; ".join(f"{os.path.basename(c.entry.get('path') or '?')}: "
                             f"{c.error or c.read_error or c.status}"
                             for c in caps if c.site == site) or "no capture listed"
            not_covered.append({"site": site, "bs": "(all)", "status": -1,
                                "status_text": "no capture analyzed", "why": errs, "flows": 0})
    lines = []
    analyzed = sum(1 for c in caps if c.ok)
    if analyzed == 0:
        state, exit_status = "failed", 3
        headline = "Nothing could be analyzed: no capture of this night has results."
    elif cards:
        state, exit_status = "findings", 1
        headline = (f"{len(cards)} incident{'s' if len(cards) != 1 else ''} flagged ("
                    + ", ".join(f"{sev[s]} {s}" for s in ("high", "medium", "low") if sev[s])
                    + f"; {n_anom} findings).")
    elif not scored:
        state, exit_status = "findings", 1
        headline = ("NOTHING WAS SCORED: no base station had traffic the model knows - "
                    "this is not an all-clear.")
    else:
        state, exit_status = "clear", 0
        headline = "Nothing was flagged."
    spans = [(h["site"], h["first"], h["last"]) for h in health if h.get("first")]
    if scored:
        lines.append(f"Scored {len(scored)} station{'s' if len(scored) != 1 else ''}: "
                     + ", ".join(f"{s['bs']} ({s['site']}, {s['status_text']}, "
                                 f"{s['flows']} flow records)" for s in scored) + ".")
    for site, a, b in spans:
        lines.append(f"Covered {site}: {a} .. {b}.")
    bad = counts["failed"] + counts["incomplete"]
    if bad and state != "failed":
        if state == "clear":
            state, exit_status = "findings", 1
            headline = "Nothing was flagged in what was read, but the night is not complete."
        lines.append(f"{counts['failed']} capture(s) failed and {counts['incomplete']} are "
                     "incomplete: their traffic was not (wholly) judged (capture health below).")
    if getattr(night, "train_error", None):  # the night was judged; its lesson was not kept
        lines.insert(0, f"The model was NOT updated: {night.train_error}.")
        headline += " The model was NOT updated: training failed."
        exit_status = 3
    base.update(
        night=_night_meta(night, night.meta), failed=False, exit_status=exit_status,
        verdict={"state": state, "headline": headline, "lines": lines,
                 "by_severity": {s: sev[s] for s in ("high", "medium", "low") if sev[s]},
                 "incidents": len(cards), "anomalies": n_anom,
                 "stations_scored": scored, "stations_not_covered": not_covered,
                 "captures": counts},
        incidents=cards, timelines=timelines, new_peers=new_peers, new_services=new_services,
        planes=planes, protocols=protos, plane_note=note, health=health)
    return base


def _night_meta(night, meta):
    return {"name": night.name if night else None, "dir": night.dir if night else None,
            "status": night.status if night else "failed",
            "error": meta.get("error") if meta else None,
            "started_utc": meta.get("started_utc"), "finished_utc": meta.get("finished_utc"),
            "mastwatch_version": meta.get("mastwatch_version"),
            "sites": [{"name": s.get("name"), "inventory": s.get("inventory"),
                       "model": s.get("model")} for s in (meta.get("sites") or [])
                      if isinstance(s, dict)]}


def _capture_counts(night, caps):
    entries = night.captures if night else []
    st = Counter(c.get("status") for c in entries)
    unreadable = sum(1 for c in caps if c.status == "done" and not c.ok)
    superseded = sum(1 for c in caps if c.status == "superseded")
    return {"listed": len(entries), "done": st["done"] - unreadable - superseded,
            "failed": st["failed"] + unreadable, "superseded": superseded,
            "incomplete": sum(1 for c in caps if c.ok and c.complete == 0),
            "not_matched": st["not_matched"], "skipped_young": st["skipped_young"]}


def _mark_superseded(caps):
    """A file analyzed twice this night (it grew or was rewritten after its first analysis:
    batch keeps both, BATCH.md) counts once, by its latest analysis; the earlier ones are
    listed under capture health as superseded."""
    latest = {}
    for c in caps:
        path = c.entry.get("path")
        if c.status == "done" and path:
            when = (c.entry.get("finished_utc") or "", c.index)
            if path not in latest or when > latest[path][0]:
                latest[path] = (when, c)
    for c in caps:
        path = c.entry.get("path")
        if c.status == "done" and path in latest and latest[path][1] is not c:
            c.ok, c.status = False, "superseded"
            c.read_error = ("superseded: the file was analyzed again this night (it grew or was "
                            "rewritten); the later analysis counts")


# ---------------------------------------------------------------- rendering

def _svg(fig, salt):
    import matplotlib
    matplotlib.rcParams["svg.hashsalt"] = salt  # ids unique across the figures of one page
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]  # no XML prolog or DOCTYPE (it names a URL)


def plots(summary):
    """{name: inline SVG}: one timeline per station, one plane mix."""
    import matplotlib
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # text as text: small, searchable
    import matplotlib.pyplot as plt
    out = {}
    for n, t in enumerate(summary["timelines"]):
        hours = pd.to_datetime([r["hour"] for r in t["hours"]])
        fig, axes = plt.subplots(2, 1, figsize=(9, 3.4), sharex=True)
        for ax, key, label in ((axes[0], "bytes_up", "upload (kB)"), (axes[1], "flows", "flows")):
            scale = 1000.0 if key == "bytes_up" else 1.0
            y = np.array([r[key] for r in t["hours"]]) / scale
            width = 1 / 24 * 0.9
            ax.bar(hours, y, width=width, align="edge", color="#3b6ea8", label="this night")
            band = "band_" + key
            if t["hours"] and band in t["hours"][0]:
                lo = np.array([r[band][0] for r in t["hours"]]) / scale
                hi = np.array([r[band][1] for r in t["hours"]]) / scale
                x = hours + pd.Timedelta(minutes=30)
                ax.fill_between(x, lo, hi, color="#9c9", alpha=0.5, step="mid",
                                label="learned band (same hour, any day)")
            ax.set_ylabel(label, fontsize=8)
            ax.tick_params(labelsize=7)
            for m in t["incidents"]:
                x = pd.Timestamp(m["hour"]) + pd.Timedelta(minutes=30)
                ax.axvline(x, color="#c33" if m["severity"] == "high" else "#e90", lw=1.2)
                if key == "bytes_up":
                    ax.annotate(f"#{m['number']}", (x, 1), xycoords=("data", "axes fraction"),
                                fontsize=7, color="#c33", ha="center", va="bottom")
        axes[0].legend(fontsize=7, loc="upper left", frameon=False)
        axes[1].set_xlabel(f"local time ({t['timezone']})", fontsize=8)
        fig.autofmt_xdate()
        out[f"timeline-{n}"] = _svg(fig, f"timeline-{n}")
    if summary["planes"]:
        fig, ax = plt.subplots(figsize=(7, 0.4 + 0.35 * len(summary["planes"])))
        names = [p["plane"] for p in summary["planes"]][::-1]
        vals = [p["bytes"] / 1e6 for p in summary["planes"]][::-1]
        ax.barh(names, vals, color="#3b6ea8")
        ax.set_xlabel("MB (each wire byte once)", fontsize=8)
        ax.tick_params(labelsize=8)
        out["planes"] = _svg(fig, "planes")
    return out


def _env(autoescape):
    import jinja2
    env = jinja2.Environment(loader=jinja2.PackageLoader("mastwatch", "templates"),
                             autoescape=autoescape, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["human"] = human
    env.filters["num"] = lambda v: f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"
    # a table cell in Markdown: no pipes, no line breaks, no raw HTML
    env.filters["md"] = lambda s: str(s if s is not None else "").replace("|", "\\|") \
        .replace("\n", " ").replace("<", "&lt;")
    return env


def render_html(summary, svgs):
    from markupsafe import Markup
    tpl = _env(True).get_template("report.html.j2")
    # matplotlib's own SVG (its text escaped by matplotlib) is the only unescaped markup
    return tpl.render(s=summary, svgs={k: Markup(v) for k, v in svgs.items()})


def render_md(summary):
    return _env(False).get_template("report.md.j2").render(s=summary)


def write_atomic(path, text):
    """tmp in the same directory, fsync, rename, fsync the directory: readers see the old or
    the new file, never half of one."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    dfd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def write_report(summary, outdir):
    svgs = plots(summary)
    summary["plots"] = sorted(svgs)
    html = render_html(summary, svgs)
    md = render_md(summary)
    js = json.dumps(summary, indent=1, default=_num, ensure_ascii=False) + "\n"
    for name, text in (("report.json", js), ("report.md", md), ("report.html", html)):
        write_atomic(os.path.join(outdir, name), text)


def main(argv):
    ap = argparse.ArgumentParser(prog="mw_morning", description=__doc__.split("\n")[0],
                                 epilog="exit status: 0 nothing flagged, 1 findings, 2 usage or "
                                 "unreadable input, 3 the night failed")
    ap.add_argument("night", help="the night directory (with night.json)")
    ap.add_argument("-o", "--outdir", help="where to write report.html/.md/.json (default: NIGHT)")
    ap.add_argument("--failed", metavar="REASON",
                    help="the night failed (night.json missing or unreadable): say so and why")
    try:
        args = ap.parse_args(argv[1:])
    except SystemExit as e:
        return 0 if e.code == 0 else 2
    outdir = args.outdir or args.night
    if not os.path.isdir(outdir):
        print(f"mw_morning: {outdir}: not a directory", file=sys.stderr)
        return 2
    status = None
    try:
        night = results.Night(args.night)
    except results.NightError as e:
        night = None
        if not args.failed:
            # still replace yesterday's report: a stale all-clear is worse than none
            print(f"mw_morning: {e}", file=sys.stderr)
            args.failed = f"night.json unreadable: {e}"
            status = 2
    try:
        summary = summarize(night, args.failed)
    except Exception as e:  # noqa: BLE001 - a report must still say the night was not judged
        import traceback
        traceback.print_exc()
        summary = summarize(night, f"the report could not be built: {type(e).__name__}: {e}")
    try:
        write_report(summary, outdir)
    except OSError as e:
        print(f"mw_morning: {outdir}: {e.strerror or e}", file=sys.stderr)
        return 2
    v = summary["verdict"]
    print(f"{summary['night']['name'] or '?'}: {v['headline']} -> "
          f"{os.path.join(outdir, 'report.html')}")
    return status if status is not None else summary["exit_status"]


if __name__ == "__main__":
    cli.run(main)
