#!/usr/bin/python3
"""Recall@10 of the center and mlp binarizers on the real datasets, all through SQL.

    /usr/bin/python3 bench/recall_mlp.py build/bebr [DATA_DIR] [--quick] [--only=NAME]

For each dataset of DATA_DIR (default: ../shared/data next to the project): the base vectors go
into a plain table; bebr_train makes each model from them (training time = its own report);
a bebr table with that model holds the codes; every held-out query is a kNN
(MATCH :q AND k = 10, no rescore) and recall@10 is measured against the dataset's exact cosine
ground truth (gt.i32). Prints one table row per dataset x binarizer x size.
"""
import array
import json
import os
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


def configs(d, quick):
    """(kind, bits, code dim) to measure; code bytes = bits * dim / 8."""
    out = [("center", 1, d), ("center", 2, d), ("center", 4, d),
           ("mlp", 1, d), ("mlp", 2, d), ("mlp", 1, 2 * d)]
    if not quick:
        out += [("mlp", 3, d), ("mlp", 1, 3 * d), ("mlp", 4, d)]
    return out


def run(ext, data_dir, quick, only):
    db = sqlite3.connect(":memory:")
    db.enable_load_extension(True)
    db.load_extension(ext)
    print("| dataset | binarizer | bits | code dim | code bytes | recall@10 | train s |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, d in DATASETS:
        if only and only not in name:
            continue
        folder = os.path.join(data_dir, name)
        if not os.path.exists(os.path.join(folder, "base.f32")):
            print(f"| {name} | (absent) | | | | | |")
            continue
        base, queries, gt = floats(f"{folder}/base.f32"), floats(f"{folder}/queries.f32"), ints(f"{folder}/gt.i32")
        n, nq = len(base) // d, len(queries) // d
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
            hits = 0
            for q in range(nq):
                rows = db.execute("SELECT rowid FROM t WHERE v MATCH ? AND k = 10",
                                  (queries[q * d:(q + 1) * d].tobytes(),)).fetchall()
                truth = set(gt[q * 100:q * 100 + 10])
                hits += sum(1 for (r,) in rows if r in truth)
            train = f"{seconds:.1f}" if kind == "mlp" else "-"
            print(f"| {name} | {kind} | {bits} | {m} | {bits * m // 8} | {hits / (10 * nq):.3f} | {train} |", flush=True)
        db.execute("DROP TABLE t")
        db.execute("DELETE FROM bebr_models")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if not args:
        sys.exit(__doc__)
    here = os.path.dirname(os.path.abspath(__file__))
    run(os.path.abspath(args[0]), args[1] if len(args) > 1 else os.path.join(here, "..", "..", "shared", "data"),
        "--quick" in sys.argv, next((a[7:] for a in sys.argv if a.startswith("--only=")), ""))
