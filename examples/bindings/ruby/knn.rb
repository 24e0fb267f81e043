# bebr from Ruby's sqlite3 gem (Debian's ruby-sqlite3). Filtered kNN with rescore over the
# bundled bible passages, one line a hit.
#   ruby knn.rb path/to/bebr examples/data/bible
require "sqlite3"

ext, data = ARGV
db = SQLite3::Database.new(":memory:")
db.enable_load_extension(true)
db.load_extension(ext)
db.enable_load_extension(false)

db.execute("CREATE VIRTUAL TABLE bible USING bebr(embedding float[1024], book text, chapter integer, " \
           "+passage text, bits=2, store_vectors=1)")
base = File.binread(File.join(data, "base.f32"))
rows = File.readlines(File.join(data, "passages.tsv"), chomp: true, encoding: "UTF-8").drop(1)
insert = db.prepare("INSERT INTO bible(rowid, embedding, book, chapter, passage) VALUES (?, ?, ?, ?, ?)")
db.transaction do
  rows.each do |line|
    split, r, book, chapter, text = line.split("\t")
    next unless split == "base"
    i = r.to_i
    insert.execute(i, SQLite3::Blob.new(base.byteslice(i * 4096, 4096)), book, chapter.to_i, text)
  end
end
insert.close

query = SQLite3::Blob.new(File.binread(File.join(data, "queries.f32"), 4096, 120 * 4096))
db.execute("SELECT printf('%d %s %d %.4f %s', rowid, book, chapter, distance, substr(passage, 1, 60)) " \
           "FROM bible WHERE embedding MATCH ? AND k = 5 AND rescore = 40 AND chapter <= 10", [query]) do |(line)|
  puts line
end
