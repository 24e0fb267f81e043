"""Using bebr from Python's standard sqlite3 module (Debian's /usr/bin/python3).

    /usr/bin/python3 examples/python/knn.py build/bebr

Loads the extension, binarizes vectors passed as float32 bytes, and checks that SDC search on
2-bit codes finds the same nearest neighbour as exact float search for most queries.
"""
import random
import sqlite3
import struct
import sys

ext = sys.argv[1] if len(sys.argv) > 1 else "./bebr"
db = sqlite3.connect(":memory:")
db.enable_load_extension(True)
db.load_extension(ext)
db.enable_load_extension(False)
print("bebr", db.execute("SELECT bebr_version()").fetchone()[0])

DIM, ROWS = 96, 400
rng = random.Random(7)


def f32(v):
    """A vector as the little-endian float32 BLOB bebr takes."""
    return struct.pack(f"<{len(v)}f", *v)


vectors = [[rng.gauss(0, 1) for _ in range(DIM)] for _ in range(ROWS)]
db.execute("CREATE TABLE items(id INTEGER PRIMARY KEY, v BLOB, code BLOB)")
db.executemany("INSERT INTO items VALUES (?, ?, bebr_binarize(?2, 2))",
               [(i, f32(v)) for i, v in enumerate(vectors)])

agree = 0
queries = 50
for _ in range(queries):
    q = f32([x + rng.gauss(0, 0.3) for x in vectors[rng.randrange(ROWS)]])
    exact = db.execute("SELECT id FROM items ORDER BY bebr_distance(v, ?) LIMIT 1", (q,)).fetchone()[0]
    coded = db.execute("SELECT id FROM items ORDER BY bebr_sdc_distance(code, bebr_binarize(?, 2)) LIMIT 1",
                       (q,)).fetchone()[0]
    agree += exact == coded

# Errors surface as sqlite3.OperationalError with bebr's message.
try:
    db.execute("SELECT bebr_binarize('[1, 2]', 9)")
except sqlite3.OperationalError as e:
    print("error as expected:", e)

print(f"top-1 agreement with exact search: {agree}/{queries}")
sys.exit(0 if agree >= 0.8 * queries else 1)
