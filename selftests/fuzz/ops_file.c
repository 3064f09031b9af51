// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_fuzz: operations on the file interface: open, close, dup, eventfds,
 * WAIT, ARM, CANCEL, STATS and unknown ioctls.
 */
#include "fuzz.h"

void set_in_op(int op, int cur_req)
{
	self->in_op = 1;
	self->op = op;
	self->op_t0 = pt_now_ns();
	self->cur_req = cur_req;
}

void clear_in_op(void)
{
	self->in_op = 0;
	self->cur_req = -1;
}

uint64_t pick_timeout(int blocking)
{
	unsigned int r = (unsigned int)rnd_below(1000);

	if (r < 80)
		return 0;
	if (r < 250)
		return rnd_below(100 * NSEC_PER_USEC);
	if (r < 600)
		return 100 * NSEC_PER_USEC + rnd_below(2 * NSEC_PER_MSEC);
	if (r < 800)
		return 2 * NSEC_PER_MSEC + rnd_below(18 * NSEC_PER_MSEC);
	if (r < 880)
		return 20 * NSEC_PER_MSEC + rnd_below(100 * NSEC_PER_MSEC);
	if (r < (blocking ? 890u : 930u))
		return NSEC_PER_SEC;
	if (r < (blocking ? 900u : 955u))
		return PENDTIMER_MAX_TIMEOUT_NS;
	if (r < 965)
		return PENDTIMER_MAX_TIMEOUT_NS + 1;
	if (r < 975)
		return UINT64_MAX;
	if (r < 980)
		return 1ULL << 63;
	return rnd_below(5 * NSEC_PER_MSEC);
}

static uint64_t fresh_tag(void)
{
	static const uint64_t base = 0x1000000000000000ULL;

	return base + (__atomic_add_fetch(&W->n_req, 0, __ATOMIC_RELAXED) << 8) +
	       (uint64_t)self->idx * 0x10 + rnd_below(16);
}

/* Under M: a tag for a new request on @ofi (fresh, hostile or a duplicate). */
uint64_t pick_tag(int ofi)
{
	unsigned int r = (unsigned int)rnd_below(100);
	struct ofile *o = OF(ofi);
	int i, n = 0, pick = -1;

	if (r < 70)
		return fresh_tag();
	if (r < 78)
		return W->colliding[rnd_below(32)];
	if (r < 92) {
		/* a tag of a request of this file: a duplicate or a reuse */
		bool probe = r >= 86;

		for (i = o->reqs; i >= 0; i = R(i)->onext) {
			if (probe && !(R(i)->kind != RK_ARM && R(i)->state == RS_INFLIGHT))
				continue;
			if (rnd_below(++n) == 0)
				pick = i;
		}
		if (pick >= 0)
			return R(pick)->tag;
		return fresh_tag();
	}
	if (r < 96) {
		static const uint64_t special[] = { 0, UINT64_MAX, 1ULL << 63, 1 };

		return special[rnd_below(4)];
	}
	return rnd();
}

/* ---- open / close / dup ---- */

int slot_pick(void)
{
	return (int)rnd_below(NSLOTS);
}

/* Under M: descriptor @g in use by this call: its number; its open file in *@ofi */
static int fe_take(int g, int *ofi)
{
	FE(g)->inuse++;
	*ofi = FE(g)->of;
	return FE(g)->fd;
}

/* Under M: the synchronous call on @g (open file @ofi) ended at @t1 */
static void sync_done(int g, int ofi, uint64_t t1)
{
	OF(ofi)->nsync--;
	fe_release(g);
	of_maybe_released(ofi, t1, evclock());
}

/*
 * Under M: operation @op (its request @cur_req, or -1) calls ioctl @req on
 * @fd unlocked, between the clock readings @t0 and @t1. 0 or -errno.
 */
static int timed_call(int op, int cur_req, int fd, unsigned long req, void *arg,
		      uint64_t *t0, uint64_t *t1)
{
	int res;

	set_in_op(op, cur_req);
	M_unlock();
	*t0 = pt_now_ns();
	res = ioctl(fd, req, arg) ? -errno : 0;
	*t1 = pt_now_ns();
	M_lock();
	clear_in_op();
	return res;
}

