/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixture and helpers of the PEND tests, shared by pendtimer_pend_test.c
 * (the PEND's outcomes, removal, bulk, bad input) and
 * pendtimer_pend_race_test.c (section 3's rules with a PEND): one open file
 * and a ring, the counters at the start, the parameters and the device a
 * test changes put back. Each binary uses part of the helpers: the unused
 * ones are not reported.
 */
#ifndef PENDTIMER_PEND_FIXTURE_H
#define PENDTIMER_PEND_FIXTURE_H

#include "pendtimer_util.h"
#include "pendtimer_pend.h"

#include <sys/mman.h>
#include <sys/wait.h>

#include <liburing.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

#define LONG_NS		(600 * NSEC_PER_SEC)	/* never fires during a test */
#define JOIN_MS		10000
#define PEND_DEV_ID	60		/* the device this binary creates */

_Static_assert(sizeof(struct pendtimer_wait) == 16,
	       "struct pendtimer_wait must fill the 16-byte command area");

/* ------------------------------------------------------------------ */
/* fixture */

FIXTURE(pend) {
	int fd;
	struct io_uring ring;
	bool ring_up;
	bool supported;
	char release[65];
	struct pendtimer_stats s0;
	long long saved_max_pending;
	long long saved_delay;
	bool made_dev;
	int cpu_timer, cpu_main;	/* -1 when there is only one CPU */
};

FIXTURE_SETUP(pend)
{
	int ret;

	self->saved_max_pending = -1;
	self->saved_delay = -1;
	pt_kernel_version(self->release, sizeof(self->release));
	self->supported = pt_pend_supported();
	PT_ASSERT_OPEN(self->fd);
	ret = pt_ring_init(&self->ring, 256, 1024);
	ASSERT_EQ(0, ret) {
		TH_LOG("io_uring_queue_init: %s", strerror(-ret));
	}
	self->ring_up = true;
	PT_ASSERT_QUIET_START(self->fd, self->s0);
	self->cpu_timer = pt_nth_cpu(0);
	self->cpu_main = pt_nth_cpu(1);
	if (self->cpu_main < 0)
		self->cpu_timer = -1;
}

FIXTURE_TEARDOWN(pend)
{
	if (self->saved_delay >= 0)
		EXPECT_EQ(0, pt_param_write("race_delay_us", self->saved_delay));
	if (self->ring_up)
		io_uring_queue_exit(&self->ring);
	if (self->fd >= 0)
		close(self->fd);
	if (self->saved_max_pending >= 0)
		EXPECT_EQ(0, pt_param_write("max_pending", self->saved_max_pending));
	if (self->made_dev && pt_bus_dev_exists(PEND_DEV_ID))
		EXPECT_EQ(0, pt_del_device(PEND_DEV_ID));
	PT_EXPECT_QUIET(10000);
}

/* Every test but the -EOPNOTSUPP one needs a kernel that parks PENDs. */
#define REQUIRE_PEND() do {						\
	if (!self->supported)						\
		SKIP(return, "kernel %s < 6.7: no io_uring_cmd_mark_cancelable(), " \
		     "every PEND completes with -EOPNOTSUPP "		\
		     "(pend_eopnotsupp_before_6_7 checks that)", self->release); \
} while (0)

/* Counter deltas since the fixture's setup, on /dev/pendtimer0. */
#define DELTA(d) do {							\
	struct pendtimer_stats __now;					\
	ASSERT_EQ(0, pt_stats(self->fd, &__now));			\
	pt_stats_delta((d), &__now, &self->s0);				\
	EXPECT_TRUE(pt_invariant_ok(&__now));				\
} while (0)

/* Exactly these outcomes moved, and nothing is pending. */
#define EXPECT_OUTCOMES(d, sub, fir, can, intr, flu, rem) do {		\
	EXPECT_EQ((__u64)(sub), (d)->submitted);			\
	EXPECT_EQ((__u64)(fir), (d)->fired);				\
	EXPECT_EQ((__u64)(can), (d)->cancelled);			\
	EXPECT_EQ((__u64)(intr), (d)->interrupted);			\
	EXPECT_EQ((__u64)(flu), (d)->flushed);				\
	EXPECT_EQ((__u64)(rem), (d)->removed);				\
	EXPECT_EQ(0ULL, (d)->pending);					\
} while (0)

#define SUBMIT_PEND(ring, fd, timeout, tag, ud) do {			\
	int __r = pt_submit_pend((ring), (fd), (timeout), (tag), (ud));	\
	ASSERT_EQ(0, __r) {						\
		TH_LOG("io_uring_submit: %s", strerror(-__r));		\
	}								\
} while (0)

