//! bebr from Rust's rusqlite (Debian's librust-rusqlite-dev, feature load_extension). Filtered
//! kNN with rescore over the bundled bible passages, one line a hit.
//!     cargo run -- path/to/bebr examples/data/bible
use rusqlite::{params, Connection};
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (ext, data) = (&args[1], Path::new(&args[2]));
    let mut db = Connection::open_in_memory()?;
    // Unsafe: a loaded library runs arbitrary code; enabled only around the one load.
    unsafe {
        db.load_extension_enable()?;
        db.load_extension(ext, None)?;
        db.load_extension_disable()?;
    }

    db.execute_batch(
        "CREATE VIRTUAL TABLE bible USING bebr(embedding float[1024], book text, chapter integer, \
         +passage text, bits=2, store_vectors=1)",
    )?;
    let base = std::fs::read(data.join("base.f32"))?;
    let passages = std::fs::read_to_string(data.join("passages.tsv"))?;
    let tx = db.transaction()?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO bible(rowid, embedding, book, chapter, passage) VALUES (?, ?, ?, ?, ?)",
        )?;
        for line in passages.lines().skip(1) {
            let c: Vec<&str> = line.split('\t').collect();
            if c[0] != "base" {
                continue;
            }
            let i: usize = c[1].parse()?;
            let chapter: i64 = c[3].parse()?;
            insert.execute(params![i as i64, &base[i * 4096..(i + 1) * 4096], c[2], chapter, c[4]])?;
        }
    }
    tx.commit()?;

    let queries = std::fs::read(data.join("queries.f32"))?;
    let mut select = db.prepare(
        "SELECT printf('%d %s %d %.4f %s', rowid, book, chapter, distance, substr(passage, 1, 60)) \
         FROM bible WHERE embedding MATCH ? AND k = 5 AND rescore = 40 AND chapter <= 10",
    )?;
    let mut rows = select.query([&queries[120 * 4096..121 * 4096]])?;
    while let Some(row) = rows.next()? {
        println!("{}", row.get::<_, String>(0)?);
    }
    Ok(())
}
