#!/usr/bin/python3
"""Recall@10 of the center and mlp binarizers on the real datasets, all through SQL.

    /usr/bin/python3 bench/recall_mlp.py build/bebr [DATA_DIR] [--quick] [--only=NAME] [--compat [--noise=S]]

For each dataset of DATA_DIR (default: ../shared/data next to the project): the base vectors go
into a plain table; bebr_train makes each model from them (training time = its own report);
a bebr table with that model holds the codes; every held-out query is a kNN
(MATCH :q AND k = 10, no rescore) and recall@10 is measured against the dataset's exact cosine
ground truth (gt.i32). Prints one table row per dataset x binarizer x size.

--compat measures compatible versions on a simulated upgrade instead (there is no public pair of
embedding versions of the same texts): new = normalise(H2 H1 S old + noise), S flipping the sign
of every other coordinate, H1 and H2 seeded random Householder reflections, noise N(0, s^2 / d)
per coordinate (--noise=s, default 0.2: about 20% of the norm). The first column, exact float
search of the new vectors against the old ground truth, is how far the upgrade itself moved the
neighbourhoods: the ceiling for any binarizer. v1 is trained on the old base vectors and codes the
table; v2 is trained with compatible_with = v1 on (new, old) pairs of the base; recall@10 of
v2-coded new queries against the v1 table is compared with v1-coded old queries against it.
"""
import array
import json
import math
import os
import random
import sqlite3
import sys
import time

DATASETS = [("bible-web-bge-large-1024", 1024), ("sap-fiori-docs-minilm-384", 384),
            ("fashion-mnist-784", 784)]


def floats(path):
    a = array.array("f")
    with open(path, "rb") as f:
        a.frombytes(f.read())
    return a


def ints(path):
    a = array.array("i")
    with open(path, "rb") as f:
        a.frombytes(f.read())
    return a


