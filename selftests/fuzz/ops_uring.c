// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_fuzz: operations through io_uring: URING_CMD WAIT, CANCEL and PEND, unknown
 * cmd_op, IORING_OP_ASYNC_CANCEL, ring exit.
 */
#include "fuzz.h"

__thread struct uring_state *U;

/* ---- io_uring ---- */

__thread struct ucancel ucancels[4];

static int uring_up(void)
{
	static const unsigned int sizes[] = { 4, 8, 16, 32 };
	struct io_uring_params p;
	int ret;

	if (U && U->up)
		return 0;
	if (!U) {
		U = calloc(1, sizeof(*U));
		if (!U)
			return -ENOMEM;
	}
	if (OW(self->owner)->nfds >= MAX_FDS - 4)
		return -EMFILE;
	memset(&p, 0, sizeof(p));
	U->entries = sizes[rnd_below(4)];
	fd_enter();
	ret = io_uring_queue_init_params(U->entries, &U->ring, &p);
	fd_unlock();
	if (ret) {
		fail(F_HARNESS, "io_uring_queue_init: %s", strerror(-ret));
		return ret;
	}
	if (chance(300)) {
		unsigned int vals[2] = { 64, 64 };

		io_uring_register_iowq_max_workers(&U->ring, vals);
	}
	U->up = 1;
	U->nout = 0;
	return 0;
}

static void uwait_done(int ri, int res)
{
	struct req *r = R(ri);
	struct subctx c = { .efd_g = -1 };
	int k;

	for (k = 0; k < U->nout; k++) {
		if (U->out[k] == ri) {
			U->out[k] = U->out[--U->nout];
			break;
		}
	}
	c.g = r->fe;
	c.ri = ri;
	c.t0 = r->t_reg;
	c.t1 = pt_now_ns();
	c.badargs = r->timeout > PENDTIMER_MAX_TIMEOUT_NS;
	if (res == -EINTR) {
		char rd[400];

		req_desc(r, rd, sizeof(rd));
		fail(F_RESULT, "io_uring WAIT completed with -EINTR (io-wq workers are signalled: -ECANCELED); %s", rd);
	}
	eval_submit(&c, res, true);
	OF(r->of)->nuring--;
	fe_release(r->fe);
	of_maybe_released(r->of, c.t1, evclock());
}

/* Under M: handle one CQE. */
static void cqe_handle(uint64_t ud, int res)
{
	char rb[32];

	if (UD_EPOCH_OF(ud) != (uint64_t)(W->epoch & 0xffff) && !(ud & UD_BAD) &&
	    UD_TYPE(ud) != UD_CANCEL) {
		/* a CQE left from an earlier epoch: its request is gone */
		if (UD_TYPE(ud) == UD_WAIT)
			fail(F_HARNESS, "io_uring WAIT CQE %s from epoch %" PRIu64 " after its barrier",
			     res_str(res, rb, sizeof(rb)), UD_EPOCH_OF(ud));
		return;
	}
	switch (UD_TYPE(ud)) {
	case UD_WAIT:
		if (ud & UD_BAD) {
			if (res != -ENOTTY && res != -EOPNOTSUPP)
				fail(F_RESULT, "URING_CMD with an unknown cmd_op -> %s, want -ENOTTY",
				     res_str(res, rb, sizeof(rb)));
			fe_release((int)(ud & 0xffffffff));
			return;
		}
		uwait_done((int)(ud & 0xffffffff), res);
		return;
	case UD_CANCEL: {
		struct ucancel *u = &ucancels[ud & 3];

		u->done = 1;
		u->res = res;
		return;
	}
	case UD_ASYNC: {
		struct req *r = R((int)(ud & 0xffffffff));

		if (r->kind == RK_PEND) {
			/* SPEC: async-cancel cannot reach a parked command */
			if (res != -ENOENT)
				fail(F_RESULT, "IORING_OP_ASYNC_CANCEL of a PEND -> %s, want -ENOENT",
				     res_str(res, rb, sizeof(rb)));
			else
				W->n_pend_async_enoent++;
			return;
		}
		if (res != 0 && res != -EALREADY && res != -ENOENT)
			fail(F_RESULT, "IORING_OP_ASYNC_CANCEL -> %s, want 0, -EALREADY or -ENOENT",
			     res_str(res, rb, sizeof(rb)));
		if (res == 0 && r->state == RS_INFLIGHT)
			r->sure_async = 1;
		else if (res == 0 && r->state == RS_DONE && r->result != -ECANCELED)
			fail(F_OUTCOME, "ASYNC_CANCEL -> 0 but its target had completed with %s",
			     res_str(r->result, rb, sizeof(rb)));
		return;
	}
	default:
		fail(F_HARNESS, "unexpected CQE user_data 0x%" PRIx64, ud);
	}
}

