"""Crash safety: a writer killed with SIGKILL at random moments loses nothing committed and
leaves nothing uncommitted visible, in WAL and rollback-journal modes.

    /usr/bin/python3 tests/attack/crash.py build/bebr.so [--trials 120] [--time-cap 150] [--seed 1]

Each trial starts a writer process (this script with --writer) on one of two databases (WAL,
DELETE journal), lets it run one workload for a random time and kills it with SIGKILL:

  txn       explicit transactions of 1..400 inserts, updates and deletes, with savepoints,
            ROLLBACK TO, failing statements and whole ROLLBACKs now and then (a bebr table may
            first be written inside nested savepoints: sql/tests/rollback_to.test)
  long      one transaction of 17,000 inserts and as many deletes (more than the 16,384 waiting
            edits that make bebr write chunks before the commit), then txn
  bulk      autocommit multi-row INSERTs through a view whose trigger writes all tables
  optimize  transactions of scattered writes ending in 'optimize' of both tables, and
            autocommit 'optimize' alone
  train     bebr_train of center models (and now and then a small mlp) inside transactions

The writer appends "B <seq>" to a log before it commits transaction <seq> and "C <seq>" with an
fsync once COMMIT returns. After the kill the parent opens the database (which recovers it) and
checks (oracle.py): every logged commit is in `commits`, at most the one commit in flight is
there unlogged; the bebr tables' rows equal the oracle table's; PRAGMA integrity_check (and
bebr's own check once it exists); kNN through both tables equals the brute force in SQL; the
models table holds exactly the trained models; and the tables take one more transaction.
A kill between "B" and "C" is a kill inside COMMIT (or just around it): the summary counts them
and how many of them committed. Trials stop at --trials or --time-cap seconds, whichever first.
"""
import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

import oracle

WORKLOADS = ("txn", "long", "bulk", "optimize", "train")
MODES = ("wal", "delete")
BIG = 17000        # rows of the long transaction: above bebr's flush threshold of 16,384 edits
BIG_BASE = 10**7   # their rowids, far above any other


