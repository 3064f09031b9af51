#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm/check.sh [--mode test|demo|bench|soak] [--timeout SEC] LANE...
#
# For every lane: prepare it (vm/lane.sh), build the module against it with
# W=1 C=1 (any warning, error or sparse complaint fails the lane), copy
# module/*.ko to build/lanes/LANE/modules/, build the initramfs and boot it
# (vm/run.sh). The selftests are built once (make -C selftests) before the
# first lane. A failing lane does not stop the others.
#
# Ends with the per-lane table and, as the very last line,
# "N passed, N failed" summed over all lanes (a lane that failed to prepare,
# build or boot, or had kernel reports, adds at least 1 to failed).
#
# In test mode the lanes in PT_RELIABILITY_LANES (default "debug debug-latest
# kcsan 6.12-rt latest-rt"; empty: none) also run the race soak and the
# fuzzer after the tests, with PT_CHECK_SOAK_CONTESTED (default 200000)
# contested requests and PT_CHECK_FUZZ_OPS (default 200000) operations; a
# budget not met fails the lane. Their boot timeout is
# PT_RELIABILITY_TIMEOUT (default 2400 s) unless --timeout is given.
#
# Environment: BUILD, PT_JOBS (make -j for the module, default 2), and
# everything vm/run.sh and vm/lane.sh read.
# The whole script is one brace group: bash parses it completely before
# running it, so editing this file cannot break a run in progress.
{
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
export BUILD
MODE=test
TIMEOUT=
LANES_ARG=()
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) MODE=$2; shift 2 ;;
	--mode=*) MODE=${1#*=}; shift ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--timeout=*) TIMEOUT=${1#*=}; shift ;;
	-*) echo "check.sh: unknown option $1" >&2; exit 2 ;;
	*) LANES_ARG+=("$1"); shift ;;
	esac
done
[ ${#LANES_ARG[@]} -gt 0 ] || LANES_ARG=(6.1 6.12 6.12-rt debug)
case "$MODE" in test | demo | bench | soak) ;; *) echo "check.sh: bad mode $MODE" >&2; exit 2 ;; esac

LOGDIR=$BUILD/logs
mkdir -p "$LOGDIR"
JOBS=${PT_JOBS:-2}
RELIABILITY_LANES=${PT_RELIABILITY_LANES-debug debug-latest kcsan 6.12-rt latest-rt}
FUZZ_OPS=${PT_CHECK_FUZZ_OPS:-200000}
SOAK_CONTESTED=${PT_CHECK_SOAK_CONTESTED:-200000}
RELIABILITY_TIMEOUT=${PT_RELIABILITY_TIMEOUT:-2400}
now() { date +%s; }
say() { echo "== check: $*"; }
T_ALL=$(now)

EXTRA_FAILED=0
RESULTS=()

# Lane-level failure before the boot: write its result file ourselves.
lane_fail() { # LANE RESULT REASON
	local lane=$1 result=$2 reason=$3 rel="?"
	[ -s "$BUILD/lanes/$lane/release" ] && rel=$(cat "$BUILD/lanes/$lane/release")
	echo "lane=$lane mode=$MODE release=$rel cpus=? passed=0 failed=1 skipped=0 reports=0 verdict=FAIL seconds=0 log=$LOGDIR/$lane-build.log reason=$reason" >"$result"
	say "lane $lane FAILED: $reason"
}

# --- selftests, once ---------------------------------------------------------
if [ -f "$TOP/selftests/Makefile" ]; then
	say "building selftests (make -C selftests)"
	t=$(now)
	if make -C "$TOP/selftests" OUTPUT="$BUILD/selftests" >"$LOGDIR/selftests-build.log" 2>&1; then
		say "selftests built in $(($(now) - t)) s ($(find "$BUILD/selftests" -type f -perm -u+x 2>/dev/null | wc -l) executables in build/selftests)"
	else
		tail -n 30 "$LOGDIR/selftests-build.log"
		say "selftests build FAILED (log: $LOGDIR/selftests-build.log)"
		EXTRA_FAILED=$((EXTRA_FAILED + 1))
	fi
else
	say "selftests/Makefile not there yet: skipping the selftests build"
fi
# Documentation links stay inside the repository (vm/linkcheck.sh).
if [ "$MODE" = test ]; then
	if bash "$TOP/vm/linkcheck.sh" >"$LOGDIR/linkcheck.log" 2>&1; then
		say "$(tail -n 1 "$LOGDIR/linkcheck.log")"
	else
		cat "$LOGDIR/linkcheck.log"
		EXTRA_FAILED=$((EXTRA_FAILED + 1))
	fi
fi
# The CLI runs in the guest too (demo mode: pendtimer race).
if make -C "$TOP/tools" OUTPUT="$BUILD/tools" SELFTESTS_OUTPUT="$BUILD/selftests" \
	>"$LOGDIR/tools-build.log" 2>&1; then
	say "tools built (build/tools/pendtimer)"
else
	tail -n 30 "$LOGDIR/tools-build.log"
	say "tools build FAILED (log: $LOGDIR/tools-build.log)"
	EXTRA_FAILED=$((EXTRA_FAILED + 1))
fi

