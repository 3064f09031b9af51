#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm/bench.sh [--quick] [--timeout SEC] [--no-run] [--update-docs] [LANE]
#
# `make bench`: pendtimer against clock_nanosleep, timerfd and io_uring in
# one QEMU run of LANE (default 6.1). Prepares the lane and builds the module
# and the selftests exactly like `vm/check.sh --mode bench LANE` (it calls
# it); in the guest, run-tests.sh hands bench mode to run-bench.sh (insmod,
# pendtimer_bench, the results between markers, rmmod). Progress is shown
# live. Then:
#
#   build/bench/results.json   the figures (keys of issue 5, plus lane, kernel)
#   build/bench/details.json   extra figures (memcg, variants, overshoot split)
#   build/bench/samples.txt    latency CDFs: impl period percentile ns
#   build/bench/latency.png    the CDF plot (gnuplot)
#   build/bench/table.md       the table below, in Markdown
#   build/bench/verdicts.json  the goal verdicts
#   build/bench/lanes/LANE/    a copy of all of these for each lane run
#
# and prints the table and the ratio verdicts against the goals of issues 5
# and 15.
# Exit status: 0 when the VM run passed (vm/check.sh) and produced results;
# missed goals are reported, not fatal (the figures come from an emulated
# machine shared with other work).
#
#   --quick        fewer samples and rounds (pt.bench=-n,300): a smoke run
#   --timeout SEC  for the VM (default 1200)
#   --no-run       only parse build/logs/LANE-bench.log again
#   --update-docs  also copy the plot to docs/latency-LANE.png and the table
#                  into docs/performance.md (between its bench-table LANE
#                  markers), and rewrite the goals table there from every
#                  lane measured so far (build/bench/lanes/*/verdicts.json)
#
# Environment: BUILD, PT_BENCH_ARGS (extra pendtimer_bench arguments, e.g.
# "-n 500 -c -1"; passed as pt.bench= on the guest's command line), and
# everything vm/check.sh and vm/run.sh read.
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
export BUILD
LANE=6.1
TIMEOUT=1200
RUN=1
crc=0
QUICK=0
DOCS=0
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1; shift ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--timeout=*) TIMEOUT=${1#*=}; shift ;;
	--no-run) RUN=0; shift ;;
	--update-docs) DOCS=1; shift ;;
	-h | --help) sed -n '3,37p' "$0"; exit 0 ;;
	-*) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
	*) LANE=$1; shift ;;
	esac
done

LOG=$BUILD/logs/$LANE-bench.log
OUT=$BUILD/bench
PT_TAG="== bench"
. "$TOP/vm/lib.sh"

if [ $RUN -eq 1 ]; then
	args=${PT_BENCH_ARGS:-}
	[ $QUICK -eq 1 ] && args="-n 300 $args"
	args=$(echo $args | tr ' ' ',')
	extra=${VM_EXTRA_APPEND:-}
	[ -n "$args" ] && extra="$extra pt.bench=$args"
	export VM_EXTRA_APPEND="${extra# }"
	say "lane $LANE${args:+, pendtimer_bench args: $args} (the whole run takes a few minutes under TCG)"
	bash "$TOP/vm/check.sh" --mode bench --timeout "$TIMEOUT" "$LANE"
	crc=$?
	[ $crc -eq 0 ] || say "vm/check.sh --mode bench $LANE exited with $crc"
fi

[ -s "$LOG" ] || { say "no log $LOG"; exit 1; }
mkdir -p "$OUT"
CLEAN=$(mktemp)
trap 'rm -f "$CLEAN"' EXIT
tr -d '\r' <"$LOG" >"$CLEAN"
section() { # NAME FILE
	awk -v b="=== PENDTIMER BENCH $1 BEGIN ===" -v e="=== PENDTIMER BENCH $1 END ===" '
		index($0, b) { on = 1; n++; next }
		index($0, e) { on = 0; next }
		on && n == 1 { print }' "$CLEAN" >"$2"
}
section JSON "$OUT/results.json"
section DETAILS "$OUT/details.json"
section SAMPLES "$OUT/samples.txt"
if ! python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$OUT/results.json" 2>/dev/null; then
	say "no valid results JSON in $LOG"
	exit 1
