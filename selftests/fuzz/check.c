// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_fuzz: checking: a submission's and a CANCEL's result against SPEC.md.
 */
#include "fuzz.h"

/* Was the number replaced by the placeholder (dup2 begun) before @t1? */
bool ph_during(int g, uint64_t t1)
{
	return g >= 0 && FE(g)->t_ph && FE(g)->t_ph <= t1;
}

/*
 * Check a submission's result against SPEC.md section 2. For WAIT kinds
 * also the completion result. Under M. Returns the allowed-check verdict.
 */
/* what a submission's check knows of its request's surroundings */
struct subeval {
	bool dead_before;	/* the device was gone before the call */
	bool rem;		/* a removal began before it returned */
	bool ph;		/* a descriptor was replaced by the placeholder */
	bool sig;		/* a signal was sent to this agent */
	bool dup_poss, dup_def;	/* a pending duplicate tag: possible, definite */
	uint64_t pmax;		/* requests possibly pending on the file */
};

static void subeval_init(struct subeval *e, struct subctx *c, struct req *r)
{
	struct binding *b = BI(r->bind);
	int cands[4];

	e->dead_before = b->t_re && b->t_re < c->t0;
	e->rem = b->t_rs && b->t_rs <= c->t1;
	e->ph = ph_during(c->g, c->t1) || (c->efd_g >= 0 && ph_during(c->efd_g, c->t1));
	e->sig = self->sig_sent != c->sig_handled0;
	e->pmax = poss_max(r);
	e->dup_poss = tag_candidates(r->of, r->tag, c->ri, c->t0, c->t1, cands, 4) > 0;
	e->dup_def = tag_def_pending(r->of, r->tag, c->ri, c->t0, c->t1, 0);
}

/* The results SPEC.md section 2 allows for this submission (RB() bits). */
static unsigned int submit_allowed(const struct subctx *c, const struct req *r,
				   const struct subeval *e, bool uring)
{
	unsigned int allowed = 0, phbits;
	bool nospc_poss = e->pmax >= W->max_pending;

	phbits = e->ph ? (uring ? RB(EOPNOTSUPP) : RB(ENOTTY) | RB(EINVAL)) : 0;
	if (e->dead_before) {
		allowed = RB(ENODEV) | phbits;
	} else if (c->badptr) {
		allowed = RB(EFAULT);
	} else if (c->badargs) {
		allowed = RB(EINVAL);
	} else if (c->efd_bad) {
		allowed = 1u << rc_of(c->efd_bad);
	} else {
		if (e->dup_poss)
			allowed |= RB(EEXIST);
		if (nospc_poss)
			allowed |= RB(ENOSPC);
		if (!(e->dup_def && !nospc_poss && !e->rem)) {
			/* accepted: the completion results */
			if (r->kind == RK_ARM) {
				allowed |= RB(OK);
			} else {
				if (c->t1 >= r->due_lo)
					allowed |= RB(OK);
				if (r->ev & (EV_CANCEL | EV_FLUSH))
					allowed |= RB(ECANCELED);
				if (uring && (r->ev & (EV_ASYNC | EV_EXIT)))
					allowed |= RB(ECANCELED);
				if (!uring && e->sig)
					allowed |= RB(EINTR);
			}
		}
	}
	if (e->rem)
		allowed |= RB(ENODEV);
	/* io_uring cancels a request that has not started yet itself */
	if (uring && (r->ev & (EV_ASYNC | EV_EXIT)))
		allowed |= RB(ECANCELED);
	/* io-wq failed it before a worker ran it: see signal_agent() */
	if (uring && (r->ev & EV_SIGNAL) && !r->t_acc)
		allowed |= RB(ECANCELED);
	allowed |= phbits;
	/* double claims: a request CANCEL claimed cannot end otherwise */
	if (r->sure_cancel)
		allowed &= r->kind == RK_ARM ? RB(OK) : RB(ECANCELED);
	if (r->sure_async)
		allowed &= RB(ECANCELED);
	return allowed;
}

/* A result outside @allowed: the failure, with what the model knew. */
static void submit_refused(const struct subctx *c, struct req *r, const struct subeval *e,
			   int res, unsigned int allowed, bool uring)
{
	int d = tag_def_pending_idx(r->of, r->tag, c->ri, c->t0, c->t1, 0), rc = rc_of(res);
	char rb[32], ab[160], rd[400];

	rc_set_str(ab, sizeof(ab), allowed);
	req_desc(r, rd, sizeof(rd));
	if (d >= 0) {
		char dd[400];

		req_desc(R(d), dd, sizeof(dd));
		printf("# the pending duplicate: %s state=%d result=%d t_notpend=%" PRIu64 "\n",
		       dd, R(d)->state, R(d)->result, R(d)->t_notpend);
	}
	fail(r->sure_cancel || r->sure_async || rc == RC_OK ? F_OUTCOME : F_RESULT,
	     "%s%s -> %s, allowed {%s}; t0=%" PRIu64 " t1=%" PRIu64
	     " badptr=%d badargs=%d efd_bad=%d dup_poss=%d dup_def=%d poss_max=%" PRIu64
	     " max_pending=%u sig=%d (sent %u handled %u/%u) uring=%d ph=%d; %s",
	     uring ? "io_uring " : "", rk_name[r->kind], res_str(res, rb, sizeof(rb)), ab,
	     c->t0, c->t1, c->badptr, c->badargs, c->efd_bad, e->dup_poss, e->dup_def, e->pmax,
	     W->max_pending, e->sig, self->sig_sent, c->sig_handled0, self->sig_handled,
	     c->uring_busy, e->ph, rd);
}

