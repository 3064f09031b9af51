// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_fuzz: the model: result codes, time, random, locking, and the model's objects
 * (owners, open files, bindings, devices, eventfds, requests) and what
 * may claim a request.
 */
#include "fuzz.h"

const struct rc_ent rc_tab[RC_NR] = {
	[RC_OK] = { 0, "0" },
	[RC_ECANCELED] = { ECANCELED, "-ECANCELED" },
	[RC_EINTR] = { EINTR, "-EINTR" },
	[RC_ENODEV] = { ENODEV, "-ENODEV" },
	[RC_ENOENT] = { ENOENT, "-ENOENT" },
	[RC_EEXIST] = { EEXIST, "-EEXIST" },
	[RC_ENOSPC] = { ENOSPC, "-ENOSPC" },
	[RC_EINVAL] = { EINVAL, "-EINVAL" },
	[RC_EFAULT] = { EFAULT, "-EFAULT" },
	[RC_EBADF] = { EBADF, "-EBADF" },
	[RC_ENOTTY] = { ENOTTY, "-ENOTTY" },
	[RC_ENOMEM] = { ENOMEM, "-ENOMEM" },
	[RC_EBUSY] = { EBUSY, "-EBUSY" },
	[RC_EALREADY] = { EALREADY, "-EALREADY" },
	[RC_ENXIO] = { ENXIO, "-ENXIO" },
	[RC_EOPNOTSUPP] = { EOPNOTSUPP, "-EOPNOTSUPP" },
	[RC_OTHER] = { -1, "other" },
};

int rc_of(int res)
{
	int i;

	if (res >= 0)
		return RC_OK;
	for (i = 1; i < RC_OTHER; i++)
		if (rc_tab[i].e == -res)
			return i;
	return RC_OTHER;
}

void rc_set_str(char *buf, size_t len, unsigned int set)
{
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < RC_NR && n < len; i++)
		if (set & (1u << i))
			n += snprintf(buf + n, len - n, "%s%s", n ? "," : "", rc_tab[i].n);
}

const char *res_str(int res, char *buf, size_t len)
{
	if (res >= 0)
		snprintf(buf, len, "%d", res);
	else if (rc_of(res) != RC_OTHER)
		snprintf(buf, len, "%s", rc_tab[rc_of(res)].n);
	else
		snprintf(buf, len, "-%d(%s)", -res, strerror(-res));
	return buf;
}
const char *const o_name[O_NR] = {
	"fired", "cancelled", "interrupted", "flushed", "removed"
};
const char *const rk_name[] = { "WAIT", "URING_WAIT", "ARM", "PEND" };
const char *const f_name[F_NR] = {
	"results", "outcomes", "accounting", "final", "kernel", "harness"
};
const char *const sl_name[] = { "absent", "unbound", "bound" };

struct world *W;
__thread struct agent *self;

/* ------------------------------------------------------------------ */
/* time, random, locking */

