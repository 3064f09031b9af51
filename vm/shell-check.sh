#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm/shell-check.sh LANE: prove `make shell` the way a person uses it.
#
# Boots LANE in shell mode (vm/run.sh --mode shell, the module already built
# into build/lanes/LANE/modules/ by vm/check.sh) with this script at the
# other end of the guest's terminal: it waits for each prompt, types a
# command, and at the end `exit`. Then it checks what came back on the
# terminal (the session, build/logs/LANE-shell.session):
#   - the banner names the commands to try and that pendtimer.ko is loaded
#   - `pendtimer wait 0`  reports the timer fired, exit status 0
#   - `pendtimer arm 0`   reports the eventfd signalled, exit status 0
#   - `pendtimer --help`  prints the usage with the race command
#   - `cat /sys/module/pendtimer/parameters/max_pending` prints a number
#   - `pendtimer wait 1 --cancel-after 100 --via ioctl`: -ECANCELED, status 3
#   - `pendtimer race --show --iterations 2000`: RESULT: PASS, and a timeline
#     of each rule whose events come in the rule's order at times that do
#     not go back: rule 1 submit, timer_enter, complete, timer_late; rule 2
#     submit, timer_enter, cleanup_deferred, complete (timer_enter may also
#     come right after complete, resp. cleanup_deferred)
#   - `exit` powers the guest off (QEMU exits, run.sh judges the kernel log)
# and rewrites build/logs/LANE-shell.result as one result for vm/check.sh's
# summary: passed=1 failed=0, or passed=0 failed=1 with the reasons.
# Exits 0 on a pass.
#
# Environment: BUILD, PT_SHELL_TIMEOUT (seconds for the whole session,
# default 600), PT_SHELL_PROMPT_TIMEOUT (seconds per prompt, default 240),
# and what vm/run.sh reads.
# The whole script is one brace group: bash parses it completely before
# running it, so editing this file cannot break a run in progress.
{
set -uo pipefail

LANE=${1:-}
[ -n "$LANE" ] || { echo "usage: $0 LANE" >&2; exit 2; }
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
export BUILD
LOGDIR=$BUILD/logs
SUFFIX=$LANE-shell
RESULT=$LOGDIR/$SUFFIX.result
SESSION=$LOGDIR/$SUFFIX.session
OUT=$LOGDIR/$SUFFIX.run
TIMEOUT=${PT_SHELL_TIMEOUT:-600}
PROMPT_TIMEOUT=${PT_SHELL_PROMPT_TIMEOUT:-240}
PROMPT='pendtimer-guest:'
PT_TAG="shell-check $LANE"
. "$TOP/vm/lib.sh"
mkdir -p "$LOGDIR"
rm -f "$SESSION" "$OUT"

# The commands, as typed; each is followed by `echo "status=$?"`, as a
# person checking the exit status would.
CMDS=(
	"pendtimer wait 0"
	"pendtimer arm 0"
	"pendtimer --help"
	"cat /sys/module/pendtimer/parameters/max_pending"
	"pendtimer wait 1 --cancel-after 100 --via ioctl"
	"pendtimer race --show --iterations 2000"
)

FIFO=$(mktemp -u "${TMPDIR:-/tmp}/pt-shell.XXXXXX")
mkfifo "$FIFO"
exec 7<>"$FIFO"		# kept open: QEMU never sees EOF from us
rm -f "$FIFO"

T0=$(now)
# A wide terminal: no line editing redraws of the typed lines.
VM_EXTRA_APPEND="${VM_EXTRA_APPEND:-} pt.cols=200 pt.rows=50" \
	bash "$TOP/vm/run.sh" "$LANE" --mode shell --timeout "$TIMEOUT" <&7 >"$OUT" 2>&1 &
RUNPID=$!

prompts() { # how many prompts the guest has printed so far
	[ -f "$SESSION" ] || { echo 0; return; }
	tr -d '\r' <"$SESSION" | grep -o "$PROMPT[^#]*# " | wc -l
}

# Wait for prompt number N (the shell is ready for the next command).
wait_prompt() { # N
	local deadline=$(($(now) + PROMPT_TIMEOUT))
	while [ "$(prompts)" -lt "$1" ]; do
		kill -0 $RUNPID 2>/dev/null || return 1
		[ "$(now)" -lt $deadline ] || return 1
		sleep 1
	done
	return 0
}

type_line() { # TEXT: one line, then Enter
	printf '%s\r' "$1" >&7
}

REASONS=()
n=1
if wait_prompt $n; then
	say "prompt after $(($(now) - T0)) s; typing ${#CMDS[@]} commands"
	for c in "${CMDS[@]}"; do
		type_line "$c; echo \"status=\$?\""
		n=$((n + 1))
		wait_prompt $n || { REASONS+=("no-prompt-after:${c// /_}"); break; }
	done
	type_line "exit"
else
	REASONS+=("no-first-prompt")
fi

# exit powers the guest off; run.sh then judges the kernel log.
deadline=$(($(now) + 120))
while kill -0 $RUNPID 2>/dev/null && [ "$(now)" -lt $deadline ]; do
	sleep 1
done
if kill -0 $RUNPID 2>/dev/null; then
	REASONS+=("exit-did-not-power-off")
	kill $RUNPID 2>/dev/null
fi
wait $RUNPID
RRC=$?
exec 7>&-
SECS=$(($(now) - T0))

# --- what the person saw -------------------------------------------------------
S=$(tr -d '\r' <"$SESSION" 2>/dev/null | sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g')

# The output of command I (1-based): between its prompt line and the next.
output_of() { # I
	awk -v want="$1" -v p="$PROMPT" '
	index($0, p) == 1 { n++; if (n == want + 1) exit; next }
	n == want { print }' <<<"$S"
}
expect() { # I REGEX WHAT
	if ! output_of "$1" | grep -Eq -- "$2"; then
		REASONS+=("$3")
		say "command $1 (${CMDS[$1 - 1]}): expected /$2/ in:"
		output_of "$1" | head -n 8 | sed 's/^/    /'
	fi
}
# The event names of rule N's timeline, in the order printed, as long as
# their times (first column, us) do not go back; "time-goes-back" if they do.
timeline_order() { # N
	awk -v want="rule $1:" '
	index($0, want) == 1 { on = 1; next }
	on && /^rule [0-9]:/ { exit }
	on && /^  the user saw:/ { exit }
	on && $1 ~ /^[+-][0-9]+$/ && $2 == "us" {
		t = $1 + 0
		if (n && t < last) { print "time-goes-back"; bad = 1; exit }
		last = t
		names = names (n++ ? " " : "") $(NF_EVENT($0))
	}
	function NF_EVENT(l,   i) {
		for (i = 3; i <= NF; i++) if ($i ~ /^(submit|timer_enter|timer_late|complete|cleanup_deferred)$/) return i
		return NF
	}
	END { if (!bad) print names }'
}

if [ ${#REASONS[@]} -eq 0 ]; then
	grep -q 'pendtimer shell: .*pendtimer.ko loaded' <<<"$S" || REASONS+=("banner:not-loaded")
	for w in 'pendtimer wait 2' 'pendtimer race' 'pendtimer --help' 'ls /pendtimer/tests' 'exit'; do
		grep -qF -- "  $w" <<<"$S" || REASONS+=("banner:no-'${w// /_}'")
	done
	expect 1 'WAIT returned 0: the timer fired' "wait-0:fired"
	expect 1 '^status=0$' "wait-0:status"
	expect 2 'eventfd signalled' "arm-0:signalled"
	expect 2 '^status=0$' "arm-0:status"
	expect 3 '^Usage: pendtimer ' "help:usage"
	expect 3 '^  race ' "help:race"
	expect 3 '^status=0$' "help:status"
	expect 4 '^[0-9]+$' "max_pending:number"
	expect 4 '^status=0$' "max_pending:status"
	expect 5 'WAIT returned -ECANCELED' "cancel:ecanceled"
	expect 5 '^status=3$' "cancel:status"
	expect 6 '^RESULT: PASS' "race-show:result"
	expect 6 '^status=0$' "race-show:status"
	# timer_enter may follow the other path's event: the hrtimer core marks
	# the callback running before its first line (race_show.c).
	for rule in 1 2; do
		order=$(output_of 6 | timeline_order $rule)
		want="submit timer_enter complete timer_late|submit complete timer_enter timer_late"
		[ $rule = 2 ] && want="submit timer_enter cleanup_deferred complete|submit cleanup_deferred timer_enter complete"
		if [ "$order" != "${want%|*}" ] && [ "$order" != "${want#*|}" ]; then
			REASONS+=("race-show:rule$rule-timeline")
			say "race --show, rule $rule: events '$order', expected '${want%|*}' (or '${want#*|}') at rising times"
		fi
	done
fi

# --- the result ------------------------------------------------------------------
line=$(head -n 1 "$RESULT" 2>/dev/null || true)
verdict=$(sed -n 's/.*\bverdict=\([A-Z]*\).*/\1/p' <<<"$line")
rel=$(sed -n 's/.*\brelease=\([^ ]*\).*/\1/p' <<<"$line")
cpus=$(sed -n 's/.*\bcpus=\([^ ]*\).*/\1/p' <<<"$line")
reports=$(sed -n 's/.*\breports=\([0-9]*\).*/\1/p' <<<"$line")
rreason=$(sed -n 's/.*\breason=\([^ ]*\).*/\1/p' <<<"$line")
LOG=$LOGDIR/$SUFFIX.log
[ "$verdict" = PASS ] || REASONS+=("run.sh:${rreason:-no-result}(exit=$RRC)")
if [ ${#REASONS[@]} -eq 0 ]; then
	V=PASS P=1 F=0 REASON=none
else
	V=FAIL P=0 F=1 REASON=$(IFS=,; echo "${REASONS[*]}")
fi
echo "lane=$LANE mode=shell release=${rel:-?} cpus=${cpus:-?} passed=$P failed=$F skipped=0 reports=${reports:-0} verdict=$V seconds=$SECS log=$LOG reason=$REASON" >"$RESULT"
if [ "$V" = PASS ]; then
	say "PASS in ${SECS}s: ${#CMDS[@]} commands typed at the prompt, their output as expected, exit powered the guest off (session $SESSION)"
else
	say "FAIL in ${SECS}s: $REASON"
	sed 's/^/    /' "$OUT" | tail -n 20
	say "session (what the terminal showed): $SESSION, last lines:"
	tail -n 15 <<<"$S" | sed 's/^/    /'
fi
[ "$V" = PASS ]
exit
}
