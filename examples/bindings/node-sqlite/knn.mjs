// bebr from Node's built-in node:sqlite (Node >= 22.13; it bundles its own SQLite). Filtered kNN
// with rescore over the bundled bible passages, one line a hit.
//   node knn.mjs path/to/bebr examples/data/bible
import fs from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";

const [ext, data] = process.argv.slice(2);
const db = new DatabaseSync(":memory:", { allowExtension: true });
db.loadExtension(ext);

db.exec("CREATE VIRTUAL TABLE bible USING bebr(embedding float[1024], book text, chapter integer, " +
        "+passage text, bits=2, store_vectors=1)");
const base = fs.readFileSync(path.join(data, "base.f32"));
const rows = fs.readFileSync(path.join(data, "passages.tsv"), "utf8").split("\n").slice(1).filter((l) => l);
const insert = db.prepare("INSERT INTO bible(rowid, embedding, book, chapter, passage) VALUES (?, ?, ?, ?, ?)");
db.exec("BEGIN");
for (const line of rows) {
  const [split, r, book, chapter, text] = line.split("\t");
  if (split !== "base") continue;
  const i = Number(r);
  insert.run(i, base.subarray(i * 4096, (i + 1) * 4096), book, Number(chapter), text);
}
db.exec("COMMIT");

const query = fs.readFileSync(path.join(data, "queries.f32")).subarray(120 * 4096, 121 * 4096);
const select = db.prepare("SELECT printf('%d %s %d %.4f %s', rowid, book, chapter, distance, substr(passage, 1, 60)) AS line " +
                          "FROM bible WHERE embedding MATCH ? AND k = 5 AND rescore = 40 AND chapter <= 10");
for (const row of select.all(query)) console.log(row.line);
