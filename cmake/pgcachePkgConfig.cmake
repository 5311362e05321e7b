# Generates and installs pgcache.pc and pgcache-static.pc.
#
# The prefix in the file is the one the library is installed to, which may
# differ from CMAKE_INSTALL_PREFIX at configure time (`cmake --install build
# --prefix DIR`). So the file is configured in two steps: now, with every
# value but the prefix, and at install time, when CMAKE_INSTALL_PREFIX holds
# the prefix of that install.

if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(PGC_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(PGC_PC_LIBDIR "\${exec_prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(PGC_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(PGC_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
# liburing, when the library uses it (PGC_HAVE_URING).
set(PGC_PC_URING_MOD "")
set(PGC_PC_URING_LIB "")
if(PGC_HAVE_URING)
  set(PGC_PC_URING_MOD " liburing")
  set(PGC_PC_URING_LIB " -luring")
endif()
# Left as a placeholder for the install-time step below.
set(PGC_PC_PREFIX "@CMAKE_INSTALL_PREFIX@")

# pgcache.pc: the shared library (the static one with --static);
# pgcache-static.pc: the static library by path, its dependencies in Libs,
# for a program that wants libpgcache.a although the .so sits beside it.
set(_pgc_pc_modules pgcache)
if(PGC_BUILD_STATIC)
  list(APPEND _pgc_pc_modules pgcache-static)
endif()
foreach(_pgc_pc IN LISTS _pgc_pc_modules)
  set(_pgc_pc_template "${CMAKE_CURRENT_BINARY_DIR}/${_pgc_pc}.pc.template")
  set(_pgc_pc_file "${CMAKE_CURRENT_BINARY_DIR}/${_pgc_pc}.pc")
  configure_file("${CMAKE_CURRENT_LIST_DIR}/${_pgc_pc}.pc.in" "${_pgc_pc_template}" @ONLY)
  install(CODE "configure_file(\"${_pgc_pc_template}\" \"${_pgc_pc_file}\" @ONLY)")
  install(FILES "${_pgc_pc_file}" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
endforeach()

unset(_pgc_pc)
unset(_pgc_pc_modules)
unset(_pgc_pc_template)
unset(_pgc_pc_file)
