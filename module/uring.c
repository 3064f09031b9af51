// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer io_uring commands (IORING_OP_URING_CMD).
 *
 * WAIT never blocks the submitting task: issued with IO_URING_F_NONBLOCK it
 * returns -EAGAIN, and io_uring runs it again in an io-wq worker, where it
 * sleeps interruptibly like the WAIT ioctl. IORING_OP_ASYNC_CANCEL reaches
 * that worker as a signal (PF_IO_WORKER, TIF_NOTIFY_SIGNAL), so the request
 * completes as interrupted and the CQE carries -ECANCELED; closing the ring
 * or the exit of its owner signals the workers the same way. io-wq runs
 * these on its bounded workers: at most min(SQ entries, 4 x CPUs) WAITs
 * are parked at once unless IORING_REGISTER_IOWQ_MAX_WORKERS raises it.
 *
 * PEND is the pended IRP: the command joins the pending set and is parked
 * with -EIOCBQUEUED (IoMarkIrpPending + STATUS_PENDING), with no thread
 * behind it. It is marked cancelable first (IoSetCancelRoutine), so that
 * ring or task exit calls uring_cmd with IO_URING_F_CANCEL: its cancel
 * routine. Whoever claims its request finishes it through task work in the
 * submitter's context (io_uring_cmd_done(), never from the timer's hard
 * irq). IORING_OP_ASYNC_CANCEL cannot reach a parked command: cancel it by
 * tag. Before 6.7 there is no cancelable command, and a parked one would
 * hold up ring exit until its timer fired: PEND fails with -EOPNOTSUPP.
 *
 * CANCEL always completes inline, whatever the flags: punted to io-wq it
 * could queue behind the very WAITs it should cancel.
 *
 * The command area is read once: it may be the SQE itself, shared with
 * user space (compat.h, PENDTIMER_URING_SQE_UNSTABLE, for what older
 * kernels need on top).
 */
#include "pendtimer.h"

/**
 * struct pendtimer_uring_wait_pdu - a URING_CMD WAIT's pdu between its
 *	non-blocking issue and its io-wq issue
 * @args: the arguments, read at the non-blocking issue
 * @area: where they were read; the io-wq issue uses @args only if the
 *	command area is still that one (io_uring did not repoint it to a
 *	copy of its own, and a forced-async command never had @args set)
 */
struct pendtimer_uring_wait_pdu {
	struct pendtimer_wait args;
	const void *area;
};

static struct pendtimer_uring_wait_pdu *
pendtimer_uring_wait_pdu(struct io_uring_cmd *ioucmd)
{
	BUILD_BUG_ON(sizeof(struct pendtimer_uring_wait_pdu) > sizeof(ioucmd->pdu));
	return (struct pendtimer_uring_wait_pdu *)ioucmd->pdu;
}

static struct pendtimer_pend *pendtimer_uring_pend_pdu(struct io_uring_cmd *ioucmd)
{
	BUILD_BUG_ON(sizeof(struct pendtimer_pend) > sizeof(ioucmd->pdu));
	return (struct pendtimer_pend *)ioucmd->pdu;
}

/* Copy a WAIT's or PEND's arguments out of the command area (maybe the SQE). */
static void pendtimer_uring_read_wait(struct io_uring_cmd *ioucmd,
				      struct pendtimer_wait *w)
{
	const struct pendtimer_wait *src =
		pendtimer_uring_payload(ioucmd, struct pendtimer_wait);

	w->timeout_ns = READ_ONCE(src->timeout_ns);
	w->tag = READ_ONCE(src->tag);
}

/* Context: process: the submitter (non-blocking issue) or an io-wq worker. */
static int pendtimer_uring_wait(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	struct pendtimer_uring_wait_pdu *pdu = pendtimer_uring_wait_pdu(ioucmd);
	const void *area = pendtimer_uring_payload(ioucmd, struct pendtimer_wait);
	struct pendtimer_file *pf = ioucmd->file->private_data;
	struct pendtimer_remove_lock_holder h;
	struct pendtimer_wait w;
	int ret;

	if (issue_flags & IO_URING_F_NONBLOCK) {
		if (PENDTIMER_URING_SQE_UNSTABLE) {
			pendtimer_uring_read_wait(ioucmd, &pdu->args);
			pdu->area = area;
		}
		return -EAGAIN;
	}
	if (PENDTIMER_URING_SQE_UNSTABLE && pdu->area == area)
		w = pdu->args;
	else
		pendtimer_uring_read_wait(ioucmd, &w);

	ret = pendtimer_remove_lock_enter(&pf->pd->remove_lock, &h,
					  "uring_cmd wait");
	if (ret)
		return ret;
	ret = pendtimer_wait(pf, &w);
	pendtimer_remove_lock_exit(&pf->pd->remove_lock, &h);
	return ret;
}

