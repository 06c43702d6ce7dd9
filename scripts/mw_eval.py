"""Detector evaluation on mw-scengen scenarios (run with /usr/bin/python3).

Shared by scripts/evaluate and the integration tests baseline_behaviours.py and
model_merge.py. See docs/EVALUATION.md for the method.

A scenario is one generated capture (a clean training week, one evaluation day
with a single injected behaviour, or a clean day); every scenario is analysed
with `mastwatch analyze --model` and its anomalies (JSON lines) are matched
against the generator's ground truth.
"""
import datetime as _dt
import functools
import ipaddress
import json
import os
import random
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SLACK_S = 60  # time slack when matching anomalies to injections
TRAIN_START = "2026-11-02T00:00:00Z"  # a Monday, as the generator's default
EVAL_START = "2026-11-09T00:00:00Z"  # the day after the training week
SITE = "eval-site"
# Distinct from the committed samples (20261102, 20261109) and fixed, so that
# runs are reproducible.
DEFAULT_SEED_BASE = 7100000

TARGET_RECALL = 0.95
TARGET_FA_PER_BS_DAY = 0.05  # on normal, mid-session and one-way clean days alike

DETECTORS = ("new_peer", "new_service", "direction", "leakage", "volume", "beacon",
             "off_hours", "cleartext", "risk", "dns", "time_source", "rate")

# (name, --inject spec without bs, expected detectors). Each type at the
# generator's default window; the types with variants get one row per variant.
BEHAVIOURS = [
    ("new_peer", "new_peer", {"new_peer"}),
    ("beacon", "beacon", {"beacon", "rate"}),
    ("exfil", "exfil", {"volume"}),
    ("telnet", "telnet", {"new_service", "cleartext"}),
    ("unknown_proto", "unknown_proto", {"new_service"}),
    ("ssh_out", "ssh_out", {"direction"}),
    ("https_out", "https_out", {"direction"}),
    ("gtp_mgmt:ssh", "gtp_mgmt:proto=ssh", {"leakage"}),
    ("gtp_mgmt:snmp", "gtp_mgmt:proto=snmp", {"leakage"}),
    ("dns_tunnel", "dns_tunnel", {"dns"}),
    ("cleartext_creds:ftp", "cleartext_creds:proto=ftp", {"cleartext"}),
    ("cleartext_creds:telnet", "cleartext_creds:proto=telnet", {"cleartext"}),
    ("gtpdoor:ie", "gtpdoor:proto=ie", {"leakage"}),
    ("gtpdoor:trailer", "gtpdoor:proto=trailer", {"leakage"}),
    ("off_window", "off_window", {"off_hours"}),
    ("new_ntp", "new_ntp", {"time_source"}),
]

EXPECTED_BY_TYPE = {
    "new_peer": {"new_peer"}, "beacon": {"beacon", "rate"}, "exfil": {"volume"},
    "telnet": {"new_service", "cleartext"}, "unknown_proto": {"new_service"},
    "ssh_out": {"direction"}, "https_out": {"direction"}, "gtp_mgmt": {"leakage"},
    "dns_tunnel": {"dns"}, "cleartext_creds": {"cleartext"}, "gtpdoor": {"leakage"},
    "off_window": {"off_hours"}, "new_ntp": {"time_source"},
}


# --hard: harder variants of the injections, to show where detection stops working.
# (name "type:label", --inject spec without bs, expected detectors). "{ems}" etc. in a
# spec are replaced with that role's first address in the generated inventory, so a
# variant can use a peer the stations already talk to in training. Each type tried
# also gets its default row for reference. dns_tunnel's label lengths (40-60 + 20-40
# characters) are fixed in the generator; only the query rate can be made harder.
HARD_VARIANTS = [
    ("exfil:default", "exfil", {"volume"}),
    ("exfil:1M", "exfil:bytes=1M", {"volume"}),
    ("exfil:500k", "exfil:bytes=500k", {"volume"}),
    ("exfil:300k", "exfil:bytes=300k", {"volume"}),
    ("exfil:100k", "exfil:bytes=100k", {"volume"}),
    ("exfil:to EMS 2M", "exfil:peer={ems}", {"volume"}),
    ("exfil:to EMS 10M", "exfil:peer={ems},bytes=10M", {"volume"}),
    ("exfil:to EMS 1M", "exfil:peer={ems},bytes=1M", {"volume"}),
    ("exfil:to EMS 300k", "exfil:peer={ems},bytes=300k", {"volume"}),
    ("exfil:to EMS 100k", "exfil:peer={ems},bytes=100k", {"volume"}),
    ("beacon:default", "beacon", {"beacon"}),
    ("beacon:jitter 10%", "beacon:period=300,jitter=30", {"beacon"}),
    ("beacon:jitter 30%", "beacon:period=300,jitter=90", {"beacon"}),
    ("beacon:jitter 40%", "beacon:period=300,jitter=120", {"beacon"}),
    ("beacon:jitter 50%", "beacon:period=300,jitter=150", {"beacon"}),
    ("beacon:1 h", "beacon:period=3600,jitter=0", {"beacon"}),
    ("beacon:1 h, jitter 10%", "beacon:period=3600,jitter=360", {"beacon"}),
    ("beacon:1 h, jitter 30%", "beacon:period=3600,jitter=1080", {"beacon"}),
    ("beacon:1 h, jitter 50%", "beacon:period=3600,jitter=1800", {"beacon"}),
    ("beacon:2 h", "beacon:period=7200,jitter=0", {"beacon"}),
    ("beacon:4 h", "beacon:period=14400,jitter=0", {"beacon"}),
    ("beacon:to EMS:443", "beacon:peer={ems}", {"beacon", "rate"}),
    ("new_peer:default", "new_peer", {"new_peer"}),
    ("new_peer:1 session", "new_peer:count=1", {"new_peer"}),
    ("new_peer:EMS:8443", "new_peer:peer={ems},port=8443", {"new_peer"}),
    ("new_peer:EMS:443", "new_peer:peer={ems},port=443", {"new_peer"}),
    ("https_out:default", "https_out", {"direction"}),
    ("https_out:to EMS:443", "https_out:peer={ems}", {"direction"}),
    ("https_out:to EMS:8443", "https_out:peer={ems},port=8443", {"direction"}),
    ("dns_tunnel:default", "dns_tunnel", {"dns"}),
    ("dns_tunnel:every 60 s", "dns_tunnel:period=60,jitter=20", {"dns"}),
    ("dns_tunnel:every 300 s", "dns_tunnel:period=300,jitter=100", {"dns"}),
    ("dns_tunnel:3 queries", "dns_tunnel:start=16:00,end=16:00:30,period=10,jitter=3",
     {"dns"}),
    ("dns_tunnel:1 query", "dns_tunnel:start=16:00,end=16:00:05,period=10,jitter=0",
     {"dns"}),
    ("off_window:default", "off_window", {"off_hours"}),
    ("off_window:200k", "off_window:bytes=200k", {"off_hours"}),
    ("off_window:100k", "off_window:bytes=100k", {"off_hours"}),
    ("off_window:50k", "off_window:bytes=50k", {"off_hours"}),
    ("off_window:10k", "off_window:bytes=10k", {"off_hours"}),
]


