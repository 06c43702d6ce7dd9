"""Flow records of a results file or a whole night in pandas, with readable columns.

    import mastwatch.flows as mf
    df = mf.load("out.h5")                                   # every column + readable ones
    df = mf.load("NIGHT", columns=["bs", "plane_name", "c2s_bytes", "s2c_bytes"])
    for part in mf.load("NIGHT", columns=["flow_id", "src", "dst"], chunk_rows=1 << 20):
        ...                                                  # an iterator of DataFrames

From a shell:  PYTHONPATH=python /usr/bin/python3 -m mastwatch.flows out.h5 [--csv]

`columns` may name raw members of /flows (docs/SCHEMA.md) and the readable ones added here:
src/dst (text addresses), master/app/protocol (nDPI names), category_name, kind_name,
end_reason_name, first/last (UTC timestamps), risks (comma-separated names), host (str),
service_name, plane_name, local_role_name/peer_role_name, orient_name and bs (base station).
Only the members those need are read from the file (an HDF5 field selection), so a few columns
of a big night cost a few columns of memory. A night adds `site` and `capture` (categorical).
"""
import glob
import os
import sys

import numpy as np
import pandas as pd

from . import cli, results
from .results import addr as _addr  # noqa: F401  (kept for older callers: mw_flows._addr)

# readable column -> (members it needs, /meta table)
DERIVED = {
    "src": (("src_hi", "src_lo"), None),
    "dst": (("dst_hi", "dst_lo"), None),
    "master": (("master_proto",), "protocols"),
    "app": (("app_proto",), "protocols"),
    "protocol": (("master_proto", "app_proto"), "protocols"),
    "category_name": (("category",), "categories"),
    "kind_name": (("kind",), "flow_kinds"),
    "end_reason_name": (("end_reason",), "end_reasons"),
    "risks": (("risk",), "risks"),
    "first": (("first_us",), None),
    "last": (("last_us",), None),
    "plane_name": (("plane",), "planes"),
    "service_name": (("service",), "services"),
    "bs": (("bs_index",), "base_stations"),
    "local_role_name": (("local_role",), "roles"),
    "peer_role_name": (("peer_role",), "roles"),
    "orient_name": (("orient",), "orientations"),
}
# derived from tables that may be absent (older files, runs without inventory): skipped then
OPTIONAL = {"plane_name", "service_name", "bs", "local_role_name", "peer_role_name",
            "orient_name"}


def protocol_name(master, app, names):
    """The label as nDPI's reader prints it: MASTER.APP, or APP alone."""
    m, a = names.get(int(master), "Unknown"), names.get(int(app), "Unknown")
    if master and app and master != app:
        return f"{m}.{a}"
    if app:
        return a
    if master:
        return m
    return "Unknown"


def risk_names(bitmap, names):
    bitmap = int(bitmap)
    return ",".join(names.get(i, str(i)) for i in range(64) if bitmap >> i & 1)


def counters(path):
    return results.counters(path)


def _mapped(values, table):
    """ids -> names through a dict, once per distinct id (unknown ids keep their number)."""
    codes, uniq = pd.factorize(np.asarray(values))
    text = np.array([table.get(int(u), str(u)) for u in uniq], dtype=object)
    return text[codes] if len(codes) else np.array([], dtype=object)


def _plan(dtype_names, columns, tables):
    """(members to read, readable columns to add) for the requested columns."""
    if columns is None:
        add = [c for c in DERIVED if c not in OPTIONAL or tables.get(DERIVED[c][1])]
        if "orient" not in dtype_names:
            add = [c for c in add if c != "orient_name"]
        return list(dtype_names), add
    read, add = [], []
    for c in columns:
        if c in dtype_names:
            need = (c,)
        elif c in DERIVED:
            need = DERIVED[c][0]
            add.append(c)
        else:
            raise KeyError(f"no column {c!r} in /flows (members: docs/SCHEMA.md)")
        read += [n for n in need if n not in read]
    return read, add


