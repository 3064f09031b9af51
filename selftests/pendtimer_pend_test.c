// SPDX-License-Identifier: GPL-2.0
/*
 * PEND: the pended io_uring command (SPEC.md section 2, PEND), module
 * already loaded.
 *
 * sqe->cmd_op = PENDTIMER_URING_PEND with a struct pendtimer_wait in the
 * command area of an IORING_OP_URING_CMD: the driver parks the command
 * (-EIOCBQUEUED, the Linux STATUS_PENDING) and no thread waits for it. Its
 * CQE: 0 fired (no earlier than its timeout, posted through task work);
 * -ECANCELED by CANCEL (ioctl or URING_CMD: cancelled), by its owner's
 * close() (flushed), by io_uring's cancel call at ring close or task exit
 * (interrupted); -ENODEV removed; the submission errors -EINVAL, -EEXIST
 * (one tag space with WAIT and ARM), -ENOSPC, -ENODEV. IORING_OP_ASYNC_CANCEL
 * cannot reach a parked command (-ENOENT, the PEND stays pending). Through
 * ioctl() the number is -ENOTTY. Before 6.7 (no
 * io_uring_cmd_mark_cancelable()) every PEND completes at once with
 * -EOPNOTSUPP: the other tests skip there. Section 3 rules 1 and 2 are
 * forced with race_delay_us.
 *
 * Every test checks the per-outcome deltas of the counters and ends
 * (fixture teardown) with the device quiet and the stats invariant holding.
 */
#include "pendtimer_util.h"
#include "pendtimer_pend.h"

#include <sys/mman.h>
#include <sys/wait.h>

#include <liburing.h>

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

/* ------------------------------------------------------------------ */

/*
 * SPEC.md section 2, PEND: it fires with CQE 0, no earlier than its
 * timeout, and no thread waits for it: the process has no new thread and
 * no io-wq worker while 8 PENDs are parked. (The same check sees the io-wq
 * worker a URING_CMD WAIT costs, so it can tell.)
 */
TEST_F_TIMEOUT(pend, fires_res0_after_timeout_without_a_thread, 60)
{
	const __u64 timeout = 300 * NSEC_PER_MSEC;
	const unsigned int n = 8;
	struct pt_threads t0, t1, t2;
	struct pendtimer_stats s, d;
	uint64_t ts, tsub;
	unsigned int i;
	__u64 ud;
	int res;

	REQUIRE_PEND();
	ASSERT_EQ(0, pt_count_threads(&t0));
	ts = pt_now_ns();
	ASSERT_EQ((int)n, submit_pends(&self->ring, self->fd, n, timeout, 1));
	tsub = pt_now_ns();
	/* accepted inline: pending as soon as io_uring_submit() returns */
	ASSERT_EQ(0, pt_stats(self->fd, &s));
	EXPECT_EQ((__u64)n, s.pending);
	ASSERT_EQ(0, pt_count_threads(&t1));
	TH_LOG("threads before %d (io-wq %d), with %u PENDs parked %d (io-wq %d); submit took %llu us",
	       t0.total, t0.iowq, n, t1.total, t1.iowq,
	       (unsigned long long)((tsub - ts) / NSEC_PER_USEC));
	EXPECT_EQ(t0.total, t1.total);
	EXPECT_EQ(0, t1.iowq);

	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, pt_reap(&self->ring, JOIN_MS, &ud, &res)) {
			TH_LOG("only %u of %u CQEs", i, n);
		}
		EXPECT_LE(timeout, pt_now_ns() - ts) {
			TH_LOG("CQE %llu after %llu us, timeout %llu us",
			       (unsigned long long)ud,
			       (unsigned long long)((pt_now_ns() - ts) / NSEC_PER_USEC),
			       (unsigned long long)(timeout / NSEC_PER_USEC));
		}
		EXPECT_GE((__u64)n, ud);
		EXPECT_EQ(0, res);
	}
	ASSERT_EQ(0, pt_count_threads(&t2));
	EXPECT_EQ(t0.total, t2.total);
	EXPECT_EQ(0, t2.iowq);

	/* the control: a URING_CMD WAIT does cost an io-wq worker */
	pt_prep_wait(io_uring_get_sqe(&self->ring), self->fd,
			 200 * NSEC_PER_MSEC, 100, 100);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, pt_wait_pending(self->fd, 1, 5000, NULL));
	ASSERT_EQ(0, pt_count_threads(&t2));
	TH_LOG("with a URING_CMD WAIT parked: %d threads, io-wq %d", t2.total, t2.iowq);
	EXPECT_LE(1, t2.iowq);
	EXPECT_CQE(&self->ring, JOIN_MS, 100, 0);

	DELTA(&d);
	EXPECT_OUTCOMES(&d, n + 1, n + 1, 0, 0, 0, 0);
}

/*
 * SPEC.md section 2, PEND and CANCEL: PENDTIMER_IOC_CANCEL by tag returns 0
 * and the PEND's CQE is -ECANCELED (cancelled); a second CANCEL -ENOENT.
 */
TEST_F(pend, cancel_by_ioctl_ecanceled)
{
	struct pendtimer_stats d;

	REQUIRE_PEND();
	SUBMIT_PEND(&self->ring, self->fd, LONG_NS, 7, 0x70);
	EXPECT_NO_CQE(&self->ring, 100);
	ASSERT_EQ(0, pt_cancel(self->fd, 7));
	EXPECT_CQE(&self->ring, JOIN_MS, 0x70, -ECANCELED);
	EXPECT_EQ(-ENOENT, pt_cancel(self->fd, 7));
	EXPECT_NO_CQE(&self->ring, 100);

	DELTA(&d);
	EXPECT_OUTCOMES(&d, 1, 0, 1, 0, 0, 0);
}

/*
 * SPEC.md section 2, PEND and URING_CMD CANCEL (tag in the first 8 bytes
 * of the command area): its CQE 0, the PEND's -ECANCELED (cancelled);
 * again: -ENOENT.
 */
