#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm/check.sh [--mode test|demo|bench|soak|shell] [--timeout SEC] LANE...
#
# For every lane: prepare it (vm/lane.sh), build the module against it with
# W=1 C=1 (any warning, error or sparse complaint fails the lane, and so
# does a kbuild that skips sparse), on the host or, for the 7.x lanes
# (latest, latest-rt), inside the Debian 13 build root of vm/buildroot.sh
# that build/lanes/LANE/buildroot names; copy
# module/*.ko to build/lanes/LANE/modules/, build the initramfs and boot it
# (vm/run.sh). The selftests are built once (make -C selftests) before the
# first lane. A failing lane does not stop the others.
#
# Ends with the per-lane table and, as the very last line,
# "N passed, N failed" summed over all lanes (a lane that failed to prepare,
# build or boot, or had kernel reports, adds at least 1 to failed).
# The guests' consoles go to build/logs/ only (vm/run.sh).
#
# In test mode, when lane PT_SHELL_CHECK_LANE (default 6.1; empty: none) is
# among the lanes, `make shell` is proven after the lanes: vm/shell-check.sh
# types commands at its prompt; one more result (LANE/shell) in the table.
# --mode demo ends with exactly one line, PASS: or FAIL:, instead of the
# table; --mode shell (make shell) hands the guest's shell to this terminal
# and prints no summary.
#
# In test mode the lanes in PT_RELIABILITY_LANES (default "6.12-rt
# latest-rt": the sanitizer lanes' budgets take 15-20 min each and run in
# `make soak` or with PT_RELIABILITY_LANES="kcsan debug"; empty: none)
# also run the race soak and the fuzzer after the tests, with
# PT_CHECK_SOAK_CONTESTED (default 200000) contested requests and
# PT_CHECK_FUZZ_OPS (default 200000) operations; a budget not met fails
# the lane. Their boot timeout is PT_RELIABILITY_TIMEOUT (default 2400 s)
# unless --timeout is given.
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
[ ${#LANES_ARG[@]} -gt 0 ] || LANES_ARG=(6.1 6.12 6.12-rt latest latest-rt debug debug-latest kcsan)
case "$MODE" in test | demo | bench | soak | shell) ;; *) echo "check.sh: bad mode $MODE" >&2; exit 2 ;; esac

LOGDIR=$BUILD/logs
mkdir -p "$LOGDIR"
JOBS=${PT_JOBS:-2}
RELIABILITY_LANES=${PT_RELIABILITY_LANES-6.12-rt latest-rt}
FUZZ_OPS=${PT_CHECK_FUZZ_OPS:-200000}
SOAK_CONTESTED=${PT_CHECK_SOAK_CONTESTED:-200000}
RELIABILITY_TIMEOUT=${PT_RELIABILITY_TIMEOUT:-2400}
PT_TAG="== check"
. "$TOP/vm/lib.sh"
T_ALL=$(now)

EXTRA_FAILED=0
RESULTS=()
BOOT_RETRIES=()

# in_lane_root LANE CMD...: run CMD where LANE's modules are built: on the
# host, or in the build root named by build/lanes/LANE/buildroot with the
# repository and the lane directory at the same paths.
in_lane_root() {
	local lane=$1
	shift
	if [ -s "$BUILD/lanes/$lane/buildroot" ]; then
		bash "$TOP/vm/buildroot.sh" run --bind "$TOP" --bind "$BUILD/lanes/$lane" \
			--cd "$TOP" -- "$@"
	else
		"$@"
	fi
}

# From 6.15 kbuild runs only a sparse that parses __typeof_unqual__ and
# otherwise skips C=1. For host-built lanes of such kernels (debug-latest,
# kcsan) whose host sparse (Debian 12: 0.6.4) cannot, CHECK= is vm/sparse.sh:
# the build root's sparse. Prints the make argument, or nothing.
host_sparse_ok=
sparse_arg() { # LANE
	local rel mm
	rel=$(cat "$BUILD/lanes/$1/release" 2>/dev/null || true)
	mm=$(echo "$rel" | awk -F. '/^[0-9]+\.[0-9]+/ { printf "%d", $1 * 1000 + $2 }')
	[ -n "$mm" ] && [ "$mm" -ge 6015 ] || return 0
	if [ -z "$host_sparse_ok" ]; then
		local f out
		f=$(mktemp --suffix=.c)
		printf 'static inline int u(const int *q)\n{\n\t__typeof_unqual__(*q) v = *q;\n\treturn v;\n}\n' >"$f"
		out=$(sparse "$f" 2>&1 || echo error)
		rm -f "$f"
		host_sparse_ok=yes
		echo "$out" | grep -q error && host_sparse_ok=no
	fi
	[ "$host_sparse_ok" = no ] || return 0
	bash "$TOP/vm/buildroot.sh" ensure >/dev/null || return 0
	echo "CHECK=$TOP/vm/sparse.sh"
}