def _derive(df, add, tables):
    for c in add:
        need, table = DERIVED[c]
        t = tables.get(table, {})
        if c in ("src", "dst"):
            df[c] = results.addrs(df[need[0]].values, df[need[1]].values)
        elif c == "protocol":
            pair = df.master_proto.values.astype(np.int64) << 16 | df.app_proto.values
            codes, uniq = pd.factorize(pair)
            text = np.array([protocol_name(u >> 16, u & 0xFFFF, t) for u in uniq], dtype=object)
            df[c] = text[codes] if len(codes) else []
        elif c == "risks":
            codes, uniq = pd.factorize(df.risk.values)
            text = np.array([risk_names(b, t) for b in uniq], dtype=object)
            df[c] = text[codes] if len(codes) else []
        elif c in ("first", "last"):
            df[c] = pd.to_datetime(df[need[0]], unit="us", utc=True)
        else:
            df[c] = _mapped(df[need[0]].values, t)
    if "host" in df:
        df["host"] = results.decoded(df.host.values)
    return df


def _file_chunks(path, columns, chunk_rows, raw, extra):
    with results.open_results(path) as f:
        ds = f["flows"]
        tables = {} if raw else {t: results.names(f, t) for t in
                                 {v[1] for v in DERIVED.values() if v[1]}}
        read, add = (list(ds.dtype.names), []) if raw and columns is None else \
            _plan(ds.dtype.names, columns, tables)
        if raw:
            add = []
        whole = len(read) == len(ds.dtype.names)
        # a field selection reads only those members: HDF5 converts to a smaller row type
        view = ds if whole else ds.fields(read)
        n = ds.shape[0]
        step = chunk_rows or max(n, 1)
        for start in range(0, max(n, 1), step):
            arr = view[start:min(start + step, n)] if n else np.zeros(0, ds.dtype)[read]
            df = pd.DataFrame(arr)
            if not raw:
                df = _derive(df, add, tables)
            if columns is not None:
                df = df[[c for c in columns if c in df]]
            for k, v in extra.items():
                df[k] = pd.Categorical([v] * len(df))
            yield df


def _sources(source):
    """[(results path, extra columns)] of a results file, a night's done captures, or several
    of them: a list, or a glob such as "out/2026-11-*" (a month of nights, in name order)."""
    if isinstance(source, (list, tuple)):
        return [x for s in source for x in _sources(s)]
    if isinstance(source, str) and any(ch in source for ch in "*?[") and \
            not os.path.exists(source):
        found = sorted(glob.glob(source))
        if not found:
            raise OSError(f"no file or night matches {source}")
        return [x for s in found for x in _sources(s)]
    if not results.is_night(source):
        return [(source, {})]
    night = results.Night(source)
    extra = {"night": night.name} if getattr(night, "name", None) else {}
    return [(p, dict(extra, site=c.get("site") or "", capture=c.get("results") or ""))
            for c, p in night.results_files()]


def iter_chunks(source, columns=None, chunk_rows=1 << 20, raw=False):
    """DataFrames of at most chunk_rows rows, file by file (see load)."""
    for path, extra in _sources(source):
        yield from _file_chunks(path, columns, chunk_rows, raw, extra)


def load(source, columns=None, chunk_rows=None, raw=False):
    """The flows of a results file, a night directory or its night.json, or of several: a list
    or a glob of them ("out/2026-11-*": a month of nights, with a `night` column).

    columns: raw members and/or readable columns (module doc); None = all of them.
    chunk_rows: None returns one DataFrame; a number returns an iterator of DataFrames of at
    most that many rows (memory bounded by one chunk). raw=True: the members only."""
    if chunk_rows:
        return iter_chunks(source, columns, chunk_rows, raw)
    parts = list(iter_chunks(source, columns, None, raw))
    if not parts:
        return pd.DataFrame(columns=columns or [])
    if len(parts) == 1:
        return parts[0]
    df = pd.concat(parts, ignore_index=True)
    for k in ("night", "site", "capture"):
        if k in df:
            df[k] = df[k].astype("category")
    return df


PRINT_COLUMNS = ["flow_id", "kind_name", "src", "src_port", "dst", "dst_port", "l4_proto",
                 "protocol", "c2s_packets", "s2c_packets", "c2s_bytes", "s2c_bytes", "host"]


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    try:
        df = load(argv[1])
    except (OSError, KeyError, results.NightError) as e:
        print(f"mw_flows: {argv[1]}: {e}", file=sys.stderr)
        return 2
    cols = PRINT_COLUMNS + [c for c in ("bs", "service_name", "plane_name", "local_role_name",
                                        "peer_role_name", "site", "capture") if c in df]
    if "--csv" in argv:
        df.to_csv(sys.stdout, index=False)
    else:
        with pd.option_context("display.max_rows", 200, "display.width", 200):
            print(df[cols].to_string(index=False))
    return 0


if __name__ == "__main__":
    cli.run(main)
