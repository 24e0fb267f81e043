"""The database both attack tests share: two bebr tables mirrored by a plain oracle table.

    import oracle
    db = oracle.connect("x.db", ext)            # the bebr extension loaded, autocommit
    oracle.create(db, "wal", random.Random(1))  # schema, a trained model, 600 rows
    w = oracle.Writer(db, random.Random(2))     # random edits, each applied to all three tables
    db.execute("BEGIN"); w.random_ops(50); w.commit_record(seq, "txn"); db.execute("COMMIT")
    problems = oracle.check_rows(db) + oracle.check_knn(db, random.Random(3))

Every change goes into `o` (rowid, vector, metadata, auxiliary value) and into the two bebr
tables inside one transaction, and each committed transaction inserts its sequence number into
`commits`. So whatever state a reader or a recovering process sees, the bebr tables must hold
exactly `o`'s rows, and every kNN answer must equal a brute force over `o` written in SQL with
bebr's scalar functions (`bebr_sdc_distance` of `bebr_binarize` codes, ties by rowid).

  t_raw  bits=2, cosine, cache=1            the resident cache, reloaded on data_version
  t_mod  model 'base_c' (center, 1 bit), l2, cache=0 (chunks read at every query)

Run by Debian's /usr/bin/python3, whose sqlite3 module can load extensions.
"""
import random
import sqlite3
import struct

DIM = 32
CHUNK = 64                  # small chunks: many of them, ranged and listed, after few rows
TARGET_ROWS = 1000          # writers insert more below it and delete more above it
ID_SPACE = 12 * TARGET_ROWS  # scattered rowids land in listed chunks
COLUMNS = "embedding, tag, name, score, flag, note"
# (table, binarizer argument of bebr_binarize, metric)
TABLES = (("t_raw", 2, "cosine"), ("t_mod", "base_c", "l2"))
NAMES = ("a", "b", "c", "d")


def connect(path, ext, timeout=30.0):
    """A connection in autocommit mode (transactions are explicit) with bebr loaded."""
    db = sqlite3.connect(path, isolation_level=None, timeout=timeout)
    db.enable_load_extension(True)
    db.load_extension(ext)
    db.enable_load_extension(False)
    return db


def vector(rng):
    """A float32 BLOB with an offset, so that the center model has a mean to subtract."""
    return struct.pack(f"<{DIM}f", *[rng.gauss(0.2, 1.0) for _ in range(DIM)])


def row_values(rng):
    """(embedding, tag, name, score, flag, note), NULL now and then in every metadata column."""
    def maybe(v):
        return None if rng.random() < 0.05 else v
    return (vector(rng), maybe(rng.randrange(10)), maybe(rng.choice(NAMES)), maybe(rng.random()),
            maybe(rng.randrange(2)), maybe(f"note {rng.randrange(1000)}"))