TEST_F(pend, cancel_by_uring_cmd_ecanceled)
{
	int i, res, pend_res = 1, cancel_res = 1;
	struct pendtimer_stats d;
	__u64 ud;

	REQUIRE_PEND();
	SUBMIT_PEND(&self->ring, self->fd, LONG_NS, 8, 0x80);
	pt_prep_cancel(io_uring_get_sqe(&self->ring), self->fd, 8, 0x81);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pt_reap(&self->ring, JOIN_MS, &ud, &res));
		if (ud == 0x80)
			pend_res = res;
		else if (ud == 0x81)
			cancel_res = res;
		else
			TH_LOG("unexpected CQE %llx", (unsigned long long)ud);
	}
	EXPECT_EQ(0, cancel_res);
	EXPECT_EQ(-ECANCELED, pend_res);

	pt_prep_cancel(io_uring_get_sqe(&self->ring), self->fd, 8, 0x82);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_CQE(&self->ring, JOIN_MS, 0x82, -ENOENT);

	DELTA(&d);
	EXPECT_OUTCOMES(&d, 1, 0, 1, 0, 0, 0);
}

/*
 * SPEC.md section 2, PEND: IORING_OP_ASYNC_CANCEL cannot reach a parked
 * command: its CQE is -ENOENT and the PEND stays pending (no CQE, pending
 * 1, nothing interrupted); CANCEL by tag then ends it (-ECANCELED).
 */
TEST_F(pend, async_cancel_enoent_and_it_stays_pending)
{
	struct io_uring_sqe *sqe;
	struct pendtimer_stats s, d;

	REQUIRE_PEND();
	SUBMIT_PEND(&self->ring, self->fd, LONG_NS, 9, 0x90);
	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_cancel64(sqe, 0x90, 0);
	io_uring_sqe_set_data64(sqe, 0x91);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_CQE(&self->ring, JOIN_MS, 0x91, -ENOENT);
	/* the PEND did not move */
	EXPECT_NO_CQE(&self->ring, 300);
	ASSERT_EQ(0, pt_stats(self->fd, &s));
	EXPECT_EQ(1ULL, s.pending);
	EXPECT_EQ(self->s0.interrupted, s.interrupted);

	/*
	 * The same with IORING_ASYNC_CANCEL_ANY, whose CQE is the number of
	 * requests it cancelled: 0, and the PEND still pending.
	 */
	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
	io_uring_sqe_set_data64(sqe, 0x92);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_CQE(&self->ring, JOIN_MS, 0x92, 0);
	EXPECT_NO_CQE(&self->ring, 100);
	ASSERT_EQ(0, pt_stats(self->fd, &s));
	EXPECT_EQ(1ULL, s.pending);

	ASSERT_EQ(0, pt_cancel(self->fd, 9));
	EXPECT_CQE(&self->ring, JOIN_MS, 0x90, -ECANCELED);

	DELTA(&d);
	EXPECT_OUTCOMES(&d, 1, 0, 1, 0, 0, 0);
}

/*
 * SPEC.md section 2, PEND and "Close, flush and release": the owner's
 * close() of the device descriptor while the ring still holds the file
 * (a request's reference, then a registered file) ends the PEND with
 * -ECANCELED, counted flushed, before close() returns.
 */
TEST_F(pend, owner_close_flushes_ecanceled)
{
	struct io_uring_sqe *sqe;
	struct pendtimer_stats s, d;
	int fd2, fd3;

	REQUIRE_PEND();
	/* the in-flight PEND holds the file */
	fd2 = pt_open();
	ASSERT_LE(0, fd2);
	SUBMIT_PEND(&self->ring, fd2, LONG_NS, 1, 0xa1);
	ASSERT_EQ(0, close(fd2));
	ASSERT_EQ(0, pt_stats(self->fd, &s));
	EXPECT_EQ(0ULL, s.pending) {
		TH_LOG("close() returned with the PEND still pending");
	}
	EXPECT_CQE(&self->ring, JOIN_MS, 0xa1, -ECANCELED);

	/* a registered file */
	fd3 = pt_open();
	ASSERT_LE(0, fd3);
	ASSERT_EQ(0, io_uring_register_files(&self->ring, &fd3, 1));
	sqe = io_uring_get_sqe(&self->ring);
	pt_prep_pend(sqe, 0, LONG_NS, 2, 0xa2);
	sqe->flags |= IOSQE_FIXED_FILE;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, pt_stats(self->fd, &s));
	EXPECT_EQ(1ULL, s.pending);
	ASSERT_EQ(0, close(fd3));
	ASSERT_EQ(0, pt_stats(self->fd, &s));
	EXPECT_EQ(0ULL, s.pending);
	EXPECT_CQE(&self->ring, JOIN_MS, 0xa2, -ECANCELED);
	EXPECT_EQ(0, io_uring_unregister_files(&self->ring));

	DELTA(&d);
	EXPECT_OUTCOMES(&d, 2, 0, 0, 0, 2, 0);
}

/*
 * SPEC.md section 2, "Close, flush and release": a forked child closing its
 * copy of the descriptor does not flush the parent's PEND.
 */
