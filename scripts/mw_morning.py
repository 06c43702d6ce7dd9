#!/usr/bin/python3
"""Thin wrapper: the code is python/mastwatch/morning.py.

    /usr/bin/python3 scripts/mw_morning.py NIGHT_DIR [-o OUTDIR] [--failed REASON]
Exit status: 0 nothing flagged, 1 findings, 2 usage/unreadable input, 3 the night failed.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "python"))
from mastwatch import cli  # noqa: E402
from mastwatch.morning import main  # noqa: E402

if __name__ == "__main__":
    cli.run(main)
