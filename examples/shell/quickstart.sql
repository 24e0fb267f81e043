-- Quickstart in the sqlite3 shell (run: sqlite3 :memory: -cmd '.load build/bebr' '.read examples/shell/quickstart.sql').
.bail on
.mode list
CREATE TABLE raw(title TEXT, topic TEXT, embedding BLOB);
INSERT INTO raw VALUES
  ('cats',    'animals',  '[0.9, 0.1, 0.0, 0.2]'),
  ('kittens', 'animals',  '[0.8, 0.2, 0.1, 0.3]'),
  ('cars',    'vehicles', '[0.0, 0.9, 0.8, -0.1]'),
  ('trucks',  'vehicles', '[0.1, 0.8, 0.9, -0.2]');
-- A `center` binarizer trained on these vectors, 2 bits per dimension.
SELECT bebr_train('docs_c2', 'SELECT embedding FROM raw', '{"kind":"center","bits":2}') IS NOT NULL;
-- The table codes each vector on insert; topic is metadata, title is returned with results.
CREATE VIRTUAL TABLE docs USING bebr(embedding float[4], topic text, +title text, model='docs_c2');
INSERT INTO docs(embedding, topic, title) SELECT embedding, topic, title FROM raw;
-- Nearest documents to a query (expected: cats, kittens).
SELECT title, round(distance, 3) FROM docs WHERE embedding MATCH '[0.85, 0.15, 0.05, 0.25]' AND k = 2;
-- The same query, only vehicles (expected: trucks, cars).
SELECT title, round(distance, 3) FROM docs
 WHERE embedding MATCH '[0.85, 0.15, 0.05, 0.25]' AND k = 2 AND topic = 'vehicles';