void rng_seed(uint64_t *s, uint64_t seed)
{
	uint64_t x = seed;
	int i;

	for (i = 0; i < 4; i++)
		s[i] = pt_splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rnd(void)
{
	uint64_t *s = self->rng;
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

int chance(unsigned int permille)
{
	return rnd_below(1000) < permille;
}

void M_lock(void)
{
	int r = pthread_mutex_lock(&W->mu);

	if (r == EOWNERDEAD)
		pthread_mutex_consistent(&W->mu);
}

void M_unlock(void)
{
	pthread_mutex_unlock(&W->mu);
}

/*
 * The descriptor table of this process: calls that change it hold fdlock
 * shared, fork holds it exclusive, so that the child's model table is a
 * copy of its real one. Lock order: fdlock, then M. Children are single
 * threaded and never fork: they do not use it.
 */
void fd_rdlock(void)
{
	if (!self->is_child)
		pthread_rwlock_rdlock(&W->fdlock);
}

void fd_unlock(void)
{
	if (!self->is_child)
		pthread_rwlock_unlock(&W->fdlock);
}

/* With M held: take fdlock shared (M is dropped and taken again). */
void fd_enter(void)
{
	if (self->is_child)
		return;
	M_unlock();
	pthread_rwlock_rdlock(&W->fdlock);
	M_lock();
}

/* A strictly increasing clock for event order. Under M. */
uint64_t evclock(void)
{
	uint64_t t = pt_now_ns();

	if (t <= W->evclock)
		t = W->evclock + 1;
	W->evclock = t;
	return t;
}

unsigned int hash_ot(int of, uint64_t tag)
{
	uint64_t h = (tag ^ ((uint64_t)of * 0x9e3779b97f4a7c15ULL)) * 0x61C8864680B583EBULL;

	return (unsigned int)(h >> (64 - HASH_BITS));
}

int ofile_new(int bind)
{
	int i;

	for (i = 0; i < MAX_OFILES; i++) {
		struct ofile *o = OF(i);

		if (o->used)
			continue;
		memset(o, 0, sizeof(*o));
		o->used = 1;
		o->bind = bind;
		o->bd = BI(bind)->bd;
		o->reqs = -1;
		o->bnext = BI(bind)->ofiles;
		BI(bind)->ofiles = i;
		return i;
	}
	return -1;
}

int binding_new(int slot, int bd, unsigned int minor)
{
	int i;

	for (i = 0; i < MAX_BINDINGS; i++) {
		struct binding *b = BI(i);

		if (b->used)
			continue;
		memset(b, 0, sizeof(*b));
		b->used = 1;
		b->slot = slot;
		b->bd = bd;
		b->minor = minor;
		b->ofiles = -1;
		return i;
	}
	return -1;
}

int bdev_new(int slot)
{
	int i;

	for (i = 0; i < MAX_BDEVS; i++) {
		struct bdev *d = BD(i);

		if (d->used)
			continue;
		memset(d, 0, sizeof(*d));
		d->used = 1;
		d->slot = slot;
		d->alive = 1;
		return i;
	}
	return -1;
}

int efd_new(void)
{
	int i;

	for (i = 0; i < MAX_EFDS; i++) {
		struct efd *e = &W->efds[i];

		if (e->used)
			continue;
		memset(e, 0, sizeof(*e));
		e->used = 1;
		return i;
	}
	return -1;
}

int fdent_new(int owner, int fd, int kind, int of, int efd)
{
	struct owner *ow = OW(owner);
	int i;

	for (i = 0; i < MAX_FDS; i++) {
		struct fdent *f = &ow->fds[i];

		if (f->fd >= 0)
			continue;
		memset(f, 0, sizeof(*f));
		f->fd = fd;
		f->kind = kind;
		f->of = of;
		f->efd = efd;
		ow->nfds++;
		if (kind == FK_PT)
			OF(of)->nfd++;
		else
			W->efds[efd].nfd++;
		return fe_index(owner, i);
	}
	return -1;
}

int owner_new(pid_t pid, int agent)
{
	int i;

	if (W->nowners >= MAX_OWNERS)
		return -1;
	i = W->nowners++;
	memset(OW(i), 0, sizeof(*OW(i)));
	OW(i)->used = 1;
	OW(i)->pid = pid;
	OW(i)->agent = agent;
	for (int j = 0; j < MAX_FDS; j++)
		OW(i)->fds[j].fd = -1;
	return i;
}

/* Pick a random open descriptor of @kind in @owner; -1 if none. */
int pick_fe(int owner, int kind)
{
	struct owner *ow = OW(owner);
	int idx[MAX_FDS], n = 0, i;

	for (i = 0; i < MAX_FDS; i++)
		if (ow->fds[i].fd >= 0 && ow->fds[i].kind == kind && !ow->fds[i].ph &&
		    !ow->fds[i].closing)
			idx[n++] = i;
	if (!n)
		return -1;
	return fe_index(owner, idx[rnd_below(n)]);
}

/* ---- claim events ---- */

void ev_add(struct req *r, uint32_t ev, uint64_t t)
{
	r->ev |= ev;
	if (!r->t_ev1 || t < r->t_ev1) {
		r->t_ev2 = r->t_ev1;
		r->t_ev1 = t;
	} else if (!r->t_ev2 || t < r->t_ev2) {
		r->t_ev2 = t;
	}
}

uint32_t ev_outcomes(const struct req *r)
{
	uint32_t o = 0;

	if (r->ev & EV_CANCEL)
		o |= OB(O_CANCELLED);
	if (r->ev & EV_FLUSH)
		o |= OB(O_FLUSHED);
	if (r->ev & EV_REMOVE)
		o |= OB(O_REMOVED);
	if (r->kind == RK_WAIT && (r->ev & (EV_SIGNAL | EV_KILL)))
		o |= OB(O_INTR);
	if (RK_ON_RING(r->kind) && (r->ev & (EV_ASYNC | EV_EXIT)))
		o |= OB(O_INTR);
	return o;
}

bool req_live(const struct req *r)
{
	return r->state == RS_INFLIGHT || (r->state == RS_ACTIVE && !r->gone);
}

/* The request stopped being possibly pending in its file. */
void req_not_poss(struct req *r)
{
	struct ofile *o = OF(r->of);

	if (o->nposs)
		o->nposs--;
	o->ngone++;
}

/* ---- accounting ---- */

void account(struct req *r)
{
	struct acct *a = &BD(r->bd)->a;
	uint32_t os = r->outcomes;
	int c;

	if (r->accounted)
		return;
	r->accounted = 1;
	if (r->acc == ACC_YES)
		a->sub_min++;
	if (r->acc != ACC_NO)
		a->sub_max++;
	if (r->acc == ACC_NO)
		return;
	for (c = 0; c < O_NR; c++) {
		if (!(os & OB(c)))
			continue;
		a->omax[c]++;
		if (os == OB(c) && r->acc == ACC_YES)
			a->omin[c]++;
	}
	if (r->kind == RK_ARM) {
		if (os & OB(O_FIRED)) {
			a->arm_fired_max++;
			if (r->efd >= 0)
				W->efds[r->efd].fired_max++;
		}
	} else if (os & OB(O_FIRED)) {
		a->wu_fired_max++;
		if (os == OB(O_FIRED) && r->acc == ACC_YES)
			a->wu_fired_min++;
	}
}

/* An accepted ARM request is known claimed: @set are its possible outcomes. */
void arm_gone(struct req *r, uint32_t set, uint64_t t)
{
	if (r->gone)
		return;
	r->gone = 1;
	r->gone_set = set;
	r->t_gone = t;
	r->t_notpend = t;
	req_not_poss(r);
	if (r->kind == RK_ARM && r->state == RS_ACTIVE) {
		r->outcomes = set;
		r->acc = ACC_YES;
		r->state = RS_DONE;
		if (r->efd >= 0)
			W->efds[r->efd].nreq--;
		account(r);
	}
}

/*
 * Mark a confirmed-accepted WAIT (or uring WAIT) as claimed by a path that
 * has finished: its result, when it comes, must be one of @set.
 */
void wait_gone(struct req *r, uint32_t set, uint64_t t)
{
	if (r->gone)
		return;
	r->gone = 1;
	r->gone_set = set;
	r->t_gone = t;
	req_not_poss(r);
}

/* A cleanup path (flush, release, removal) that began at @ts returned at @te. */
void cleanup_done(struct req *r, int outcome, uint64_t ts, uint64_t te)
{
	uint32_t set;

	if (!req_live(r) || !r->t_acc || r->t_acc > ts || r->gone)
		return;
	set = OB(outcome) | ev_outcomes(r);
	if (r->due_lo <= te)
		set |= OB(O_FIRED);
	if (r->kind == RK_ARM)
		arm_gone(r, set, te);
	else
		wait_gone(r, set, te);
	if (!(set & OB(O_FIRED)))
		W->n_sure_flush++;
}

/*
 * Release of @of happened (no descriptor, no syscall, no io_uring ref).
 * Not for a file io_uring has held: a request may drop its reference after
 * its CQE was posted (the io-wq worker frees it later), so that release
 * time is unknown; the barrier settles those.
 */
void of_maybe_released(int ofi, uint64_t ts, uint64_t te)
{
	struct ofile *o = OF(ofi);
	int i;

	if (o->nfd || o->nsync || o->nuring || o->released || o->uring_ever)
		return;
	o->released = 1;
	for (i = o->reqs; i >= 0; i = R(i)->onext)
		cleanup_done(R(i), O_FLUSHED, ts, te);
}

/* ---- requests ---- */

int req_new(int ofi, int fe, int kind, uint64_t tag, uint64_t timeout)
{
	struct ofile *o = OF(ofi);
	struct agent *ag = self;
	struct req *r;
	unsigned int h;
	int i, k;

	if (W->nreqs >= MAX_REQS)
		return -1;
	i = W->nreqs++;
	r = R(i);
	memset(r, 0, sizeof(*r));
	r->of = ofi;
	r->owner = ag->owner;
	r->agent = ag->idx;
	r->fe = fe;
	r->efd = -1;
	r->bind = o->bind;
	r->bd = o->bd;
	r->kind = kind;
	r->state = RS_INFLIGHT;
	r->tag = tag;
	r->timeout = timeout;
	r->t_reg = evclock();
	r->due_lo = timeout <= PENDTIMER_MAX_TIMEOUT_NS ? r->t_reg + timeout : UINT64_MAX;
	r->ngone_at_reg = o->ngone;
	h = hash_ot(ofi, tag);
	r->hnext = W->hash[h];
	W->hash[h] = i;
	r->onext = o->reqs;
	o->reqs = i;
	o->nposs++;
	/* claims already under way that may take it */
	for (k = 0; k < NCANCEL; k++)
		if (o->cancels[k].used && o->cancels[k].tag == tag)
			ev_add(r, EV_CANCEL, r->t_reg);
	if (BI(o->bind)->t_rs)
		ev_add(r, EV_REMOVE, r->t_reg);
	if (o->nflushing)
		ev_add(r, EV_FLUSH, r->t_reg);
	/* a URING_WAIT too: see signal_agent() */
	if ((kind == RK_WAIT || kind == RK_URING) && ag->sig_inflight)
		ev_add(r, EV_SIGNAL, r->t_reg);
	BD(o->bd)->a.ub_sub++;
	W->n_req++;
	return i;
}

/* Known not pending at any time after @t (never accepted or completed). */
static bool req_notpend_before(const struct req *r, uint64_t t)
{
	if (r->acc == ACC_NO && r->state == RS_DONE)
		return true;
	return r->t_notpend && r->t_notpend <= t;
}

/*
 * Was @r certainly in its file's pending set during all of [t0, t1]?
 * @own: the registration time of the asking operation's own event on @r.
 */
static bool def_pending(const struct req *r, uint64_t t0, uint64_t t1, uint64_t own)
{
	uint64_t other;

	if (r->state != RS_INFLIGHT && r->state != RS_ACTIVE)
		return false;
	if (!r->t_acc || r->t_acc > t0)
		return false;
	if (r->gone || (r->t_notpend && r->t_notpend <= t1))
		return false;
	if (r->due_lo <= t1)
		return false;
	other = (own && r->t_ev1 == own) ? r->t_ev2 : r->t_ev1;
	if (other && other <= t1)
		return false;
	if (BI(r->bind)->t_rs && BI(r->bind)->t_rs <= t1)
		return false;
	return true;
}

/* Requests of @of with @tag other than @excl: any possibly pending in [t0,t1]? */
int tag_candidates(int ofi, uint64_t tag, int excl, uint64_t t0, uint64_t t1,
			  int *cands, int max)
{
	int i, n = 0;

	for (i = W->hash[hash_ot(ofi, tag)]; i >= 0; i = R(i)->hnext) {
		struct req *r = R(i);

		if (i == excl || r->of != ofi || r->tag != tag)
			continue;
		if (r->t_reg > t1 || req_notpend_before(r, t0))
			continue;
		if (n < max)
			cands[n] = i;
		n++;
	}
	return n;
}

int tag_def_pending_idx(int ofi, uint64_t tag, int excl, uint64_t t0, uint64_t t1,
			       uint64_t own)
{
	int i;

	for (i = W->hash[hash_ot(ofi, tag)]; i >= 0; i = R(i)->hnext) {
		struct req *r = R(i);

		if (i == excl || r->of != ofi || r->tag != tag)
			continue;
		if (def_pending(r, t0, t1, own))
			return i;
	}
	return -1;
}

bool tag_def_pending(int ofi, uint64_t tag, int excl, uint64_t t0, uint64_t t1,
			    uint64_t own)
{
	return tag_def_pending_idx(ofi, tag, excl, t0, t1, own) >= 0;
}

/* Upper bound of the file's pending count while @r was being submitted. */
uint64_t poss_max(const struct req *r)
{
	const struct ofile *o = OF(r->of);
	uint64_t n = o->nposs + (o->ngone - r->ngone_at_reg);

	return n ? n - 1 : 0;
}

/*
 * An operation is done with descriptor @g. A placeholder is closed later
 * (fe_reap()), under fdlock: closing it here could race with fork.
 */
void fe_release(int g)
{
	if (g >= 0)
		FE(g)->inuse--;
}

/* Under M and fdlock (or from a child): close idle placeholders. */
void fe_reap(int owner)
{
	struct owner *ow = OW(owner);
	int i;

	for (i = 0; i < MAX_FDS; i++) {
		struct fdent *f = &ow->fds[i];

		if (f->fd >= 0 && f->ph && !f->inuse && !f->closing) {
			close(f->fd);
			f->fd = -1;
			ow->nfds--;
		}
	}
}

void req_desc(const struct req *r, char *buf, size_t len)
{
	const struct binding *b = BI(r->bind);

	snprintf(buf, len,
		 "%s dev=pendtimer%d of=%d tag=0x%" PRIx64 " timeout=%" PRIu64
		 " owner=%d ev=0x%x acc_known=%d gone=%d gone_set=0x%x sure_cancel=%d sure_async=%d iosqe_async=%d"
		 " t_reg=%" PRIu64 " due_lo=%" PRIu64 " t_acc=%" PRIu64 " removal=%" PRIu64 "..%" PRIu64,
		 rk_name[r->kind], W->slots[b->slot].id, r->of, r->tag, r->timeout,
		 r->owner, r->ev, r->t_acc != 0, r->gone, r->gone_set, r->sure_cancel,
		 r->sure_async, r->iosqe_async,
		 r->t_reg, r->due_lo, r->t_acc, b->t_rs, b->t_re);
}
