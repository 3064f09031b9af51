// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_soak: one round, step by step: its size, the device ready,
 * the plan, the submission, the race, the device back, the checks.
 */
#include "soak.h"

/* N x delay of busy-waiting in the callbacks: keep it short */
static void round_size(struct tally *t)
{
	t->n = (int)S.nmax;
	if (t->delay > 0 && (uint64_t)t->n * (uint64_t)t->delay * NSEC_PER_USEC > WINDOW_NS)
		t->n = (int)(WINDOW_NS / ((uint64_t)t->delay * NSEC_PER_USEC));
	if (t->n < 2)
		t->n = 2;
	t->nshared = t->n > NOWN ? t->n - NOWN : t->n / 4;
	t->window = (uint64_t)t->n * (uint64_t)t->delay * NSEC_PER_USEC + 200 * NSEC_PER_USEC;
}

/* race_delay_us set, the device bound and quiet, a fresh open file */
static bool round_prepare(struct tally *t)
{
	char buf[512];
	uint64_t tp;
	int ret;

	if (pt_param_write("race_delay_us", t->delay)) {
		failf(&nfail_harness, "cannot set race_delay_us=%ld", t->delay);
		return false;
	}
	if (!pt_bus_dev_bound(SOAK_ID)) {
		failf(&nfail_harness, "pendtimer%d not bound at the start of round %" PRIu64,
		      SOAK_ID, S.rounds);
		return false;
	}
	tp = pt_now_ns();
	/* the counters as the previous round left them, unless re-created */
	ret = S.have_prev ? 0 : settle(&t->before);
	S.t_settle += pt_now_ns() - tp;
	if (ret) {
		pt_stats_fmt(buf, sizeof(buf), &t->before);
		failf(&nfail_counter, "round %" PRIu64 ": device not quiet before the round: %s; %s",
		      S.rounds, errs(ret), buf);
		return false;
	}
	t->fd = pt_open_id(SOAK_ID);
	if (t->fd < 0) {
		failf(&nfail_harness, "open: %s", errs(t->fd));
		return false;
	}
	memset(&RD, 0, sizeof(RD));
	RD.fd_wait = t->fd;
	RD.fd_cancel = dup(t->fd);
	RD.fd_close = dup(t->fd);
	return true;
}

/* the plan: which cleanup paths, and when */
static void plan_actions(struct tally *t)
{
	uint64_t window = t->window;

	t->removal = rnd_below(100) < 25;
	t->del = t->removal && rnd_below(100) < 30;
	RD.actions = 0;
	if (rnd_below(100) < 80)
		RD.actions |= CL_CLOSE;
	if (t->removal)
		RD.actions |= t->del ? CL_DEL : CL_UNBIND;
	RD.npend = S.pend_on ? NPEND : 0;
	if (RD.npend && rnd_below(100) < 15)
		RD.actions |= CL_RING;
	RD.off_ring = (int64_t)rnd_below(window + 100 * NSEC_PER_USEC) - 50 * (int64_t)NSEC_PER_USEC;
	RD.off_close = (int64_t)rnd_below(window + 100 * NSEC_PER_USEC) - 50 * (int64_t)NSEC_PER_USEC;
	RD.off_remove = (int64_t)rnd_below(window + 100 * NSEC_PER_USEC) - 50 * (int64_t)NSEC_PER_USEC;
	RD.off_cancel = (int64_t)rnd_below(window) - 30 * (int64_t)NSEC_PER_USEC;
}

/* the requests: due at T, spread over the window */
static void plan_requests(struct tally *t)
{
	uint64_t lead, rounds = S.rounds, window = t->window;
	int i, j, n = t->n;

	lead = (uint64_t)(n + NLEFT + RD.npend) / 2 * S.per_req * 5 / 4 + 2 * NSEC_PER_MSEC;
	RD.T = pt_now_ns() + lead;
	RD.n = n;
	RD.nshared = t->nshared;
	for (i = 0; i < n; i++) {
		RD.due[i] = RD.T + rnd_below(window / 2 + 1);
		RD.tag[i] = (rounds << 16) | (uint64_t)i;
	}
	for (i = 0; i < NLEFT; i++) {
		RD.due[MAXN + i] = RD.T + 30 * NSEC_PER_SEC;
		RD.tag[MAXN + i] = (rounds << 16) | 0x8000 | (uint64_t)i;
	}
	for (j = 0; j < NWAIT; j++) {
		RD.wdue[j] = RD.T + rnd_below(window / 2 + 1);
		RD.wtag[j] = (rounds << 16) | 0x4000 | (uint64_t)j;
	}
	for (j = 0; j < RD.npend; j++) {
		RD.pdue[j] = RD.T + rnd_below(window / 2 + 1);
		RD.ptag[j] = (rounds << 16) | 0x2000 | (uint64_t)j;
	}
}