void op_open(void)
{
	struct owner *ow = OW(self->owner);
	int si = slot_pick(), fd, err, ofi, g, st0, busy0, bind0;
	struct slot *s = &W->slots[si];
	char path[64], rb[32];
	bool hostile = chance(40), stable;
	unsigned int allowed, gen0;
	struct stat st;

	if (ow->nfds >= MAX_FDS - 4 || W->nofiles >= MAX_OFILES - 8)
		return;
	if (hostile)
		snprintf(path, sizeof(path), "/dev/pendtimer%d", 1000 + si);
	else
		snprintf(path, sizeof(path), "/dev/pendtimer%d", s->id);
	gen0 = s->gen;
	st0 = s->state;
	busy0 = s->busy;
	bind0 = s->bind;
	M_unlock();
	fd_rdlock();
	fd = open(path, O_RDWR);
	err = fd < 0 ? -errno : 0;
	if (fd >= 0 && fstat(fd, &st))
		err = -errno;
	M_lock();
	/* no device operation began or ended meanwhile */
	stable = gen0 == s->gen && !busy0;
	if (hostile) {
		if (fd >= 0) {
			fail(F_RESULT, "open %s (no such device) returned a descriptor", path);
			close(fd);
		} else if (err != -ENOENT) {
			fail(F_RESULT, "open %s (no such device): %s, want -ENOENT", path,
			     res_str(err, rb, sizeof(rb)));
		}
		goto out;
	}
	if (fd < 0) {
		if (!stable)
			allowed = RB(ENOENT) | RB(ENODEV) | RB(ENXIO);
		else if (st0 == SL_BOUND)
			allowed = 0;
		else
			allowed = RB(ENOENT);
		if (!(allowed & (1u << rc_of(err))))
			fail(F_RESULT, "open %s (%s%s): %s, want %s", path, sl_name[st0],
			     stable ? "" : ", device operation in flight",
			     res_str(err, rb, sizeof(rb)), allowed ? "-ENOENT/-ENODEV" : "a descriptor");
		goto out;
	}
	if (err) {
		fail(F_HARNESS, "fstat: %s", strerror(-err));
		close(fd);
		goto out;
	}
	if (stable && st0 != SL_BOUND) {
		fail(F_RESULT, "open %s succeeded but the device is %s", path, sl_name[st0]);
		close(fd);
		goto out;
	}
	if (!stable) {
		/* which binding it reached: the one before, if it was removed */
		if (bind0 < 0 || st0 != SL_BOUND || minor(st.st_rdev) != BI(bind0)->minor ||
		    BI(bind0)->t_re || s->busy_add) {
			close(fd);
			W->n_ambiguous_open++;
			goto out;
		}
	} else if (minor(st.st_rdev) != BI(bind0)->minor) {
		fail(F_RESULT, "open %s: minor %u, the device's is %u", path,
		     minor(st.st_rdev), BI(bind0)->minor);
		close(fd);
		goto out;
	}
	ofi = ofile_new(bind0);
	if (ofi < 0) {
		close(fd);
		goto out;
	}
	W->nofiles++;
	g = fdent_new(self->owner, fd, FK_PT, ofi, -1);
	if (g < 0) {
		close(fd);
		OF(ofi)->released = 1;
	}
out:
	fe_reap(self->owner);
	fd_unlock();
}

/*
 * Close descriptor @g of @owner (M held): flush of the owner's requests,
 * release when it was the last reference.
 */
/*
 * Close descriptor @g of @owner: flush of the owner's requests, release
 * when it was the last reference. M held; with @unlocked, M is dropped
 * around the system call (the caller holds no fdlock). @exiting: only the
 * model (a child's exit closes it).
 */
