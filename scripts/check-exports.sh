#!/usr/bin/env bash
# Checks the dynamic symbol table of libpgcache.so (ctest: exported_symbols).
#
# Usage: check-exports.sh LIBPGCACHE_SO PUBLIC_INCLUDE_DIR
#
# Fails if the library defines a dynamic symbol that does not start with
# pgc_ (the version nodes, PGCACHE_x.y, excepted), if such a symbol has no
# PGCACHE_ version, or if a function that the public headers declare with
# PGC_API is not exported.
set -euo pipefail

lib=${1:?usage: check-exports.sh LIBPGCACHE_SO PUBLIC_INCLUDE_DIR}
incdir=${2:?usage: check-exports.sh LIBPGCACHE_SO PUBLIC_INCLUDE_DIR}

nm_out=$(nm -D --defined-only "$lib")
fail=0
exported=()

while read -r _addr type name; do
	[[ -n ${name:-} ]] || continue
	base=${name%%@*}
	if [[ $type == A && $base =~ ^PGCACHE_[0-9] ]]; then
		continue # a version node of lib/pgcache.map
	fi
	if [[ $base != pgc_* || $base == pgc__* ]]; then
		echo "exported_symbols: unexpected exported symbol: $name ($type)" >&2
		fail=1
		continue
	fi
	if [[ $name == *@* && $name != *@PGCACHE_* ]]; then
		echo "exported_symbols: $name has no PGCACHE_ version node" >&2
		fail=1
	fi
	exported+=("$base")
done <<<"$nm_out"

if ((${#exported[@]} == 0)); then
	echo "exported_symbols: $lib exports no pgc_ symbol" >&2
	exit 1
fi

# The functions declared PGC_API in the public headers, with comments and
# preprocessor lines removed so that only declarations are matched.
mapfile -t declared < <(perl -0777 -ne '
	s{/\*.*?\*/}{}gs; s{//[^\n]*}{}g; s{^[ \t]*#[^\n]*}{}gm;
	while (/\bPGC_API\b[^;{]*?\b(pgc_\w+)\s*\(/gs) { print "$1\n"; }
' "$incdir"/*.h | sort -u)

if ((${#declared[@]} == 0)); then
	echo "exported_symbols: no PGC_API declaration found in $incdir" >&2
	exit 1
fi

for fn in "${declared[@]}"; do
	found=0
	for sym in "${exported[@]}"; do
		if [[ $sym == "$fn" ]]; then
			found=1
			break
		fi
	done
	if ((!found)); then
		echo "exported_symbols: $fn is declared PGC_API but not exported" \
		     "(missing from lib/pgcache.map or not defined)" >&2
		fail=1
	fi
done

if ((fail)); then
	exit 1
fi
echo "exported_symbols: ${#exported[@]} symbols exported, all pgc_;" \
     "all ${#declared[@]} PGC_API functions present"
