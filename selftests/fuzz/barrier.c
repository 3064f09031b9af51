// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_fuzz: the barrier: quiesce, close everything, compare the counters.
 */
#include "fuzz.h"

/* ------------------------------------------------------------------ */
/* barrier: quiesce, close everything, compare the counters */

static bool check_range(const char *dev, const char *what, int64_t v, int64_t lo, int64_t hi,
			const char *ctx)
{
	if (v >= lo && v <= hi)
		return true;
	fail(F_ACCOUNT, "%s: %s changed by %" PRId64 ", the model allows %" PRId64 "..%" PRId64 "; %s",
	     dev, what, v, lo, hi, ctx);
	return false;
}

static void print_holders(int id)
{
	char path[128], buf[2048];

	snprintf(path, sizeof(path), DBGFS "pendtimer%d/holders", id);
	if (pt_read_buf(path, buf, sizeof(buf)) > 0) {
		for (char *sv, *p = strtok_r(buf, "\n", &sv); p; p = strtok_r(NULL, "\n", &sv))
			diag("  %s", p);
	}
}

static void epoch_reset(void)
{
	int i, j;

	memset(W->hash, 0xff, sizeof(W->hash));
	W->nreqs = 0;
	memset(W->ofiles, 0, sizeof(W->ofiles));
	W->nofiles = 0;
	memset(W->efds, 0, sizeof(W->efds));
	W->nefds = 0;
	/* owners: only the process itself; its descriptors are all closed */
	W->nowners = 1;
	for (j = 0; j < MAX_FDS; j++)
		if (OW(0)->fds[j].fd >= 0)
			diag("epoch reset: descriptor %d still in the model", OW(0)->fds[j].fd);
	/* bindings: keep the current ones */
	for (i = 0; i < MAX_BINDINGS; i++) {
		bool keep = false;

		for (j = 0; j < NSLOTS; j++)
			if (W->slots[j].bind == i)
				keep = true;
		if (!keep)
			BI(i)->used = 0;
		else
			BI(i)->ofiles = -1;
	}
	for (i = 0; i < MAX_BDEVS; i++)
		if (BD(i)->used && !BD(i)->alive)
			BD(i)->used = 0;
}

/* The barrier's time ran out: say who is stuck, kill the children, finish. */
static void agents_stuck(void)
{
	int i;

	M_lock();
	fail(F_HARNESS, "barrier: agents did not stop within 180 s");
	for (i = 0; i < W->nthreads + MAX_CHILDREN; i++) {
		struct agent *a = &W->agents[i];

		if (a->used && !a->parked)
			diag("  agent %d pid %d in_op=%d op=%s for %" PRIu64 " ms",
			     i, (int)a->pid, a->in_op, op_name[a->op],
			     (pt_now_ns() - a->op_t0) / NSEC_PER_MSEC);
	}
	for (i = 0; i < NSLOTS; i++)
		if (W->slots[i].state == SL_BOUND)
			print_holders(W->slots[i].id);
	M_unlock();
	for (i = W->nthreads; i < W->nthreads + MAX_CHILDREN; i++)
		if (W->agents[i].used && W->agents[i].pid > 0)
			kill(W->agents[i].pid, SIGKILL);
	__atomic_store_n(&W->phase, PH_FINISH, __ATOMIC_RELEASE);
}

/* Under M: are all threads parked (waking WAITs that take long) and the children gone? */
static bool agents_parked(void)
{
	bool done = true;
	int i;

	for (i = 0; i < W->nthreads; i++) {
		struct agent *a = &W->agents[i];

		if (!__atomic_load_n(&a->parked, __ATOMIC_SEQ_CST)) {
			done = false;
			if (a->in_op && a->op == OP_WAIT && pt_now_ns() - a->op_t0 > 20 * NSEC_PER_MSEC)
				signal_agent(a);
		}
	}
	for (i = W->nthreads; i < W->nthreads + MAX_CHILDREN; i++) {
		struct agent *a = &W->agents[i];

		if (!a->used)
			continue;
		done = false;
		a->die = 1;
		if (a->in_op && a->op == OP_WAIT)
			signal_agent(a);
	}
	return done;
}

