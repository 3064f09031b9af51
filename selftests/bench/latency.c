// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_bench: the latency section: overshoot of one blocking call per contender.
 */
#include "bench.h"

/* Each returns the overshoot in ns (>= INT64_MIN/2), or INT64_MIN on error. */
static int64_t lat_nanosleep(struct latctx *c, uint64_t d)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)d };
	uint64_t t0, t1;
	int r;

	t0 = pt_now_ns();
	r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
	t1 = pt_now_ns();
	if (r) {
		fail("clock_nanosleep: %s", strerror(r));
		return INT64_MIN;
	}
	c->t0 = t0;
	c->t1 = t1;
	return (int64_t)(t1 - t0 - d);
}

static int64_t lat_timerfd(struct latctx *c, uint64_t d)
{
	struct itimerspec its = { .it_value = { .tv_sec = 0, .tv_nsec = (long)d } };
	uint64_t t0, t1, v;
	ssize_t n;

	t0 = pt_now_ns();
	if (timerfd_settime(c->tfd, 0, &its, NULL)) {
		fail("timerfd_settime: %s", strerror(errno));
		return INT64_MIN;
	}
	n = read(c->tfd, &v, sizeof(v));
	t1 = pt_now_ns();
	if (n != sizeof(v) || v != 1) {
		fail("timerfd read: %zd %s", n, strerror(errno));
		return INT64_MIN;
	}
	c->t0 = t0;
	c->t1 = t1;
	return (int64_t)(t1 - t0 - d);
}

static int64_t lat_ring_one(struct latctx *c, uint64_t d, int want, const char *what)
{
	struct io_uring_cqe *cqe;
	uint64_t t0, t1;
	int ret, res;

	t0 = pt_now_ns();
	ret = io_uring_submit_and_wait(&c->ring, 1);
	t1 = pt_now_ns();
	if (ret < 0) {
		fail("%s: io_uring_submit_and_wait: %s", what, strerror(-ret));
		return INT64_MIN;
	}
	ret = io_uring_wait_cqe(&c->ring, &cqe);
	if (ret) {
		fail("%s: io_uring_wait_cqe: %s", what, strerror(-ret));
		return INT64_MIN;
	}
	res = cqe->res;
	io_uring_cqe_seen(&c->ring, cqe);
	if (res != want) {
		fail("%s: CQE res %d, expected %d", what, res, want);
		return INT64_MIN;
	}
	c->t0 = t0;
	c->t1 = t1;
	return (int64_t)(t1 - t0 - d);
}

static int64_t lat_uring_timeout(struct latctx *c, uint64_t d)
{
	struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = (long long)d };
	struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);

	io_uring_prep_timeout(sqe, &ts, 0, 0);
	io_uring_sqe_set_data64(sqe, 1);
	return lat_ring_one(c, d, -ETIME, "io_uring TIMEOUT");
}

static int64_t lat_pt_uring(struct latctx *c, uint64_t d)
{
	struct pendtimer_wait w = { .timeout_ns = d, .tag = ++c->tag };
	struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);

	pt_prep_cmd(sqe, c->ptfd, PENDTIMER_IOC_WAIT, &w, sizeof(w), 2);
	return lat_ring_one(c, d, 0, "pendtimer URING_CMD WAIT");
}

/* PEND: the driver parks the command; its timer completes it (CQE 0). */
static int64_t lat_pt_pend(struct latctx *c, uint64_t d)
{
	struct pendtimer_wait w = { .timeout_ns = d, .tag = ++c->tag };
	struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);

	pt_prep_cmd(sqe, c->ptfd, PENDTIMER_URING_PEND, &w, sizeof(w), 3);
	return lat_ring_one(c, d, 0, "pendtimer URING_CMD PEND");
}

static int64_t lat_pt_wait(struct latctx *c, uint64_t d)
{
	struct pendtimer_wait w = { .timeout_ns = d, .tag = ++c->tag };
	uint64_t t0, t1;
	int ret;

	t0 = pt_now_ns();
	ret = ioctl(c->ptfd, PENDTIMER_IOC_WAIT, &w);
	t1 = pt_now_ns();
	if (ret) {
		fail("WAIT: %s", strerror(errno));
		return INT64_MIN;
	}
	c->t0 = t0;
	c->t1 = t1;
	return (int64_t)(t1 - t0 - d);
}

