"""WAL concurrency: with writers committing in other processes, every kNN answer a reader gets
is the answer of a committed state.

    /usr/bin/python3 tests/attack/concurrency.py build/bebr.so [--seconds 40] [--seed 1]

Two writer processes commit transactions (inserts, updates, deletes, savepoints with ROLLBACK
TO, now and then 'optimize' or a whole ROLLBACK) into both bebr tables and the oracle table of
oracle.py, in one WAL database. Three reader processes, each with its own connection whose
resident cache (t_raw, cache=1) must follow every commit through data_version, repeat: BEGIN;
the kNN through a bebr table (first or after reading `commits`, so that either starts the
snapshot); the brute force over the oracle in SQL; COMMIT. Both read one snapshot, so they must
agree exactly, whatever committed in between; every 16th transaction also compares every row.
A reader's snapshots never go back (its `commits` maximum never decreases). A quarter of the
questions are asked as autocommit statements instead, checked when no commit came between the
kNN and the brute force (else counted as not checked). At the end the
parent checks the database once more (integrity_check, rows, kNN) and prints the counts.
"""
import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

import oracle

WRITERS, READERS = 2, 3


def writer(db, rng, deadline):
    """Commits until the deadline; returns its counts."""
    w = oracle.Writer(db, rng)
    n = {"commits": 0, "rollbacks": 0, "optimizes": 0, "busy": 0}
    while time.monotonic() < deadline:
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            if "locked" not in str(e):
                raise
            n["busy"] += 1
            continue
        w.reload()  # the other writer has moved things
        seq = db.execute("SELECT max(seq) FROM commits").fetchone()[0] + 1
        if rng.random() < 0.2:
            db.execute("SAVEPOINT s")
            w.random_ops(rng.randrange(1, 20))
            db.execute("ROLLBACK TO s" if rng.random() < 0.5 else "RELEASE s")
            w.reload()
        w.random_ops(rng.choice((1, 3, 10, 40)))
        if rng.random() < 0.05:
            w.optimize()
            n["optimizes"] += 1
        if rng.random() < 0.03:
            db.execute("ROLLBACK")
            n["rollbacks"] += 1
            continue
        w.commit_record(seq, "txn")
        db.execute("COMMIT")
        n["commits"] += 1
    return n


def reader(db, rng, deadline, index):
    """kNN = brute force inside one read transaction, until the deadline or a problem."""
    if index == 2:
        db.execute("PRAGMA mmap_size = 268435456")  # chunk reads from a mapping, for one reader
    n = {"checks": 0, "row_checks": 0, "snapshots": 0, "autocommit_checks": 0, "autocommit_moved": 0}
    last, seen = -1, set()
    while time.monotonic() < deadline:
        q = oracle.Question(db, rng)
        if rng.random() < 0.25:
            p = autocommit_check(db, q, n)
            if p:
                return n, [f"reader {index}: {p}"]
            continue
        knn_first = rng.random() < 0.5
        db.execute("BEGIN")
        if knn_first:
            got = q.knn(db)
        seq = db.execute("SELECT max(seq) FROM commits").fetchone()[0]
        if not knn_first:
            got = q.knn(db)
        problems = [q.compare(got, q.brute_force(db))]
        if n["checks"] % 16 == 0:
            problems += oracle.check_rows(db, rng)
            n["row_checks"] += 1
        if seq < last:
            problems.append(f"the snapshot went back: commit {seq} after {last}")
        db.execute("COMMIT")
        problems = [p for p in problems if p]
        if problems:
            return n, [f"reader {index} at commit {seq}: {p}" for p in problems]
        n["checks"] += 1
        last = seq
        seen.add(seq)
    n["snapshots"] = len(seen)
    return n, []


def autocommit_check(db, q, n):
    """The kNN as a statement of its own (no BEGIN), as most programs run it, checked only when
    no commit came between it and the read transaction of the brute force; returns a problem."""
    before = db.execute("SELECT max(seq) FROM commits").fetchone()[0]
    got = q.knn(db)
    db.execute("BEGIN")
    after = db.execute("SELECT max(seq) FROM commits").fetchone()[0]
    p = q.compare(got, q.brute_force(db)) if after == before else None
    db.execute("COMMIT")
    n["autocommit_checks" if after == before else "autocommit_moved"] += 1
    return p and f"autocommit kNN at commit {before}: {p}"


def child(args):
    db = oracle.connect(args.db, args.ext)
    rng = random.Random(args.seed)
    deadline = time.monotonic() + args.seconds
    if args.role == "writer":
        result, problems = writer(db, rng, deadline), []
    else:
        result, problems = reader(db, rng, deadline, args.index)
    print(json.dumps({"role": args.role, "index": args.index, "counts": result, "problems": problems}))
    return 1 if problems else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ext", help="path of the built bebr extension")
    ap.add_argument("--seconds", type=float, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--role", choices=("writer", "reader"), help=argparse.SUPPRESS)
    ap.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.ext = os.path.abspath(args.ext)
    if args.role:
        return child(args)

    start = time.monotonic()
    print(f"concurrency: seed {args.seed}, {WRITERS} writers and {READERS} readers for"
          f" {args.seconds:.0f} s", flush=True)
    work = tempfile.mkdtemp(prefix="bebr-concurrency-")
    path = os.path.join(work, "wal.db")
    db = oracle.connect(path, args.ext)
    oracle.create(db, "wal", random.Random(args.seed))
    db.close()
    procs = []
    for role, count in (("writer", WRITERS), ("reader", READERS)):
        for i in range(count):
            seed = args.seed * 100 + len(procs)
            procs.append(subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), args.ext, "--role", role, "--index", str(i),
                 "--db", path, "--seed", str(seed), "--seconds", str(args.seconds)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    problems, totals = [], {}
    for p in procs:
        try:
            out, err = p.communicate(timeout=args.seconds + 120)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            problems.append(f"a child did not finish in time: {err[-1000:]}")
            continue
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if not lines:
            problems.append(f"a child exited with {p.returncode} and no result: {err[-2000:]}")
            continue
        r = json.loads(lines[-1])
        problems += r["problems"]
        for key, value in r["counts"].items():
            totals[key] = totals.get(key, 0) + value
    db = oracle.connect(path, args.ext)
    rng = random.Random(args.seed)
    final, skipped = oracle.integrity(db)
    final += oracle.check_rows(db, rng) + oracle.check_knn(db, rng)
    problems += [f"after the run: {p}" for p in final]
    rows = db.execute("SELECT count(*) FROM o").fetchone()[0]
    db.close()
    if skipped:
        print("bebr's integrity-check command does not exist yet: skipped (PRAGMA integrity_check ran)")
    print(f"concurrency summary: {totals.get('commits', 0)} commits, {totals.get('rollbacks', 0)} rollbacks,"
          f" {totals.get('optimizes', 0)} optimizes; {totals.get('checks', 0)} reader checks (kNN = brute"
          f" force), {totals.get('row_checks', 0)} full-row checks over {totals.get('snapshots', 0)}"
          f" snapshots; {totals.get('autocommit_checks', 0)} autocommit kNN checks (and"
          f" {totals.get('autocommit_moved', 0)} not checked: a commit came between); {rows} rows at the"
          f" end; {len(problems)} failures,"
          f" {time.monotonic() - start:.0f} s")
    if problems:
        for p in problems[:20]:
            print("FAILED: " + p)
        print(f"files kept in {work}")
        return 1
    if args.keep:
        print(f"files kept in {work}")
    else:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
