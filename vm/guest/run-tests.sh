#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run-tests.sh [MODE]: the guest side of the pendtimer tests (busybox sh).
#
# Installed as /pendtimer/run-tests.sh in the initramfs by vm/mkinitramfs.sh;
# test binaries in /pendtimer/tests/, modules and the other guest scripts
# (run-soak.sh, run-bench.sh) in /pendtimer/.
#
#   MODE (argument, else $PT_MODE, else "test"):
#   test   pendtimer_load_test (it does insmod/rmmod itself), then
#          insmod pendtimer.ko, every other pendtimer_*_test, the KUnit
#          module if there is one (its result re-emitted as KTAP), the
#          race soak and the fuzzer when the kernel command line gives
#          them a budget (pt.soak_contested=N, pt.fuzz_ops=N: vm/check.sh
#          does on the debug and 6.12-rt lanes), rmmod, and a check that
#          nothing is left behind
#   demo   insmod, pendtimer race --show (or pendtimer_race_test), rmmod, check
#   bench  insmod, every pendtimer_bench* binary, rmmod, check
#   soak   insmod, $PT_SOAK_ROUNDS (default 5) rounds of every test binary
#          but the load test, rmmod, check
#
# Output: KTAP blocks from the binaries, "# " diagnostics, and as the very
# last line exactly
#   PENDTIMER-DONE rc=N
# with N the number of failed binaries and steps (0 = everything passed).
# The exit status is N too (capped at 255).
#
# Environment: LANE (for the log), PT_MODE, PT_DIR (default /pendtimer),
# PT_INSMOD_ARGS (parameters for pendtimer.ko), PT_BIN_TIMEOUT (seconds per
# binary; default: timeout= of $PT_DIR/tests/settings, the kselftest
# settings file selftests/settings), PT_SOAK_ROUNDS.

MODE=${1:-${PT_MODE:-test}}
LANE=${LANE:-unknown}
PT_DIR=${PT_DIR:-/pendtimer}
TESTS=$PT_DIR/tests
KO=$PT_DIR/pendtimer.ko
KUNIT_KO=$PT_DIR/pendtimer_kunit.ko
BIN_TIMEOUT=${PT_BIN_TIMEOUT:-$(sed -n 's/^timeout=\([0-9][0-9]*\).*/\1/p' \
	"$TESTS/settings" 2>/dev/null | tail -n 1)}
PT_INSMOD_ARGS=${PT_INSMOD_ARGS:-}
TMP=${TMPDIR:-/tmp}
rc=0

msg() { echo "# $*"; }
fail() {
	echo "# FAIL: $(echo "$*" | tr '\n' ' ')"
	rc=$((rc + 1))
}
have() { command -v "$1" >/dev/null 2>&1; }
uptime_s() { cut -d. -f1 /proc/uptime; }

# Run one binary under a timeout; a non-zero exit counts one failure.
run_bin() { # PATH
	name=${1##*/}
	case ",${ONLY:-$name}," in
	*",$name,"*) ;;
	*) msg "$name: skipped (not in pt.only=$ONLY)"; return 0 ;;
	esac
	msg "$name"
	t0=$(uptime_s)
	if have timeout && [ -n "$BIN_TIMEOUT" ]; then
		timeout -s KILL "$BIN_TIMEOUT" "$1"
	else
		"$1"
	fi
	r=$?
	msg "$name: $(($(uptime_s) - t0)) s"
	if [ $r -ne 0 ]; then
		fail "$name exited with status $r"
	fi
	return $r
}

