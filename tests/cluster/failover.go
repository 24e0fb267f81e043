// kill -9 of the leader while a client writes in transactions, N times (default 20). Every
// transaction the client saw commit must be on the new leader, none it saw fail before its
// COMMIT may be, and one whose COMMIT itself failed (the leader died with the commit in
// flight: Raft may or may not have replicated it) must be there whole or not at all. kNN with
// rescore over every row on the new leader must equal brute force over the rows so committed,
// all of it within 10 s of the kill. The killed node restarts on its data and rejoins before the
// next trial. Prints the failover time (kill to the first commit on the new leader) per trial,
// its median and maximum.
package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

const (
	committed = iota
	failedBeforeCommit
	commitFailed
)

type txRecord struct {
	rows          []int64
	outcome       int
	began, closed time.Time
	err           error
}

type writer struct {
	db      *sql.DB
	bible   *Bible
	pause   sync.Mutex // held by the writer during each transaction, by the checker to pause it
	mu      sync.Mutex // guards log
	log     []txRecord
	stopped bool
}

func (w *writer) vector(id int64) []float32 { return w.bible.Queries[int(id)%len(w.bible.Queries)] }

// one transaction of three inserts, recorded with what the client saw.
func (w *writer) one(seq int) {
	rec := txRecord{began: time.Now()}
	for j := 0; j < 3; j++ {
		rec.rows = append(rec.rows, int64(100000+3*seq+j))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tx, err := w.db.BeginTx(ctx, nil)
	if err == nil {
		for _, id := range rec.rows {
			if _, err = tx.ExecContext(ctx, "INSERT INTO f(rowid, embedding, tag) VALUES (?, ?, ?)",
				id, blob(w.vector(id)), seq); err != nil {
				break
			}
		}
		if err != nil {
			tx.Rollback()
			rec.outcome = failedBeforeCommit
		} else if err = tx.Commit(); err != nil {
			rec.outcome = commitFailed
		} else {
			rec.outcome = committed
		}
	} else {
		rec.outcome = failedBeforeCommit
	}
	rec.err, rec.closed = err, time.Now()
	w.mu.Lock()
	w.log = append(w.log, rec)
	w.mu.Unlock()
	if err != nil {
		time.Sleep(20 * time.Millisecond)
	}
}

func (w *writer) run() {
	for seq := 0; ; seq++ {
		w.pause.Lock()
		stop := w.stopped
		if !stop {
			w.one(seq)
		}
		w.pause.Unlock()
		if stop {
			return
		}
	}
}

// commitsSince counts transactions begun after t that the client saw commit; first is the
// time the earliest of them committed.
func (w *writer) commitsSince(t time.Time) (n int, first time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range w.log {
		if r.outcome == committed && r.began.After(t) {
			if n == 0 {
				first = r.closed
			}
			n++
		}
	}
	return n, first
}

func testFailover(args []string) {
	// failover N [measure]: with "measure", a trial may take up to 60 s (to see the whole
	// distribution of a slow configuration); the answers are checked the same.
	trials, bound := 20, 10*time.Second
	if len(args) > 0 {
		trials, _ = strconv.Atoi(args[0])
	}
	if len(args) > 1 && args[1] == "measure" {
		bound = 60 * time.Second
	}
	c := NewCluster("failover", 3, 0)
	registerCleanup(c)
	latency := os.Getenv("BEBR_CLUSTER_LATENCY_MS")
	for id := 1; id <= 3; id++ {
		if latency != "" {
			c.Start(id, "--latency-ms", latency)
		} else {
			c.Start(id)
		}
	}
	bible := loadBible()
	db := c.DB("failover.db")
	exec1(db, "create", "CREATE VIRTUAL TABLE f USING bebr(embedding float[1024], tag integer, bits=2, store_vectors=1)")
	base := map[int64]Row{}
	tx, err := db.Begin()
	check(err, "begin")
	for i := 0; i < 300; i++ {
		_, err := tx.Exec("INSERT INTO f(rowid, embedding, tag) VALUES (?, ?, -1)", i+1, blob(bible.Base[i].Vec))
		check(err, "preload")
		base[int64(i+1)] = Row{Vec: bible.Base[i].Vec}
	}
	check(tx.Commit(), "preload commit")

	w := &writer{db: c.DB("failover.db"), bible: bible}
	go w.run()
	var failovers, verified []time.Duration
	ambiguous, ambiguousPresent := 0, 0
	for trial := 1; trial <= trials; trial++ {
		// Let the writer commit on the current leader first.
		since := time.Now()
		for deadline := since.Add(20 * time.Second); ; {
			if n, _ := w.commitsSince(since); n >= 3 {
				break
			}
			if time.Now().After(deadline) {
				fail("trial %d: the writer committed nothing in 20 s before the kill", trial)
			}
			time.Sleep(10 * time.Millisecond)
		}
		leader := c.Leader()
		killed := time.Now()
		c.Kill(leader)
		var firstCommit time.Time
		for {
			n, first := w.commitsSince(killed)
			if n > 0 {
				firstCommit = first
				break
			}
			if time.Since(killed) > bound {
				fail("trial %d: no transaction committed within %v of killing leader %d", trial, bound, leader)
			}
			time.Sleep(5 * time.Millisecond)
		}
		failovers = append(failovers, firstCommit.Sub(killed))

		// Pause the writer and check the new leader against what the client saw.
		w.pause.Lock()
		present := map[int64]bool{}
		rows, err := db.Query("SELECT rowid FROM f WHERE rowid >= 100000")
		check(err, fmt.Sprintf("trial %d: reading the rows", trial))
		for rows.Next() {
			var id int64
			check(rows.Scan(&id), "rowid")
			present[id] = true
		}
		check(rows.Err(), "reading the rows")
		rows.Close()
		truth := map[int64]Row{}
		for id, r := range base {
			truth[id] = r
		}
		w.mu.Lock()
		ambiguousPresent = 0
		for i, r := range w.log {
			n := 0
			for _, id := range r.rows {
				if present[id] {
					n++
				}
			}
			switch {
			case r.outcome == committed && n != len(r.rows):
				fail("trial %d: transaction %d committed (the client saw it) but %d of its %d rows are on the new leader",
					trial, i, n, len(r.rows))
			case r.outcome == failedBeforeCommit && n != 0:
				fail("trial %d: transaction %d failed before COMMIT (%v) but %d of its rows are on the new leader",
					trial, i, r.err, n)
			case r.outcome == commitFailed && n != 0 && n != len(r.rows):
				fail("trial %d: transaction %d (COMMIT failed: %v) is on the new leader in part: %d of %d rows",
					trial, i, r.err, n, len(r.rows))
			}
			if r.outcome == commitFailed && n == len(r.rows) {
				ambiguousPresent++
			}
			if n == len(r.rows) {
				for _, id := range r.rows {
					truth[id] = Row{Vec: w.vector(id)}
				}
			}
		}
		w.mu.Unlock()
		if len(present)+len(base) != len(truth) {
			fail("trial %d: %d rows on the new leader that no transaction of the client wrote", trial,
				len(present)+len(base)-len(truth))
		}
		for qi := 0; qi < 3; qi++ {
			q := bible.Queries[500+qi*101]
			got, err := queryHits(db, fmt.Sprintf("SELECT rowid, distance FROM f WHERE embedding MATCH ? AND k = 10 AND rescore = %d",
				len(truth)+10), blob(q))
			check(err, fmt.Sprintf("trial %d: kNN on the new leader", trial))
			if d := sameHits(got, bruteKNN(truth, q, 10, nil)); d != "" {
				fail("trial %d: kNN on the new leader vs brute force over the committed rows: %s", trial, d)
			}
		}
		done := time.Since(killed)
		if done > bound {
			fail("trial %d: the new leader answered correctly only %.1f s after the kill (want within %v)", trial, done.Seconds(), bound)
		}
		verified = append(verified, done)
		w.pause.Unlock()
		logf("failover trial %d: killed leader %d, first commit after %d ms, checked (%d rows) after %d ms",
			trial, leader, failovers[len(failovers)-1].Milliseconds(), len(truth), done.Milliseconds())
		c.Start(leader)
	}
	w.pause.Lock()
	w.stopped = true
	w.pause.Unlock()
	w.mu.Lock()
	var ok, failed int
	for _, r := range w.log {
		switch r.outcome {
		case committed:
			ok++
		case failedBeforeCommit:
			failed++
		case commitFailed:
			ambiguous++
		}
	}
	w.mu.Unlock()
	logf("failover: %d trials; kill to first commit median %d ms, max %d ms; kill to checked median %d ms, max %d ms",
		trials, median(failovers).Milliseconds(), maxDur(failovers).Milliseconds(), median(verified).Milliseconds(),
		maxDur(verified).Milliseconds())
	logf("failover: %d transactions committed, %d failed before COMMIT, %d with a failed COMMIT (%d of them there whole, the rest not at all)",
		ok, failed, ambiguous, ambiguousPresent)
	db.Close()
	w.db.Close()
	c.StopAll()
}
