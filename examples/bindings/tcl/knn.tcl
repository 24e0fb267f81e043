# bebr from Tcl's sqlite3 package (Debian's libsqlite3-tcl). Filtered kNN with rescore over the
# bundled bible passages, one line a hit.
#   tclsh knn.tcl path/to/bebr examples/data/bible
package require sqlite3
lassign $argv ext data
fconfigure stdout -encoding utf-8
sqlite3 db :memory:
db enable_load_extension 1
db eval {SELECT load_extension($ext)}
db enable_load_extension 0

db eval {CREATE VIRTUAL TABLE bible USING bebr(embedding float[1024], book text, chapter integer, +passage text, bits=2, store_vectors=1)}
set f [open [file join $data base.f32] rb]
set base [read $f]
close $f
set f [open [file join $data passages.tsv] r]
fconfigure $f -encoding utf-8
gets $f
db transaction {
  while {[gets $f line] >= 0} {
    lassign [split $line "\t"] part r book chapter text
    if {$part ne "base"} continue
    set id [expr {int($r)}]
    set chapter [expr {int($chapter)}]
    set vec [string range $base [expr {$id * 4096}] [expr {$id * 4096 + 4095}]]
    # @vec always binds a BLOB; $vec would bind text once Tcl has a string of it.
    db eval {INSERT INTO bible(rowid, embedding, book, chapter, passage) VALUES ($id, @vec, $book, $chapter, $text)}
  }
}
close $f

set f [open [file join $data queries.f32] rb]
seek $f [expr {120 * 4096}]
set query [read $f 4096]
close $f
db eval {SELECT printf('%d %s %d %.4f %s', rowid, book, chapter, distance, substr(passage, 1, 60)) AS line FROM bible WHERE embedding MATCH @query AND k = 5 AND rescore = 40 AND chapter <= 10} {
  puts $line
}