/* cancel a random subset, in a random order */
static void plan_cancels(struct tally *t)
{
	static int cand[NCAND];
	int nc = 0, frac = (int)rnd_below(61), i, j;

	for (i = 0; i < t->n; i++)
		cand[nc++] = i;
	for (i = 0; i < NLEFT; i++)
		if (rnd_below(2))
			cand[nc++] = MAXN + i;
	for (j = 0; j < NWAIT; j++)
		cand[nc++] = NREQ + j;
	for (j = 0; j < RD.npend; j++)
		cand[nc++] = NREQ + NWAIT + j;
	for (i = nc - 1; i > 0; i--) {
		int x = (int)rnd_below((uint64_t)i + 1), tmp = cand[i];

		cand[i] = cand[x];
		cand[x] = tmp;
	}
	RD.ncancel = nc * frac / 100;
	if (RD.ncancel > 64)
		RD.ncancel = 64;
	memcpy(RD.cancel_idx, cand, sizeof(cand));
	for (i = 0; i < NCAND; i++)
		RD.cancel_res[i] = 1;	/* not cancelled */
}

/* every request accepted (the WAITs too) before the racers go */
static void wait_accepted(struct tally *t)
{
	uint64_t deadline = pt_now_ns() + 5 * NSEC_PER_SEC;
	uint64_t want = (uint64_t)round_requests(t->n);
	struct pendtimer_stats mid;

	while (!pt_stats(t->fd, &mid) && mid.submitted - t->before.submitted < want) {
		if (pt_now_ns() > deadline) {
			failf(&nfail_harness, "round %" PRIu64 ": requests not accepted in 5 s",
			      S.rounds);
			break;
		}
		sched_yield();
	}
}

/* submit: timers on this CPU (and the submitter's on the second) */
static void round_submit(struct tally *t)
{
	int i, j, ret, rounds = (int)S.rounds;
	uint64_t tp = pt_now_ns(), sub1;

	for (j = 0; j < NWAIT; j++)
		set_flag(&go_wait[j], rounds);
	set_flag(&go_sub, rounds);
	submit_half(0);
	/* the PENDs: timers on this CPU too */
	if (RD.npend) {
		ret = soak_pend_submit(&SP, t->fd, RD.pdue, RD.ptag, RD.npend);
		if (ret) {
			failf(&nfail_harness, "round %" PRIu64 ": PEND submission: %s",
			      S.rounds, errs(ret));
			RD.npend = 0;
		}
	}
	wait_flag(&done_sub, rounds);
	sub1 = pt_now_ns();
	/* what a request costs to submit (large rounds), for the next T */
	if (t->n >= 256)
		S.per_req = (S.per_req * 3 + (sub1 - tp) / ((uint64_t)(t->n + NLEFT) / 2)) / 4;
	for (i = 0; i < NREQ; i++) {
		if ((i >= t->n && i < MAXN) || !RD.arm_res[i])
			continue;
		failf(&nfail_outcome, "round %" PRIu64 ": ARM tag 0x%llx: %s", S.rounds,
		      (unsigned long long)RD.tag[i], errs(RD.arm_res[i]));
		RD.due[i] = 0;	/* not submitted */
	}
	wait_accepted(t);
	sub1 = pt_now_ns();
	S.t_submit += sub1 - tp;
	if (sub1 + 200 * NSEC_PER_USEC > RD.T)
		S.late_rounds++;
}

/* while the racers run: when is nothing due pending any more? */
static void poll_quiet(int fd)
{
	uint64_t deadline = pt_now_ns() + 60 * NSEC_PER_SEC;
	struct pendtimer_stats mid;
	int rounds = (int)S.rounds;

	spin_until(RD.T);
	for (;;) {
		bool racers_done =
			__atomic_load_n(&done_cancel, __ATOMIC_ACQUIRE) == rounds &&
			__atomic_load_n(&done_close, __ATOMIC_ACQUIRE) == rounds;

		if (pt_stats(fd, &mid) || mid.pending <= NLEFT) {
			/* an error: the removal, which completed everything */
			RD.t_quiet = pt_now_ns();
			break;
		}
		if (racers_done && RD.t_remove_end) {
			RD.t_quiet = RD.t_remove_end;
			break;
		}
		if (pt_now_ns() > deadline) {
			RD.t_quiet = pt_now_ns();
			break;
		}
		pt_sleep_ns(200 * NSEC_PER_USEC);
	}
}

