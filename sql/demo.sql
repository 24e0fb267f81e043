-- bebr demo: semantic search over the World English Bible with binary codes, in the sqlite3 shell.
-- Run from the project root after building (scripts/demo.sh does both):
--   sqlite3 :memory: -cmd '.load build/bebr' '.read sql/demo.sql'
-- Data: 2,124 passages embedded with bge-large-en-v1.5 (1024-d float32, 4 KiB each), and 1,000
-- held-out passages used as queries (examples/data/bible/README.md).
.bail on
.timer off
.headers off
.mode list
.print '== bebr demo: World English Bible, bge-large-en-v1.5 (1024-d) =='
SELECT 'bebr ' || bebr_version() || ', SIMD: ' || substr(bebr_debug(), instr(bebr_debug(), 'active: ') + 8,
       instr(substr(bebr_debug(), instr(bebr_debug(), 'active: ')), ' (') - 9);

-- 1. Passage text (tab-separated, no quoting) and vectors (headerless float32 files).
CREATE TABLE passages(split TEXT, split_row INTEGER, book TEXT, chapter INTEGER, text TEXT);
.mode ascii
.separator "\t" "\n"
.import --skip 1 examples/data/bible/passages.tsv passages
.mode list
.separator "|" "\n"
CREATE TEMP TABLE base(id INTEGER PRIMARY KEY, embedding BLOB);
INSERT INTO base SELECT i, vector FROM bebr_vectors(readfile('examples/data/bible/base.f32'), 1024);
CREATE TEMP TABLE queries(id INTEGER PRIMARY KEY, embedding BLOB);
INSERT INTO queries SELECT i, vector FROM bebr_vectors(readfile('examples/data/bible/queries.f32'), 1024);
SELECT printf('loaded %d passages and %d held-out query passages', (SELECT count(*) FROM base),
              (SELECT count(*) FROM queries));

-- 2. Train a `center` binarizer per code size on the passages (one pass: the mean vector).
SELECT bebr_train('bible_c' || bits, 'SELECT embedding FROM base', json_object('kind', 'center', 'bits', bits))
  FROM (SELECT 1 AS bits UNION ALL SELECT 2 UNION ALL SELECT 4);

-- 3. The virtual table: 2-bit codes, the float vectors for rescoring, book/chapter/testament
--    as metadata (filterable inside the kNN scan), the passage text as an auxiliary column.
CREATE VIEW books AS
  SELECT book, chapter, text, CASE WHEN book IN ('MAT', 'MRK', 'LUK', 'JHN', 'ACT', 'ROM', '1CO', '2CO', 'GAL',
    'EPH', 'PHP', 'COL', '1TH', '2TH', '1TI', '2TI', 'TIT', 'PHM', 'HEB', 'JAS', '1PE', '2PE', '1JN', '2JN',
    '3JN', 'JUD', 'REV') THEN 'NT' ELSE 'OT' END AS testament, split, split_row FROM passages;
CREATE VIRTUAL TABLE bible USING bebr(embedding float[1024], book text, chapter integer, testament text,
                                      +passage text, model='bible_c2', store_vectors=1, chunk_size=256);
INSERT INTO bible(rowid, embedding, book, chapter, testament, passage)
  SELECT b.id, b.embedding, p.book, p.chapter, p.testament, p.text
    FROM base b JOIN books p ON p.split = 'base' AND p.split_row = b.id;
SELECT printf('bytes per vector in the database: %.0f of 2-bit codes (+ %.0f for rowids and metadata), '
              || '%.0f of float32 vectors kept for rescoring',
              (SELECT sum(pgsize) FROM dbstat WHERE name = 'bible_chunks') * 1.0 / count(*),
              (SELECT sum(pgsize) FROM dbstat WHERE name = 'bible_rowids') * 1.0 / count(*),
              (SELECT sum(pgsize) FROM dbstat WHERE name = 'bible_vectors') * 1.0 / count(*))
  FROM bible;

-- 4. What it finds for a few held-out passages.
CREATE TEMP VIEW shown AS
  SELECT q.id, q.embedding, printf('%squery  %s %d: %s...', char(10), p.book, p.chapter, substr(p.text, 1, 80)) AS title
    FROM queries q JOIN books p ON p.split = 'query' AND p.split_row = q.id;
.print ''
.print '== nearest passages by SDC distance on 2-bit codes (k = 3) =='
SELECT title || char(10) ||
       (SELECT group_concat(printf('  %.3f  %s %d: %s...', distance, book, chapter, substr(passage, 1, 70)), char(10))
          FROM bible WHERE embedding MATCH s.embedding AND k = 3)
  FROM shown s WHERE s.id IN (3, 57, 120);
.print ''
.print '== the same query, re-ranked by exact cosine over the best 40 codes (rescore = 40) =='
SELECT title || char(10) ||
       (SELECT group_concat(printf('  %.3f  %s %d: %s...', distance, book, chapter, substr(passage, 1, 70)), char(10))
          FROM bible WHERE embedding MATCH s.embedding AND k = 3 AND rescore = 40)
  FROM shown s WHERE s.id = 120;
