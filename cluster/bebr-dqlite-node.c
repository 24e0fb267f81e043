/* bebr-dqlite-node: one node of a dqlite cluster (Raft-replicated SQLite) whose every
 * connection has bebr. bebr is linked in (libbebr.a, built with -DSQLITE_CORE) and registered
 * with sqlite3_auto_extension before the node starts, so the connections dqlite opens for its
 * clients get bebr's functions and tables; load_extension() is not reachable through dqlite.
 *
 *   bebr-dqlite-node --id 1 --address 127.0.0.1:9001 --dir n1 --cluster 127.0.0.1:9001,127.0.0.1:9002
 *
 * Node 1 bootstraps a new cluster on its first start. Any other node, once its own node is
 * serving, asks the leader (found through --cluster) to add it as a voter; on a restart it
 * finds itself in the configuration and asks nothing. It logs to stderr, prints "ready" when it
 * is a member, ignores SIGPIPE, and on SIGTERM or SIGINT stops its node and exits 0.
 * --no-bebr starts it without bebr (every bebr statement routed to it then fails cleanly).
 * cluster/run.sh starts a local cluster with it; docs/cluster.md has the rest. */
#define _POSIX_C_SOURCE 200809L
#include <bebr.h>
#include <dqlite.h>
#include <sqlite3.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static unsigned long long node_id;

static void say(const char* fmt, ...) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  fprintf(stderr, "%02d:%02d:%02d.%03ld bebr-dqlite-node %llu: ", tm.tm_hour, tm.tm_min, tm.tm_sec,
          ts.tv_nsec / 1000000, node_id);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

/* An auto extension for every connection dqlite opens, bebr or not: no cache spill. dqlite
 * 1.11 cannot read back a page SQLite spilled into the WAL in the middle of a transaction (the
 * frames it has not committed yet), so a transaction that dirties more than the page cache
 * reads garbage or fails (dqlite issue 163). The database is in memory anyway, the dirty pages
 * of a transaction stay in the page cache until it commits. */
static int no_cache_spill(sqlite3* db, char** err, const sqlite3_api_routines* api) {
  (void)api;
  return sqlite3_exec(db, "PRAGMA cache_spill = OFF", NULL, NULL, err);
}

static void usage(void) {
  fprintf(stderr,
          "usage: bebr-dqlite-node --id N --address HOST:PORT --dir DIR [--cluster HOST:PORT,...]\n"
          "                        [--latency-ms MS] [--snapshot-threshold N --snapshot-trailing N]\n"
          "                        [--no-bebr]\n");
  exit(2);
}

/* ---- the few client requests a node needs to join: dqlite's wire protocol, version 1.
 * A message is an 8-byte header (body size in 8-byte words, type, schema, 2 unused bytes, all
 * little-endian) and a body of 64-bit integers and NUL-terminated strings padded to 8 bytes. */
enum { REQ_LEADER = 0, REQ_ADD = 12, REQ_ASSIGN = 13, REQ_CLUSTER = 16 };
enum { RES_FAILURE = 0, RES_NODE = 1, RES_NODES = 3, RES_EMPTY = 8 };
enum { ROLE_VOTER = 0 };

typedef struct {
  unsigned char data[4096];
  size_t len, pos;
} Msg;

static void put_u64(Msg* m, uint64_t v) {
  for (int i = 0; i < 8; i++) m->data[m->len++] = (unsigned char)(v >> (8 * i));
}
static int put_text(Msg* m, const char* s) {
  size_t n = strlen(s) + 1, padded = (n + 7) / 8 * 8;
  if (m->len + padded > sizeof m->data) return -1;
  memset(m->data + m->len, 0, padded);
  memcpy(m->data + m->len, s, n - 1);
  m->len += padded;
  return 0;
}
static int get_u64(Msg* m, uint64_t* v) {
  if (m->pos + 8 > m->len) return -1;
  *v = 0;
  for (int i = 0; i < 8; i++) *v |= (uint64_t)m->data[m->pos++] << (8 * i);
  return 0;
}
static const char* get_text(Msg* m) {
  const char* s = (const char*)m->data + m->pos;
  size_t n = strnlen(s, m->len - m->pos);
  if (m->pos + n >= m->len) return NULL;
  m->pos += (n + 1 + 7) / 8 * 8;
  return s;
}

