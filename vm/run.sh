#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm/run.sh LANE [--mode test|demo|bench|soak|shell] [--timeout SEC] [--initrd FILE]
#
# Boots build/lanes/LANE/vmlinuz in QEMU (TCG; VM_ACCEL=kvm to opt in to KVM)
# with an initramfs (built by vm/mkinitramfs.sh unless --initrd is given),
# captures the serial console to build/logs/LANE[-MODE].log and judges it.
# The console goes to that file only: the terminal shows progress (test,
# soak), pendtimer race's lines (demo) or the guest's own output (bench),
# and on a failure a short excerpt of the log.
# --mode shell (make shell): the kernel console goes to the log on a second
# serial port (ttyS1); the first (ttyS0) is this terminal, an interactive
# shell in the guest with pendtimer.ko loaded (session copy in
# LANE-shell.session); no timeout on a terminal unless --timeout is given.
# Input that is not a terminal goes to the shell once its prompt is up;
# its end types `exit`. Judged:
#   - guest header "PENDTIMER-GUEST ... cpus=2" and "smp: Brought up ... 2 CPUs"
#   - KTAP blocks (TAP version 13 / 1..N / ok N / not ok N / # SKIP)
#   - PENDTIMER-DONE rc=0 present
#   - no kernel reports (BUG/WARNING/KASAN/UBSAN/lockdep/ODEBUG/kmemleak/...)
#   - debug lanes (debug, debug-latest): KASAN, lockdep and kmemleak are active
#   - kcsan lane: KCSAN is active (strict mode, selftest passed, debugfs
#     "enabled: 1" at the end). A KCSAN report ("BUG: KCSAN: data-race in
#     A / B") naming a pendtimer function as A or B is a kernel report and
#     fails the lane; a race between core functions (even one reached from
#     a pendtimer call) is counted (kcsan_core=N) and
#     listed, not failed; so is the one race of the kernel's own
#     no_notify_signal_save() inlined into pendtimer_wait (see
#     kcsan_known_core). Every KCSAN report, whole, goes to LANE.kcsan.
# Writes one line to build/logs/LANE[-MODE].result:
#   lane=L mode=M release=R cpus=N passed=N failed=N skipped=N reports=N
#   kcsan_core=N verdict=PASS|FAIL seconds=N log=PATH reason=a,b,c
# `failed` counts failed KTAP results, plus blocks that stopped short of their
# plan, plus 1 if the lane failed for any other reason while that sum was 0.
# Exits 0 only when the verdict is PASS.
#
# Environment: BUILD, VM_ACCEL (tcg|kvm), VM_MEM (MiB, default 2048; 1024
# on the debug lanes),
# VM_SMP (default 2), VM_EXTRA_APPEND (more kernel cmdline), QEMU
# (default qemu-system-x86_64), PT_RUN_TESTS (passed to mkinitramfs.sh).
# The whole script is one brace group: bash parses it completely before
# running it, so editing this file cannot break a run in progress.
{
set -uo pipefail

# vm/run.sh --table RESULT...: print the per-lane table of result files.
print_table() {
	printf '%-9s %-26s %4s %6s %6s %7s %7s %-7s %5s  %s\n' \
		lane release cpus passed failed skipped reports verdict secs log
	local f line
	for f in "$@"; do
		if [ ! -s "$f" ]; then
			printf '%-9s %-26s %4s %6s %6s %7s %7s %-7s %5s  %s\n' \
				"$(basename "${f%.result}")" "?" "?" 0 1 0 0 FAIL "?" "(no result: $f)"
			continue
		fi
		line=$(head -n 1 "$f")
		(
			for kv in $line; do
				case "$kv" in *=*) declare "R_${kv%%=*}=${kv#*=}" ;; esac
			done
			local name=${R_lane:-?}
			[ "${R_mode:-test}" = test ] || name="$name/${R_mode}"
			printf '%-9s %-26s %4s %6s %6s %7s %7s %-7s %5s  %s\n' \
				"$name" "${R_release:-?}" "${R_cpus:-?}" "${R_passed:-0}" \
				"${R_failed:-1}" "${R_skipped:-0}" "${R_reports:-0}" \
				"${R_verdict:-FAIL}" "${R_seconds:-?}" "${R_log:-?}"
		)
	done
}
if [ "${1:-}" = --table ]; then
	shift
	print_table "$@"
	exit 0
