#!/usr/bin/env bash
# Sets up a Debian 12 machine for libpgcache and builds it. Every build goes
# under build/ in the source tree (ignored by git).
#
#   bash scripts/setup.sh demo [DEMO ARGS...]
#       installs the missing Debian packages the library and the demo need
#       (compiler, CMake, pkg-config, liburcu, libnuma: nothing else),
#       builds the library, the examples and the man pages (the HTML too
#       if Doxygen happens to be there) in build/demo, and runs
#       build/demo/examples/pgcache-demo. `cmake --install build/demo`
#       installs the library afterwards.
#   bash scripts/setup.sh test
#       installs the missing Debian packages the tests need as well, then
#       runs the whole test suite:
#         1. build/ci/normal  normal build with -Werror, every ctest test,
#                             including the multi-node NUMA tests (label
#                             numa-vm), which scripts/numa-vm.sh runs in qemu
#                             VMs with 2 and 4 emulated NUMA nodes;
#         2. build/ci/normal  again: valgrind's memcheck on the core suites
#                             and a short pgc-fsx run (tests labelled
#                             valgrind);
#         2b. build/ci/nouring  the library without liburing (-DPGC_WITH_URING=OFF):
#                             the unit and example tests;
#         3. build/ci/asan    AddressSanitizer + UndefinedBehaviorSanitizer,
#                             every test not labelled nosan;
#         4. build/ci/tsan    ThreadSanitizer, the tests labelled concurrency;
#         5. build/ci/fuzz    clang, ASan+UBSan: the libFuzzer harness of
#                             fuzz/ for 120 s from fuzz/corpus (every other
#                             stage replays the corpus as the test
#                             fuzz_corpus).
#       Every stage runs even if an earlier one failed; the exit status is
#       nonzero if any stage failed.
#
# Run it from anywhere as root (or as a user with sudo, if packages are
# missing). Packages are installed only when dpkg says they are missing.
# The VM tests need qemu, a kernel, busybox-static and cpio; they are never
# skipped here; a developer without qemu may configure a build of their own
# with -DPGC_NUMA_VM_TESTS=OFF.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

# What building the library and running the demo need.
demo_packages=(
	build-essential # gcc, make, binutils
	cmake
	pkg-config
	libnuma-dev
	liburcu-dev
	liburing-dev # io_uring in the file store (optional: the build works without)
)

# What the tests need besides.
test_packages=(
	check
	valgrind # the memcheck stage
	clang-14 # the fuzz stage: libFuzzer's runtime comes with clang's
	libclang-rt-14-dev
	doxygen
	graphviz
	man-db # the man_pages test renders every page with man(1) and groff
	groff-base
	# The NUMA VM tests (scripts/numa-vm.sh): qemu in TCG emulation, a
	# kernel to boot (/boot/vmlinuz-*), a static busybox for the initramfs.
	qemu-system-x86
	linux-image-amd64
	busybox-static
	cpio
)

usage() {
	echo "usage: bash scripts/setup.sh demo [DEMO ARGS...] | test" >&2
	exit 2
}

log() { printf '\n=== pgc-setup: %s\n' "$*"; }

