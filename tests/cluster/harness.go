// The cluster tests' harness: bebr-dqlite-node processes on loopback ports (started, killed,
// stopped, restarted on their data), go-dqlite clients, the bible data and the oracles (brute
// force over the rows the test knows it committed; a local SQLite file with bebr.so loaded).
//
//	clustertest NODE EXTENSION DATADIR WORKDIR contract|failover|catchup|nobebr|bench [N]
//
// Exit status 0 passed, 1 failed (the reason on stderr), 77 skipped.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/canonical/go-dqlite/client"
	"github.com/canonical/go-dqlite/driver"
	sqlite3 "github.com/mattn/go-sqlite3"
)

const dim = 1024

var (
	nodeBin, extension, dataDir, workDir string
)

// ---- failures ----

type failure struct{ msg string }

// fail stops the test with a message; main prints it and exits 1.
func fail(format string, args ...interface{}) { panic(failure{fmt.Sprintf(format, args...)}) }

func check(err error, what string) {
	if err != nil {
		fail("%s: %v", what, err)
	}
}

func logf(format string, args ...interface{}) {
	fmt.Printf("%s %s\n", time.Now().UTC().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

// ---- nodes ----

type Node struct {
	ID   int
	Addr string
	Dir  string
	Log  string
	Args []string
	cmd  *exec.Cmd
	done chan error
}

type Cluster struct {
	Name  string
	Nodes map[int]*Node
	Addrs []string // every node's address, the --cluster list
}

// freePorts returns n loopback ports nothing listens on now.
func freePorts(n int) []int {
	var ports []int
	var ls []net.Listener
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		check(err, "a free port")
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// NewCluster plans n nodes (ids 1..n) with room for extra later ones; none is started.
func NewCluster(name string, n, extra int) *Cluster {
	c := &Cluster{Name: name, Nodes: map[int]*Node{}}
	dir := filepath.Join(workDir, name)
	os.RemoveAll(dir)
	check(os.MkdirAll(dir, 0o755), "work directory")
	for i, p := range freePorts(n + extra) {
		id := i + 1
		node := &Node{ID: id, Addr: fmt.Sprintf("127.0.0.1:%d", p), Dir: filepath.Join(dir, fmt.Sprintf("n%d", id)),
			Log: filepath.Join(dir, fmt.Sprintf("n%d.log", id))}
		c.Nodes[id] = node
		if id <= n {
			c.Addrs = append(c.Addrs, node.Addr)
		}
	}
	return c
}

// Start starts node id (again, on its data directory, when it ran before) and waits until it
// logs "ready": a member of the cluster.
func (c *Cluster) Start(id int, args ...string) *Node {
	n := c.Nodes[id]
	if args != nil {
		n.Args = args
	}
	addrs := strings.Join(c.Addrs, ",")
	if !strings.Contains(addrs, n.Addr) {
		addrs += "," + n.Addr
	}
	argv := append([]string{"--id", strconv.Itoa(id), "--address", n.Addr, "--dir", n.Dir, "--cluster", addrs}, n.Args...)
	logFile, err := os.OpenFile(n.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	check(err, "node log")
	start, _ := logFile.Seek(0, 2)
	n.cmd = exec.Command(nodeBin, argv...)
	n.cmd.Stdout, n.cmd.Stderr = logFile, logFile
	check(n.cmd.Start(), "starting node")
	logFile.Close()
	n.done = make(chan error, 1)
	go func(cmd *exec.Cmd, done chan error) { done <- cmd.Wait() }(n.cmd, n.done)
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(n.Log)
		if int64(len(b)) > start && strings.Contains(string(b[start:]), " ready\n") {
			return n
		}
		select {
		case err := <-n.done:
			n.done <- err
			fail("node %d exited while starting (%v); its log:\n%s", id, err, b[start:])
		default:
		}
		if time.Now().After(deadline) {
			fail("node %d not ready in 30 s; its log:\n%s", id, b[start:])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill sends SIGKILL to node id and waits for it to die.
func (c *Cluster) Kill(id int) {
	n := c.Nodes[id]
	n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
	n.cmd = nil
}

// Stop sends SIGTERM to node id; the node must exit 0 within 10 s.
func (c *Cluster) Stop(id int) {
	n := c.Nodes[id]
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-n.done:
		if err != nil {
			fail("node %d on SIGTERM: %v (want a clean exit 0)", id, err)
		}
	case <-time.After(10 * time.Second):
		n.cmd.Process.Kill()
		fail("node %d did not exit within 10 s of SIGTERM", id)
	}
	n.cmd = nil
}

func (c *Cluster) Running(id int) bool { return c.Nodes[id].cmd != nil }

// StopAll stops every running node cleanly (each must exit 0).
func (c *Cluster) StopAll() {
	for id := range c.Nodes {
		if c.Running(id) {
			c.Stop(id)
		}
	}
}

// KillAll kills whatever still runs (after a failure).
func (c *Cluster) KillAll() {
	for id, n := range c.Nodes {
		if n.cmd != nil {
			c.Kill(id)
		}
	}
}

func (c *Cluster) store() client.NodeStore {
	store := client.NewInmemNodeStore()
	var infos []client.NodeInfo
	for _, n := range c.Nodes {
		infos = append(infos, client.NodeInfo{ID: uint64(n.ID), Address: n.Addr})
	}
	store.Set(context.Background(), infos)
	return store
}

func quiet(client.LogLevel, string, ...interface{}) {}

// Leader is the id of the node that leads now, asking until one answers (at most 15 s).
func (c *Cluster) Leader() int {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cli, err := client.FindLeader(ctx, c.store(), client.WithLogFunc(quiet))
	check(err, "finding the leader")
	defer cli.Close()
	info, err := cli.Leader(ctx)
	check(err, "asking the leader")
	return int(info.ID)
}

// Transfer makes node id the leader, retrying while it catches up (at most 30 s).
func (c *Cluster) Transfer(id int) {
	deadline := time.Now().Add(30 * time.Second)
	for c.Leader() != id {
		if time.Now().After(deadline) {
			fail("node %d did not become leader in 30 s", id)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if cli, err := client.FindLeader(ctx, c.store(), client.WithLogFunc(quiet)); err == nil {
			cli.Transfer(ctx, uint64(id))
			cli.Close()
		}
		cancel()
		time.Sleep(100 * time.Millisecond)
	}
}

// DB opens database name through the cluster: a go-dqlite driver over every node's address.
func (c *Cluster) DB(name string) *sql.DB {
	drv, err := driver.New(c.store(), driver.WithLogFunc(quiet), driver.WithConnectionTimeout(10*time.Second),
		driver.WithConnectionBackoffCap(200*time.Millisecond))
	check(err, "dqlite driver")
	conn, err := drv.OpenConnector(name)
	check(err, "dqlite connector")
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(1)
	return db
}

// LocalDB opens an SQLite file with bebr.so loaded (mattn/go-sqlite3 on the system SQLite): the
// single-node reference.
func LocalDB(path string) *sql.DB {
	os.Remove(path)
	name := fmt.Sprintf("sqlite3_bebr_%d", time.Now().UnixNano())
	sql.Register(name, &sqlite3.SQLiteDriver{Extensions: []string{extension}})
	db, err := sql.Open(name, path)
	check(err, "local database")
	db.SetMaxOpenConns(1)
	return db
}

// rss is a process's resident memory in KiB (VmRSS).
func rss(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	check(err, "process status")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			v, _ := strconv.Atoi(strings.Fields(line)[1])
			return v
		}
	}
	return 0
}

// ---- data ----

type Row struct {
	Vec     []float32
	Book    string
	Chapter int64
	Passage string
}

// Bible is the bundled passages: base vectors with their book, chapter and text; held-out queries.
type Bible struct {
	Base    []Row
	Queries [][]float32
}

func readVectors(path string) [][]float32 {
	b, err := os.ReadFile(path)
	check(err, "reading "+path)
	var out [][]float32
	for off := 0; off+dim*4 <= len(b); off += dim * 4 {
		v := make([]float32, dim)
		for j := range v {
			v[j] = math.Float32frombits(binary.LittleEndian.Uint32(b[off+4*j:]))
		}
		out = append(out, v)
	}
	return out
}

func loadBible() *Bible {
	bible := &Bible{Queries: readVectors(filepath.Join(dataDir, "queries.f32"))}
	base := readVectors(filepath.Join(dataDir, "base.f32"))
	bible.Base = make([]Row, len(base))
	f, err := os.Open(filepath.Join(dataDir, "passages.tsv"))
	check(err, "passages")
	defer f.Close()
	lines := bufio.NewScanner(f)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	lines.Scan()
	for lines.Scan() {
		c := strings.Split(lines.Text(), "\t")
		if c[0] != "base" {
			continue
		}
		i, _ := strconv.Atoi(c[1])
		chapter, _ := strconv.ParseInt(c[3], 10, 64)
		bible.Base[i] = Row{Vec: base[i], Book: c[2], Chapter: chapter, Passage: c[4]}
	}
	return bible
}

// blob is a vector as bebr takes it: little-endian float32.
func blob(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for j, x := range v {
		binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(x))
	}
	return b
}

// ---- the brute-force oracle ----

type Hit struct {
	Rowid    int64
	Distance float64
}

// cosine is bebr's default metric, 1 - cos, accumulated in double (docs/sql.md, bebr_distance).
func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for j := range a {
		dot += float64(a[j]) * float64(b[j])
		na += float64(a[j]) * float64(a[j])
		nb += float64(b[j]) * float64(b[j])
	}
	if na == 0 || nb == 0 {
		return 1
	}
	return 1 - dot/(math.Sqrt(na)*math.Sqrt(nb))
}

// bruteKNN is the exact k nearest rows of q by cosine among those keep accepts, ties by rowid.
func bruteKNN(rows map[int64]Row, q []float32, k int, keep func(Row) bool) []Hit {
	var hits []Hit
	for id, r := range rows {
		if keep == nil || keep(r) {
			hits = append(hits, Hit{id, cosine(q, r.Vec)})
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Distance != hits[j].Distance {
			return hits[i].Distance < hits[j].Distance
		}
		return hits[i].Rowid < hits[j].Rowid
	})
	if len(hits) > k {
		hits = hits[:k]
	}
	return hits
}

// queryHits runs a kNN statement whose columns are rowid, distance.
func queryHits(db *sql.DB, query string, args ...interface{}) ([]Hit, error) {
	rows, err := db.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var hits []Hit
	for rows.Next() {
		var h Hit
		if err := rows.Scan(&h.Rowid, &h.Distance); err != nil {
			return nil, err
		}
		hits = append(hits, h)
	}
	return hits, rows.Err()
}

// sameHits: the same rowids in the same order with distances within 1e-6; where the oracle
// has two distances within 1e-9 of each other (a tie to double rounding) either order is taken.
func sameHits(got, want []Hit) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d hits, want %d: got %v want %v", len(got), len(want), got, want)
	}
	for i := range got {
		if math.Abs(got[i].Distance-want[i].Distance) > 1e-6 {
			return fmt.Sprintf("hit %d: distance %.9f, want %.9f (got %v want %v)", i, got[i].Distance, want[i].Distance, got, want)
		}
		if got[i].Rowid != want[i].Rowid {
			tie := (i > 0 && math.Abs(want[i].Distance-want[i-1].Distance) < 1e-9) ||
				(i+1 < len(want) && math.Abs(want[i].Distance-want[i+1].Distance) < 1e-9)
			if !tie {
				return fmt.Sprintf("hit %d: rowid %d, want %d (got %v want %v)", i, got[i].Rowid, want[i].Rowid, got, want)
			}
		}
	}
	return ""
}