static int write_all(int fd, const void* p, size_t n) {
  const unsigned char* b = p;
  while (n > 0) {
    ssize_t w = write(fd, b, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    b += w, n -= (size_t)w;
  }
  return 0;
}
static int read_all(int fd, void* p, size_t n) {
  unsigned char* b = p;
  while (n > 0) {
    ssize_t r = read(fd, b, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    b += r, n -= (size_t)r;
  }
  return 0;
}

/* A connection to HOST:PORT that has sent the protocol version, or -1. Reads and writes time
 * out after 5 s, so a dead peer never hangs the join. */
static int dial(const char* address) {
  char host[256];
  const char* colon = strrchr(address, ':');
  if (!colon || (size_t)(colon - address) >= sizeof host) return -1;
  memcpy(host, address, (size_t)(colon - address));
  host[colon - address] = 0;
  struct addrinfo hints = {0}, *ai = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, colon + 1, &hints, &ai) != 0) return -1;
  int fd = socket(ai->ai_family, SOCK_STREAM, 0);
  if (fd >= 0) {
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    Msg hello = {.len = 0};
    put_u64(&hello, 1);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 || write_all(fd, hello.data, hello.len) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(ai);
  return fd;
}

/* Sends the request in *m (body only; the header is added) and reads the response into *m.
 * Returns the response type, or -1 on a broken connection. */
static int roundtrip(int fd, Msg* m, int type) {
  unsigned char header[8] = {0};
  uint32_t words = (uint32_t)(m->len / 8);
  for (int i = 0; i < 4; i++) header[i] = (unsigned char)(words >> (8 * i));
  header[4] = (unsigned char)type;
  if (write_all(fd, header, 8) != 0 || write_all(fd, m->data, m->len) != 0) return -1;
  if (read_all(fd, header, 8) != 0) return -1;
  words = (uint32_t)header[0] | (uint32_t)header[1] << 8 | (uint32_t)header[2] << 16 | (uint32_t)header[3] << 24;
  if ((size_t)words * 8 > sizeof m->data) return -1;
  m->len = (size_t)words * 8;
  m->pos = 0;
  if (read_all(fd, m->data, m->len) != 0) return -1;
  return header[4];
}

static void log_failure(const char* what, Msg* m) {
  uint64_t code = 0;
  get_u64(m, &code);
  const char* text = get_text(m);
  say("%s refused: %s (code %llu)", what, text ? text : "?", (unsigned long long)code);
}

/* The leader's address as some member of the cluster knows it, into leader[size]; 0 if found. */
static int find_leader(const char* cluster, char* leader, size_t size) {
  char* list = strdup(cluster);
  int found = -1;
  for (char *save = NULL, *a = strtok_r(list, ",", &save); a && found != 0; a = strtok_r(NULL, ",", &save)) {
    int fd = dial(a);
    if (fd < 0) continue;
    Msg m = {.len = 0};
    put_u64(&m, 0);
    if (roundtrip(fd, &m, REQ_LEADER) == RES_NODE) {
      uint64_t id = 0;
      const char* addr = get_u64(&m, &id) == 0 ? get_text(&m) : NULL;
      if (id != 0 && addr && *addr && strlen(addr) < size) {
        strcpy(leader, addr);
        found = 0;
      }
    }
    close(fd);
  }
  free(list);
  return found;
}

/* One attempt to make this node a voter: 1 done, 0 try again later. */
static int join_once(const char* cluster, const char* address) {
  char leader[256];
  if (find_leader(cluster, leader, sizeof leader) != 0) return 0;
  int fd = dial(leader);
  if (fd < 0) return 0;
  int done = 0;
  Msg m = {.len = 0};
  put_u64(&m, 1);  // format 1: with roles
  if (roundtrip(fd, &m, REQ_CLUSTER) != RES_NODES) goto out;
  uint64_t n = 0, role = 0, id = 0;
  int member = 0;
  get_u64(&m, &n);
  for (uint64_t i = 0; i < n; i++) {
    if (get_u64(&m, &id) != 0 || !get_text(&m) || get_u64(&m, &role) != 0) goto out;
    if (id == node_id) member = role == ROLE_VOTER ? 2 : 1;
  }
  if (member == 2) {
    say("already a voter (leader %s)", leader);
    done = 1;
    goto out;
  }
  if (member == 0) {
    m.len = 0;
    put_u64(&m, node_id);
    if (put_text(&m, address) != 0) goto out;
    int t = roundtrip(fd, &m, REQ_ADD);
    if (t != RES_EMPTY) {
      if (t == RES_FAILURE) log_failure("add", &m);
      goto out;
    }
    say("added to the cluster by leader %s", leader);
  }
  m.len = 0;
  put_u64(&m, node_id);
  put_u64(&m, ROLE_VOTER);
  int t = roundtrip(fd, &m, REQ_ASSIGN);
  if (t == RES_EMPTY) {
    say("now a voter (leader %s)", leader);
    done = 1;
  } else if (t == RES_FAILURE) {
    log_failure("assign voter", &m);
  }
out:
  close(fd);
  return done;
}

int main(int argc, char** argv) {
  const char *address = NULL, *dir = NULL, *cluster = NULL;
  unsigned latency_ms = 0, snapshot_threshold = 0, snapshot_trailing = 0;
  int with_bebr = 1;
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--no-bebr") == 0) {
      with_bebr = 0;
      continue;
    }
    if (!v) usage();
    if (strcmp(a, "--id") == 0) node_id = strtoull(v, NULL, 10);
    else if (strcmp(a, "--address") == 0) address = v;
    else if (strcmp(a, "--dir") == 0) dir = v;
    else if (strcmp(a, "--cluster") == 0) cluster = v;
    else if (strcmp(a, "--latency-ms") == 0) latency_ms = (unsigned)strtoul(v, NULL, 10);
    else if (strcmp(a, "--snapshot-threshold") == 0) snapshot_threshold = (unsigned)strtoul(v, NULL, 10);
    else if (strcmp(a, "--snapshot-trailing") == 0) snapshot_trailing = (unsigned)strtoul(v, NULL, 10);
    else usage();
    i++;
  }
  if (node_id == 0 || !address || !dir) usage();
  if (snapshot_threshold > 0 && snapshot_trailing < snapshot_threshold) {
    // dqlite keeps at least a snapshot's worth of entries behind the last snapshot.
    fprintf(stderr, "bebr-dqlite-node: --snapshot-trailing must be at least --snapshot-threshold; got %u < %u\n",
            snapshot_trailing, snapshot_threshold);
    return 2;
  }
  if (node_id != 1 && !cluster) {
    fprintf(stderr, "bebr-dqlite-node: --cluster is needed to join: node %llu is not node 1\n", node_id);
    return 2;
  }

  // Before dqlite starts its threads: they inherit the mask, and only sigwait below sees these.
  signal(SIGPIPE, SIG_IGN);
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);

  if (sqlite3_auto_extension((void (*)(void))no_cache_spill) != SQLITE_OK ||
      (with_bebr && sqlite3_auto_extension((void (*)(void))sqlite3_bebr_init) != SQLITE_OK)) {
    say("cannot register the auto extensions");
    return 1;
  }
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    say("cannot create %s: %s", dir, strerror(errno));
    return 1;
  }

  dqlite_node* node = NULL;
  int rc = dqlite_node_create(node_id, address, dir, &node);
  if (rc == 0) rc = dqlite_node_set_bind_address(node, address);
  if (rc == 0 && latency_ms > 0) rc = dqlite_node_set_network_latency_ms(node, latency_ms);
  // Raft compacts its log into a snapshot every `threshold` entries, keeping `trailing`;
  // dqlite's defaults otherwise. A node too far behind the kept log is sent a snapshot.
  if (rc == 0 && snapshot_threshold > 0)
    rc = dqlite_node_set_snapshot_params(node, snapshot_threshold, snapshot_trailing);
  if (rc == 0) rc = dqlite_node_start(node);
  if (rc != 0) {
    say("cannot start: %s (dqlite error %d)", node ? dqlite_node_errmsg(node) : "out of memory", rc);
    if (node) dqlite_node_destroy(node);
    return 1;
  }
  say("serving %s from %s, sqlite %s, %s", address, dir, sqlite3_libversion(),
      with_bebr ? "bebr registered" : "WITHOUT bebr");

  if (node_id != 1) {
    struct timespec pause = {0, 200 * 1000000};
    int joined = 0;
    for (int attempt = 0; attempt < 300 && !joined; attempt++) {
      joined = join_once(cluster, address);
      if (!joined) {
        // A SIGTERM while joining still stops the node cleanly.
        struct timespec zero = {0, 0};
        if (sigtimedwait(&stop, NULL, &zero) > 0) goto stop_node;
        nanosleep(&pause, NULL);
      }
    }
    if (!joined) {
      say("could not join through %s in 60 s; stopping", cluster);
      dqlite_node_stop(node);
      dqlite_node_destroy(node);
      return 1;
    }
  }
  say("ready");

  int sig = 0;
  while (sigwait(&stop, &sig) != 0) {
  }
  say("signal %d: stopping", sig);
stop_node:
  rc = dqlite_node_stop(node);
  dqlite_node_destroy(node);
  say(rc == 0 ? "stopped" : "stopped with dqlite error %d", rc);
  return rc == 0 ? 0 : 1;
}
