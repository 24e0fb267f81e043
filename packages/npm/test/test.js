// Tests of the installed sqlite-bebr and sqlite-bebr-linux-x64 tarballs with better-sqlite3
// (scripts/test-packages.sh copies this file into the directory it installed them in).
//   node --test test.js
// The kNN answer is checked against brute-force cosine search in plain JS.
"use strict";
const assert = require("node:assert/strict");
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const test = require("node:test");
const Database = require("better-sqlite3");
const bebr = require("sqlite-bebr");

const version = require("sqlite-bebr/package.json").version;

function f32blob(values) {
  return Buffer.from(new Float32Array(values).buffer);
}

function cosineDistance(a, b) {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return na === 0 || nb === 0 ? 1 : 1 - dot / Math.sqrt(na * nb);
}

// A fixed-seed generator (mulberry32) and a normal deviate from it (Box-Muller).
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function gauss(r) {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

test("the loadable path is the platform package's bebr.so", () => {
  const p = bebr.getLoadablePath();
  assert.ok(path.isAbsolute(p));
  assert.equal(path.basename(p), "bebr.so");
  assert.equal(path.basename(path.dirname(p)), "sqlite-bebr-linux-x64");
  assert.deepEqual(fs.readFileSync(p).subarray(0, 4), Buffer.from("\x7fELF", "latin1"));
});

test("load(db) gives bebr_version()", () => {
  const db = new Database(":memory:");
  bebr.load(db);
  assert.equal(db.prepare("SELECT bebr_version()").pluck().get(), version);
});

test("the ES module form exports the same functions", () => {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e",
    'import { getLoadablePath } from "sqlite-bebr"; console.log(getLoadablePath());'],
    { cwd: __dirname, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), bebr.getLoadablePath());
});

test("kNN matches brute force", () => {
  const r = rng(18);
  const dim = 16, n = 200, k = 7;
  const vectors = [];
  for (let i = 0; i < n; i++) vectors.push(Float32Array.from({ length: dim }, () => gauss(r)));
  const db = new Database(":memory:");
  bebr.load(db);
  db.exec(`CREATE VIRTUAL TABLE t USING bebr(v float[${dim}], bits=2, store_vectors=1)`);
  const insert = db.prepare("INSERT INTO t(rowid, v) VALUES (?, ?)");
  db.transaction(() => vectors.forEach((v, i) => insert.run(i + 1, Buffer.from(v.buffer))))();
  const select = db.prepare("SELECT rowid, distance FROM t WHERE v MATCH ? AND k = ? AND rescore = ?");
  for (let q = 0; q < 5; q++) {
    const query = Float32Array.from({ length: dim }, () => gauss(r));
    // rescore = n re-ranks every row by the exact distance: the answer is exact.
    // better-sqlite3 binds a JS number as REAL; k and rescore must be integers: BigInt.
    const got = select.all(Buffer.from(query.buffer), BigInt(k), BigInt(n));
    const want = vectors.map((v, i) => [cosineDistance(query, v), i + 1])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]).slice(0, k);
    assert.deepEqual(got.map((row) => row.rowid), want.map(([, i]) => i), `query ${q}`);
    got.forEach((row, j) => assert.ok(Math.abs(row.distance - want[j][0]) < 1e-6, `query ${q} row ${j}`));
  }
  assert.deepEqual(db.prepare("SELECT bebr_f32('[0.5, -1, 2]')").pluck().get(), f32blob([0.5, -1, 2]));
});

test("an unsupported platform is a clear error", () => {
  const saved = Object.getOwnPropertyDescriptor(process, "platform");
  Object.defineProperty(process, "platform", { value: "darwin" });
  try {
    assert.throws(() => bebr.getLoadablePath(),
      { message: /^sqlite-bebr: no bebr build for this platform; expected one of linux-x64, got darwin-x64/ });
    assert.throws(() => bebr.load(new Database(":memory:")), { message: /got darwin-x64/ });
  } finally {
    Object.defineProperty(process, "platform", saved);
  }
});

test("a missing platform package is a clear error", () => {
  const dir = path.dirname(require.resolve("sqlite-bebr-linux-x64/package.json"));
  fs.renameSync(dir, dir + ".away");
  try {
    const r = spawnSync(process.execPath, ["-e", 'require("sqlite-bebr").getLoadablePath()'],
                        { cwd: __dirname, encoding: "utf8" });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /sqlite-bebr: the package sqlite-bebr-linux-x64 is not installed; expected it as an optional dependency/);
  } finally {
    fs.renameSync(dir + ".away", dir);
  }
});

test("load() refuses what is not a connection", () => {
  assert.throws(() => bebr.load({}), { name: "TypeError", message: /expects a connection with loadExtension\(path\), got object/ });
  assert.throws(() => bebr.load(null), { message: /got null/ });
});
