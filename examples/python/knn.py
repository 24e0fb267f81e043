"""Using bebr from Python's standard sqlite3 module (Debian's /usr/bin/python3).

    /usr/bin/python3 examples/python/knn.py build/bebr

Loads the extension, stores vectors (float32 bytes) with a category in a bebr virtual table,
and checks kNN against exact float search computed in Python: with rescore = 40 the nearest
neighbour is exact for every query, with and without a category filter.
"""
import math
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


def cosine_distance(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    return 1 - dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


vectors = [[rng.gauss(0, 1) for _ in range(DIM)] for _ in range(ROWS)]
categories = [rng.choice(["news", "blog", "docs"]) for _ in range(ROWS)]
db.execute(f"CREATE VIRTUAL TABLE items USING bebr(embedding float[{DIM}], category text, +title text,"
           " bits=2, store_vectors=1)")
with db:  # one transaction
    db.executemany("INSERT INTO items(rowid, embedding, category, title) VALUES (?, ?, ?, ?)",
                   [(i, f32(v), c, f"item {i}") for i, (v, c) in enumerate(zip(vectors, categories))])

exact_hits = 0
queries = 50
for _ in range(queries):
    q = [x + rng.gauss(0, 0.3) for x in vectors[rng.randrange(ROWS)]]
    for category in (None, "docs"):
        candidates = [i for i in range(ROWS) if category is None or categories[i] == category]
        exact = min(candidates, key=lambda i: (cosine_distance(q, vectors[i]), i))
        sql = "SELECT rowid, title FROM items WHERE embedding MATCH ? AND k = 1 AND rescore = 40"
        args = [f32(q)]
        if category:
            sql += " AND category = ?"
            args.append(category)
        found, title = db.execute(sql, args).fetchone()
        exact_hits += found == exact

# Errors surface as sqlite3.OperationalError with bebr's message.
try:
    db.execute("SELECT rowid FROM items WHERE embedding MATCH '[1, 2]' AND k = 3")
except sqlite3.OperationalError as e:
    print("error as expected:", e)

print(f"nearest neighbour equal to exact search: {exact_hits}/{2 * queries}")
sys.exit(0 if exact_hits == 2 * queries else 1)
