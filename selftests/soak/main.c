// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_soak: the three-way race of SPEC.md section 3 (timer, CANCEL,
 * flush and removal meeting on the same requests), round after round, with
 * race_delay_us swept across its range. Module already loaded. Plain KTAP.
 *
 * A round, on a device of its own (pendtimer7, created and deleted here):
 * one open file (three descriptors), N ARM requests (the first 64 with an
 * eventfd of their own, so each one's outcome is visible), two WAITs and two
 * ARM requests with a long timeout (left to the flush or the release), due
 * at about the same time T, submitted half from each CPU so that timers
 * fire on both. Two racers wake at T plus a random offset: the canceller,
 * on the second CPU (meeting the first CPU's callbacks), CANCELs up to 64
 * random tags in a random order; the closer, on the first CPU (meeting the
 * second's callbacks), closes one descriptor (flush), unbinds the driver or
 * deletes the device (removal), or both, or nothing. race_delay_us makes each timer
 * callback busy-wait before it claims, so CANCEL meets running callbacks
 * (rule 1, race_timer_late) and flush/removal meet them too (rule 2,
 * race_cleanup_deferred).
 *
 * Checked for every request (SPEC.md section 3, "exactly one path"):
 *  - a CANCEL that returned 0 claimed it: its eventfd stays 0, its WAIT
 *    returns -ECANCELED; a request whose eventfd fired or whose WAIT
 *    returned 0 was not cancelled; an eventfd counts at most 1;
 *  - -ENODEV only with a removal, -ECANCELED only with a CANCEL or a flush;
 *  - with no cleanup path at all, every request not cancelled fires.
 * Checked for every round whose counters survive (all but del_device):
 * the counters moved by exactly what the requests did (submitted, fired =
 * eventfd counts + WAITs that returned 0, cancelled = CANCELs that returned
 * 0, interrupted = 0, flushed + removed = the rest, removed = 0 without a
 * removal, flushed = 0 without a close), and the invariant with nothing
 * pending.
 *
 * A request is "contested" when a competing completion path (its CANCEL,
 * the flush, the removal) was launched at or after its due time (its timer
 * may be firing) and before the round's requests were all complete (the
 * pending count, polled during the race): the timer and that path could
 * meet on it. The race counters say how many met inside the narrow window
 * (a callback running but not yet claimed). With one CPU the callback
 * cannot be overlapped from user space: the race-window result is skipped.
 *
 * Environment:
 *   PT_SOAK_CONTESTED  contested requests to reach (default 20000)
 *   PT_SOAK_SECONDS    time bound (default 300)
 *   PT_SOAK_DELAYS     race_delay_us values, comma separated
 *                      (default 0,1,2,5,10,20,50,100,200,500,1000,10000)
 *   PT_SOAK_N          ARM requests per round (default 1024; capped so that
 *                      N x delay stays <= 20 ms of callback busy-waiting)
 *   PT_SOAK_SEED       seed (printed)
 *   PT_BUDGET_STRICT   1: soak_budget fails, not skips, when the time bound
 *                      ends the soak before PT_SOAK_CONTESTED (make check)
 */
#include "soak.h"

struct run S = { .per_req = 50 * NSEC_PER_USEC };

static uint64_t env_or(const char *name, uint64_t def)
{
	const char *env = getenv(name);

	return env ? strtoull(env, NULL, 0) : def;
}

/* PT_SOAK_*: the budget, the size, the seed, the delays */
static void read_env(void)
{
	static const long def_delays[] = { 0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10000 };
	const char *env;
	int i;

	S.target = env_or("PT_SOAK_CONTESTED", 20000);
	S.seconds = env_or("PT_SOAK_SECONDS", 300);
	env = getenv("PT_SOAK_N");
	S.nmax = env ? strtol(env, NULL, 0) : MAXN;
	if (S.nmax < 1 || S.nmax > MAXN)
		S.nmax = MAXN;
	S.seed = env_or("PT_SOAK_SEED", 0);
	if (!S.seed)
		S.seed = pt_now_ns() ^ ((uint64_t)getpid() << 32);
	rng_state = S.seed;
	env = getenv("PT_SOAK_DELAYS");
	if (env && *env) {
		char *dup = strdup(env), *p, *sv;

		for (p = strtok_r(dup, ",", &sv); p && S.ndelays < MAXDELAYS; p = strtok_r(NULL, ",", &sv))
			S.delays[S.ndelays++] = strtol(p, NULL, 0);
		free(dup);
	}
	if (!S.ndelays)
		for (i = 0; i < (int)(sizeof(def_delays) / sizeof(*def_delays)); i++)
			S.delays[S.ndelays++] = def_delays[i];
	for (i = 0; i < S.ndelays; i++)
		S.ds[i].delay = S.delays[i];
}

/* the timer CPU and the race CPU: the first two we may run on */
static void pick_cpus(void)
{
	cpu_set_t set;
	int i, k;

	if (sched_getaffinity(0, sizeof(set), &set))
		CPU_ZERO(&set);
	S.ncpu = CPU_COUNT(&set);
	for (i = 0, k = 0; i < CPU_SETSIZE && k < 2; i++) {
		if (!CPU_ISSET(i, &set))
			continue;
		if (k++ == 0)
			cpu_timer = i;
		else
			cpu_race = i;
	}
}

static void print_settings(void)
{
	int i;

	printf("# pendtimer_soak: seed=0x%" PRIx64 " (PT_SOAK_SEED replays the plan) contested=%" PRIu64
	       " seconds=%" PRIu64 " N<=%ld cpus=%d delays=", S.seed, S.target, S.seconds, S.nmax, S.ncpu);
	for (i = 0; i < S.ndelays; i++)
		printf("%s%ld", i ? "," : "", S.delays[i]);
	printf("\n");
	printf("# PENDs: %s\n", S.pend_on ? "16 per round, on one io_uring ring, some rounds close it (ring exit)" :
	       "none (kernel before 6.7: a PEND completes with -EOPNOTSUPP)");
}

/* race_delay_us writable, pendtimer7 there and bound; else all skipped or failed */
static void setup_device(void)
{
	long long orig;
	int i, ret;

	if (pt_param_read("race_delay_us", &orig) || pt_param_write("race_delay_us", 0)) {
		for (i = 0; i < 4; i++)
			ksft_test_result_skip("pendtimer module not loaded or parameters not writable\n");
		ksft_finished();
	}
	S.orig_delay = (long)orig;
	if (!pt_bus_dev_exists(SOAK_ID)) {
		ret = pt_new_device(SOAK_ID);
		if (ret) {
			printf("# new_device %d: %s\n", SOAK_ID, strerror(-ret));
			for (i = 0; i < 4; i++)
				ksft_test_result_fail("cannot create pendtimer%d\n", SOAK_ID);
			ksft_finished();
		}
		S.created = true;
	} else {
		S.was_bound = pt_bus_dev_bound(SOAK_ID);
		if (!S.was_bound)
			pt_drv_write("bind", SOAK_ID);
	}
}

static int open_eventfds(void)
{
	int i;

	for (i = 0; i < NOWN; i++) {
		efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (efd[i] < 0) {
			perror("eventfd");
			return -1;
		}
	}
	efd_shared = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return 0;
}

static void print_delays(void)
{
	const struct dstat *d;
	int i;

	printf("# delay_us rounds requests contested timer_late cleanup_deferred cancel_0 cancel_enoent fired flushed removed\n");
	for (i = 0; i < S.ndelays; i++) {
		d = &S.ds[i];
		printf("# %8ld %6" PRIu64 " %8" PRIu64 " %9" PRIu64 " %10" PRIu64 " %16" PRIu64 " %8" PRIu64
		       " %13" PRIu64 " %5" PRIu64 " %7" PRIu64 " %7" PRIu64 "\n",
		       d->delay, d->rounds, d->requests, d->contested,
		       d->timer_late, d->cleanup_deferred, d->cancel_ok,
		       d->cancel_enoent, d->fired, d->flushed, d->removed);
	}
}

static void print_summary(void)
{
	uint64_t ms = (pt_now_ns() - S.t_start) / NSEC_PER_MSEC, req = 0;
	int64_t rounds = (int64_t)S.rounds;
	int i;

	for (i = 0; i < S.ndelays; i++)
		req += S.ds[i].requests;
	printf("# pendtimer_soak: seed=0x%" PRIx64 " rounds=%" PRIu64 " requests=%" PRIu64 " contested=%" PRIu64
	       " race_timer_late=%" PRIu64 " race_cleanup_deferred=%" PRIu64 " in %" PRIu64 ".%03" PRIu64
	       " s (%" PRIu64 " contested/s)\n", S.seed, S.rounds, req, S.contested, S.late_total,
	       S.deferred_total, ms / 1000, ms % 1000, S.contested * 1000 / (ms + 1));
	printf("# contested requests whose outcome is visible (own eventfd, WAIT): the timer won %" PRIu64
	       ", the competing path won %" PRIu64 "\n", S.won_timer, S.won_other);
	printf("# time: settle %" PRIu64 " ms, submit %" PRIu64 " ms, race %" PRIu64 " ms, device back %" PRIu64
	       " ms, collect %" PRIu64 " ms; %" PRIu64 " rounds started late\n",
	       S.t_settle / NSEC_PER_MSEC, S.t_submit / NSEC_PER_MSEC, S.t_race / NSEC_PER_MSEC,
	       S.t_dev / NSEC_PER_MSEC, S.t_collect / NSEC_PER_MSEC, S.late_rounds);
	printf("# after T, on average: requests complete %" PRId64 " us, racers released %" PRId64 " us, canceller done %" PRId64
	       " us, closer done %" PRId64 " us, WAITs done %" PRId64 " us\n",
	       dt_quiet / rounds / 1000, dt_release / rounds / 1000, dt_cancel / rounds / 1000,
	       dt_close / rounds / 1000, dt_wait / rounds / 1000);
	printf("# PENDs: %" PRIu64 " submitted: CQE 0 %" PRIu64 ", CANCEL 0 %" PRIu64 ", CQE -ECANCELED %" PRIu64
	       ", CQE -ENODEV %" PRIu64 "; %" PRIu64 " gone with their ring in %" PRIu64
	       " ring exits (interrupted by io_uring's cancel call: %" PRIu64 ")\n",
	       S.p_sub, S.p_fired, S.p_cancel_ok, S.p_ecanceled, S.p_enodev, S.p_gone, S.p_ring_exits,
	       S.p_interrupted);
	print_delays();
}

/* the end: the device quiet and consistent, then as we found it */
static void finish_device(void)
{
	struct pendtimer_stats st;
	char buf[512];
	int i, ret;

	soak_pend_ring_exit(&SP);
	ret = settle(&st);
	pt_stats_fmt(buf, sizeof(buf), &st);
	printf("# final pendtimer%d: %s\n", SOAK_ID, buf);
	if (ret || !pt_invariant_ok(&st) || st.pending)
		failf(&nfail_counter, "final: %s (%s)", buf, ret ? errs(ret) : "invariant");
	for (i = 0; i < NOWN; i++)
		close(efd[i]);
	close(efd_shared);
	if (S.created) {
		ret = pt_del_device(SOAK_ID);
		if (ret)
			failf(&nfail_harness, "del_device %d at the end: %s", SOAK_ID, errs(ret));
	} else if (!S.was_bound) {
		pt_drv_write("unbind", SOAK_ID);
	}
}

static void report_budget(void)
{
	uint64_t contested = S.contested, target = S.target, seconds = S.seconds;

	if (nfail_harness)
		ksft_test_result_fail("soak_budget (harness failure)\n");
	else if (contested >= target)
		ksft_test_result_pass("soak_budget (%" PRIu64 " of %" PRIu64 " contested requests)\n",
				      contested, target);
	else if (nfail_outcome + nfail_counter)
		ksft_test_result_fail("soak_budget (stopped at the first failure)\n");
	else if (getenv("PT_BUDGET_STRICT") && !strcmp(getenv("PT_BUDGET_STRICT"), "1"))
		ksft_test_result_fail("soak_budget (the time bound, %" PRIu64 " s, ended it at %" PRIu64
				      " of %" PRIu64 " contested requests)\n", seconds, contested, target);
	else
		ksft_test_result_skip("soak_budget: the time bound (%" PRIu64 " s) ended it at %" PRIu64
				      " of %" PRIu64 " contested requests\n", seconds, contested, target);
}

static void report_results(void)
{
	ksft_test_result(!nfail_outcome, "soak_one_path_per_request\n");
	ksft_test_result(!nfail_counter, "soak_counters_and_invariant\n");
	if (S.ncpu < 2)
		ksft_test_result_skip("soak_race_windows_hit (one CPU: the callback cannot be overlapped)\n");
	else if (S.contested < 1000)
		ksft_test_result_skip("soak_race_windows_hit (budget too small: %" PRIu64 " contested)\n", S.contested);
	else
		/* with >= 1000 contested requests across the sweep both windows are met */
		ksft_test_result(S.late_total > 0 && S.deferred_total > 0,
				 "soak_race_windows_hit (timer_late %" PRIu64 ", cleanup_deferred %" PRIu64 ")\n",
				 S.late_total, S.deferred_total);
	report_budget();
}

int main(void)
{
	S.pend_on = soak_pend_supported();
	setvbuf(stdout, NULL, _IOLBF, 0);
	ksft_print_header();
	ksft_set_plan(4);

	read_env();
	pick_cpus();
	print_settings();
	setup_device();
	if (open_eventfds())
		return KSFT_FAIL;
	pin(cpu_timer);
	racers_start();

	S.t_start = pt_now_ns();
	while (S.contested < S.target && pt_now_ns() - S.t_start < S.seconds * NSEC_PER_SEC &&
	       nfail_outcome + nfail_counter + nfail_harness == 0)
		if (!round_run())
			break;

	racers_stop();
	pt_param_write("race_delay_us", S.orig_delay);
	print_summary();
	finish_device();
	report_results();
	ksft_finished();
}