void close_fe(int owner, int g, bool exiting, bool unlocked)
{
	struct fdent *f = FE(g);
	int ofi = f->of, i, ret, fd = f->fd;
	bool ph;
	struct ofile *o;
	uint64_t ts, te;

	if (f->kind == FK_EFD) {
		struct efd *e = &W->efds[f->efd];
		uint64_t v;

		if (!f->inuse && read(f->fd, &v, sizeof(v)) == sizeof(v))
			e->total += v;
		if (e->nfd == 1 && e->nreq)
			e->lossy = 1;
		e->nfd--;
		if (exiting) {
			f->closing = 1;
			return;
		}
		if (unlocked)
			fd_enter();
		if (f->inuse) {
			f->t_ph = evclock();
			dup2(W->nullfd, f->fd);
			f->ph = 1;
		} else {
			close(f->fd);
			f->fd = -1;
			OW(owner)->nfds--;
		}
		if (unlocked)
			fd_unlock();
		return;
	}
	o = OF(ofi);
	f->closing = 1;
	ts = evclock();
	for (i = o->reqs; i >= 0; i = R(i)->onext) {
		struct req *r = R(i);

		if (!req_live(r))
			continue;
		if (r->owner == owner || o->nfd == 1)
			ev_add(r, EV_FLUSH, ts);
	}
	if (exiting) {
		/* the exit closes it; see child_reaped_locked() */
		o->nfd--;
		return;
	}
	/* registrations while the flush runs may be flushed too */
	o->nflushing++;
	ph = f->inuse > 0;
	if (ph)
		f->t_ph = ts;
	if (unlocked) {
		M_unlock();
		fd_rdlock();
	}
	if (ph)
		ret = dup2(W->nullfd, fd) < 0 ? -errno : 0;
	else
		ret = close(fd) ? -errno : 0;
	if (unlocked)
		M_lock();
	te = evclock();
	o->nflushing--;
	f->closing = 0;
	if (ph) {
		f->ph = 1;
	} else {
		f->fd = -1;
		OW(owner)->nfds--;
	}
	fe_reap(owner);
	if (unlocked)
		fd_unlock();
	if (ret)
		fail(F_RESULT, "close of a pendtimer descriptor: %s (flush never fails)",
		     strerror(-ret));
	o->nfd--;
	for (i = o->reqs; i >= 0; i = R(i)->onext)
		if (R(i)->owner == owner)
			cleanup_done(R(i), O_FLUSHED, ts, te);
	of_maybe_released(ofi, ts, te);
}

void op_close(void)
{
	int g = pick_fe(self->owner, FK_PT);

	if (g >= 0)
		close_fe(self->owner, g, false, true);
}

void op_dup(void)
{
	struct owner *ow = OW(self->owner);
	int g, fd;

	fd_enter();
	g = pick_fe(self->owner, FK_PT);
	if (g < 0 || ow->nfds >= MAX_FDS - 4) {
		fd_unlock();
		return;
	}
	fd = chance(500) ? dup(FE(g)->fd) : fcntl(FE(g)->fd, F_DUPFD_CLOEXEC, (int)rnd_below(64));
	if (fd < 0)
		fail(F_HARNESS, "dup: %s", strerror(errno));
	else if (fdent_new(self->owner, fd, FK_PT, FE(g)->of, -1) < 0)
		close(fd);
	fe_reap(self->owner);
	fd_unlock();
}

/* ---- eventfds ---- */

void op_efd_new(void)
{
	int fd, e;

	if (OW(self->owner)->nfds >= MAX_FDS - 4)
		return;
	e = efd_new();
	if (e < 0)
		return;
	fd_enter();
	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0) {
		W->efds[e].used = 0;
		fail(F_HARNESS, "eventfd: %s", strerror(errno));
	} else {
		fdent_new(self->owner, fd, FK_EFD, -1, e);
	}
	fd_unlock();
}

void op_efd_read(void)
{
	int g = pick_fe(self->owner, FK_EFD);
	uint64_t v;
	ssize_t n;

	if (g < 0)
		return;
	n = read(FE(g)->fd, &v, sizeof(v));
	if (n == sizeof(v))
		W->efds[FE(g)->efd].total += v;
	else if (n >= 0 || errno != EAGAIN)
		fail(F_HARNESS, "eventfd read: %zd %s", n, strerror(errno));
}

void op_efd_close(void)
{
	int g = pick_fe(self->owner, FK_EFD);

	if (g >= 0)
		close_fe(self->owner, g, false, true);
}