def create(db, journal_mode, rng, rows=600):
    """A fresh database: the schema, `rows` rows and the model 'base_c' trained on them."""
    mode = db.execute(f"PRAGMA journal_mode = {journal_mode}").fetchone()[0]
    assert mode.lower() == journal_mode.lower(), mode
    db.executescript("""
        CREATE TABLE o(id INTEGER PRIMARY KEY, embedding BLOB NOT NULL, tag, name, score, flag, note);
        CREATE TABLE commits(seq INTEGER PRIMARY KEY, kind TEXT);
        CREATE TABLE trained(name TEXT, version INTEGER, PRIMARY KEY(name, version));
        INSERT INTO commits VALUES (0, 'create');
    """)
    ids = range(1, rows + 1)
    db.execute("BEGIN")
    db.executemany(f"INSERT INTO o(id, {COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [(i, *row_values(rng)) for i in ids])
    db.execute("""SELECT bebr_train('base_c', 'SELECT embedding FROM o', '{"kind":"center","bits":1}')""")
    db.execute("COMMIT")
    meta = "tag integer, name text, score float, flag boolean, +note text"
    db.execute(f"CREATE VIRTUAL TABLE t_raw USING bebr(embedding float[{DIM}], {meta}, bits=2,"
               f" store_vectors=1, chunk_size={CHUNK})")
    db.execute(f"CREATE VIRTUAL TABLE t_mod USING bebr(embedding float[{DIM}], {meta},"
               f" model='base_c', metric=l2, store_vectors=1, chunk_size={CHUNK}, cache=0)")
    # One autocommit statement that writes all three tables and its commit record: bulk inserts
    # go through this view.
    db.executescript(f"""
        CREATE VIEW bulk(id, {COLUMNS}, seq) AS SELECT id, {COLUMNS}, NULL FROM o;
        CREATE TRIGGER bulk_insert INSTEAD OF INSERT ON bulk BEGIN
          INSERT INTO o(id, {COLUMNS}) VALUES
            (new.id, new.embedding, new.tag, new.name, new.score, new.flag, new.note);
          INSERT INTO t_raw(rowid, {COLUMNS}) VALUES
            (new.id, new.embedding, new.tag, new.name, new.score, new.flag, new.note);
          INSERT INTO t_mod(rowid, {COLUMNS}) VALUES
            (new.id, new.embedding, new.tag, new.name, new.score, new.flag, new.note);
          INSERT OR IGNORE INTO commits VALUES (new.seq, 'bulk');
        END;
        BEGIN;
        INSERT INTO t_raw(rowid, {COLUMNS}) SELECT id, {COLUMNS} FROM o;
        INSERT INTO t_mod(rowid, {COLUMNS}) SELECT id, {COLUMNS} FROM o;
        COMMIT;
    """)


class Writer:
    """Random inserts, updates and deletes, each applied to o, t_raw and t_mod alike.

    Keeps the set of rowids in use; `reload()` reads it back after a ROLLBACK (TO)."""

    def __init__(self, db, rng):
        self.db = db
        self.rng = rng
        self.reload()

    def reload(self):
        self.ids = set(r[0] for r in self.db.execute("SELECT id FROM o"))
        self.ids_list = None

    def _pick(self):
        if self.ids_list is None:
            self.ids_list = sorted(self.ids)
        return self.rng.choice(self.ids_list)

    def _free_id(self, scattered):
        top = max(self.ids, default=0)
        if not scattered:
            return top + 1
        for _ in range(100):
            i = self.rng.randrange(1, ID_SPACE)
            if i not in self.ids:
                return i
        return top + 1

    def _all(self, sql_o, sql_t, args):
        """The same change in the oracle (`sql_o`) and both bebr tables (`sql_t`, `{t}` the table)."""
        self.db.execute(sql_o, args)
        for t, _, _ in TABLES:
            self.db.execute(sql_t.format(t=t), args)

    def insert(self, scattered=None):
        if scattered is None:
            scattered = self.rng.random() < 0.5
        i = self._free_id(scattered)
        replace = "OR REPLACE " if self.rng.random() < 0.2 else ""
        self._all(f"INSERT {replace}INTO o(id, {COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                  f"INSERT {replace}INTO {{t}}(rowid, {COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                  (i, *row_values(self.rng)))
        self.ids.add(i)
        self.ids_list = None

    def update(self):
        if not self.ids:
            return self.insert()
        i = self._pick()
        v = row_values(self.rng)
        kind = self.rng.randrange(5)
        if kind == 0:    # metadata only: the code stays as it is
            self._all("UPDATE o SET tag = ?, score = ? WHERE id = ?",
                      "UPDATE {t} SET tag = ?, score = ? WHERE rowid = ?", (v[1], v[3], i))
        elif kind == 1:  # the vector only
            self._all("UPDATE o SET embedding = ? WHERE id = ?",
                      "UPDATE {t} SET embedding = ? WHERE rowid = ?", (v[0], i))
        elif kind == 2:  # the rowid: the row moves to another chunk
            j = self._free_id(self.rng.random() < 0.7)
            self._all("UPDATE o SET id = ? WHERE id = ?", "UPDATE {t} SET rowid = ? WHERE rowid = ?",
                      (j, i))
            self.ids.discard(i)
            self.ids.add(j)
            self.ids_list = None
        elif kind == 3:  # every column
            self._all("UPDATE o SET embedding = ?, tag = ?, name = ?, score = ?, flag = ?, note = ?"
                      " WHERE id = ?",
                      "UPDATE {t} SET embedding = ?, tag = ?, name = ?, score = ?, flag = ?, note = ?"
                      " WHERE rowid = ?", (*v, i))
        else:            # INSERT OR REPLACE over a taken rowid
            self._all(f"INSERT OR REPLACE INTO o(id, {COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      f"INSERT OR REPLACE INTO {{t}}(rowid, {COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (i, *v))

    def delete(self):
        if not self.ids:
            return
        i = self._pick()
        if self.rng.random() < 0.1:  # a short range of rowids, found by a scan of the table
            j = i + self.rng.randrange(1, 20)
            self._all("DELETE FROM o WHERE id BETWEEN ? AND ?",
                      "DELETE FROM {t} WHERE rowid BETWEEN ? AND ?", (i, j))
            self.ids = set(x for x in self.ids if not i <= x <= j)
        else:
            self._all("DELETE FROM o WHERE id = ?", "DELETE FROM {t} WHERE rowid = ?", (i,))
            self.ids.discard(i)
        self.ids_list = None

    def failing_statement(self):
        """A multi-row INSERT into a bebr table whose last row takes a used rowid: the statement
        fails and must leave no trace (its first row included)."""
        if not self.ids:
            return
        t = self.rng.choice(TABLES)[0]
        fresh = self._free_id(True)
        try:
            self.db.execute(f"INSERT INTO {t}(rowid, {COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?),"
                            " (?, ?, ?, ?, ?, ?, ?)",
                            (fresh, *row_values(self.rng), self._pick(), *row_values(self.rng)))
        except sqlite3.IntegrityError:
            return
        raise AssertionError(f"an INSERT of a taken rowid into {t} did not fail")

    def random_op(self):
        below = len(self.ids) < TARGET_ROWS
        x = self.rng.random()
        if x < 0.01:
            self.failing_statement()
        elif x < (0.5 if below else 0.3):
            self.insert()
        elif x < (0.8 if below else 0.6):
            self.update()
        else:
            self.delete()

    def random_ops(self, n):
        for _ in range(n):
            self.random_op()

    def optimize(self):
        for t, _, _ in TABLES:
            self.db.execute(f"INSERT INTO {t}({t}) VALUES ('optimize')")

    def commit_record(self, seq, kind):
        self.db.execute("INSERT INTO commits VALUES (?, ?)", (seq, kind))


def rows(db, table):
    key = "id" if table == "o" else "rowid"
    return db.execute(f"SELECT {key}, {COLUMNS} FROM {table} ORDER BY {key}").fetchall()


def check_rows(db, rng=None):
    """Problems (a list of strings) where a bebr table's rows differ from o's."""
    problems = []
    want = rows(db, "o")
    for t, _, _ in TABLES:
        got = rows(db, t)
        if got != want:
            gi, wi = {r[0]: r for r in got}, {r[0]: r for r in want}
            extra = sorted(set(gi) - set(wi))[:5]
            missing = sorted(set(wi) - set(gi))[:5]
            differ = [i for i in sorted(set(gi) & set(wi)) if gi[i] != wi[i]][:5]
            problems.append(f"{t}: {len(got)} rows, o: {len(want)}; rowids only in {t}: {extra},"
                            f" only in o: {missing}, differing: {differ}")
        n = db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        if n != len(want):
            problems.append(f"{t}: count(*) = {n}, o has {len(want)} rows")
        if rng is not None and want:
            for r in rng.sample(want, min(5, len(want))):  # point lookups (xFilter by rowid)
                got = db.execute(f"SELECT rowid, {COLUMNS} FROM {t} WHERE rowid = ?", (r[0],)).fetchall()
                if got != [r]:
                    problems.append(f"{t}: lookup of rowid {r[0]} gave {got!r:.200}")
    return problems


# Filters pushed into the scan, and the same condition on o (NULL matches no comparison in both).
FILTERS = ("", " AND tag = 3", " AND name IN ('a', 'c') AND score >= 0.25", " AND flag = 1 AND tag != 2",
           " AND tag < 5 AND name != 'b'")


def brute_force(db, binarizer, metric, code, k, where, rescore=None, query=None):
    """The k nearest rows of o by SDC distance to `code`, ties by rowid; with `rescore`, the best
    max(k, rescore) of those re-ranked by the exact distance of the vectors to `query`."""
    sdc = f"SELECT id, embedding, bebr_sdc_distance(bebr_binarize(embedding, ?), ?, '{metric}') AS d" \
          f" FROM o WHERE 1{where} ORDER BY d, id"
    if rescore is None:
        return db.execute(f"SELECT id, d FROM ({sdc}) LIMIT ?", (binarizer, code, k)).fetchall()
    return db.execute(f"SELECT id, bebr_distance(embedding, ?, '{metric}') AS e FROM ({sdc} LIMIT ?)"
                      " ORDER BY e, id LIMIT ?", (query, binarizer, code, max(k, rescore), k)).fetchall()


class Question:
    """A random kNN question: table, k, filter, query (a vector or a code), rescore.

    Made before a read transaction (binarizing with a model reads bebr_models), so that the kNN
    itself can be the transaction's first read."""

    def __init__(self, db, rng, filtered=None):
        self.table, self.binarizer, self.metric = rng.choice(TABLES)
        self.k = rng.choice((1, 10, 10, 100, 100000))  # the last: every row that passes the filter
        self.where = rng.choice(FILTERS) if filtered is None else rng.choice(FILTERS[1:]) if filtered else ""
        self.vector = vector(rng)
        self.code = db.execute("SELECT bebr_binarize(?, ?)", (self.vector, self.binarizer)).fetchone()[0]
        self.rescore = rng.choice((None, None, 40))
        self.by_code = rng.random() < 0.3  # MATCH a code of the table's shape instead of a vector
        # A code query is rescored against its reconstruction (ext/vtab.cpp), a vector against itself.
        self.exact = self.vector if not self.by_code else \
            db.execute("SELECT bebr_decode(?)", (self.code,)).fetchone()[0]

    def knn(self, db):
        sql = f"SELECT rowid, distance FROM {self.table} WHERE embedding MATCH ? AND k = ?{self.where}"
        args = [self.code if self.by_code else self.vector, self.k]
        if self.rescore is not None:
            sql += " AND rescore = ?"
            args.append(self.rescore)
        return db.execute(sql, args).fetchall()

    def brute_force(self, db):
        return brute_force(db, self.binarizer, self.metric, self.code, self.k, self.where, self.rescore,
                           self.exact)

    def compare(self, got, want):
        """None when the answers agree, else a problem string."""
        if got == want:
            return None
        diff = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        return (f"kNN on {self.table} ({'code' if self.by_code else 'vector'} query, k={self.k},"
                f" rescore={self.rescore}, filter '{self.where.strip()}') differs from the brute force:"
                f" {len(got)} vs {len(want)} rows, first difference at {diff}:"
                f" {got[diff:diff + 2]} vs {want[diff:diff + 2]}")


def check_knn(db, rng, cases=6):
    """Problems of `cases` kNN questions, half of them with a metadata filter."""
    problems = []
    for i in range(cases):
        q = Question(db, rng, filtered=i % 2 == 1)
        p = q.compare(q.knn(db), q.brute_force(db))
        if p:
            problems.append(p)
    return problems


def check_models(db):
    """bebr_models' rows beyond 'base_c' are exactly those `trained` records, and each loads."""
    problems = []
    have = set(db.execute("SELECT name, version FROM bebr_models WHERE name != 'base_c'"))
    want = set(db.execute("SELECT name, version FROM trained"))
    if have != want:
        problems.append(f"bebr_models has {sorted(have - want)} not in trained, lacks {sorted(want - have)}")
    q = vector(random.Random(0))
    for (name,) in db.execute("SELECT DISTINCT name FROM bebr_models").fetchall():
        try:
            db.execute("SELECT bebr_binarize(?, ?)", (q, name)).fetchone()
        except sqlite3.Error as e:
            problems.append(f"model {name} does not load: {e}")
    return problems


def integrity(db):
    """PRAGMA integrity_check, then bebr's own check of each table where it exists.

    Returns (problems, skipped): skipped is True when bebr has no 'integrity-check' command yet."""
    problems = []
    r = db.execute("PRAGMA integrity_check").fetchall()
    if r != [("ok",)]:
        problems.append(f"PRAGMA integrity_check: {r[:5]}")
    skipped = False
    for t, _, _ in TABLES:
        # ---- bebr's own integrity check (issue 16) goes here once it exists ----
        try:
            db.execute(f"INSERT INTO {t}({t}) VALUES ('integrity-check')")
        except sqlite3.Error as e:
            if "unknown command" in str(e):
                skipped = True
            else:
                problems.append(f"{t}: integrity-check: {e}")
    return problems, skipped
