# Tests that need several NUMA nodes, run inside qemu virtual machines with
# emulated nodes by scripts/numa-vm.sh (the machines that build and test
# libpgcache have a single node). Included from test/CMakeLists.txt.
#
#   pgc_add_static_test(TARGET name SOURCES src... [INTERNAL])
#       A fully static test executable: the sources, test/pgc_test.c, the
#       static library pgcache_static and the static archives of Check,
#       libnuma and liburcu. INTERNAL adds the private headers of lib/ (as
#       the pgcache_internal target does for the ordinary tests).
#   pgc_add_numa_vm_test(NAME n TOPOLOGY 2node|4node TARGETS t... [TIMEOUT s]
#                        [ENV NAME=VALUE...])
#       A ctest test that boots a VM of that topology and runs the static
#       executables in it, in order; ENV is passed into the VM. TIMEOUT bounds
#       the VM run (default 1200 s: twice the 600 s limit of a Check test
#       case, so that Check names a test that hangs); the ctest timeout is
#       a minute more.
#       Labels: numa-vm, nosan.
#
# PGC_NUMA_VM_TESTS=OFF turns both functions into no-ops, for developers
# without qemu. When it is ON the tests are always added: a missing qemu,
# kernel or busybox makes them fail, never skip (scripts/setup.sh installs
# them). Sanitizer builds (PGC_SANITIZE non-empty) build no static binaries
# and add no VM tests: the sanitizer runtimes do not link statically.

option(PGC_NUMA_VM_TESTS "Run the multi-node NUMA tests in qemu VMs (needs qemu-system-x86, a kernel, busybox-static, cpio)" ON)

set(_pgc_vm_enabled OFF)
if(PGC_NUMA_VM_TESTS AND "${PGC_SANITIZE}" STREQUAL "")
  set(_pgc_vm_enabled ON)
endif()

if(_pgc_vm_enabled)
  # The imported targets of pkg_check_modules name shared libraries, which a
  # -static link cannot use: find the archives themselves.
  set(_pgc_vm_archives "")
  set(_pgc_vm_missing "")
  set(_pgc_vm_libs check subunit numa urcu-bp urcu-cds urcu-common)
  if(PGC_HAVE_URING)
    list(APPEND _pgc_vm_libs uring)
  endif()
  foreach(_lib IN LISTS _pgc_vm_libs)
    string(MAKE_C_IDENTIFIER "PGC_VM_LIB_${_lib}" _var)
    find_library(${_var} NAMES lib${_lib}.a)
    if(${_var})
      list(APPEND _pgc_vm_archives "${${_var}}")
    else()
      list(APPEND _pgc_vm_missing "lib${_lib}.a")
    endif()
  endforeach()
  if(_pgc_vm_missing)
    message(FATAL_ERROR
      "PGC_NUMA_VM_TESTS: static archives not found: ${_pgc_vm_missing} "
      "(Debian packages check, libsubunit-dev, libnuma-dev, liburcu-dev, liburing-dev); "
      "or configure with -DPGC_NUMA_VM_TESTS=OFF")
  endif()
  message(STATUS "pgcache: NUMA VM tests on (scripts/numa-vm.sh)")

  # test/pgc_test.c once, for every static test. It links nothing: the
  # archives come last on each executable's link line.
  add_library(pgc_vm_test_common STATIC "${PROJECT_SOURCE_DIR}/test/pgc_test.c")
  target_include_directories(pgc_vm_test_common PUBLIC
    "${PROJECT_SOURCE_DIR}/test"
    "$<TARGET_PROPERTY:pgcache_static,INTERFACE_INCLUDE_DIRECTORIES>"
    ${CHECK_INCLUDE_DIRS})
  target_compile_options(pgc_vm_test_common PUBLIC ${CHECK_CFLAGS_OTHER})
  target_compile_features(pgc_vm_test_common PUBLIC c_std_11)
endif()

function(pgc_add_static_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "INTERNAL" "TARGET" "SOURCES")
  if(NOT arg_TARGET OR NOT arg_SOURCES)
    message(FATAL_ERROR "pgc_add_static_test: TARGET and SOURCES are required")
  endif()
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "pgc_add_static_test: unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT _pgc_vm_enabled)
    return()
  endif()

  add_executable(${arg_TARGET} ${arg_SOURCES})
  if(arg_INTERNAL)
    target_include_directories(${arg_TARGET} PRIVATE "${PROJECT_SOURCE_DIR}/lib")
    target_compile_definitions(${arg_TARGET} PRIVATE _GNU_SOURCE)
  endif()
  # The archive by path, not the target: linking pgcache_static would bring
  # in its dependencies as shared libraries.
  add_dependencies(${arg_TARGET} pgcache_static)
  target_link_libraries(${arg_TARGET} PRIVATE
    pgc_vm_test_common
    "$<TARGET_FILE:pgcache_static>"
    ${_pgc_vm_archives}
    m rt)
  target_link_options(${arg_TARGET} PRIVATE -static -pthread)
endfunction()

function(pgc_add_numa_vm_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME;TOPOLOGY;TIMEOUT" "TARGETS;ENV")
  if(NOT arg_NAME OR NOT arg_TARGETS)
    message(FATAL_ERROR "pgc_add_numa_vm_test: NAME and TARGETS are required")
  endif()
  if(NOT arg_TOPOLOGY MATCHES "^(2node|4node)$")
    message(FATAL_ERROR "pgc_add_numa_vm_test(${arg_NAME}): TOPOLOGY must be 2node or 4node")
  endif()
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "pgc_add_numa_vm_test(${arg_NAME}): unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 1200)
  endif()
  if(NOT _pgc_vm_enabled)
    return()
  endif()

  set(_cmd bash "${PROJECT_SOURCE_DIR}/scripts/numa-vm.sh"
    --topology ${arg_TOPOLOGY} --timeout ${arg_TIMEOUT})
  foreach(_e IN LISTS arg_ENV)
    list(APPEND _cmd --env "${_e}")
  endforeach()
  list(APPEND _cmd --)
  foreach(_t IN LISTS arg_TARGETS)
    list(APPEND _cmd "$<TARGET_FILE:${_t}>")
  endforeach()

  add_test(NAME ${arg_NAME} COMMAND ${_cmd})
  math(EXPR _ctest_timeout "${arg_TIMEOUT} + 60")
  # PROCESSORS 2: the VM has two vCPUs, each a busy host thread under TCG;
  # running other tests beside it only makes both slower.
  set_tests_properties(${arg_NAME} PROPERTIES
    LABELS "numa-vm;nosan"
    TIMEOUT ${_ctest_timeout}
    PROCESSORS 2)
endfunction()
