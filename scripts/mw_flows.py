#!/usr/bin/python3
"""Thin wrapper: the code is python/mastwatch/flows.py (`import mastwatch.flows`).

    /usr/bin/python3 scripts/mw_flows.py out.h5|NIGHT_DIR [--csv]
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "python"))
from mastwatch.flows import *  # noqa: E402,F401,F403  (old importers: mw_flows.load, counters)
from mastwatch.flows import _addr, main  # noqa: E402,F401
from mastwatch import cli  # noqa: E402

if __name__ == "__main__":
    cli.run(main)