fi

# --- console handling: what reaches the terminal ------------------------------
# Carriage returns and the firmware's terminal escapes (ESC c resets the
# terminal) stay out of the live view and the parser.
STRIP='s/\r//g; s/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g'

# The guest's kernel console: ttyS0 (the log file), ttyS1 in shell mode.
console_dev() {
	if [ "$MODE" = shell ]; then echo ttyS1; else echo ttyS0; fi
}

# Shell mode: the terminal's size for the guest's tty.
shell_append() {
	local size
	[ "$MODE" = shell ] && [ -t 0 ] || return 0
	size=$(stty size 2>/dev/null) || return 0
	set -- $size
	[ $# -eq 2 ] && [ "$1" -gt 0 ] && [ "$2" -gt 0 ] && echo " pt.rows=$1 pt.cols=$2"
}

# QEMU's display and serial ports. Not shell: ttyS0 -> stdout (the log).
# Shell: ttyS0 <-> this terminal (signal=off: Ctrl-C goes to the guest;
# mux: Ctrl-A x still quits QEMU), copied to the session file; ttyS1 ->
# the log; no firmware screen on the terminal (it has a VGA of its own).
console_args() {
	if [ "$MODE" = shell ]; then
		echo "-display none -chardev stdio,id=term,mux=on,signal=off,logfile=$SESSION" \
			"-serial chardev:term -serial file:$LOG"
	else
		echo -nographic
	fi
}

# Shell mode: QEMU in the foreground on this terminal. Input that is not a
# terminal (a pipe, a file, /dev/null) is passed on only once the guest's
# prompt is there (what comes earlier the serial port would drop), and its
# end types `exit`, as Ctrl-D would.
shell_run() {
	local to=() fifo relay rc
	[ "$TIMEOUT" -gt 0 ] && to=(timeout --foreground -k 10 "$TIMEOUT")
	if [ -t 0 ]; then
		say "the guest's shell comes up in this terminal in about a minute;" \
			"\`exit\` or Ctrl-D powers it off (Ctrl-A x quits QEMU if it hangs)"
		"${to[@]}" "$QEMU" "${QARGS[@]}"
		return
	fi
	say "input is not a terminal: it goes to the guest's shell once its prompt is up"
	fifo=$(mktemp -u "${TMPDIR:-/tmp}/pt-shell-in.XXXXXX")
	mkfifo "$fifo" || return 1
	exec 8<>"$fifo" 9<&0
	rm -f "$fifo"
	(
		cpid=
		trap '[ -n "$cpid" ] && kill $cpid 2>/dev/null; exit 0' TERM
		until grep -q 'pendtimer-guest:' "$SESSION" 2>/dev/null; do
			sleep 1
		done
		cat <&9 >&8 &
		cpid=$!
		wait $cpid
		printf 'exit\r' >&8
	) &
	relay=$!
	"${to[@]}" "$QEMU" "${QARGS[@]}" <&8
	rc=$?
	kill $relay 2>/dev/null
	wait $relay 2>/dev/null
	exec 8>&- 9<&-
	return $rc
}

# Follow $LOG while QEMU ($QPID) runs and print what a person wants to read:
#   test, soak: the guest header, a line per test binary with its results,
#               each failing test line, PENDTIMER-DONE
#   demo:       pendtimer race's own lines (its RESULT line is left to
#               vm/check.sh's verdict), failures of run-tests.sh
#   bench:      the guest's user-space output: no kernel log, no dmesg dump
live_view() {
	tail -n +1 -f --pid="$QPID" "$LOG" 2>/dev/null | sed -u -e "$STRIP" |
		awk -v tag="$SUFFIX" -v mode="$MODE" '
	function endblock() {
		if (inblk)
			printf "run %s:   %s: %d ok, %d not ok, %d skipped (plan %s)\n",
				tag, (name == "" ? "test block " nb : name), p, f, s,
				(plan == "" ? "none" : plan)
		inblk = 0; name = ""
		fflush()
	}
	/=== PENDTIMER DMESG BEGIN ===/ { dump = 1 }
	/=== PENDTIMER DMESG END ===/ { dump = 0; next }
	dump { next }
	/PENDTIMER-GUEST / { up = 1 }
	mode == "demo" {
		if ($0 ~ /^# FAIL/) { print; fflush() }
		if ($0 ~ /^pendtimer race: /) race = 1
		if (race && $0 !~ /^\[ *[0-9]+\.[0-9]+\] / && $0 !~ /^RESULT: /) { print; fflush() }
		if ($0 ~ /^RESULT: /) race = 0
		next
	}
	mode == "bench" {
		if (up && $0 !~ /^\[ *[0-9]+\.[0-9]+\] / && $0 !~ /PENDTIMER-GUEST /) { print; fflush() }
		next
	}
	/PENDTIMER-GUEST / { h = $0; sub(/^.*PENDTIMER-GUEST /, "", h); printf "run %s:   guest up: %s\n", tag, h; fflush() }
	/^# m32: pendtimer_[a-z0-9_]+$/ { cur = $0; sub(/^# /, "", cur) }
	/^# pendtimer_[a-z0-9_]+$/ { n = $0; sub(/^# /, "", n); if (cur != "m32: " n) cur = n }
	/^(TAP|KTAP) version / { endblock(); inblk = 1; nb++; p = f = s = 0; plan = ""; name = cur; cur = ""; next }
	inblk && /^1\.\.[0-9]+/ { plan = $1; sub(/^1\.\./, "", plan); next }
	inblk && /^not ok [0-9]+/ { f++; print "run " tag ":   " $0; fflush(); next }
	inblk && /^ok [0-9]+/ { if ($0 ~ /# *[Ss][Kk][Ii][Pp]/) s++; else p++; next }
	/^# FAIL/ { print "run " tag ":   " $0; fflush() }
	/PENDTIMER-DONE/ { endblock(); sub(/^.*PENDTIMER-DONE/, "PENDTIMER-DONE"); printf "run %s:   %s\n", tag, $0; fflush() }
	'
}

# On a failure: a short excerpt of the log (each failing test with the
# diagnostics just before it, the kernel reports, the last console lines
# before the dmesg dump) and where the whole log is.
failure_excerpt() {
	say "FAILED ($REASON); excerpt of the guest log:"
	echo "$PARSE" | grep -E '^BLOCK ' | sed 's/^/    /' | head -n 10
	awk '
	/=== PENDTIMER DMESG BEGIN ===/ { exit }
	/^#/ || /^ +#/ { ctx[n++ % 4] = $0; next }
	/^(not ok [0-9]+|# FAIL)/ {
		for (i = (n > 4 ? n - 4 : 0); i < n; i++) print "    " ctx[i % 4]
		print "    " $0; n = 0; shown++
		if (shown >= 8) exit
		next
	}
	{ n = 0 }' "$CLEAN" | head -n 40
	if [ "${P_nrep:-0}" -gt 0 ]; then
		say "kernel reports ($P_nrep distinct lines, all in $REPORTS):"
		head -n 12 "$REPORTS" | sed 's/^/    /'
	fi
	say "last console lines:"
	sed -n '/=== PENDTIMER DMESG BEGIN ===/q; p' "$CLEAN" | grep -v '^[[:space:]]*$' |
		tail -n 12 | sed 's/^/    /'
	say "full log: $LOG"
}

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
LANE=
MODE=test
TIMEOUT=
INITRD=
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) MODE=$2; shift 2 ;;
	--mode=*) MODE=${1#*=}; shift ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--timeout=*) TIMEOUT=${1#*=}; shift ;;
	--initrd) INITRD=$2; shift 2 ;;
	--initrd=*) INITRD=${1#*=}; shift ;;
	-h | --help)
		sed -n '3,28p' "$0"
		exit 0
		;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) LANE=$1; shift ;;
	esac
