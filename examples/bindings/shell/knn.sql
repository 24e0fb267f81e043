-- The bindings' reference: the kNN every example in examples/bindings/ runs, in the sqlite3 shell.
-- scripts/test-bindings.sh compares each binding's output with this one's. Run from the data
-- directory, the extension loaded:
--   cd examples/data/bible && sqlite3 :memory: -cmd '.load ../../../build/bebr' '.read ../../bindings/shell/knn.sql'
.bail on
.headers off
.mode list
CREATE TABLE passages(split TEXT, split_row INTEGER, book TEXT, chapter INTEGER, text TEXT);
.mode ascii
.separator "\t" "\n"
.import --skip 1 passages.tsv passages
.mode list
CREATE VIRTUAL TABLE bible USING bebr(embedding float[1024], book text, chapter integer, +passage text, bits=2, store_vectors=1);
INSERT INTO bible(rowid, embedding, book, chapter, passage)
  SELECT v.i, v.vector, p.book, p.chapter, p.text
    FROM bebr_vectors(readfile('base.f32'), 1024) v JOIN passages p ON p.split = 'base' AND p.split_row = v.i;
-- The query: row 120 of queries.f32, a held-out passage, bound to the one parameter.
.parameter set ?1 "(SELECT vector FROM bebr_vectors(readfile('queries.f32'), 1024) WHERE i = 120)"
SELECT printf('%d %s %d %.4f %s', rowid, book, chapter, distance, substr(passage, 1, 60)) FROM bible WHERE embedding MATCH ? AND k = 5 AND rescore = 40 AND chapter <= 10;
