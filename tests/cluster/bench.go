// The cluster's figures (docs/cluster.md), not a test: bulk inserts and kNN through a three-node
// cluster against the same through a local SQLite file, the same rows in the same run, and each
// node's resident memory before and after.
//
//	bash tests/cluster/run.sh build bench [ROWS] [STORE_VECTORS]   # default 20000 rows, vectors kept
//
// Rows are the bundled bible passages, cycled and perturbed (a fixed-seed ±0.01 per element) so
// that no two are equal, with their book and chapter. Inserts go in transactions of 500 rows.
// kNN: 100 held-out queries, each of k = 10 alone and (with vectors kept) k = 10, rescore = 40,
// chapter <= 10; the median and the min-max of the per-query times.
package main

import (
	"database/sql"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"
)

func benchRows(bible *Bible, n int) []Row {
	rows := make([]Row, n)
	state := uint64(20261202)
	for i := range rows {
		b := bible.Base[i%len(bible.Base)]
		v := make([]float32, dim)
		for j := range v {
			state = state*6364136223846793005 + 1442695040888963407
			v[j] = b.Vec[j] + float32(int64(state>>40)%2001-1000)/100000
		}
		rows[i] = Row{Vec: v, Book: b.Book, Chapter: b.Chapter}
	}
	return rows
}

func timeInserts(db *sql.DB, rows []Row) time.Duration {
	start := time.Now()
	for from := 0; from < len(rows); from += 500 {
		tx, err := db.Begin()
		check(err, "begin")
		stmt, err := tx.Prepare("INSERT INTO b(rowid, embedding, book, chapter) VALUES (?, ?, ?, ?)")
		check(err, "prepare")
		for i := from; i < from+500 && i < len(rows); i++ {
			_, err := stmt.Exec(i+1, blob(rows[i].Vec), rows[i].Book, rows[i].Chapter)
			check(err, "insert")
		}
		check(stmt.Close(), "finalize")
		check(tx.Commit(), "commit")
	}
	return time.Since(start)
}

// timeQueries: median, min and max of one query's time over the bible's first 100 held-out queries.
func timeQueries(db *sql.DB, bible *Bible, query string) (time.Duration, time.Duration, time.Duration) {
	var d []time.Duration
	for qi := 0; qi < 100; qi++ {
		start := time.Now()
		hits, err := queryHits(db, query, blob(bible.Queries[qi]))
		check(err, query)
		if len(hits) == 0 {
			fail("%s: no hits", query)
		}
		d = append(d, time.Since(start))
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return median(d), d[0], d[len(d)-1]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

func runBench(args []string) {
	n, store := 20000, 1
	if len(args) > 0 {
		n, _ = strconv.Atoi(args[0])
	}
	if len(args) > 1 {
		store, _ = strconv.Atoi(args[1])
	}
	bible := loadBible()
	rows := benchRows(bible, n)
	c := NewCluster("bench", 3, 0)
	registerCleanup(c)
	for id := 1; id <= 3; id++ {
		c.Start(id)
	}
	cluster := c.DB("bench.db")
	local := LocalDB(workDir + "/bench/local.db")
	exec1(local, "wal", "PRAGMA journal_mode = WAL")
	create := fmt.Sprintf("CREATE VIRTUAL TABLE b USING bebr(embedding float[1024], book text, chapter integer, bits=2, store_vectors=%d)", store)
	exec1(cluster, "create", create)
	exec1(local, "create", create)
	before := map[int]int{}
	for id, node := range c.Nodes {
		before[id] = rss(node.cmd.Process.Pid)
	}

	tc := timeInserts(cluster, rows)
	tl := timeInserts(local, rows)
	fmt.Printf("== %d rows of 1024 floats (2-bit codes, store_vectors=%d), 3 nodes on loopback, dqlite defaults ==\n", n, store)
	fmt.Printf("inserts (transactions of 500)   cluster %8.0f rows/s   local file (WAL) %8.0f rows/s   ratio %.2f\n",
		float64(n)/tc.Seconds(), float64(n)/tl.Seconds(), tc.Seconds()/tl.Seconds())
	queries := []string{"SELECT rowid, distance FROM b WHERE embedding MATCH ? AND k = 10"}
	if store == 1 {
		queries = append(queries, "SELECT rowid, distance FROM b WHERE embedding MATCH ? AND k = 10 AND rescore = 40 AND chapter <= 10")
	}
	for _, q := range queries {
		// Both see the same rows: the answers must agree before the times mean anything.
		for qi := 0; qi < 5; qi++ {
			a, err := queryHits(cluster, q, blob(bible.Queries[qi]))
			check(err, q)
			b, err := queryHits(local, q, blob(bible.Queries[qi]))
			check(err, q)
			if fmt.Sprint(a) != fmt.Sprint(b) {
				fail("%s: cluster %v, local %v", q, a, b)
			}
		}
		cm, cmin, cmax := timeQueries(cluster, bible, q)
		lm, lmin, lmax := timeQueries(local, bible, q)
		fmt.Printf("%s\n    cluster %s ms (%s-%s)   local file %s ms (%s-%s)\n", q[len("SELECT rowid, distance FROM b WHERE "):],
			ms(cm), ms(cmin), ms(cmax), ms(lm), ms(lmin), ms(lmax))
	}
	var size int64
	if fi, err := os.Stat(workDir + "/bench/local.db"); err == nil {
		size = fi.Size()
	}
	if fi, err := os.Stat(workDir + "/bench/local.db-wal"); err == nil {
		size += fi.Size()
	}
	fmt.Printf("local database file (with its WAL) %.1f MiB\n", float64(size)/(1<<20))
	for id := 1; id <= 3; id++ {
		fmt.Printf("node %d resident memory: %.1f MiB before the table, %.1f MiB after\n", id,
			float64(before[id])/1024, float64(rss(c.Nodes[id].cmd.Process.Pid))/1024)
	}
	cluster.Close()
	local.Close()
	c.StopAll()
}
