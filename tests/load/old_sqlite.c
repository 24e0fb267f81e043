/* The version check of the entry point: bebr refuses to load into an SQLite older than 3.38.0,
 * whose routine table ends before sqlite3_vtab_in, with a message naming both versions.
 *   old_sqlite <path of bebr.so>
 * No SQLite that old is at hand, so the test hands sqlite3_bebr_init a copy of this SQLite's
 * routine table whose version functions say 3.37.2 (the table SQLite passes to every extension,
 * captured from an auto-extension), then the real one, which must load. */
#define SQLITE_CORE 1 /* sqlite3ext.h for its struct only, not its macros */
#include <dlfcn.h>
#include <sqlite3.h>
#include <sqlite3ext.h>
#include <stdio.h>
#include <string.h>

typedef int (*init_fn)(sqlite3*, char**, const sqlite3_api_routines*);

static const sqlite3_api_routines* real_api;
static int capture(sqlite3* db, char** err, const sqlite3_api_routines* api) {
  (void)db;
  (void)err;
  real_api = api;
  return SQLITE_OK;
}
static int old_version_number(void) { return 3037002; }
static const char* old_version(void) { return "3.37.2"; }

/* Whether bebr_version() can be prepared on db (the functions are registered). */
static int has_bebr(sqlite3* db) {
  sqlite3_stmt* st = NULL;
  const int rc = sqlite3_prepare_v2(db, "SELECT bebr_version()", -1, &st, NULL);
  sqlite3_finalize(st);
  return rc == SQLITE_OK;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: old_sqlite <bebr.so>\n");
    return 2;
  }
  void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  init_fn init = lib ? (init_fn)dlsym(lib, "sqlite3_bebr_init") : NULL;
  if (!init) {
    fprintf(stderr, "cannot load %s: %s\n", argv[1], dlerror());
    return 1;
  }
  sqlite3_auto_extension((void (*)(void))capture);
  sqlite3* db = NULL;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK || !real_api) {
    fprintf(stderr, "cannot open a database or capture the routine table\n");
    return 1;
  }
  sqlite3_api_routines old = *real_api;
  old.libversion_number = old_version_number;
  old.libversion = old_version;

  char* err = NULL;
  int rc = init(db, &err, &old);
  const char* want = "bebr needs SQLite >= 3.38.0 (sqlite3_vtab_in); this is 3.37.2";
  int failed = 0;
  if (rc != SQLITE_ERROR || !err || strcmp(err, want) != 0) {
    fprintf(stderr, "on 3.37.2: rc %d, message '%s'; expected rc %d, message '%s'\n", rc, err ? err : "(none)",
            SQLITE_ERROR, want);
    failed = 1;
  }
  if (has_bebr(db)) {
    fprintf(stderr, "on 3.37.2: bebr_version() was registered all the same\n");
    failed = 1;
  }
  sqlite3_free(err);
  err = NULL;
  rc = init(db, &err, real_api);
  if (rc != SQLITE_OK || !has_bebr(db)) {
    fprintf(stderr, "on %s: rc %d, message '%s'; expected it to load\n", sqlite3_libversion(), rc,
            err ? err : "(none)");
    failed = 1;
  }
  sqlite3_free(err);
  sqlite3_close(db);
  if (!failed) printf("refused 3.37.2 with: %s\nloaded on %s\n", want, sqlite3_libversion());
  return failed;
}
