// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_soak: checking: contested requests, failures.
 */
#include "soak.h"

/*
 * A request is contested when a competing completion path (its CANCEL at
 * @t_cancel, the flush, the removal) was launched at or after its due time
 * (its timer may be firing) and before the round's requests were all
 * complete (RD.t_quiet, measured by polling the pending count), so that
 * the timer and that path could meet on it.
 */
bool contested_at(uint64_t due, uint64_t t_cancel, uint64_t window)
{
	uint64_t end = RD.t_quiet;

	(void)window;
	if (t_cancel && t_cancel >= due && t_cancel <= end)
		return true;
	if ((RD.actions & CL_CLOSE) && RD.t_close >= due && RD.t_close <= end)
		return true;
	if ((RD.actions & (CL_UNBIND | CL_DEL)) && RD.t_remove >= due && RD.t_remove <= end)
		return true;
	if ((RD.actions & CL_RING) && RD.t_ring >= due && RD.t_ring <= end)
		return true;
	return false;
}

int nfail_outcome, nfail_counter, nfail_harness;
static int nprinted;

void failf(int *cnt, const char *fmt, ...)
{
	va_list ap;

	(*cnt)++;
	if (++nprinted > 30)
		return;
	printf("# FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

const char *errs(int r)
{
	static char buf[8][32];
	static int k;
	char *b = buf[k++ & 7];

	if (r >= 0)
		snprintf(b, 32, "%d", r);
	else
		snprintf(b, 32, "-%s", strerror(-r));
	return b;
}

/* Count a CANCEL's result; anything but 0, -ENOENT (or -ENODEV with a removal) fails. */
static void count_cancel(struct tally *t, int c, const char *what, uint64_t tag)
{
	if (c == 0)
		t->cancel_ok++;
	else if (c == -ENOENT)
		t->cancel_enoent++;
	else if (c != 1 && !(c == -ENODEV && t->removal))
		failf(&nfail_outcome, "round %" PRIu64 ": CANCEL %stag 0x%llx: %s",
		      S.rounds, what, (unsigned long long)tag, errs(c));
}

/* ARM request @i: its eventfd against its CANCEL (own eventfd only) */
static void check_arm_efd(struct tally *t, int i, int64_t ev)
{
	bool cancelled = RD.cancel_res[i] == 0;

	if (ev > 1 || (cancelled && ev))
		failf(&nfail_outcome, "round %" PRIu64 " delay %ld: ARM tag 0x%llx: eventfd %lld, CANCEL %s (a cancelled request must not fire, a request fires once)",
		      S.rounds, t->delay, (unsigned long long)RD.tag[i], (long long)ev,
		      errs(RD.cancel_res[i]));
	if (!cancelled && !ev && !(RD.actions & (CL_CLOSE | CL_UNBIND | CL_DEL)) && i < MAXN)
		failf(&nfail_outcome, "round %" PRIu64 " delay %ld: ARM tag 0x%llx neither cancelled (%s) nor fired, and nothing else could claim it",
		      S.rounds, t->delay, (unsigned long long)RD.tag[i], errs(RD.cancel_res[i]));
}

/* per ARM request: one path, and whether it was contested */
void check_arms(struct tally *t)
{
	int i;

	for (i = 0; i < NREQ; i++) {
		bool own_efd = i < t->n - t->nshared;
		int64_t ev = 0;
		uint64_t val;

		if ((i >= t->n && i < MAXN) || !RD.due[i])
			continue;
		if (own_efd) {
			if (read(efd[i], &val, sizeof(val)) == sizeof(val))
				ev = (int64_t)val;
			t->fired_efd += (uint64_t)ev;
			check_arm_efd(t, i, ev);
		}
		count_cancel(t, RD.cancel_res[i], "", RD.tag[i]);
		if (i < MAXN && contested_at(RD.due[i], RD.cancel_res[i] != 1 ? RD.cancel_t[i] : 0, t->window)) {
			t->round_contested++;
			if (own_efd)
				ev ? S.won_timer++ : S.won_other++;
		}
	}
	if (read(efd_shared, &t->shared_v, sizeof(t->shared_v)) != sizeof(t->shared_v))
		t->shared_v = 0;
}

/*
 * A WAIT's or PEND's result @r against its CANCEL's @c, completed at
 * @t1, due at @due; counts what it tells in the run's PEND totals when
 * @pend.
 */
static bool one_path_ok(struct tally *t, int r, int c, uint64_t t1, uint64_t due, bool pend)
{
	switch (r) {
	case 0:
		return c != 0 && t1 >= due;
	case -ECANCELED:
		if (pend)
			S.p_ecanceled++;
		return c == 0 || (RD.actions & CL_CLOSE);
	case -ENODEV:
		if (pend)
			S.p_enodev++;
		return t->removal && c != 0;
	default:
		return false;
	}
}

/* per WAIT */
void check_waits(struct tally *t)
{
	int j;

	for (j = 0; j < NWAIT; j++) {
		int r = RD.wres[j], c = RD.cancel_res[NREQ + j];

		count_cancel(t, c, "of WAIT ", RD.wtag[j]);
		if (r == 0)
			t->wfired++;
		if (!one_path_ok(t, r, c, RD.wt1[j], RD.wdue[j], false))
			failf(&nfail_outcome, "round %" PRIu64 " delay %ld: WAIT tag 0x%llx -> %s with its CANCEL %s, actions 0x%x",
			      S.rounds, t->delay, (unsigned long long)RD.wtag[j], errs(r), errs(c), RD.actions);
		if (contested_at(RD.wdue[j], c != 1 ? RD.cancel_t[NREQ + j] : 0, t->window)) {
			t->round_contested++;
			r == 0 ? S.won_timer++ : S.won_other++;
		}
	}
}

/* per PEND (their CQEs, unless gone with their ring), and the PEND totals */
void check_pends(struct tally *t)
{
	int j;

	for (j = 0; j < RD.npend; j++) {
		int r = RD.pres[j], c = RD.cancel_res[NREQ + NWAIT + j];

		if (c == 0)
			t->pcancel_ok++;
		count_cancel(t, c, "of PEND ", RD.ptag[j]);
		if (!t->pvisible)
			continue;	/* gone with the ring */
		if (r == 0)
			t->pfired++;
		if (!one_path_ok(t, r, c, RD.pt1[j], RD.pdue[j], true))
			failf(&nfail_outcome, "round %" PRIu64 " delay %ld: PEND tag 0x%llx -> CQE %s with its CANCEL %s, actions 0x%x",
			      S.rounds, t->delay, (unsigned long long)RD.ptag[j], errs(r), errs(c), RD.actions);
		if (contested_at(RD.pdue[j], c != 1 ? RD.cancel_t[NREQ + NWAIT + j] : 0, t->window)) {
			t->round_contested++;
			r == 0 ? S.won_timer++ : S.won_other++;
		}
	}
	S.p_sub += (uint64_t)RD.npend;
	S.p_fired += (uint64_t)t->pfired;
	S.p_cancel_ok += (uint64_t)t->pcancel_ok;
	if (RD.npend && !t->pvisible) {
		S.p_gone += (uint64_t)RD.npend;
		S.p_ring_exits++;
	}
	if ((RD.actions & CL_CLOSE) && RD.close_res)
		failf(&nfail_outcome, "round %" PRIu64 ": close (flush): %s", S.rounds, errs(RD.close_res));
}

/* the counters moved by exactly what the requests did */
static void compare_counters(struct tally *t)
{
	const struct pendtimer_stats *a = &t->after, *b = &t->before;
	uint64_t d_sub = a->submitted - b->submitted;
	uint64_t d_fired = a->fired - b->fired;
	uint64_t d_can = a->cancelled - b->cancelled;
	uint64_t d_int = a->interrupted - b->interrupted;
	uint64_t d_fl = a->flushed - b->flushed;
	uint64_t d_rm = a->removed - b->removed;
	uint64_t want_fired = t->fired_efd + t->shared_v + (uint64_t)t->wfired + (uint64_t)t->pfired;
	/* a closed ring's PENDs: fired, interrupted, flushed or removed, unseen */
	uint64_t gone = RD.npend && !t->pvisible ? (uint64_t)(RD.npend - t->pcancel_ok) : 0;
	uint64_t nreq = (uint64_t)t->nreq_round;
	bool bad = d_sub != nreq ||
		   d_fired < want_fired || d_fired > want_fired + gone ||
		   d_can != (uint64_t)t->cancel_ok || d_int > gone ||
		   d_fired + d_can + d_fl + d_rm + d_int != nreq ||
		   (!t->removal && d_rm) || (!(RD.actions & CL_CLOSE) && t->removal && d_fl);
	struct dstat *d = &S.ds[t->di];
	char buf[512];

	S.p_interrupted += d_int;
	d->fired += d_fired;
	d->flushed += d_fl;
	d->removed += d_rm;
	if (bad) {
		pt_stats_fmt(buf, sizeof(buf), a);
		failf(&nfail_counter, "round %" PRIu64 " delay %ld actions 0x%x: counters moved submitted %" PRIu64
		      " fired %" PRIu64 " cancelled %" PRIu64 " interrupted %" PRIu64 " flushed %" PRIu64
		      " removed %" PRIu64 "; expected submitted %d fired %" PRIu64 " (eventfds %" PRIu64
		      " + shared %" PRIu64 " + WAITs %d) cancelled %d; now %s",
		      S.rounds, t->delay, RD.actions, d_sub, d_fired, d_can, d_int, d_fl, d_rm,
		      t->nreq_round, want_fired, t->fired_efd, t->shared_v,
		      t->wfired, t->cancel_ok, buf);
	}
	d->timer_late += a->race_timer_late - b->race_timer_late;
	d->cleanup_deferred += a->race_cleanup_deferred - b->race_cleanup_deferred;
	S.late_total += a->race_timer_late - b->race_timer_late;
	S.deferred_total += a->race_cleanup_deferred - b->race_cleanup_deferred;
}

/* The requests a round of @n submitted (the refused ones not). */
int round_requests(int n)
{
	int i, nreq = 0;

	for (i = 0; i < NREQ; i++)
		if (!((i >= n && i < MAXN) || !RD.due[i]))
			nreq++;
	return nreq + NWAIT + RD.npend;
}

/* The counters, when they survived the round; false: the device is not quiet. */
bool check_counters(struct tally *t)
{
	char buf[512];
	int ret;

	t->nreq_round = round_requests(t->n);
	ret = settle(&t->after);
	S.prev = t->after;
	/* after del_device: a new device, new counters */
	S.have_prev = !t->del;
	if (ret) {
		pt_stats_fmt(buf, sizeof(buf), &t->after);
		failf(&nfail_counter, "round %" PRIu64 ": device not quiet after the round: %s; %s",
		      S.rounds, errs(ret), buf);
		return false;
	}
	if (!pt_invariant_ok(&t->after) || t->after.pending) {
		pt_stats_fmt(buf, sizeof(buf), &t->after);
		failf(&nfail_counter, "round %" PRIu64 ": invariant: %s", S.rounds, buf);
	}
	if (!t->del)
		compare_counters(t);
	return true;
}
