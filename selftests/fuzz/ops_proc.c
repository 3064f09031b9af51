// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_fuzz: operations on processes: signals, SIGKILL, fork, children.
 */
#include "fuzz.h"

/* ---- signals ---- */

void on_sigusr1(int sig)
{
	(void)sig;
	if (self) {
		__atomic_add_fetch(&self->sig_handled, 1, __ATOMIC_SEQ_CST);
		__atomic_store_n(&self->sig_inflight, 0, __ATOMIC_SEQ_CST);
	}
}

pthread_t threads[MAX_THREADS];

/*
 * Under M: SIGUSR1 to agent @a (one in flight at a time, so none coalesce).
 *
 * It may also end the agent's io_uring WAITs that no io-wq worker has
 * started yet, with -ECANCELED and without the driver ever seeing them. The
 * agent's thread owns its io-wq and creates its workers (in io_uring_enter()
 * or in task work); copy_process() refuses with -ERESTARTNOINTR while that
 * thread has a signal pending. Kernels without upstream's "io-wq: backoff
 * when retrying worker creation" (the 6.1 lanes; 7.3 has it) retry at once,
 * up to WORKER_INIT_LIMIT, from task work that get_signal() runs before it
 * dequeues the signal; with no worker left, io-wq fails the pending work
 * (io_acct_cancel_pending_work(), io_wq_submit_work(): -ECANCELED).
 */
void signal_agent(struct agent *a)
{
	uint64_t t;
	int i;

	if (!a->used || a->exited || a->killed)
		return;
	if (__atomic_load_n(&a->sig_inflight, __ATOMIC_SEQ_CST))
		return;
	if (a->is_child && a->pid <= 0)
		return;
	__atomic_store_n(&a->sig_inflight, 1, __ATOMIC_SEQ_CST);
	a->sig_sent++;
	t = evclock();
	if (a->cur_req >= 0 && R(a->cur_req)->state == RS_INFLIGHT)
		ev_add(R(a->cur_req), EV_SIGNAL, t);
	/* not known to have reached the driver: may still be queued in io-wq */
	for (i = 0; i < W->nreqs; i++) {
		struct req *r = R(i);

		if (r->kind == RK_URING && r->state == RS_INFLIGHT && !r->t_acc &&
		    r->agent == a->idx && r->owner == a->owner)
			ev_add(r, EV_SIGNAL, t);
	}
	W->n_signals++;
	if (a->is_child)
		kill(a->pid, SIGUSR1);
	else
		pthread_kill(threads[a->idx], SIGUSR1);
}

void op_signal(void)
{
	int n = W->nthreads + MAX_CHILDREN, i = (int)rnd_below(n);
	struct agent *a = &W->agents[i];

	if (self->is_child && !a->is_child)
		return;		/* a child cannot pthread_kill its parent's threads */
	signal_agent(a);
}

/* SIGKILL a child that is inside WAIT, wait for it (M held throughout). */
void op_kill(void)
{
	int i;

	for (i = W->nthreads; i < W->nthreads + MAX_CHILDREN; i++) {
		struct agent *a = &W->agents[i];
		int status;

		if (!a->used || a->exited || a->pid <= 0 || !a->in_op || a->op != OP_WAIT)
			continue;
		if (a->cur_req >= 0)
			ev_add(R(a->cur_req), EV_KILL, evclock());
		a->killed = 1;
		kill(a->pid, SIGKILL);
		while (waitpid(a->pid, &status, 0) < 0 && errno == EINTR)
			;
		W->n_kills++;
		child_reaped_locked(a, status);
		return;
	}
}

static void op_fork_locked(struct owner *pw, sigset_t *setp, sigset_t *oldp);

void op_fork(void)
{
	struct owner *pw = OW(self->owner);
	sigset_t set, old;

	/* the descriptor table stays as the model has it until fork() */
	M_unlock();
	pthread_rwlock_wrlock(&W->fdlock);
	M_lock();
	op_fork_locked(pw, &set, &old);
	pthread_rwlock_unlock(&W->fdlock);
}

