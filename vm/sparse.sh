#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm/sparse.sh ARG...: sparse, run inside the Debian 13 build root of
# vm/buildroot.sh, for kbuild's CHECK= on host-built kernels of 6.15 and
# later (the debug-latest and kcsan lanes: kernels built from the newest
# source with the host compiler). From 6.15 kbuild runs only a sparse that
# parses __typeof_unqual__ (scripts/checker-valid.sh) and otherwise skips
# C=1 with a warning; Debian 12's sparse 0.6.4 cannot, the root's can.
#
#   make -C KDIR M=DIR C=1 CHECK=/path/to/vm/sparse.sh modules
#
# Every existing absolute path among the arguments (with -I, -include and
# the like stripped), and the working directory, is bound into the root at
# the same path, so sparse sees the files kbuild names.
{
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
binds=("$PWD")
for a in "$@"; do
	p=$a
	case "$p" in
	-I/* | -isystem/* | -iquote/* | -idirafter/*) p=/${p#*/} ;;
	--*=/*) p=/${p#*=/} ;;
	esac
	case "$p" in
	/*)
		if [ -d "$p" ]; then
			binds+=("$p")
		elif [ -e "$p" ]; then
			binds+=("$(dirname "$p")")
		fi
		;;
	esac
done
# The outermost directories only (a bind of /a/b after /a is not needed).
mapfile -t binds < <(printf '%s\n' "${binds[@]}" | sort -u |
	awk '{ for (i = 1; i <= n; i++) if (index($0 "/", keep[i] "/") == 1) next; keep[++n] = $0; print }')
args=()
for d in "${binds[@]}"; do
	args+=(--bind "$d")
done
exec bash "$TOP/vm/buildroot.sh" run "${args[@]}" -- sparse "$@"
}
