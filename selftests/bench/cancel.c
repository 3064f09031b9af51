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

/* one N of the cancel section: its descriptors, rings and figures */
struct cancel_run {
	size_t n;
	int fd, efd;
	bool rings;
	struct io_uring ring, pring;
	struct cancel_side cs;
	double *bp, *bu, *bq;		/* ns/op per batch: ioctl, io_uring, URING_CMD */
	unsigned int np, nu, nq;
	uint64_t ur_ns;			/* io_uring's time so far */
};

/* the device, an eventfd and both rings; false (with a failure) if not */
static bool cancel_setup(struct cancel_run *cr)
{
	cr->fd = open(DEV0, O_RDWR | O_CLOEXEC);
	cr->efd = eventfd(0, EFD_CLOEXEC);
	if (cr->fd < 0 || cr->efd < 0) {
		fail("open: %s", strerror(errno));
		return false;
	}
	if (ring_init(&cr->ring, 4096, 16384))
		return false;
	if (ring_init(&cr->pring, 256, 1024)) {
		io_uring_queue_exit(&cr->ring);
		return false;
	}
	cr->rings = true;
	return true;
}

static void cancel_free(struct cancel_run *cr)
{
	if (cr->rings) {
		io_uring_queue_exit(&cr->pring);
		io_uring_queue_exit(&cr->ring);
	}
	if (cr->fd >= 0)
		close(cr->fd);
	if (cr->efd >= 0)
		close(cr->efd);
	free(cr->cs.tags);
	free(cr->bp);
	free(cr->bu);
	free(cr->bq);
}

/* N pending of each contender */
static bool cancel_fill(struct cancel_run *cr)
{
	uint64_t pending = 0, t0 = pt_now_ns();
	size_t n = cr->n;
	bool ok = true;

	if (arm_many(cr->fd, cr->efd, NULL, 0, n, LONG_TIMEOUT))
		ok = false;
	say("  pendtimer: %zu ARMs in %.1f ms", n, (pt_now_ns() - t0) / 1e6);
	t0 = pt_now_ns();
	if (ok && uring_add_timeouts(&cr->ring, NULL, 0, n))
		ok = false;
	say("  io_uring: %zu timeouts in %.1f ms", n, (pt_now_ns() - t0) / 1e6);
	if (ok && (pt_pending(cr->fd, &pending) || pending != n)) {
		fail("pendtimer pending %" PRIu64 ", expected %zu", pending, n);
		ok = false;
	}
	return ok;
}

/* batch @b of each contender, each re-armed after; false: stop */
static bool cancel_batch(struct cancel_run *cr, unsigned int b)
{
	bool warm = b < CANCEL_WARMUP;
	double x;

	/* pendtimer CANCEL ioctl, one system call each */
	pick(&cr->cs, PT_BATCH);
	x = pt_cancel_round(cr->fd, cr->cs.tags, PT_BATCH);
	if (x < 0 || arm_many(cr->fd, cr->efd, cr->cs.tags, 0, PT_BATCH, LONG_TIMEOUT))
		return false;
	if (!warm)
		cr->bp[cr->np++] = x / PT_BATCH;
	/* pendtimer URING_CMD CANCEL, a batch per io_uring_enter */
	pick(&cr->cs, URING_BATCH);
	x = ptu_cancel_round(&cr->pring, cr->fd, cr->cs.tags, URING_BATCH);
	if (x < 0 || arm_many(cr->fd, cr->efd, cr->cs.tags, 0, URING_BATCH, LONG_TIMEOUT))
		return false;
	if (!warm)
		cr->bq[cr->nq++] = x / URING_BATCH;
	/* io_uring TIMEOUT_REMOVE by user_data, a batch per io_uring_enter */
	if (b >= CANCEL_WARMUP + 10 && cr->ur_ns > UR_BUDGET_NS)
		return true;
	pick(&cr->cs, URING_BATCH);
	x = uring_remove_round(&cr->ring, cr->cs.tags, URING_BATCH);
	if (x < 0 || uring_add_timeouts(&cr->ring, cr->cs.tags, 0, URING_BATCH))
		return false;
	cr->ur_ns += (uint64_t)x;
	if (!warm)
		cr->bu[cr->nu++] = x / URING_BATCH;
	if (b == CANCEL_WARMUP + 9 || b == CANCEL_BATCHES - 1)
		say("  %u batches: median pendtimer CANCEL %.0f ns/op, io_uring TIMEOUT_REMOVE %.0f ns/op, pendtimer URING_CMD CANCEL %.0f ns/op",
		    b + 1 - CANCEL_WARMUP, median_dbl(cr->bp, cr->np), median_dbl(cr->bu, cr->nu),
		    median_dbl(cr->bq, cr->nq));
	return true;
}