# install_missing_packages PACKAGE...
install_missing_packages() {
	if ! command -v dpkg-query >/dev/null 2>&1; then
		log "no dpkg: not a Debian system, skipping package installation"
		return
	fi
	local missing=() p
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$'; then
			missing+=("$p")
		fi
	done
	if ((${#missing[@]} == 0)); then
		log "all required Debian packages are installed"
		return
	fi
	log "installing: ${missing[*]}"
	local sudo=()
	if ((EUID != 0)); then
		command -v sudo >/dev/null 2>&1 ||
			{ echo "pgc-setup: run as root to install ${missing[*]}" >&2; exit 1; }
		sudo=(sudo)
	fi
	"${sudo[@]}" apt-get update
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "${missing[@]}"
}

jobs=$(nproc 2>/dev/null || echo 2)

# The functions below chain their steps with && and return a status rather
# than rely on `set -e`, which bash ignores inside an `if` condition.

configure_and_build() {
	local dir=$1
	shift
	log "configure $dir: $*" &&
		cmake -S "$root" -B "$root/$dir" "$@" &&
		log "build $dir" &&
		cmake --build "$root/$dir" --parallel "$jobs"
}

# Totals over every ctest run, for the closing line.
tests_passed=0
tests_failed=0

# run_ctest DIR [CTEST ARGS...]: runs ctest in DIR and adds up its results.
run_ctest() {
	local dir=$1 out rc=0 line
	shift
	out=$(mktemp)
	log "ctest in $dir: $*"
	(cd "$root/$dir" && ctest --output-on-failure --no-tests=error \
		--timeout 900 --parallel "$jobs" "$@") 2>&1 | tee "$out" || rc=$?
	line=$(grep -E '[0-9]+ tests failed out of [0-9]+' "$out" | tail -n 1 || true)
	if [[ $line =~ ([0-9]+)\ tests\ failed\ out\ of\ ([0-9]+) ]]; then
		tests_failed=$((tests_failed + BASH_REMATCH[1]))
		tests_passed=$((tests_passed + BASH_REMATCH[2] - BASH_REMATCH[1]))
	fi
	rm -f "$out"
	return "$rc"
}

# Every option is given explicitly, so that settings cached in a build
# directory by earlier hand-made configurations cannot drop part of a stage.
stage_normal() {
	configure_and_build build/ci/normal -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPGC_WERROR=ON \
		-DPGC_SANITIZE= -DPGC_BUILD_TESTS=ON -DPGC_BUILD_EXAMPLES=ON \
		-DPGC_BUILD_BENCH=ON -DPGC_BUILD_DOCS=ON -DPGC_NUMA_VM_TESTS=ON \
		-DPGC_WITH_URING=ON &&
		run_ctest build/ci/normal -LE valgrind
}

# The library built without liburing (the file store on preadv/pwritev,
# contexts on their workers alone): the unit and example tests.
stage_nouring() {
	configure_and_build build/ci/nouring -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPGC_WERROR=ON \
		-DPGC_SANITIZE= -DPGC_BUILD_TESTS=ON -DPGC_BUILD_EXAMPLES=ON \
		-DPGC_BUILD_BENCH=OFF -DPGC_BUILD_DOCS=OFF -DPGC_NUMA_VM_TESTS=OFF \
		-DPGC_WITH_URING=OFF &&
		run_ctest build/ci/nouring -L "unit|examples" -LE valgrind
}

# valgrind's memcheck on the core suites of the normal build (the tests
# labelled valgrind by test/CMakeLists.txt); run after stage_normal.
stage_valgrind() {
	run_ctest build/ci/normal -L valgrind
}

# Sanitizer builds are Debug (internal assertions on) at -O1 (for speed).
stage_asan() {
	configure_and_build build/ci/asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-O1 \
		-DPGC_SANITIZE="address;undefined" -DPGC_BUILD_TESTS=ON \
		-DPGC_BUILD_EXAMPLES=ON -DPGC_BUILD_DOCS=OFF -DPGC_BUILD_BENCH=OFF &&
		ASAN_OPTIONS=halt_on_error=1:print_stacktrace=1:detect_leaks=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		run_ctest build/ci/asan -LE nosan
}

# Only the tests labelled concurrency (by test/CMakeLists.txt) run here;
# test/CMakeLists.txt gives them TSAN_OPTIONS with test/tsan.supp.
stage_tsan() {
	configure_and_build build/ci/tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-O1 \
		-DPGC_SANITIZE=thread -DPGC_BUILD_TESTS=ON \
		-DPGC_BUILD_EXAMPLES=OFF -DPGC_BUILD_DOCS=OFF -DPGC_BUILD_BENCH=OFF &&
		run_ctest build/ci/tsan -L concurrency -LE nosan
}

# libFuzzer (fuzz/): 120 s of fuzz_ops from the committed corpus; a crash,
# a sanitizer report, a leak or a 10 s timeout fails the stage, and the
# input is saved in build/ci/fuzz/fuzz-artifacts/ (fuzz/README.md says what to
# do with it).
stage_fuzz() {
	local work rc=0
	configure_and_build build/ci/fuzz -DCMAKE_C_COMPILER=clang-14 \
		-DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-O1 \
		-DPGC_SANITIZE="address;undefined" -DPGC_FUZZ=ON -DPGC_BUILD_TESTS=ON \
		-DPGC_BUILD_EXAMPLES=OFF -DPGC_BUILD_DOCS=OFF -DPGC_BUILD_BENCH=OFF \
		-DPGC_NUMA_VM_TESTS=OFF || return
	work=$(mktemp -d) && mkdir -p "$root/build/ci/fuzz/fuzz-artifacts" || return
	log "fuzz_ops for 120 s from fuzz/corpus"
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"$root/build/ci/fuzz/fuzz/fuzz_ops" -max_total_time=120 -max_len=512 \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$root/build/ci/fuzz/fuzz-artifacts/" \
		"$work" "$root/fuzz/corpus" || rc=$?
	rm -rf "$work"
	return "$rc"
}

mode=${1:-}
case $mode in
demo)
	shift
	install_missing_packages "${demo_packages[@]}"
	log "configure build/demo"
	cmake -S "$root" -B "$root/build/demo" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DPGC_SANITIZE= -DPGC_BUILD_EXAMPLES=ON -DPGC_BUILD_TESTS=OFF \
		-DPGC_BUILD_BENCH=OFF -DPGC_BUILD_DOCS=ON
	log "build the library, the examples and the man pages"
	cmake --build "$root/build/demo" --parallel "$jobs"
	log "run build/demo/examples/pgcache-demo $*"
	exec "$root/build/demo/examples/pgcache-demo" "$@"
	;;
test)
	[[ $# -eq 1 ]] || usage
	install_missing_packages "${demo_packages[@]}" "${test_packages[@]}"
	failed_stages=()
	for s in normal valgrind nouring asan tsan fuzz; do
		if stage_"$s"; then
			log "stage $s: OK"
		else
			log "stage $s: FAILED"
			failed_stages+=("$s")
		fi
	done
	echo
	if ((${#failed_stages[@]})); then
		echo "pgc-setup: FAILED stages: ${failed_stages[*]}"
	else
		echo "pgc-setup: all stages passed (normal, valgrind, nouring, asan+ubsan, tsan, fuzz)"
	fi
	echo "tests: $tests_passed passed, $tests_failed failed"
	((${#failed_stages[@]} == 0))
	;;
*)
	usage
	;;
esac