# --- lanes -------------------------------------------------------------------
for LANE in "${LANES_ARG[@]}"; do
	SUFFIX=$LANE
	[ "$MODE" = test ] || SUFFIX=$LANE-$MODE
	RESULT=$LOGDIR/$SUFFIX.result
	RESULTS+=("$RESULT")
	rm -f "$RESULT"
	LDIR=$BUILD/lanes/$LANE
	say "lane $LANE ($MODE)"

	t=$(now)
	if ! bash "$TOP/vm/lane.sh" "$LANE"; then
		lane_fail "$LANE" "$RESULT" "lane-prepare"
		continue
	fi
	t_lane=$(($(now) - t))
	KDIR=$LDIR/kdir

	# Module build: W=1 + sparse, must be silent.
	t=$(now)
	BLOG=$LOGDIR/$LANE-build.log
	if [ ! -f "$TOP/module/Kbuild" ] && [ ! -f "$TOP/module/Makefile" ]; then
		echo "module/Kbuild missing: nothing to build" >"$BLOG"
		lane_fail "$LANE" "$RESULT" "no-module-sources"
		continue
	fi
	make -C "$KDIR" M="$TOP" clean >/dev/null 2>&1
	{
		echo "+ make -C $KDIR M=$TOP W=1 C=1 modules"
		make -j"$JOBS" -C "$KDIR" M="$TOP" W=1 C=1 modules 2>&1
		echo "exit=$?"
	} >"$BLOG"
	brc=$(sed -n 's/^exit=//p' "$BLOG" | tail -n 1)
	complaints=$(grep -Ev '^\+ make ' "$BLOG" | grep -Ei 'warning:|error:|warning: |sparse:|^[^ ]+:[0-9]+:[0-9]+: ' | head -n 40 || true)
	if [ "$brc" != 0 ] || [ -n "$complaints" ]; then
		[ -n "$complaints" ] && echo "$complaints"
		[ "$brc" != 0 ] && tail -n 20 "$BLOG"
		lane_fail "$LANE" "$RESULT" "module-build(exit=$brc)"
		continue
	fi
	rm -rf "$LDIR/modules"
	mkdir -p "$LDIR/modules"
	nko=0
	for ko in "$TOP"/module/*.ko; do
		[ -f "$ko" ] || continue
		cp "$ko" "$LDIR/modules/"
		nko=$((nko + 1))
	done
	if [ $nko -eq 0 ]; then
		lane_fail "$LANE" "$RESULT" "no-.ko-built"
		continue
	fi
	t_build=$(($(now) - t))
	# DKMS builds the same sources against the lane's headers.
	if [ "$MODE" = test ] && ! bash "$TOP/vm/dkms-check.sh" "$LANE" >"$LOGDIR/$LANE-dkms.log" 2>&1; then
		tail -n 20 "$LOGDIR/$LANE-dkms.log"
		say "lane $LANE: dkms build FAILED (log: $LOGDIR/$LANE-dkms.log)"
		EXTRA_FAILED=$((EXTRA_FAILED + 1))
	fi
	say "lane $LANE: module built clean (W=1 C=1) in ${t_build}s against $(cat "$LDIR/release"): $(cd "$LDIR/modules" && echo *.ko)"

	INITRD=$LDIR/initramfs-$MODE.cpio.gz
	if ! bash "$TOP/vm/mkinitramfs.sh" "$LANE" "$INITRD"; then
		lane_fail "$LANE" "$RESULT" "initramfs"
		continue
	fi
	RUNARGS=("$LANE" --mode "$MODE" --initrd "$INITRD")
	[ -n "$TIMEOUT" ] && RUNARGS+=(--timeout "$TIMEOUT")
	# The reliability budgets (issue 7): race soak and fuzzer after the
	# tests, on the lanes that prove the race rules (debug, debug-latest:
	# KASAN, lockdep, kmemleak...; kcsan: data races; 6.12-rt, latest-rt:
	# the callback in a thread).
	APPEND=${VM_EXTRA_APPEND:-}
	if [ "$MODE" = test ] && [[ " $RELIABILITY_LANES " == *" $LANE "* ]]; then
		APPEND+=" pt.fuzz_ops=$FUZZ_OPS pt.soak_contested=$SOAK_CONTESTED"
		[ -n "$TIMEOUT" ] || RUNARGS+=(--timeout "$RELIABILITY_TIMEOUT")
		say "lane $LANE: + reliability budgets: $FUZZ_OPS fuzz operations, $SOAK_CONTESTED contested requests"
	fi
	VM_EXTRA_APPEND=$APPEND bash "$TOP/vm/run.sh" "${RUNARGS[@]}"
	[ -s "$RESULT" ] || lane_fail "$LANE" "$RESULT" "run.sh-no-result"
	say "lane $LANE: prepare ${t_lane}s, build ${t_build}s, boot $(sed -n 's/.* seconds=\([0-9]*\).*/\1/p' "$RESULT")s"
done

# --- summary -----------------------------------------------------------------
echo
say "summary ($MODE, $(($(now) - T_ALL)) s)"
bash "$TOP/vm/run.sh" --table "${RESULTS[@]}"
P=0
F=$EXTRA_FAILED
[ $EXTRA_FAILED -eq 0 ] || echo "(+$EXTRA_FAILED failed: selftests, tools or dkms build)"
for r in "${RESULTS[@]}"; do
	line=$(head -n 1 "$r" 2>/dev/null || true)
	p=$(echo "$line" | sed -n 's/.*\bpassed=\([0-9]*\).*/\1/p')
	f=$(echo "$line" | sed -n 's/.*\bfailed=\([0-9]*\).*/\1/p')
	v=$(echo "$line" | sed -n 's/.*\bverdict=\([A-Z]*\).*/\1/p')
	p=${p:-0}
	f=${f:-1}
	[ "$v" = PASS ] || [ "$f" -gt 0 ] || f=1
	P=$((P + p))
	F=$((F + f))
done
echo "$P passed, $F failed"
[ "$F" -eq 0 ]
exit
}