/* Is the next CQE (@want_ud, @want_res), within @ms? Logs what it got. */
static bool cqe_is(struct __test_metadata *_metadata, struct io_uring *ring,
		   unsigned int ms, __u64 want_ud, int want_res)
{
	__u64 ud;
	int res, r = pt_reap(ring, ms, &ud, &res);

	if (r) {
		TH_LOG("no CQE within %u ms (want %llx res %d): %s", ms,
		       (unsigned long long)want_ud, want_res, strerror(-r));
		return false;
	}
	if (ud != want_ud || res != want_res) {
		TH_LOG("CQE %llx res %d (%s), want %llx res %d",
		       (unsigned long long)ud, res, strerror(-res),
		       (unsigned long long)want_ud, want_res);
		return false;
	}
	return true;
}

/* Does no CQE arrive within @ms? Logs the one that did. */
static bool no_cqe(struct __test_metadata *_metadata, struct io_uring *ring,
		   unsigned int ms)
{
	__u64 ud;
	int res, r = pt_reap(ring, ms, &ud, &res);

	if (r == -ETIME)
		return true;
	if (r)
		TH_LOG("waiting for no CQE: %s", strerror(-r));
	else
		TH_LOG("unexpected CQE %llx res %d", (unsigned long long)ud, res);
	return false;
}

#define EXPECT_CQE(ring, ms, ud, res) \
	EXPECT_TRUE(cqe_is(_metadata, (ring), (ms), (ud), (res)))
#define EXPECT_NO_CQE(ring, ms) \
	EXPECT_TRUE(no_cqe(_metadata, (ring), (ms)))

/*
 * Queue @n PENDs (tags and user_data @first..@first + n - 1) and submit
 * them in as many io_uring_submit() calls as the SQ needs. Returns how many
 * io_uring took, or -errno.
 */
static int submit_pends(struct io_uring *ring, int fd, unsigned int n,
			__u64 timeout_ns, __u64 first)
{
	unsigned int i, done = 0;
	int ret;

	for (i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

		if (!sqe) {
			ret = io_uring_submit(ring);
			if (ret < 0)
				return ret;
			done += (unsigned int)ret;
			sqe = io_uring_get_sqe(ring);
			if (!sqe)
				return -EBUSY;
		}
		pt_prep_pend(sqe, fd, timeout_ns, first + i, first + i);
	}
	ret = io_uring_submit(ring);
	if (ret < 0)
		return ret;
	return (int)(done + (unsigned int)ret);
}

/*
 * Reap @n CQEs with user_data in [@first, @first + n), each exactly once
 * and each with @want; returns how many were right (logs the first wrong).
 */
static unsigned int reap_each_once(struct __test_metadata *_metadata,
				   struct io_uring *ring, unsigned int n,
				   __u64 first, int want)
{
	unsigned char *seen = calloc(n, 1);
	unsigned int i, ok = 0;
	bool logged = false;
	__u64 ud;
	int res;

	if (!seen)
		return 0;
	for (i = 0; i < n; i++) {
		if (pt_reap(ring, JOIN_MS, &ud, &res)) {
			TH_LOG("only %u of %u CQEs arrived", i, n);
			break;
		}
		if (ud - first >= n || seen[ud - first] || res != want) {
			if (!logged)
				TH_LOG("CQE %llu: res %d, want %d once (seen %d)",
				       (unsigned long long)ud, res, want,
				       ud - first < n ? seen[ud - first] : -1);
			logged = true;
			continue;
		}
		seen[ud - first] = 1;
		ok++;
	}
	free(seen);
	return ok;
}

/* Create PEND_DEV_ID (deleting a leftover first) and open it. */
static int make_dev_open(struct __test_metadata *_metadata,
			 FIXTURE_DATA(pend) *self)
{
	int ret, fd;

	if (pt_bus_dev_exists(PEND_DEV_ID)) {
		TH_LOG("pendtimer%d left over: deleting it", PEND_DEV_ID);
		pt_del_device(PEND_DEV_ID);
	}
	ret = pt_new_device(PEND_DEV_ID);
	if (ret) {
		TH_LOG("new_device %d: %s", PEND_DEV_ID, strerror(-ret));
		return ret;
	}
	self->made_dev = true;
	if (!pt_wait_dev_node(PEND_DEV_ID, true)) {
		TH_LOG("/dev/pendtimer%d did not appear", PEND_DEV_ID);
		return -ENOENT;
	}
	fd = pt_open_id(PEND_DEV_ID);
	if (fd < 0)
		TH_LOG("open /dev/pendtimer%d: %s", PEND_DEV_ID, strerror(-fd));
	return fd;
}

#pragma GCC diagnostic pop

#endif /* PENDTIMER_PEND_FIXTURE_H */