TEST_F(pend, child_close_does_not_flush_parents_pend)
{
	struct pendtimer_stats d;
	int status;
	pid_t pid;

	REQUIRE_PEND();
	SUBMIT_PEND(&self->ring, self->fd, LONG_NS, 3, 0xb3);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(close(self->fd) ? 1 : 0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_NO_CQE(&self->ring, 200);
	ASSERT_EQ(0, pt_cancel(self->fd, 3));
	EXPECT_CQE(&self->ring, JOIN_MS, 0xb3, -ECANCELED);

	DELTA(&d);
	EXPECT_OUTCOMES(&d, 1, 0, 1, 0, 0, 0);
}

/*
 * A child submits @n PENDs of 600 s and exits with them parked; returns
 * the time from its go to its exit (ns), or 0 (logged) on a failure. With
 * @ring_only the child registers the device file with its ring and closes
 * its descriptor before it submits (IOSQE_FIXED_FILE): the device is then
 * reachable only through the ring.
 */
static uint64_t child_exits_with_pends(struct __test_metadata *_metadata,
				       int ctl, int n, bool ring_only)
{
	int status, ready[2], go[2];
	uint64_t t0, t1;
	pid_t pid;
	char c;

	if (pipe(ready) || pipe(go))
		return 0;
	pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		struct io_uring ring;
		int i, fd = pt_open();

		close(ready[0]);
		close(go[1]);
		if (fd < 0 || io_uring_queue_init(128, &ring, 0))
			_exit(1);
		if (ring_only) {
			if (io_uring_register_files(&ring, &fd, 1) || close(fd))
				_exit(2);
			for (i = 0; i < n; i++) {
				struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

				pt_prep_pend(sqe, 0, LONG_NS, (__u64)i + 1, (__u64)i + 1);
				sqe->flags |= IOSQE_FIXED_FILE;
			}
			if (io_uring_submit(&ring) != n)
				_exit(3);
		} else if (submit_pends(&ring, fd, n, LONG_NS, 1) != n) {
			_exit(3);
		}
		if (write(ready[1], "r", 1) != 1)
			_exit(4);
		if (read(go[0], &c, 1) < 0)
			_exit(5);
		_exit(0);	/* with the ring and n PENDs (and the file) */
	}
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], &c, 1) != 1 || pt_wait_pending(ctl, n, 5000, NULL)) {
		TH_LOG("the child did not get its %d PENDs parked", n);
		close(go[1]);
		waitpid(pid, &status, 0);
		return 0;
	}
	close(ready[0]);
	t0 = pt_now_ns();
	close(go[1]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		TH_LOG("the child failed (status %#x)", status);
		return 0;
	}
	t1 = pt_now_ns();
	TH_LOG("the child exited %llu ms after its go, with %d PENDs of 600 s parked%s",
	       (unsigned long long)((t1 - t0) / NSEC_PER_MSEC), n,
	       ring_only ? " (the device only in its ring)" : "");
	return t1 - t0 ? t1 - t0 : 1;
}

/*
 * SPEC.md section 2, PEND: a process that exits with PENDs parked exits at
 * once (not when its 600 s timers fire). It still has the device open, and
 * its exit closes that descriptor (exit_files) before its ring goes: the
 * close is a flush by their owner, so each ends -ECANCELED counted flushed,
 * or interrupted where io_uring's cancel call came first; none fires.
 */
TEST_F_TIMEOUT(pend, task_exit_ends_parked_pends_at_once, 90)
{
	const int n = 64;
	struct pendtimer_stats s, d;
	uint64_t dt;

	REQUIRE_PEND();
	dt = child_exits_with_pends(_metadata, self->fd, n, false);
	ASSERT_NE(0ULL, dt);
	EXPECT_GT(10 * NSEC_PER_SEC, dt);
	ASSERT_EQ(0, pt_wait_pending(self->fd, 0, 5000, &s)) {
		TH_LOG("%llu PENDs still pending after the exit",
		       (unsigned long long)s.pending);
	}
	DELTA(&d);
	TH_LOG("ended by the exit: %llu flushed, %llu interrupted",
	       (unsigned long long)d.flushed, (unsigned long long)d.interrupted);
	EXPECT_EQ((__u64)n, d.submitted);
	EXPECT_EQ((__u64)n, d.flushed + d.interrupted);
	EXPECT_EQ(0ULL, d.fired + d.cancelled + d.removed + d.pending);
}

/*
 * SPEC.md section 2, PEND: a process whose device is reachable only
 * through its ring (a registered file, its descriptor closed before it
 * submitted) exits at once with PENDs parked, and io_uring's cancel call
 * (uring_cmd with IO_URING_F_CANCEL, at the ring's exit) ends each:
 * interrupted, exactly.
 */
TEST_F_TIMEOUT(pend, task_exit_ring_cancel_routine_interrupted, 90)
{
	const int n = 64;
	struct pendtimer_stats s, d;
	uint64_t dt;

	REQUIRE_PEND();
	dt = child_exits_with_pends(_metadata, self->fd, n, true);
	ASSERT_NE(0ULL, dt);
	EXPECT_GT(10 * NSEC_PER_SEC, dt);
	ASSERT_EQ(0, pt_wait_pending(self->fd, 0, 5000, &s)) {
		TH_LOG("%llu PENDs still pending after the exit",
		       (unsigned long long)s.pending);
	}
	DELTA(&d);
	EXPECT_OUTCOMES(&d, n, 0, 0, n, 0, 0);
}

/*
 * SPEC.md section 2, PEND: closing the ring ends its parked PENDs at once
 * through io_uring's cancel call, counted interrupted; the device file
 * stays open and usable.
 */