/* Stop every agent (180 s at the most); false: they did not stop. */
static bool stop_agents(void)
{
	uint64_t deadline = pt_now_ns() + 180 * NSEC_PER_SEC;
	bool done;

	__atomic_store_n(&W->phase, PH_STOP, __ATOMIC_RELEASE);
	for (;;) {
		reap_children();
		M_lock();
		done = agents_parked();
		M_unlock();
		if (done)
			return true;
		if (pt_now_ns() > deadline) {
			agents_stuck();
			return false;
		}
		pt_sleep_ns(NSEC_PER_MSEC);
	}
}

/* every agent is parked: close everything of the process */
static void close_all(void)
{
	int i;

	M_lock();
	for (i = 0; i < MAX_FDS; i++) {
		struct fdent *f = &OW(0)->fds[i];

		if (f->fd < 0)
			continue;
		if (f->ph) {
			if (!f->inuse) {
				close(f->fd);
				f->fd = -1;
			}
			continue;
		}
		close_fe(0, fe_index(0, i), false, false);
	}
	M_unlock();
}

/* counters are kept across unbind/bind: bind an unbound device to read them */
static void bind_to_read(struct slot *s)
{
	int ret;

	pthread_mutex_lock(&s->mu);
	ret = pt_drv_write("bind", s->id);
	M_lock();
	if (ret)
		fail(F_RESULT, "bind pendtimer%d at the barrier: %s", s->id, strerror(-ret));
	else
		slot_bound(s, s->bd);
	M_unlock();
	pthread_mutex_unlock(&s->mu);
}

/*
 * Every existing device quiet: its counters in @st[i], @ok[i] set.
 * Returns false if a bound device could not be read.
 */
static bool settle_all(struct pendtimer_stats *st, int *ok)
{
	bool all_readable = true;
	int i, ret;

	for (i = 0; i < NSLOTS; i++) {
		struct slot *s = &W->slots[i];
		char ctx[512];

		ok[i] = 0;
		if (s->state == SL_UNBOUND)
			bind_to_read(s);
		if (s->state != SL_BOUND)
			continue;
		ret = pt_settle_id(s->id, 60 * 1000, &st[i]);
		pt_stats_fmt(ctx, sizeof(ctx), &st[i]);
		if (ret) {
			M_lock();
			fail(ret == -ETIMEDOUT ? F_ACCOUNT : F_HARNESS,
			     "pendtimer%d not quiet at the barrier: %s; %s", s->id, strerror(-ret), ctx);
			print_holders(s->id);
			M_unlock();
			all_readable = false;
			continue;
		}
		ok[i] = 1;
	}
	return all_readable;
}

/* Under M, the devices quiet: what is left of the requests is complete. */
static void requests_complete(void)
{
	int k;

	for (k = 0; k < W->nreqs; k++) {
		struct req *r = R(k);
		uint64_t t = evclock();

		if (r->state == RS_INFLIGHT && r->orphan) {
			/* orphans (ring exit) */
			r->state = RS_DONE;
			r->acc = ACC_MAYBE;
			r->outcomes = OB(O_INTR) | ev_outcomes(r) | (r->due_lo <= t ? OB(O_FIRED) : 0);
			r->t_notpend = t;
			if (!r->gone)
				req_not_poss(r);
			r->gone = 1;
			account(r);
			OF(r->of)->nuring--;
			fe_release(r->fe);
		} else if (r->state == RS_ACTIVE && !r->gone) {
			/*
			 * released with its file (the last close raced with an
			 * in-flight call or a child exit)
			 */
			uint32_t set = OB(O_FLUSHED) | ev_outcomes(r) |
				       (r->due_lo <= t ? OB(O_FIRED) : 0);

			arm_gone(r, set, t);
		} else if (r->state == RS_INFLIGHT) {
			char rd[400];

			req_desc(r, rd, sizeof(rd));
			fail(F_HARNESS, "request still in flight at the barrier: %s", rd);
		}
	}
}