/* Reap CQEs; wait up to @wait_ms for the first. Called without M. */
int uring_reap(unsigned int wait_ms)
{
	struct io_uring_cqe *cqe;
	int n = 0, ret;

	if (!U || !U->up)
		return 0;
	for (;;) {
		if (wait_ms && !n) {
			struct __kernel_timespec ts = {
				.tv_sec = wait_ms / 1000,
				.tv_nsec = (wait_ms % 1000) * 1000000LL,
			};

			ret = io_uring_wait_cqe_timeout(&U->ring, &cqe, &ts);
			if (ret == -EINTR)
				continue;
		} else {
			ret = io_uring_peek_cqe(&U->ring, &cqe);
		}
		if (ret)
			break;
		M_lock();
		cqe_handle(cqe->user_data, cqe->res);
		M_unlock();
		io_uring_cqe_seen(&U->ring, cqe);
		n++;
	}
	return n;
}

static int uring_submit(void)
{
	int ret;

	U->used = 1;
	do {
		ret = io_uring_submit(&U->ring);
	} while (ret == -EINTR);
	return ret;
}

/*
 * A URING_CMD of @kind (WAIT or PEND) on a descriptor the agent picks, in
 * the model and its SQE prepared with @cmd_op, the ring permitting; NULL
 * if there is nothing to do. Its request in @ri.
 */
static struct io_uring_sqe *uring_req_prep(int kind, __u32 cmd_op, int *ri)
{
	struct pendtimer_wait w;
	struct io_uring_sqe *sqe;
	uint64_t timeout;
	int g, ofi;

	if (U->nout >= MAX_URING || U->nout >= (int)U->entries - 2 || W->nreqs >= MAX_REQS - 16)
		return NULL;
	g = pick_fe(self->owner, FK_PT);
	if (g < 0)
		return NULL;
	FE(g)->inuse++;
	ofi = FE(g)->of;
	timeout = pick_timeout(0);
	w.timeout_ns = timeout;
	w.tag = pick_tag(ofi);
	*ri = req_new(ofi, g, kind, w.tag, timeout);
	OF(ofi)->nuring++;
	OF(ofi)->uring_ever = 1;
	U->out[U->nout++] = *ri;
	sqe = io_uring_get_sqe(&U->ring);
	if (!sqe) {
		fail(F_HARNESS, "no SQE");
		return NULL;
	}
	pt_prep_cmd(sqe, FE(g)->fd, cmd_op, &w, sizeof(w), UD_WAIT | UD_EPOCH | (uint64_t)*ri);
	return sqe;
}

/* Submit the SQE prepared (unlocked: a close meanwhile puts the placeholder there). */
static void uring_submit_req(const char *what)
{
	int ret;

	M_unlock();
	ret = uring_submit();
	M_lock();
	if (ret != 1)
		fail(F_HARNESS, "io_uring_submit (%s): %d", what, ret);
	W->n_uring++;
}

void op_uwait(void)
{
	struct io_uring_sqe *sqe;
	int ri;

	if (uring_up())
		return;
	sqe = uring_req_prep(RK_URING, PENDTIMER_IOC_WAIT, &ri);
	if (!sqe)
		return;
	/*
	 * Mostly punted from the non-blocking issue; some forced async
	 * (IOSQE_ASYNC), which reach the worker without that issue.
	 */
	if (chance(10)) {
		sqe->flags |= IOSQE_ASYNC;
		R(ri)->iosqe_async = 1;
	}
	uring_submit_req("URING_CMD WAIT");
}