TEST_F_TIMEOUT(pend, ring_close_ends_parked_pends_interrupted, 60)
{
	const int n = 64;
	struct pendtimer_stats s, d;
	uint64_t t0, t1;
	int ret;

	REQUIRE_PEND();
	ASSERT_EQ(n, submit_pends(&self->ring, self->fd, n, LONG_NS, 1));
	ASSERT_EQ(0, pt_wait_pending(self->fd, n, 5000, NULL));
	t0 = pt_now_ns();
	io_uring_queue_exit(&self->ring);
	self->ring_up = false;
	ret = pt_wait_pending(self->fd, 0, 5000, &s);
	t1 = pt_now_ns();
	TH_LOG("%d PENDs ended %llu ms after the ring closed", n,
	       (unsigned long long)((t1 - t0) / NSEC_PER_MSEC));
	ASSERT_EQ(0, ret);

	/* the same tags are free again on this file */
	ASSERT_EQ(0, pt_ring_init(&self->ring, 16, 0));
	self->ring_up = true;
	SUBMIT_PEND(&self->ring, self->fd, 0, 1, 0xc1);
	EXPECT_CQE(&self->ring, JOIN_MS, 0xc1, 0);

	DELTA(&d);
	EXPECT_OUTCOMES(&d, n + 1, 1, 0, n, 0, 0);
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

static int raise_max_pending(FIXTURE_DATA(pend) *self, long long val)
{
	int ret;

	if (self->saved_max_pending < 0) {
		ret = pt_param_read("max_pending", &self->saved_max_pending);
		if (ret)
			return ret;
	}
	return pt_param_write("max_pending", val);
}

/*
 * SPEC.md sections 2 and 4, PEND and removal: del_device with 10000 PENDs
 * parked on one ring (max_pending raised) ends each with CQE -ENODEV,
 * exactly once, and returns (a parked PEND holds no remove-lock
 * reference); after it the old file gets -ENODEV for a PEND (a submission
 * error) and can still be closed.
 */
TEST_F_TIMEOUT(pend, del_device_ends_10k_parked_enodev, 300)
{
	const unsigned int n = 10000;
	struct pendtimer_stats s;
	struct io_uring ring;
	unsigned int ok;
	uint64_t t0;
	int fd, ret;

	REQUIRE_PEND();
	ASSERT_EQ(0, raise_max_pending(self, 16384));
	fd = make_dev_open(_metadata, self);
	ASSERT_LE(0, fd);
	ret = pt_ring_init(&ring, 4096, 16384);
	ASSERT_EQ(0, ret) {
		TH_LOG("io_uring_queue_init: %s", strerror(-ret));
	}
	ASSERT_EQ((int)n, submit_pends(&ring, fd, n, LONG_NS, 1));
	ASSERT_EQ(0, pt_stats(fd, &s));
	EXPECT_EQ((__u64)n, s.pending);
	EXPECT_EQ((__u64)n, s.submitted);
	EXPECT_TRUE(pt_invariant_ok(&s));

	t0 = pt_now_ns();
	ASSERT_EQ(0, pt_del_device(PEND_DEV_ID));
	TH_LOG("del_device with %u PENDs parked took %llu ms", n,
	       (unsigned long long)((pt_now_ns() - t0) / NSEC_PER_MSEC));
	ok = reap_each_once(_metadata, &ring, n, 1, -ENODEV);
	EXPECT_EQ(n, ok);
	EXPECT_NO_CQE(&ring, 300);

	/* the old file: -ENODEV for a PEND, for STATS; close() works */
	SUBMIT_PEND(&ring, fd, 0, 1, 0xd1);
	EXPECT_CQE(&ring, JOIN_MS, 0xd1, -ENODEV);
	EXPECT_EQ(-ENODEV, pt_stats(fd, &s));
	io_uring_queue_exit(&ring);
	EXPECT_EQ(0, close(fd));
	EXPECT_TRUE(pt_wait_dev_node(PEND_DEV_ID, false));
}

/*
 * SPEC.md section 4, PEND and removal through the driver core's unbind
 * (the counters survive it): 1000 PENDs end with -ENODEV, counted removed;
 * after bind the counters add up and nothing is pending.
 */
TEST_F_TIMEOUT(pend, unbind_ends_parked_removed_counted, 120)
{
	const unsigned int n = 1000;
	struct pendtimer_stats b, a, d;
	int fd, fd2, ret;

	REQUIRE_PEND();
	fd = make_dev_open(_metadata, self);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pt_stats(fd, &b));
	ASSERT_EQ((int)n, submit_pends(&self->ring, fd, n, LONG_NS, 1));
	ret = pt_drv_write("unbind", PEND_DEV_ID);
	ASSERT_EQ(0, ret) {
		TH_LOG("unbind pendtimer%d: %s", PEND_DEV_ID, strerror(-ret));
	}
	EXPECT_EQ(n, reap_each_once(_metadata, &self->ring, n, 1, -ENODEV));
	EXPECT_NO_CQE(&self->ring, 200);
	EXPECT_EQ(0, close(fd));
	ret = pt_drv_write("bind", PEND_DEV_ID);
	ASSERT_EQ(0, ret) {
		TH_LOG("bind pendtimer%d: %s", PEND_DEV_ID, strerror(-ret));
	}
	ASSERT_TRUE(pt_wait_dev_node(PEND_DEV_ID, true));
	fd2 = pt_open_id(PEND_DEV_ID);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, pt_stats(fd2, &a));
	close(fd2);
	pt_stats_delta(&d, &a, &b);
	EXPECT_OUTCOMES(&d, n, 0, 0, 0, 0, n);
	EXPECT_TRUE(pt_invariant_ok(&a));
}

/*
 * SPEC.md sections 2 and 5, PEND at scale: 100000 PENDs parked at once on
 * one ring (max_pending raised to 131072) with no new thread and no CQE;
 * then each cancelled by a URING_CMD CANCEL (CQE 0), its own CQE
 * -ECANCELED exactly once.
 */