/* a duplicate refused: the other request was pending (a probe) */
static void probe_confirm(const struct subctx *c, const struct req *r)
{
	int cands[4];

	if (tag_candidates(r->of, r->tag, c->ri, c->t0, c->t1, cands, 4) == 1) {
		struct req *q = R(cands[0]);

		if (q->state == RS_INFLIGHT && q->kind != RK_ARM && !q->t_acc) {
			q->t_acc = c->t1;
			W->n_probe_confirm++;
		}
	}
}

/* An ARM accepted: active until it fires or something claims it. */
static void arm_accepted(const struct subctx *c, struct req *r)
{
	r->state = RS_ACTIVE;
	r->t_acc = c->t1;
	r->acc = ACC_YES;
	if (r->efd >= 0)
		W->efds[r->efd].nreq++;
	W->n_arm_ok++;
	BD(r->bd)->a.lb_sub++;
	BD(r->bd)->a.n_arm++;
	if (r->sure_cancel)
		arm_gone(r, OB(O_CANCELLED), c->t1);
}

/* What result @rc of a completed request tells: its outcomes; @acc, was it accepted. */
static uint32_t submit_outcomes(const struct req *r, const struct subeval *e, int rc,
				bool uring, int *acc)
{
	uint32_t outs = 0;

	switch (rc) {
	case RC_OK:
		outs = OB(O_FIRED);
		*acc = ACC_YES;
		BD(r->bd)->a.lb_fired++;
		break;
	case RC_ECANCELED:
		outs = r->ev & EV_CANCEL ? OB(O_CANCELLED) : 0;
		if (r->ev & EV_FLUSH)
			outs |= OB(O_FLUSHED);
		if (uring && (r->ev & (EV_ASYNC | EV_EXIT)))
			outs |= OB(O_INTR);
		if (r->sure_cancel)
			outs = OB(O_CANCELLED);
		*acc = ACC_YES;
		if (uring && (r->ev & (EV_ASYNC | EV_EXIT)) && !r->sure_cancel)
			*acc = ACC_MAYBE;
		/* no driver cause: io-wq failed it before the driver saw it */
		if (uring && (r->ev & EV_SIGNAL) && !r->t_acc && !r->sure_cancel)
			*acc = outs ? ACC_MAYBE : ACC_NO;
		if (r->sure_async)
			*acc = ACC_NO;	/* cancelled by io_uring before it ran */
		break;
	case RC_EINTR:
		outs = OB(O_INTR);
		*acc = ACC_YES;
		if (!e->sig)
			W->n_notify_eintr++;
		break;
	case RC_ENODEV:
		outs = OB(O_REMOVED);
		*acc = e->dead_before ? ACC_NO : ACC_MAYBE;
		break;
	default:
		outs = 0;
		*acc = ACC_NO;
		break;
	}
	if (r->kind == RK_ARM)
		*acc = ACC_NO;	/* ARM returns after the submission */
	return outs;
}

/* The request is done with @res: against earlier cleanups, then into the model. */
static void submit_done(const struct subctx *c, struct req *r, int res, uint32_t outs,
			int acc, bool uring)
{
	char rb[32], rd[400];

	if (r->gone && acc != ACC_NO && !(outs & r->gone_set)) {
		req_desc(r, rd, sizeof(rd));
		fail(F_OUTCOME, "%s%s -> %s, but a cleanup that finished earlier had claimed it (allowed outcomes 0x%x); %s",
		     uring ? "io_uring " : "", rk_name[r->kind], res_str(res, rb, sizeof(rb)),
		     r->gone_set, rd);
	}
	if (r->gone && acc != ACC_NO && (outs & r->gone_set))
		outs &= r->gone_set;
	if (r->gone && acc == ACC_NO && !r->sure_cancel && r->t_acc) {
		req_desc(r, rd, sizeof(rd));
		fail(F_OUTCOME, "%s%s -> %s, but it was confirmed pending; %s",
		     uring ? "io_uring " : "", rk_name[r->kind], res_str(res, rb, sizeof(rb)), rd);
	}
	if (rc_of(res) == RC_OK || acc == ACC_YES)
		r->t_acc = r->t_acc ? r->t_acc : c->t1;
	r->result = res;
	r->state = RS_DONE;
	r->acc = acc;
	r->outcomes = outs ? outs : OB(O_REMOVED);
	r->t_notpend = c->t1;
	if (!r->gone)
		req_not_poss(r);
	r->gone = 1;
	account(r);
}

