// SPDX-License-Identifier: LGPL-2.1 OR MIT
/* libpendtimer: rings, one-SQE submissions and CQEs, with liburing. */
#include <errno.h>
#include <string.h>
#include <liburing.h>

#include "pendtimer.h"

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