void op_wait(void)
{
	struct subctx c = { .efd_g = -1 };
	struct pendtimer_wait w;
	uint64_t timeout;
	int ofi, res, fd;

	c.g = pick_fe(self->owner, FK_PT);
	if (c.g < 0 || W->nreqs >= MAX_REQS - 16)
		return;
	fd = fe_take(c.g, &ofi);
	timeout = pick_timeout(1);
	w.timeout_ns = timeout;
	w.tag = pick_tag(ofi);
	c.badptr = chance(15);
	c.badargs = timeout > PENDTIMER_MAX_TIMEOUT_NS;
	c.ri = req_new(ofi, c.g, RK_WAIT, w.tag, timeout);
	OF(ofi)->nsync++;
	c.sig_handled0 = __atomic_load_n(&self->sig_handled, __ATOMIC_SEQ_CST);
	/* a thread that ever had a ring gets io-wq task_work at any time */
	c.uring_busy = !U ? 0 : (U->nout || U->orphaned) ? 2 : 1;
	res = timed_call(OP_WAIT, c.ri, fd, PENDTIMER_IOC_WAIT, c.badptr ? BADPTR : &w,
			 &c.t0, &c.t1);
	W->n_wait_res[rc_of(res)]++;
	eval_submit(&c, res, false);
	sync_done(c.g, ofi, c.t1);
}

void op_arm(void)
{
	struct subctx c = { .efd_g = -1 };
	struct pendtimer_arm a;
	uint64_t timeout;
	int ofi, res, fd, e = -1;
	unsigned int r;

	c.g = pick_fe(self->owner, FK_PT);
	if (c.g < 0 || W->nreqs >= MAX_REQS - 16)
		return;
	r = (unsigned int)rnd_below(100);
	if (r < 85) {
		c.efd_g = pick_fe(self->owner, FK_EFD);
		if (c.efd_g < 0) {
			op_efd_new();
			return;
		}
		FE(c.efd_g)->inuse++;
		a.eventfd = FE(c.efd_g)->fd;
		e = FE(c.efd_g)->efd;
	} else if (r < 89) {
		a.eventfd = -1;
		c.efd_bad = -EBADF;
	} else if (r < 92) {
		a.eventfd = 900 + (int)rnd_below(100);	/* never open */
		c.efd_bad = -EBADF;
	} else if (r < 96) {
		a.eventfd = W->nullfd;
		c.efd_bad = -EINVAL;
	} else {
		a.eventfd = FE(c.g)->fd;	/* a pendtimer file is no eventfd */
		c.efd_bad = -EINVAL;
	}
	fd = fe_take(c.g, &ofi);
	timeout = pick_timeout(0);
	a.timeout_ns = timeout;
	a.tag = pick_tag(ofi);
	a.flags = chance(20) ? (uint32_t)(1u << rnd_below(32)) : 0;
	c.badptr = chance(10);
	c.badargs = timeout > PENDTIMER_MAX_TIMEOUT_NS || a.flags;
	c.ri = req_new(ofi, c.g, RK_ARM, a.tag, timeout);
	R(c.ri)->efd = e;
	OF(ofi)->nsync++;
	c.sig_handled0 = self->sig_handled;
	res = timed_call(OP_ARM, -1, fd, PENDTIMER_IOC_ARM, c.badptr ? BADPTR : &a,
			 &c.t0, &c.t1);
	if (res == 0 && e < 0) {
		fail(F_RESULT, "ARM with eventfd %d (%s) accepted", a.eventfd,
		     c.efd_bad == -EBADF ? "not open" : "not an eventfd");
	}
	eval_submit(&c, res, false);
	OF(ofi)->nsync--;
	fe_release(c.g);
	fe_release(c.efd_g);
	of_maybe_released(ofi, c.t1, evclock());
}

/* ---- CANCEL ---- */

/* Under M: pick a tag to cancel on @ofi. */
uint64_t pick_cancel_tag(int ofi)
{
	unsigned int r = (unsigned int)rnd_below(100);
	struct ofile *o = OF(ofi);
	int i, n = 0, pick = -1;

	if (r < 75) {
		/* prefer live requests */
		for (i = o->reqs; i >= 0; i = R(i)->onext) {
			if (!req_live(R(i)) && rnd_below(4))
				continue;
			if (rnd_below(++n) == 0)
				pick = i;
		}
		if (pick >= 0)
			return R(pick)->tag;
	}
	if (r < 87 && W->nreqs) {
		/* a tag of some request, likely of another file */
		return R((int)rnd_below(W->nreqs))->tag;
	}
	if (r < 92)
		return W->colliding[rnd_below(32)];
	return rnd();
}