fi
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$OUT/details.json" 2>/dev/null ||
	echo '{}' >"$OUT/details.json"

# --- plot --------------------------------------------------------------------
plot() {
	local gp=$OUT/latency.gp
	local impls="nanosleep timerfd io_uring_timeout pendtimer_wait pendtimer_uring_cmd pendtimer_arm_eventfd pendtimer_uring_pend"
	local i p
	for p in 100us 1ms; do
		for i in $impls; do
			awk -v i="$i" -v p="$p" '$1 == i && $2 == p && $3 <= 100 { print $4 / 1000.0, $3 }' \
				"$OUT/samples.txt" >"$OUT/cdf-$i-$p.dat"
		done
	done
	{
		echo "set terminal pngcairo noenhanced size 1400,600 font 'DejaVu Sans,10'"
		echo "set output '$OUT/latency.png'"
		echo "set multiplot layout 1,2 title 'pendtimer latency overshoot: CDF of actual - requested, lane $LANE, kernel $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["kernel"])' "$OUT/results.json"), QEMU TCG, timer slack 1 ns'"
		echo "set logscale x"
		echo "set xlabel 'overshoot, microseconds (log scale)'"
		echo "set ylabel 'percentile of samples'"
		echo "set yrange [0:100]"
		echo "set grid"
		echo "set key bottom right"
		for p in 100us 1ms; do
			case $p in 100us) echo "set title 'requested 100 us'" ;; 1ms) echo "set title 'requested 1 ms'" ;; esac
			echo -n "plot "
			local first=1
			for i in $impls; do
				[ -s "$OUT/cdf-$i-$p.dat" ] || continue
				[ $first -eq 1 ] || echo -n ", "
				first=0
				echo -n "'$OUT/cdf-$i-$p.dat' using 1:2 with lines lw 2 title '$i'"
			done
			echo
		done
		echo "unset multiplot"
	} >"$gp"
	if gnuplot "$gp" 2>"$OUT/gnuplot.err"; then
		say "plot: $OUT/latency.png"
	else
		say "gnuplot failed: $(head -n 3 "$OUT/gnuplot.err")"
	fi
}
if [ -s "$OUT/samples.txt" ] && command -v gnuplot >/dev/null; then
	plot
else
	say "no samples or no gnuplot (make deps installs gnuplot-nox): no plot"
fi

# --- table and verdicts -------------------------------------------------------
python3 - "$OUT/results.json" "$OUT/details.json" "$OUT/table.md" "$OUT/verdicts.json" <<'EOF'
import json, sys

r = json.load(open(sys.argv[1]))
d = json.load(open(sys.argv[2]))
md = []

def us(v):
    return "-" if v is None else "%.1f" % (v / 1000.0)

def num(v, fmt="%.0f"):
    return "-" if v is None else fmt % v

def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b

lat = r["latency"]
impls = ["nanosleep", "timerfd", "io_uring_timeout", "pendtimer_wait",
         "pendtimer_uring_cmd", "pendtimer_arm_eventfd", "pendtimer_uring_pend"]
pend = r.get("pend_supported", False)
print()
print("pendtimer benchmark: lane %s, kernel %s" % (r["lane"], r["kernel"]))
print()
print("latency overshoot, us      |      requested 100 us      |       requested 1 ms")
print("                           |    p50     p99      max    |    p50     p99      max")
md.append("Lane `%s`, kernel `%s`, QEMU TCG, 2 vCPUs.\n" % (r["lane"], r["kernel"]))
md.append("| latency overshoot (us) | 100 us p50 | p99 | max | 1 ms p50 | p99 | max |")
md.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for i in impls:
    row = []
    for p in ("100us", "1ms"):
        x = lat.get(i, {}).get(p, {})
        row += [us(x.get("p50_ns")), us(x.get("p99_ns")), us(x.get("max_ns"))]
    print("%-26s | %7s %7s %8s   | %7s %7s %8s" % tuple([i] + row))
    md.append("| %s | %s |" % (i, " | ".join(row)))

