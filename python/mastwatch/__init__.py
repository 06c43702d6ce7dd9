"""mastwatch's Python side: read results files and nights, write reports.

    import mastwatch.flows, mastwatch.results, mastwatch.morning
    df = mastwatch.flows.load("day.h5")                  # one row per flow record, readable
    for part in mastwatch.flows.load("NIGHT", columns=["bs", "plane_name", "c2s_bytes"],
                                     chunk_rows=1 << 20):
        ...                                              # a night, a million rows at a time

Needs Debian's python3-h5py, python3-numpy and python3-pandas (run with /usr/bin/python3);
the morning report also python3-jinja2 and python3-matplotlib.
"""
__version__ = "0.1.0"