static int64_t lat_pt_arm(struct latctx *c, uint64_t d)
{
	struct pendtimer_arm a = {
		.timeout_ns = d, .tag = ++c->tag, .eventfd = c->efd, .flags = 0,
	};
	uint64_t t0, t1, v;
	ssize_t n;

	t0 = pt_now_ns();
	if (ioctl(c->ptfd, PENDTIMER_IOC_ARM, &a)) {
		fail("ARM: %s", strerror(errno));
		return INT64_MIN;
	}
	n = read(c->efd, &v, sizeof(v));
	t1 = pt_now_ns();
	if (n != sizeof(v) || v != 1) {
		fail("ARM eventfd read: %zd, value %" PRIu64, n, v);
		return INT64_MIN;
	}
	c->t0 = t0;
	c->t1 = t1;
	return (int64_t)(t1 - t0 - d);
}

int64_t (*const lat_fn[NR_IMPL])(struct latctx *, uint64_t) = {
	lat_nanosleep, lat_timerfd, lat_uring_timeout, lat_pt_wait,
	lat_pt_uring, lat_pt_arm, lat_pt_pend,
};

/* A contender this kernel has: PEND needs 6.7 (before, -EOPNOTSUPP). */
static bool impl_here(int k)
{
	return k != L_PT_PEND || pend_ok;
}

int latctx_open(struct latctx *c)
{
	memset(c, 0, sizeof(*c));
	c->ptfd = open(DEV0, O_RDWR | O_CLOEXEC);
	c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	c->efd = eventfd(0, EFD_CLOEXEC);
	if (c->ptfd < 0 || c->tfd < 0 || c->efd < 0) {
		fail("latency setup: %s", strerror(errno));
		return -1;
	}
	if (ring_init(&c->ring, 8, 0))
		return -1;
	if (pinned) {
		int ret = io_uring_register_iowq_aff(&c->ring, sizeof(pin_set), &pin_set);

		if (ret)
			say("io_uring_register_iowq_aff: %s (io-wq workers not pinned)",
			    strerror(-ret));
	}
	return 0;
}

void latctx_close(struct latctx *c)
{
	io_uring_queue_exit(&c->ring);
	close(c->ptfd);
	close(c->tfd);
	close(c->efd);
}

void bench_latency(FILE *samples)
{
	unsigned int n = opt_nsamples, i, k, p;
	int64_t *s[NR_IMPL];
	struct latctx c;
	bool bad[NR_IMPL] = { false };

	if (latctx_open(&c))
		return;
	for (k = 0; k < NR_IMPL; k++) {
		s[k] = xcalloc(n, sizeof(int64_t));
		bad[k] = !impl_here(k);
	}
	for (p = 0; p < 2; p++) {
		uint64_t d = periods[p], last = pt_now_ns();

		say("latency %s: %u samples x %d contenders, interleaved%s",
		    period_name[p], n, pend_ok ? NR_IMPL : NR_IMPL - 1,
		    pend_ok ? "" : " (no PEND on this kernel)");
		/* warm-up: io-wq worker, caches, first-time allocations */
		for (i = 0; i < 20; i++)
			for (k = 0; k < NR_IMPL; k++)
				if (!bad[k] && lat_fn[k](&c, d) == INT64_MIN)
					bad[k] = true;
		for (i = 0; i < n; i++) {
			for (k = 0; k < NR_IMPL; k++) {
				unsigned int j = (i + k) % NR_IMPL;
				int64_t v;

				if (bad[j])
					continue;
				v = lat_fn[j](&c, d);
				if (v == INT64_MIN)
					bad[j] = true;
				s[j][i] = v;
			}
			if (pt_now_ns() - last > 10 * NS_PER_S) {
				say("latency %s: %u/%u rounds", period_name[p], i + 1, n);
				last = pt_now_ns();
			}
		}
		for (k = 0; k < NR_IMPL; k++) {
			struct latres *r = &lat[k][p];
			double q;

			if (bad[k])
				continue;
			qsort(s[k], n, sizeof(int64_t), cmp_i64);
			r->p50 = pct(s[k], n, 50);
			median_interval(s[k], n, &r->p50_lo, &r->p50_hi);
			r->p99 = pct(s[k], n, 99);
			r->max = s[k][n - 1];
			r->ok = true;
			if (samples) {
				for (q = 0; q <= 100.0001; q += 0.5)
					fprintf(samples, "%s %s %.1f %" PRId64 "\n",
						impl_name[k], period_name[p], q, pct(s[k], n, q));
				fprintf(samples, "%s %s 99.9 %" PRId64 "\n", impl_name[k],
					period_name[p], pct(s[k], n, 99.9));
			}
			say("  %-22s %-5s p50 %8.1f us  p99 %8.1f us  max %8.1f us",
			    impl_name[k], period_name[p], r->p50 / 1e3, r->p99 / 1e3, r->max / 1e3);
		}
	}
	for (k = 0; k < NR_IMPL; k++)
		free(s[k]);
	latctx_close(&c);
}