/* Under M: the placeholders no one uses any more closed, the count of descriptors */
static void close_placeholders(void)
{
	int i;

	for (i = 0; i < MAX_FDS; i++) {
		struct fdent *f = &OW(0)->fds[i];

		if (f->fd >= 0 && f->ph && !f->inuse) {
			close(f->fd);
			f->fd = -1;
		}
	}
	OW(0)->nfds = 0;
	for (i = 0; i < MAX_FDS; i++)
		if (OW(0)->fds[i].fd >= 0)
			OW(0)->nfds++;
}

/* Under M: each eventfd counted no more than its ARMs could fire; their sum. */
static int64_t check_eventfds(bool *any_lossy)
{
	int64_t efd_sum = 0;
	int i;

	for (i = 0; i < MAX_EFDS; i++) {
		struct efd *e = &W->efds[i];

		if (!e->used)
			continue;
		if (e->lossy)
			*any_lossy = true;
		efd_sum += (int64_t)e->total;
		if ((int64_t)e->total > e->fired_max)
			fail(F_OUTCOME, "an eventfd counted %" PRIu64 " but at most %" PRId64
			     " of its ARM requests can have fired (signalled when not fired)",
			     e->total, e->fired_max);
	}
	return efd_sum;
}

/*
 * Under M: slot @s's counters @st against the model; adds the range of
 * its ARM firings to @lo_sum..@hi_sum; the next epoch starts from @st.
 */
static void check_slot(struct slot *s, const struct pendtimer_stats *st,
		       int64_t *lo_sum, int64_t *hi_sum)
{
	struct bdev *d = BD(s->bd);
	struct acct *a = &d->a;
	char dev[32], ctx[512];
	bool good = true;
	int64_t v;
	int k;

	snprintf(dev, sizeof(dev), "pendtimer%d", s->id);
	pt_stats_fmt(ctx, sizeof(ctx), st);
	if (!pt_invariant_ok(st) || st->pending || !pt_reserved_zero(st)) {
		fail(F_ACCOUNT, "%s: invariant broken: %s", dev, ctx);
		good = false;
	}
	v = (int64_t)(st->submitted - d->base.submitted);
	good &= check_range(dev, "submitted", v, a->sub_min, a->sub_max, ctx);
	for (k = 0; k < O_NR; k++) {
		v = (int64_t)(stat_field(st, k) - stat_field(&d->base, k));
		good &= check_range(dev, o_name[k], v, a->omin[k], a->omax[k], ctx);
	}
	v = (int64_t)(st->cancelled - d->base.cancelled);
	good &= check_range(dev, "cancelled (CANCELs that returned 0)", v, a->cancel_ok,
			    a->cancel_ok, ctx);
	v = (int64_t)(st->fired - d->base.fired);
	*lo_sum += v - a->wu_fired_max;
	*hi_sum += v - a->wu_fired_min;
	if (st->race_timer_late < d->base.race_timer_late ||
	    st->race_cleanup_deferred < d->base.race_cleanup_deferred)
		fail(F_ACCOUNT, "%s: race counters went backwards: %s", dev, ctx);
	if (W->verbose || !good)
		diag("epoch %d %s: %s; model submitted %" PRId64 "..%" PRId64
		     " fired %" PRId64 "..%" PRId64 " cancelled %" PRId64 " interrupted %" PRId64
		     "..%" PRId64 " flushed %" PRId64 "..%" PRId64 " removed %" PRId64 "..%" PRId64,
		     W->epoch, dev, ctx, a->sub_min, a->sub_max, a->omin[0], a->omax[0],
		     a->cancel_ok, a->omin[2], a->omax[2], a->omin[3], a->omax[3],
		     a->omin[4], a->omax[4]);
	d->base = *st;
	memset(a, 0, sizeof(*a));
	d->have_last = 0;
	d->deleted_in_epoch_with_arm = 0;
}

