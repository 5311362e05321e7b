#!/usr/bin/env bash
# Subproject test (ctest: subproject_consumer).
#
# Usage: subproject.sh BUILD_DIR SOURCE_DIR CMAKE CC VERSION
#
# Builds the parent project of test/install/subproject/ three ways, each in
# a fresh build tree under BUILD_DIR, and runs its consumer programs:
#   1. add_subdirectory, both libraries;
#   2. FetchContent from the local source tree, both libraries;
#   3. add_subdirectory with PGC_BUILD_SHARED=OFF: pgcache::pgcache is then
#      the static library.
# The parent fails to configure if the subproject brought tests, examples,
# benchmarks or docs along.
set -euo pipefail

build=${1:?usage: subproject.sh BUILD_DIR SOURCE_DIR CMAKE CC VERSION}
src=${2:?}
cmake=${3:?}
cc=${4:?}
version=${5:?}

work=$(mktemp -d "$build/subproject-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

step() { printf '\n== subproject_consumer: %s\n' "$*"; }
die() { printf 'subproject_consumer: FAILED: %s\n' "$*" >&2; exit 1; }

run_consumer() {
	local exe=$1 out
	out=$("$exe") || die "$exe exited with status $?"
	printf '%s\n' "$out"
	[[ $out == *"libpgcache $version OK"* ]] || die "$exe did not report success"
}

needs_so() { readelf -d "$1" | grep -q 'NEEDED.*libpgcache'; }

# parent NAME HOW [CMAKE ARGS...]
parent() {
	local name=$1 how=$2 dir=$work/$1
	shift 2
	step "$name: $how $*"
	"$cmake" -S "$src/test/install/subproject" -B "$dir" -DCMAKE_C_COMPILER="$cc" \
		-DCMAKE_BUILD_TYPE=Release -DPGC_SOURCE_DIR="$src" -DPGC_HOW="$how" \
		-DPGC_CONSUMER_C="$src/examples/consumer/consumer.c" "$@" >"$dir.configure.log" 2>&1 ||
		{ cat "$dir.configure.log" >&2; die "$name: configure"; }
	"$cmake" --build "$dir" --parallel 2 >"$dir.build.log" 2>&1 ||
		{ cat "$dir.build.log" >&2; die "$name: build"; }
}

parent subdir add_subdirectory
needs_so "$work/subdir/consumer" || die "consumer does not need libpgcache.so"
needs_so "$work/subdir/consumer_static" && die "consumer_static needs libpgcache.so"
run_consumer "$work/subdir/consumer"
run_consumer "$work/subdir/consumer_static"

parent fetch FetchContent
run_consumer "$work/fetch/consumer"
run_consumer "$work/fetch/consumer_static"

parent static_only add_subdirectory -DPGC_BUILD_SHARED=OFF
needs_so "$work/static_only/consumer" && die "with PGC_BUILD_SHARED=OFF the consumer needs libpgcache.so"
[[ ! -e $(find "$work/static_only" -name 'libpgcache.so*' -print -quit) ]] ||
	die "PGC_BUILD_SHARED=OFF built libpgcache.so"
run_consumer "$work/static_only/consumer"

printf '\nsubproject_consumer: 3 parent projects built and run: OK\n'
