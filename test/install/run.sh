#!/usr/bin/env bash
# Install-and-consume test (ctest: install_consumer).
#
# Usage: run.sh BUILD_DIR CONSUMER_SRC_DIR CMAKE CC LIBDIR VERSION [MANDIR]
#
# CONSUMER_SRC_DIR holds the consumer project: consumer.c and its
# CMakeLists.txt (examples/consumer/).
#
# Installs the build tree BUILD_DIR into a temporary prefix (with the man
# pages, into MANDIR, when the build made them), then builds the
# program consumer.c against that prefix four ways and runs each:
#   1. pkg-config, shared library;
#   2. pkg-config with pgcache-static.pc, linking libpgcache.a;
#   3. find_package(pgcache), pgcache::pgcache;
#   4. find_package(pgcache), pgcache::pgcache_static.
# Nothing outside BUILD_DIR is written; the prefix is removed afterwards.
set -euo pipefail

build=${1:?usage: run.sh BUILD_DIR CONSUMER_SRC_DIR CMAKE CC LIBDIR VERSION}
src=${2:?}
cmake=${3:?}
cc=${4:?}
libdir=${5:?}
version=${6:?}
mandir=${7:-share/man}

[[ -e $src/consumer.c && -e $src/CMakeLists.txt ]] ||
	{ echo "install_consumer: no consumer project in $src" >&2; exit 1; }

