// A node stopped while the cluster is written catches up when it restarts and, made leader,
// answers every query exactly as the leader did. Then a fourth node, new, joins after the
// others have compacted their Raft logs (a snapshot every 32 entries, 64 kept), so it can only get the
// database as a snapshot; made leader, it answers the same again. Nodes 1 and 2, which lead
// while the others are away, run with --snapshot-threshold 32; nodes 3 and 4 with dqlite's
// default (1024), which this test never reaches, so a snapshot file in node 4's data directory
// can only be the one the leader sent. (With the small threshold on the node catching up too,
// libraft 0.11 refuses the leader's snapshot while it takes one of its own, "already taking or
// installing snapshot", and the catch-up stalls for about 30 s before a retry: docs/cluster.md.)
package main

import (
	"database/sql"
	"fmt"
	"os"
	"strings"
)

// answers is everything the test asks a table, as one string: its rows and metadata, and kNN
// plain, filtered, re-scored and exact for four queries.
func answers(db *sql.DB, bible *Bible, rows map[int64]Row, what string) string {
	var b strings.Builder
	r, err := db.Query("SELECT rowid, book, chapter FROM c ORDER BY rowid")
	check(err, what+": rows")
	n := 0
	for r.Next() {
		var id, chapter int64
		var book string
		check(r.Scan(&id, &book, &chapter), what+": rows")
		fmt.Fprintf(&b, "%d %s %d\n", id, book, chapter)
		n++
	}
	check(r.Err(), what+": rows")
	r.Close()
	if n != len(rows) {
		fail("%s: %d rows, want %d", what, n, len(rows))
	}
	for qi := 0; qi < 4; qi++ {
		q := blob(bible.Queries[900+qi*17])
		for _, query := range []string{
			"SELECT rowid, distance FROM c WHERE embedding MATCH ? AND k = 10",
			"SELECT rowid, distance FROM c WHERE embedding MATCH ? AND k = 10 AND rescore = 40 AND chapter <= 10",
			fmt.Sprintf("SELECT rowid, distance FROM c WHERE embedding MATCH ? AND k = 10 AND rescore = %d", len(rows)+10),
		} {
			hits, err := queryHits(db, query, q)
			check(err, what+": "+query)
			fmt.Fprintf(&b, "%s: %v\n", query, hits)
			if strings.Contains(query, fmt.Sprintf("rescore = %d", len(rows)+10)) {
				if d := sameHits(hits, bruteKNN(rows, bible.Queries[900+qi*17], 10, nil)); d != "" {
					fail("%s: exact kNN vs brute force: %s", what, d)
				}
			}
		}
	}
	exec1(db, what+": integrity-check", "INSERT INTO c(c) VALUES ('integrity-check')")
	return b.String()
}

func testCatchup(args []string) {
	c := NewCluster("catchup", 3, 1)
	registerCleanup(c)
	snap := []string{"--snapshot-threshold", "32", "--snapshot-trailing", "64"}
	c.Start(1, snap...)
	c.Start(2, snap...)
	c.Start(3)
	bible := loadBible()
	db := c.DB("catchup.db")
	defer db.Close()
	rows := map[int64]Row{}
	exec1(db, "create", "CREATE VIRTUAL TABLE c USING bebr(embedding float[1024], book text, chapter integer, "+
		"bits=2, store_vectors=1, chunk_size=128)")
	insert := func(from, to int) {
		tx, err := db.Begin()
		check(err, "begin")
		for i := from; i < to; i++ {
			r := bible.Base[i]
			_, err := tx.Exec("INSERT INTO c(rowid, embedding, book, chapter) VALUES (?, ?, ?, ?)", i+1, blob(r.Vec), r.Book, r.Chapter)
			check(err, "insert")
			rows[int64(i+1)] = r
		}
		check(tx.Commit(), "commit")
	}
	insert(0, 300)

	// Node 3 stops (a follower: leadership moves off it first), the others go on.
	if c.Leader() == 3 {
		c.Transfer(1)
	}
	c.Stop(3)
	for i := 300; i < 450; i += 2 { // 75 transactions: more than a snapshot's worth of entries
		insert(i, i+2)
	}
	for id := int64(1); id <= 450; id += 9 {
		exec1(db, "update", "UPDATE c SET chapter = chapter + 1000 WHERE rowid = ?", id)
		r := rows[id]
		r.Chapter += 1000
		rows[id] = r
	}
	exec1(db, "delete", "DELETE FROM c WHERE rowid % 4 = 0")
	for id := range rows {
		if id%4 == 0 {
			delete(rows, id)
		}
	}
	exec1(db, "optimize", "INSERT INTO c(c) VALUES ('optimize')")
	leader := c.Leader()
	want := answers(db, bible, rows, fmt.Sprintf("node %d, leading", leader))
	logf("catchup: node 3 stopped; 75 transactions, updates, deletes and optimize on node %d", leader)

	c.Start(3)
	c.Transfer(3)
	if got := answers(db, bible, rows, "node 3, restarted and leading"); got != want {
		fail("node 3 after catching up answers differently from node %d:\n%s\nwant:\n%s", leader, got, want)
	}
	logf("catchup: node 3 restarted, caught up, and as leader answers what node %d answered", leader)

	// A new node joins while node 1 leads: its log starts past the first entries (it has
	// compacted them into snapshots), so it can only send the new node a snapshot.
	c.Transfer(1)
	c.Start(4)
	c.Transfer(4)
	if got := answers(db, bible, rows, "node 4, new and leading"); got != want {
		fail("the new node 4 answers differently from node %d:\n%s\nwant:\n%s", leader, got, want)
	}
	entries, err := os.ReadDir(c.Nodes[4].Dir)
	check(err, "node 4's data directory")
	var snapshots []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "snapshot-") {
			snapshots = append(snapshots, e.Name())
		}
	}
	if len(snapshots) == 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		fail("node 4 joined without a snapshot: its data directory holds %v", names)
	}
	logf("catchup: node 4 joined by snapshot (%s) and as leader answers the same", strings.Join(snapshots, ", "))
	db.Close()
	c.StopAll()
}
