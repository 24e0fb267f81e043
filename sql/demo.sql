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
CREATE TABLE base(id INTEGER PRIMARY KEY, embedding BLOB);
INSERT INTO base SELECT i, vector FROM bebr_vectors(readfile('examples/data/bible/base.f32'), 1024);
CREATE TABLE queries(id INTEGER PRIMARY KEY, embedding BLOB);
INSERT INTO queries SELECT i, vector FROM bebr_vectors(readfile('examples/data/bible/queries.f32'), 1024);
SELECT printf('loaded %d passages and %d held-out query passages', (SELECT count(*) FROM base),
              (SELECT count(*) FROM queries));

-- 2. Train a `center` binarizer per code size on the passages (one pass: the mean vector),
--    and store 1-, 2- and 4-bit codes beside the floats.
SELECT bebr_train('bible_c' || bits, 'SELECT embedding FROM base', json_object('kind', 'center', 'bits', bits))
  FROM (SELECT 1 AS bits UNION ALL SELECT 2 UNION ALL SELECT 4);
ALTER TABLE base ADD COLUMN code1 BLOB;
ALTER TABLE base ADD COLUMN code2 BLOB;
ALTER TABLE base ADD COLUMN code4 BLOB;
UPDATE base SET code1 = bebr_binarize(embedding, 'bible_c1'), code2 = bebr_binarize(embedding, 'bible_c2'),
                code4 = bebr_binarize(embedding, 'bible_c4');
SELECT printf('bytes per vector: float32 %d, codes at 1/2/4 bits %d/%d/%d (with a %d-byte header)',
              length(embedding), length(code1), length(code2), length(code4), 16)
  FROM base LIMIT 1;

-- 3. What a 2-bit code search finds for a few held-out passages.
CREATE TEMP TABLE q AS
  SELECT id, embedding, bebr_binarize(embedding, 'bible_c1') AS code1,
         bebr_binarize(embedding, 'bible_c2') AS code2, bebr_binarize(embedding, 'bible_c4') AS code4
    FROM queries WHERE id < 200;
.print ''
.print '== nearest passages by SDC distance on 2-bit codes =='
SELECT printf('%squery  %s %d: %s...%s', char(10), p.book, p.chapter, substr(p.text, 1, 80), char(10)) ||
       (SELECT group_concat(printf('  %.3f  %s %d: %s...', d, book, chapter, substr(text, 1, 70)), char(10))
          FROM (SELECT bebr_sdc_distance(q.code2, b.code2) AS d, pb.book, pb.chapter, pb.text
                  FROM base b JOIN passages pb ON pb.split = 'base' AND pb.split_row = b.id
                 ORDER BY d, b.id LIMIT 3))
  FROM q JOIN passages p ON p.split = 'query' AND p.split_row = q.id
 WHERE q.id IN (3, 57, 120);

-- 4. Recall@10 against exact float search (cosine) over 200 held-out queries.
CREATE TEMP TABLE exact10 AS
  SELECT qid, bid FROM (
    SELECT q.id AS qid, b.id AS bid,
           row_number() OVER (PARTITION BY q.id ORDER BY bebr_distance(q.embedding, b.embedding), b.id) AS r
      FROM q, base b) WHERE r <= 10;
.print ''
.print '== recall@10 of SDC search on center codes vs exact float search (200 queries, no rescore) =='
SELECT printf('bits=%d  recall@10 = %.3f  (%d bytes of code per 4096-byte vector)', bits,
              (SELECT count(*) FROM exact10 e JOIN (
                 SELECT qid, bid FROM (
                   SELECT q.id AS qid, b.id AS bid,
                          row_number() OVER (PARTITION BY q.id ORDER BY
                            CASE bits WHEN 1 THEN bebr_sdc_distance(q.code1, b.code1)
                                      WHEN 2 THEN bebr_sdc_distance(q.code2, b.code2)
                                      ELSE bebr_sdc_distance(q.code4, b.code4) END, b.id) AS r
                     FROM q, base b) WHERE r <= 10) f ON f.qid = e.qid AND f.bid = e.bid) / 2000.0,
              8 + bits * 128)
  FROM (SELECT 1 AS bits UNION ALL SELECT 2 UNION ALL SELECT 4);