work=$(mktemp -d "$build/install-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

step() { printf '\n== install_consumer: %s\n' "$*"; }
die() { printf 'install_consumer: FAILED: %s\n' "$*" >&2; exit 1; }

if [[ $libdir = /* ]]; then
	libpath=$libdir
else
	libpath=$prefix/$libdir
fi

step "install into $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" ||
	{ cat "$work/install.log" >&2; die "cmake --install"; }
for f in "$prefix/include/pgcache/pgcache.h" "$libpath/libpgcache.a" \
	 "$libpath/libpgcache.so" "$libpath/pkgconfig/pgcache.pc" \
	 "$libpath/pkgconfig/pgcache-static.pc" \
	 "$libpath/cmake/pgcache/pgcacheConfig.cmake" \
	 "$libpath/cmake/pgcache/pgcacheConfigVersion.cmake" \
	 "$libpath/cmake/pgcache/pgcacheTargets.cmake"; do
	[[ -e $f ]] || die "not installed: ${f#"$prefix"/}"
done
# Before 1.0 the SONAME carries major.minor (every 0.x may change the ABI),
# from 1.0 on the major version alone.
major=${version%%.*}
minor=${version#*.}
minor=${minor%%.*}
if ((major == 0)); then
	want_soname=libpgcache.so.$major.$minor
else
	want_soname=libpgcache.so.$major
fi

# The man pages, if the build has them (PGC_BUILD_DOCS): the same set as in
# the build tree, and nothing else in section 3 or 7.
if [[ -d $build/docs/man/man3 ]]; then
	[[ $mandir = /* ]] || mandir=$prefix/$mandir
	want=$(cd "$build/docs/man" && ls man3/pgc_*.3 man7/libpgcache.7)
	have=$(cd "$mandir" && ls man3/* man7/*)
	[[ $have == "$want" ]] ||
		die "installed man pages differ from the build's: $(diff <(echo "$want") <(echo "$have") | head -5)"
	[[ -n $want ]] || die "the build has no man pages"
	step "man pages: $(wc -l <<<"$want") installed in ${mandir#"$prefix"/}"
fi

soname=$(readelf -d "$libpath/libpgcache.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[[ $soname == "$want_soname" ]] || die "SONAME is '$soname', expected $want_soname"
[[ -e $libpath/$soname ]] || die "$soname not installed"

# Fails unless the program runs, exits 0 and prints its success line.
run_consumer() {
	local exe=$1 out
	out=$("$exe") || die "$exe exited with status $?"
	printf '%s\n' "$out"
	[[ $out == *"libpgcache $version OK"* ]] || die "$exe did not report success"
}

# Fails if the program needs libpgcache.so (it should hold the static library).
check_static() {
	if readelf -d "$1" | grep -q 'NEEDED.*libpgcache'; then
		die "$1 was linked against libpgcache.so, not libpgcache.a"
	fi
}

export PKG_CONFIG_PATH=$libpath/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
cflags=(-std=c11 -Wall -Wextra -Werror -O1)

step "pkg-config: $(pkg-config --modversion pgcache)"
[[ $(pkg-config --modversion pgcache) == "$version" ]] ||
	die "pgcache.pc has version $(pkg-config --modversion pgcache), expected $version"

step "pkg-config, shared: $(pkg-config --cflags --libs pgcache)"
# shellcheck disable=SC2046 # pkg-config output is a list of words
"$cc" "${cflags[@]}" -o "$work/pc_shared" "$src/consumer.c" \
	$(pkg-config --cflags --libs pgcache) -Wl,-rpath,"$libpath"
readelf -d "$work/pc_shared" | grep -q "NEEDED.*$soname" ||
	die "pc_shared does not need $soname"
run_consumer "$work/pc_shared"

# pgcache-static.pc names the archive by path, so the linker takes it
# although the .so sits beside it, and lists its dependencies in Libs.
step "pkg-config, static: $(pkg-config --cflags --libs pgcache-static)"
[[ $(pkg-config --modversion pgcache-static) == "$version" ]] ||
	die "pgcache-static.pc has version $(pkg-config --modversion pgcache-static)"
# shellcheck disable=SC2046 # pkg-config output is a list of words
"$cc" "${cflags[@]}" -o "$work/pc_static" "$src/consumer.c" \
	$(pkg-config --cflags --libs pgcache-static)
check_static "$work/pc_static"
run_consumer "$work/pc_static"

# The package accepts only versions with the same ABI: before 1.0 the same
# major.minor, so a program written for an older 0.x must not find this one
# (SameMajorVersion would accept it).
if ((major == 0 && minor > 0)); then
	older=0.$((minor - 1))
	step "find_package(pgcache $older) must not find $version"
	mkdir -p "$work/older"
	cat >"$work/older/CMakeLists.txt" <<-EOF
		cmake_minimum_required(VERSION 3.25)
		project(pgcache_older LANGUAGES NONE)
		find_package(pgcache $older QUIET)
		if(pgcache_FOUND)
		  message(FATAL_ERROR "found pgcache \${pgcache_VERSION} for $older")
		endif()
	EOF
	"$cmake" -S "$work/older" -B "$work/older/build" -DCMAKE_PREFIX_PATH="$prefix" \
		>"$work/older.log" 2>&1 ||
		{ cat "$work/older.log" >&2; die "find_package(pgcache $older) accepted $version"; }
fi

step "find_package(pgcache)"
"$cmake" -S "$src" -B "$work/cmake-build" \
	-DCMAKE_PREFIX_PATH="$prefix" \
	-DCMAKE_C_COMPILER="$cc" \
	-DCMAKE_BUILD_TYPE=Debug \
	-DPGC_EXPECTED_VERSION="$version" >"$work/configure.log" ||
	{ cat "$work/configure.log" >&2; die "configuring the find_package consumer"; }
"$cmake" --build "$work/cmake-build" >"$work/build.log" 2>&1 ||
	{ cat "$work/build.log" >&2; die "building the find_package consumers"; }
readelf -d "$work/cmake-build/consumer_shared" | grep -q "NEEDED.*$soname" ||
	die "consumer_shared does not need $soname"
check_static "$work/cmake-build/consumer_static"
run_consumer "$work/cmake-build/consumer_shared"
run_consumer "$work/cmake-build/consumer_static"

printf '\ninstall_consumer: 4 consumers built and run: OK\n'