# Run one binary with arguments under a timeout.
run_bin_args() { # PATH ARGS...
	name=${1##*/}
	msg "$*"
	if have timeout && [ -n "$BIN_TIMEOUT" ]; then
		timeout -s KILL "$BIN_TIMEOUT" "$@"
	else
		"$@"
	fi
	r=$?
	[ $r -eq 0 ] || fail "$name exited with status $r"
	return $r
}

module_loaded() { [ -d /sys/module/pendtimer ]; }

# insmod pendtimer.ko and wait for /dev/pendtimer0.
load_module() {
	if [ ! -f "$KO" ]; then
		fail "$KO is missing"
		return 1
	fi
	# shellcheck disable=SC2086
	out=$(insmod "$KO" $PT_INSMOD_ARGS 2>&1)
	if [ $? -ne 0 ]; then
		fail "insmod $KO $PT_INSMOD_ARGS: $out"
		return 1
	fi
	i=0
	while [ ! -c /dev/pendtimer0 ] && [ $i -lt 50 ]; do
		usleep 100000
		i=$((i + 1))
	done
	if [ ! -c /dev/pendtimer0 ]; then
		fail "/dev/pendtimer0 did not appear after insmod"
		return 1
	fi
	msg "pendtimer.ko loaded${PT_INSMOD_ARGS:+ ($PT_INSMOD_ARGS)}"
	return 0
}

# rmmod pendtimer (retrying a few times while a reference drains).
unload_module() {
	module_loaded || return 0
	i=0
	while :; do
		out=$(rmmod pendtimer 2>&1) && break
		i=$((i + 1))
		if [ $i -ge 20 ]; then
			fail "rmmod pendtimer: $out"
			return 1
		fi
		usleep 250000
	done
	msg "pendtimer.ko unloaded"
	return 0
}

# Nothing of the module may survive its unload.
check_gone() {
	n=0
	while [ $n -lt 20 ]; do
		left=
		for p in /dev/pendtimer0 /sys/module/pendtimer /sys/bus/pendtimer \
			/sys/kernel/debug/pendtimer; do
			[ -e "$p" ] && left="$left $p"
		done
		for p in /dev/pendtimer[0-9]*; do
			[ -e "$p" ] && case " $left " in *" $p "*) ;; *) left="$left $p" ;; esac
		done
		if [ -r /proc/slabinfo ] && grep -q '^pendtimer_req ' /proc/slabinfo; then
			left="$left slab:pendtimer_req"
		fi
		[ -z "$left" ] && break
		usleep 100000
		n=$((n + 1))
	done
	if [ -n "$left" ]; then
		fail "left behind after rmmod:$left"
		return 1
	fi
	msg "nothing left behind after rmmod"
	return 0
}

