// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_bench: the throughput section, and the threads each mode needs for 1000
 * pending.
 */
#include "bench.h"

/* Submit the batch prepared and reap its TP_BATCH CQEs, each @res; 0 or -1 */
static int tp_batch(struct io_uring *ring, const char *what, int res)
{
	int ret = io_uring_submit_and_wait(ring, TP_BATCH);

	if (ret < 0) {
		fail("throughput %s submit: %s", what, strerror(-ret));
		return -1;
	}
	return reap_n(ring, TP_BATCH, res, res) ? -1 : 0;
}

/* how a throughput batch prepares its SQEs */
struct tp_prep {
	void (*prep)(struct tp_prep *p, struct io_uring_sqe *sqe, unsigned int i);
	int fd;
	uint64_t tag;
};

/*
 * Batches of TP_BATCH, prepared by @p, submitted and reaped (each CQE
 * @res) for @secs from *@t0 on; *@done: how many. 0, or -1 if one failed.
 */
static int tp_ring_run(struct io_uring *ring, double secs, struct tp_prep *p,
		       const char *what, int res, uint64_t *t0, uint64_t *done)
{
	uint64_t end;
	unsigned int i;

	*t0 = pt_now_ns();
	end = *t0 + (uint64_t)(secs * 1e9);
	while (pt_now_ns() < end) {
		for (i = 0; i < TP_BATCH; i++)
			p->prep(p, io_uring_get_sqe(ring), i);
		if (tp_batch(ring, what, res))
			return -1;
		*done += TP_BATCH;
	}
	return 0;
}

/* a pure timeout of 0 */
static void tp_prep_timeout(struct tp_prep *p, struct io_uring_sqe *sqe, unsigned int i)
{
	static struct __kernel_timespec zero = { 0, 0 };

	(void)p;
	io_uring_prep_timeout(sqe, &zero, 0, 0);
	io_uring_sqe_set_data64(sqe, i);
}

/* a PEND of timeout 0 */
static void tp_prep_pend(struct tp_prep *p, struct io_uring_sqe *sqe, unsigned int i)
{
	struct pendtimer_wait w = { .timeout_ns = 0, .tag = p->tag++ };

	pt_prep_cmd(sqe, p->fd, PENDTIMER_URING_PEND, &w, sizeof(w), i);
}

static double tp_uring(double secs)
{
	struct tp_prep p = { .prep = tp_prep_timeout };
	struct io_uring ring;
	uint64_t t0, done = 0;

	if (ring_init(&ring, TP_BATCH, 0))
		return -1;
	if (tp_ring_run(&ring, secs, &p, "io_uring", -ETIME, &t0, &done)) {
		io_uring_queue_exit(&ring);
		return -1;
	}
	io_uring_queue_exit(&ring);
	return (double)done * 1e9 / (double)(pt_now_ns() - t0);
}

/* PENDs of timeout 0, 256 per io_uring_enter, then the 256 CQEs (res 0). */
static double tp_pt_pend(double secs)
{
	struct tp_prep p = { .prep = tp_prep_pend, .fd = open(DEV0, O_RDWR | O_CLOEXEC) };
	uint64_t t0, done = 0;
	struct io_uring ring;

	if (p.fd < 0) {
		fail("open: %s", strerror(errno));
		return -1;
	}
	if (ring_init(&ring, TP_BATCH, 0)) {
		close(p.fd);
		return -1;
	}
	tp_ring_run(&ring, secs, &p, "PEND", 0, &t0, &done);
	io_uring_queue_exit(&ring);
	close(p.fd);
	if (failures)
		return -1;
	return (double)done * 1e9 / (double)(pt_now_ns() - t0);
}

static double tp_pt_arm(double secs)
{
	int fd = open(DEV0, O_RDWR | O_CLOEXEC), efd = eventfd(0, EFD_CLOEXEC);
	uint64_t t0, end, done = 0, tag = 0;

	if (fd < 0 || efd < 0) {
		fail("open: %s", strerror(errno));
		return -1;
	}
	t0 = pt_now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	while (pt_now_ns() < end) {
		uint64_t got = 0, v;
		unsigned int i;

		for (i = 0; i < TP_BATCH; i++) {
			int ret = pt_arm(fd, 0, tag++, efd);

			if (ret) {
				fail("throughput ARM: %s", strerror(-ret));
				close(fd);
				close(efd);
				return -1;
			}
		}
		while (got < TP_BATCH) {
			if (read(efd, &v, sizeof(v)) != sizeof(v)) {
				fail("throughput eventfd read: %s", strerror(errno));
				close(fd);
				close(efd);
				return -1;
			}
			got += v;
		}
		if (got != TP_BATCH) {
			fail("throughput: eventfd counted %" PRIu64 " for %u ARMs", got, TP_BATCH);
			close(fd);
			close(efd);
			return -1;
		}
		done += TP_BATCH;
	}
	close(fd);
	close(efd);
	return (double)done * 1e9 / (double)(pt_now_ns() - t0);
}

