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
#                     docs/CMakeLists.txt);
#   cxx_header_<name>, cxx_api  the public headers compile as C++17 with
#                     -Wall -Wextra -Werror, and a C++ program links and
#                     runs (below).
# The packaging and docs tests are not meaningful under sanitizers (the
# consumers are built without them, and the symbol table gains nothing but
# noise), hence the label nosan, which the sanitizer runs of
# scripts/setup.sh exclude. The C++ tests (label cxx) run in every build.

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

# --- The public headers from C++ ----------------------------------------------
#
#   cxx_header_<name>  each public header alone (included twice, so its
#                     include guard is checked too) compiles as C++17 with
#                     -Wall -Wextra -Werror: a C-only construct or a C++
#                     keyword used as a name (a parameter called `private`)
#                     fails it;
#   cxx_api           test/cxx_api.cpp, built with the same flags and linked
#                     with the static library, runs: a declaration without
#                     extern "C" fails its link.
# The headers are the configure-time glob of the top-level CMakeLists.txt
# (CONFIGURE_DEPENDS), so a new header gets its test at the next build. A
# machine without a C++ compiler gets a cxx_headers test that fails: the
# tests are never skipped for something CI can install (g++ comes with
# build-essential).
include(CheckLanguage)
check_language(CXX)
if(CMAKE_CXX_COMPILER)
  enable_language(CXX)
  set(_pgc_cxx_flags -std=c++17 -Wall -Wextra -Werror)
  set(_pgc_cxx_dir "${PROJECT_BINARY_DIR}/cxx_headers")
  foreach(_hdr IN LISTS PGC_PUBLIC_HEADERS)
    get_filename_component(_name "${_hdr}" NAME_WE)
    set(_tu "${_pgc_cxx_dir}/${_name}.cpp")
    file(CONFIGURE OUTPUT "${_tu}"
         CONTENT "#include <pgcache/${_name}.h>\n#include <pgcache/${_name}.h>\n"
         NEWLINE_STYLE UNIX)
    add_test(NAME cxx_header_${_name}
      COMMAND "${CMAKE_CXX_COMPILER}" ${_pgc_cxx_flags} -fsyntax-only
              -I "${PROJECT_SOURCE_DIR}/include" "${_tu}")
    set_tests_properties(cxx_header_${_name} PROPERTIES LABELS "unit;cxx" TIMEOUT 60)
  endforeach()
  add_executable(cxx_api "${PROJECT_SOURCE_DIR}/test/cxx_api.cpp")
  target_compile_options(cxx_api PRIVATE -Wall -Wextra -Werror)
  set_target_properties(cxx_api PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON
                        CXX_EXTENSIONS OFF)
  target_link_libraries(cxx_api PRIVATE pgcache_static)
  add_test(NAME cxx_api COMMAND cxx_api)
  set_tests_properties(cxx_api PROPERTIES LABELS "unit;cxx" TIMEOUT 60)
else()
  add_test(NAME cxx_headers
    COMMAND "${CMAKE_COMMAND}" -E echo "cxx_headers: no C++ compiler found (install g++)")
  set_tests_properties(cxx_headers PROPERTIES LABELS "unit;cxx"
                       FAIL_REGULAR_EXPRESSION "no C\\+\\+ compiler")
endif()
