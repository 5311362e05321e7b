#!/usr/bin/env bash
# Checks the man pages of the build (ctest: man_pages).
#
# Usage: pgc-check-man.sh MAN_DIR PUBLIC_INCLUDE_DIR
#
# MAN_DIR is the build's docs/man, with man3/ (written by pgc-gen-man) and
# man7/libpgcache.7. Fails if
#   - a function declared PGC_API in the headers has no page man3/<name>.3,
#     or a page has a name without the pgc_ prefix or names no such
#     function (libpgcache.7 excepted), or another file or section is there;
#   - man -l, as a reader would run it, or groff with every warning on,
#     says anything on stderr, or the page has bytes outside ASCII or a .so
#     request;
#   - a rendered page lacks one of the sections every page has (NAME,
#     SYNOPSIS, DESCRIPTION, RETURN VALUE, SEE ALSO for a function; NAME,
#     DESCRIPTION, SEE ALSO for libpgcache.7), or lexgrog (what mandb and
#     whatis use) cannot read its NAME line;
#   - the SYNOPSIS of a page is not the prototype of its header.
# The declarations are read here with awk, not by the generator, so that
# the test does not share the generator's mistakes.
#
# Needs man-db (man, lexgrog) and groff-base; fails, rather than skips,
# without them.
set -euo pipefail

mandir=${1:?usage: pgc-check-man.sh MAN_DIR PUBLIC_INCLUDE_DIR}
incdir=${2:?usage: pgc-check-man.sh MAN_DIR PUBLIC_INCLUDE_DIR}

for tool in man groff lexgrog; do
	command -v "$tool" >/dev/null ||
		{ echo "man_pages: $tool not found (Debian packages man-db and groff-base)" >&2; exit 1; }
done
[[ -d $mandir/man3 && -f $mandir/man7/libpgcache.7 ]] ||
	{ echo "man_pages: no man pages in $mandir (build the target 'man' first)" >&2; exit 1; }

fail=0
problem() { echo "man_pages: $*" >&2; fail=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# "name<TAB>prototype;" for each PGC_API declaration, comments and
# preprocessor lines removed, whitespace as in the generator's SYNOPSIS.
awk '
	function flush(d, name) {
		d = substr(d, 1, index(d, ";"))
		gsub(/[ \t]+/, " ", d)
		sub(/^ *PGC_API /, "", d)
		gsub(/\( /, "(", d); gsub(/ \)/, ")", d); gsub(/ ,/, ",", d)
		sub(/^ /, "", d); sub(/ ;$/, ";", d)
		match(d, /[A-Za-z_][A-Za-z0-9_]*\(/)
		name = substr(d, RSTART, RLENGTH - 1)
		print name "\t" d
	}
	{
		line = $0; out = ""
		while (line != "") {
			if (incom) {
				i = index(line, "*/")
				if (!i) { line = ""; break }
				line = substr(line, i + 2); incom = 0
			} else {
				i = index(line, "/*")
				if (!i) { out = out line; break }
				out = out substr(line, 1, i - 1); line = substr(line, i + 2); incom = 1
			}
		}
		if (out ~ /^[ \t]*#/) next
		if (indecl || out ~ /^PGC_API[ \t]/) {
			decl = decl " " out; indecl = 1
			if (index(decl, ";")) { flush(decl); decl = ""; indecl = 0 }
		}
	}
' "$incdir"/*.h | sort >"$tmp/declared"

ndecl=$(wc -l <"$tmp/declared")
((ndecl > 0)) || { echo "man_pages: no PGC_API declaration in $incdir" >&2; exit 1; }
cut -f1 "$tmp/declared" >"$tmp/names"

# Every function has its page, and its SYNOPSIS is the header's prototype.
while IFS=$'\t' read -r name proto; do
	page=$mandir/man3/$name.3
	if [[ ! -f $page ]]; then
		problem "no page for $name (declared in $incdir)"
		continue
	fi
	synopsis=$(awk '
		/^\.SH SYNOPSIS/ { s = 1; next }
		s && /^\.P$/ { p = 1; next }
		s && p && /^\.fi$/ { exit }
		s && p { printf "%s ", $0 }
	' "$page" | sed -e 's/\\f[BIRP]//g; s/\\%//g; s/\\-/-/g; s/\\(aq/'"'"'/g; s/\\e/\\/g' \
		-e 's/  */ /g; s/( /(/g; s/ )/)/g; s/^ //; s/ $//')
	[[ $synopsis == "$proto" ]] ||
		problem "$name.3: SYNOPSIS '$synopsis' is not the header's '$proto'"
done <"$tmp/declared"

# No page without its function; nothing but man3/pgc_*.3 and man7/libpgcache.7.
pages=()
for f in "$mandir"/*; do
	case ${f##*/} in
	man3 | man7 | man3.stamp) ;;
	*) problem "unexpected ${f##*/} in $mandir" ;;
	esac
done
for f in "$mandir"/man3/* "$mandir"/man7/*; do
	base=${f##*/}
	case $f in
	*/man7/libpgcache.7) pages+=("$f") ;;
	*/man3/pgc_*.3)
		if grep -qxF "${base%.3}" "$tmp/names"; then
			pages+=("$f")
		else
			problem "$base: no PGC_API function ${base%.3} in the headers"
		fi
		;;
	*) problem "$base: not a pgc_*.3 page nor libpgcache.7" ;;
	esac
done

# Each page renders without a word on stderr and has its sections.
for page in "${pages[@]}"; do
	base=${page##*/}
	name=${base%.*}
	if LC_ALL=C grep -q $'[\x80-\xff]' "$page"; then
		problem "$base: bytes outside ASCII (the generator escapes them)"
	fi
	if grep -q '^[.'"'"'][ \t]*so\b' "$page"; then
		problem "$base: a .so request"
	fi
	if ! LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 MANPAGER=cat PAGER=cat \
		man --warnings -l "$page" >"$tmp/out" 2>"$tmp/err"; then
		problem "$base: man -l failed: $(cat "$tmp/err")"
		continue
	fi
	[[ -s $tmp/err ]] && problem "$base: man -l warns: $(cat "$tmp/err")"
	groff -man -Tutf8 -ww -z "$page" 2>"$tmp/err" || problem "$base: groff failed"
	[[ -s $tmp/err ]] && problem "$base: groff -ww warns: $(cat "$tmp/err")"

	if [[ $base == *.3 ]]; then
		sections=(NAME SYNOPSIS DESCRIPTION "RETURN VALUE" "SEE ALSO")
	else
		sections=(NAME DESCRIPTION "SEE ALSO")
	fi
	for s in "${sections[@]}"; do
		grep -qx "$s" "$tmp/out" || problem "$base: no $s section"
	done
	whatis=$(lexgrog "$page" 2>&1) || problem "$base: lexgrog cannot read it: $whatis"
	[[ $whatis == *"\"$name - "* ]] || problem "$base: NAME line not '$name - ...': $whatis"
done

if ((fail)); then
	echo "man_pages: FAILED" >&2
	exit 1
fi
echo "man_pages: $ndecl functions, ${#pages[@]} pages: each rendered without a warning: OK"