void cancel_register(struct cancelctx *c)
{
	struct ofile *o = OF(c->ofi);
	int i, k;

	c->t_reg = evclock();
	c->slot = -1;
	for (k = 0; k < NCANCEL; k++) {
		if (!o->cancels[k].used) {
			o->cancels[k].used = 1;
			o->cancels[k].tag = c->tag;
			o->cancels[k].t = c->t_reg;
			c->slot = k;
			break;
		}
	}
	for (i = W->hash[hash_ot(c->ofi, c->tag)]; i >= 0; i = R(i)->hnext)
		if (R(i)->of == c->ofi && R(i)->tag == c->tag && req_live(R(i)))
			ev_add(R(i), EV_CANCEL, c->t_reg);
	BD(o->bd)->a.ub_cancel++;
}

void op_cancel(void)
{
	struct cancelctx c;
	uint64_t tag;
	int res, fd;

	c.g = pick_fe(self->owner, FK_PT);
	if (c.g < 0)
		return;
	fd = fe_take(c.g, &c.ofi);
	c.tag = tag = pick_cancel_tag(c.ofi);
	c.badptr = chance(10);
	cancel_register(&c);
	OF(c.ofi)->nsync++;
	res = timed_call(OP_CANCEL, -1, fd, PENDTIMER_IOC_CANCEL, c.badptr ? BADPTR : &tag,
			 &c.t0, &c.t1);
	cancel_eval(&c, res, false);
	sync_done(c.g, c.ofi, c.t1);
}

/* ---- STATS, unknown ioctls ---- */

/* lower bounds of a device's counters, taken before a STATS call */
struct stats_lb {
	int64_t cancel, fired, sub;
};

/* STATS @st against what the model knew (@lb before the call, the rest after): false if refused */
static bool stats_bounds_ok(struct bdev *d, const struct pendtimer_stats *st,
			    const struct stats_lb *lb, const char *sb)
{
	const struct pendtimer_stats *base = &d->base;

	if (!pt_reserved_zero(st))
		fail(F_RESULT, "STATS reserved fields not zero: %s", sb);
	else if ((int64_t)(st->cancelled - base->cancelled) < lb->cancel)
		fail(F_RESULT, "STATS cancelled below the CANCELs that returned 0 before it (%" PRId64 "): %s",
		     lb->cancel, sb);
	else if ((int64_t)(st->cancelled - base->cancelled) > d->a.ub_cancel)
		fail(F_RESULT, "STATS cancelled above the CANCELs issued (%" PRId64 "): %s",
		     d->a.ub_cancel, sb);
	else if ((int64_t)(st->fired - base->fired) < lb->fired)
		fail(F_RESULT, "STATS fired below the WAITs that returned 0 before it (%" PRId64 "): %s",
		     lb->fired, sb);
	else if ((int64_t)(st->submitted - base->submitted) < lb->sub)
		fail(F_RESULT, "STATS submitted below the ARMs accepted before it (%" PRId64 "): %s",
		     lb->sub, sb);
	else if ((int64_t)(st->submitted - base->submitted) > d->a.ub_sub)
		fail(F_RESULT, "STATS submitted above the submissions made (%" PRId64 "): %s",
		     d->a.ub_sub, sb);
	else
		return true;
	return false;
}

/* A STATS that began after the last one ended: no counter but pending went down. */
static void stats_monotonic(struct bdev *d, const struct pendtimer_stats *st, const char *sb)
{
	const __u64 *p = (const __u64 *)st, *q = (const __u64 *)&d->last;
	int i;

	for (i = 0; i < 9; i++) {
		if (i == 6)	/* pending goes down too */
			continue;
		if (p[i] < q[i]) {
			char lb[400];

			pt_stats_fmt(lb, sizeof(lb), &d->last);
			fail(F_RESULT, "STATS counter %d went backwards: %s, earlier %s", i, sb, lb);
			break;
		}
	}
}

/* Under M: a STATS that returned 0, against the model; the device's last STATS */
static void stats_check(struct bdev *d, const struct pendtimer_stats *st,
			const struct stats_lb *lb, uint64_t t0, uint64_t t1)
{
	char sb[400];

	pt_stats_fmt(sb, sizeof(sb), st);
	if (stats_bounds_ok(d, st, lb, sb) && d->have_last && d->last_t1 < t0)
		stats_monotonic(d, st, sb);
	if (!d->have_last || d->last_t1 < t1) {
		d->last = *st;
		d->last_t1 = t1;
		d->have_last = 1;
	}
}

