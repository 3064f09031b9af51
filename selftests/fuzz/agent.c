// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_fuzz: agents: the operation mix, one operation, the agent loop.
 */
#include "fuzz.h"

const char *const op_name[OP_NR] = {
	"open", "close", "dup", "fork", "wait", "arm", "cancel", "stats",
	"bad_ioctl", "uring_wait", "uring_cancel", "uring_bad_cmd",
	"async_cancel", "ring_exit", "reap", "signal", "kill_child",
	"eventfd_new", "eventfd_read", "eventfd_close", "debugfs",
	"new_device", "del_device", "unbind", "bind", "bad_bus_write",
	"race_delay", "sleep", "uring_pend"
};
/* weights: worker thread, child */
static const unsigned int op_w[OP_NR][2] = {
	[OP_OPEN] = { 50, 10 },
	[OP_CLOSE] = { 35, 25 },
	[OP_DUP] = { 15, 10 },
	[OP_FORK] = { 2, 0 },
	[OP_WAIT] = { 90, 80 },
	[OP_ARM] = { 170, 120 },
	[OP_CANCEL] = { 170, 120 },
	[OP_STATS] = { 40, 30 },
	[OP_BADIOCTL] = { 12, 10 },
	[OP_UWAIT] = { 60, 30 },
	[OP_UCANCEL] = { 30, 15 },
	[OP_UBAD] = { 6, 3 },
	[OP_ASYNC] = { 25, 10 },
	[OP_RINGEXIT] = { 2, 2 },
	[OP_REAP] = { 40, 20 },
	[OP_SIGNAL] = { 25, 10 },
	[OP_KILL] = { 3, 0 },
	[OP_EFDNEW] = { 10, 5 },
	[OP_EFDREAD] = { 25, 10 },
	[OP_EFDCLOSE] = { 4, 4 },
	[OP_DEBUGFS] = { 4, 2 },
	[OP_NEWDEV] = { 1, 0 },
	[OP_DELDEV] = { 1, 0 },
	[OP_UNBIND] = { 1, 0 },
	[OP_BIND] = { 1, 0 },
	[OP_BADBUS] = { 1, 0 },
	[OP_DELAY] = { 3, 0 },
	[OP_SLEEP] = { 20, 10 },
	[OP_UPEND] = { 50, 25 },
};

/* ------------------------------------------------------------------ */
/* agents */

static int pick_op(void)
{
	unsigned int tot = 0, x, i, col = self->is_child ? 1 : 0;

	for (i = 0; i < OP_NR; i++)
		tot += op_w[i][col];
	x = (unsigned int)rnd_below(tot);
	for (i = 0; i < OP_NR; i++) {
		if (x < op_w[i][col])
			return (int)i;
		x -= op_w[i][col];
	}
	return OP_SLEEP;
}

static void do_op(int op)
{
	uint64_t t = pt_now_ns();

	M_lock();
	W->n_op[op]++;
	switch (op) {
	case OP_OPEN:
		op_open();
		break;
	case OP_CLOSE:
		op_close();
		break;
	case OP_DUP:
		op_dup();
		break;
	case OP_FORK:
		op_fork();
		break;
	case OP_WAIT:
		op_wait();
		break;
	case OP_ARM:
		op_arm();
		break;
	case OP_CANCEL:
		op_cancel();
		break;
	case OP_STATS:
		op_stats();
		break;
	case OP_BADIOCTL:
		op_badioctl();
		break;
	case OP_UWAIT:
		op_uwait();
		break;
	case OP_UPEND:
		op_upend();
		break;
	case OP_UCANCEL:
		op_ucancel();
		break;
	case OP_UBAD:
		op_ubad();
		break;
	case OP_ASYNC:
		op_async();
		break;
	case OP_RINGEXIT:
		op_ringexit();
		break;
	case OP_REAP:
		M_unlock();
		uring_reap(chance(200) ? 2 : 0);
		M_lock();
		break;
	case OP_SIGNAL:
		op_signal();
		break;
	case OP_KILL:
		op_kill();
		break;
	case OP_EFDNEW:
		op_efd_new();
		break;
	case OP_EFDREAD:
		op_efd_read();
		break;
	case OP_EFDCLOSE:
		op_efd_close();
		break;
	case OP_DEBUGFS:
		op_debugfs();
		break;
	case OP_NEWDEV:
	case OP_DELDEV:
	case OP_UNBIND:
	case OP_BIND:
		devop(op);
		break;
	case OP_BADBUS:
		op_badbus();
		break;
	case OP_DELAY:
		op_delay();
		break;
	default:
		M_unlock();
		pt_sleep_ns(rnd_below(2 * NSEC_PER_MSEC));
		M_lock();
		break;
	}
	M_unlock();
	__atomic_add_fetch(&W->ops, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&W->t_op[op], pt_now_ns() - t, __ATOMIC_RELAXED);
}

static void park(void)
{
	uring_drain();
	__atomic_store_n(&self->parked, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&W->phase, __ATOMIC_ACQUIRE) == PH_STOP)
		pt_sleep_ns(NSEC_PER_MSEC);
	if (U) {
		U->orphaned = 0;	/* the devices were quiet */
		U->used = 0;
	}
	__atomic_store_n(&self->parked, 0, __ATOMIC_SEQ_CST);
}

void agent_loop(void)
{
	int n = 0;

	if (self->is_child) {
		struct sigaction sa = { .sa_handler = on_sigusr1 };

		sigaction(SIGUSR1, &sa, NULL);
		if (self->child_mode == 1) {
			/* fork-and-close: close every inherited descriptor */
			M_lock();
			for (int i = 0; i < MAX_FDS; i++)
				if (OW(self->owner)->fds[i].fd >= 0 && chance(800))
					close_fe(self->owner, fe_index(self->owner, i), false, true);
			M_unlock();
		}
	}
	for (;;) {
		if (__atomic_load_n(&W->phase, __ATOMIC_ACQUIRE) == PH_FINISH)
			break;
		if (self->is_child) {
			if (__atomic_load_n(&W->phase, __ATOMIC_ACQUIRE) != PH_RUN || self->die || n >= self->child_ops ||
			    W->ops >= W->epoch_end)
				break;
		} else if (__atomic_load_n(&W->phase, __ATOMIC_ACQUIRE) == PH_STOP) {
			park();
			continue;
		}
		do_op(pick_op());
		n++;
	}
	if (self->is_child) {
		if (chance(700))
			uring_drain();
		M_lock();
		child_exit_locked();
		M_unlock();
		/* _exit() closes the rest: flush as this owner, maybe release */
		return;
	}
	uring_drain();
	if (U && U->up) {
		M_lock();
		ring_exit_locked();
		M_unlock();
	}
}

void *thread_main(void *arg)
{
	self = arg;
	agent_loop();
	__atomic_store_n(&self->parked, 1, __ATOMIC_SEQ_CST);
	return NULL;
}
