#!/usr/bin/env bash
# Smoke test of blockd and blockd-load (ctest: blockd_smoke).
#
# Usage: smoke.sh BLOCKD BLOCKD_LOAD WORKDIR [REQUESTS] [MODE]
#
# MODE "loop" runs every server with --event-loop (one thread, the
# library's asynchronous interface) and the workloads with --depth 8
# (replies taken in any order); the default, "threads", a thread per
# connection and one request at a time.
#
#   1. blockd creates a fresh 16 MiB image and serves it with a 4 MiB cache,
#      a quarter of it (so that reclaim evicts and writes dirty blocks back
#      during the run), on 127.0.0.1, on a port the kernel chooses, which it
#      writes to a file;
#   2. blockd-load runs REQUESTS (default 20000) verified requests on 4
#      connections, flushes, reads the whole image back and writes a manifest
#      of what the image must hold;
#   3. SIGTERM stops blockd, which writes everything back and must exit 0;
#   4. blockd-load --check-image compares the image file with the manifest
#      byte for byte, without a server;
#   5. a new blockd (--idle-exit) serves the image again, cold: blockd-load
#      --check reads it all through the cache, and the server must exit 0 by
#      itself once the client is gone;
#   6. a blockd with --max-requests 10 must exit 0 after a client's 9
#      requests and final flush.
# Everything happens in WORKDIR, which is emptied first. Exit status 77
# (skipped) if the file system of WORKDIR refuses O_DIRECT.
set -euo pipefail

blockd=${1:?usage: smoke.sh BLOCKD BLOCKD_LOAD WORKDIR [REQUESTS]}
load=${2:?}
work=${3:?}
requests=${4:-20000}
mode=${5:-threads}
server_mode=()
load_mode=()
case $mode in
threads) ;;
loop) server_mode=(--event-loop --queue-depth 16); load_mode=(--depth 8) ;;
*) echo "smoke.sh: unknown mode '$mode'" >&2; exit 2 ;;
esac

rm -rf "$work"
mkdir -p "$work"
img=$work/disk.img
manifest=$work/manifest
server_pid=

step() { printf '\n== blockd_smoke: %s\n' "$*"; }
die() { printf 'blockd_smoke: FAILED: %s\n' "$*" >&2; exit 1; }

# Whatever happens, no server outlives the test.
cleanup() {
	if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -KILL "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT

# start_server NAME ARGS...: starts blockd in the background, waits for its
# port file; the log goes to WORKDIR/NAME.log.
start_server() {
	local name=$1
	shift
	rm -f "$work/$name.port"
	"$blockd" --image "$img" --port 0 --port-file "$work/$name.port" "${server_mode[@]}" "$@" \
		>"$work/$name.log" 2>&1 &
	server_pid=$!
	for _ in $(seq 100); do
		[[ -s $work/$name.port ]] && return 0
		if ! kill -0 "$server_pid" 2>/dev/null; then
			cat "$work/$name.log" >&2
			# The one resource that may truly be missing: O_DIRECT (tmpfs
			# before Linux 6.6, some FUSE file systems).
			if grep -q "with O_DIRECT: invalid argument" "$work/$name.log"; then
				echo "blockd_smoke: SKIPPED: the file system of $work refuses O_DIRECT"
				exit 77
			fi
			die "blockd ($name) did not start"
		fi
		sleep 0.1
	done
	die "blockd ($name) wrote no port file in 10 s"
}

# wait_server NAME SECONDS: the server must exit 0 within SECONDS.
wait_server() {
	local name=$1 limit=$2 status=0
	for _ in $(seq $((limit * 10))); do
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$server_pid" 2>/dev/null; then
		cat "$work/$name.log" >&2
		die "blockd ($name) still running after $limit s"
	fi
	wait "$server_pid" || status=$?
	server_pid=
	cat "$work/$name.log"
	((status == 0)) || die "blockd ($name) exited with status $status"
}

step "start blockd on a fresh image ($mode)"
start_server serve --size 16M --cache 4M --max-clients 8
echo "blockd listens on port $(cat "$work/serve.port")"

step "workload: $requests requests"
"$load" --port-file "$work/serve.port" --connections 4 --requests "$requests" \
	--write-pct 50 --flush-pct 1 --fua-pct 1 --seq-pct 30 --max-blocks 16 \
	--fresh --manifest "$manifest" "${load_mode[@]}" || die "blockd-load failed"

step "stop blockd with SIGTERM: it flushes and exits 0"
kill -TERM "$server_pid"
wait_server serve 20
grep -q "final flush done" "$work/serve.log" || die "blockd did not report its final flush"

step "check the image file against the manifest"
"$load" --check-image "$img" --manifest "$manifest" || die "the image does not match"

step "restart blockd (--idle-exit 3), check the image through its cold cache"
start_server check --cache 4M --idle-exit 3
"$load" --port-file "$work/check.port" --connections 2 --check --manifest "$manifest" ||
	die "the check through blockd failed"
wait_server check 15
grep -q "idle-exit" "$work/check.log" || die "blockd did not stop on --idle-exit"

step "--max-requests: 9 requests and a final flush, then blockd exits"
start_server limit --cache 4M --max-requests 10
"$load" --port-file "$work/limit.port" --connections 1 --requests 9 --no-verify \
	--write-pct 50 --flush-pct 0 "${load_mode[@]}" || die "blockd-load against --max-requests failed"
wait_server limit 15
grep -q "max-requests" "$work/limit.log" || die "blockd did not stop on --max-requests"

printf '\nblockd_smoke: PASSED\n'
