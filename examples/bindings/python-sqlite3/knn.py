"""bebr from Python's standard sqlite3 module (Debian's /usr/bin/python3; a pyenv build may lack
extension loading). Filtered kNN with rescore over the bundled bible passages, one line a hit.

    /usr/bin/python3 knn.py path/to/bebr examples/data/bible
"""
import os
import sqlite3
import sys

ext, data = sys.argv[1], sys.argv[2]
db = sqlite3.connect(":memory:")
db.enable_load_extension(True)
db.load_extension(ext)
db.enable_load_extension(False)

db.execute("CREATE VIRTUAL TABLE bible USING bebr(embedding float[1024], book text, chapter integer,"
           " +passage text, bits=2, store_vectors=1)")
with open(os.path.join(data, "base.f32"), "rb") as f:
    base = f.read()
with open(os.path.join(data, "passages.tsv"), encoding="utf-8") as f:
    rows = [line.rstrip("\n").split("\t") for line in f][1:]
with db:  # one transaction
    db.executemany("INSERT INTO bible(rowid, embedding, book, chapter, passage) VALUES (?, ?, ?, ?, ?)",
                   [(int(r), base[int(r) * 4096:(int(r) + 1) * 4096], book, int(chapter), text)
                    for split, r, book, chapter, text in rows if split == "base"])

with open(os.path.join(data, "queries.f32"), "rb") as f:
    f.seek(120 * 4096)
    query = f.read(4096)
for (line,) in db.execute("SELECT printf('%d %s %d %.4f %s', rowid, book, chapter, distance, substr(passage, 1, 60))"
                          " FROM bible WHERE embedding MATCH ? AND k = 5 AND rescore = 40 AND chapter <= 10",
                          (query,)):
    print(line)