/* the racers */
static void round_race(struct tally *t)
{
	uint64_t tp = pt_now_ns();
	int j, rounds = (int)S.rounds;

	dt_release += (int64_t)(pt_now_ns() - RD.T);
	set_flag(&go_cancel, rounds);
	set_flag(&go_close, rounds);
	poll_quiet(t->fd);
	wait_flag(&done_cancel, rounds);
	wait_flag(&done_close, rounds);
	for (j = 0; j < NWAIT; j++)
		wait_flag(&done_wait[j], rounds);

	S.t_race += pt_now_ns() - tp;
	dt_cancel += (int64_t)(RD.t_cancel_done - RD.T);
	dt_quiet += (int64_t)(RD.t_quiet - RD.T);
	dt_close += (int64_t)(RD.t_close_done - RD.T);
	dt_wait += (int64_t)((RD.wt1[0] > RD.wt1[1] ? RD.wt1[0] : RD.wt1[1]) - RD.T);
}

/* after a removal, bring the device back */
static bool device_back(struct tally *t)
{
	int ret;

	if (RD.remove_res)
		failf(&nfail_harness, "round %" PRIu64 ": %s: %s", S.rounds,
		      t->del ? "del_device" : "unbind", errs(RD.remove_res));
	if (t->del)
		ret = pt_new_device(SOAK_ID);
	else
		ret = pt_drv_write("bind", SOAK_ID);
	if (ret) {
		failf(&nfail_harness, "round %" PRIu64 ": %s again: %s", S.rounds,
		      t->del ? "new_device" : "bind", errs(ret));
		return false;
	}
	return true;
}

/*
 * Let the timers that nothing claimed fire before the descriptors are
 * closed (their flush would take them): only the long ones may stay
 * pending.
 */
static void wait_unclaimed_fired(void)
{
	uint64_t deadline = pt_now_ns() + 10 * NSEC_PER_SEC;
	struct pendtimer_stats mid;
	char buf[512];
	int i, left = 0;

	for (i = 0; i < NLEFT; i++)
		left += RD.cancel_res[MAXN + i] != 0;
	while (!pt_stats(RD.fd_wait, &mid) && mid.pending > (uint64_t)left) {
		if (pt_now_ns() > deadline) {
			pt_stats_fmt(buf, sizeof(buf), &mid);
			failf(&nfail_outcome, "round %" PRIu64 ": timers did not fire within 10 s: %s",
			      S.rounds, buf);
			break;
		}
		pt_sleep_ns(200 * NSEC_PER_USEC);
	}
}

/* the device back, the unclaimed timers fired, the PENDs' CQEs, the files closed */
static bool round_end(struct tally *t)
{
	uint64_t tp = pt_now_ns();
	int ret;

	if (t->removal && !device_back(t))
		return false;
	if (!t->removal)
		wait_unclaimed_fired();
	/* the PENDs' CQEs, unless their ring was closed in the race */
	if (RD.npend && !(RD.actions & CL_RING)) {
		ret = soak_pend_reap(&SP, RD.npend, RD.pres, RD.pt1);
		if (ret != RD.npend)
			failf(&nfail_outcome, "round %" PRIu64 ": %s of %d PEND CQEs", S.rounds,
			      ret < 0 ? "a stray or repeated CQE instead" : errs(ret), RD.npend);
		t->pvisible = RD.npend;
	}
	/* the long ones: the release (or the flush/removal) claims them */
	close(RD.fd_wait);
	close(RD.fd_cancel);
	if (!(RD.actions & CL_CLOSE))
		close(RD.fd_close);
	S.t_dev += pt_now_ns() - tp;
	return true;
}

/* the round's figures into the run's, per delay */
static void round_account(struct tally *t, uint64_t tp)
{
	struct dstat *d = &S.ds[t->di];

	d->rounds++;
	d->requests += (uint64_t)t->nreq_round;
	d->contested += t->round_contested;
	d->cancel_ok += (uint64_t)t->cancel_ok;
	d->cancel_enoent += (uint64_t)t->cancel_enoent;
	S.contested += t->round_contested;
	S.t_collect += pt_now_ns() - tp;
	if (S.rounds % 500 == 0)
		printf("# %" PRIu64 " rounds, %" PRIu64 " contested, %" PRIu64 " s\n", S.rounds,
		       S.contested, (pt_now_ns() - S.t_start) / NSEC_PER_SEC);
}

/* One round; false: stop the soak (a harness or counter failure). */
bool round_run(void)
{
	struct tally t = { 0 };
	uint64_t tp;

	t.di = (int)(S.rounds % (uint64_t)S.ndelays);
	t.delay = S.delays[t.di];
	t.before = S.prev;
	S.rounds++;
	round_size(&t);
	if (!round_prepare(&t))
		return false;
	plan_actions(&t);
	plan_requests(&t);
	plan_cancels(&t);
	round_submit(&t);
	round_race(&t);
	if (!round_end(&t))
		return false;
	tp = pt_now_ns();
	check_arms(&t);
	check_waits(&t);
	check_pends(&t);
	if (!check_counters(&t))
		return false;
	round_account(&t, tp);
	return true;
}