/* Under M: devices that went away or are not readable: start over */
static void reset_unread(const int *ok)
{
	int i, k;

	for (i = 0; i < MAX_BDEVS; i++) {
		bool read_ok = false;

		for (k = 0; k < NSLOTS; k++)
			if (ok[k] && W->slots[k].bd == i)
				read_ok = true;
		if (BD(i)->used && !read_ok) {
			memset(&BD(i)->a, 0, sizeof(BD(i)->a));
			BD(i)->have_last = 0;
		}
	}
}

/* Under M: every device's counters, and the eventfds, against the model */
static void check_counters(const struct pendtimer_stats *st, const int *ok, bool all_readable)
{
	bool any_lossy = false;
	int64_t lo_sum = 0, hi_sum = 0, efd_sum;
	int i;

	efd_sum = check_eventfds(&any_lossy);
	for (i = 0; i < MAX_BDEVS; i++)
		if (BD(i)->used && !BD(i)->alive && BD(i)->deleted_in_epoch_with_arm)
			all_readable = false;
	for (i = 0; i < NSLOTS; i++)
		if (ok[i])
			check_slot(&W->slots[i], &st[i], &lo_sum, &hi_sum);
	reset_unread(ok);
	/* SPEC: the eventfd is signalled when the timer fires, never otherwise */
	if (all_readable && !any_lossy && (efd_sum < lo_sum || efd_sum > hi_sum))
		fail(F_OUTCOME, "eventfds counted %" PRId64 " firings, the devices' fired counters allow %" PRId64
		     "..%" PRId64 " ARM firings", efd_sum, lo_sum, hi_sum);
}

/* the remove locks are idle */
static void check_rlocks_idle(void)
{
	int i;

	for (i = 0; i < NSLOTS; i++) {
		struct slot *s = &W->slots[i];
		char path[128], buf[2048];

		if (s->state != SL_BOUND)
			continue;
		snprintf(path, sizeof(path), DBGFS "pendtimer%d/holders", s->id);
		if (pt_read_buf(path, buf, sizeof(buf)) > 0 &&
		    (!strstr(buf, "removing: 0\n") || !strstr(buf, "holders: 0\n")))
			fail(F_ACCOUNT, "pendtimer%d remove lock not idle at the barrier: %s", s->id, buf);
	}
}

/* the next epoch, with its max_pending */
static void next_epoch(void)
{
	static uint64_t ep;
	uint64_t x;
	char v[16];

	W->epoch++;
	W->epoch_end = W->ops + W->epoch_len;
	x = W->seed ^ (uint64_t)W->epoch;
	ep = pt_splitmix64(&x);
	W->max_pending = (ep % 100) < 15 ? 1 + (unsigned int)((ep >> 8) % 8) : 4096;
	snprintf(v, sizeof(v), "%u", W->max_pending);
	if (pt_write_str(PARAMS "max_pending", v))
		fail(F_HARNESS, "cannot set max_pending");
}

/*
 * The end of an epoch: all agents park, every file is closed, each device
 * must become quiet, and its counters are compared with the model.
 */
void epoch_barrier(bool final)
{
	uint64_t t0 = pt_now_ns();
	struct pendtimer_stats st[NSLOTS];
	int ok[NSLOTS], k;
	bool all_readable;

	if (!stop_agents())
		return;
	close_all();
	all_readable = settle_all(st, ok);

	M_lock();
	requests_complete();
	close_placeholders();
	check_counters(st, ok, all_readable);
	epoch_reset();
	W->n_barriers++;
	M_unlock();

	check_rlocks_idle();
	k = kmsg_scan();
	if (k)
		fail(F_KERNEL, "%d kernel report line(s) during epoch %d", k, W->epoch);

	diag("epoch %d: %" PRIu64 " ops, %" PRIu64 " ms barrier, %" PRIu64 " ops/s overall",
	     W->epoch, W->ops, (pt_now_ns() - t0) / NSEC_PER_MSEC,
	     W->ops * NSEC_PER_SEC / (pt_now_ns() - W->t_start + 1));

	if (final)
		return;
	next_epoch();
	__atomic_store_n(&W->phase, PH_RUN, __ATOMIC_RELEASE);
}