def code_bytes(bits, m):
    """A code's plane bytes: bits planes of m bits, each padded to 64-bit words."""
    return bits * ((m + 63) // 64) * 8


def widest(bits, budget, d):
    """The most code coordinates (a multiple of 64, at most d) whose bits planes fit in budget bytes."""
    return min(d, budget // (bits * 8) * 64)


def configs(d, quick):
    """(kind, bits, code dim) to measure.

    center at 1, 2, 4 bits; mlp shaped as the paper compares (bits 1 and 2 over d code
    coordinates, bits 1 over 2d); and mlp at 3 and 4 bits over fewer code coordinates than input
    ones, as many as fit in center's bytes at 1 and 2 bits (they start on the principal
    directions). The full run adds 4-bit codes of 3/8, 5/8, 3/4 and all of d coordinates, and
    6-bit codes of d/2: the ladder for the bytes mlp needs to reach center's recall."""
    out = [("center", 1, d), ("center", 2, d), ("center", 4, d), ("mlp", 1, d), ("mlp", 2, d), ("mlp", 1, 2 * d)]
    for per_dim in (1, 2):
        for bits in (3, 4):
            out.append(("mlp", bits, widest(bits, code_bytes(per_dim, d), d)))
    if not quick:
        out += [("mlp", 4, max(64, round(d * f / 64) * 64)) for f in (3 / 8, 5 / 8, 3 / 4)] + [("mlp", 4, d)]
        out += [("mlp", 6, max(64, d // 2 // 64 * 64))]
    seen = set()
    return [c for c in out if not (c in seen or seen.add(c))]


def fewer_bytes(name, rows):
    """For center at 2 and 4 bits: the smallest mlp code measured that reaches its recall."""
    for bits in (2, 4):
        target = next((r for r in rows if r[0] == "center" and r[1] == bits), None)
        if target is None:
            continue
        reach = sorted((r for r in rows if r[0] == "mlp" and r[4] >= target[4]), key=lambda r: (r[3], -r[4]))
        if reach:
            kind, b, m, size, got = reach[0]
            print(f"{name}: center {bits} bits ({target[3]} bytes, recall {target[4]:.3f}) is reached by mlp {b} x {m} "
                  f"at {size} bytes ({size / target[3]:.2f}x; recall {got:.3f})")
        else:
            print(f"{name}: center {bits} bits ({target[3]} bytes, recall {target[4]:.3f}) is not reached by any mlp code measured")


def upgrade(vectors, d, noise, seed=7):
    """The simulated new embedding of every row (see the module docstring)."""
    rng = random.Random(seed)
    hs = []
    for _ in range(2):
        v = [rng.gauss(0, 1) for _ in range(d)]
        n = math.sqrt(sum(x * x for x in v))
        hs.append([x / n for x in v])
    out = array.array("f")
    for i in range(len(vectors) // d):
        x = [(-v if j % 2 else v) for j, v in enumerate(vectors[i * d:(i + 1) * d])]
        for h in hs:
            dot = 2 * sum(a * b for a, b in zip(h, x))
            x = [a - dot * b for a, b in zip(x, h)]
        x = [a + rng.gauss(0, noise / math.sqrt(d)) for a in x]
        n = math.sqrt(sum(a * a for a in x)) or 1.0
        out.extend(a / n for a in x)
    return out


def recall(db, sql, queries, gt, d):
    hits = 0
    nq = len(queries) // d
    for q in range(nq):
        rows = db.execute(sql, (queries[q * d:(q + 1) * d].tobytes(),)).fetchall()
        truth = set(gt[q * 100:q * 100 + 10])
        hits += sum(1 for (r,) in rows if r in truth)
    return hits / (10 * nq)


def open_db(ext):
    db = sqlite3.connect(":memory:")
    db.enable_load_extension(True)
    db.load_extension(ext)
    return db


def run_compat(ext, data_dir, only, noise):
    db = open_db(ext)
    print("| dataset | bits x code dim | new floats -> new floats | v1 -> v1 recall@10 | v2 -> v1 recall@10 | ratio | v2 train s |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, d in DATASETS[:2]:
        if only and only not in name:
            continue
        folder = os.path.join(data_dir, name)
        if not os.path.exists(os.path.join(folder, "base.f32")):
            continue
        base, queries, gt = floats(f"{folder}/base.f32"), floats(f"{folder}/queries.f32"), ints(f"{folder}/gt.i32")
        new_base, new_queries = upgrade(base, d, noise), upgrade(queries, d, noise)
        n = len(base) // d
        db.execute("DROP TABLE IF EXISTS docs")
        db.execute("CREATE TABLE docs(id INTEGER PRIMARY KEY, vo BLOB, vn BLOB)")
        db.executemany("INSERT INTO docs VALUES (?, ?, ?)", ((i, base[i * d:(i + 1) * d].tobytes(),
                                                              new_base[i * d:(i + 1) * d].tobytes()) for i in range(n)))
        # How far the upgrade itself moved the neighbourhoods: exact search of the new vectors.
        ceiling = recall(db, "SELECT id FROM docs ORDER BY bebr_distance(vn, ?1), id LIMIT 10", new_queries, gt, d)
        for i, (bits, m) in enumerate(((1, d), (2, d), (4, widest(4, code_bytes(2, d), d)))):
            if i:
                db.execute("DELETE FROM bebr_models")
            db.execute("SELECT bebr_train('v1', 'SELECT vo FROM docs', ?)", (json.dumps({"kind": "mlp", "bits": bits, "dim": m}),))
            report = json.loads(db.execute("SELECT bebr_train('v2', 'SELECT vn, vo FROM docs', ?)",
                                           (json.dumps({"kind": "mlp", "compatible_with": "v1"}),)).fetchone()[0])
            db.execute("DROP TABLE IF EXISTS t")
            db.execute(f"CREATE VIRTUAL TABLE t USING bebr(v float[{d}], model=v1)")
            db.execute("INSERT INTO t(rowid, v) SELECT id, vo FROM docs")
            same = recall(db, "SELECT rowid FROM t WHERE v MATCH ? AND k = 10", queries, gt, d)
            cross = recall(db, "SELECT rowid FROM t WHERE v MATCH bebr_binarize(?, 'v2') AND k = 10", new_queries, gt, d)
            print(f"| {name} | {bits} x {m} | {ceiling:.3f} | {same:.3f} | {cross:.3f} | {cross / same:.3f} | {report['seconds']:.1f} |",
                  flush=True)
        db.execute("DELETE FROM bebr_models")


def run(ext, data_dir, quick, only):
    db = open_db(ext)
    print("| dataset | binarizer | bits | code dim | code bytes | recall@10 | train s |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    summary = []
    for name, d in DATASETS:
        if only and only not in name:
            continue
        folder = os.path.join(data_dir, name)
        if not os.path.exists(os.path.join(folder, "base.f32")):
            print(f"| {name} | (absent) | | | | | |")
            continue
        base, queries, gt = floats(f"{folder}/base.f32"), floats(f"{folder}/queries.f32"), ints(f"{folder}/gt.i32")
        n = len(base) // d
        measured = []
        db.execute("DROP TABLE IF EXISTS docs")
        db.execute("CREATE TABLE docs(id INTEGER PRIMARY KEY, v BLOB)")
        db.executemany("INSERT INTO docs VALUES (?, ?)", ((i, base[i * d:(i + 1) * d].tobytes()) for i in range(n)))
        for kind, bits, m in configs(d, quick):
            opts = {"kind": kind, "bits": bits}
            if kind == "mlp":
                opts["dim"] = m
            model = f"{kind}_{bits}_{m}"
            report = json.loads(db.execute("SELECT bebr_train(?, 'SELECT v FROM docs', ?)",
                                           (model, json.dumps(opts))).fetchone()[0])
            seconds = report.get("seconds", 0.0)
            db.execute("DROP TABLE IF EXISTS t")
            db.execute(f"CREATE VIRTUAL TABLE t USING bebr(v float[{d}], model={model})")
            db.execute("INSERT INTO t(rowid, v) SELECT id, v FROM docs")
            got = recall(db, "SELECT rowid FROM t WHERE v MATCH ? AND k = 10", queries, gt, d)
            train = f"{seconds:.1f}" if kind == "mlp" else "-"
            size = code_bytes(bits, m)
            print(f"| {name} | {kind} | {bits} | {m} | {size} | {got:.3f} | {train} |", flush=True)
            measured.append((kind, bits, m, size, got))
        db.execute("DROP TABLE t")
        db.execute("DELETE FROM bebr_models")
        summary += [(name, measured)]
    print()
    for name, measured in summary:
        fewer_bytes(name, measured)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if not args:
        sys.exit(__doc__)
    here = os.path.dirname(os.path.abspath(__file__))
    if "--compat" in sys.argv:
        run_compat(os.path.abspath(args[0]), args[1] if len(args) > 1 else os.path.join(here, "..", "..", "shared", "data"),
                   next((a[7:] for a in sys.argv if a.startswith("--only=")), ""),
                   float(next((a[8:] for a in sys.argv if a.startswith("--noise=")), "0.2")))
        sys.exit(0)
    run(os.path.abspath(args[0]), args[1] if len(args) > 1 else os.path.join(here, "..", "..", "shared", "data"),
        "--quick" in sys.argv, next((a[7:] for a in sys.argv if a.startswith("--only=")), ""))
