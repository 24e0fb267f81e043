"""bebr from apsw (Debian's python3-apsw). Filtered kNN with rescore over the bundled bible
passages, one line a hit.

    /usr/bin/python3 knn.py path/to/bebr examples/data/bible
"""
import os
import sys

import apsw

ext, data = sys.argv[1], sys.argv[2]
db = apsw.Connection(":memory:")
db.enableloadextension(True)  # apsw 3.40's names; newer apsw also has enable_load_extension
db.loadextension(ext)
db.enableloadextension(False)
cursor = db.cursor()

cursor.execute("CREATE VIRTUAL TABLE bible USING bebr(embedding float[1024], book text, chapter integer,"
           " +passage text, bits=2, store_vectors=1)")
with open(os.path.join(data, "base.f32"), "rb") as f:
    base = f.read()
with open(os.path.join(data, "passages.tsv"), encoding="utf-8") as f:
    rows = [line.rstrip("\n").split("\t") for line in f][1:]
with db:  # one transaction
    cursor.executemany("INSERT INTO bible(rowid, embedding, book, chapter, passage) VALUES (?, ?, ?, ?, ?)",
                   [(int(r), base[int(r) * 4096:(int(r) + 1) * 4096], book, int(chapter), text)
                    for split, r, book, chapter, text in rows if split == "base"])

with open(os.path.join(data, "queries.f32"), "rb") as f:
    f.seek(120 * 4096)
    query = f.read(4096)
for (line,) in cursor.execute("SELECT printf('%d %s %d %.4f %s', rowid, book, chapter, distance, substr(passage, 1, 60))"
                          " FROM bible WHERE embedding MATCH ? AND k = 5 AND rescore = 40 AND chapter <= 10",
                          (query,)):
    print(line)
