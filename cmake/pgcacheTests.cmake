# Tests of the build and packaging itself, registered with ctest next to the
# unit tests of test/CMakeLists.txt:
#   exported_symbols  the shared library exports every PGC_API function of
#                     the public headers and nothing but pgc_ symbols;
#   install_consumer  installs the build into a temporary prefix and builds
#                     separate programs against it with pkg-config and with
#                     find_package (test/install/run.sh, examples/consumer/);
#   subproject_consumer  builds libpgcache inside a parent project with
#                     add_subdirectory and with FetchContent, and with only
#                     the static library (test/install/subproject.sh);
#   docs              Doxygen runs on the public headers without a warning
#                     (the man pages have their own test, man_pages, in
#                     docs/CMakeLists.txt).
# None of them is meaningful under sanitizers (the consumers are built
# without them, and the symbol table gains nothing but noise), hence the
# label nosan, which the sanitizer runs of scripts/setup.sh exclude.

add_test(NAME exported_symbols
  COMMAND bash "${PROJECT_SOURCE_DIR}/scripts/check-exports.sh"
          "$<TARGET_FILE:pgcache>" "${PROJECT_SOURCE_DIR}/include/pgcache")
set_tests_properties(exported_symbols PROPERTIES
  LABELS "packaging;nosan"
  TIMEOUT 60)

add_test(NAME install_consumer
  COMMAND bash "${PROJECT_SOURCE_DIR}/test/install/run.sh"
          "${PROJECT_BINARY_DIR}"
          "${PROJECT_SOURCE_DIR}/examples/consumer"
          "${CMAKE_COMMAND}"
          "${CMAKE_C_COMPILER}"
          "${CMAKE_INSTALL_LIBDIR}"
          "${PROJECT_VERSION}"
          "${CMAKE_INSTALL_MANDIR}")
set_tests_properties(install_consumer PROPERTIES
  LABELS "packaging;nosan"
  TIMEOUT 300
  RESOURCE_LOCK pgcache_build_tree)

add_test(NAME subproject_consumer
  COMMAND bash "${PROJECT_SOURCE_DIR}/test/install/subproject.sh"
          "${PROJECT_BINARY_DIR}"
          "${PROJECT_SOURCE_DIR}"
          "${CMAKE_COMMAND}"
          "${CMAKE_C_COMPILER}"
          "${PROJECT_VERSION}")
set_tests_properties(subproject_consumer PROPERTIES
  LABELS "packaging;nosan"
  TIMEOUT 600)

if(PGC_BUILD_DOCS AND TARGET Doxygen::doxygen)
  add_test(NAME docs
    COMMAND "${CMAKE_COMMAND}" --build "${PROJECT_BINARY_DIR}" --target docs)
  set_tests_properties(docs PROPERTIES
    LABELS "docs;nosan"
    TIMEOUT 300
    RESOURCE_LOCK pgcache_build_tree)
endif()
