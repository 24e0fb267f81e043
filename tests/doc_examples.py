"""Runs every SQL example of a Markdown file and checks the output it shows.

    /usr/bin/python3 tests/doc_examples.py <extension> <file.md>...

Each ```sql block of a file runs, in order, in one in-memory database per file with the
extension loaded, statement by statement, as the sqlite3 shell would run it pasted in. What a
statement shows is written after it in comment lines that start with `-- →`, one line a row,
columns separated by `|`, NULL as an empty string and numbers as the shell prints them (list
mode); `...` in a shown line matches any text; `-- → error: <text>` says the statement fails
with a message containing <text>. A statement with no such line must succeed, its rows not
checked. Other comments are prose. Dot-commands: `.load` lines are skipped (the extension is
loaded already); any other dot-command in a block is an error.

Set-up the reader does not need to see goes in an HTML comment before the first example:
    <!-- doc-test setup
    CREATE TABLE my_vectors(embedding BLOB);
    .param set :vec '[0.5, -1, 2, 0]'
    .file base.f32 SELECT zeroblob(4096)
    -->
`.param set :name <SQL expression>` binds the expression's value to :name in every statement
after it; `.file <name> <SELECT>` writes the query's BLOBs, one after the other, to a file that
readfile(<name>) reads
(readfile and writefile are registered as in the shell, in a temporary directory).

Prints one line per failing example and "N passed, N failed" per file; exits 1 on any failure.
"""
import os
import re
import sqlite3
import sys
import tempfile

ARROW = "-- \u2192"


def shell_text(v):
    """A value as the sqlite3 shell prints it in list mode."""
    if v is None:
        return ""
    if isinstance(v, float):
        if v != v:
            return ""
        if v in (float("inf"), float("-inf")):
            return "Inf" if v > 0 else "-Inf"
        s = "%.15g" % v
        if not re.search(r"[.eEn]", s):
            s += ".0"
        return s
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return str(v)


def matches(shown, got):
    pattern = "^" + ".*".join(re.escape(part) for part in shown.split("...")) + "$"
    return re.match(pattern, got, re.S) is not None


class Example:
    def __init__(self, sql, line):
        self.sql, self.line, self.shown = sql, line, []


def split_block(lines, first_line):
    """Statements of a block, each with its shown lines (`-- →`)."""
    out, cur, start = [], [], None
    for i, raw in enumerate(lines):
        line = raw.rstrip("\n")
        stripped = line.strip()
        if stripped.startswith(ARROW):
            if not out:
                raise ValueError(f"line {first_line + i}: shown output before any statement")
            out[-1].shown.append(stripped[len(ARROW):].strip())
            continue
        # A shown value on the statement's own line: `SELECT 1;   -- → 1`.
        code, sep, after = line.partition(ARROW)
        if not cur and not code.strip():
            continue
        if not cur and code.strip().startswith("--"):
            continue  # prose
        if not cur and code.strip().startswith("."):
            if not code.strip().startswith(".load"):
                raise ValueError(f"line {first_line + i}: dot-command {code.strip()!r} in an example")
            continue
        if start is None:
            start = first_line + i
        cur.append(code)
        text = "\n".join(cur)
        if sqlite3.complete_statement(text):
            ex = Example(text.strip(), start)
            if sep:
                ex.shown.append(after.strip())
            out.append(ex)
            cur, start = [], None
    if cur:
        raise ValueError(f"line {start}: incomplete statement at the end of the block")
    return out


def parse(path):
    """(setup lines, examples) of a Markdown file."""
    setup, examples = [], []
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    i = 0
    while i < len(lines):
        s = lines[i].strip()
        if s.startswith("<!-- doc-test setup"):
            i += 1
            while i < len(lines) and lines[i].strip() != "-->":
                setup.append((i + 1, lines[i].rstrip("\n")))
                i += 1
        elif s.startswith("```sql"):
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith("```"):
                j += 1
            examples.extend(split_block(lines[i + 1:j], i + 2))
            i = j
        i += 1
    return setup, examples


def run_file(ext, path):
    setup, examples = parse(path)
    work = tempfile.mkdtemp(prefix="bebr_doc_")
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.enable_load_extension(True)
    db.load_extension(ext)
    db.enable_load_extension(False)

    def readfile(name):
        try:
            with open(os.path.join(work, name), "rb") as f:
                return f.read()
        except OSError:
            return None

    def writefile(name, data):
        with open(os.path.join(work, name), "wb") as f:
            f.write(data if isinstance(data, bytes) else str(data).encode())
        return len(data)

    db.create_function("readfile", 1, readfile)
    db.create_function("writefile", 2, writefile)
    params = {}
    failed = 0
    sql = []
    for line_no, line in setup + [(None, "")]:
        s = line.strip()
        if sql and (line_no is None or s.startswith(".") or sqlite3.complete_statement("\n".join(sql))):
            db.executescript("\n".join(sql))
            sql = []
        if line_no is None:
            break
        m = re.match(r"\.param set :(\w+) (.*)$", s)
        f = re.match(r"\.file (\S+) (.*)$", s)
        if m:
            params[m.group(1)] = db.execute("SELECT " + m.group(2), params).fetchone()[0]
        elif f:
            writefile(f.group(1), b"".join(row[0] for row in db.execute(f.group(2), params)))
        elif s:
            sql.append(line)
    for ex in examples:
        where = f"{path}:{ex.line}"
        wanted = [k for k in re.findall(r"[:@$](\w+)", ex.sql) if k in params]
        try:
            cur = db.execute(ex.sql, {k: params[k] for k in wanted})
            got = ["|".join(shell_text(v) for v in row) for row in cur.fetchall()]
            err = None
        except sqlite3.Error as e:
            got, err = [], str(e)
        if ex.shown and ex.shown[0].startswith("error:"):
            want = ex.shown[0][len("error:"):].strip()
            ok = err is not None and want in err
            problem = f"expected an error containing {want!r}, got " + (repr(err) if err else f"rows {got!r}")
        elif err is not None:
            ok, problem = False, f"failed: {err}"
        elif ex.shown:
            ok = len(got) == len(ex.shown) and all(matches(s, g) for s, g in zip(ex.shown, got))
            problem = f"shows {ex.shown!r}, gives {got!r}"
        else:
            ok, problem = True, ""
        if not ok:
            failed += 1
            print(f"{where}: {ex.sql.splitlines()[0][:70]}: {problem}")
    print(f"{path}: {len(examples) - failed} passed, {failed} failed")
    return failed


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    failed = sum(run_file(sys.argv[1], p) for p in sys.argv[2:])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
