// bebr through a dqlite cluster from Go (Debian's golang-github-canonical-go-dqlite-dev): creates
// a bebr table on the cluster, bulk-inserts the bundled bible passages with their book, chapter
// and testament in one transaction, and prints the filtered kNN with rescore of the bindings'
// reference (examples/bindings/shell/knn.sql), one line a hit. The cluster replicates every
// write; the query runs on whichever node leads.
//
//	bash cluster/run.sh 3            # a local cluster on 127.0.0.1:9001-9003
//	bash cluster/example/run.sh 127.0.0.1:9001,127.0.0.1:9002,127.0.0.1:9003
package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/canonical/go-dqlite/client"
	"github.com/canonical/go-dqlite/driver"
)

func main() {
	if len(os.Args) != 3 {
		log.Fatal("usage: knn HOST:PORT,... DATADIR")
	}
	servers, data := strings.Split(os.Args[1], ","), os.Args[2]
	store := client.NewInmemNodeStore()
	nodes := []client.NodeInfo{}
	for _, s := range servers {
		nodes = append(nodes, client.NodeInfo{Address: s})
	}
	check(store.Set(context.Background(), nodes))
	drv, err := driver.New(store)
	check(err)
	sql.Register("dqlite", drv)
	db, err := sql.Open("dqlite", "bible.db")
	check(err)
	defer db.Close()

	testament := map[string]string{} // book -> OT or NT, from rows.tsv
	eachRow(filepath.Join(data, "rows.tsv"), func(c []string) { testament[c[5]] = c[7] })

	_, err = db.Exec("DROP TABLE IF EXISTS bible")
	check(err)
	_, err = db.Exec("CREATE VIRTUAL TABLE bible USING bebr(embedding float[1024], book text, chapter integer, " +
		"testament text, +passage text, bits=2, store_vectors=1)")
	check(err)
	base, err := os.ReadFile(filepath.Join(data, "base.f32"))
	check(err)
	tx, err := db.Begin()
	check(err)
	insert, err := tx.Prepare("INSERT INTO bible(rowid, embedding, book, chapter, testament, passage) VALUES (?, ?, ?, ?, ?, ?)")
	check(err)
	eachRow(filepath.Join(data, "passages.tsv"), func(c []string) {
		if c[0] != "base" {
			return
		}
		i, _ := strconv.Atoi(c[1])
		chapter, _ := strconv.Atoi(c[3])
		_, err := insert.Exec(i, base[i*4096:(i+1)*4096], c[2], chapter, testament[c[2]], c[4])
		check(err)
	})
	check(insert.Close())
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

// eachRow calls f with the tab-separated fields of every line of a TSV file but its header.
func eachRow(path string, f func([]string)) {
	file, err := os.Open(path)
	check(err)
	defer file.Close()
	lines := bufio.NewScanner(file)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	lines.Scan()
	for lines.Scan() {
		f(strings.Split(lines.Text(), "\t"))
	}
	check(lines.Err())
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
