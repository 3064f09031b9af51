#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run-soak.sh [MODE]: guest side of `make soak` (busybox sh): the
# reliability binaries with a long, configurable budget.
#
# Run by run-tests.sh in soak mode (as /pendtimer/run-soak.sh), or
# installed as the guest's script itself (PT_RUN_TESTS=vm/guest/run-soak.sh,
# /pendtimer/run-tests.sh). Binaries in /pendtimer/tests/, the module in
# /pendtimer/; it loads the module if it is not loaded, and then unloads it.
#
#   1. insmod pendtimer.ko
#   2. pendtimer_inject_test   fail_function / failslab (SKIPs without them)
#   3. pendtimer_soak          the three-way race, race_delay_us swept
#   4. pendtimer_fuzz          random interleavings of every operation
#   5. rmmod, and nothing may be left behind
#
# Budget, from the environment or the kernel command line (pt.NAME=VALUE,
# e.g. VM_EXTRA_APPEND="pt.fuzz_ops=2000000 pt.soak_contested=2000000"):
#   fuzz_ops (PT_FUZZ_OPS, default 1000000)
#   fuzz_seconds (PT_FUZZ_SECONDS, default 10800)
#   fuzz_seed (PT_FUZZ_SEED, default: random, printed)
#   fuzz_threads, fuzz_children, fuzz_epoch (PT_FUZZ_THREADS, ...)
#   soak_contested (PT_SOAK_CONTESTED, default 1000000)
#   soak_seconds (PT_SOAK_SECONDS, default 10800)
#   soak_delays (PT_SOAK_DELAYS, comma separated race_delay_us values)
#   soak_seed (PT_SOAK_SEED)
#   soak_only (PT_SOAK_ONLY: a space or comma separated subset of
#              "inject soak fuzz")
# Remember to give run.sh a --timeout that covers the budget.
#
# Output: KTAP blocks from the binaries, "# " diagnostics; when it is the
# guest's script itself (installed as run-tests.sh) or PT_SOAK_DONE=1, as
# the very last line "PENDTIMER-DONE rc=N" (N failed binaries and steps).
# The exit status is N (capped at 255).

PT_DIR=${PT_DIR:-/pendtimer}
TESTS=$PT_DIR/tests
KO=$PT_DIR/pendtimer.ko
rc=0

msg() { echo "# $*"; }
fail() {
	echo "# FAIL: $*"
	rc=$((rc + 1))
}

# cmdline NAME: the value of pt.NAME= on the kernel command line, if any
cmdline() {
	for arg in $(cat /proc/cmdline 2>/dev/null); do
		case "$arg" in
		pt.$1=*) echo "${arg#pt.$1=}" | tr ',' ' '; return 0 ;;
		esac
	done
	return 1
}

# setvar VAR NAME DEFAULT: environment first, then the command line
setvar() {
	eval "cur=\${$1:-}"
	if [ -z "$cur" ]; then
		cur=$(cmdline "$2") || cur=$3
	fi
	eval "$1=\$cur"
	eval "export $1"
}

setvar PT_FUZZ_OPS fuzz_ops 1000000
setvar PT_FUZZ_SECONDS fuzz_seconds 10800
setvar PT_FUZZ_SEED fuzz_seed ""
setvar PT_FUZZ_THREADS fuzz_threads ""
setvar PT_FUZZ_CHILDREN fuzz_children ""
setvar PT_FUZZ_EPOCH fuzz_epoch ""
setvar PT_FUZZ_VERBOSE fuzz_verbose ""
setvar PT_SOAK_CONTESTED soak_contested 1000000
setvar PT_SOAK_SECONDS soak_seconds 10800
setvar PT_SOAK_DELAYS soak_delays ""
setvar PT_SOAK_SEED soak_seed ""
setvar PT_SOAK_ONLY soak_only "inject soak fuzz"
# exported empty variables would mean "0": drop them
for v in PT_FUZZ_SEED PT_FUZZ_THREADS PT_FUZZ_CHILDREN PT_FUZZ_EPOCH PT_FUZZ_VERBOSE \
	PT_SOAK_DELAYS PT_SOAK_SEED; do
	eval "[ -n \"\${$v}\" ] || unset $v"
done
PT_SOAK_DELAYS=$(echo "${PT_SOAK_DELAYS:-}" | tr ' ' ',')
[ -n "$PT_SOAK_DELAYS" ] && export PT_SOAK_DELAYS || unset PT_SOAK_DELAYS

msg "run-soak.sh: kernel $(uname -r), cpus $(nproc 2>/dev/null || echo ?)"
msg "budget: fuzz ${PT_FUZZ_OPS} ops / ${PT_FUZZ_SECONDS} s, soak ${PT_SOAK_CONTESTED} contested / ${PT_SOAK_SECONDS} s, steps: ${PT_SOAK_ONLY}"

want() { echo " $(echo "$PT_SOAK_ONLY" | tr ',' ' ') " | grep -q " $1 "; }

run_bin() { # NAME
	if [ ! -x "$TESTS/$1" ]; then
		fail "$TESTS/$1 is missing"
		return
	fi
	msg "$1"
	t0=$(cut -d. -f1 /proc/uptime)
	"$TESTS/$1"
	r=$?
	msg "$1: exit $r after $(($(cut -d. -f1 /proc/uptime) - t0)) s"
	[ $r -eq 0 ] || fail "$1 exited with status $r"
}

if [ -d /sys/module/pendtimer ]; then
	msg "pendtimer already loaded"
	loaded_here=0
else
	out=$(insmod "$KO" 2>&1) || fail "insmod $KO: $out"
	i=0
	while [ ! -c /dev/pendtimer0 ] && [ $i -lt 50 ]; do
		usleep 100000
		i=$((i + 1))
	done
	[ -c /dev/pendtimer0 ] || fail "/dev/pendtimer0 did not appear"
	loaded_here=1
fi

if [ $rc -eq 0 ]; then
	want inject && run_bin pendtimer_inject_test
	want soak && run_bin pendtimer_soak
	want fuzz && run_bin pendtimer_fuzz
fi

if [ "$loaded_here" = 1 ]; then
	i=0
	until out=$(rmmod pendtimer 2>&1); do
		i=$((i + 1))
		if [ $i -ge 20 ]; then
			fail "rmmod pendtimer: $out"
			break
		fi
		usleep 250000
	done
	left=
	for p in /sys/module/pendtimer /sys/bus/pendtimer /sys/kernel/debug/pendtimer \
		/dev/pendtimer*; do
		[ -e "$p" ] && left="$left $p"
	done
	grep -q '^pendtimer_req ' /proc/slabinfo 2>/dev/null && left="$left slab:pendtimer_req"
	if [ -n "$left" ]; then
		fail "left behind after rmmod:$left"
	else
		msg "nothing left behind after rmmod"
	fi
fi

if [ "${0##*/}" = run-tests.sh ] || [ "${PT_SOAK_DONE:-0}" = 1 ]; then
	echo "PENDTIMER-DONE rc=$rc"
fi
[ $rc -le 255 ] || rc=255
exit $rc
