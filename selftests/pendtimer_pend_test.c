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
 * -EOPNOTSUPP: the other tests skip there. Section 3 rules 1 and 2 with a
 * PEND: pendtimer_pend_race_test.c; the fixture: pendtimer_pend_fixture.h.
 *
 * Every test checks the per-outcome deltas of the counters and ends
 * (fixture teardown) with the device quiet and the stats invariant holding.
 */
#include "pendtimer_pend_fixture.h"

#include <liburing.h>	/* io_uring: not in the -m32 build (m32.mk) */

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
	struct pendtimer_stats s, d;

	REQUIRE_PEND();
	SUBMIT_PEND(&self->ring, self->fd, LONG_NS, 9, 0x90);
	ASSERT_EQ(0, pt_submit_async_cancel(&self->ring, 0x90, 0, 0x91));
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
	ASSERT_EQ(0, pt_submit_async_cancel(&self->ring, 0, IORING_ASYNC_CANCEL_ANY,
					    0x92));
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
 * child_exits_with_pends(): the child exits at once (well before its PENDs'
 * 600 s), and soon none of them is pending; @d: the counters' delta then.
 */
static void exit_with_pends(struct __test_metadata *_metadata,
			    FIXTURE_DATA(pend) *self, int n, bool ring_only,
			    struct pendtimer_stats *d)
{
	uint64_t dt = child_exits_with_pends(_metadata, self->fd, n, ring_only);
	struct pendtimer_stats s;

	ASSERT_NE(0ULL, dt);
	EXPECT_GT(10 * NSEC_PER_SEC, dt);
	ASSERT_EQ(0, pt_wait_pending(self->fd, 0, 5000, &s)) {
		TH_LOG("%llu PENDs still pending after the exit",
		       (unsigned long long)s.pending);
	}
	DELTA(d);
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
	struct pendtimer_stats d;

	REQUIRE_PEND();
	exit_with_pends(_metadata, self, n, false, &d);
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
	struct pendtimer_stats d;

	REQUIRE_PEND();
	exit_with_pends(_metadata, self, n, true, &d);
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
 * -ECANCELED exactly once. A tenth of them on the sanitizer lanes
 * (pt_scaled(): 100k take over 6 minutes under KASAN and TCG).
 */
TEST_F_TIMEOUT(pend, parks_100k_on_one_ring_without_a_thread, 600)
{
	const unsigned int n = pt_scaled(100000), batch = 8192;
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

PT_HARNESS_MAIN(1)