void op_stats(void)
{
	struct pendtimer_stats st;
	int g = pick_fe(self->owner, FK_PT), ofi, fd, res, rc;
	struct binding *b;
	struct bdev *d;
	bool badptr = chance(20), dead_before, rem, ph;
	struct stats_lb lb;
	uint64_t t0, t1;
	unsigned int allowed;
	char rb[32];

	if (g < 0)
		return;
	fd = fe_take(g, &ofi);
	d = BD(OF(ofi)->bd);
	lb.cancel = d->a.lb_cancel;
	lb.fired = d->a.lb_fired;
	lb.sub = d->a.lb_sub;
	OF(ofi)->nsync++;
	memset(&st, 0xa5, sizeof(st));
	res = timed_call(OP_STATS, -1, fd, PENDTIMER_IOC_STATS, badptr ? BADPTR : &st, &t0, &t1);
	b = BI(OF(ofi)->bind);
	dead_before = b->t_re && b->t_re < t0;
	rem = b->t_rs && b->t_rs <= t1;
	ph = ph_during(g, t1);
	rc = rc_of(res);
	allowed = dead_before ? RB(ENODEV) : badptr ? RB(EFAULT) : RB(OK);
	if (rem)
		allowed |= RB(ENODEV);
	if (ph)
		allowed |= RB(ENOTTY);
	if (!(allowed & (1u << rc)))
		fail(F_RESULT, "STATS%s on pendtimer%d -> %s", badptr ? " (bad pointer)" : "",
		     W->slots[b->slot].id, res_str(res, rb, sizeof(rb)));
	if (rc == RC_OK && !badptr)
		stats_check(d, &st, &lb, t0, t1);
	sync_done(g, ofi, t1);
}

void op_badioctl(void)
{
	static const unsigned long cmds[] = {
		_IOW(PENDTIMER_IOC_MAGIC, 1, __u64),		/* WAIT, wrong size */
		_IOW(PENDTIMER_IOC_MAGIC, 2, struct pendtimer_wait),	/* ARM, wrong size */
		_IOR(PENDTIMER_IOC_MAGIC, 3, __u64),		/* CANCEL, wrong direction */
		_IOW(PENDTIMER_IOC_MAGIC, 4, struct pendtimer_stats),	/* STATS, wrong dir */
		_IO(PENDTIMER_IOC_MAGIC, 0),
		_IOWR(PENDTIMER_IOC_MAGIC, 5, __u64),
		_IO(PENDTIMER_IOC_MAGIC, 255),
		_IOW('T', 1, int),
		0x5401,	/* TCGETS */
	};
	int g = pick_fe(self->owner, FK_PT), ofi, fd, res, rc;
	unsigned long cmd = cmds[rnd_below(ARRAY_SIZE(cmds))];
	__u64 buf[32] = { 0 };
	struct binding *b;
	unsigned int allowed;
	uint64_t t0, t1;
	char rb[32];

	if (g < 0)
		return;
	fd = fe_take(g, &ofi);
	OF(ofi)->nsync++;
	M_unlock();
	t0 = pt_now_ns();
	res = ioctl(fd, cmd, buf) ? -errno : 0;
	t1 = pt_now_ns();
	M_lock();
	b = BI(OF(ofi)->bind);
	rc = rc_of(res);
	allowed = (b->t_re && b->t_re < t0) ? RB(ENODEV) : RB(ENOTTY);
	if (b->t_rs && b->t_rs <= t1)
		allowed |= RB(ENODEV);
	if (ph_during(g, t1))
		allowed |= RB(ENOTTY);	/* the placeholder pipe's answer */
	if (!(allowed & (1u << rc)))
		fail(F_RESULT, "ioctl 0x%lx (unknown number or size) -> %s, want %s",
		     cmd, res_str(res, rb, sizeof(rb)),
		     allowed & RB(ENOTTY) ? "-ENOTTY" : "-ENODEV (device removed)");
	sync_done(g, ofi, t1);
}
