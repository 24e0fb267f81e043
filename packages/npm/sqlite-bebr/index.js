// sqlite-bebr: finds the bebr SQLite extension that the platform package beside this one
// carries, and loads it into a connection.
//   const bebr = require("sqlite-bebr");
//   bebr.load(db);                       // better-sqlite3: db.loadExtension(path)
//   db2.loadExtension(bebr.getLoadablePath(), cb);   // node-sqlite3
"use strict";
const fs = require("node:fs");
const path = require("node:path");

// [process.platform, process.arch, package, library file]: one row a published platform.
const PLATFORMS = [["linux", "x64", "sqlite-bebr-linux-x64", "bebr.so"]];

function platformRow() {
  const row = PLATFORMS.find(([os, cpu]) => os === process.platform && cpu === process.arch);
  if (!row) {
    const known = PLATFORMS.map(([os, cpu]) => `${os}-${cpu}`).join(", ");
    throw new Error(`sqlite-bebr: no bebr build for this platform; expected one of ${known}, ` +
                    `got ${process.platform}-${process.arch} (build bebr from source and load ` +
                    "its bebr.so with db.loadExtension)");
  }
  return row;
}

// The absolute path of bebr.so in the platform package. Throws on an unsupported platform and
// when the platform package is not installed (npm skips optional dependencies with
// --omit=optional or --no-optional).
function getLoadablePath() {
  const [, , pkg, file] = platformRow();
  let dir;
  try {
    dir = path.dirname(require.resolve(`${pkg}/package.json`));
  } catch (e) {
    throw new Error(`sqlite-bebr: the package ${pkg} is not installed; expected it as an ` +
                    "optional dependency of sqlite-bebr (was npm run with --omit=optional?)");
  }
  const lib = path.join(dir, file);
  if (!fs.existsSync(lib)) {
    throw new Error(`sqlite-bebr: ${pkg} has no ${file}; expected ${lib}`);
  }
  return lib;
}

// Loads bebr into db, any connection with a synchronous loadExtension(path) (better-sqlite3).
function load(db) {
  if (!db || typeof db.loadExtension !== "function") {
    throw new TypeError("sqlite-bebr: load(db) expects a connection with loadExtension(path), " +
                        `got ${db === null ? "null" : typeof db}`);
  }
  db.loadExtension(getLoadablePath());
}

module.exports = { load, getLoadablePath };