# The KUnit module runs its suites at load; re-emit them from dmesg as KTAP.
run_kunit() {
	[ -f "$KUNIT_KO" ] || return 0
	marker="pendtimer-run-tests: kunit $$ $(cat /proc/uptime 2>/dev/null)"
	if [ -w /dev/kmsg ]; then
		echo "<7>$marker" >/dev/kmsg
	else
		marker=
	fi
	msg "pendtimer_kunit.ko"
	out=$(insmod "$KUNIT_KO" 2>&1)
	ins=$?
	out=$(echo "$out" | tr '\n\\' '  ')
	dmesg >"$TMP/pt-dmesg.$$" 2>/dev/null
	awk -v marker="$marker" -v ins="$ins" -v insout="$out" '
	BEGIN { on = (marker == ""); n = 0; suite = ""; nd = 0 }
	!on { if (index($0, marker)) on = 1; next }
	{
		sub(/^\[[ 0-9.]*\] ?/, "")
		line = $0
	}
	line ~ /^    # Subtest: / {
		suite = line; sub(/^    # Subtest: /, "", suite); next
	}
	line ~ /^    (not )?ok [0-9]+ / {
		s = line; sub(/^    /, "", s)
		okw = (s ~ /^not ok/) ? "not ok" : "ok"
		sub(/^(not )?ok [0-9]+ (- )?/, "", s)
		n++; res[n] = okw; name[n] = (suite != "" ? suite "." : "") s
		ntests[suite]++
		if (okw == "not ok") nfailed[suite]++
		next
	}
	line ~ /^(not )?ok [0-9]+ / {
		s = line
		okw = (s ~ /^not ok/) ? "not ok" : "ok"
		sub(/^(not )?ok [0-9]+ (- )?/, "", s)
		sname = s; sub(/ .*$/, "", sname)
		if (!(sname in ntests)) {
			n++; res[n] = okw; name[n] = s
		} else if (okw == "not ok" && !(sname in nfailed)) {
			# a failed suite whose tests all passed (init/exit failed)
			n++; res[n] = okw; name[n] = sname ".suite"
		}
		next
	}
	line ~ /^ *# / && line !~ /^ *# (Subtest|module):/ && nd < 200 {
		d = line; sub(/^ *# /, "", d); diag[++nd] = d; next
	}
	line ~ /^ {8}/ && nd < 200 { d = line; sub(/^ +/, "", d); diag[++nd] = "  " d }
	END {
		print "TAP version 13"
		if (ins != 0) {
			print "1..1"
			print "not ok 1 pendtimer_kunit # insmod failed: " insout
			exit 1
		}
		if (n == 0) {
			print "1..1"
			print "not ok 1 pendtimer_kunit # no KUnit results in dmesg"
			exit 1
		}
		print "1.." n
		bad = 0
		for (i = 1; i <= n; i++) {
			printf "%s %d %s\n", res[i], i, name[i]
			if (res[i] == "not ok") bad++
		}
		for (i = 1; i <= nd; i++) print "# kunit: " diag[i]
		exit bad ? 1 : 0
	}' "$TMP/pt-dmesg.$$"
	r=$?
	rm -f "$TMP/pt-dmesg.$$"
	[ $r -eq 0 ] || fail "pendtimer_kunit"
	if [ $ins -eq 0 ]; then
		out=$(rmmod pendtimer_kunit 2>&1) || fail "rmmod pendtimer_kunit: $out"
	fi
}

# cmdline NAME: the value of pt.NAME= on the kernel command line, if any
cmdline() {
	for arg in $(cat /proc/cmdline 2>/dev/null); do
		case "$arg" in
		pt.$1=*) echo "${arg#pt.$1=}"; return 0 ;;
		esac
	done
	return 1
}

# The race soak and the fuzzer (run-soak.sh) with the budgets the kernel
# command line gives; nothing when it gives none. The module stays loaded.
run_reliability() {
	ops=$(cmdline fuzz_ops) || ops=
	contested=$(cmdline soak_contested) || contested=
	[ -n "$ops$contested" ] || return 0
	if ! module_loaded; then
		fail "reliability: pendtimer is not loaded"
		return 1
	fi
	only=
	[ -n "$contested" ] && only="$only soak"
	[ -n "$ops" ] && only="$only fuzz"
	msg "reliability:$only (fuzz_ops=${ops:-0} soak_contested=${contested:-0})"
	PT_SOAK_ONLY=$only PT_SOAK_DONE=0 PT_BUDGET_STRICT=1 PT_FUZZ_OPS=${ops:-0} \
		PT_SOAK_CONTESTED=${contested:-0} PT_FUZZ_SECONDS=${PT_FUZZ_SECONDS:-1200} \
		PT_SOAK_SECONDS=${PT_SOAK_SECONDS:-1200} "$PT_DIR/run-soak.sh" ||
		fail "reliability (run-soak.sh)"
}

msg "pendtimer run-tests.sh: mode=$MODE lane=$LANE kernel=$(uname -r) cpus=$(nproc 2>/dev/null || echo ?)"
# pt.scale=N: the bulk tests run 1/N of their requests (pt_scaled())
# pt.only=NAME[,NAME...]: run only these test binaries (a developer's
# shortcut: VM_EXTRA_APPEND=pt.only=pendtimer_core_test make check LANES=...)
ONLY=$(cmdline only) || ONLY=
[ -z "$ONLY" ] || msg "only the test binaries $ONLY (pt.only)"
if scale=$(cmdline scale); then
	export PT_SCALE=$scale
	msg "bulk tests scaled down by $scale (pt.scale)"