done
[ -n "$LANE" ] || { echo "usage: $0 LANE [--mode test|demo|bench|soak] [--timeout SEC]" >&2; exit 2; }
case "$MODE" in test | demo | bench | soak | shell) ;; *) echo "run.sh: bad mode $MODE" >&2; exit 2 ;; esac
# A shell on a terminal has no timeout; one fed by a pipe or a file has.
[ -n "$TIMEOUT" ] || { [ "$MODE" = shell ] && [ -t 0 ] && TIMEOUT=0 || TIMEOUT=900; }
case "$TIMEOUT" in '' | *[!0-9]*) echo "run.sh: bad timeout $TIMEOUT" >&2; exit 2 ;; esac

LDIR=$BUILD/lanes/$LANE
LOGDIR=$BUILD/logs
SUFFIX=$LANE
[ "$MODE" = test ] || SUFFIX=$LANE-$MODE
LOG=$LOGDIR/$SUFFIX.log
RESULT=$LOGDIR/$SUFFIX.result
REPORTS=$LOGDIR/$SUFFIX.reports
SESSION=$LOGDIR/$SUFFIX.session
KCSAN=$LOGDIR/$SUFFIX.kcsan
mkdir -p "$LOGDIR"
rm -f "$RESULT" "$REPORTS" "$KCSAN"

