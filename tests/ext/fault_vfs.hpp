// A VFS shim that fails I/O on demand, for tests/ext/test_faults.cpp: registered as the default
// VFS over the real one, it forwards every call and, when fail_now() says so, answers a read,
// write, sync, truncate or file-size call with the matching SQLITE_IOERR_* code instead (the
// real file untouched), as SQLite's own test_devsym/test_vfs shims do.
#pragma once

#include <sqlite3.h>

#include <functional>

namespace bebr::testing {

class FaultVfs {
 public:
  // Installs the shim as the default VFS once; fail_now() is asked before each I/O call.
  static void install(std::function<bool()> fail_now) {
    static FaultVfs shim;
    state().fail_now = std::move(fail_now);
    if (state().real) return;
    state().real = sqlite3_vfs_find(nullptr);
    shim.vfs_ = *state().real;
    shim.vfs_.zName = "bebr_fault_vfs";
    shim.vfs_.szOsFile = static_cast<int>(sizeof(File)) + state().real->szOsFile;
    shim.vfs_.xOpen = open;
    sqlite3_vfs_register(&shim.vfs_, 1);
  }

 private:
  struct State {
    sqlite3_vfs* real = nullptr;
    std::function<bool()> fail_now;
  };
  static State& state() {
    static State s;
    return s;
  }
  // The shim's file: its methods, then the real VFS's file in the same allocation.
  struct File {
    sqlite3_file base;
    sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
  };
  static File* file(sqlite3_file* f) { return reinterpret_cast<File*>(f); }
  static bool fail() { return state().fail_now && state().fail_now(); }

  static int close(sqlite3_file* f) { return file(f)->real()->pMethods->xClose(file(f)->real()); }
  static int read(sqlite3_file* f, void* p, int n, sqlite3_int64 at) {
    if (fail()) return SQLITE_IOERR_READ;
    return file(f)->real()->pMethods->xRead(file(f)->real(), p, n, at);
  }
  static int write(sqlite3_file* f, const void* p, int n, sqlite3_int64 at) {
    if (fail()) return SQLITE_IOERR_WRITE;
    return file(f)->real()->pMethods->xWrite(file(f)->real(), p, n, at);
  }
  static int truncate(sqlite3_file* f, sqlite3_int64 size) {
    if (fail()) return SQLITE_IOERR_TRUNCATE;
    return file(f)->real()->pMethods->xTruncate(file(f)->real(), size);
  }
  static int sync(sqlite3_file* f, int flags) {
    if (fail()) return SQLITE_IOERR_FSYNC;
    return file(f)->real()->pMethods->xSync(file(f)->real(), flags);
  }
  static int file_size(sqlite3_file* f, sqlite3_int64* size) {
    if (fail()) return SQLITE_IOERR_FSTAT;
    return file(f)->real()->pMethods->xFileSize(file(f)->real(), size);
  }
  static int lock(sqlite3_file* f, int level) { return file(f)->real()->pMethods->xLock(file(f)->real(), level); }
  static int unlock(sqlite3_file* f, int level) { return file(f)->real()->pMethods->xUnlock(file(f)->real(), level); }
  static int check_reserved(sqlite3_file* f, int* out) {
    return file(f)->real()->pMethods->xCheckReservedLock(file(f)->real(), out);
  }
  static int control(sqlite3_file* f, int op, void* arg) {
    return file(f)->real()->pMethods->xFileControl(file(f)->real(), op, arg);
  }
  static int sector_size(sqlite3_file* f) { return file(f)->real()->pMethods->xSectorSize(file(f)->real()); }
  static int characteristics(sqlite3_file* f) {
    return file(f)->real()->pMethods->xDeviceCharacteristics(file(f)->real());
  }

  // Version 1 methods only: no WAL (shared memory) and no mmap through the shim, so every
  // page goes through read and write above.
  static int open(sqlite3_vfs*, const char* name, sqlite3_file* f, int flags, int* out_flags) {
    static const sqlite3_io_methods methods = [] {
      sqlite3_io_methods m{};
      m.iVersion = 1;
      m.xClose = close;
      m.xRead = read;
      m.xWrite = write;
      m.xTruncate = truncate;
      m.xSync = sync;
      m.xFileSize = file_size;
      m.xLock = lock;
      m.xUnlock = unlock;
      m.xCheckReservedLock = check_reserved;
      m.xFileControl = control;
      m.xSectorSize = sector_size;
      m.xDeviceCharacteristics = characteristics;
      return m;
    }();
    File* shim = file(f);
    const int rc = state().real->xOpen(state().real, name, shim->real(), flags, out_flags);
    // SQLite calls xClose only when pMethods is set: leave it null when the real open failed.
    shim->base.pMethods = shim->real()->pMethods ? &methods : nullptr;
    return rc;
  }

  sqlite3_vfs vfs_{};
};

}  // namespace bebr::testing
