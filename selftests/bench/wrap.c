// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_bench: pendtimer and io_uring wrappers: ARM, CANCEL, STATS, URING_CMD
 * preparation, timeouts, PEND submission and the PEND probe.
 */
#include "bench.h"

/* ------------------------------------------------------------------ */
/* pendtimer and io_uring wrappers */

int pt_pending(int fd, uint64_t *pending)
{
	struct pendtimer_stats st;
	int ret = pt_stats(fd, &st);

	if (!ret)
		*pending = st.pending;
	return ret;
}

/* ARM @n requests with tags @tags[0..n) (or first..first+n if !tags). */
int arm_many(int fd, int efd, const uint64_t *tags, uint64_t first,
		    size_t n, uint64_t timeout)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = pt_arm(fd, timeout, tags ? tags[i] : first + i, efd);
		if (ret) {
			fail("ARM #%zu (tag %" PRIu64 "): %s", i,
			     tags ? tags[i] : first + i, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int ring_init(struct io_uring *ring, unsigned int sq, unsigned int cq)
{
	int ret = pt_ring_init(ring, sq, cq);

	if (ret)
		fail("io_uring_queue_init_params(%u, cq %u): %s", sq, cq, strerror(-ret));
	return ret;
}

struct io_uring_sqe *get_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

/*
 * Submit what is prepared (@submit names the call in a failure); unless
 * @early is NULL, none of it may have completed at once (@early names
 * that failure).
 */
static int submit_none_done(struct io_uring *ring, const char *submit, const char *early)
{
	struct io_uring_cqe *cqe;
	int ret = io_uring_submit(ring);

	if (ret < 0) {
		fail("%s: %s", submit, strerror(-ret));
		return ret;
	}
	if (early && io_uring_cq_ready(ring)) {
		io_uring_peek_cqe(ring, &cqe);
		fail("%s: ud %llu res %d", early, (unsigned long long)cqe->user_data, cqe->res);
		return -EIO;
	}
	return 0;
}

/* Submit @n pure timeouts (count 0) of @timeout with user_data @uds[i]. */
static struct __kernel_timespec long_ts = { .tv_sec = 3600 };

int uring_add_timeouts(struct io_uring *ring, const uint64_t *uds,
			      uint64_t first, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = get_sqe(ring);

		if (!sqe) {
			fail("io_uring: no SQE");
			return -EBUSY;
		}
		io_uring_prep_timeout(sqe, &long_ts, 0, 0);
		io_uring_sqe_set_data64(sqe, uds ? uds[i] : first + i);
	}
	/* No CQE may have come: they are all pending. */
	return submit_none_done(ring, "io_uring_submit", "io_uring timeout completed early");
}

/*
 * Submit @n PENDs of @timeout on @fd, tags and user_data @first + i. A PEND
 * with a long timeout must not complete at submission (-ENOSPC, ...):
 * @parked checks that no CQE came.
 */
int pend_submit(struct io_uring *ring, int fd, uint64_t timeout, uint64_t first,
		       size_t n, bool parked)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct pendtimer_wait w = { .timeout_ns = timeout, .tag = first + i };
		struct io_uring_sqe *sqe = get_sqe(ring);

		if (!sqe) {
			fail("PEND: no SQE");
			return -EBUSY;
		}
		pt_prep_cmd(sqe, fd, PENDTIMER_URING_PEND, &w, sizeof(w), first + i);
	}
	return submit_none_done(ring, "PEND io_uring_submit",
				parked ? "PEND completed at submission" : NULL);
}

/*
 * Does this kernel park PENDs? Before 6.7 (no io_uring_cmd_mark_cancelable())
 * a PEND completes at once with -EOPNOTSUPP, and its figures are left out.
 */
void pend_probe(void)
{
	struct pendtimer_wait w = { .timeout_ns = 0, .tag = 1 };
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	int fd, ret, res;

	fd = open(DEV0, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ring_init(&ring, 4, 0)) {
		fail("PEND probe: setup: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	pt_prep_cmd(io_uring_get_sqe(&ring), fd, PENDTIMER_URING_PEND, &w, sizeof(w), 1);
	ret = io_uring_submit_and_wait(&ring, 1);
	if (ret >= 0)
		ret = io_uring_wait_cqe(&ring, &cqe);
	if (ret < 0) {
		fail("PEND probe: %s", strerror(-ret));
	} else {
		res = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (res == 0)
			pend_ok = true;
		else if (res == -EOPNOTSUPP)
			say("PEND: -EOPNOTSUPP on this kernel (before 6.7): no PEND figures");
		else
			fail("PEND probe: CQE res %d, expected 0 or -EOPNOTSUPP", res);
	}
	io_uring_queue_exit(&ring);
	close(fd);
}

/*
 * Reap exactly @n CQEs (waiting for them); count those with res == @want
 * for user_data with bit 63 == @hi (others must have res == @want2).
 */
int reap_n(struct io_uring *ring, unsigned int n, int want_hi, int want_lo)
{
	unsigned int got = 0;
	int bad = 0;

	while (got < n) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;
		int ret = io_uring_wait_cqe(ring, &cqe);

		if (ret) {
			fail("io_uring_wait_cqe: %s", strerror(-ret));
			return ret;
		}
		io_uring_for_each_cqe(ring, head, cqe) {
			int want = (cqe->user_data >> 63) ? want_hi : want_lo;

			if (cqe->res != want && !bad++)
				fail("io_uring CQE ud %#llx res %d, expected %d",
				     (unsigned long long)cqe->user_data, cqe->res, want);
			seen++;
		}
		io_uring_cq_advance(ring, seen);
		got += seen;
	}
	return bad ? -EIO : 0;
}
