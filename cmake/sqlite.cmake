# Which SQLite the tests run on. By default the system's (Debian's libsqlite3-dev and sqlite3
# shell). With -DBEBR_SQLITE_AMALGAMATION=<dir> (scripts/sqlite-current.sh fetches one), the
# sqlite3.c there is built here with the compile options listed in <dir>/defines.txt, and every
# test program links it instead: SQLite::SQLite3 names it. The extension itself never links
# SQLite; it only takes the headers (sqlite3ext.h) from SQLite3_INCLUDE_DIRS.
# Sets SQLite3_INCLUDE_DIRS, SQLite3_VERSION, BEBR_SQLITE_SHELL (the shell the examples run, or
# "" when there is none for this SQLite), BEBR_SQLITE_ORIGIN (what the tests run on, in words)
# and BEBR_SQLITE_EXT_OPTIONS (extra compile options of the extension against these headers).
set(BEBR_SQLITE_AMALGAMATION "" CACHE PATH
    "build SQLite from this amalgamation (sqlite3.c, sqlite3.h) for the tests instead of the system's")

if(NOT BEBR_SQLITE_AMALGAMATION)
  find_package(SQLite3 REQUIRED)
  set(BEBR_SQLITE_SHELL sqlite3)
  set(BEBR_SQLITE_ORIGIN "the system SQLite ${SQLite3_VERSION}")
  set(BEBR_SQLITE_EXT_OPTIONS "")
  return()
endif()

set(bebr_sqlite_dir "${BEBR_SQLITE_AMALGAMATION}")
foreach(bebr_f sqlite3.c sqlite3.h sqlite3ext.h)
  if(NOT EXISTS "${bebr_sqlite_dir}/${bebr_f}")
    message(FATAL_ERROR "BEBR_SQLITE_AMALGAMATION: ${bebr_sqlite_dir} has no ${bebr_f}")
  endif()
endforeach()
file(STRINGS "${bebr_sqlite_dir}/sqlite3.h" bebr_version_line REGEX "^#define SQLITE_VERSION +\"")
string(REGEX REPLACE ".*\"(.*)\".*" "\\1" SQLite3_VERSION "${bebr_version_line}")

# The compile options: those of the package the amalgamation came from when listed, else
# SQLite's defaults made thread-safe. An extension must be loadable and the virtual-table API
# whole, or the suite would test something no binding ships.
if(EXISTS "${bebr_sqlite_dir}/defines.txt")
  file(STRINGS "${bebr_sqlite_dir}/defines.txt" BEBR_SQLITE_DEFINES)
else()
  set(BEBR_SQLITE_DEFINES SQLITE_THREADSAFE=1)
endif()
# Kept on although better-sqlite3 omits it: the tests interrupt bebr_train from a progress
# handler. It only removes the callback's check from the VDBE; no plan depends on it.
list(REMOVE_ITEM BEBR_SQLITE_DEFINES SQLITE_OMIT_PROGRESS_CALLBACK)
foreach(bebr_d ${BEBR_SQLITE_DEFINES})
  if(bebr_d MATCHES "^SQLITE_OMIT_(LOAD_EXTENSION|VIRTUALTABLE)")
    message(FATAL_ERROR "BEBR_SQLITE_AMALGAMATION: ${bebr_sqlite_dir}/defines.txt has ${bebr_d}; bebr needs it off")
  endif()
endforeach()

add_library(bebr_sqlite3 STATIC "${bebr_sqlite_dir}/sqlite3.c")
target_compile_definitions(bebr_sqlite3 PRIVATE ${BEBR_SQLITE_DEFINES})
# SQLite's own code: its warnings are not ours to fix (better-sqlite3 builds it with -w too).
target_compile_options(bebr_sqlite3 PRIVATE -w)
target_include_directories(bebr_sqlite3 PUBLIC "${bebr_sqlite_dir}")
find_package(Threads REQUIRED)
target_link_libraries(bebr_sqlite3 PUBLIC Threads::Threads ${CMAKE_DL_LIBS} m)
add_library(SQLite::SQLite3 ALIAS bebr_sqlite3)
set(SQLite3_INCLUDE_DIRS "${bebr_sqlite_dir}")
# The module initializers set their slots by name (3.44 appended xIntegrity to sqlite3_module),
# so the extension builds with -Werror on this SQLite's headers as on the system's.
set(BEBR_SQLITE_EXT_OPTIONS "")

set(BEBR_SQLITE_ORIGIN "SQLite ${SQLite3_VERSION} built from ${bebr_sqlite_dir}")
if(EXISTS "${bebr_sqlite_dir}/origin.txt")
  file(STRINGS "${bebr_sqlite_dir}/origin.txt" bebr_origin)
  string(REPLACE ";" "; " bebr_origin "${bebr_origin}")
  string(APPEND BEBR_SQLITE_ORIGIN " (${bebr_origin})")
endif()

# The command-line shell, when the directory has SQLite's shell.c: compiled against this
# sqlite3.h with the same options (its #ifdefs must agree with the library's) and linked to it.
set(BEBR_SQLITE_SHELL "")
if(EXISTS "${bebr_sqlite_dir}/shell.c")
  add_executable(bebr_sqlite3_shell "${bebr_sqlite_dir}/shell.c")
  target_compile_definitions(bebr_sqlite3_shell PRIVATE ${BEBR_SQLITE_DEFINES})
  target_compile_options(bebr_sqlite3_shell PRIVATE -w)
  target_link_libraries(bebr_sqlite3_shell PRIVATE bebr_sqlite3)
  set_target_properties(bebr_sqlite3_shell PROPERTIES OUTPUT_NAME sqlite3)
  set(BEBR_SQLITE_SHELL "$<TARGET_FILE:bebr_sqlite3_shell>")
endif()
message(STATUS "bebr: tests run on ${BEBR_SQLITE_ORIGIN}")
