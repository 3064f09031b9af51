#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run-bench.sh: the guest side of `make bench` (busybox sh).
#
# Installed as /pendtimer/run-bench.sh (run-tests.sh delegates bench
# mode to it) or as /pendtimer/run-tests.sh itself (PT_RUN_TESTS); finds
# the module in $PT_DIR (default /pendtimer) and the benchmark in
# $PT_DIR/tests/pendtimer_bench.
#
# insmod pendtimer.ko, run pendtimer_bench (its "# " progress lines and
# table go to the console), then print for vm/bench.sh:
#   === PENDTIMER BENCH JSON BEGIN ===     results.json
#   === PENDTIMER BENCH JSON END ===
#   === PENDTIMER BENCH DETAILS BEGIN ===  extra figures (details.json)
#   === PENDTIMER BENCH DETAILS END ===
#   === PENDTIMER BENCH SAMPLES BEGIN ===  latency CDFs: impl period pct ns
#   === PENDTIMER BENCH SAMPLES END ===
# then rmmod, check that nothing is left, and as the very last line
#   PENDTIMER-DONE rc=N
# (N = failed steps; the benchmark's own failed checks count as one).
#
# Extra arguments for pendtimer_bench: $PT_BENCH_ARGS, or pt.bench=A,B,C on
# the kernel command line (commas become spaces), e.g. pt.bench=-n,200.

PT_DIR=${PT_DIR:-/pendtimer}
LANE=${LANE:-unknown}
KO=$PT_DIR/pendtimer.ko
BENCH=$PT_DIR/tests/pendtimer_bench
TMP=${TMPDIR:-/tmp}
rc=0

msg() { echo "# $*"; }
fail() {
	echo "# FAIL: $*"
	rc=$((rc + 1))
}

ARGS=${PT_BENCH_ARGS:-}
if [ -z "$ARGS" ] && [ -r /proc/cmdline ]; then
	for a in $(cat /proc/cmdline); do
		case "$a" in pt.bench=*) ARGS=$(printf "%s\n" "${a#pt.bench=}" | tr ',' ' ') ;; esac
	done
fi

msg "pendtimer run-bench.sh: lane=$LANE kernel=$(uname -r) cpus=$(nproc 2>/dev/null || echo ?) args='$ARGS'"

loaded=0
if [ -d /sys/module/pendtimer ]; then
	msg "pendtimer already loaded"
elif [ ! -f "$KO" ]; then
	fail "$KO is missing"
elif out=$(insmod "$KO" 2>&1); then
	loaded=1
	i=0
	while [ ! -c /dev/pendtimer0 ] && [ $i -lt 50 ]; do
		usleep 100000
		i=$((i + 1))
	done
	[ -c /dev/pendtimer0 ] || fail "/dev/pendtimer0 did not appear after insmod"
else
	fail "insmod $KO: $out"
fi

if [ ! -x "$BENCH" ]; then
	fail "$BENCH is missing (selftests/Makefile must build pendtimer_bench)"
elif [ -c /dev/pendtimer0 ]; then
	rm -f "$TMP/pt-bench.json" "$TMP/pt-bench-details.json" "$TMP/pt-bench-samples.txt"
	# shellcheck disable=SC2086
	"$BENCH" -l "$LANE" -o "$TMP/pt-bench.json" -d "$TMP/pt-bench-details.json" \
		-s "$TMP/pt-bench-samples.txt" $ARGS
	r=$?
	[ $r -eq 0 ] || fail "pendtimer_bench exited with status $r"
	if [ -s "$TMP/pt-bench.json" ]; then
		echo "=== PENDTIMER BENCH JSON BEGIN ==="
		cat "$TMP/pt-bench.json"
		echo "=== PENDTIMER BENCH JSON END ==="
	else
		fail "pendtimer_bench wrote no JSON"
	fi
	if [ -s "$TMP/pt-bench-details.json" ]; then
		echo "=== PENDTIMER BENCH DETAILS BEGIN ==="
		cat "$TMP/pt-bench-details.json"
		echo "=== PENDTIMER BENCH DETAILS END ==="
	fi
	if [ -s "$TMP/pt-bench-samples.txt" ]; then
		echo "=== PENDTIMER BENCH SAMPLES BEGIN ==="
		cat "$TMP/pt-bench-samples.txt"
		echo "=== PENDTIMER BENCH SAMPLES END ==="
	fi
fi

if [ $loaded -eq 1 ]; then
	i=0
	while ! out=$(rmmod pendtimer 2>&1); do
		i=$((i + 1))
		if [ $i -ge 20 ]; then
			fail "rmmod pendtimer: $out"
			break
		fi
		usleep 250000
	done
	i=0
	while [ $i -lt 20 ]; do
		left=
		for p in /dev/pendtimer0 /sys/module/pendtimer /sys/bus/pendtimer; do
			[ -e "$p" ] && left="$left $p"
		done
		grep -q '^pendtimer_req ' /proc/slabinfo 2>/dev/null && left="$left slab:pendtimer_req"
		[ -z "$left" ] && break
		usleep 100000
		i=$((i + 1))
	done
	if [ -n "$left" ]; then
		fail "left behind after rmmod:$left"
	else
		msg "pendtimer.ko unloaded, nothing left behind"
	fi
fi

echo "PENDTIMER-DONE rc=$rc"
[ $rc -le 255 ] || rc=255
exit $rc