.print ''
.print "== only the Old Testament (testament = 'OT', filtered inside the scan) =="
SELECT title || char(10) ||
       (SELECT group_concat(printf('  %.3f  %s %d: %s...', distance, book, chapter, substr(passage, 1, 70)), char(10))
          FROM bible WHERE embedding MATCH s.embedding AND k = 3 AND rescore = 40 AND testament = 'OT')
  FROM shown s WHERE s.id = 120;

-- 5. Recall@10 against exact float search (cosine) over 200 held-out queries, at 1, 2 and 4
--    bits, without and with rescoring.
CREATE VIRTUAL TABLE bible1 USING bebr(embedding float[1024], model='bible_c1', store_vectors=1, chunk_size=256);
CREATE VIRTUAL TABLE bible4 USING bebr(embedding float[1024], model='bible_c4', store_vectors=1, chunk_size=256);
INSERT INTO bible1(rowid, embedding) SELECT id, embedding FROM base;
INSERT INTO bible4(rowid, embedding) SELECT id, embedding FROM base;
CREATE TEMP TABLE q AS SELECT id, embedding FROM queries WHERE id < 200;
CREATE TEMP TABLE exact10 AS
  SELECT qid, bid FROM (
    SELECT q.id AS qid, b.id AS bid,
           row_number() OVER (PARTITION BY q.id ORDER BY bebr_distance(q.embedding, b.embedding), b.id) AS r
      FROM q, base b) WHERE r <= 10;
CREATE TEMP TABLE rescores AS SELECT 0 AS n UNION ALL SELECT 40 UNION ALL SELECT 80;
CREATE TEMP TABLE found(bits, rescore, qid, bid);
INSERT INTO found SELECT 1, r.n, q.id, t.rowid FROM q, rescores r, bible1 t
  WHERE t.embedding MATCH q.embedding AND t.k = 10 AND t.rescore = r.n;
INSERT INTO found SELECT 2, r.n, q.id, t.rowid FROM q, rescores r, bible t
  WHERE t.embedding MATCH q.embedding AND t.k = 10 AND t.rescore = r.n;
INSERT INTO found SELECT 4, r.n, q.id, t.rowid FROM q, rescores r, bible4 t
  WHERE t.embedding MATCH q.embedding AND t.k = 10 AND t.rescore = r.n;
.print ''
.print '== recall@10 vs exact float search (200 queries; code bytes per 4096-byte float vector) =='
SELECT printf('bits=%d  %3d-byte codes   recall@10: %.3f   rescore=40: %.3f   rescore=80: %.3f', bits,
              (SELECT length(bebr_binarize(embedding, 'bible_c' || bits)) FROM base LIMIT 1),
              sum(hits * (rescore = 0)) / 2000.0, sum(hits * (rescore = 40)) / 2000.0,
              sum(hits * (rescore = 80)) / 2000.0)
  FROM (SELECT f.bits, f.rescore, count(*) AS hits FROM found f JOIN exact10 e ON e.qid = f.qid AND e.bid = f.bid
         GROUP BY f.bits, f.rescore)
 GROUP BY bits ORDER BY bits;

-- 6. The learned BEBR binarizer: 4 planes over 512 learned coordinates take the bytes of 2
--    planes over all 1024 (center, above) and keep more of the neighbours. Trained here on the
--    passages, in C++ inside the database (about a minute on 2 cores; a progress line on a
--    terminal).
.print ''
.print '== the learned binarizer (kind mlp): 4 bits x 512 coordinates, trained on the passages =='
SELECT printf('trained in %.0f s over %d epochs', json_extract(r, '$.seconds'), json_extract(r, '$.history.epochs'))
  FROM (SELECT bebr_train('bible_m', 'SELECT embedding FROM base', '{"kind":"mlp","bits":4,"dim":512}') AS r);
CREATE VIRTUAL TABLE bible_m USING bebr(embedding float[1024], model='bible_m', chunk_size=256);
INSERT INTO bible_m(rowid, embedding) SELECT id, embedding FROM base;
CREATE TEMP TABLE found_m AS SELECT q.id AS qid, t.rowid AS bid FROM q, bible_m t
  WHERE t.embedding MATCH q.embedding AND t.k = 10;
SELECT printf('mlp 4 x 512  %3d-byte codes   recall@10: %.3f   (center bits=2, the same bytes: %.3f)',
              (SELECT length(bebr_binarize(embedding, 'bible_m')) FROM base LIMIT 1),
              (SELECT count(*) FROM found_m f JOIN exact10 e ON e.qid = f.qid AND e.bid = f.bid) / 2000.0,
              (SELECT count(*) FROM found f JOIN exact10 e ON e.qid = f.qid AND e.bid = f.bid
                WHERE f.bits = 2 AND f.rescore = 0) / 2000.0);
