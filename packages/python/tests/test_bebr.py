"""Tests of the installed bebr wheel (scripts/test-packages.sh runs them in a fresh venv).

    python -m unittest discover -s packages/python/tests -v

The kNN answer is checked against brute-force cosine search in plain Python; the BLOBs against
struct's own packing. The numpy cases run only where numpy is importable (the script runs this
file a second time in a venv that sees Debian's python3-numpy).
"""
import array
import math
import os
import random
import sqlite3
import struct
import sys
import unittest

import bebr

try:
    import numpy
except ImportError:
    numpy = None


def cosine_distance(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return 1.0 if na == 0 or nb == 0 else 1.0 - dot / (na * nb)


def f32(values):
    """values rounded to float32, as the table stores them."""
    return list(struct.unpack("<%df" % len(values), struct.pack("<%df" % len(values), *values)))


class Load(unittest.TestCase):
    def test_path_is_the_bundled_library(self):
        path = bebr.loadable_path()
        self.assertTrue(os.path.isabs(path))
        self.assertEqual(os.path.dirname(path), os.path.dirname(os.path.abspath(bebr.__file__)))
        with open(path, "rb") as f:
            self.assertEqual(f.read(4), b"\x7fELF")

    def test_load_then_loading_is_disabled_again(self):
        db = sqlite3.connect(":memory:")
        bebr.load(db)
        self.assertEqual(db.execute("SELECT bebr_version()").fetchone()[0], bebr.__version__)
        # load() enabled extension loading only for itself: SQL cannot load a library now.
        with self.assertRaisesRegex(sqlite3.OperationalError, "not authorized"):
            db.execute("SELECT load_extension(?)", (bebr.loadable_path(),)).fetchall()

    def test_a_connection_that_cannot_load_extensions(self):
        class NoExtensions:  # what sqlite3.connect returns where SQLITE_OMIT_LOAD_EXTENSION
            def execute(self, *a):
                raise AssertionError("not reached")

        with self.assertRaises(bebr.LoadError) as cm:
            bebr.load(NoExtensions())
        self.assertIn("cannot load extensions", str(cm.exception))
        self.assertIn("enable_load_extension", str(cm.exception))

    def test_sqlite_refusing_the_library_is_a_load_error(self):
        class Refuses:
            enabled = []

            def enable_load_extension(self, on):
                self.enabled.append(on)

            def load_extension(self, path):
                raise sqlite3.OperationalError("bebr needs SQLite >= 3.38.0 (sqlite3_vtab_in)")

        conn = Refuses()
        with self.assertRaisesRegex(bebr.LoadError, r"could not load .*bebr\.so: bebr needs SQLite"):
            bebr.load(conn)
        self.assertEqual(conn.enabled, [True, False])  # disabled again after the failure


class Knn(unittest.TestCase):
    def test_knn_matches_brute_force(self):
        rng = random.Random(18)
        dim, n, k = 16, 200, 7
        vectors = {i: [rng.gauss(0, 1) for _ in range(dim)] for i in range(1, n + 1)}
        db = sqlite3.connect(":memory:")
        bebr.load(db)
        db.execute(f"CREATE VIRTUAL TABLE t USING bebr(v float[{dim}], bits=2, store_vectors=1)")
        db.executemany("INSERT INTO t(rowid, v) VALUES (?, ?)",
                       [(i, bebr.serialize_float32(v)) for i, v in vectors.items()])
        for q in range(5):
            query = [rng.gauss(0, 1) for _ in range(dim)]
            # rescore = n re-ranks every row by the exact distance: the answer is exact.
            got = db.execute("SELECT rowid, distance FROM t WHERE v MATCH ? AND k = ? AND rescore = ?",
                             (bebr.serialize_float32(query), k, n)).fetchall()
            want = sorted((cosine_distance(f32(query), f32(v)), i) for i, v in vectors.items())[:k]
            self.assertEqual([r for r, _ in got], [i for _, i in want], f"query {q}")
            for (_, d), (w, _) in zip(got, want):
                self.assertAlmostEqual(d, w, places=6)

    def test_blob_round_trips_through_the_table(self):
        db = sqlite3.connect(":memory:")
        bebr.load(db)
        v = [0.5, -1.0, 2.0, 3.25]
        blob = bebr.serialize_float32(v)
        self.assertEqual(db.execute("SELECT bebr_f32(?)", (blob,)).fetchone()[0], blob)
        self.assertEqual(db.execute("SELECT bebr_f32('[0.5, -1, 2, 3.25]')").fetchone()[0], blob)


class Serialize(unittest.TestCase):
    def test_forms(self):
        want = struct.pack("<4f", 1.0, -2.5, 0.1, 7.0)
        self.assertEqual(bebr.serialize_float32([1, -2.5, 0.1, 7]), want)
        self.assertEqual(bebr.serialize_float32((1.0, -2.5, 0.1, 7.0)), want)
        self.assertEqual(bebr.serialize_float32(array.array("d", [1, -2.5, 0.1, 7])), want)
        self.assertEqual(bebr.serialize_float32(array.array("f", [1, -2.5, 0.1, 7])), want)
        self.assertEqual(bebr.serialize_float32(array.array("i", [1, 2])), struct.pack("<2f", 1, 2))
        self.assertEqual(len(bebr.serialize_float32([0.0] * 1024)), 4096)

    def test_numpy_is_not_imported_for_plain_sequences(self):
        if "numpy" in sys.modules and numpy is not None:
            self.skipTest("numpy was imported by this test file")
        bebr.serialize_float32([1.0, 2.0])
        self.assertNotIn("numpy", sys.modules)

    def test_errors(self):
        cases = [
            ([], ValueError, "the vector is empty; expected at least one element"),
            ([1.0, float("nan")], ValueError, "element 1 is NaN; expected finite numbers"),
            ([float("inf")], ValueError, "element 0 is Inf; expected finite numbers"),
            ([1, 2, -float("inf")], ValueError, "element 2 is -Inf"),
            ([1e39], ValueError, "element 0 is out of float32 range"),
            ([1, "2"], TypeError, "element 1 is not a number; expected int or float, got str"),
            ([1, None], TypeError, "element 1 is not a number; expected int or float, got NoneType"),
            ([True, 1.0], TypeError, "element 0 is not a number; expected int or float, got bool"),
            ("[1, 2]", TypeError, "expected a sequence of numbers, got str"),
            (b"\x00\x00\x80\x3f", TypeError, "expected a sequence of numbers, got bytes"),
            ({1.0: 2}, TypeError, "expected a list, tuple, array.array or numpy array of numbers, got dict"),
            (3.0, TypeError, "got float"),
            (array.array("d"), ValueError, "the vector is empty"),
            (array.array("d", [1, float("nan")]), ValueError, "element 1 is NaN"),
        ]
        for value, error, text in cases:
            with self.subTest(value=value):
                with self.assertRaises(error) as cm:
                    bebr.serialize_float32(value)
                self.assertTrue(str(cm.exception).startswith("bebr.serialize_float32: "))
                self.assertIn(text, str(cm.exception))


@unittest.skipIf(numpy is None, "numpy is not installed in this Python")
class Numpy(unittest.TestCase):
    def test_dtypes(self):
        want = struct.pack("<3f", 1.0, -2.5, 0.1)
        for dtype in ("float16", "float32", "float64", ">f8"):
            a = numpy.array([1.0, -2.5, 0.1], dtype=dtype)
            self.assertEqual(bebr.serialize_float32(a),
                             struct.pack("<3f", *[float(x) for x in a]), dtype)
        self.assertEqual(bebr.serialize_float32(numpy.array([1.0, -2.5, 0.1])), want)
        self.assertEqual(bebr.serialize_float32(numpy.arange(3, dtype="int64")),
                         struct.pack("<3f", 0, 1, 2))
        self.assertEqual(bebr.serialize_float32([numpy.float32(1.0), numpy.int64(2)]),
                         struct.pack("<2f", 1, 2))

    def test_errors(self):
        cases = [
            (numpy.array([], dtype="float32"), ValueError, "the vector is empty"),
            (numpy.array([1.0, numpy.nan]), ValueError, "element 1 is NaN"),
            (numpy.array([numpy.inf], dtype="float32"), ValueError, "element 0 is Inf"),
            (numpy.array([0.0, 1e39]), ValueError, "element 1 is out of float32 range"),
            (numpy.zeros((2, 2)), ValueError, "expected a 1-d array, got shape (2, 2)"),
            (numpy.array(["a", "b"]), TypeError, "expected a numeric array, got dtype <U1"),
            (numpy.array([True, False]), TypeError, "expected a numeric array, got dtype bool"),
        ]
        for value, error, text in cases:
            with self.subTest(value=value):
                with self.assertRaises(error) as cm:
                    bebr.serialize_float32(value)
                self.assertIn(text, str(cm.exception))

    def test_knn_with_numpy_vectors(self):
        rng = numpy.random.default_rng(18)
        base = rng.standard_normal((100, 8)).astype("float32")
        db = sqlite3.connect(":memory:")
        bebr.load(db)
        db.execute("CREATE VIRTUAL TABLE t USING bebr(v float[8], bits=1, store_vectors=1)")
        db.executemany("INSERT INTO t(rowid, v) VALUES (?, ?)",
                       [(i, bebr.serialize_float32(v)) for i, v in enumerate(base)])
        q = rng.standard_normal(8)
        got = [r for r, in db.execute("SELECT rowid FROM t WHERE v MATCH ? AND k = 5 AND rescore = 100",
                                      (bebr.serialize_float32(q),))]
        qf = q.astype("float32").astype("float64")
        b = base.astype("float64")
        d = 1 - (b @ qf) / (numpy.linalg.norm(b, axis=1) * numpy.linalg.norm(qf))
        self.assertEqual(got, [int(i) for i in numpy.lexsort((numpy.arange(100), d))[:5]])


if __name__ == "__main__":
    unittest.main()
