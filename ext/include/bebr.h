/* bebr for programs that embed it: libbebr.a (the extension compiled with -DSQLITE_CORE) and
 * libbebr_core.a, linked with SQLite. Register the entry point once, before opening databases,
 * and every connection has bebr (docs/install.md):
 *   sqlite3_auto_extension((void (*)(void))sqlite3_bebr_init);
 * The loadable bebr.so has the same entry point; sqlite3_load_extension finds it by name. */
#ifndef BEBR_H
#define BEBR_H

#include <sqlite3.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Registers bebr's SQL functions and its bebr and bebr_vectors virtual tables on db. Fails
 * (SQLITE_ERROR, *pzErrMsg set) on an SQLite older than 3.38.0. */
int sqlite3_bebr_init(sqlite3* db, char** pzErrMsg, const sqlite3_api_routines* pApi);

#ifdef __cplusplus
}
#endif

#endif
