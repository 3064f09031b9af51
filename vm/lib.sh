# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# vm/lib.sh: the shell helpers of the host-side vm/*.sh scripts, defined
# once. Sourced (bash), never run:
#
#   PT_TAG="== check"
#   . "$TOP/vm/lib.sh"
#
#   say MSG...     "$PT_TAG: MSG" on stdout
#   warn MSG...    "$PT_TAG: MSG" on stderr
#   die MSG...     "$PT_TAG: ERROR: MSG" on stderr, then exit 1
#   now            seconds since the epoch
#   pt_cache_dir   the kernel cache shared by every clone on the machine:
#                  PT_CACHE (default /var/cache/pendtimer) if it can be
#                  created and written, else $BUILD/cache; created, printed
#
# PT_TAG is read at every call, so a script may set it (or change it) after
# sourcing this file. Nothing here runs at source time; the scripts keep
# their own TOP and BUILD. The guest's scripts (vm/guest/, busybox sh) do
# not use this file.

say() { echo "$PT_TAG: $*"; }
warn() { echo "$PT_TAG: $*" >&2; }
die() {
	echo "$PT_TAG: ERROR: $*" >&2
	exit 1
}
now() { date +%s; }

pt_cache_dir() {
	local c=${PT_CACHE:-/var/cache/pendtimer}
	if ! mkdir -p "$c" 2>/dev/null || [ ! -w "$c" ]; then
		c=$BUILD/cache
		mkdir -p "$c"
	fi
	echo "$c"
}