fi
[ -d "$TESTS" ] || fail "$TESTS is missing"
# Without it the binaries run without a time limit.
[ -n "$BIN_TIMEOUT" ] || fail "no timeout= in $TESTS/settings (selftests/settings) and no PT_BIN_TIMEOUT"
export PENDTIMER_KO="$KO"

case "$MODE" in
test)
	if [ -x "$TESTS/pendtimer_load_test" ]; then
		run_bin "$TESTS/pendtimer_load_test"
	else
		fail "pendtimer_load_test is missing"
	fi
	if module_loaded; then
		msg "pendtimer still loaded after the load test: unloading it"
		unload_module
	fi
	load_module
	ntest=0
	for t in "$TESTS"/pendtimer_*_test; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		case "${t##*/}" in pendtimer_load_test) continue ;; esac
		run_bin "$t"
		ntest=$((ntest + 1))
	done
	[ $ntest -gt 0 ] || fail "no pendtimer_*_test binaries in $TESTS"
	# 32-bit user space through compat_ioctl: on the default lane (the
	# compat path does not differ between kernels; the debug lane has its
	# time budget spent on the fuzzer). PT_M32=1 runs them anywhere.
	[ "$LANE" = 6.1 ] || [ "${PT_M32:-0}" = 1 ] ||
		msg "m32: skipped on lane $LANE (PT_M32=1 to run)"
	for t in "$TESTS"/m32/pendtimer_*_test; do
		[ "$LANE" = 6.1 ] || [ "${PT_M32:-0}" = 1 ] || break
		[ -f "$t" ] && [ -x "$t" ] || continue
		case "${t##*/}" in pendtimer_load_test) continue ;; esac
		msg "m32: ${t##*/}"
		run_bin "$t"
	done
	if module_loaded; then
		run_kunit
	fi
	run_reliability
	unload_module
	check_gone
	;;
demo)
	load_module
	if [ -x "$TESTS/pendtimer" ]; then
		run_bin_args "$TESTS/pendtimer" race --show ${PT_DEMO_ARGS:-}
	elif [ -x "$TESTS/pendtimer_race_test" ]; then
		msg "no pendtimer CLI: running pendtimer_race_test"
		run_bin "$TESTS/pendtimer_race_test"
	else
		fail "neither the pendtimer CLI nor pendtimer_race_test in $TESTS"
	fi
	unload_module
	check_gone
	;;
bench)
	if [ -x "$PT_DIR/run-bench.sh" ]; then
		# the benchmark script loads and unloads the module itself
		"$PT_DIR/run-bench.sh" || fail "run-bench.sh"
		unload_module
		check_gone
		echo "PENDTIMER-DONE rc=$rc"
		exit $rc
	fi
	load_module
	nb=0
	for t in "$TESTS"/pendtimer_bench*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		run_bin "$t"
		nb=$((nb + 1))
	done
	[ $nb -gt 0 ] || fail "no pendtimer_bench* binaries in $TESTS"
	unload_module
	check_gone
	;;
soak)
	if [ -x "$PT_DIR/run-soak.sh" ]; then
		"$PT_DIR/run-soak.sh" || fail "run-soak.sh"
		unload_module
		check_gone
		echo "PENDTIMER-DONE rc=$rc"
		exit $rc
	fi
	rounds=${PT_SOAK_ROUNDS:-5}
	load_module
	round=1
	while [ $round -le "$rounds" ]; do
		msg "soak round $round of $rounds"
		for t in "$TESTS"/pendtimer_*_test; do
			[ -f "$t" ] && [ -x "$t" ] || continue
			case "${t##*/}" in pendtimer_load_test) continue ;; esac
			run_bin "$t"
		done
		round=$((round + 1))
	done
	unload_module
	check_gone
	;;
*)
	fail "unknown mode '$MODE' (test, demo, bench or soak)"
	;;
esac

echo "PENDTIMER-DONE rc=$rc"
[ $rc -le 255 ] || rc=255
exit $rc
