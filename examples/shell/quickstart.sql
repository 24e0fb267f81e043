-- Quickstart in the sqlite3 shell (run: sqlite3 :memory: -cmd '.load build/bebr' '.read examples/shell/quickstart.sql').
.bail on
.mode list
CREATE TABLE docs(id INTEGER PRIMARY KEY, title TEXT, embedding BLOB);
INSERT INTO docs(title, embedding) VALUES
  ('cats',    '[0.9, 0.1, 0.0, 0.2]'),
  ('kittens', '[0.8, 0.2, 0.1, 0.3]'),
  ('cars',    '[0.0, 0.9, 0.8, -0.1]'),
  ('trucks',  '[0.1, 0.8, 0.9, -0.2]');
-- A `center` binarizer trained on these vectors, 2 bits per dimension.
SELECT bebr_train('docs_c2', 'SELECT embedding FROM docs', '{"kind":"center","bits":2}') IS NOT NULL;
ALTER TABLE docs ADD COLUMN code BLOB;
UPDATE docs SET code = bebr_binarize(embedding, 'docs_c2');
-- Nearest documents to a query, by SDC distance between codes (expected: kittens, cats).
SELECT title, round(bebr_sdc_distance(code, bebr_binarize('[0.85, 0.15, 0.05, 0.25]', 'docs_c2')), 3) AS distance
  FROM docs ORDER BY distance LIMIT 2;