c = r["cancel_ns_per_op"]
cu = d.get("cancel_ns_per_op.pendtimer_uring_cmd_batched", {})
print()
print("cancel, ns per operation     |   1k pending  10k pending 100k pending")
md.append("")
md.append("| cancel, ns per operation | 1k pending | 10k pending | 100k pending |")
md.append("| --- | ---: | ---: | ---: |")
for name, src in (("pendtimer CANCEL ioctl", c["pendtimer"]),
                  ("io_uring TIMEOUT_REMOVE", c["io_uring"]),
                  ("(pendtimer URING_CMD CANCEL)", cu)):
    row = [num(src.get(k)) for k in ("1000", "10000", "100000")]
    print("%-28s | %12s %12s %12s" % tuple([name] + row))
    md.append("| %s | %s |" % (name, " | ".join(row)))

b = r["bytes_per_request"]
bm = d.get("bytes_per_request_in_memcg", {})
cps = r["completions_per_s"]
td = r["teardown_ns"]
th = r.get("threads_for_1000_pending", {})
split = d.get("pend.bytes_per_request_split", {})
own = d.get("bytes_per_request.pendtimer_pend_own")
print()
print("kernel bytes per pending request at 100k: pendtimer ARM %s, io_uring TIMEOUT %s"
      % (num(b["pendtimer"]), num(b["io_uring"])))
if bm:
    print("  (in a child memory cgroup, kmem-accounted: pendtimer %s, io_uring %s)"
          % (num(bm.get("pendtimer"), "%.1f"), num(bm.get("io_uring"), "%.1f")))
print("kernel bytes per pending PEND at 100k: %s (pendtimer's own part %s)"
      % (num(b.get("pendtimer_pend")), num(own, "%.1f")) if pend else
      "PEND: not on this kernel (-EOPNOTSUPP before 6.7)")
print("completions/s, timeout 0: pendtimer %s, io_uring %s, pendtimer PEND %s"
      % (num(cps["pendtimer"]), num(cps["io_uring"]), num(cps.get("pendtimer_pend"))))
print("threads for 1000 pending: URING_CMD WAIT %s, PEND %s, io_uring %s"
      % (num(th.get("pendtimer_uring_cmd")), num(th.get("pendtimer_pend")), num(th.get("io_uring"))))
if "completions_per_s.pendtimer_how" in d:
    print("  (pendtimer: %s; io_uring: %s)" % (d["completions_per_s.pendtimer_how"],
                                            d.get("completions_per_s.io_uring_how", "?")))
ms = lambda v: "-" if v is None else "%.1f" % (v / 1e6)
print("teardown of 100k pending, ms: pendtimer close %s, pendtimer del_device %s, io_uring ring close %s"
      % (ms(td["pendtimer_close"]), ms(td["pendtimer_del_device"]), ms(td["io_uring_close"])))
md.append("")
md.append("| other | pendtimer | io_uring |")
md.append("| --- | ---: | ---: |")
md.append("| kernel bytes per pending request at 100k (root cgroup) | %s | %s |"
          % (num(b["pendtimer"]), num(b["io_uring"])))
if bm:
    md.append("| same, in a child memory cgroup (kmem accounting) | %s | %s |"
              % (num(bm.get("pendtimer"), "%.1f"), num(bm.get("io_uring"), "%.1f")))
if pend:
    md.append("| kernel bytes per pending PEND at 100k, io_uring's request included (vs io_uring timeout) | %s | %s |"
              % (num(b.get("pendtimer_pend")), num(b["io_uring"])))
    md.append("| of which pendtimer's own (pendtimer_req cache + tag hash) | %s | |" % num(own, "%.1f"))
    if split:
        md.append("| of which io_uring's (io_kiocb %s, other caches %s) | %s | |"
                  % (num(split.get("io_kiocb_cache"), "%.1f"), num(split.get("other_slab_caches"), "%.1f"),
                     num(split.get("io_uring"), "%.1f")))
md.append("| completions/s, zero timeout (pendtimer: best of ARM and WAIT) | %s | %s |" % (num(cps["pendtimer"]), num(cps["io_uring"])))
if pend:
    md.append("| completions/s, zero timeout, PEND batched 256 per io_uring_enter | %s | %s |"
              % (num(cps.get("pendtimer_pend")), num(cps["io_uring"])))
md.append("| threads for 1000 pending: URING_CMD WAIT | %s | %s |"
          % (num(th.get("pendtimer_uring_cmd")), num(th.get("io_uring"))))
if pend:
    md.append("| threads for 1000 pending: PEND | %s | %s |"
              % (num(th.get("pendtimer_pend")), num(th.get("io_uring"))))