class Log:
    """The writer's commit log: "B seq" before COMMIT, "C seq" fsynced after it returns."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def begin(self, seq, autocommit=False):
        os.write(self.fd, f"{'A' if autocommit else 'B'} {seq}\n".encode())

    def committed(self, seq):
        os.write(self.fd, f"C {seq}\n".encode())
        os.fsync(self.fd)


def read_log(path):
    """(the committed sequence numbers, the seq of a trailing "B" or "A" line without its "C" or
    None, whether that line was an "A": an autocommit statement rather than a COMMIT)."""
    done, pending, autocommit = set(), None, False
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                kind, seq = line.split()
                if kind == "C":
                    done.add(int(seq))
                    pending = None
                else:
                    pending, autocommit = int(seq), kind == "A"
    return done, pending, autocommit


# ---- the writer process ----

def commit(db, w, log, seq, kind, end="COMMIT"):
    w.commit_record(seq, kind)
    log.begin(seq)
    db.execute(end)
    log.committed(seq)
    return seq + 1


def txn(db, w, log, seq, rng):
    """One explicit transaction with savepoints; returns the next sequence number.

    Savepoints s0, s1, ... nest up to four deep; ROLLBACK TO and RELEASE pick any open one (the
    later ones go with it). Now and then the transaction itself is a savepoint (committed by
    RELEASE), or a savepoint opens before the first write joins the bebr tables to it."""
    by_savepoint = rng.random() < 0.1
    db.execute("SAVEPOINT top" if by_savepoint else "BEGIN")
    depth = 0
    if rng.random() < 0.2:
        db.execute("SAVEPOINT s0")
        depth = 1
    for _ in range(rng.choice((1, 5, 20, 100, 400))):
        x = rng.random()
        if x < 0.03 and depth < 4:
            db.execute(f"SAVEPOINT s{depth}")
            depth += 1
        elif x < 0.05 and depth:
            target = rng.randrange(depth)
            if rng.random() < 0.6:
                db.execute(f"ROLLBACK TO s{target}")  # s<target> stays open
                w.reload()
                depth = target + 1
            if rng.random() < 0.6:
                db.execute(f"RELEASE s{target}")
                depth = target
        else:
            w.random_op()
    if rng.random() < 0.03:
        db.execute("ROLLBACK")
        w.reload()
        return seq
    return commit(db, w, log, seq, "txn", "RELEASE top" if by_savepoint else "COMMIT")


def big_vectors(rng):
    """BIG vectors as one float32 BLOB, drawn from a pool of 500 (many equal distances: ties)."""
    pool = [oracle.vector(rng) for _ in range(500)]
    return b"".join(rng.choice(pool) for _ in range(BIG))


def long_txn(db, w, log, seq, rng, blob):
    base = max(BIG_BASE, max(w.ids, default=0) + 1)
    db.execute("BEGIN")
    db.execute(f"INSERT INTO o(id, {oracle.COLUMNS}) SELECT ? + i, vector, i % 10, char(97 + i % 4),"
               " (i % 100) / 100.0, i % 2, NULL FROM bebr_vectors(?, ?)", (base, blob, oracle.DIM))
    for t, _, _ in oracle.TABLES:
        db.execute(f"INSERT INTO {t}(rowid, {oracle.COLUMNS}) SELECT id, {oracle.COLUMNS} FROM o"
                   " WHERE id >= ?", (base,))
    w.reload()
    w.random_ops(20)
    keep = base + rng.randrange(BIG // 2)  # all but a few hundred rows go again
    db.execute("DELETE FROM o WHERE id >= ? AND id < ?", (base, keep))
    for t, _, _ in oracle.TABLES:
        db.execute(f"DELETE FROM {t} WHERE rowid >= ? AND rowid < ?", (base, keep))
    db.execute("DELETE FROM o WHERE id >= ?", (keep + 300,))
    for t, _, _ in oracle.TABLES:
        db.execute(f"DELETE FROM {t} WHERE rowid >= ?", (keep + 300,))
    w.reload()
    return commit(db, w, log, seq, "long")


def bulk(db, w, log, seq, rng):
    if len(w.ids) > oracle.TARGET_ROWS:
        db.execute("BEGIN")
        for _ in range(200):
            w.delete()
        return commit(db, w, log, seq, "txn")
    n = rng.randrange(1, 65)
    scattered = rng.random() < 0.3
    values, args = [], []
    for _ in range(n):
        i = w._free_id(scattered)
        w.ids.add(i)
        values.append("(?, ?, ?, ?, ?, ?, ?, ?)")
        args += [i, *oracle.row_values(rng), seq]
    w.ids_list = None
    log.begin(seq, autocommit=True)
    db.execute(f"INSERT INTO bulk(id, {oracle.COLUMNS}, seq) VALUES {', '.join(values)}", args)
    log.committed(seq)
    return seq + 1


def optimize(db, w, log, seq, rng):
    if rng.random() < 0.3:
        w.optimize()  # autocommit, no change of content, no sequence number
        return seq
    db.execute("BEGIN")
    for _ in range(rng.randrange(20, 200)):
        if rng.random() < 0.6:
            w.insert(scattered=True)
        else:
            w.random_op()
    w.optimize()
    return commit(db, w, log, seq, "optimize")


def train(db, w, log, seq, rng):
    db.execute("BEGIN")
    w.random_ops(rng.randrange(30))
    source = rng.choice(("o", "t_raw"))  # t_raw: the vectors read back through the virtual table
    if rng.random() < 0.25:
        name, options = "w_mlp", {"kind": "mlp", "bits": rng.randrange(1, 3), "dim": 64, "epochs": 3,
                                  "hidden": 32, "batch": 64, "neighbours": 4, "threads": 1,
                                  "sample": 1000, "seed": rng.randrange(100)}
    else:
        name, options = "w_center", {"kind": "center", "bits": rng.randrange(1, 5)}
    r = db.execute("SELECT bebr_train(?, ?, ?)",
                   (name, f"SELECT embedding FROM {source}", json.dumps(options))).fetchone()[0]
    version = json.loads(r)["version"]
    db.execute("INSERT INTO trained VALUES (?, ?)", (name, version))
    if version > 8:  # keep the models table short: drop old versions with their records
        db.execute("DELETE FROM bebr_models WHERE name = ? AND version < ?", (name, version - 4))
        db.execute("DELETE FROM trained WHERE name = ? AND version < ?", (name, version - 4))
    return commit(db, w, log, seq, "train")


def writer(args):
    rng = random.Random(args.seed)
    db = oracle.connect(args.db, args.ext)
    db.execute("PRAGMA wal_autocheckpoint = 200")  # checkpoints often, so kills land in them too
    w = oracle.Writer(db, rng)
    log = Log(args.log)
    seq = db.execute("SELECT max(seq) FROM commits").fetchone()[0] + 1
    blob = big_vectors(rng) if args.workload == "long" else None  # before the clock starts
    print("ready", flush=True)
    if args.workload == "long":
        seq = long_txn(db, w, log, seq, rng, blob)
    step = {"txn": txn, "long": txn, "bulk": bulk, "optimize": optimize, "train": train}[args.workload]
    while True:
        seq = step(db, w, log, seq, rng)


# ---- the parent: kill, recover, check ----

def check(path, ext, log_path, rng):
    """(problems after a kill (a list of strings), "B", "A" or None for the commit in flight,
    whether it committed, whether bebr's integrity check was skipped)."""
    done, pending, autocommit = read_log(log_path)
    db = oracle.connect(path, ext)
    problems, skipped = oracle.integrity(db)
    have = set(r[0] for r in db.execute("SELECT seq FROM commits"))
    lost = sorted(done - have)
    if lost:
        problems.append(f"committed and logged but missing: {lost[:10]} ({len(lost)})")
    unlogged = sorted(have - done - {0})
    if unlogged and unlogged != [pending]:
        problems.append(f"commits not in the log: {unlogged[:10]} (in flight: {pending})")
    in_flight_committed = pending is not None and pending in have
    if in_flight_committed:  # committed before the kill: log it, as the writer would have
        Log(log_path).committed(pending)
    problems += oracle.check_rows(db, rng) + oracle.check_models(db) + oracle.check_knn(db, rng)
    if not problems:  # still writable: one more transaction, then the rows again
        w = oracle.Writer(db, rng)
        seq = max(have) + 1
        db.execute("BEGIN")
        w.insert()
        w.update()
        w.delete()
        w.commit_record(seq, "check")
        db.execute("COMMIT")
        Log(log_path).committed(seq)
        problems += oracle.check_rows(db) + oracle.check_knn(db, rng, cases=2)
    db.close()
    in_flight = None if pending is None else "A" if autocommit else "B"
    return problems, in_flight, in_flight_committed, skipped


def trial(i, args, work, rng, dbs):
    mode = MODES[i % 2]
    workload = WORKLOADS[(i // 2) % len(WORKLOADS)]
    path, log_path = dbs[mode]
    seed = args.seed * 100000 + i
    with open(os.path.join(work, "writer.err"), "w") as err:
        cmd = [sys.executable, os.path.abspath(__file__), args.ext, "--writer", "--db", path,
               "--log", log_path, "--workload", workload, "--seed", str(seed)]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        if rng.random() < 0.1:
            time.sleep(rng.uniform(0, 0.3))  # while it starts: opening, recovering, loading
        else:
            ready = p.stdout.readline()
            if ready != "ready\n":
                p.wait()
        longest = 3.5 if workload == "long" else 0.6  # long: into its COMMIT now and then
        time.sleep(rng.uniform(0, longest))
        p.send_signal(signal.SIGKILL)
        p.wait()
    if p.returncode != -signal.SIGKILL:
        with open(os.path.join(work, "writer.err")) as f:
            problems = [f"writer exited by itself ({p.returncode}): {f.read()[-2000:]}"]
        return mode, workload, problems, None, 0, False
    # Keep the files as the kill left them, for a look at a failure.
    for suffix in ("", "-wal", "-journal"):
        copy = os.path.join(work, "killed" + suffix)
        if os.path.exists(path + suffix):
            shutil.copyfile(path + suffix, copy)
        elif os.path.exists(copy):
            os.remove(copy)
    try:
        problems, in_commit, committed, skipped = check(path, args.ext, log_path, rng)
    except sqlite3.Error as e:  # an error where an answer was due is a failure too
        return mode, workload, [f"the check failed: {type(e).__name__}: {e}"], None, 0, False
    return mode, workload, problems, in_commit, committed, skipped


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ext", help="path of the built bebr extension")
    ap.add_argument("--trials", type=int, default=120)
    ap.add_argument("--time-cap", type=float, default=150, help="seconds; no trial starts after it")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--writer", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--db")
    ap.add_argument("--log")
    ap.add_argument("--workload")
    args = ap.parse_args()
    args.ext = os.path.abspath(args.ext)
    if args.writer:
        return writer(args)

    start = time.monotonic()
    print(f"crash: seed {args.seed}, up to {args.trials} trials or {args.time_cap:.0f} s"
          " (kill moments depend on timing; the seed fixes the workloads and the delays)", flush=True)
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="bebr-crash-")
    dbs = {}
    for mode in MODES:
        path = os.path.join(work, f"{mode}.db")
        db = oracle.connect(path, args.ext)
        oracle.create(db, mode, random.Random(args.seed * 10 + len(dbs)))
        db.close()
        dbs[mode] = (path, os.path.join(work, f"{mode}.log"))
    counts = {"trials": 0, "B": 0, "B_committed": 0, "A": 0, "A_committed": 0}
    per = {}
    skipped = False
    failed = None
    for i in range(args.trials):
        if time.monotonic() - start > args.time_cap:
            break
        mode, workload, problems, in_commit, committed, skip = trial(i, args, work, rng, dbs)
        counts["trials"] += 1
        if in_commit:
            counts[in_commit] += 1
            counts[in_commit + "_committed"] += committed
        per[(mode, workload)] = per.get((mode, workload), 0) + 1
        skipped |= skip
        if problems:
            failed = (i, mode, workload, problems)
            break
    commits = {mode: len(read_log(log)[0]) for mode, (_, log) in dbs.items()}
    kinds = {}
    for path, _ in dbs.values():
        db = oracle.connect(path, args.ext)
        for kind, n in db.execute("SELECT kind, count(*) FROM commits WHERE seq > 0 GROUP BY kind"):
            kinds[kind] = kinds.get(kind, 0) + n
        db.close()
    print("trials by mode and workload: " +
          ", ".join(f"{m}/{w} {n}" for (m, w), n in sorted(per.items())))
    if skipped:
        print("bebr's integrity-check command does not exist yet: skipped (PRAGMA integrity_check ran)")
    if counts["trials"] < args.trials and not failed:
        print(f"time cap of {args.time_cap:.0f} s reached after {counts['trials']} of {args.trials} trials")
    print("commits by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) +
          " (check: the parent's transaction after each kill)")
    print(f"crash summary: {counts['trials']} trials, {sum(commits.values())} commits checked"
          f" (wal {commits['wal']}, delete {commits['delete']}), {counts['B']} kills inside COMMIT"
          f" ({counts['B_committed']} of them committed), {counts['A']} inside an autocommit INSERT"
          f" ({counts['A_committed']} committed), {0 if failed is None else 1} failures,"
          f" {time.monotonic() - start:.0f} s")
    if failed:
        i, mode, workload, problems = failed
        print(f"FAILED trial {i} ({mode}, {workload}, writer seed {args.seed * 100000 + i}):")
        for p in problems:
            print("  " + p)
        print(f"files kept in {work} (killed*: as the kill left them)")
        return 1
    if args.keep:
        print(f"files kept in {work}")
    else:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
