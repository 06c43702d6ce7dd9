"""mastwatch.flows: column selection, chunks, nights, readable columns."""
import os
import tempfile
import tracemalloc
import unittest

import h5py
import numpy as np
import pandas as pd

import nightbuilder as nb
from mastwatch import flows, results

TMP = None


def setUpModule():
    global TMP
    if not nb.have_binary():
        raise unittest.SkipTest(f"no mastwatch binary at {nb.MW} (build it: scripts/build)")
    TMP = tempfile.TemporaryDirectory(prefix="mw-flows-")
    nb.build_night(os.path.join(TMP.name, "night"), "incident", TMP.name)


def tearDownModule():
    TMP.cleanup()


def h5():
    return os.path.join(TMP.name, "night", "captures", "north", "incident-day.h5")


class Flows(unittest.TestCase):
    def test_all_columns_are_the_file_plus_readable_ones(self):
        df = flows.load(h5())
        with h5py.File(h5(), "r") as f:
            raw = f["flows"][:]
            protos = results.names(f, "protocols")
        self.assertEqual(len(df), len(raw))
        self.assertTrue((df.flow_id.values == raw["flow_id"]).all())
        for i in (0, len(raw) // 2, len(raw) - 1):
            self.assertEqual(df.src.iloc[i], results.addr(raw["src_hi"][i], raw["src_lo"][i]))
            self.assertEqual(df.protocol.iloc[i], flows.protocol_name(
                raw["master_proto"][i], raw["app_proto"][i], protos))
            self.assertEqual(df.host.iloc[i], raw["host"][i].decode())
        self.assertEqual(set(df.bs), {"enb-001", "gnb-002", "enb-003", "gnb-004"})

    def test_column_subset_equals_the_full_load(self):
        full = flows.load(h5())
        cols = ["bs", "c2s_bytes", "src", "protocol", "plane_name", "first"]
        sub = flows.load(h5(), columns=cols)
        self.assertEqual(list(sub.columns), cols)
        pd.testing.assert_frame_equal(sub, full[cols])

    def test_subset_reads_only_its_members(self):
        # numpy buffers are traced: the rows read for 3 members must be far smaller than all 61
        tracemalloc.start()
        flows.load(h5(), columns=["bs_index", "c2s_bytes", "s2c_bytes"])
        _, small = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        tracemalloc.start()
        flows.load(h5(), raw=True)
        _, big = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        self.assertLess(small * 4, big, (small, big))

    def test_chunks_cover_every_row_once(self):
        full = flows.load(h5(), columns=["flow_id", "dst", "kind_name"])
        parts = list(flows.load(h5(), columns=["flow_id", "dst", "kind_name"], chunk_rows=1000))
        self.assertEqual(len(parts), -(-len(full) // 1000))
        self.assertTrue(all(len(p) <= 1000 for p in parts))
        pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), full)

    def test_night_reads_every_done_capture(self):
        night = os.path.join(TMP.name, "night")
        meta = results.Night(night)
        done = [c for c in meta.captures if c["status"] == "done"]
        df = flows.load(night, columns=["bs", "c2s_bytes"])
        self.assertEqual(len(df), sum(c["flows"] for c in done))
        self.assertEqual(set(df.site), {"north", "south"})
        self.assertEqual(df.site.dtype.name, "category")
        for c in done:
            n = (df.capture == c["results"]).sum()
            self.assertEqual(n, c["flows"], c["results"])
        chunked = flows.load(os.path.join(night, "night.json"), columns=["bs"], chunk_rows=500)
        self.assertEqual(sum(len(p) for p in chunked), len(df))

    def test_a_month_of_nights_by_glob(self):
        # two nights under one tree, read as one table by a glob, in chunks, with a night column
        tree = os.path.join(TMP.name, "tree")
        if not os.path.isdir(tree):
            os.makedirs(tree)
            for name in ("2026-11-01", "2026-11-02"):
                os.symlink(os.path.join(TMP.name, "night"), os.path.join(tree, name))
        one = flows.load(os.path.join(TMP.name, "night"), columns=["flow_id"])
        month = flows.load(os.path.join(tree, "2026-11-*"), columns=["flow_id", "c2s_bytes"])
        self.assertEqual(len(month), 2 * len(one))
        self.assertEqual(month.night.dtype.name, "category")
        self.assertTrue((month.night.astype(str) != "").all())
        parts = list(flows.load(os.path.join(tree, "2026-11-*"), columns=["flow_id"],
                                chunk_rows=1000))
        self.assertEqual(sum(len(p) for p in parts), len(month))
        self.assertTrue(all(len(p) <= 1000 for p in parts))
        both = flows.load([os.path.join(tree, "2026-11-01"), os.path.join(tree, "2026-11-02")],
                          columns=["flow_id"])
        self.assertEqual(len(both), len(month))
        with self.assertRaises(OSError):
            flows.load(os.path.join(tree, "1999-*"))

    def test_unknown_column_is_refused(self):
        with self.assertRaises(KeyError):
            flows.load(h5(), columns=["flow_id", "no_such_member"])

    def test_addrs_vectorised_like_addr(self):
        hi = np.array([0, 0, 0x20010db8000a0001], dtype=np.uint64)
        lo = np.array([0xffff0a0a010b, 0xffff0a0a010b, 0xc], dtype=np.uint64)
        self.assertEqual(list(results.addrs(hi, lo)),
                         ["10.10.1.11", "10.10.1.11", "2001:db8:a:1::c"])


if __name__ == "__main__":
    unittest.main()
