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
 * CANCEL always completes inline, whatever the flags: punted to io-wq it
 * could queue behind the very WAITs it should cancel.
 *
 * The command area is read once: it may be the SQE itself, shared with
 * user space. A WAIT reads it at its non-blocking issue, the one moment
 * the SQE is known valid, and keeps the copy in the command's pdu for the
 * worker: 6.12's io_uring_cmd() copies the SQE on -EAGAIN but leaves
 * ioucmd->sqe on the ring slot, which the application may have reused by
 * the time a worker runs the command. Only a command forced async
 * (IOSQE_ASYNC) reaches the worker without that issue; io_uring copied
 * its SQE when it prepared it, so the worker reads that copy.
 */
#include <linux/io_uring.h>
#include <linux/io_uring_types.h>
#include <linux/version.h>
#if KERNEL_VERSION(6, 6, 0) <= LINUX_VERSION_CODE
#include <linux/io_uring/cmd.h>
#endif

#include "pendtimer.h"

static const void *pendtimer_uring_payload(struct io_uring_cmd *ioucmd)
{
#if KERNEL_VERSION(6, 6, 0) <= LINUX_VERSION_CODE
	return io_uring_sqe_cmd(ioucmd->sqe);
#else
	return ioucmd->cmd;
#endif
}

static struct pendtimer_wait *pendtimer_uring_pdu(struct io_uring_cmd *ioucmd)
{
	BUILD_BUG_ON(sizeof(struct pendtimer_wait) > sizeof(ioucmd->pdu));
	return (struct pendtimer_wait *)ioucmd->pdu;
}

/* Copy a WAIT's arguments out of the command area (maybe the SQE). */
static void pendtimer_uring_read_wait(struct pendtimer_wait *w, const void *payload)
{
	const struct pendtimer_wait *src = payload;

	w->timeout_ns = READ_ONCE(src->timeout_ns);
	w->tag = READ_ONCE(src->tag);
}

/**
 * pendtimer_uring_cmd() - f_op->uring_cmd
 * @ioucmd: the command
 * @issue_flags: IO_URING_F_*
 *
 * Context: process: the submitting task (inline issue) or an io-wq worker.
 * Return: the CQE result, or -EAGAIN to be punted to io-wq.
 */
int pendtimer_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	struct pendtimer_file *pf = ioucmd->file->private_data;
	const void *payload = pendtimer_uring_payload(ioucmd);
	struct pendtimer_rlock_holder h;
	int ret;

	switch (ioucmd->cmd_op) {
	case PENDTIMER_IOC_WAIT: {
		struct pendtimer_wait w;

		if (issue_flags & IO_URING_F_NONBLOCK) {
			pendtimer_uring_read_wait(pendtimer_uring_pdu(ioucmd), payload);
			return -EAGAIN;
		}
		if (cmd_to_io_kiocb(ioucmd)->flags & REQ_F_FORCE_ASYNC)
			pendtimer_uring_read_wait(&w, payload);
		else
			w = *pendtimer_uring_pdu(ioucmd);
		ret = pendtimer_rlock_enter(&pf->pd->rlock, &h, "uring_cmd wait");
		if (ret)
			return ret;
		ret = pendtimer_wait(pf, &w);
		break;
	}
	case PENDTIMER_IOC_CANCEL: {
		u64 tag = READ_ONCE(*(const u64 *)payload);

		ret = pendtimer_rlock_enter(&pf->pd->rlock, &h, "uring_cmd cancel");
		if (ret)
			return ret;
		ret = pendtimer_cancel(pf, tag);
		break;
	}
	default:
		return -ENOTTY;
	}
	pendtimer_rlock_exit(&pf->pd->rlock, &h);
	return ret;
}