/* Context: process: the submitter, or an io-wq worker for IOSQE_ASYNC. */
static int pendtimer_uring_cancel_tag(struct io_uring_cmd *ioucmd)
{
	struct pendtimer_file *pf = ioucmd->file->private_data;
	u64 tag = READ_ONCE(*pendtimer_uring_payload(ioucmd, u64));
	struct pendtimer_remove_lock_holder h;
	int ret;

	ret = pendtimer_remove_lock_enter(&pf->pd->remove_lock, &h,
					  "uring_cmd cancel");
	if (ret)
		return ret;
	ret = pendtimer_cancel(pf, tag);
	pendtimer_remove_lock_exit(&pf->pd->remove_lock, &h);
	return ret;
}

/*
 * Submit a PEND and park it. Once marked cancelable the command must end
 * through io_uring_cmd_done(), also when its submission fails.
 * Context: process: the submitter, or an io-wq worker for IOSQE_ASYNC.
 */
static int pendtimer_uring_pend(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	struct pendtimer_pend *pend = pendtimer_uring_pend_pdu(ioucmd);
	struct pendtimer_file *pf = ioucmd->file->private_data;
	struct pendtimer_remove_lock_holder h;
	struct pendtimer_wait w;
	int ret;

	if (!PENDTIMER_HAVE_PEND)
		return -EOPNOTSUPP;
	pendtimer_uring_read_wait(ioucmd, &w);
	ret = pendtimer_remove_lock_enter(&pf->pd->remove_lock, &h,
					  "uring_cmd pend");
	if (ret)
		return ret;

	pend->sink.pf = pf;
	pend->sink.owner = current->files;
	pend->sink.kind = PENDTIMER_KIND_PEND;
	pend->sink.result = 0;
	pend->req = NULL;	/* io_uring's cancel finds nothing yet */
	/* Before the timer starts: its callback may finish the command. */
	pendtimer_uring_mark_cancelable(ioucmd, issue_flags);
	ret = pendtimer_pend(pf, pend, &w);
	/* A parked PEND does not hold the remove lock: removal completes it. */
	pendtimer_remove_lock_exit(&pf->pd->remove_lock, &h);
	if (ret)
		pendtimer_uring_done(ioucmd, ret, issue_flags);
	return -EIOCBQUEUED;
}

/*
 * IO_URING_F_CANCEL: ring or task exit cancels a parked PEND (its cancel
 * routine). Not a system call: no remove lock, never fails, also after
 * removal. Context: process, io_uring's cancel path under the ring's lock.
 */
static int pendtimer_uring_cancel_pend(struct io_uring_cmd *ioucmd,
				       unsigned int issue_flags)
{
	struct pendtimer_pend *pend = pendtimer_uring_pend_pdu(ioucmd);

	/* Only PENDs are marked cancelable. */
	if (WARN_ON_ONCE(ioucmd->cmd_op != PENDTIMER_URING_PEND))
		return 0;
	if (pendtimer_pend_cancel(pend))
		pendtimer_uring_done(ioucmd, pend->sink.result, issue_flags);
	return 0;
}

/* Task work in the submitter's context: post the CQE of a claimed PEND. */
static void pendtimer_pend_done(struct io_uring_cmd *ioucmd,
				unsigned int issue_flags)
{
	pendtimer_uring_done(ioucmd, pendtimer_uring_pend_pdu(ioucmd)->sink.result,
			     issue_flags);
}

PENDTIMER_URING_TASK_WORK(pendtimer_pend_task_work, pendtimer_pend_done)

/**
 * pendtimer_pend_finish() - complete a claimed PEND's command
 * @pend: its state, with the result set by the claimer
 *
 * The CQE is posted from task work in the submitter's context, never from
 * the timer's interrupt. Called once per PEND, by the path that claimed
 * it, after its timer is known stopped; @pend may be freed on return.
 *
 * Context: any (hard irq in the timer callback).
 */
void pendtimer_pend_finish(struct pendtimer_pend *pend)
{
	struct io_uring_cmd *ioucmd = container_of((void *)pend,
						   struct io_uring_cmd, pdu);

	io_uring_cmd_complete_in_task(ioucmd, pendtimer_pend_task_work);
}

/**
 * pendtimer_uring_cmd() - f_op->uring_cmd
 * @ioucmd: the command
 * @issue_flags: IO_URING_F_*
 *
 * Context: process: the submitting task (inline issue), an io-wq worker,
 * or io_uring's cancel at ring or task exit (IO_URING_F_CANCEL).
 * Return: the CQE result, -EAGAIN to be punted to io-wq, or -EIOCBQUEUED
 * for a parked PEND.
 */
int pendtimer_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	if (issue_flags & PENDTIMER_URING_F_CANCEL)
		return pendtimer_uring_cancel_pend(ioucmd, issue_flags);

	switch (ioucmd->cmd_op) {
	case PENDTIMER_IOC_WAIT:
		return pendtimer_uring_wait(ioucmd, issue_flags);
	case PENDTIMER_IOC_CANCEL:
		return pendtimer_uring_cancel_tag(ioucmd);
	case PENDTIMER_URING_PEND:
		return pendtimer_uring_pend(ioucmd, issue_flags);
	default:
		return -ENOTTY;
	}
}