static void op_fork_locked(struct owner *pw, sigset_t *setp, sigset_t *oldp)
{
	struct owner *cw;
	struct agent *a = NULL;
	int i, ci, owi;
	pid_t pid;

	for (i = W->nthreads; i < W->nthreads + W->nchildren_max; i++)
		if (!W->agents[i].used) {
			a = &W->agents[i];
			break;
		}
	if (!a || W->nowners >= MAX_OWNERS - 1)
		return;
	owi = owner_new(0, (int)(a - W->agents));
	if (owi < 0)
		return;
	cw = OW(owi);
	ci = (int)(a - W->agents);
	memset(a, 0, sizeof(*a));
	a->used = 1;
	a->is_child = 1;
	a->idx = ci;
	a->owner = owi;
	a->cur_req = -1;
	a->seed = rnd();
	a->child_mode = chance(300) ? 1 : 0;	/* 1: fork-and-close */
	a->child_ops = 5 + (int)rnd_below(60);
	rng_seed(a->rng, a->seed);
	/* the child's descriptor table is a copy of this one */
	for (i = 0; i < MAX_FDS; i++) {
		struct fdent *f = &pw->fds[i];

		if (f->fd < 0 || f->ph || f->closing)
			continue;
		cw->fds[i] = *f;
		cw->fds[i].t_ph = 0;
		cw->fds[i].inuse = 0;
		cw->nfds++;
		if (f->kind == FK_PT)
			OF(f->of)->nfd++;
		else
			W->efds[f->efd].nfd++;
	}
	fflush(stdout);
	/* no SIGUSR1 before the child knows who it is */
	sigemptyset(setp);
	sigaddset(setp, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, setp, oldp);
	M_unlock();
	pid = fork();
	if (pid)
		M_lock();
	if (pid < 0) {
		pthread_sigmask(SIG_SETMASK, oldp, NULL);
		fail(F_HARNESS, "fork: %s", strerror(errno));
		a->used = 0;
		return;
	}
	if (pid == 0) {
		self = a;	/* zeroed before fork; pending signals are not inherited */
		pthread_sigmask(SIG_SETMASK, oldp, NULL);
		U = NULL;
		memset(ucancels, 0, sizeof(ucancels));
		a->pid = getpid();
		agent_loop();
		_exit(0);
	}
	pthread_sigmask(SIG_SETMASK, oldp, NULL);
	a->pid = pid;
	cw->pid = pid;
	W->n_forks++;
}

/* Child, under M, before _exit(): what the exit's flush will do. */
void child_exit_locked(void)
{
	struct owner *ow = OW(self->owner);
	int i;

	ring_exit_locked();
	ow->t_exit = evclock();
	ow->exiting = 1;
	for (i = 0; i < MAX_FDS; i++)
		if (ow->fds[i].fd >= 0 && !ow->fds[i].ph)
			close_fe(self->owner, fe_index(self->owner, i), true, false);
}

/* Parent, under M: child @a has been waited for. */
void child_reaped_locked(struct agent *a, int status)
{
	struct owner *ow = OW(a->owner);
	uint64_t te = evclock();
	int i;

	if (!a->killed && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		fail(F_HARNESS, "child agent %d (pid %d) ended with status 0x%x", a->idx,
		     (int)a->pid, status);
	if (!ow->exiting) {
		/* killed: its descriptors were closed by the exit */
		ow->t_exit = te;
		for (i = 0; i < MAX_FDS; i++) {
			struct fdent *f = &ow->fds[i];

			if (f->fd < 0 || f->ph)
				continue;
			if (f->kind == FK_EFD) {
				if (W->efds[f->efd].nfd == 1 && W->efds[f->efd].nreq)
					W->efds[f->efd].lossy = 1;
				W->efds[f->efd].nfd--;
				continue;
			}
			{
				struct ofile *o = OF(f->of);
				int j;

				for (j = o->reqs; j >= 0; j = R(j)->onext)
					if (req_live(R(j)) && (R(j)->owner == a->owner || o->nfd == 1))
						ev_add(R(j), EV_FLUSH, te);
				o->nfd--;
			}
		}
	}
	/* the request in flight when it died */
	if (a->cur_req >= 0 && R(a->cur_req)->state == RS_INFLIGHT) {
		struct req *r = R(a->cur_req);

		r->state = RS_DONE;
		r->acc = ACC_MAYBE;
		r->outcomes = OB(O_INTR) | ev_outcomes(r) | (r->due_lo <= te ? OB(O_FIRED) : 0);
		r->t_notpend = te;
		if (!r->gone)
			req_not_poss(r);
		r->gone = 1;
		r->result = 1;
		OF(r->of)->nsync--;
		account(r);
	}
	/* its io_uring WAITs went with its ring */
	for (i = 0; i < W->nreqs; i++) {
		struct req *r = R(i);

		if (r->owner == a->owner && RK_ON_RING(r->kind) && r->state == RS_INFLIGHT &&
		    !r->orphan) {
			ev_add(r, EV_EXIT, te);
			/* a PEND: the exit's close of its file may flush it first */
			if (r->kind == RK_PEND)
				ev_add(r, EV_FLUSH, te);
			r->orphan = 1;
		}
	}
	/* everything the owner submitted is claimed now: flush at exit */
	for (i = 0; i < W->nreqs; i++) {
		struct req *r = R(i);

		if (r->owner != a->owner || !req_live(r) || r->orphan)
			continue;
		if (r->kind == RK_ARM && r->state == RS_ACTIVE)
			cleanup_done(r, O_FLUSHED, ow->t_exit, te);
	}
	for (i = 0; i < MAX_FDS; i++)
		if (ow->fds[i].fd >= 0 && ow->fds[i].kind == FK_PT)
			of_maybe_released(ow->fds[i].of, ow->t_exit, te);
	ow->used = 0;
	a->exited = 1;
	a->used = 0;
	a->pid = 0;
}

void reap_children(void)
{
	int status, i;
	pid_t pid;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			break;
		M_lock();
		for (i = W->nthreads; i < W->nthreads + MAX_CHILDREN; i++) {
			struct agent *a = &W->agents[i];

			if (a->used && a->pid == pid) {
				child_reaped_locked(a, status);
				break;
			}
		}
		M_unlock();
	}
}
