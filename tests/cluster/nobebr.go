// A node started without bebr (--no-bebr), made leader: the first bebr statement routed to it
// fails with SQLite's own clear error (no such module, no such function), plain SQL still works
// there, and nothing is corrupted: back on a node with bebr, the table answers exactly as before
// and passes bebr's and SQLite's integrity checks.
package main

import "strings"

func testNoBebr(args []string) {
	c := NewCluster("nobebr", 3, 0)
	registerCleanup(c)
	c.Start(1)
	c.Start(2)
	c.Start(3, "--no-bebr")
	bible := loadBible()
	db := c.DB("nobebr.db")
	defer db.Close()
	if c.Leader() == 3 {
		c.Transfer(1)
	}
	rows := map[int64]Row{}
	exec1(db, "create", "CREATE VIRTUAL TABLE c USING bebr(embedding float[1024], book text, chapter integer, bits=2, store_vectors=1)")
	tx, err := db.Begin()
	check(err, "begin")
	for i := 0; i < 200; i++ {
		r := bible.Base[i]
		_, err := tx.Exec("INSERT INTO c(rowid, embedding, book, chapter) VALUES (?, ?, ?, ?)", i+1, blob(r.Vec), r.Book, r.Chapter)
		check(err, "insert")
		rows[int64(i+1)] = r
	}
	check(tx.Commit(), "commit")
	before := answers(db, bible, rows, "with bebr")

	c.Transfer(3)
	q := blob(bible.Queries[3])
	for _, e := range []struct{ sql, want string }{
		{"SELECT rowid, distance FROM c WHERE embedding MATCH ? AND k = 5", "no such module: bebr"},
		{"INSERT INTO c(rowid, embedding) VALUES (1000, ?)", "no such module: bebr"},
		{"DELETE FROM c WHERE rowid = 1", "no such module: bebr"},
		{"DROP TABLE c", "no such module: bebr"},
		{"CREATE VIRTUAL TABLE d USING bebr(embedding float[4])", "no such module: bebr"},
		{"SELECT bebr_distance(?, ?)", "no such function: bebr_distance"},
	} {
		var args []interface{}
		for i := 0; i < strings.Count(e.sql, "?"); i++ {
			args = append(args, q)
		}
		_, err := db.Exec(e.sql, args...)
		if err == nil || !strings.Contains(err.Error(), e.want) {
			fail("%q on the node without bebr: error %v, want %q", e.sql, err, e.want)
		}
	}
	exec1(db, "plain table", "CREATE TABLE notes(x TEXT)")
	exec1(db, "plain insert", "INSERT INTO notes VALUES ('written by the node without bebr')")
	logf("nobebr: node 3 (no bebr) leads: every bebr statement fails with no such module/function; plain SQL works")

	c.Transfer(1)
	if after := answers(db, bible, rows, "with bebr again"); after != before {
		fail("after the node without bebr led, the table answers differently:\n%s\nwant:\n%s", after, before)
	}
	if ok := scalar(db, "integrity_check", "SELECT * FROM pragma_integrity_check"); ok != "ok" {
		fail("PRAGMA integrity_check: %s", ok)
	}
	if n := scalar(db, "notes", "SELECT count(*) FROM notes"); n != "1" {
		fail("the plain table written by the node without bebr has %s rows, want 1", n)
	}
	logf("nobebr: node 1 leads again: the table answers as before, integrity checks pass")
	db.Close()
	c.StopAll()
}