TEST_F_TIMEOUT(pend, parks_100k_on_one_ring_without_a_thread, 600)
{
	const unsigned int n = 100000, batch = 8192;
	struct pt_threads t0, t1;
	struct pendtimer_stats s, d;
	unsigned char *seen;
	struct io_uring ring;
	unsigned int i, j, k, bad = 0, good = 0;
	uint64_t ts;
	__u64 ud = 0;
	int ret, res = 0;

	REQUIRE_PEND();
	ASSERT_EQ(0, raise_max_pending(self, 131072));
	ret = pt_ring_init(&ring, 4096, 32768);
	ASSERT_EQ(0, ret) {
		TH_LOG("io_uring_queue_init: %s", strerror(-ret));
	}
	ASSERT_EQ(0, pt_count_threads(&t0));
	ts = pt_now_ns();
	ASSERT_EQ((int)n, submit_pends(&ring, self->fd, n, LONG_NS, 1));
	ASSERT_EQ(0, pt_stats(self->fd, &s));
	ASSERT_EQ(0, pt_count_threads(&t1));
	TH_LOG("%u PENDs submitted in %llu ms; pending %llu; threads %d -> %d, io-wq %d",
	       n, (unsigned long long)((pt_now_ns() - ts) / NSEC_PER_MSEC),
	       (unsigned long long)s.pending, t0.total, t1.total, t1.iowq);
	EXPECT_EQ((__u64)n, s.pending);
	EXPECT_EQ(t0.total, t1.total);
	EXPECT_EQ(0, t1.iowq);
	EXPECT_EQ(-EAGAIN, pt_peek(&ring, &ud, &res)) {
		TH_LOG("a CQE while all were parked: %llx res %d",
		       (unsigned long long)ud, res);
	}

	seen = calloc(n + 1, 1);
	ASSERT_NE(NULL, seen);
	for (i = 1; i <= n; i += batch) {
		unsigned int m = n + 1 - i < batch ? n + 1 - i : batch;

		for (j = 0; j < m; j++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			if (!sqe) {
				ASSERT_LE(0, io_uring_submit(&ring));
				sqe = io_uring_get_sqe(&ring);
				ASSERT_NE(NULL, sqe);
			}
			/* user_data of a CANCEL: the tag with the top bit set */
			pt_prep_cancel(sqe, self->fd, i + j, (1ULL << 63) | (i + j));
		}
		ASSERT_LE(0, io_uring_submit(&ring));
		for (k = 0; k < 2 * m; k++) {
			ASSERT_EQ(0, pt_reap(&ring, JOIN_MS, &ud, &res)) {
				TH_LOG("batch at %u: only %u of %u CQEs", i, k, 2 * m);
			}
			if (ud >> 63) {
				if (res == 0)
					good++;
				else if (!bad++)
					TH_LOG("CANCEL %llu: %d",
					       (unsigned long long)(ud & ~(1ULL << 63)), res);
			} else if (ud < 1 || ud > n || seen[ud] || res != -ECANCELED) {
				if (!bad++)
					TH_LOG("PEND %llu: res %d (seen %d)",
					       (unsigned long long)ud, res,
					       ud >= 1 && ud <= n ? seen[ud] : -1);
			} else {
				seen[ud] = 1;
				good++;
			}
		}
	}
	free(seen);
	io_uring_queue_exit(&ring);
	EXPECT_EQ(0U, bad);
	EXPECT_EQ(2 * n, good);

	DELTA(&d);
	EXPECT_OUTCOMES(&d, n, 0, n, 0, 0, 0);
}

/*
 * SPEC.md section 2, "Bad input", with PEND: timeout above the maximum
 * -EINVAL; a tag pending in the same open file -EEXIST, one tag space with
 * WAIT and ARM both ways (another open file may reuse it); more than
 * max_pending -ENOSPC; the number through ioctl() -ENOTTY. None of them is
 * counted; every accepted one is cancelled at the end.
 */
TEST_F_TIMEOUT(pend, bad_input_exact_errors, 60)
{
	struct pendtimer_wait w = { .timeout_ns = 0, .tag = 1 };
	struct pendtimer_stats d;
	struct pt_waiter wt;
	int efd, fd2, i;

	REQUIRE_PEND();
	efd = pt_eventfd();
	ASSERT_LE(0, efd);
	fd2 = pt_open();
	ASSERT_LE(0, fd2);

	/* -EINVAL: one past the maximum; the maximum itself is fine */
	SUBMIT_PEND(&self->ring, self->fd, PENDTIMER_MAX_TIMEOUT_NS + 1, 1, 0x1);
	EXPECT_CQE(&self->ring, JOIN_MS, 0x1, -EINVAL);
	SUBMIT_PEND(&self->ring, self->fd, PENDTIMER_MAX_TIMEOUT_NS, 1, 0x2);
	SUBMIT_PEND(&self->ring, self->fd, ~0ULL, 2, 0x3);
	EXPECT_CQE(&self->ring, JOIN_MS, 0x3, -EINVAL);

	/* -EEXIST: PEND after PEND, ARM and WAIT after PEND */
	SUBMIT_PEND(&self->ring, self->fd, LONG_NS, 1, 0x4);
	EXPECT_CQE(&self->ring, JOIN_MS, 0x4, -EEXIST);
	EXPECT_EQ(-EEXIST, pt_arm(self->fd, LONG_NS, 1, efd));
	EXPECT_EQ(-EEXIST, pt_wait(self->fd, LONG_NS, 1));
	/* PEND after ARM */
	ASSERT_EQ(0, pt_arm(self->fd, LONG_NS, 10, efd));
	SUBMIT_PEND(&self->ring, self->fd, LONG_NS, 10, 0x5);
	EXPECT_CQE(&self->ring, JOIN_MS, 0x5, -EEXIST);
	/* PEND after a blocked WAIT */
	ASSERT_EQ(0, pt_waiter_start(&wt, self->fd, LONG_NS, 11, -1));
	ASSERT_EQ(0, pt_wait_pending(self->fd, 3, 5000, NULL));
	SUBMIT_PEND(&self->ring, self->fd, LONG_NS, 11, 0x6);
	EXPECT_CQE(&self->ring, JOIN_MS, 0x6, -EEXIST);
	/* tags are per open file */
	SUBMIT_PEND(&self->ring, fd2, LONG_NS, 1, 0x7);
	EXPECT_NO_CQE(&self->ring, 100);
	ASSERT_EQ(0, pt_cancel(fd2, 1));
	EXPECT_CQE(&self->ring, JOIN_MS, 0x7, -ECANCELED);
	ASSERT_EQ(0, pt_cancel(self->fd, 11));
	ASSERT_EQ(0, pt_join_ms(wt.th, JOIN_MS));
	EXPECT_EQ(-ECANCELED, wt.ret);
	ASSERT_EQ(0, pt_cancel(self->fd, 10));

	/* -ENOSPC: max_pending 4, four pending (tag 1 is one) */
	ASSERT_EQ(0, raise_max_pending(self, 4));
	for (i = 0; i < 3; i++)
		SUBMIT_PEND(&self->ring, self->fd, LONG_NS, 20 + i, 0x20 + i);
	SUBMIT_PEND(&self->ring, self->fd, LONG_NS, 30, 0x30);
	EXPECT_CQE(&self->ring, JOIN_MS, 0x30, -ENOSPC);
	EXPECT_EQ(-ENOSPC, pt_arm(self->fd, LONG_NS, 31, efd));
	ASSERT_EQ(0, pt_param_write("max_pending", self->saved_max_pending));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, pt_cancel(self->fd, 20 + i));
		EXPECT_CQE(&self->ring, JOIN_MS, 0x20 + i, -ECANCELED);
	}
	ASSERT_EQ(0, pt_cancel(self->fd, 1));
	EXPECT_CQE(&self->ring, JOIN_MS, 0x2, -ECANCELED);

	/* -ENOTTY: PENDTIMER_URING_PEND is no ioctl */
	EXPECT_EQ(-ENOTTY, pt_ioctl(self->fd, PENDTIMER_URING_PEND, &w));
	EXPECT_NO_CQE(&self->ring, 100);

	close(fd2);
	close(efd);
	/* accepted: PEND 1 (max timeout), ARM 10, WAIT 11, fd2's PEND, 3 PENDs */
	DELTA(&d);
	EXPECT_OUTCOMES(&d, 7, 0, 7, 0, 0, 0);
}

