#!/usr/bin/env bash
# blockd on a full disk (ctest: blockd_full_disk).
#
# Usage: full_disk.sh BLOCKD BLOCKD_LOAD WORKDIR [REQUESTS]
#
#   1. mounts a 2 MiB tmpfs on WORKDIR/fs (this needs root; without it the
#      test is skipped, exit 77, except under CI=true where it fails);
#   2. blockd serves a fresh 16 MiB image on it with a 1 MiB cache: the
#      file system fills up long before the image does;
#   3. blockd-load --full-disk runs REQUESTS (default 3000) verified requests
#      on 2 connections: writes may be refused with ENOSPC, any other
#      failure, any failed read and any mismatch fail the test;
#   4. blockd's log must stay small (at most 100 lines): the library logs a
#      mapping's first write failure and then a summary every 10 s, blockd
#      the first failure of each error;
#   5. the file system grows (remount with 64 MiB), SIGTERM makes blockd
#      write everything back, and it must exit 0;
#   6. the image file must hold every write that was acknowledged.
set -euo pipefail

blockd=${1:?usage: full_disk.sh BLOCKD BLOCKD_LOAD WORKDIR [REQUESTS] [MODE]}
load=${2:?}
work=${3:?}
requests=${4:-3000}
# MODE "loop": blockd --event-loop and blockd-load --depth 8 (see smoke.sh).
mode=${5:-threads}
server_mode=()
load_mode=()
case $mode in
threads) ;;
loop) server_mode=(--event-loop --queue-depth 16); load_mode=(--depth 8) ;;
*) echo "full_disk.sh: unknown mode '$mode'" >&2; exit 2 ;;
esac

fs=$work/fs
server_pid=
mounted=

step() { printf '\n== blockd_full_disk: %s\n' "$*"; }
die() { printf 'blockd_full_disk: FAILED: %s\n' "$*" >&2; exit 1; }

cleanup() {
	if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -KILL "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if [[ -n $mounted ]]; then
		umount "$fs" 2>/dev/null || true
	fi
}
trap cleanup EXIT

if mountpoint -q "$fs" 2>/dev/null; then
	umount "$fs"
fi
rm -rf "$work"
mkdir -p "$fs"

step "mount a 2 MiB tmpfs"
if ! mount -t tmpfs -o size=2m,mode=0700 pgc-blockd-full "$fs" 2>"$work/mount.err"; then
	cat "$work/mount.err" >&2
	if [[ ${CI:-} == true ]]; then
		die "cannot mount a tmpfs (CI runs as root: this must work)"
	fi
	echo "blockd_full_disk: SKIPPED: cannot mount a tmpfs here (not root?)"
	exit 77
fi
mounted=1

img=$fs/disk.img
manifest=$work/manifest
log=$work/blockd.log
"$blockd" --image "$img" --size 16M --cache 1M --port 0 --port-file "$work/port" \
	"${server_mode[@]}" >"$log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
	[[ -s $work/port ]] && break
	kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; die "blockd did not start"; }
	sleep 0.1
done
[[ -s $work/port ]] || die "blockd wrote no port file in 10 s"

step "workload: $requests requests on a disk that fills up"
"$load" --port-file "$work/port" --connections 2 --requests "$requests" \
	--write-pct 50 --flush-pct 1 --seq-pct 30 --max-blocks 8 \
	--fresh --full-disk --manifest "$manifest" "${load_mode[@]}" | tee "$work/load.out" ||
	{ cat "$log" >&2; die "blockd-load failed: a read failed, a block differed, or a write failed otherwise than with ENOSPC"; }
refused=$(sed -n 's/^blockd-load: \([0-9]*\) writes and flushes refused with ENOSPC$/\1/p' "$work/load.out")
[[ -n $refused ]] || die "blockd-load printed no ENOSPC count"
((refused > 0)) || die "no write was refused: the disk never filled up"
echo "$refused writes and flushes refused with ENOSPC"

lines=$(wc -l <"$log")
echo "blockd's log: $lines lines, $(wc -c <"$log") bytes"
((lines <= 100)) || { head -50 "$log" >&2; die "blockd's log has $lines lines (at most 100)"; }
grep -q "no space left" "$log" || die "blockd's log does not say the store is full"

step "room again: grow the file system, stop blockd (it writes everything back)"
mount -o remount,size=64m "$fs"
kill -TERM "$server_pid"
status=0
for _ in $(seq 300); do
	kill -0 "$server_pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$server_pid" 2>/dev/null && die "blockd still running 30 s after SIGTERM"
wait "$server_pid" || status=$?
server_pid=
tail -5 "$log"
((status == 0)) || die "blockd exited with status $status"
grep -q "final flush done" "$log" || die "blockd did not report its final flush"

step "every acknowledged write is in the image"
"$load" --check-image "$img" --manifest "$manifest" || die "the image does not match"

printf '\nblockd_full_disk: PASSED\n'
