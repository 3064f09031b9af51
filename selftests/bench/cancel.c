// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_bench: the cancel section: cancel at scale (1k, 10k, 100k pending).
 */
#include "bench.h"

static void pick(struct cancel_side *cs, size_t k)
{
	size_t i;

	for (i = 0; i < k; i++) {
		size_t j = i + (size_t)(rnd() % (cs->n - i));
		uint64_t t = cs->tags[i];

		cs->tags[i] = cs->tags[j];
		cs->tags[j] = t;
	}
}

/* K TIMEOUT_REMOVE of @tags, in batches; returns ns or -1. */
static double uring_remove_round(struct io_uring *ring, const uint64_t *tags, size_t k)
{
	uint64_t t0 = pt_now_ns();
	size_t i = 0;

	while (i < k) {
		unsigned int b = 0, got;

		while (b < URING_BATCH && i < k) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

			io_uring_prep_timeout_remove(sqe, tags[i], 0);
			io_uring_sqe_set_data64(sqe, tags[i] | UD_REMOVE);
			b++;
			i++;
		}
		got = io_uring_submit_and_wait(ring, 2 * b);
		if ((int)got < 0) {
			fail("TIMEOUT_REMOVE submit: %s", strerror(-(int)got));
			return -1;
		}
		/* the remove: 0; the removed timeout: -ECANCELED */
		if (reap_n(ring, 2 * b, 0, -ECANCELED))
			return -1;
	}
	return (double)(pt_now_ns() - t0);
}

/* K URING_CMD CANCEL of @tags, in batches; returns ns or -1. */
static double ptu_cancel_round(struct io_uring *ring, int fd, const uint64_t *tags,
			       size_t k)
{
	uint64_t t0 = pt_now_ns();
	size_t i = 0;

	while (i < k) {
		unsigned int b = 0;
		int got;

		while (b < URING_BATCH && i < k) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
			__u64 cmd[2] = { tags[i], 0 };

			pt_prep_cmd(sqe, fd, PENDTIMER_IOC_CANCEL, cmd, sizeof(cmd),
				       tags[i] | UD_REMOVE);
			b++;
			i++;
		}
		got = io_uring_submit_and_wait(ring, b);
		if (got < 0) {
			fail("URING_CMD CANCEL submit: %s", strerror(-got));
			return -1;
		}
		if (reap_n(ring, b, 0, 0))
			return -1;
	}
	return (double)(pt_now_ns() - t0);
}

static double pt_cancel_round(int fd, const uint64_t *tags, size_t k)
{
	uint64_t t0 = pt_now_ns();
	size_t i;
	int ret;

	for (i = 0; i < k; i++) {
		ret = pt_cancel(fd, tags[i]);
		if (ret) {
			fail("CANCEL tag %" PRIu64 ": %s", tags[i], strerror(-ret));
			return -1;
		}
	}
	return (double)(pt_now_ns() - t0);
}