void op_ucancel(void)
{
	struct io_uring_sqe *sqe;
	struct ucancel *u = NULL;
	__u64 cmd[2];
	int k, ret;
	uint64_t deadline;

	if (uring_up())
		return;
	for (k = 0; k < 4; k++)
		if (!ucancels[k].used) {
			u = &ucancels[k];
			break;
		}
	if (!u)
		return;
	memset(u, 0, sizeof(*u));
	u->c.g = pick_fe(self->owner, FK_PT);
	if (u->c.g < 0)
		return;
	u->used = 1;
	FE(u->c.g)->inuse++;
	u->c.ofi = FE(u->c.g)->of;
	OF(u->c.ofi)->uring_ever = 1;
	u->c.tag = pick_cancel_tag(u->c.ofi);
	u->c.badptr = 0;
	cancel_register(&u->c);
	OF(u->c.ofi)->nsync++;
	cmd[0] = u->c.tag;
	cmd[1] = 0;
	sqe = io_uring_get_sqe(&U->ring);
	if (!sqe) {
		fail(F_HARNESS, "no SQE");
		return;
	}
	pt_prep_cmd(sqe, FE(u->c.g)->fd, PENDTIMER_IOC_CANCEL, cmd, sizeof(cmd), UD_CANCEL | (uint64_t)k);
	set_in_op(OP_UCANCEL, -1);
	M_unlock();
	u->c.t0 = pt_now_ns();
	ret = uring_submit();
	u->c.t1 = pt_now_ns();
	if (ret != 1) {
		M_lock();
		fail(F_HARNESS, "io_uring_submit (URING_CMD CANCEL): %d", ret);
		M_unlock();
	}
	/* SPEC: CANCEL always completes inline: its CQE is there already */
	uring_reap(0);
	if (!u->done) {
		deadline = pt_now_ns() + 30 * NSEC_PER_SEC;
		while (!u->done && pt_now_ns() < deadline)
			uring_reap(100);
		M_lock();
		fail(F_RESULT, "io_uring CANCEL did not complete inline (CQE %s after submit returned)",
		     u->done ? "came later" : "missing 30 s");
		M_unlock();
	}
	M_lock();
	clear_in_op();
	if (u->done)
		cancel_eval(&u->c, u->res, true);
	OF(u->c.ofi)->nsync--;
	fe_release(u->c.g);
	of_maybe_released(u->c.ofi, u->c.t1, evclock());
	u->used = 0;
}

/* Under M: outstanding requests on this agent's ring other than PENDs. */
static int uring_nout_waits(void)
{
	int k, n = 0;

	for (k = 0; k < U->nout; k++)
		n += R(U->out[k])->kind != RK_PEND;
	return n;
}

/*
 * A PEND: the same request as a URING_CMD WAIT for the model (its CQE
 * checked by eval_submit(), ring exit and task exit orphan it), but the
 * driver parks it inline with no thread behind it, and async-cancel never
 * reaches it (UD_ASYNC above).
 */
void op_upend(void)
{
	int ri;

	if (!W->pend_on || uring_up())
		return;
	if (!uring_req_prep(RK_PEND, PENDTIMER_URING_PEND, &ri))
		return;
	uring_submit_req("PEND");
	W->n_pend++;
}

void op_ubad(void)
{
	static const __u32 ops[] = {
		0, 1, _IOR(PENDTIMER_IOC_MAGIC, 4, struct pendtimer_stats),
		PENDTIMER_IOC_ARM, _IOW(PENDTIMER_IOC_MAGIC, 9, __u64), 0xdeadbeef,
	};
	struct io_uring_sqe *sqe;
	__u64 cmd[2] = { 1, 2 };
	int g, ret;

	if (uring_up())
		return;
	if (U->nout >= (int)U->entries - 2)
		return;
	g = pick_fe(self->owner, FK_PT);
	if (g < 0)
		return;
	FE(g)->inuse++;
	OF(FE(g)->of)->uring_ever = 1;
	sqe = io_uring_get_sqe(&U->ring);
	if (!sqe) {
		fe_release(g);
		return;
	}
	pt_prep_cmd(sqe, FE(g)->fd, ops[rnd_below(6)], cmd, sizeof(cmd), UD_WAIT | UD_BAD | (uint64_t)g);
	ret = uring_submit();
	if (ret != 1)
		fail(F_HARNESS, "io_uring_submit (bad cmd_op): %d", ret);
	M_unlock();
	uring_reap(0);
	M_lock();
}

