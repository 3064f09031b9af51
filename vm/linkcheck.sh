#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm/linkcheck.sh [FILE.md...]
#
# Checks the links of the documentation (default: README.md and docs/*.md,
# paths relative to the top of the repository). No network.
#
# Every link must stay inside the repository:
# - a relative link ([text](path), ![alt](path), [label]: path) must name a
#   file or directory that git tracks (outside a git work tree: that exists),
#   and must not climb out of the top directory (../shared/SPEC.md fails);
# - an anchor (path#anchor, or #anchor in the same file) must be a heading
#   of the target markdown file, as GitHub makes heading ids (lower case,
#   punctuation dropped, each space a '-', repeats suffixed -1, -2, ...),
#   or an HTML id="" / name="" in it;
# - absolute paths (/x), file:, http:, https:, mailto: and any other
#   scheme are refused, and so are bare http(s):// addresses in the text
#   (they render as links too).
# Fenced code blocks and `code spans` are not scanned.
#
# Prints one line per broken link (FILE:LINE: target: reason), then
# "linkcheck: N links in M files, K broken"; exits 1 when K > 0, 2 on usage
# errors.
{
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$TOP" || exit 2
AWK=$(command -v gawk || true)
if [ -z "$AWK" ]; then
	echo "linkcheck: gawk is missing (make deps installs it)" >&2
	exit 2
fi
# [:alnum:] must know Unicode letters, as GitHub's heading ids do.
export LC_ALL=C.UTF-8

if [ $# -gt 0 ]; then
	FILES=("$@")
else
	FILES=(README.md docs/*.md)
fi

GIT=0
git -C "$TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1 && GIT=1

# Is repository path $1 (no leading ./) there: tracked by git, or in the tree?
present() {
	local p=$1
	if [ $GIT -eq 1 ]; then
		[ -n "$(git ls-files -- "$p" | head -n 1)" ]
	else
		[ -e "$p" ]
	fi
}

# Lines "LINE<TAB>TARGET" for each link of markdown file $1; bare URLs come
# as "LINE<TAB>bare:URL".
# shellcheck disable=SC2016 # awk program: $0 and friends are awk's
links_of() {
	"$AWK" '
	/^[ \t]*(```|~~~)/ { fence = !fence; next }
	fence { next }
	{
		s = $0
		gsub(/``[^`]*``/, "", s)
		gsub(/`[^`]*`/, "", s)
		if (match(s, /^ {0,3}\[[^]]+\]:[ \t]+/)) {
			t = substr(s, RLENGTH + 1)
			sub(/[ \t].*$/, "", t)
			print NR "\t" t
			next
		}
		bare = s
		gsub(/\]\([^)]*\)/, "]", bare)
		while (match(s, /\]\([^)]*\)/)) {
			t = substr(s, RSTART + 2, RLENGTH - 3)
			s = substr(s, RSTART + RLENGTH)
			sub(/^[ \t]+/, "", t)
			sub(/[ \t]+("[^"]*"|'\''[^'\'']*'\'')[ \t]*$/, "", t)
			gsub(/^<|>$/, "", t)
			print NR "\t" t
		}
		while (match(bare, /<[a-zA-Z][a-zA-Z0-9+.-]*:[^ >]*>|https?:\/\/[^ )>\]]+/)) {
			t = substr(bare, RSTART, RLENGTH)
			bare = substr(bare, RSTART + RLENGTH)
			gsub(/^<|>$/, "", t)
			print NR "\tbare:" t
		}
	}' "$1"
}

# The anchors of markdown file $1, one per line.
# shellcheck disable=SC2016
anchors_of() {
	"$AWK" '
	function slug(h,    s, n) {
		s = h
		while (match(s, /!?\[[^]]*\]\([^)]*\)/)) {
			t = substr(s, RSTART, RLENGTH)
			sub(/^!?\[/, "", t)
			sub(/\]\(.*$/, "", t)
			s = substr(s, 1, RSTART - 1) t substr(s, RSTART + RLENGTH)
		}
		gsub(/<[^>]*>/, "", s)
		s = tolower(s)
		gsub(/[^[:alnum:] _-]/, "", s)
		gsub(/ /, "-", s)
		n = seen[s]++
		return n ? s "-" n : s
	}
	/^[ \t]*(```|~~~)/ { fence = !fence; prev = ""; next }
	fence { next }
	{
		line = $0
		while (match(line, /(id|name)="[^"]+"/)) {
			a = substr(line, RSTART, RLENGTH)
			sub(/^[a-z]+="/, "", a)
			sub(/"$/, "", a)
			print a
			line = substr(line, RSTART + RLENGTH)
		}
	}
	/^ {0,3}#{1,6}([ \t]|$)/ {
		h = $0
		sub(/^ *#+[ \t]*/, "", h)
		sub(/[ \t]+#+[ \t]*$/, "", h)
		sub(/[ \t]+$/, "", h)
		print slug(h)
		prev = ""
		next
	}
	/^ {0,3}(=+|-+)[ \t]*$/ && prev != "" {
		h = prev
		sub(/^[ \t]+/, "", h)
		sub(/[ \t]+$/, "", h)
		print slug(h)
		prev = ""
		next
	}
	{ prev = ($0 ~ /^[ \t]*$/ || $0 ~ /^[ \t]*([-*+]|[0-9]+\.|>|\|)/) ? "" : $0 }
	' "$1"
}

declare -A ANCHORS=()
has_anchor() { # FILE ANCHOR
	if [ -z "${ANCHORS[$1]+set}" ]; then
		ANCHORS[$1]=$'\n'$(anchors_of "$1")$'\n'
	fi
	[[ "${ANCHORS[$1]}" == *$'\n'"$2"$'\n'* ]]
}

NLINKS=0
NBAD=0
NFILES=0
bad() { # FILE LINE TARGET REASON
	echo "$1:$2: $3: $4"
	NBAD=$((NBAD + 1))
}

for f in "${FILES[@]}"; do
	if [ ! -f "$f" ]; then
		echo "linkcheck: no such file: $f" >&2
		exit 2
	fi
	NFILES=$((NFILES + 1))
	dir=$(dirname "$f")
	while IFS=$'\t' read -r line target; do
		NLINKS=$((NLINKS + 1))
		case "$target" in
		bare:*)
			bad "$f" "$line" "${target#bare:}" "address outside the repository"
			continue ;;
		"")
			bad "$f" "$line" "()" "empty link"
			continue ;;
		/*)
			bad "$f" "$line" "$target" "absolute path: use a path relative to $f"
			continue ;;
		[a-zA-Z]*:*)
			scheme=${target%%:*}
			if [[ "$scheme" =~ ^[a-zA-Z][a-zA-Z0-9+.-]*$ ]]; then
				bad "$f" "$line" "$target" "$scheme: link leaves the repository"
				continue
			fi ;;
		esac
		path=${target%%#*}
		anchor=
		[[ "$target" == *"#"* ]] && anchor=${target#*#}
		if [ -z "$path" ]; then
			dest=$f
		else
			# Resolve against the file's directory, lexically (-m: need
			# not exist), and stay under the top directory.
			dest=$(realpath -m --relative-base="$TOP" "$TOP/$dir/$path")
			case "$dest" in
			/* | ..*)
				bad "$f" "$line" "$target" "leaves the repository"
				continue ;;
			esac
			if [ "$dest" = . ] || [ ! -e "$dest" ]; then
				bad "$f" "$line" "$target" "no such file in the repository"
				continue
			fi
			if ! present "$dest"; then
				bad "$f" "$line" "$target" "not tracked by git (git add it)"
				continue
			fi
		fi
		if [ -n "$anchor" ]; then
			if [[ "$dest" != *.md ]]; then
				bad "$f" "$line" "$target" "anchor into a file that is not markdown"
			elif ! has_anchor "$dest" "$anchor"; then
				bad "$f" "$line" "$target" "no heading with that anchor in $dest"
			fi
		fi
	done < <(links_of "$f")
done

echo "linkcheck: $NLINKS links in $NFILES files, $NBAD broken"
[ $NBAD -eq 0 ]
exit
}