void eval_submit(struct subctx *c, int res, bool uring)
{
	struct req *r = R(c->ri);
	int rc = rc_of(res), acc = ACC_NO;
	struct subeval e;
	unsigned int allowed;
	uint32_t outs;

	subeval_init(&e, c, r);
	allowed = submit_allowed(c, r, &e, uring);
	if (!(allowed & (1u << rc)))
		submit_refused(c, r, &e, res, allowed, uring);
	if (rc == RC_EEXIST)
		probe_confirm(c, r);
	if (rc == RC_OK && r->kind == RK_ARM) {
		arm_accepted(c, r);
		return;
	}
	outs = submit_outcomes(r, &e, rc, uring, &acc);
	submit_done(c, r, res, outs, acc, uring);
}

void cancel_eval(struct cancelctx *c, int res, bool uring)
{
	struct ofile *o = OF(c->ofi);
	struct binding *b = BI(o->bind);
	bool dead_before = b->t_re && b->t_re < c->t0;
	bool rem = b->t_rs && b->t_rs <= c->t1;
	bool ph = ph_during(c->g, c->t1);
	int cands[8], n, rc = rc_of(res), i;
	unsigned int allowed = 0;
	bool must;
	char rb[32], ab[120], rd[400];

	if (c->slot >= 0)
		o->cancels[c->slot].used = 0;
	n = tag_candidates(c->ofi, c->tag, -1, c->t0, c->t1, cands, 8);
	must = tag_def_pending(c->ofi, c->tag, -1, c->t0, c->t1, c->t_reg);
	if (dead_before) {
		allowed = RB(ENODEV);
	} else if (c->badptr) {
		allowed = RB(EFAULT);
	} else {
		if (n)
			allowed |= RB(OK);
		if (!must)
			allowed |= RB(ENOENT);
	}
	if (rem)
		allowed |= RB(ENODEV);
	if (ph)
		allowed |= uring ? RB(EOPNOTSUPP) : RB(ENOTTY);
	if (!(allowed & (1u << rc))) {
		rc_set_str(ab, sizeof(ab), allowed);
		rd[0] = '\0';
		if (n)
			req_desc(R(cands[0]), rd, sizeof(rd));
		fail(F_RESULT, "%sCANCEL dev=pendtimer%d of=%d tag=0x%" PRIx64 " -> %s, allowed {%s}; candidates=%d definitely_pending=%d t0=%" PRIu64 " t1=%" PRIu64 "; first candidate: %s",
		     uring ? "io_uring " : "", W->slots[b->slot].id, c->ofi, c->tag,
		     res_str(res, rb, sizeof(rb)), ab, n, must, c->t0, c->t1, rd);
	}
	if (rc != RC_OK)
		return;
	W->n_cancel_ok++;
	BD(o->bd)->a.cancel_ok++;
	BD(o->bd)->a.lb_cancel++;
	if (n != 1)
		return;
	/* rule 1 and "exactly one path": this CANCEL claimed that request */
	{
		struct req *r = R(cands[0]);

		W->n_sure_cancel++;
		r->sure_cancel = 1;
		if (r->kind == RK_ARM) {
			if (r->state == RS_DONE && r->gone && !(r->gone_set & OB(O_CANCELLED))) {
				req_desc(r, rd, sizeof(rd));
				fail(F_OUTCOME, "CANCEL -> 0 for a request another path had already completed; %s", rd);
			}
			if (r->state == RS_INFLIGHT || r->state == RS_ACTIVE) {
				if (r->state == RS_INFLIGHT) {
					/* the ARM call has not returned yet: it must return 0 */
					return;
				}
				arm_gone(r, OB(O_CANCELLED), c->t1);
			} else if (r->state == RS_DONE && r->outcomes != OB(O_CANCELLED) && r->acc == ACC_YES) {
				r->outcomes &= OB(O_CANCELLED);
			}
			return;
		}
		if (r->state == RS_DONE) {
			/* result 1: its child was killed inside it, result unknown */
			if (r->result != -ECANCELED && r->result != 1) {
				req_desc(r, rd, sizeof(rd));
				fail(F_OUTCOME, "CANCEL -> 0 but the %s it claimed returned %s; %s",
				     rk_name[r->kind], res_str(r->result, rb, sizeof(rb)), rd);
			}
			return;
		}
		for (i = 0; i < 1; i++)
			wait_gone(r, OB(O_CANCELLED), c->t1);
	}
}
