#!/usr/bin/env bash
# bench_blockd: blockd's event-loop mode (--event-loop: one thread, the
# library's asynchronous interface) against its thread-per-connection mode,
# under the same load from blockd-load, at 32 requests outstanding:
#   c4_d8   4 connections with 8 requests in flight each (--depth 8);
#   c32_d1  32 connections with one request each.
# Workloads (random 4 KiB requests, --max-blocks 1):
#   hit     reads of a 64 MiB image held whole in a 128 MiB cache (warmed
#           by a full read first);
#   miss    reads of a 1 GiB image (written with data first) through a
#           64 MiB cache: nearly every read goes to the disk;
#   mixed   70% reads, 30% writes on the 1 GiB image, 64 MiB cache.
# Each round runs both modes, one after the other in alternating order,
# each with a new server process; the medians over the rounds are reported,
# with the range over the rounds:
#   RESULT bench_blockd <load>_<clients>_reqs lib=<req/s> peer=blockd-threads:<req/s> ratio=
#   RESULT bench_blockd <load>_<clients>_p50 lib=<us> peer=blockd-threads:<us> ratio=
#   RESULT bench_blockd <load>_<clients>_p99 ...
# (ratio > 1: the event loop is better: more requests/s, lower latency).
#
#   bench_blockd.sh BLOCKD BLOCKD_LOAD [--dir DIR] [--rounds N] [--requests N]
#                   [--cases LIST]
# --dir DIR       where the images go (default /var/tmp; O_DIRECT needed)
# --rounds N      rounds (default 5)
# --requests N    requests per run (default 40000)
# --cases LIST    comma-separated <load>_<clients> cases (default all six)
set -euo pipefail

blockd=${1:?usage: bench_blockd.sh BLOCKD BLOCKD_LOAD [--dir DIR] [--rounds N] [--requests N]}
load=${2:?}
shift 2
dir=/var/tmp rounds=5 requests=40000
cases=hit_c4_d8,hit_c32_d1,miss_c4_d8,miss_c32_d1,mixed_c4_d8,mixed_c32_d1
while (($#)); do
	case $1 in
	--dir) dir=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--requests) requests=$2; shift ;;
	--cases) cases=$2; shift ;;
	*) echo "bench_blockd: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

work=$(mktemp -d "$dir/pgc-bench-blockd-XXXXXX")
server_pid=
cleanup() {
	if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -KILL "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

small=$work/small.img
big=$work/big.img
# Real data in the big image: O_DIRECT reads of a hole would not touch the disk.
dd if=/dev/urandom of="$big" bs=1M count=1024 status=none
truncate -s 64M "$small"

# start MODE IMAGE CACHE: starts blockd, waits for its port file.
start() {
	local mode=$1 img=$2 cache=$3 args=()
	[[ $mode == loop ]] && args=(--event-loop --queue-depth 32)
	rm -f "$work/port"
	"$blockd" --image "$img" --cache "$cache" --max-clients 64 --port 0 \
		--port-file "$work/port" "${args[@]}" >"$work/server.log" 2>&1 &
	server_pid=$!
	for _ in $(seq 100); do
		[[ -s $work/port ]] && return 0
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$work/server.log" >&2
	echo "bench_blockd: blockd did not start" >&2
	exit 1
}

stop() {
	kill -TERM "$server_pid"
	wait "$server_pid" || { cat "$work/server.log" >&2; echo "bench_blockd: blockd failed" >&2; exit 1; }
	server_pid=
}

# run_case MODE LOAD CONNS DEPTH: one measurement; prints "reqs p50 p99".
run_case() {
	local mode=$1 kind=$2 conns=$3 depth=$4 img cache write=0
	case $kind in
	hit) img=$small cache=128M ;;
	miss) img=$big cache=64M ;;
	mixed) img=$big cache=64M write=30 ;;
	esac
	start "$mode" "$img" "$cache"
	if [[ $kind == hit ]]; then
		# One request, then the verify pass reads every block: all cached.
		"$load" --port-file "$work/port" --connections 4 --requests 1 --write-pct 0 \
			--max-blocks 64 >"$work/warm.out" ||
			{ cat "$work/warm.out" >&2; exit 1; }
	fi
	"$load" --port-file "$work/port" --connections "$conns" --depth "$depth" \
		--requests "$requests" --write-pct "$write" --flush-pct 0 --seq-pct 0 \
		--max-blocks 1 --no-verify >"$work/load.out" ||
		{ cat "$work/load.out" "$work/server.log" >&2; exit 1; }
	stop
	awk '/ requests in .* ops\/s/ { for (i = 1; i <= NF; i++) if ($i == "ops/s;") r = $(i - 1) }
	     $1 == "all" { p50 = $5; p99 = $7 }
	     END { print r, p50, p99 }' "$work/load.out"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
range() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'; }

echo "bench_blockd: $rounds rounds of $requests random 4 KiB requests per case, 32 outstanding"
IFS=, read -r -a case_list <<<"$cases"
for c in "${case_list[@]}"; do
	kind=${c%%_*}
	clients=${c#*_}
	conns=${clients%_*}; conns=${conns#c}
	depth=${clients#*_d}
	: >"$work/loop.txt"
	: >"$work/threads.txt"
	for ((r = 1; r <= rounds; r++)); do
		if ((r % 2)); then order=(loop threads); else order=(threads loop); fi
		for m in "${order[@]}"; do
			res=$(run_case "$m" "$kind" "$conns" "$depth")
			echo "$res" >>"$work/$m.txt"
			echo "  $c round $r $m: $res (req/s p50_us p99_us)"
		done
	done
	for f in 1 2 3; do
		lib=$(cut -d' ' -f$f "$work/loop.txt" | median)
		peer=$(cut -d' ' -f$f "$work/threads.txt" | median)
		lr=$(cut -d' ' -f$f "$work/loop.txt" | range)
		pr=$(cut -d' ' -f$f "$work/threads.txt" | range)
		case $f in
		1) name=reqs unit=req/s ratio=$(awk -v a="$lib" -v b="$peer" 'BEGIN { printf "%.2f", a / b }') ;;
		2) name=p50 unit=us ratio=$(awk -v a="$lib" -v b="$peer" 'BEGIN { printf "%.2f", b / a }') ;;
		3) name=p99 unit=us ratio=$(awk -v a="$lib" -v b="$peer" 'BEGIN { printf "%.2f", b / a }') ;;
		esac
		echo "RESULT bench_blockd ${c}_$name lib=$lib$unit peer=blockd-threads:$peer$unit ratio=$ratio"
		echo "  (rounds: event loop $lr, threads $pr)"
	done
done