void bench_cancel(void)
{
	unsigned int ni;

	for (ni = 0; ni < 3 && cancel_n[ni] <= opt_big; ni++) {
		size_t n = cancel_n[ni], i;
		double *bp = xcalloc(CANCEL_BATCHES, sizeof(double));
		double *bu = xcalloc(CANCEL_BATCHES, sizeof(double));
		double *bq = xcalloc(CANCEL_BATCHES, sizeof(double));
		struct cancel_side cs = { .tags = xcalloc(n, sizeof(uint64_t)), .n = n };
		unsigned int b, np = 0, nu = 0, nq = 0;
		struct io_uring ring, pring;
		uint64_t pending = 0, t0, ur_ns = 0;
		int fd = -1, efd = -1;
		bool ok = true, rings = false;

		for (i = 0; i < n; i++)
			cs.tags[i] = i;
		say("cancel: N=%zu pending; batches of random tags, re-armed after each batch so N stay pending", n);
		fd = open(DEV0, O_RDWR | O_CLOEXEC);
		efd = eventfd(0, EFD_CLOEXEC);
		if (fd < 0 || efd < 0) {
			fail("open: %s", strerror(errno));
			ok = false;
			goto out;
		}
		if (ring_init(&ring, 4096, 16384)) {
			ok = false;
			goto out;
		}
		if (ring_init(&pring, 256, 1024)) {
			io_uring_queue_exit(&ring);
			ok = false;
			goto out;
		}
		rings = true;
		t0 = pt_now_ns();
		if (arm_many(fd, efd, NULL, 0, n, LONG_TIMEOUT))
			ok = false;
		say("  pendtimer: %zu ARMs in %.1f ms", n, (pt_now_ns() - t0) / 1e6);
		t0 = pt_now_ns();
		if (ok && uring_add_timeouts(&ring, NULL, 0, n))
			ok = false;
		say("  io_uring: %zu timeouts in %.1f ms", n, (pt_now_ns() - t0) / 1e6);
		if (ok && (pt_pending(fd, &pending) || pending != n)) {
			fail("pendtimer pending %" PRIu64 ", expected %zu", pending, n);
			ok = false;
		}
		for (b = 0; ok && b < CANCEL_BATCHES; b++) {
			bool warm = b < CANCEL_WARMUP;
			double x;

			/* pendtimer CANCEL ioctl, one system call each */
			pick(&cs, PT_BATCH);
			x = pt_cancel_round(fd, cs.tags, PT_BATCH);
			if (x < 0 || arm_many(fd, efd, cs.tags, 0, PT_BATCH, LONG_TIMEOUT))
				break;
			if (!warm)
				bp[np++] = x / PT_BATCH;
			/* pendtimer URING_CMD CANCEL, a batch per io_uring_enter */
			pick(&cs, URING_BATCH);
			x = ptu_cancel_round(&pring, fd, cs.tags, URING_BATCH);
			if (x < 0 || arm_many(fd, efd, cs.tags, 0, URING_BATCH, LONG_TIMEOUT))
				break;
			if (!warm)
				bq[nq++] = x / URING_BATCH;
			/* io_uring TIMEOUT_REMOVE by user_data, a batch per io_uring_enter */
			if (b >= CANCEL_WARMUP + 10 && ur_ns > UR_BUDGET_NS)
				continue;
			pick(&cs, URING_BATCH);
			x = uring_remove_round(&ring, cs.tags, URING_BATCH);
			if (x < 0 || uring_add_timeouts(&ring, cs.tags, 0, URING_BATCH))
				break;
			ur_ns += (uint64_t)x;
			if (!warm)
				bu[nu++] = x / URING_BATCH;
			if (b == CANCEL_WARMUP + 9 || b == CANCEL_BATCHES - 1)
				say("  %u batches: median pendtimer CANCEL %.0f ns/op, io_uring TIMEOUT_REMOVE %.0f ns/op, pendtimer URING_CMD CANCEL %.0f ns/op",
				    b + 1 - CANCEL_WARMUP, median_dbl(bp, np), median_dbl(bu, nu),
				    median_dbl(bq, nq));
		}
		if (b < CANCEL_BATCHES)
			ok = false;
		if (ok && np && nu && nq) {
			cancel_pt[ni] = median_dbl(bp, np);
			cancel_ur[ni] = median_dbl(bu, nu);
			cancel_ptu[ni] = median_dbl(bq, nq);
			say("  N=%zu: pendtimer CANCEL %.0f ns/op (%u batches of %d), io_uring TIMEOUT_REMOVE %.0f ns/op (%u batches of %d, x%.1f), pendtimer URING_CMD CANCEL %.0f ns/op",
			    n, cancel_pt[ni], np, PT_BATCH, cancel_ur[ni], nu, URING_BATCH,
			    cancel_ur[ni] / cancel_pt[ni], cancel_ptu[ni]);
		}
		if (ok && (pt_pending(fd, &pending) || pending != n)) {
			fail("pendtimer pending %" PRIu64 " after the batches, expected %zu", pending, n);
			ok = false;
		}
		t0 = pt_now_ns();
		io_uring_queue_exit(&pring);
		io_uring_queue_exit(&ring);
		rings = false;
		close(fd);
		fd = -1;
		say("  torn down in %.1f ms", (pt_now_ns() - t0) / 1e6);
out:
		if (rings) {
			io_uring_queue_exit(&pring);
			io_uring_queue_exit(&ring);
		}
		if (fd >= 0)
			close(fd);
		if (efd >= 0)
			close(efd);
		free(cs.tags);
		free(bp);
		free(bu);
		free(bq);
		if (!ok)
			return;
	}
	{
		char buf[256];

		snprintf(buf, sizeof(buf), "{\"1000\": %.0f, \"10000\": %.0f, \"100000\": %.0f}",
			 cancel_ptu[0], cancel_ptu[1], cancel_ptu[2]);
		detail("cancel_ns_per_op.pendtimer_uring_cmd_batched", "%s", buf);
	}
}
