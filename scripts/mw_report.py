#!/usr/bin/python3
"""Thin wrapper: the code is python/mastwatch/report_text.py.

    /usr/bin/python3 scripts/mw_report.py results/incident-day.h5
Exit status: 0 nothing flagged, 1 something flagged, 2 unreadable file.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "python"))
from mastwatch import cli  # noqa: E402
from mastwatch.report_text import main  # noqa: E402

if __name__ == "__main__":
    cli.run(main)