static void *tp_wait_fn(void *arg)
{
	struct tp_thread *t = arg;
	uint64_t i = 0;

	while (pt_now_ns() < t->end) {
		struct pendtimer_wait w = {
			.timeout_ns = 0, .tag = ((uint64_t)t->idx << 40) | i++,
		};

		if (ioctl(t->fd, PENDTIMER_IOC_WAIT, &w)) {
			t->err = errno;
			break;
		}
		t->done++;
	}
	return NULL;
}

static double tp_pt_wait(double secs)
{
	struct tp_thread t[TP_THREADS];
	int fd = open(DEV0, O_RDWR | O_CLOEXEC), i;
	uint64_t t0, done = 0;

	if (fd < 0) {
		fail("open: %s", strerror(errno));
		return -1;
	}
	t0 = pt_now_ns();
	for (i = 0; i < TP_THREADS; i++) {
		t[i] = (struct tp_thread){ .fd = fd, .idx = i,
			.end = t0 + (uint64_t)(secs * 1e9) };
		pthread_create(&t[i].th, NULL, tp_wait_fn, &t[i]);
	}
	for (i = 0; i < TP_THREADS; i++) {
		pthread_join(t[i].th, NULL);
		if (t[i].err)
			fail("throughput WAIT thread %d: %s", i, strerror(t[i].err));
		done += t[i].done;
	}
	close(fd);
	return (double)done * 1e9 / (double)(pt_now_ns() - t0);
}

void bench_throughput(void)
{
	const unsigned int rounds = 3;
	const double secs = 1.0;
	double u[3], a[3], w[3], pe[3] = { -1, -1, -1 }, mu, ma, mw;
	unsigned int r;

	say("throughput: zero-timeout requests, %u rounds of %.1f s each, interleaved",
	    rounds, secs);
	for (r = 0; r < rounds; r++) {
		u[r] = tp_uring(secs);
		if (pend_ok)
			pe[r] = tp_pt_pend(secs);
		a[r] = tp_pt_arm(secs);
		w[r] = tp_pt_wait(secs);
		if (u[r] < 0 || a[r] < 0 || w[r] < 0 || (pend_ok && pe[r] < 0))
			return;
		say("  round %u: io_uring TIMEOUT 0 %.0f/s, pendtimer PEND 0 %.0f/s, pendtimer ARM 0 %.0f/s, pendtimer WAIT 0 x%d threads %.0f/s",
		    r + 1, u[r], pe[r], a[r], TP_THREADS, w[r]);
	}
	if (pend_ok) {
		cps_pend = median_dbl(pe, rounds);
		detail("completions_per_s.pendtimer_pend_how", "\"%s\"",
		       "PEND timeout 0, batches of 256 SQEs per io_uring_enter, 1 thread");
	}
	mu = median_dbl(u, rounds);
	ma = median_dbl(a, rounds);
	mw = median_dbl(w, rounds);
	cps_ur = mu;
	if (ma >= mw) {
		cps_pt = ma;
		cps_pt_how = "ARM timeout 0, batches of 256 ioctls then eventfd reads, 1 thread";
	} else {
		cps_pt = mw;
		cps_pt_how = "WAIT timeout 0 ioctl loops from 4 threads on one open file";
	}
	detail("completions_per_s.pendtimer_arm_1thread", "%.0f", ma);
	detail("completions_per_s.pendtimer_wait_4threads", "%.0f", mw);
	detail("completions_per_s.pendtimer_how", "\"%s\"", cps_pt_how);
	detail("completions_per_s.io_uring_how", "\"%s\"",
	       "TIMEOUT 0, batches of 256 SQEs per io_uring_enter, 1 thread");
}

/* Threads of this process: /proc/self/task (io-wq workers are among them). */
/* the threads of this process, or -1 */
static int count_threads(void)
{
	struct pt_threads t;

	return pt_count_threads(&t) ? -1 : t.total;
}

