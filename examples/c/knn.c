/* Using bebr from C: load the extension, store vectors in a bebr virtual table (binarized on
 * insert), find nearest neighbours by SDC.
 *   cc knn.c -lsqlite3 -o knn && ./knn ./bebr
 * Exits non-zero if anything fails or the nearest neighbour of a stored vector is not itself. */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#define DIM 64
#define ROWS 500

static int check(sqlite3* db, int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
    exit(1);
  }
  return rc;
}

int main(int argc, char** argv) {
  const char* ext = argc > 1 ? argv[1] : "./bebr";
  sqlite3* db;
  char* err = NULL;
  check(db, sqlite3_open(":memory:", &db), "open");
  sqlite3_enable_load_extension(db, 1);
  if (sqlite3_load_extension(db, ext, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "load %s: %s\n", ext, err);
    return 1;
  }
  check(db, sqlite3_exec(db, "CREATE VIRTUAL TABLE items USING bebr(v float[64], bits=2)", 0, 0, 0), "create");

  /* Vectors go in as little-endian float32 BLOBs, in one transaction; the table codes them. */
  sqlite3_stmt* ins;
  check(db, sqlite3_exec(db, "BEGIN", 0, 0, 0), "begin");
  check(db, sqlite3_prepare_v2(db, "INSERT INTO items(rowid, v) VALUES (?1, ?2)", -1, &ins, 0), "prepare");
  static float vecs[ROWS][DIM];
  srand(1);
  for (int i = 0; i < ROWS; i++) {
    for (int j = 0; j < DIM; j++) vecs[i][j] = (float)rand() / RAND_MAX - 0.5f;
    sqlite3_bind_int(ins, 1, i);
    sqlite3_bind_blob(ins, 2, vecs[i], sizeof vecs[i], SQLITE_STATIC);
    check(db, sqlite3_step(ins), "insert");
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  check(db, sqlite3_exec(db, "COMMIT", 0, 0, 0), "commit");

  /* The 5 nearest codes to the code of row 42: row 42 itself must come first at distance ~0. */
  sqlite3_stmt* q;
  check(db, sqlite3_prepare_v2(db, "SELECT rowid, distance FROM items WHERE v MATCH ?1 AND k = 5", -1, &q, 0),
        "prepare");
  sqlite3_bind_blob(q, 1, vecs[42], sizeof vecs[42], SQLITE_STATIC);
  int first = -1, n = 0;
  while (check(db, sqlite3_step(q), "query") == SQLITE_ROW) {
    int id = sqlite3_column_int(q, 0);
    double d = sqlite3_column_double(q, 1);
    printf("id %3d  distance %.4f\n", id, d);
    if (n++ == 0) first = id;
    if (n == 1 && fabs(d) > 1e-6) return 1;
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  if (first != 42) {
    fprintf(stderr, "expected row 42 first, got %d\n", first);
    return 1;
  }
  printf("ok\n");
  return 0;
}