# Lane-level failure before the boot: write its result file ourselves.
lane_fail() { # LANE RESULT REASON
	local lane=$1 result=$2 reason=$3 rel="?"
	[ -s "$BUILD/lanes/$lane/release" ] && rel=$(cat "$BUILD/lanes/$lane/release")
	echo "lane=$lane mode=$MODE release=$rel cpus=? passed=0 failed=1 skipped=0 reports=0 verdict=FAIL seconds=0 log=$LOGDIR/$lane-build.log reason=$reason" >"$result"
	say "lane $lane FAILED: $reason"
}

# --- output: the demo's last line, the shell check ---------------------------
# The demo ends with exactly one PASS: or FAIL: line (over every lane run).
demo_verdict() {
	local r line v lane rel log reason race ok=1 why=() where=()
	[ "$EXTRA_FAILED" -eq 0 ] || { ok=0; why+=("build of the selftests or tools failed"); }
	for r in "${RESULTS[@]}"; do
		line=$(head -n 1 "$r" 2>/dev/null || true)
		lane=$(basename "${r%-demo.result}")
		v=$(echo "$line" | sed -n 's/.*\bverdict=\([A-Z]*\).*/\1/p')
		rel=$(echo "$line" | sed -n 's/.*\brelease=\([^ ]*\).*/\1/p')
		log=$(echo "$line" | sed -n 's/.*\blog=\([^ ]*\).*/\1/p')
		reason=$(echo "$line" | sed -n 's/.*\breason=\([^ ]*\).*/\1/p')
		race=$(tr -d '\r' <"$log" 2>/dev/null | grep -m 1 '^RESULT: ' | sed 's/^RESULT: //')
		where+=("${log:-$r}")
		if [ "$v" != PASS ]; then
			ok=0
			why+=("lane $lane: ${reason:-no result}${race:+, pendtimer race $race}")
		else
			why+=("lane $lane ($rel): pendtimer race ${race:-?}, guest log clean")
		fi
	done
	[ ${#RESULTS[@]} -gt 0 ] || { ok=0; why+=("no lane ran"); }
	if [ $ok -eq 1 ]; then
		echo "PASS: make demo: $(IFS=';'; echo "${why[*]}") (full log: ${where[*]})"
	else
		echo "FAIL: make demo: $(IFS=';'; echo "${why[*]}") (full log: ${where[*]:-build/logs})"
	fi
	[ $ok -eq 1 ]
}

# vm/shell-check.sh on LANE (its module is built by now); one more result.
shell_check() { # LANE
	local lane=$1 r=$LOGDIR/$1-shell.result v MODE=shell
	RESULTS+=("$r")
	rm -f "$r"
	# Booted in this run (not stopped at its build): its module is fresh.
	v=$(sed -n 's/.*\blog=\([^ ]*\).*/\1/p' "$LOGDIR/$lane.result" 2>/dev/null)
	if [ ! -d "$BUILD/lanes/$lane/modules" ] || [ "$v" != "$LOGDIR/$lane.log" ]; then
		lane_fail "$lane" "$r" "shell-check:lane-not-built"
		return
	fi
	say "lane $lane: make shell, typed at (vm/shell-check.sh)"
	bash "$TOP/vm/shell-check.sh" "$lane"
	[ -s "$r" ] || lane_fail "$lane" "$r" "shell-check-no-result"
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
	# module/ only: kbuild's clean deletes every *.o, *.a, *.ko and .*.cmd
	# below M=, which with M=$TOP would include build/ (the other lanes'
	# modules, the lanes' header trees).
	in_lane_root "$LANE" make -C "$KDIR" M="$TOP/module" clean >/dev/null 2>&1
	{
		where=host
		[ -s "$LDIR/buildroot" ] && where="build root $(cat "$LDIR/buildroot")"
		check_arg=
		[ -s "$LDIR/buildroot" ] || check_arg=$(sparse_arg "$LANE")
		echo "+ make -C $KDIR M=$TOP W=1 C=1 $check_arg modules  (in the $where)"
		in_lane_root "$LANE" make -j"$JOBS" -C "$KDIR" M="$TOP" W=1 C=1 $check_arg modules 2>&1
		echo "exit=$?"
	} >"$BLOG"
	brc=$(sed -n 's/^exit=//p' "$BLOG" | tail -n 1)
	# "C=1 specified, but sparse is not available or not up to date": kbuild
	# went on without sparse, which must not pass for sparse-clean.
	complaints=$(grep -Ev '^\+ make ' "$BLOG" | grep -Ei 'warning:|error:|warning: |sparse:|^[^ ]+:[0-9]+:[0-9]+: |not available or not up to date|No such file or directory' | head -n 40 || true)
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
	# The sanitizer lanes run the bulk tests' code paths with a tenth of
	# their requests (pt_scaled()): KASAN, lockdep and KCSAN find the same
	# bugs in 10k requests as in 100k, at a tenth of the time.
	case "$LANE" in debug | debug-latest | kcsan) APPEND+=" pt.scale=${PT_SANITIZER_SCALE:-10}" ;; esac
	# KASAN + lockdep + kmemleak under TCG: the tests alone take 15-20 min.
	case "$LANE" in debug | debug-latest) [ -n "$TIMEOUT" ] || RUNARGS+=(--timeout "${PT_DEBUG_TIMEOUT:-1800}") ;; esac
	if [ "$MODE" = test ] && [[ " $RELIABILITY_LANES " == *" $LANE "* ]]; then
		APPEND+=" pt.fuzz_ops=$FUZZ_OPS pt.soak_contested=$SOAK_CONTESTED"
		[ -n "$TIMEOUT" ] || RUNARGS+=(--timeout "$RELIABILITY_TIMEOUT")
		say "lane $LANE: + reliability budgets: $FUZZ_OPS fuzz operations, $SOAK_CONTESTED contested requests"
	fi
	VM_EXTRA_APPEND=$APPEND bash "$TOP/vm/run.sh" "${RUNARGS[@]}"
	# A kernel that dies while it boots, before init printed the guest
	# header, never loaded pendtimer. Under TCG with two vCPUs the kernel's
	# own code patching (static keys, text_poke_bp()) sometimes leaves the
	# other vCPU executing a stale int3 ("Oops: int3" in core code, seen at
	# 2 s into a boot). Boot once more, and say so; a second such crash fails.
	if [ "$MODE" != shell ] && grep -q 'reason=[^ ]*no-guest-header' "$RESULT" 2>/dev/null; then
		log=$LOGDIR/$SUFFIX.log
		cp "$log" "$log.boot-crash"
		say "lane $LANE: the kernel died while booting, before init (pendtimer was never loaded):"
		grep -m 3 -E 'Oops|BUG:|Kernel panic' "$log" | sed 's/^/    /'
		say "lane $LANE: booting once more (the first log: $log.boot-crash)"
		BOOT_RETRIES+=("$LANE ($log.boot-crash)")
		VM_EXTRA_APPEND=$APPEND bash "$TOP/vm/run.sh" "${RUNARGS[@]}"
	fi
	[ -s "$RESULT" ] || lane_fail "$LANE" "$RESULT" "run.sh-no-result"
	say "lane $LANE: prepare ${t_lane}s, build ${t_build}s, boot $(sed -n 's/.* seconds=\([0-9]*\).*/\1/p' "$RESULT")s"
done

# --- make shell, typed at (test mode) ----------------------------------------
SHELL_LANE=${PT_SHELL_CHECK_LANE-6.1}
if [ "$MODE" = test ] && [ -n "$SHELL_LANE" ] && [[ " ${LANES_ARG[*]} " == *" $SHELL_LANE "* ]]; then
	shell_check "$SHELL_LANE"
fi

# --- summary -----------------------------------------------------------------
case "$MODE" in
demo)
	demo_verdict
	exit
	;;
shell)
	v=$(sed -n 's/.*\bverdict=\([A-Z]*\).*/\1/p' "${RESULTS[0]}" 2>/dev/null)
	[ "$v" = PASS ] && [ "$EXTRA_FAILED" -eq 0 ]
	exit
	;;
esac
echo
say "summary ($MODE, $(($(now) - T_ALL)) s)"
bash "$TOP/vm/run.sh" --table "${RESULTS[@]}"
[ ${#BOOT_RETRIES[@]} -eq 0 ] ||
	say "booted twice, the first kernel having died before init: ${BOOT_RETRIES[*]}"
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
