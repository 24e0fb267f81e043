/* bebr linked into the program, no .load: sqlite3_auto_extension registers the entry point, so
 * every connection opened afterwards has bebr's functions and tables.
 *   build: examples/embed/CMakeLists.txt (find_package(bebr)), or
 *          cc embed.c $(pkg-config --cflags --libs bebr) -o embed
 * Prints SQLite's and bebr's versions, then the two documents nearest to a query, and the
 * nearest vehicle (expected: cats, kittens; trucks). Exits non-zero on any error. */
#include <bebr.h>
#include <sqlite3.h>
#include <stdio.h>

static int print_row(void* unused, int n, char** values, char** names) {
  (void)unused;
  (void)names;
  for (int i = 0; i < n; i++) printf("%s%s", i ? "|" : "", values[i] ? values[i] : "NULL");
  printf("\n");
  return 0;
}

int main(void) {
  if (sqlite3_auto_extension((void (*)(void))sqlite3_bebr_init) != SQLITE_OK) return 1;
  sqlite3* db = NULL;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
    fprintf(stderr, "open: %s\n", sqlite3_errmsg(db));
    return 1;
  }
  static const char* const sql =
      "SELECT 'sqlite ' || sqlite_version(), 'bebr ' || bebr_version();"
      "CREATE VIRTUAL TABLE docs USING bebr(embedding float[4], topic text, +title text, bits=2);"
      "INSERT INTO docs(embedding, topic, title) VALUES"
      "  ('[0.9, 0.1, 0.0, 0.2]', 'animals', 'cats'),"
      "  ('[0.8, 0.2, 0.1, 0.3]', 'animals', 'kittens'),"
      "  ('[0.0, 0.9, 0.8, -0.1]', 'vehicles', 'cars'),"
      "  ('[-0.6, 0.2, 0.9, -0.8]', 'vehicles', 'trucks');"
      "SELECT title FROM docs WHERE embedding MATCH '[0.85, 0.15, 0.05, 0.25]' AND k = 2;"
      "SELECT title FROM docs WHERE embedding MATCH '[-0.6, 0.2, 0.9, -0.8]' AND k = 1"
      "  AND topic = 'vehicles';";
  char* err = NULL;
  if (sqlite3_exec(db, sql, print_row, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "embed: %s\n", err);
    sqlite3_free(err);
    sqlite3_close(db);
    return 1;
  }
  sqlite3_close(db);
  return 0;
}