/*
 * SPEC.md section 2, PEND, before 6.7: with no io_uring_cmd_mark_cancelable()
 * a parked command would hold up ring exit until its timer fired, so every
 * PEND completes at once with CQE -EOPNOTSUPP and is not counted; the
 * ioctl() number is -ENOTTY there too.
 */
TEST_F(pend, eopnotsupp_before_6_7)
{
	struct pendtimer_wait w = { .timeout_ns = 0, .tag = 1 };
	struct pendtimer_stats d;

	if (self->supported)
		SKIP(return, "kernel %s >= 6.7 parks PENDs (the other tests check them)",
		     self->release);
	SUBMIT_PEND(&self->ring, self->fd, LONG_NS, 1, 0xe1);
	EXPECT_CQE(&self->ring, JOIN_MS, 0xe1, -EOPNOTSUPP);
	SUBMIT_PEND(&self->ring, self->fd, 0, 2, 0xe2);
	EXPECT_CQE(&self->ring, JOIN_MS, 0xe2, -EOPNOTSUPP);
	EXPECT_EQ(-ENOTTY, pt_ioctl(self->fd, PENDTIMER_URING_PEND, &w));
	/* the other requests still work: the tag is free */
	EXPECT_EQ(0, pt_wait(self->fd, 0, 1));
	DELTA(&d);
	EXPECT_OUTCOMES(&d, 1, 1, 0, 0, 0, 0);
}

/* ------------------------------------------------------------------ */
/* SPEC.md section 3, rules 1 and 2, with a PEND */

#define WINDOW_US	10000	/* race_delay_us for the rule tests */
#define ATTEMPTS	40
#define RULE2_DUE_US	1000

/*
 * A thread pinned to the timer's CPU submits one PEND on its own ring (so
 * its hrtimer runs there) and waits for the CQE: the test thread checks.
 */
struct pender {
	pthread_t th;
	int fd, cpu;
	__u64 timeout_ns, tag;
	uint64_t t_start;
	volatile int started;		/* t_start set, about to submit */
	volatile int submitted;		/* io_uring_submit() returned */
	int ret;		/* setup error, or 0 */
	int res;		/* the PEND's CQE res; 1: none */
};

static void *pender_fn(void *arg)
{
	struct pender *p = arg;
	struct io_uring ring;
	__u64 ud;

	pt_pin_self(p->cpu);
	p->ret = io_uring_queue_init(4, &ring, 0);
	if (p->ret) {
		__atomic_store_n(&p->started, 1, __ATOMIC_RELEASE);
		return NULL;
	}
	p->t_start = pt_now_ns();
	__atomic_store_n(&p->started, 1, __ATOMIC_RELEASE);
	p->ret = pt_submit_pend(&ring, p->fd, p->timeout_ns, p->tag, p->tag);
	__atomic_store_n(&p->submitted, 1, __ATOMIC_RELEASE);
	if (!p->ret)
		p->ret = pt_reap(&ring, JOIN_MS, &ud, &p->res);
	io_uring_queue_exit(&ring);
	return NULL;
}

static int pender_start(struct pender *p, int fd, int cpu, __u64 timeout_ns,
			__u64 tag)
{
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->cpu = cpu;
	p->timeout_ns = timeout_ns;
	p->tag = tag;
	p->res = 1;
	if (pthread_create(&p->th, NULL, pender_fn, p))
		return -EAGAIN;
	while (!__atomic_load_n(&p->started, __ATOMIC_ACQUIRE))
		sched_yield();
	return p->ret;
}

#define RACE_SETUP() do {						\
	REQUIRE_PEND();							\
	if (self->cpu_main < 0)						\
		SKIP(return, "needs 2 CPUs: the window cannot be entered on one"); \
	ASSERT_EQ(0, pt_param_read("race_delay_us", &self->saved_delay)); \
	ASSERT_EQ(0, pt_pin_self(self->cpu_main));			\
	ASSERT_EQ(0, pt_param_write("race_delay_us", WINDOW_US));	\
} while (0)

/*
 * SPEC.md section 3, rule 1, with a PEND: a CANCEL that arrives while the
 * callback runs but before it claimed still claims: CANCEL 0, CQE
 * -ECANCELED, cancelled +1, race_timer_late +1.
 */
