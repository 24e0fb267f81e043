# What `cmake --install` and CPack put where (docs/install.md):
#   lib/<multiarch>/bebr.so                  the loadable extension (.load bebr)
#   lib/<multiarch>/libbebr.a, libbebr_core.a  for embedding: bebr::static
#   include/bebr.h                           the entry point's declaration
#   lib/<multiarch>/cmake/bebr/              find_package(bebr) -> bebr::static, bebr::core
#   lib/<multiarch>/pkgconfig/bebr.pc        pkg-config --cflags --libs bebr
#   share/doc/bebr/                          README.md, docs/install.md
# CPack's DEB generator (`cpack -G DEB` in the build directory) packs the same tree under /usr.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS bebr LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
# The static library, its package config and pkg-config file describe a build on the system
# SQLite; a build on an amalgamation (the tests' current SQLite) links a static SQLite of its
# own, which no export set holds: it installs the extension only.
if(NOT BEBR_SQLITE_AMALGAMATION)
  install(TARGETS bebr_static bebr_core EXPORT bebrTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(FILES ${PROJECT_SOURCE_DIR}/ext/include/bebr.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/install.md
          DESTINATION ${CMAKE_INSTALL_DOCDIR})

  # The installed bebr::static links SQLite::SQLite3 (CMake's FindSQLite3), found again by the
  # package config; in the build tree it links whichever SQLite cmake/sqlite.cmake chose.
  target_include_directories(bebr_static INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(bebr_static INTERFACE $<INSTALL_INTERFACE:SQLite::SQLite3>)

  set(bebr_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/bebr)
  install(EXPORT bebrTargets NAMESPACE bebr:: DESTINATION ${bebr_cmake_dir})
  configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/bebrConfig.cmake.in
                                ${PROJECT_BINARY_DIR}/bebrConfig.cmake INSTALL_DESTINATION ${bebr_cmake_dir})
  write_basic_package_version_file(${PROJECT_BINARY_DIR}/bebrConfigVersion.cmake COMPATIBILITY SameMinorVersion)
  install(FILES ${PROJECT_BINARY_DIR}/bebrConfig.cmake ${PROJECT_BINARY_DIR}/bebrConfigVersion.cmake
          DESTINATION ${bebr_cmake_dir})

  # pkg-config: libbebr.a needs libbebr_core.a, SQLite, the C++ runtime and, with OpenMP, libgomp.
  # Static libraries only, so all of it is in Libs. The prefix is found from the .pc file's own
  # place (${pcfiledir}): the tree may be installed anywhere (cmake --install --prefix).
  set(BEBR_PC_LIBS "-lstdc++ -lm")
  if(BEBR_WITH_OPENMP)
    string(PREPEND BEBR_PC_LIBS "-fopenmp ")
endif()
file(RELATIVE_PATH BEBR_PC_UP /x/${CMAKE_INSTALL_LIBDIR}/pkgconfig /x)
configure_file(${PROJECT_SOURCE_DIR}/cmake/bebr.pc.in ${PROJECT_BINARY_DIR}/bebr.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/bebr.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endif()

# ---- the .deb ----
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME bebr)
set(CPACK_PACKAGE_VENDOR "bebr")
set(CPACK_PACKAGE_CONTACT "bebr maintainers <maintainers@bebr.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "binary-embedding kNN search inside SQLite (loadable extension and static library)")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION database)
# The dependencies are stated, not computed by dpkg-shlibdeps: libc6 at the version
# scripts/check-symbols.sh holds the extension to (docs/install.md), and libgomp1 with OpenMP.
set(BEBR_GLIBC_MAX "2.36" CACHE STRING "the highest GLIBC_ symbol version bebr.so may need")
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6 (>= ${BEBR_GLIBC_MAX})")
if(BEBR_WITH_OPENMP)
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libgomp1")
endif()
if(NOT BEBR_STATIC_RUNTIME_ON)
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libstdc++6, libgcc-s1")
endif()
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "sqlite3, libsqlite3-dev (>= 3.38)")
include(CPack)
