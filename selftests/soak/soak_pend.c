// SPDX-License-Identifier: GPL-2.0
/*
 * The soak's PENDs: submission, CQE collection and ring exit (see
 * soak_pend.h). Every function returns 0 or -errno.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "pendtimer_pend.h"
#include "soak_pend.h"

/* Does the kernel park PENDs (6.7+), or end each with -EOPNOTSUPP? */
bool soak_pend_supported(void)
{
	return pt_pend_supported();
}

/*
 * Submit @n PENDs on @fd, PEND i due at CLOCK_MONOTONIC @due[i] with tag
 * @tag[i] and user_data i; the ring is set up on first use and after a
 * ring exit.
 */
int soak_pend_submit(struct soak_pend *sp, int fd, const uint64_t *due,
		     const uint64_t *tag, int n)
{
	int i, ret;

	if (!sp->up) {
		ret = pt_ring_init(&sp->ring, 64, 0);
		if (ret)
			return ret;
		sp->up = true;
	}
	for (i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&sp->ring);
		uint64_t now = pt_now_ns();

		if (!sqe)
			return -EBUSY;
		pt_prep_pend(sqe, fd, due[i] > now ? due[i] - now : 0, tag[i],
			     (uint64_t)i);
	}
	do {
		ret = io_uring_submit(&sp->ring);
	} while (ret == -EINTR);
	return ret == n ? 0 : ret < 0 ? ret : -EIO;
}

/*
 * Collect the CQEs of the @n PENDs of the round (10 s at most): @res[i] and
 * the time it was seen @t_cqe[i]. Returns the number collected, or
 * -EPROTO for a CQE that is no PEND of the round or a second one.
 */
int soak_pend_reap(struct soak_pend *sp, int n, int *res, uint64_t *t_cqe)
{
	int i, got = 0;
	__u64 ud;

	for (i = 0; i < n; i++)
		res[i] = 1;
	while (got < n) {
		int r;

		if (pt_reap(&sp->ring, 10000, &ud, &r))
			break;
		if (ud >= (__u64)n || res[ud] != 1)
			return -EPROTO;
		res[ud] = r;
		t_cqe[ud] = pt_now_ns();
		got++;
	}
	return got;
}

/* Close the ring with whatever is parked on it: io_uring cancels them. */
void soak_pend_ring_exit(struct soak_pend *sp)
{
	if (!sp->up)
		return;
	io_uring_queue_exit(&sp->ring);
	sp->up = false;
}