TEST_F_TIMEOUT(pend, rule1_cancel_outranks_running_timer_pend, 180)
{
	unsigned int off = PT_OFFSET_START_US;
	enum outcome o = BROKEN;
	int attempt;

	RACE_SETUP();
	for (attempt = 0; attempt < ATTEMPTS; attempt++) {
		struct pendtimer_stats b, a, d;
		__u64 tag = 1000 + (__u64)attempt;
		struct pender p;
		int c;

		ASSERT_EQ(0, pt_stats(self->fd, &b));
		ASSERT_EQ(0, pender_start(&p, self->fd, self->cpu_timer, 0, tag));
		pt_spin_until(p.t_start + off * NSEC_PER_USEC);
		c = pt_cancel(self->fd, tag);
		ASSERT_EQ(0, pt_join_ms(p.th, JOIN_MS)) {
			TH_LOG("the PEND's CQE did not come");
		}
		ASSERT_EQ(0, p.ret);
		ASSERT_EQ(0, pt_settle(self->fd, 5000, &a));
		pt_stats_delta(&d, &a, &b);

		if (c == 0 && p.res == -ECANCELED && d.cancelled == 1 &&
		    d.fired == 0)
			o = d.race_timer_late == 1 ? HIT :
			    d.race_timer_late == 0 ? MISS_EARLY : BROKEN;
		else if (c == -ENOENT && p.res == 0 && d.fired == 1 &&
			 d.cancelled == 0 && d.race_timer_late == 0)
			o = MISS_LATE;
		else
			o = BROKEN;
		TH_LOG("attempt %d at +%u us: CANCEL %d, PEND CQE %d, cancelled +%llu fired +%llu timer_late +%llu: %s",
		       attempt, off, c, p.res,
		       (unsigned long long)d.cancelled,
		       (unsigned long long)d.fired,
		       (unsigned long long)d.race_timer_late, pt_outcome_name(o));
		ASSERT_NE((int)BROKEN, (int)o);
		EXPECT_EQ(1ULL, d.submitted);
		EXPECT_EQ(0ULL, d.interrupted + d.flushed + d.removed);
		if (o == HIT)
			break;
		off = pt_next_offset(off, o == MISS_EARLY);
	}
	ASSERT_EQ((int)HIT, (int)o) {
		TH_LOG("the cancel never landed inside the %d us window", WINDOW_US);
	}
}

/*
 * SPEC.md section 3, rule 2, with a PEND: the owner's close() while the
 * callback runs leaves the PEND to it: CQE 0, fired +1, flushed 0,
 * race_cleanup_deferred +1 (the ring holds the file, so close() is a
 * flush, not the release).
 */
TEST_F_TIMEOUT(pend, rule2_running_timer_outranks_close_pend, 180)
{
	unsigned int off = PT_OFFSET_START_US;
	enum outcome o = BROKEN;
	int attempt;

	RACE_SETUP();
	for (attempt = 0; attempt < ATTEMPTS; attempt++) {
		struct pendtimer_stats b, a, d;
		struct pender p;
		int fd2 = pt_open();

		ASSERT_LE(0, fd2);
		ASSERT_EQ(0, pt_stats(self->fd, &b));
		ASSERT_EQ(0, pender_start(&p, fd2, self->cpu_timer,
					  RULE2_DUE_US * NSEC_PER_USEC, 1));
		/* close() after the submission, or the PEND would get -EBADF */
		while (!__atomic_load_n(&p.submitted, __ATOMIC_ACQUIRE))
			;
		pt_spin_until(p.t_start + (RULE2_DUE_US + off) * NSEC_PER_USEC);
		ASSERT_EQ(0, close(fd2));
		ASSERT_EQ(0, pt_join_ms(p.th, JOIN_MS)) {
			TH_LOG("the PEND's CQE did not come");
		}
		ASSERT_EQ(0, p.ret);
		ASSERT_EQ(0, pt_settle(self->fd, 5000, &a));
		pt_stats_delta(&d, &a, &b);

		o = pt_rule2_outcome(p.res, &d);
		TH_LOG("attempt %d at due+%u us: PEND CQE %d, fired +%llu flushed +%llu cleanup_deferred +%llu: %s",
		       attempt, off, p.res,
		       (unsigned long long)d.fired,
		       (unsigned long long)d.flushed,
		       (unsigned long long)d.race_cleanup_deferred,
		       pt_outcome_name(o));
		ASSERT_NE((int)BROKEN, (int)o);
		EXPECT_EQ(1ULL, d.submitted);
		EXPECT_EQ(0ULL, d.cancelled + d.interrupted + d.removed);
		if (o == HIT)
			break;
		off = pt_next_offset(off, o == MISS_EARLY);
	}
	ASSERT_EQ((int)HIT, (int)o) {
		TH_LOG("close() never landed inside the %d us window", WINDOW_US);
	}
}

/* Shared with the child of the rule 1 test with io_uring's task cancel. */
struct execpend {
	uint64_t t_start;
	int submitted;
	int ret;
};

/*
 * The child: on the timer's CPU, a PEND due after RULE2_DUE_US; then on the
 * other CPU, into the window, execve(): io_uring cancels the task's
 * requests there (io_uring_task_cancel(), the same cancel call as at exit,
 * but run synchronously in the task, so it can be placed in the window).
 */