func exec1(db *sql.DB, what, query string, args ...interface{}) {
	_, err := db.Exec(query, args...)
	check(err, what)
}

func scalar(db *sql.DB, what, query string, args ...interface{}) string {
	var s sql.NullString
	check(db.QueryRow(query, args...).Scan(&s), what)
	return s.String
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func maxDur(d []time.Duration) time.Duration {
	m := time.Duration(0)
	for _, x := range d {
		if x > m {
			m = x
		}
	}
	return m
}

func main() {
	if len(os.Args) < 6 {
		fmt.Fprintln(os.Stderr, "usage: clustertest NODE EXTENSION DATADIR WORKDIR contract|failover|catchup|nobebr|bench [N]")
		os.Exit(2)
	}
	nodeBin, extension, dataDir, workDir = os.Args[1], os.Args[2], os.Args[3], os.Args[4]
	tests := map[string]func([]string){"contract": testContract, "failover": testFailover, "catchup": testCatchup,
		"nobebr": testNoBebr, "bench": runBench}
	t, ok := tests[os.Args[5]]
	if !ok {
		fmt.Fprintf(os.Stderr, "clustertest: no test %q\n", os.Args[5])
		os.Exit(2)
	}
	var cleanup []*Cluster
	defer func() {
		if r := recover(); r != nil {
			for _, c := range cleanup {
				c.KillAll()
			}
			if f, ok := r.(failure); ok {
				fmt.Fprintf(os.Stderr, "FAILED: %s\n", f.msg)
				os.Exit(1)
			}
			panic(r)
		}
	}()
	registerCleanup = func(c *Cluster) { cleanup = append(cleanup, c) }
	start := time.Now()
	t(os.Args[6:])
	logf("%s passed in %.1f s", os.Args[5], time.Since(start).Seconds())
}

// registerCleanup records a cluster whose nodes a failure kills.
var registerCleanup func(*Cluster)
