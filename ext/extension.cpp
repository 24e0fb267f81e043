// The entry point: `.load ./bebr` (or sqlite3_load_extension(db, "./bebr", 0, &err)) calls
// sqlite3_bebr_init, which registers every bebr SQL function and the bebr_vectors and bebr_each tables.
//
//   sqlite> .load ./bebr
//   sqlite> SELECT bebr_version();
//   0.1.0
#include "common.hpp"

SQLITE_EXTENSION_INIT1

extern "C" __attribute__((visibility("default"))) int sqlite3_bebr_init(sqlite3* db, char** pzErrMsg,
                                                                        const sqlite3_api_routines* pApi) noexcept {
  SQLITE_EXTENSION_INIT2(pApi);
  // The virtual table's IN handling calls sqlite3_vtab_in (3.38.0). An older SQLite's routine
  // table ends before it, so nothing else may run there: the version is checked first.
  if (sqlite3_libversion_number() < 3038000) {
    if (pzErrMsg)
      *pzErrMsg = sqlite3_mprintf("bebr needs SQLite >= 3.38.0 (sqlite3_vtab_in); this is %s", sqlite3_libversion());
    return SQLITE_ERROR;
  }
  try {
    auto conn = std::make_shared<bebr::ext::Connection>();
    int rc = bebr::ext::register_functions(db, conn);
    if (rc == SQLITE_OK) rc = bebr::ext::register_model_functions(db, conn);
    if (rc == SQLITE_OK) rc = bebr::ext::register_vector_functions(db, conn);
    if (rc == SQLITE_OK) rc = bebr::ext::register_vectors_table(db);
    if (rc == SQLITE_OK) rc = bebr::ext::register_each_table(db);
    if (rc == SQLITE_OK) rc = bebr::ext::register_bebr_table(db);
    if (rc != SQLITE_OK && pzErrMsg)
      *pzErrMsg = sqlite3_mprintf("bebr: could not register functions: %s", sqlite3_errstr(rc));
    return rc;
  } catch (const std::bad_alloc&) {
    if (pzErrMsg) *pzErrMsg = sqlite3_mprintf("bebr: out of memory while loading");
    return SQLITE_NOMEM;
  } catch (const std::exception& e) {
    if (pzErrMsg) *pzErrMsg = sqlite3_mprintf("bebr internal error while loading: %s", e.what());
    return SQLITE_ERROR;
  } catch (...) {
    if (pzErrMsg) *pzErrMsg = sqlite3_mprintf("bebr internal error while loading: unknown exception");
    return SQLITE_ERROR;
  }
}