SMP=${VM_SMP:-2}
# The KASAN lanes get 1 GiB: every kmemleak scan reads all of memory (about
# 40 s for 2 GiB under TCG), and their tests run a tenth of the requests.
case "$LANE" in
debug | debug-latest) MEM=${VM_MEM:-1024} ;;
*) MEM=${VM_MEM:-2048} ;;
esac
ACCEL=${VM_ACCEL:-tcg}
QEMU=${QEMU:-qemu-system-x86_64}
PT_TAG="run $SUFFIX"
. "$TOP/vm/lib.sh"

fail_early() { # REASON
	say "FAIL: $1"
	echo "lane=$LANE mode=$MODE release=? cpus=0 passed=0 failed=1 skipped=0 reports=0 verdict=FAIL seconds=0 log=$LOG reason=$1" >"$RESULT"
	exit 1
}
[ -s "$LDIR/vmlinuz" ] || fail_early "no-kernel:$LDIR/vmlinuz(run vm/lane.sh $LANE)"
command -v "$QEMU" >/dev/null || fail_early "no-qemu:$QEMU"
RELEASE=$(cat "$LDIR/release" 2>/dev/null || echo "?")

if [ -z "$INITRD" ]; then
	INITRD=$LDIR/initramfs-$MODE.cpio.gz
	bash "$TOP/vm/mkinitramfs.sh" "$LANE" "$INITRD" || fail_early "initramfs"
fi
[ -s "$INITRD" ] || fail_early "no-initrd:$INITRD"

APPEND="console=$(console_dev) panic=-1 slab_nomerge printk.time=1 pt.mode=$MODE pt.lane=$LANE"
case "$LANE" in debug | debug-latest) APPEND+=" kmemleak=on" ;; esac
[ -n "${VM_EXTRA_APPEND:-}" ] && APPEND+=" $VM_EXTRA_APPEND"
APPEND+=$(shell_append)

case "$ACCEL" in
kvm) ACCEL_ARGS=(-accel kvm -cpu host) ;;
tcg) ACCEL_ARGS=(-accel tcg,thread=multi -cpu max) ;;
*) fail_early "bad-VM_ACCEL:$ACCEL" ;;
esac

QARGS=("${ACCEL_ARGS[@]}" -smp "$SMP" -m "$MEM" $(console_args) -no-reboot -nic none
	-kernel "$LDIR/vmlinuz" -initrd "$INITRD" -append "$APPEND")