static void execpend_child(struct execpend *e, int cpu_timer, int cpu_main,
			   int off_us)
{
	struct io_uring ring;
	cpu_set_t set;
	int fd;

	CPU_ZERO(&set);
	CPU_SET(cpu_timer, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		_exit(1);
	fd = open(PT_DEV0, O_RDWR);
	if (fd < 0 || io_uring_queue_init(4, &ring, 0))
		_exit(2);
	e->t_start = pt_now_ns();
	e->ret = pt_submit_pend(&ring, fd, RULE2_DUE_US * NSEC_PER_USEC, 1, 1);
	__atomic_store_n(&e->submitted, 1, __ATOMIC_RELEASE);
	if (e->ret)
		_exit(3);
	CPU_ZERO(&set);
	CPU_SET(cpu_main, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		_exit(4);
	pt_spin_until(e->t_start + (uint64_t)(RULE2_DUE_US + off_us) * NSEC_PER_USEC);
	execl("/bin/busybox", "true", (char *)NULL);
	_exit(5);
}

/*
 * SPEC.md section 3, rule 1, with io_uring's cancel call (the PEND's
 * cancel routine, uring_cmd with IO_URING_F_CANCEL): arriving while the
 * callback runs but before it claimed, it still claims: interrupted +1,
 * race_timer_late +1, nothing fired.
 */
TEST_F_TIMEOUT(pend, rule1_io_uring_cancel_outranks_running_timer_pend, 180)
{
	/*
	 * execve() reaches io_uring's cancel a while after it starts (under
	 * TCG milliseconds): the offset from the due time may go negative.
	 */
	int off = 0;
	enum outcome o = BROKEN;
	struct execpend *e;
	int attempt;

	RACE_SETUP();
	if (!pt_path_exists("/bin/busybox"))
		SKIP(return, "no /bin/busybox to execve()");
	e = mmap(NULL, sizeof(*e), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, e);
	for (attempt = 0; attempt < ATTEMPTS; attempt++) {
		struct pendtimer_stats b, a, d;
		int status;
		pid_t pid;

		memset(e, 0, sizeof(*e));
		ASSERT_EQ(0, pt_stats(self->fd, &b));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			execpend_child(e, self->cpu_timer, self->cpu_main, off);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			TH_LOG("the child failed: status %#x, PEND submission %d",
			       status, e->ret);
		}
		ASSERT_EQ(0, pt_settle(self->fd, 5000, &a));
		pt_stats_delta(&d, &a, &b);

		if (d.interrupted == 1 && d.fired == 0)
			o = d.race_timer_late == 1 ? HIT :
			    d.race_timer_late == 0 ? MISS_EARLY : BROKEN;
		else if (d.fired == 1 && d.interrupted == 0 && d.race_timer_late == 0)
			o = MISS_LATE;
		else
			o = BROKEN;
		TH_LOG("attempt %d: execve() at due%+d us; interrupted +%llu fired +%llu flushed +%llu timer_late +%llu: %s",
		       attempt, off, (unsigned long long)d.interrupted,
		       (unsigned long long)d.fired, (unsigned long long)d.flushed,
		       (unsigned long long)d.race_timer_late, pt_outcome_name(o));
		ASSERT_NE((int)BROKEN, (int)o);
		EXPECT_EQ(1ULL, d.submitted);
		EXPECT_EQ(0ULL, d.cancelled + d.flushed + d.removed);
		if (o == HIT)
			break;
		off += o == MISS_EARLY ? 700 : -400;
		if (off < -(RULE2_DUE_US - 100))
			off = -(RULE2_DUE_US - 100);
		if (off > 8000)
			off = 8000;
	}
	munmap(e, sizeof(*e));
	ASSERT_EQ((int)HIT, (int)o) {
		TH_LOG("io_uring's cancel never landed inside the %d us window", WINDOW_US);
	}
}

/*
 * SPEC.md section 3, rule 2, with removal: unbind while the PEND's callback
 * runs leaves it to the callback: CQE 0, fired +1, removed 0,
 * race_cleanup_deferred +1 (the counters survive unbind).
 */
TEST_F_TIMEOUT(pend, rule2_running_timer_outranks_removal_pend, 300)
{
	unsigned int off = PT_OFFSET_START_US;
	enum outcome o = BROKEN;
	int attempt, fd;

	RACE_SETUP();
	fd = make_dev_open(_metadata, self);
	ASSERT_LE(0, fd);
	close(fd);
	for (attempt = 0; attempt < ATTEMPTS; attempt++) {
		struct pendtimer_stats b, a, d;
		struct pender p;

		ASSERT_TRUE(pt_wait_dev_node(PEND_DEV_ID, true));
		fd = pt_open_id(PEND_DEV_ID);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, pt_stats(fd, &b));
		ASSERT_EQ(0, pender_start(&p, fd, self->cpu_timer,
					  RULE2_DUE_US * NSEC_PER_USEC, 1));
		while (!__atomic_load_n(&p.submitted, __ATOMIC_ACQUIRE))
			;
		pt_spin_until(p.t_start + (RULE2_DUE_US + off) * NSEC_PER_USEC);
		ASSERT_EQ(0, pt_drv_write("unbind", PEND_DEV_ID));
		ASSERT_EQ(0, pt_join_ms(p.th, JOIN_MS)) {
			TH_LOG("the PEND's CQE did not come");
		}
		ASSERT_EQ(0, p.ret);
		close(fd);
		ASSERT_EQ(0, pt_drv_write("bind", PEND_DEV_ID));
		ASSERT_TRUE(pt_wait_dev_node(PEND_DEV_ID, true));
		fd = pt_open_id(PEND_DEV_ID);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, pt_settle(fd, 5000, &a));
		close(fd);
		pt_stats_delta(&d, &a, &b);

		if (p.res == 0 && d.fired == 1 && d.removed == 0)
			o = d.race_cleanup_deferred == 1 ? HIT :
			    d.race_cleanup_deferred == 0 ? MISS_LATE : BROKEN;
		else if (p.res == -ENODEV && d.removed == 1 && d.fired == 0 &&
			 d.race_cleanup_deferred == 0)
			o = MISS_EARLY;
		else
			o = BROKEN;
		TH_LOG("attempt %d at due+%u us: unbind; PEND CQE %d, fired +%llu removed +%llu cleanup_deferred +%llu: %s",
		       attempt, off, p.res, (unsigned long long)d.fired,
		       (unsigned long long)d.removed,
		       (unsigned long long)d.race_cleanup_deferred, pt_outcome_name(o));
		ASSERT_NE((int)BROKEN, (int)o);
		EXPECT_EQ(1ULL, d.submitted);
		EXPECT_EQ(0ULL, d.cancelled + d.interrupted + d.flushed);
		if (o == HIT)
			break;
		off = pt_next_offset(off, o == MISS_EARLY);
	}
	ASSERT_EQ((int)HIT, (int)o) {
		TH_LOG("the unbind never landed inside the %d us window", WINDOW_US);
	}
}

PT_HARNESS_MAIN(1)
