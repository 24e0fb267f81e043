// bebr from Go's github.com/mattn/go-sqlite3 (Debian's golang-github-mattn-go-sqlite3-dev, built
// with -tags libsqlite3 to use the system SQLite). Filtered kNN with rescore over the bundled
// bible passages, one line a hit.
//
//	go run -tags libsqlite3 knn.go path/to/bebr examples/data/bible
package main

import (
	"bufio"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"
)

func main() {
	ext, data := os.Args[1], os.Args[2]
	// Extensions are loaded into every connection the pool opens; one connection keeps the
	// :memory: database a single database.
	sql.Register("sqlite3_bebr", &sqlite3.SQLiteDriver{Extensions: []string{ext}})
	db, err := sql.Open("sqlite3_bebr", ":memory:")
	check(err)
	db.SetMaxOpenConns(1)

	_, err = db.Exec("CREATE VIRTUAL TABLE bible USING bebr(embedding float[1024], book text, chapter integer, " +
		"+passage text, bits=2, store_vectors=1)")
	check(err)
	base, err := os.ReadFile(filepath.Join(data, "base.f32"))
	check(err)
	f, err := os.Open(filepath.Join(data, "passages.tsv"))
	check(err)
	defer f.Close()
	tx, err := db.Begin()
	check(err)
	insert, err := tx.Prepare("INSERT INTO bible(rowid, embedding, book, chapter, passage) VALUES (?, ?, ?, ?, ?)")
	check(err)
	lines := bufio.NewScanner(f)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	lines.Scan() // the header
	for lines.Scan() {
		c := strings.Split(lines.Text(), "\t")
		if c[0] != "base" {
			continue
		}
		i, _ := strconv.Atoi(c[1])
		chapter, _ := strconv.Atoi(c[3])
		_, err = insert.Exec(i, base[i*4096:(i+1)*4096], c[2], chapter, c[4])
		check(err)
	}
	check(lines.Err())
	check(tx.Commit())

	queries, err := os.ReadFile(filepath.Join(data, "queries.f32"))
	check(err)
	rows, err := db.Query("SELECT printf('%d %s %d %.4f %s', rowid, book, chapter, distance, substr(passage, 1, 60)) "+
		"FROM bible WHERE embedding MATCH ? AND k = 5 AND rescore = 40 AND chapter <= 10", queries[120*4096:121*4096])
	check(err)
	defer rows.Close()
	for rows.Next() {
		var line string
		check(rows.Scan(&line))
		fmt.Println(line)
	}
	check(rows.Err())
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