say "booting $RELEASE ($ACCEL, -smp $SMP, -m $MEM, $([ "$TIMEOUT" -gt 0 ] && echo "timeout ${TIMEOUT}s" || echo "no timeout")), log $LOG"
echo "# $QEMU ${QARGS[*]}" >"$LOG.cmd"

T0=$(date +%s)
: >"$LOG"
if [ "$MODE" = shell ]; then
	shell_run
	QRC=$?
else
	timeout -k 10 "$TIMEOUT" "$QEMU" "${QARGS[@]}" </dev/null >>"$LOG" 2>&1 &
	QPID=$!
	live_view &
	FOLLOW=$!
	wait $QPID
	QRC=$?
	wait $FOLLOW 2>/dev/null
fi
T1=$(date +%s)
SECS=$((T1 - T0))
TIMED_OUT=0
[ $QRC -eq 124 ] || [ $QRC -eq 137 ] && TIMED_OUT=1

# ---------------------------------------------------------------------------
# Judge the log.
# ---------------------------------------------------------------------------
CLEAN=$LOGDIR/.$SUFFIX.clean
sed -e "$STRIP" "$LOG" >"$CLEAN"

PARSE=$(awk -v lane="$LANE" -v reports="$REPORTS" -v kcsanf="$KCSAN" '
BEGIN {
	# Kernel reports: matched in kernel log lines (after the printk
	# timestamp), in the console stream and in the dmesg dump.
	nrp = split("BUG:|WARNING:|KASAN:|UBSAN:|possible circular locking|" \
		"possible recursive locking|inconsistent lock state|suspicious RCU usage|" \
		"DEBUG_LOCKS_WARN_ON|INFO: possible irq lock inversion|" \
		"lock held when returning to user space|sleeping function called from invalid context|" \
		"ODEBUG:|unreferenced object 0x|new suspected memory leaks|" \
		"INFO: task .* blocked for more than|soft lockup|hard LOCKUP|Kernel panic|" \
		"Oops|general protection fault|Call Trace:|self-detected stall|rcu: INFO:|" \
		"detected stalls on CPUs|rcu_preempt detected stall|" \
		"kmemleak: Kernel memory leak detector disabled|" \
		"Kernel memory leak detector disabled|" \
		"Unable to handle kernel|kernel BUG at|invalid opcode:|" \
		"list_add corruption|list_del corruption|refcount_t: ", rp, "|")
	nbenign = split("loading out-of-tree module taints kernel|" \
		"module verification failed|" \
		"tainting kernel", bn, "|")
	# Lanes whose guest enables kmemleak (vm/guest/init clears the boot objects).
	kml = (lane == "debug" || lane == "debug-latest")
	sect = "console"; nblk = 0; inblk = 0; kmlclear = !kml
	cpus = ""; rel = ""; done = 0; donerc = ""; smp = ""
	kasan = 0; lockdep = 0; kmemleak = 0; dumpend = 0
	kcsan_early = kcsan_strict = kcsan_self = kcsan_dbg = 0; kcsan_races = "?"
	inkc = 0; nkcore = 0
	tp = tf = ts = 0; mism = 0; nrep = 0
}
function endblock() {
	if (!inblk) return
	inblk = 0
	if (plan == "") {
		printf "BLOCK %d no plan, %d results (counted as a failure)\n", nblk, bres
		mism++
	} else if (bplan == 0 && planskip) {
		ts++
	} else if (bres != bplan) {
		printf "BLOCK %d stopped short: %d of %d results (counted as a failure)\n", nblk, bres, bplan
		mism++
	}
}
# A KCSAN report runs from its "BUG: KCSAN:" line to the closing line of
# "=" signs. Ours if pendtimer code is in it before "Reported by" (after
# that come the CPU and Comm lines, and a test binary is called pendtimer_*).
function kcsan_line(k) {
	kctext = kctext "\n" k
	if (++kcn > 400) { kcsan_end(); return }
	if (k ~ /Reported by Kernel Concurrency Sanitizer/) kcfoot = 1
	# Stacks are kept for the report file; which side is ours is decided
	# by the report title (kcsan_end()).
}
# One race with pendtimer on the stack belongs to the core kernel: the WAIT
# ioctl asks not to be woken by TIF_NOTIFY_SIGNAL with the kernel helpers
# no_notify_signal_save()/no_notify_signal_restore() (inline,
# inlined into pendtimer_wait), which set PF_NO_NOTIFY_SIGNAL with a plain
# write to current->flags, while the signal code reads the target 4-byte
# ->flags plainly (prepare_signal() and friends). Every user of the helper
# (coredump, pid namespace teardown) has the same race; it is counted and
# listed with the core reports. Nothing else in pendtimer_wait writes 4
# bytes the signal code reads.
function kcsan_known_core() {
	return kctext ~ /of 4 bytes/ &&
		kchead ~ /data-race in (pendtimer_wait \[pendtimer\] \/ (prepare_signal|complete_signal|__send_signal_locked|wants_signal|signal_wake_up_state)|(prepare_signal|complete_signal|__send_signal_locked|wants_signal|signal_wake_up_state) \/ pendtimer_wait \[pendtimer\])[ \t]*$/
}
function kcsan_end() {
	if (!inkc) return
	inkc = 0
	# Ours: a pendtimer function is one of the two racing accesses named in
	# the title ("data-race in A / B"). A race between two core functions
	# that a pendtimer call led into (ktime_get() vs. the timekeeping
	# update, say) belongs to the core kernel.
	kcours = kchead ~ /(in |\/ )pendtimer_[A-Za-z0-9_]*( \[pendtimer[A-Za-z0-9_]*\])?( |$)/
	if (kcours && kcsan_known_core()) {
		kchead = kchead " (no_notify_signal_save() vs. the signal code: core kernel)"
		kcours = 0
	}
	if (kcours) {
		print "[pendtimer] " kctext "\n" > kcsanf
		report(kchead " (pendtimer code on the stack: see " kcsanf ")")
	} else {
		print "[core] " kctext "\n" > kcsanf
		if (!(kchead in kcore)) { kcore[kchead] = 1; nkcore++; print "KCSANCORE " kchead }
	}
}
function report(text, key) {
	key = text
	if (key in seen) return
	seen[key] = 1
	nrep++
	print text > reports
}
{
	line = $0
}
line ~ /=== PENDTIMER DMESG BEGIN ===/ { endblock(); kcsan_end(); sect = "dmesg"; kmlclear = !kml; next }
line ~ /=== PENDTIMER DMESG END ===/ { sect = "after"; dumpend = 1; next }
line ~ /=== PENDTIMER KMEMLEAK BEGIN ===/ { endblock(); sect = "kmemleak"; next }
line ~ /=== PENDTIMER KMEMLEAK END ===/ { sect = "console"; next }
line ~ /=== PENDTIMER KCSAN BEGIN ===/ { endblock(); kcsan_end(); sect = "kcsan"; next }
line ~ /=== PENDTIMER KCSAN END ===/ { sect = "console"; next }
sect == "kcsan" {
	if (line ~ /^enabled: 1/) kcsan_dbg = 1
	if (line ~ /^data_races: [0-9]+/) { kcsan_races = line; sub(/^data_races: /, "", kcsan_races) }
	next
}
{
	# Kernel log line? Take what follows the printk timestamp.
	k = ""
	if (match(line, /\[ *[0-9]+\.[0-9]+\] /))
		k = substr(line, RSTART + RLENGTH)
	else if (sect == "kmemleak")
		k = line
	if (k != "" && inkc) {
		if (k ~ /^=+$/) { kcsan_end(); next }
		if (k !~ /BUG: KCSAN:/) { kcsan_line(k); next }
		kcsan_end()
	}
	if (k != "" && k ~ /BUG: KCSAN:/) {
		inkc = 1; kcn = 0; kcfoot = 0; kcours = 0
		kchead = k; sub(/^.*BUG: KCSAN:/, "BUG: KCSAN:", kchead)
		kctext = k
		kcsan_line("")
		if (kchead ~ /pendtimer/) kcours = 1
		next
	}
	if (k != "") {
		if (k ~ /kcsan: enabled early/) kcsan_early = 1
		if (k ~ /kcsan: strict mode configured/) kcsan_strict = 1
		if (k ~ /kcsan: selftest: [0-9]+\/[0-9]+ tests passed/) {
			s = k; sub(/^.*selftest: /, "", s); split(s, st, "[/ ]"); kcsan_self = (st[1] == st[2] && st[1] > 0)
		}
		if (k ~ /smp: Brought up [0-9]+ nodes?, [0-9]+ CPUs?/) {
			s = k; sub(/^.*smp: Brought up [0-9]+ nodes?, /, "", s); sub(/ CPU.*$/, "", s); smp = s
		}
		if (k ~ /KernelAddressSanitizer initialized/) kasan = 1
		if (k ~ /Lock dependency validator/) lockdep = 1
		if (k ~ /kmemleak: Kernel memory leak detector initialized/) kmemleak = 1
		if (k ~ /pendtimer-init: kmemleak boot objects cleared/) kmlclear = 1
		ben = 0
		for (i = 1; i <= nbenign; i++) if (index(k, bn[i])) { ben = 1; break }
		# The boot-time scan (init clears it) is not ours.
		if (!kmlclear && k ~ /new suspected memory leaks/) ben = 1
		if (!ben)
			for (i = 1; i <= nrp; i++)
				if (k ~ rp[i]) { report(k); break }
	}
}
sect != "console" { next }
line ~ /PENDTIMER-GUEST / {
	h = line; sub(/^.*PENDTIMER-GUEST /, "", h)
	n = split(h, kv, " ")
	for (i = 1; i <= n; i++) {
		if (kv[i] ~ /^cpus=/) cpus = substr(kv[i], 6)
		if (kv[i] ~ /^release=/) rel = substr(kv[i], 9)
	}
	next
}
line ~ /PENDTIMER-DONE rc=/ {
	endblock()
	d = line; sub(/^.*PENDTIMER-DONE rc=/, "", d); sub(/[^0-9-].*$/, "", d)
	done = 1; donerc = d
	next
}
line ~ /^(TAP|KTAP) version [0-9]+/ {
	endblock(); inblk = 1; nblk++; plan = ""; bplan = 0; bres = 0; planskip = 0
	next
}
inblk && line ~ /^1\.\.[0-9]+/ {
	plan = line; sub(/^1\.\./, "", plan); sub(/[^0-9].*$/, "", plan); bplan = plan + 0
	if (line ~ /# *[Ss][Kk][Ii][Pp]/) planskip = 1
	next
}
inblk && line ~ /^(not )?ok [0-9]+/ {
	bres++
	dir = ""
	if (match(line, /[^\\]# *[A-Za-z]+/)) { dir = toupper(substr(line, RSTART + 1)); sub(/^# */, "", dir); sub(/[^A-Z].*$/, "", dir) }
	if (dir == "SKIP" || dir == "TODO") ts++
	else if (line ~ /^not ok/) { tf++; print "FAILED " line }
	else tp++
	next
}
END {
	endblock()
	kcsan_end()
	printf "VARS cpus=%s rel=%s done=%d donerc=%s smp=%s kasan=%d lockdep=%d kmemleak=%d dumpend=%d tp=%d tf=%d ts=%d mism=%d nrep=%d nblk=%d kcsan_early=%d kcsan_strict=%d kcsan_self=%d kcsan_dbg=%d kcsan_races=%s nkcore=%d\n",
		(cpus == "" ? "?" : cpus), (rel == "" ? "?" : rel), done, (donerc == "" ? "?" : donerc),
		(smp == "" ? "?" : smp), kasan, lockdep, kmemleak, dumpend, tp, tf, ts, mism, nrep, nblk,
		kcsan_early, kcsan_strict, kcsan_self, kcsan_dbg, kcsan_races, nkcore
}' "$CLEAN")

VARS=$(echo "$PARSE" | sed -n 's/^VARS //p')
for kv in $VARS; do
	declare "P_${kv%%=*}=${kv#*=}"
done
: >>"$REPORTS"

REASONS=()
[ $TIMED_OUT -eq 1 ] && REASONS+=("timeout-${TIMEOUT}s")
[ "$P_rel" = "?" ] && REASONS+=("no-guest-header")
[ "$P_rel" != "?" ] && [ "$P_rel" != "$RELEASE" ] && REASONS+=("release-mismatch:$P_rel")
[ "$P_cpus" = "?" ] || [ "$P_cpus" = "$SMP" ] || REASONS+=("guest-cpus=$P_cpus")
[ "$P_smp" = "$SMP" ] || REASONS+=("smp-brought-up=$P_smp")
[ "$P_done" = 1 ] || REASONS+=("no-PENDTIMER-DONE")
[ "$P_done" = 1 ] && [ "$P_donerc" != 0 ] && REASONS+=("rc=$P_donerc")
[ "$P_dumpend" = 1 ] || REASONS+=("no-dmesg-dump")
[ "$P_nrep" -gt 0 ] && REASONS+=("kernel-reports=$P_nrep")
[ "$P_tf" -gt 0 ] && REASONS+=("not-ok=$P_tf")
[ "$P_mism" -gt 0 ] && REASONS+=("incomplete-blocks=$P_mism")
if [ "$MODE" = test ] && [ $((P_tp + P_tf + P_ts + P_mism)) -eq 0 ]; then
	REASONS+=("no-test-results")
fi
case "$LANE" in
debug | debug-latest)
	[ "$P_kasan" = 1 ] || REASONS+=("KASAN-not-active")
	[ "$P_lockdep" = 1 ] || REASONS+=("lockdep-not-active")
	[ "$P_kmemleak" = 1 ] || REASONS+=("kmemleak-not-active")
	;;
kcsan)
	[ "$P_kcsan_early" = 1 ] || REASONS+=("KCSAN-not-enabled-early")
	[ "$P_kcsan_strict" = 1 ] || REASONS+=("KCSAN-not-strict")
	[ "$P_kcsan_self" = 1 ] || REASONS+=("KCSAN-selftest-not-passed")
	[ "$P_kcsan_dbg" = 1 ] || REASONS+=("KCSAN-not-enabled-at-end")
	;;
esac

FAILED=$((P_tf + P_mism))
if [ ${#REASONS[@]} -eq 0 ]; then
	VERDICT=PASS
else
	VERDICT=FAIL
	[ $FAILED -gt 0 ] || FAILED=1
fi
REASON=$(IFS=,; echo "${REASONS[*]:-}")
[ -n "$REASON" ] || REASON=none
CPUS=$P_cpus

echo "lane=$LANE mode=$MODE release=$RELEASE cpus=$CPUS passed=$P_tp failed=$FAILED skipped=$P_ts reports=$P_nrep kcsan_core=$P_nkcore verdict=$VERDICT seconds=$SECS log=$LOG reason=$REASON" >"$RESULT"

rm -f "$CLEAN.tail"
[ "$VERDICT" = PASS ] || failure_excerpt
if [ "${P_nkcore:-0}" -gt 0 ]; then
	say "KCSAN reports inside the core kernel (counted, not failed; whole reports in $KCSAN):"
	echo "$PARSE" | sed -n 's/^KCSANCORE /    /p' | head -n 40
fi
[ "$LANE" != kcsan ] || say "KCSAN: data_races counter at the end: $P_kcsan_races"
rm -f "$CLEAN"

case "$MODE" in
demo)
	# The demo's one PASS/FAIL line is vm/check.sh's last line.
	say "guest done in ${SECS}s: $([ "$VERDICT" = PASS ] && echo "log clean" ||
		echo "problems: $REASON"); full log $LOG"
	;;
shell)
	say "guest powered off after ${SECS}s: $VERDICT${REASONS:+ (${REASON})}; kernel log $LOG"
	;;
*)
	print_table "$RESULT"
	say "$VERDICT in ${SECS}s${REASONS:+ (${REASON})}"
	;;
esac
[ "$VERDICT" = PASS ]
exit
}