md.append("| teardown of 100k pending: close(), ms | %s | %s |"
          % (ms(td["pendtimer_close"]), ms(td["io_uring_close"])))
md.append("| teardown of 100k pending: del_device, ms | %s | |" % ms(td["pendtimer_del_device"]))

# verdicts
print()
print("goals (issues 5 and 15), ratios from this run:")
md.append("")
md.append("| goal | measured | verdict |")
md.append("| --- | --- | --- |")
nmiss = 0
nnodata = 0
verdicts = []
def verdict(text, value, ok, shown, na=False):
    global nmiss, nnodata
    if na:
        v = "n/a (no PEND before 6.7)"
        shown = "-"
    elif value is None:
        v = "NO DATA"
        nnodata += 1
    else:
        v = "met" if ok else "MISSED"
        if not ok:
            nmiss += 1
    print("  %-62s %-26s %s" % (text, shown, v))
    md.append("| %s | %s | %s |" % (text, shown, v))
    verdicts.append([text, shown, v])

def p50_ratio(a, b):
    """The ratio of two medians, shown with the range that the two medians'
    95 % intervals allow (the order statistics n/2 -/+ 0.98 sqrt(n))."""
    x = ratio(a.get("p50_ns"), b.get("p50_ns"))
    if x is None:
        return None, "-"
    ia, ib = a.get("p50_interval_ns"), b.get("p50_interval_ns")
    if not ia or not ib or not ib[0] or not ib[1]:
        return x, "x%.3f" % x
    return x, "x%.3f (x%.2f to x%.2f)" % (x, ia[0] / ib[1], ia[1] / ib[0])

for p in ("100us", "1ms"):
    w = lat["pendtimer_wait"][p]
    n = lat["nanosleep"][p]
    x, shown = p50_ratio(w, n)
    verdict("WAIT p50 overshoot <= 1.05 x nanosleep's (%s)" % p, x,
            x is not None and x <= 1.05, shown)
    x = ratio(w["p99_ns"], n["p99_ns"])
    verdict("WAIT p99 overshoot <= 1.25 x nanosleep's (%s)" % p, x,
            x is not None and x <= 1.25, "x%.3f" % x if x else "-")
for p in ("100us", "1ms"):
    x, shown = p50_ratio(lat.get("pendtimer_uring_pend", {}).get(p, {}),
                         lat["io_uring_timeout"][p])
    verdict("PEND p50 overshoot <= 1.10 x IORING_OP_TIMEOUT's (%s)" % p, x,
            x is not None and x <= 1.10, shown, na=not pend)
x = ratio(cps.get("pendtimer_pend"), cps["io_uring"])
verdict("PEND completions/s (256 per enter) >= IORING_OP_TIMEOUT's", x,
        x is not None and x >= 1.0, "x%.2f" % x if x else "-", na=not pend)
x = ratio(b.get("pendtimer_pend"), b["io_uring"])
verdict("PEND bytes at 100k <= 1.5 x io_uring timeout's", x,
        x is not None and x <= 1.5, "x%.2f (%s vs %s)" % (x, num(b.get("pendtimer_pend")),
                                                          num(b["io_uring"])) if x else "-",
        na=not pend)
verdict("PEND bytes, pendtimer's own part, <= 104 (an ARM's goal)", own,
        own is not None and own <= 104, "%s bytes" % num(own, "%.1f"), na=not pend)
x = th.get("pendtimer_pend")
verdict("no extra thread for 1000 pending PENDs", x,
        x is not None and x <= 0, "%s threads" % num(x), na=not pend)
x = ratio(c["io_uring"].get("100000"), c["pendtimer"].get("100000"))
verdict("CANCEL at 100k >= 100 x faster than TIMEOUT_REMOVE", x,
        x is not None and x >= 100, "x%.0f faster" % x if x else "-")
x = ratio(c["pendtimer"].get("100000"), c["pendtimer"].get("1000"))
verdict("CANCEL at 100k <= 2 x its cost at 1k", x,
        x is not None and x <= 2, "x%.2f" % x if x else "-")
x = b["pendtimer"]
verdict("<= 104 bytes per pending ARM at 100k (index included)", x,
        x is not None and x <= 104, "%s bytes" % num(x))