/* Wait until the device has @want pending (STATS), or TH_WAIT_NS passed. */
static int wait_pending(int fd, uint64_t want, uint64_t *got)
{
	uint64_t t0 = pt_now_ns();

	for (;;) {
		if (pt_pending(fd, got))
			return -1;
		if (*got >= want)
			return 0;
		if (pt_now_ns() - t0 > TH_WAIT_NS)
			return -ETIMEDOUT;
		usleep(20000);
	}
}

/*
 * 1000 pending of one kind, submitted at once; the number of threads the
 * process gained. io_uring: timeouts of 1 h in one ring. PEND: 1000 PENDs
 * of 1 h in one ring. URING_CMD WAIT: 1000 WAITs of 1 h in one ring, each
 * of which sleeps in an io-wq worker; io-wq runs a URING_CMD as bounded
 * work (at most 4 workers per CPU by default, the rest wait in its queue,
 * not in the driver), so the ring's limits are raised to 1000
 * (IORING_REGISTER_IOWQ_MAX_WORKERS), and RLIMIT_NPROC too. If not all
 * are pending after a minute, the threads counted so far are reported
 * with the number pending (details). Each ring is closed afterwards, which
 * ends its requests.
 */
static double threads_for(int kind)
{
	int fd = -1, base, n = -1, ret;
	uint64_t p0 = 0, got = 0, i;
	struct io_uring ring;

	if (kind != TH_URING) {
		fd = open(DEV0, O_RDWR | O_CLOEXEC);
		if (fd < 0 || pt_pending(fd, &p0)) {
			fail("threads: open: %s", strerror(errno));
			return -1;
		}
	}
	if (ring_init(&ring, 1024, 4096)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	base = count_threads();
	switch (kind) {
	case TH_URING:
		ret = uring_add_timeouts(&ring, NULL, 0, TH_N);
		usleep(200000);
		break;
	case TH_PT_PEND:
		ret = pend_submit(&ring, fd, LONG_TIMEOUT, 0, TH_N, true);
		if (!ret)
			ret = wait_pending(fd, p0 + TH_N, &got);
		break;
	default:
		{
			unsigned int mw[2] = { TH_N, TH_N };

			ret = io_uring_register_iowq_max_workers(&ring, mw);
			if (ret)
				say("  io_uring_register_iowq_max_workers: %s", strerror(-ret));
		}
		for (i = 0; i < TH_N; i++) {
			struct pendtimer_wait w = { .timeout_ns = LONG_TIMEOUT, .tag = i };

			pt_prep_cmd(get_sqe(&ring), fd, PENDTIMER_IOC_WAIT, &w, sizeof(w), i);
		}
		ret = io_uring_submit(&ring);
		ret = ret < 0 ? ret : wait_pending(fd, p0 + TH_N, &got);
		detail("threads_for_1000_pending.pendtimer_uring_cmd_pending_reached",
		       "%" PRIu64, got - p0);
		break;
	}
	if (ret && ret != -ETIMEDOUT)
		fail("threads %s: %d", th_name[kind], ret);
	else
		n = count_threads() - base;
	if (ret == -ETIMEDOUT)
		say("  %-22s only %" PRIu64 " of %d pending after %llu s: %d more threads",
		    th_name[kind], got - p0, TH_N, TH_WAIT_NS / NS_PER_S, n);
	else
		say("  %-22s %d pending: %d more threads", th_name[kind], TH_N, n);
	io_uring_queue_exit(&ring);
	if (fd >= 0)
		close(fd);
	return n;
}

/* The io-wq workers of a closed ring exit late: wait for the count to settle. */
static void threads_settle(int base)
{
	unsigned int i;

	for (i = 0; i < 300 && count_threads() > base; i++)
		usleep(100000);
}

void bench_threads(void)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	/* the one with io-wq workers last */
	static const int order[NR_TH] = { TH_URING, TH_PT_PEND, TH_PT_URING };
	int k, base = count_threads();

	if (setrlimit(RLIMIT_NPROC, &rl))
		say("threads: setrlimit(RLIMIT_NPROC): %s", strerror(errno));
	say("threads: %d pending of each kind, submitted in one go", TH_N);
	for (k = 0; k < NR_TH; k++) {
		if (order[k] == TH_PT_PEND && !pend_ok)
			continue;
		threads_settle(base);
		threads_1k[order[k]] = threads_for(order[k]);
	}
	threads_settle(base);
}