void op_async(void)
{
	struct io_uring_sqe *sqe;
	int ri, ret;

	if (!U || !U->up || !U->nout)
		return;
	ri = U->out[rnd_below(U->nout)];
	if (R(ri)->kind != RK_PEND)	/* a PEND stays pending: no cause */
		ev_add(R(ri), EV_ASYNC, evclock());
	sqe = io_uring_get_sqe(&U->ring);
	if (!sqe)
		return;
	io_uring_prep_cancel64(sqe, UD_WAIT | UD_EPOCH | (uint64_t)ri, 0);
	io_uring_sqe_set_data64(sqe, UD_ASYNC | UD_EPOCH | (uint64_t)ri);
	ret = uring_submit();
	if (ret != 1)
		fail(F_HARNESS, "io_uring_submit (ASYNC_CANCEL): %d", ret);
	M_unlock();
	uring_reap(1);
	M_lock();
}

/* Under M: the ring goes away with WAITs parked: they become orphans. */
void ring_exit_locked(void)
{
	uint64_t t = evclock();
	int k;

	if (!U || !U->up)
		return;
	for (k = 0; k < U->nout; k++) {
		struct req *r = R(U->out[k]);

		ev_add(r, EV_EXIT, t);
		r->orphan = 1;
	}
	U->orphaned = 1;	/* io_ring_exit_work() sends task_work to its users */
	U->nout = 0;
	U->up = 0;
	fd_enter();
	io_uring_queue_exit(&U->ring);
	fd_unlock();
}

void op_ringexit(void)
{
	ring_exit_locked();
}

/*
 * Before parking: end this agent's io_uring WAITs with ASYNC_CANCEL and
 * reap them (SPEC: async-cancel ends a parked WAIT promptly).
 */
void uring_drain(void)
{
	uint64_t deadline = pt_now_ns() + 60 * NSEC_PER_SEC;
	int k;

	if (!U || !U->up)
		return;
	M_lock();
	for (k = 0; k < U->nout; k++) {
		struct io_uring_sqe *sqe;
		int ri = U->out[k];

		if (R(ri)->kind == RK_PEND)
			continue;	/* async-cancel cannot reach it */
		sqe = io_uring_get_sqe(&U->ring);
		if (!sqe) {
			uring_submit();
			sqe = io_uring_get_sqe(&U->ring);
			if (!sqe)
				break;
		}
		ev_add(R(ri), EV_ASYNC, evclock());
		io_uring_prep_cancel64(sqe, UD_WAIT | UD_EPOCH | (uint64_t)ri, 0);
		io_uring_sqe_set_data64(sqe, UD_ASYNC | UD_EPOCH | (uint64_t)ri);
	}
	uring_submit();
	M_unlock();
	while (pt_now_ns() < deadline) {
		uring_reap(50);
		M_lock();
		k = uring_nout_waits();
		M_unlock();
		if (!k)
			break;
	}
	/* anything left on the ring: its async-cancel CQEs */
	uring_reap(0);
	M_lock();
	if (uring_nout_waits()) {
		char rd[400];

		req_desc(R(U->out[0]), rd, sizeof(rd));
		fail(F_RESULT, "%d io_uring WAIT(s) not completed 60 s after IORING_OP_ASYNC_CANCEL; %s",
		     U->nout, rd);
		ring_exit_locked();
	} else if (U->nout) {
		/* parked PENDs: the ring exit ends them (io_uring's cancel call) */
		ring_exit_locked();
	}
	M_unlock();
}
