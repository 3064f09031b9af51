// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libpendtimer: rings, one-SQE submissions and CQEs, a PEND issued from a
 * helper thread, with liburing.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <liburing.h>

#include "internal.h"

/* A helper thread's PEND: its CQE is waited for until its due time and this long. */
#define PT_PENDER_GRACE_MS	10000

int pt_ring_init(struct io_uring *ring, unsigned int sq, unsigned int cq)
{
	struct io_uring_params p;

	memset(&p, 0, sizeof(p));
	if (cq) {
		p.flags = IORING_SETUP_CQSIZE;
		p.cq_entries = cq;
	}
	return io_uring_queue_init_params(sq, ring, &p);
}

/* Submit the one SQE just prepared: 0 or -errno. */
static int submit_one(struct io_uring *ring)
{
	int ret = io_uring_submit(ring);

	return ret == 1 ? 0 : ret < 0 ? ret : -EIO;
}

/* One WAIT or PEND (@cmd_op): they differ in nothing else. */
static int submit_timed(struct io_uring *ring, int fd, __u32 cmd_op,
			__u64 timeout_ns, __u64 tag, __u64 user_data)
{
	struct pendtimer_wait w = { .timeout_ns = timeout_ns, .tag = tag };
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	pt_prep_cmd(sqe, fd, cmd_op, &w, sizeof(w), user_data);
	return submit_one(ring);
}

int pt_submit_wait(struct io_uring *ring, int fd, __u64 timeout_ns, __u64 tag,
		   __u64 user_data)
{
	return submit_timed(ring, fd, PENDTIMER_IOC_WAIT, timeout_ns, tag,
			    user_data);
}

int pt_submit_pend(struct io_uring *ring, int fd, __u64 timeout_ns, __u64 tag,
		   __u64 user_data)
{
	return submit_timed(ring, fd, PENDTIMER_URING_PEND, timeout_ns, tag,
			    user_data);
}

int pt_submit_cancel(struct io_uring *ring, int fd, __u64 tag, __u64 user_data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	pt_prep_cancel(sqe, fd, tag, user_data);
	return submit_one(ring);
}

int pt_submit_async_cancel(struct io_uring *ring, __u64 target,
			   unsigned int flags, __u64 user_data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_cancel64(sqe, target, (int)flags);
	io_uring_sqe_set_data64(sqe, user_data);
	return submit_one(ring);
}

int pt_reap(struct io_uring *ring, unsigned int timeout_ms, __u64 *ud,
	    int *res)
{
	struct __kernel_timespec ts = {
		.tv_sec = timeout_ms / 1000,
		.tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
	};
	struct io_uring_cqe *cqe;
	int ret;

	do {
		ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	} while (ret == -EINTR);
	if (ret)
		return ret;
	*ud = cqe->user_data;
	*res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

int pt_peek(struct io_uring *ring, __u64 *ud, int *res)
{
	struct io_uring_cqe *cqe;

	if (io_uring_peek_cqe(ring, &cqe))
		return -EAGAIN;
	*ud = cqe->user_data;
	*res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

/*
 * The thread of pt_pender_start(): its own ring (set up before t_start, so
 * that the PEND goes out right after it), one PEND, its CQE.
 */
static void *pt_pender_fn(void *arg)
{
	struct pt_waiter *w = arg;
	__u64 ms = w->timeout_ns / PT_NSEC_PER_MSEC + PT_PENDER_GRACE_MS;
	struct io_uring ring;
	__u64 ud;

	if (w->cpu >= 0)
		pt_pin_self(w->cpu);
	w->err = pt_ring_init(&ring, 4, 0);
	if (w->err) {
		__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&w->started, 1, __ATOMIC_RELEASE);
		return NULL;
	}
	w->t_start = pt_now_ns();
	__atomic_store_n(&w->started, 1, __ATOMIC_RELEASE);
	w->err = pt_submit_pend(&ring, w->fd, w->timeout_ns, w->tag, w->tag);
	__atomic_store_n(&w->submitted, 1, __ATOMIC_RELEASE);
	if (!w->err)
		w->err = pt_reap(&ring, ms < UINT_MAX ? (unsigned int)ms : UINT_MAX,
				 &ud, &w->ret);
	w->t_end = pt_now_ns();
	io_uring_queue_exit(&ring);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

int pt_pender_start(struct pt_waiter *w, int fd, __u64 timeout_ns, __u64 tag,
		    int cpu)
{
	int ret = pt_waiter_launch(w, fd, timeout_ns, tag, cpu, pt_pender_fn);

	if (ret)
		return ret;
	pt_waiter_wait_started(w);
	/* done already: its ring could not be set up (or the PEND is over) */
	return __atomic_load_n(&w->done, __ATOMIC_ACQUIRE) ? w->err : 0;
}