/* the medians of N = cancel_n[@ni] */
static void cancel_result(struct cancel_run *cr, unsigned int ni)
{
	cancel_pt[ni] = median_dbl(cr->bp, cr->np);
	cancel_ur[ni] = median_dbl(cr->bu, cr->nu);
	cancel_ptu[ni] = median_dbl(cr->bq, cr->nq);
	say("  N=%zu: pendtimer CANCEL %.0f ns/op (%u batches of %d), io_uring TIMEOUT_REMOVE %.0f ns/op (%u batches of %d, x%.1f), pendtimer URING_CMD CANCEL %.0f ns/op",
	    cr->n, cancel_pt[ni], cr->np, PT_BATCH, cancel_ur[ni], cr->nu, URING_BATCH,
	    cancel_ur[ni] / cancel_pt[ni], cancel_ptu[ni]);
}

/* N = cancel_n[@ni] pending; false: a failure, stop the section */
static bool cancel_at(unsigned int ni)
{
	struct cancel_run cr = { .n = cancel_n[ni], .fd = -1, .efd = -1 };
	uint64_t pending = 0, t0;
	unsigned int b;
	size_t i;
	bool ok;

	cr.bp = xcalloc(CANCEL_BATCHES, sizeof(double));
	cr.bu = xcalloc(CANCEL_BATCHES, sizeof(double));
	cr.bq = xcalloc(CANCEL_BATCHES, sizeof(double));
	cr.cs.tags = xcalloc(cr.n, sizeof(uint64_t));
	cr.cs.n = cr.n;
	for (i = 0; i < cr.n; i++)
		cr.cs.tags[i] = i;
	say("cancel: N=%zu pending; batches of random tags, re-armed after each batch so N stay pending", cr.n);
	if (!cancel_setup(&cr)) {
		cancel_free(&cr);
		return false;
	}
	ok = cancel_fill(&cr);
	for (b = 0; ok && b < CANCEL_BATCHES; b++)
		if (!cancel_batch(&cr, b))
			break;
	if (b < CANCEL_BATCHES)
		ok = false;
	if (ok && cr.np && cr.nu && cr.nq)
		cancel_result(&cr, ni);
	if (ok && (pt_pending(cr.fd, &pending) || pending != cr.n)) {
		fail("pendtimer pending %" PRIu64 " after the batches, expected %zu", pending, cr.n);
		ok = false;
	}
	t0 = pt_now_ns();
	io_uring_queue_exit(&cr.pring);
	io_uring_queue_exit(&cr.ring);
	cr.rings = false;
	close(cr.fd);
	cr.fd = -1;
	say("  torn down in %.1f ms", (pt_now_ns() - t0) / 1e6);
	cancel_free(&cr);
	return ok;
}

void bench_cancel(void)
{
	unsigned int ni;
	char buf[256];

	for (ni = 0; ni < 3 && cancel_n[ni] <= opt_big; ni++)
		if (!cancel_at(ni))
			return;
	snprintf(buf, sizeof(buf), "{\"1000\": %.0f, \"10000\": %.0f, \"100000\": %.0f}",
		 cancel_ptu[0], cancel_ptu[1], cancel_ptu[2]);
	detail("cancel_ns_per_op.pendtimer_uring_cmd_batched", "%s", buf);
}