for k, name in (("pendtimer_close", "close()"), ("pendtimer_del_device", "del_device")):
    x = ratio(td[k], td["io_uring_close"])
    verdict("teardown of 100k by %s no slower than io_uring close" % name, x,
            x is not None and x <= 1.0, "x%.2f of io_uring's" % x if x else "-")
# Newer kernels return from the ring's close before its requests are
# cancelled (a kworker does it); pendtimer's close has freed everything when
# it returns. Also compare with io_uring's close until its memory is back.
fr = d.get("io_uring_close.memory_freed_after_ns")
urdone = None if fr is None or fr < 0 or td["io_uring_close"] is None else td["io_uring_close"] + fr
for k, name in (("pendtimer_close", "close()"), ("pendtimer_del_device", "del_device")):
    x = ratio(td[k], urdone)
    verdict("teardown of 100k by %s no slower than io_uring close + its memory freed" % name, x,
            x is not None and x <= 1.0, "x%.2f of io_uring's" % x if x else "-")
print()
if nmiss or nnodata:
    print("%d goal(s) missed, %d without data" % (nmiss, nnodata))
else:
    print("all goals met")
open(sys.argv[3], "w").write("\n".join(md) + "\n")
json.dump({"lane": r["lane"], "kernel": r["kernel"], "verdicts": verdicts},
          open(sys.argv[4], "w"), indent=1)
EOF
prc=$?
# Keep this lane's results next to the other lanes' (the side-by-side table).
LOUT=$OUT/lanes/$LANE
mkdir -p "$LOUT"
for f in results.json details.json samples.txt latency.png table.md verdicts.json; do
	[ -f "$OUT/$f" ] && cp "$OUT/$f" "$LOUT/$f"
done
say "results: $OUT/results.json (table: $OUT/table.md)"

if [ $DOCS -eq 1 ] && [ $prc -eq 0 ]; then
	DOC=$TOP/docs/performance.md
	[ -s "$OUT/latency.png" ] && cp "$OUT/latency.png" "$TOP/docs/latency-$LANE.png"
	if [ -f "$DOC" ] && grep -q "<!-- bench-table-begin $LANE -->" "$DOC"; then
		python3 - "$DOC" "$OUT/table.md" "$LANE" "$OUT/lanes" <<'EOF'
import json, os, sys
doc, table, lane, lanes = sys.argv[1], open(sys.argv[2]).read(), sys.argv[3], sys.argv[4]
s = open(doc).read()
def put(s, b, e, text):
    """Replace what stands between the markers @b and @e with @text."""
    if b not in s:
        return s
    a = s.index(b) + len(b)
    return s[:a] + "\n" + text + s[s.index(e, a):]
s = put(s, "<!-- bench-table-begin %s -->" % lane, "<!-- bench-table-end -->", table)
# the goals side by side: every lane whose verdicts are in build/bench/lanes/
names = sorted(n for n in os.listdir(lanes)
               if os.path.isfile(os.path.join(lanes, n, "verdicts.json")))
names.sort(key=lambda n: (n != "6.1", n))
if names:
    vs = {n: json.load(open(os.path.join(lanes, n, "verdicts.json"))) for n in names}
    hdr = "| goal | " + " | ".join("%s (`%s`)" % (n, vs[n]["kernel"]) for n in names) + " |"
    rows = [hdr, "| --- |" + " --- |" * len(names)]
    goals = []
    for n in names:
        for g, _, _ in vs[n]["verdicts"]:
            if g not in goals:
                goals.append(g)
    for g in goals:
        cells = []
        for n in names:
            m = [v for v in vs[n]["verdicts"] if v[0] == g]
            cells.append("%s: %s" % (m[0][1], m[0][2]) if m else "-")
        rows.append("| %s | %s |" % (g, " | ".join(cells)))
    s = put(s, "<!-- bench-goals-begin -->", "<!-- bench-goals-end -->",
            "\n".join(rows) + "\n")
open(doc, "w").write(s)
EOF
		say "updated $DOC (lane $LANE, goals side by side) and docs/latency-$LANE.png"
	else
		say "$DOC has no bench-table markers for lane $LANE: not updated"
	fi
fi
[ $prc -eq 0 ] && [ $crc -eq 0 ]