def _hhmm(minutes):
    minutes = max(0, min(24 * 60, int(minutes)))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def varied_params(typ, rng):
    """Random parameters for one injection (--vary): its window, peer, port, sizes and
    periods drawn around the generator's defaults, so that the evaluation does not only
    see the default addresses and times. Returns 'key=value,...'."""
    ext = lambda: rng.choice(["203.0.113.", "198.51.100."]) + str(rng.randint(2, 250))  # noqa: E731
    dur = {"new_peer": (20, 120), "beacon": (240, 720), "exfil": (30, 120), "telnet": (10, 40),
           "unknown_proto": (10, 40), "ssh_out": (5, 20), "https_out": (5, 20),
           "off_window": (15, 30), "gtp_mgmt": (10, 40), "dns_tunnel": (15, 60),
           "cleartext_creds": (5, 15), "gtpdoor": (120, 300), "new_ntp": (60, 240)}[typ]
    length = rng.randint(*dur)
    if typ == "off_window":  # a weekday: any time is outside Sunday's window
        start = rng.randint(5 * 60, 22 * 60)
    else:
        start = rng.randint(0, 24 * 60 - length)
    kv = {"start": _hhmm(start), "end": _hhmm(start + length)}
    if typ in ("new_peer", "beacon", "exfil", "https_out", "cleartext_creds", "gtpdoor",
               "new_ntp"):
        kv["peer"] = ext()
    if typ == "new_peer":
        kv["port"] = rng.choice([443, 8443, 9443, 4433])
        kv["count"] = rng.randint(1, 5)
    elif typ == "beacon":
        period = rng.choice([60, 120, 300, 600, 900])
        kv["period"], kv["jitter"] = period, rng.randint(0, period // 10)
    elif typ == "exfil":
        kv["bytes"] = rng.choice(["1500k", "3M", "5M", "10M"])
        kv["rate"] = rng.choice(["1M", "2M", "4M", "8M"])
    elif typ == "unknown_proto":
        kv["port"] = rng.choice([4444, 31337, 47123, 5555, 60001])
    elif typ == "dns_tunnel":
        period = rng.choice([5, 10, 30, 60])
        kv["period"], kv["jitter"] = period, rng.randint(0, period // 3)
    elif typ == "gtpdoor":
        period = rng.choice([300, 600, 900, 1800])
        kv["period"], kv["jitter"] = period, rng.randint(0, period // 7)
    elif typ == "new_ntp":
        kv["period"] = rng.choice([64, 128, 256, 1024])
    return ",".join(f"{k}={v}" for k, v in kv.items())


class ToolError(Exception):
    """A tool exited with an error or was killed (the evaluation records it)."""


def bs_ids(n):
    """Base-station ids as mw-scengen names them: odd eNBs, even gNBs."""
    return [("enb" if i % 2 else "gnb") + f"-{i:03d}" for i in range(1, n + 1)]


def shift_day(iso, days):
    t = _dt.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ") + _dt.timedelta(days=days)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Tools:
    """The two binaries, and one place that runs them (one process at a time)."""

    def __init__(self, mastwatch, scengen, verbose=False):
        self.mastwatch = mastwatch
        self.scengen = scengen
        self.verbose = verbose
        self.seconds = {"generate": 0.0, "train": 0.0, "analyze": 0.0, "merge": 0.0}

    def _run(self, phase, args):
        if self.verbose:
            print("+", " ".join(args), file=sys.stderr)
        t0 = time.monotonic()
        p = subprocess.run(args, capture_output=True, text=True)
        self.seconds[phase] = self.seconds.get(phase, 0.0) + time.monotonic() - t0
        if p.returncode != 0:
            how = (f"killed by signal {-p.returncode}" if p.returncode < 0
                   else f"exit status {p.returncode}")
            tail = "; ".join(p.stderr.strip().splitlines()[-3:])
            raise ToolError(f"{os.path.basename(args[0])} {args[1]}: {how}: {tail}")
        return p

    def has_train(self):
        """True when this mastwatch has the train command (`train --help` works)."""
        if not os.access(self.mastwatch, os.X_OK):
            return False
        p = subprocess.run([self.mastwatch, "train", "--help"], capture_output=True, text=True)
        return p.returncode == 0

    def has_merge(self):
        """True when `mastwatch model` knows merge (its usage or help mentions it)."""
        if not os.access(self.mastwatch, os.X_OK):
            return False
        p = subprocess.run([self.mastwatch, "model", "--help"], capture_output=True, text=True)
        return "merge" in p.stdout + p.stderr

    def generate(self, out, seed, start, days, nbs, injects=(), truth=None, inventory=None,
                 site=SITE):
        args = [self.scengen, "-q", "-o", out, "--seed", str(seed), "--start", start,
                "--days", str(days), "--base-stations", str(nbs), "--site", site]
        for spec in injects:
            args += ["--inject", spec]
        if truth:
            args += ["--truth", truth]
        if inventory:
            args += ["--inventory", inventory]
        self._run("generate", args)

    def train(self, inventory, model, inputs):
        p = self._run("train", [self.mastwatch, "train", "--inventory", inventory, "-o", model]
                      + list(inputs))
        return p.stderr

    def merge(self, out, models):
        self._run("merge", [self.mastwatch, "model", "merge", "-o", out] + list(models))

    def show(self, model):
        return self._run("merge", [self.mastwatch, "model", "show", model]).stdout

    def analyze(self, inventory, model, inputs, out_h5, jsonl):
        p = self._run("analyze", [self.mastwatch, "analyze", "-q", "--inventory", inventory,
                                  "--model", model, "-o", out_h5, "--anomalies", jsonl]
                      + list(inputs))
        return load_anomalies(jsonl), p.stderr


def default_tools(build_dir=None):
    b = build_dir or os.path.join(ROOT, "build")
    return Tools(os.path.join(b, "analyzer", "mastwatch"),
                 os.path.join(b, "analyzer", "scengen", "mw-scengen"))


def load_anomalies(path):
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                a = json.loads(line)
            except ValueError as e:
                raise ToolError(f"{path}:{n}: not JSON: {e}")
            if not isinstance(a, dict):
                raise ToolError(f"{path}:{n}: not a JSON object")
            out.append(a)
    # a live run may print an anomaly again as it grows ("event"); keep its last state
    if any("anomaly_id" in a and a.get("event", "final") != "final" for a in out):
        last = {}
        for i, a in enumerate(out):
            last[a.get("anomaly_id", f"line{i}")] = a
        out = list(last.values())
    return out


def learning_lines(stderr):
    """The 'still learning' lines of a train/analyze stderr, numbers blanked."""
    return sorted({re.sub(r"\d+(\.\d+)?", "N", ln.strip())
                   for ln in stderr.splitlines() if "learning" in ln.lower()})


def inventory_addresses(path):
    """{bs id: [address, ...]} from a site inventory written by mw-scengen."""
    out, cur = {}, None
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*- id:\s*(\S+)", line)
            if m:
                cur = m.group(1).strip('"')
                out[cur] = []
                continue
            m = re.match(r"\s*prefixes:\s*\[(.*)\]", line)
            if m and cur is not None:
                out[cur] = [p.strip().strip('"').split("/")[0] for p in m.group(1).split(",")
                            if p.strip()]
            if line.startswith("roles:"):
                cur = None
    return out


def inventory_roles(path):
    """{role: its first IPv4 address} from a site inventory written by mw-scengen."""
    out, in_roles = {}, False
    with open(path) as f:
        for line in f:
            if line.startswith("roles:"):
                in_roles = True
                continue
            if in_roles and not line.startswith(" "):
                in_roles = False
            m = re.match(r"\s+(\w+):\s*\[(.*)\]", line) if in_roles else None
            if m:
                v4 = [p.strip().strip('"').split("/")[0] for p in m.group(2).split(",")
                      if p.strip() and ":" not in p]
                if v4:
                    out[m.group(1)] = v4[0]
    return out


def involved_stations(inj, addresses):
    """The injected station, plus any other station that is an endpoint of one of
    the injected flows (ssh_out's X2 neighbour), so that an anomaly about the
    victim end is not counted as a false alarm."""
    names = {inj["base_station"]}
    by_addr = {a: bs for bs, addrs in addresses.items() for a in addrs}
    for fl in inj.get("flows", []):
        for end in (fl.get("src"), fl.get("dst")):
            if end in by_addr:
                names.add(by_addr[end])
    return names


def overlaps(a, inj, slack=SLACK_S):
    try:
        s, e = int(a["start_us"]), int(a["end_us"])
    except (KeyError, TypeError, ValueError):
        return False
    lo = (inj["start"] - slack) * 1_000_000
    hi = (inj["end"] + slack) * 1_000_000
    return s <= hi and e >= lo


@functools.lru_cache(maxsize=65536)
def _addr(x):
    try:
        return str(ipaddress.ip_address(str(x).strip("[]")))
    except ValueError:
        return None


def injection_peers(inj, addresses=None):
    """The outside end(s) of an injection: its configured peer, any listed `peers` (real
    captures with several), and every endpoint of its flows that is not the injected
    station itself (a UE inside GTP-U, the X2 neighbour of ssh_out, the resolver)."""
    own = {_addr(a) for a in (addresses or {}).get(inj["base_station"], [])}
    peers = {_addr((inj.get("params") or {}).get("peer"))}
    peers |= {_addr(p) for p in inj.get("peers") or []}
    for fl in inj.get("flows", []):
        peers |= {_addr(fl.get("src")), _addr(fl.get("dst"))}
    return {p for p in peers if p} - own


def names_peer(a, peers):
    """The anomaly names one of the injection's peers (no peers: any anomaly does). Inside
    GTP-U the anomaly's local side is the subscriber, which the injection lists as an
    endpoint: naming it is naming the right flow (its peer may be the station itself)."""
    if not peers or _addr(a.get("peer")) in peers:
        return True
    return bool(a.get("inner")) and _addr(a.get("local")) in peers


def expected_for(inj):
    if inj.get("expected"):
        return set(inj["expected"])
    return EXPECTED_BY_TYPE.get(inj["type"], set())


def match(anomalies, truth, addresses=None):
    """Marks each anomaly true/false positive, each injection found or not.

    Returns (injection results, anomaly results). An injection is found when an
    anomaly of an expected detector names its base station AND one of its peers
    (injection_peers) and overlaps its window (slack SLACK_S); found_any says the same
    for any detector. An anomaly is a true positive when it names a station involved
    in an injection of the scenario, overlaps its window and names one of its peers
    (or no peer at all)."""
    addresses = addresses or {}
    inj_res = []
    for inj in truth:
        expected = expected_for(inj)
        peers = injection_peers(inj, addresses)
        near = [a for a in anomalies
                if a.get("bs") == inj["base_station"] and overlaps(a, inj)]
        hits = [a for a in near if names_peer(a, peers)]
        found_by = sorted({a.get("detector") for a in hits if a.get("detector") in expected})
        inj_res.append({
            "id": inj.get("id"), "type": inj["type"], "name": inj.get("name", inj["type"]),
            "bs": inj["base_station"], "peers": sorted(peers),
            "start": inj["start"], "end": inj["end"], "expected": sorted(expected),
            "start_iso": inj.get("start_iso"), "end_iso": inj.get("end_iso"),
            "real": bool(inj.get("real")), "source": inj.get("source"),
            "in_maintenance_window": inj.get("in_maintenance_window"),
            "found": bool(found_by), "found_by": found_by, "found_any": bool(hits),
            "other_detectors": sorted({str(a.get("detector")) for a in hits} - set(found_by)),
            # what was said about this station in the window, for a missed injection
            "near": [] if found_by else [
                {"detector": a.get("detector"), "peer": a.get("peer"),
                 "peer_port": a.get("peer_port"), "right_peer": names_peer(a, peers),
                 "explanation": a.get("explanation")} for a in near[:8]],
        })
    an_res = []
    pre = [(inj, involved_stations(inj, addresses), injection_peers(inj, addresses))
           for inj in truth]
    for a in anomalies:
        tp = any(a.get("bs") in inv and overlaps(a, inj)
                 and (not a.get("peer") or names_peer(a, peers))
                 for inj, inv, peers in pre)
        an_res.append({"tp": tp, "detector": a.get("detector"), "bs": a.get("bs"),
                       "severity": a.get("severity"), "start": a.get("start"),
                       "end": a.get("end"), "score": a.get("score"),
                       "peer": a.get("peer"), "peer_port": a.get("peer_port"),
                       "protocol": a.get("protocol"), "explanation": a.get("explanation")})
    return inj_res, an_res


def above_low(a):
    return a.get("severity") in ("medium", "high")


# ---------------------------------------------------------------------------
# the evaluation


def _check_same(path, ref, what):
    with open(path, "rb") as f1, open(ref, "rb") as f2:
        if f1.read() != f2.read():
            raise ToolError(f"{what}: the inventory differs from the training inventory")


CLEAN_KINDS = ("clean", "midsession", "oneway")  # days without injection
KIND_LABEL = {"clean": "normal", "midsession": "mid-session (cut at a random frame)",
              "oneway": "one-way (one direction only)"}
MAINT_SUNDAY = "2026-11-15T00:00:00Z"  # the Sunday after the training week


def _capture_span_days(path):
    import mw_realattack
    _, pkts = mw_realattack.read_capture(path)
    return (pkts[-1][0] - pkts[0][0]) / 86400e9 if len(pkts) > 1 else 0.0


def run_evaluation(tools, workdir, seed_base=DEFAULT_SEED_BASE, repeat=1, clean_days=3,
                   nbs=4, train_days=7, behaviours=None, log=None, vary=False,
                   real=None, real_repeats=0, hard_days=0, captures=None):
    """Runs the whole evaluation in workdir; returns a JSON-able result dict.

    real: names of mw_realattack behaviours, each injected alone into a fresh clean day
    (random station, day and time; inside a maintenance window with p=0.3, outside
    when longer than the window) in each of the
    first real_repeats repeats. hard_days: per repeat, that many mid-session days (a
    1.5-day capture cut at a random frame of its first half) and one-way days (only the
    frames from the base stations, or only those to them, alternating)."""
    behaviours = BEHAVIOURS if behaviours is None else behaviours
    real = list(real or [])
    stations = bs_ids(nbs)
    log = log or (lambda *a: None)
    n_rep = max(repeat, real_repeats if real else 0)
    res = {"seed_base": seed_base, "repeat": repeat, "clean_days": clean_days,
           "base_stations": nbs, "train_days": train_days, "site": SITE, "vary": vary,
           "real": real, "real_repeats": real_repeats if real else 0, "hard_days": hard_days,
           "scenarios": [], "errors": [], "learning": []}
    learning = set()
    if real or hard_days:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import mw_realattack
    for r in range(n_rep):
        sb = seed_base + 1000 * r
        d = os.path.join(workdir, f"r{r}")
        os.makedirs(d, exist_ok=True)
        inv = os.path.join(d, "site.yaml")
        week = os.path.join(d, "train-week.pcap")
        model = os.path.join(d, "model.h5")
        try:
            log(f"repeat {r + 1}/{n_rep}: training week, seed {sb}")
            tools.generate(week, sb, TRAIN_START, train_days, nbs, inventory=inv)
            learning.update(learning_lines(tools.train(inv, model, [week])))
        except ToolError as e:
            res["errors"].append(f"repeat {r}: training: {e}")
            log(f"ERROR: {e}")
            continue
        addresses = inventory_addresses(inv)
        roles = inventory_roles(inv)
        days = []
        if r < repeat:
            days += [("behaviour", i, b) for i, b in enumerate(behaviours)]
            days += [("clean", c, None) for c in range(clean_days)]
        if r < real_repeats:
            days += [("real", i, b) for i, b in enumerate(real)]
        days += [("midsession", c, None) for c in range(hard_days)]
        days += [("oneway", c, None) for c in range(hard_days)]
        for kind, i, beh in days:
            ndays, post = 1, None
            if kind == "behaviour":
                name, spec, _ = beh
                bs = stations[(i + r) % nbs]
                typ, _, extra = spec.partition(":")
                if "{" in extra:  # a site role's address ({ems}), from the inventory
                    try:
                        extra = extra.format(**roles)
                    except KeyError as e:
                        res["errors"].append(f"repeat {r}: {name}: no role {e} in {inv}")
                        continue
                seed, start, tag = sb + 1 + i, EVAL_START, re.sub(r"\W", "_", name)
                if vary:
                    extra = ",".join(x for x in (extra, varied_params(
                        typ, random.Random(seed))) if x)
                inject = [f"{typ}:bs={bs}" + (f",{extra}" if extra else "")]
            elif kind == "clean":
                name, bs, inject = "clean", None, []
                seed, start, tag = sb + 500 + i, shift_day(EVAL_START, i), f"clean{i}"
            elif kind == "real":
                name, inject = beh, []
                seed, tag = sb + 700 + i, "real_" + re.sub(r"\W", "_", beh)
                rng = random.Random(seed)
                window = "in" if rng.random() < 0.3 else "out"
                start = MAINT_SUNDAY if window == "in" else shift_day(EVAL_START,
                                                                      rng.randint(0, 6))
                bs = rng.choice(stations)
                post = ("real", beh, bs, window)
            elif kind == "midsession":
                name, bs, inject = "midsession", None, []
                seed, tag = sb + 800 + i, f"midsession{i}"
                start, ndays = shift_day(EVAL_START, random.Random(seed).randint(0, 5)), 1.5
                post = ("cut",)
            else:
                name, bs, inject = "oneway", None, []
                seed, tag = sb + 900 + i, f"oneway{i}"
                start = shift_day(EVAL_START, random.Random(seed).randint(0, 6))
                post = ("oneway", "from-bs" if (r + i) % 2 == 0 else "to-bs")
            pcap = os.path.join(d, tag + ".pcap")
            truth_f = os.path.join(d, tag + ".truth.json")
            inv2 = os.path.join(d, tag + ".site.yaml")
            sc = {"repeat": r, "kind": kind, "name": name, "seed": seed, "start": start,
                  "bs": bs, "inject": inject, "injections": [], "anomalies": [], "error": None}
            try:
                tools.generate(pcap, seed, start, ndays, nbs, inject, truth_f, inv2)
                _check_same(inv2, inv, pcap)
                if post and post[0] == "real":
                    day, pcap = pcap, os.path.join(d, tag + ".merged.pcap")
                    t0 = time.monotonic()
                    # longer than a maintenance window (malware_c2: 2.2 h): outside
                    e = mw_realattack.inject(beh, day, inv, pcap, truth_f, bs=bs, seed=seed,
                                             window=post[3], caps=captures, fallback=True)
                    tools.seconds["inject"] = tools.seconds.get("inject", 0.0) + \
                        time.monotonic() - t0
                    sc["start"] = e["start_iso"]
                    sc["inject"] = [f"{beh} from {e['source']} on {bs} with "
                                    f"{', '.join(e['peers'])} at {e['start_iso']}"
                                    + (" (maintenance window)" if e["in_maintenance_window"]
                                       else "")]
                elif post and post[0] == "cut":
                    src, pcap = pcap, os.path.join(d, tag + ".cut.pcap")
                    n = mw_realattack.cut(src, pcap, seed)
                    sc["inject"] = [f"1.5 days from {start[:10]}, seed {seed}, cut at frame {n}"]
                elif post and post[0] == "oneway":
                    src, pcap = pcap, os.path.join(d, tag + "." + post[1] + ".pcap")
                    k, n = mw_realattack.one_way(src, pcap, inv, post[1])
                    sc["name"] = f"oneway:{post[1]}"
                    sc["inject"] = [f"{start[:10]}, seed {seed}, {post[1]} only: {k} of {n} frames"]
                if kind in CLEAN_KINDS:
                    sc["bs_days"] = nbs * (1.0 if kind == "clean" else _capture_span_days(pcap))
                with open(truth_f) as f:
                    truth = json.load(f)
                anomalies, err = tools.analyze(inv, model, [pcap], pcap[:-5] + ".h5",
                                               pcap[:-5] + ".anomalies.jsonl")
                learning.update(learning_lines(err))
                sc["injections"], sc["anomalies"] = match(anomalies, truth, addresses)
            except (ToolError, OSError, ValueError, mw_realattack_error()) as e:
                sc["error"] = str(e)
                res["errors"].append(f"repeat {r}: {name}: {e}")
                log(f"ERROR: {e}")
            res["scenarios"].append(sc)
            if kind in ("behaviour", "real") and not sc["error"]:
                ok = all(x["found"] for x in sc["injections"])
                log(f"  {name} on {bs}: {'found' if ok else 'MISSED'}, "
                    f"{len(sc['anomalies'])} anomalies")
            elif kind in ("midsession", "oneway") and not sc["error"]:
                log(f"  {sc['name']} day: {len(sc['anomalies'])} anomalies")
    res["learning"] = sorted(learning)
    res["seconds"] = {k: round(v, 2) for k, v in tools.seconds.items()}
    res["summary"] = summarize(res, behaviours)
    return res


def mw_realattack_error():
    """mw_realattack.Error when that module is loaded (an exception class to catch)."""
    m = sys.modules.get("mw_realattack")
    return m.Error if m else ToolError


def _real_catalogue():
    try:
        import mw_realattack
    except ImportError:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import mw_realattack
    return mw_realattack.BY_NAME


def _blank_numbers(text):
    return re.sub(r"\b\d[\d.:]*\b", "N", str(text or ""))


def summarize(res, behaviours=None):
    behaviours = BEHAVIOURS if behaviours is None else behaviours
    per_beh = {}
    for name, spec, exp in behaviours:
        per_beh[name] = {"expected": sorted(exp), "injected": 0, "found": 0, "errors": 0,
                         "found_by": {}, "other_detectors": {}, "stations": []}
    per_real = {}
    cat = _real_catalogue() if res.get("real") else {}
    for name in res.get("real") or []:
        per_real[name] = {"source": cat[name]["file"], "expected": sorted(cat[name]["expected"]),
                          "injected": 0, "found": 0, "found_any": 0, "errors": 0,
                          "in_window": 0, "found_by": {}, "other_detectors": {},
                          "stations": []}
    det = {k: {"total": 0, "tp": 0, "fp": 0, "clean": 0, "clean_above_low": 0}
           for k in DETECTORS}
    kinds = {}  # day kind (and one-way direction) -> false alarm counts
    tot = tp = 0
    clean_n = clean_above = clean_bsdays = 0
    clean_by_det = {}
    fa_groups = {}
    for sc in res["scenarios"]:
        kind = sc["kind"]
        if sc["error"]:
            if kind == "behaviour":
                per_beh[sc["name"]]["errors"] += 1
            elif kind == "real":
                per_real[sc["name"]]["errors"] += 1
            continue
        if kind in ("behaviour", "real"):
            b = per_beh[sc["name"]] if kind == "behaviour" else per_real[sc["name"]]
            for inj in sc["injections"]:
                b["injected"] += 1
                b["found"] += inj["found"]
                b["stations"].append(inj["bs"])
                if kind == "real":
                    b["found_any"] += inj["found_any"]
                    b["in_window"] += bool(inj.get("in_maintenance_window"))
                for k in inj["found_by"]:
                    b["found_by"][k] = b["found_by"].get(k, 0) + 1
                for k in inj["other_detectors"]:
                    b["other_detectors"][k] = b["other_detectors"].get(k, 0) + 1
        else:
            bsd = sc.get("bs_days", res["base_stations"])
            for key in {kind, sc["name"]}:
                kd = kinds.setdefault(key, {"days": 0, "bs_days": 0.0, "anomalies": 0,
                                            "above_low": 0, "by_detector": {}})
                kd["days"] += 1
                kd["bs_days"] += bsd
                kd["anomalies"] += len(sc["anomalies"])
                kd["above_low"] += sum(above_low(a) for a in sc["anomalies"])
                for a in sc["anomalies"]:
                    kd["by_detector"][str(a["detector"])] = \
                        kd["by_detector"].get(str(a["detector"]), 0) + 1
            if kind == "clean":
                clean_bsdays += bsd
        for a in sc["anomalies"]:
            k = str(a["detector"])
            d = det.setdefault(k, {"total": 0, "tp": 0, "fp": 0, "clean": 0,
                                   "clean_above_low": 0})
            d["total"] += 1
            d["tp" if a["tp"] else "fp"] += 1
            tot += 1
            tp += a["tp"]
            if not a["tp"]:
                g = fa_groups.setdefault((kind, k, _blank_numbers(a.get("explanation"))),
                                         {"kind": kind, "detector": k, "count": 0,
                                          "example": a.get("explanation"),
                                          "example_day": f"{sc['name']} r{sc['repeat']} "
                                                         f"seed {sc['seed']}",
                                          "example_bs": a.get("bs"),
                                          "example_start": a.get("start")})
                g["count"] += 1
            if kind == "clean":
                d["clean"] += 1
                d["clean_above_low"] += above_low(a)
                clean_n += 1
                clean_above += above_low(a)
                clean_by_det[k] = clean_by_det.get(k, 0) + 1
    for b in list(per_beh.values()) + list(per_real.values()):
        b["recall"] = b["found"] / b["injected"] if b["injected"] else None
        b["meets_target"] = b["recall"] is not None and b["recall"] >= TARGET_RECALL
    for kd in kinds.values():
        kd["per_bs_day"] = kd["anomalies"] / kd["bs_days"] if kd["bs_days"] else None
        kd["above_low_per_bs_day"] = kd["above_low"] / kd["bs_days"] if kd["bs_days"] else None
        kd["meets_target"] = kd["per_bs_day"] is not None and \
            kd["per_bs_day"] <= TARGET_FA_PER_BS_DAY
    injected = sum(b["injected"] for b in per_beh.values())
    found = sum(b["found"] for b in per_beh.values())
    r_inj = sum(b["injected"] for b in per_real.values())
    r_found = sum(b["found"] for b in per_real.values())
    return {
        "behaviours": per_beh,
        "real": per_real,
        "detectors": det,
        "anomalies": tot, "true_positives": tp,
        "precision": tp / tot if tot else None,
        "recall": found / injected if injected else None,
        "injected": injected, "found": found,
        "real_recall": r_found / r_inj if r_inj else None,
        "real_injected": r_inj, "real_found": r_found,
        "clean_bs_days": clean_bsdays, "clean_anomalies": clean_n,
        "clean_above_low": clean_above,
        "fa_per_bs_day": clean_n / clean_bsdays if clean_bsdays else None,
        "fa_above_low_per_bs_day": clean_above / clean_bsdays if clean_bsdays else None,
        "clean_by_detector": clean_by_det,
        "day_kinds": kinds,
        "false_alarm_groups": sorted(fa_groups.values(), key=lambda g: -g["count"]),
        "targets": {"recall": TARGET_RECALL, "fa_per_bs_day": TARGET_FA_PER_BS_DAY},
    }


def _f(x, nd=2):
    return "-" if x is None else f"{x:.{nd}f}"


def _counts(d):
    return ", ".join(f"{k}×{v}" if v > 1 else k for k, v in sorted(d.items())) or "-"


def _missed_lines(res, kind, limit=40):
    """One line per missed injection, with what was said about its station meanwhile."""
    missed = [(sc, inj) for sc in res["scenarios"] for inj in sc["injections"]
              if sc["kind"] == kind and not inj["found"]]
    L = []
    for sc, inj in missed[:limit]:
        what = (f"`--inject {sc['inject'][0]}`" if kind == "behaviour"
                else sc["inject"][0])
        near = inj.get("near") or []
        L.append(f"- r{sc['repeat']} seed {sc['seed']} {sc['name']}: {what}; window "
                 f"{inj['start_iso']}..{inj['end_iso']}, peer(s) {', '.join(inj['peers'])}; "
                 + ("nothing on this station in the window" if not near else
                    f"{len(near)} anomal{'y' if len(near) == 1 else 'ies'} on it:"))
        for a in near[:4]:
            L.append(f"  - {a['detector']} peer {a['peer']}:{a['peer_port']}"
                     f"{'' if a['right_peer'] else ' (WRONG peer)'}: "
                     f"{str(a['explanation'])[:160]}")
    if len(missed) > limit:
        L.append(f"- ... {len(missed) - limit} more in the JSON (--json)")
    return missed, L


def markdown(res):
    s = res["summary"]
    L = []
    L.append("# mastwatch detector evaluation\n")
    L.append(f"seed base {res['seed_base']}, {res['repeat']} repeat(s), training "
             f"{res['train_days']} days × {res['base_stations']} base stations, "
             f"one evaluation day per behaviour and repeat, {res['clean_days']} clean "
             f"day(s) per repeat; match slack {SLACK_S} s, found = expected detector + "
             "right station + right peer; "
             + ("injection windows, peers and parameters drawn at random (--vary).\n"
                if res.get("vary") else "injections at the generator's defaults.\n"))
    if res.get("real_repeats"):
        L.append(f"Real attacks: {len(res['real'])} behaviour(s) × {res['real_repeats']} "
                 "repeat(s), each alone in a fresh clean day, random station, day and time "
                 "(inside a maintenance window with p=0.3 when it fits), peers drawn from "
                 "198.51.100.0/24 and 203.0.113.0/24.")
    if res.get("real_skipped"):
        L.append(f"Real attacks SKIPPED: {res['real_skipped']}")
    if res.get("hard_days"):
        L.append(f"Hard clean days: {res['hard_days']} mid-session and {res['hard_days']} "
                 "one-way day(s) per repeat.")
    L.append("")
    if s["behaviours"]:
        L.append("## Recall per generated behaviour (target ≥ %.2f)\n" % TARGET_RECALL)
        L.append("| behaviour | expected | found/injected | recall | target | found by | "
                 "other detectors on it | stations |")
        L.append("|---|---|---|---|---|---|---|---|")
        for name, b in s["behaviours"].items():
            ok = "ok" if b["meets_target"] else ("ERROR" if b["errors"] else "MISS")
            rec = f"{b['found']}/{b['injected']}" + (f" ({b['errors']} err)" if b["errors"] else "")
            L.append(f"| {name} | {', '.join(b['expected'])} | {rec} | {_f(b['recall'])} | {ok} | "
                     f"{_counts(b['found_by'])} | {_counts(b['other_detectors'])} | "
                     f"{', '.join(sorted(set(b['stations']))) or '-'} |")
        missed, lines = _missed_lines(res, "behaviour")
        if missed:
            L.append(f"\nMissed generated injections ({len(missed)}):\n")
            L += lines
        L.append(f"\nGenerated recall {s['found']}/{s['injected']} = {_f(s['recall'])}.\n")
    if s.get("real"):
        L.append("## Recall per real attack capture (target ≥ %.2f)\n" % TARGET_RECALL)
        L.append("| behaviour | source | expected | found/injected | recall | target | "
                 "any detector | found by | other detectors on it | in maint. window |")
        L.append("|---|---|---|---|---|---|---|---|---|---|")
        for name, b in s["real"].items():
            ok = "ok" if b["meets_target"] else ("ERROR" if b["errors"] else "MISS")
            rec = f"{b['found']}/{b['injected']}" + (f" ({b['errors']} err)" if b["errors"] else "")
            L.append(f"| {name} | {b['source']} | {', '.join(b['expected'])} | {rec} | "
                     f"{_f(b['recall'])} | {ok} | {b['found_any']}/{b['injected']} | "
                     f"{_counts(b['found_by'])} | {_counts(b['other_detectors'])} | "
                     f"{b['in_window']}/{b['injected']} |")
        missed, lines = _missed_lines(res, "real")
        if missed:
            L.append(f"\nMissed real injections ({len(missed)}):\n")
            L += lines
        L.append(f"\nReal-attack recall {s['real_found']}/{s['real_injected']} = "
                 f"{_f(s['real_recall'])}.\n")
    L.append(f"Precision {s['true_positives']}/{s['anomalies']} = {_f(s['precision'])} "
             "(all anomalies of all days; a true positive names an injected station and "
             "peer inside the window).\n")
    L.append("## Anomalies per detector\n")
    L.append("| detector | anomalies | true pos. | false pos. | on clean days | "
             "clean, above low |")
    L.append("|---|---|---|---|---|---|")
    for k, d in s["detectors"].items():
        L.append(f"| {k} | {d['total']} | {d['tp']} | {d['fp']} | {d['clean']} | "
                 f"{d['clean_above_low']} |")
    L.append("\n## False alarms per base station-day (target ≤ %.2f)\n" % TARGET_FA_PER_BS_DAY)
    L.append("| day kind | days | base station-days | anomalies | per bs-day | target | "
             "above low | per bs-day | by detector |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    order = ["clean", "midsession", "oneway", "oneway:from-bs", "oneway:to-bs"]
    for key in order:
        kd = s.get("day_kinds", {}).get(key)
        if not kd:
            continue
        label = KIND_LABEL.get(key, "  " + key.replace("oneway:", "one-way, only ")
                               .replace("from-bs", "from the stations")
                               .replace("to-bs", "to the stations"))
        ok = "ok" if kd["meets_target"] else "OVER"
        L.append(f"| {label} | {kd['days']} | {kd['bs_days']:.1f} | {kd['anomalies']} | "
                 f"{_f(kd['per_bs_day'], 3)} | {ok} | {kd['above_low']} | "
                 f"{_f(kd['above_low_per_bs_day'], 3)} | {_counts(kd['by_detector'])} |")
    groups = s.get("false_alarm_groups", [])
    if groups:
        nfp = sum(g["count"] for g in groups)
        L.append(f"\n## False alarms by kind, detector and explanation (numbers blanked; "
                 f"{nfp} in {len(groups)} groups)\n")
        L.append("| day kind | detector | count | example (day, bs, start) | explanation |")
        L.append("|---|---|---|---|---|")
        for g in groups[:30]:
            L.append(f"| {g['kind']} | {g['detector']} | {g['count']} | {g['example_day']}, "
                     f"{g['example_bs']}, {g['example_start']} | "
                     f"{str(g['example'] or '').replace('|', '/')[:160]} |")
        if len(groups) > 30:
            L.append(f"\n... {len(groups) - 30} more groups in the JSON (--json).")
    if res["learning"]:
        L.append("\n## Still learning (stderr of train/analyze)\n")
        L += [f"- `{x}`" for x in res["learning"][:20]]
    if res["errors"]:
        L.append("\n## Errors\n")
        L += [f"- {e}" for e in res["errors"]]
    sec = res.get("seconds", {})
    L.append("\nTime: " + ", ".join(f"{k} {v:.1f} s" for k, v in sec.items() if v) + ".")
    return "\n".join(L) + "\n"


HARD_DEFAULTS = {  # the generator's defaults, for the reference rows (docs/SCENGEN.md)
    "exfil": "bytes=2M, rate=4M, to 198.51.100.23:443, 01:30",
    "beacon": "period=300, jitter=15, to 203.0.113.77:443, 08:00-20:00",
    "new_peer": "peer=203.0.113.45, port=8443, count=3",
    "https_out": "peer=198.51.100.80, port=443",
    "dns_tunnel": "period=10, jitter=3, 16:00-16:30 (180 queries)",
    "off_window": "bytes=400k from the EMS, 14:00",
}


def markdown_hard(res, variants=None):
    """The --hard report: one row per variant, found/injected by an expected detector,
    which detectors found it, and which other detectors fired on it."""
    variants = HARD_VARIANTS if variants is None else variants
    s = res["summary"]
    specs = {name: spec for name, spec, _ in variants}
    role_of = {}  # actual address -> "{role}" placeholder, from the first scenario using it
    for sc in res["scenarios"]:
        if sc["kind"] == "behaviour" and "{" in specs.get(sc["name"], ""):
            extra = specs[sc["name"]].partition(":")[2]
            for ph, val in zip(re.findall(r"=(\{\w+\})", extra),
                               re.findall(r"peer=([^,]+)", sc["inject"][0])):
                role_of[ph] = f"{val} ({ph.strip('{}').upper()})"
    L = ["# mastwatch detector limits (scripts/evaluate --hard)\n"]
    L.append(f"seed base {res['seed_base']}, {res['repeat']} repeat(s), training "
             f"{res['train_days']} days × {res['base_stations']} base stations, one "
             f"evaluation day per variant and repeat, {res['clean_days']} clean day(s) per "
             f"repeat; match slack {SLACK_S} s. Found = an anomaly of an expected detector on "
             "the injected station overlapping the window.\n")
    L.append("| variant | parameters | expected | found/injected | found by | "
             "other detectors on it |")
    L.append("|---|---|---|---|---|---|")
    for name, b in s["behaviours"].items():
        typ, _, label = name.partition(":")
        extra = specs.get(name, "").partition(":")[2]
        for ph, txt in role_of.items():
            extra = extra.replace(ph, txt)
        params = extra.replace(",", ", ") if extra else HARD_DEFAULTS.get(typ, "defaults")
        rec = f"{b['found']}/{b['injected']}" + (f" ({b['errors']} err)" if b["errors"] else "")
        if b["injected"] and b["found"] < b["injected"]:
            rec = f"**{rec}**"
        L.append(f"| {typ} {label} | {params} | {', '.join(b['expected'])} | {rec} | "
                 f"{_counts(b['found_by'])} | {_counts(b['other_detectors'])} |")
    L.append(f"\nOverall {s['found']}/{s['injected']}; precision {s['true_positives']}/"
             f"{s['anomalies']} = {_f(s['precision'])}; clean days: {s['clean_anomalies']} "
             f"anomalies in {s['clean_bs_days']} base station-days.")
    if res["learning"]:
        L.append("\nStill learning: " + "; ".join(f"`{x}`" for x in res["learning"][:5]))
    if res["errors"]:
        L.append("\n## Errors\n")
        L += [f"- {e}" for e in res["errors"]]
    sec = res.get("seconds", {})
    L.append("\nTime: " + ", ".join(f"{k} {v:.1f} s" for k, v in sec.items() if v) + ".")
    return "\n".join(L) + "\n"


# ---------------------------------------------------------------------------
# model comparison (model_merge test)

_SKIP_NAME = re.compile(r"source|input|file|path|creat|written|host|cmdline|command|argv|uuid",
                        re.I)


def _rows(ds):
    import numpy as np
    a = ds[()]
    if not isinstance(a, np.ndarray) or a.ndim == 0:
        return [(_norm(a),)]
    if a.dtype.names:
        return [tuple(_norm(row[n]) for n in a.dtype.names) for row in a]
    return [(_norm(x),) for x in a]


def _norm(x):
    import numpy as np
    if isinstance(x, np.ndarray):
        return tuple(_norm(v) for v in x.reshape(-1))
    if isinstance(x, (bytes, np.bytes_)):
        return bytes(x)
    if isinstance(x, (np.floating, float)):
        return float(x)
    if isinstance(x, (np.integer, int, np.bool_)):
        return int(x)
    return x


def _close(a, b, rtol=1e-6, atol=1e-9):
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_close(x, y, rtol, atol) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        try:
            a, b = float(a), float(b)
        except (TypeError, ValueError):
            return False
        if a != a and b != b:
            return True
        return abs(a - b) <= atol + rtol * max(abs(a), abs(b))
    return a == b


def _sort_key(row):
    return tuple((0, x) if not isinstance(x, float) else (1, float(f"{x:.7g}")) for x in row)


def compare_models(p1, p2):
    """Differences between two model files: every dataset as an unordered multiset
    of rows (floats with a relative tolerance of 1e-6), and root attributes, except
    datasets/attributes whose names speak of sources, files or creation time.
    Returns a list of human-readable differences (empty when equal)."""
    import h5py
    diffs = []

    def datasets(f):
        out = {}
        f.visititems(lambda n, o: out.__setitem__(n, o) if isinstance(o, h5py.Dataset) else None)
        return {n: o for n, o in out.items() if not _SKIP_NAME.search(n)}

    with h5py.File(p1, "r") as f1, h5py.File(p2, "r") as f2:
        a1 = {k: v for k, v in f1.attrs.items() if not _SKIP_NAME.search(k)}
        a2 = {k: v for k, v in f2.attrs.items() if not _SKIP_NAME.search(k)}
        for k in sorted(set(a1) | set(a2)):
            if k not in a1 or k not in a2:
                diffs.append(f"root attribute {k} only in {'the first' if k in a1 else 'the second'}")
                continue
            v1, v2 = _norm(a1[k]), _norm(a2[k])
            if not _close(v1, v2):
                diffs.append(f"root attribute {k}: {a1[k]!r} != {a2[k]!r}")
        d1, d2 = datasets(f1), datasets(f2)
        for n in sorted(set(d1) | set(d2)):
            if n not in d1 or n not in d2:
                diffs.append(f"dataset /{n} only in {'the first' if n in d1 else 'the second'}")
                continue
            if d1[n].dtype.names != d2[n].dtype.names:
                diffs.append(f"/{n}: fields differ: {d1[n].dtype.names} != {d2[n].dtype.names}")
                continue
            r1, r2 = sorted(_rows(d1[n]), key=_sort_key), sorted(_rows(d2[n]), key=_sort_key)
            if len(r1) != len(r2):
                diffs.append(f"/{n}: {len(r1)} rows != {len(r2)} rows")
                continue
            bad = [(x, y) for x, y in zip(r1, r2) if not _close(x, y)]
            if bad:
                diffs.append(f"/{n}: {len(bad)} of {len(r1)} rows differ, first: "
                             f"{bad[0][0]!r} != {bad[0][1]!r}")
    return diffs
