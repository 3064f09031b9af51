// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer through io_uring (IORING_OP_URING_CMD), module already loaded.
 *
 * SPEC.md section 2, "Requests and their results", URING_CMD:
 *  - cmd_op = PENDTIMER_IOC_WAIT with a struct pendtimer_wait in the SQE
 *    command area: the same request and results, in the CQE; the submitting
 *    task is not blocked (the driver returns -EAGAIN under
 *    IO_URING_F_NONBLOCK and the request runs in an io-wq worker);
 *  - IORING_OP_ASYNC_CANCEL signals the worker: the WAIT completes with
 *    -ECANCELED, counted as interrupted; the cancel's own CQE is io_uring's:
 *    0, -EALREADY, or -ENOENT (kernels without "io_uring/cancel: don't forget
 *    that the work was running");
 *  - cmd_op = PENDTIMER_IOC_CANCEL (tag in the first 8 bytes of the command
 *    area) works like the ioctl and completes inline;
 *  - io-wq runs at most min(SQ entries, 4 x CPUs) URING_CMDs at once unless
 *    raised with IORING_REGISTER_IOWQ_MAX_WORKERS (the 64-WAIT test raises it);
 *  - closing the ring, or the exit of its owner, ends parked WAITs promptly;
 *  - any other cmd_op: -ENOTTY.
 * Every test ends (fixture teardown) with the device quiet and the stats
 * invariant holding.
 */
#include "pendtimer_util.h"

#include <pthread.h>
#include <stddef.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/wait.h>

#include <liburing.h>

#define LONG_NS		(10 * NSEC_PER_SEC)

/* The command area of a 64-byte SQE is the 16 bytes at addr3/__pad2. */
_Static_assert(offsetof(struct io_uring_sqe, cmd) == 48,
	       "SQE command area not at offset 48");
_Static_assert(sizeof(struct pendtimer_wait) == 16,
	       "struct pendtimer_wait must fill the 16-byte command area");
_Static_assert(offsetof(struct io_uring_sqe, cmd_op) ==
	       offsetof(struct io_uring_sqe, off),
	       "cmd_op overlays sqe->off");

FIXTURE(uring) {
	int fd;
	struct io_uring ring;
	bool ring_up;
	struct pendtimer_stats s0;
};

FIXTURE_SETUP(uring)
{
	int ret;

	PT_ASSERT_OPEN(self->fd);
	ret = io_uring_queue_init(64, &self->ring, 0);
	ASSERT_EQ(0, ret) {
		TH_LOG("io_uring_queue_init: %s", strerror(-ret));
	}
	self->ring_up = true;
	PT_ASSERT_QUIET_START(self->fd, self->s0);
}

FIXTURE_TEARDOWN(uring)
{
	if (self->ring_up)
		io_uring_queue_exit(&self->ring);
	if (self->fd >= 0)
		close(self->fd);
	PT_EXPECT_QUIET(5000);
}

#define DELTA(d) do {							\
	struct pendtimer_stats __now;					\
	ASSERT_EQ(0, pt_stats(self->fd, &__now));			\
	pt_stats_delta((d), &__now, &self->s0);				\
} while (0)

/* The stats delta since setup, checked by pt_expect_stats() (its arguments). */
#define EXPECT_DELTA(...) do {						\
	struct pendtimer_stats __d;					\
	DELTA(&__d);							\
	pt_expect_stats(_metadata, &__d, __VA_ARGS__);			\
} while (0)

/*
 * SPEC.md section 2, URING_CMD: URING_CMD WAIT: CQE res 0 after the timeout;
 * io_uring_submit() returns at once.
 */
TEST_F(uring, uring_wait_fires_res0_submit_does_not_block)
{
	const __u64 timeout = 200 * NSEC_PER_MSEC;
	uint64_t t0, t1, t2;
	__u64 ud;
	int res;

	pt_prep_wait(io_uring_get_sqe(&self->ring), self->fd, timeout, 1, 0x11);
	t0 = pt_now_ns();
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	t1 = pt_now_ns();
	ASSERT_GT(50 * NSEC_PER_MSEC, t1 - t0) {
		TH_LOG("io_uring_submit blocked for %llu ms",
		       (unsigned long long)((t1 - t0) / NSEC_PER_MSEC));
	}
	ASSERT_EQ(0, pt_reap(&self->ring, 10000, &ud, &res));
	t2 = pt_now_ns();
	ASSERT_EQ(0x11ULL, ud);
	ASSERT_EQ(0, res);
	ASSERT_LE(timeout, t2 - t0);

	EXPECT_DELTA("submitted=1 fired=1");
}

/*
 * The CQEs of a WAIT (user_data @wait_ud) and of its cancel (@cancel_ud), in
 * either order and nothing else: their res into @wait_res and @cancel_res.
 */
static void reap_wait_and_cancel(struct __test_metadata *_metadata,
				 struct io_uring *ring, __u64 wait_ud,
				 int *wait_res, __u64 cancel_ud, int *cancel_res)
{
	__u64 ud;
	int i, res;

	*wait_res = *cancel_res = 1;
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pt_reap(ring, 5000, &ud, &res)) {
			TH_LOG("CQE %d missing (the cancel did not end the WAIT?)", i);
		}
		ASSERT_TRUE(ud == wait_ud || ud == cancel_ud) {
			TH_LOG("unexpected user_data %llx", (unsigned long long)ud);
		}
		if (ud == wait_ud)
			*wait_res = res;
		else
			*cancel_res = res;
	}
}

/*
 * SPEC.md section 2, URING_CMD: IORING_OP_ASYNC_CANCEL of a parked WAIT: its
 * CQE -ECANCELED, interrupted +1.
 */
TEST_F(uring, async_cancel_gives_ecanceled_interrupted)
{
	int wait_res, cancel_res;

	pt_prep_wait(io_uring_get_sqe(&self->ring), self->fd, LONG_NS, 1, 0x100);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	/* accepted once a worker started it */
	ASSERT_EQ(0, pt_wait_pending(self->fd, 1, 5000, NULL)) {
		TH_LOG("the URING_CMD WAIT never became pending");
	}

	ASSERT_EQ(0, pt_submit_async_cancel(&self->ring, 0x100, 0, 0x200));
	reap_wait_and_cancel(_metadata, &self->ring, 0x100, &wait_res, 0x200,
			     &cancel_res);
	ASSERT_EQ(-ECANCELED, wait_res);
	ASSERT_TRUE(cancel_res == 0 || cancel_res == -EALREADY ||
		    cancel_res == -ENOENT) {
		TH_LOG("ASYNC_CANCEL's own CQE: %d", cancel_res);
	}
	TH_LOG("ASYNC_CANCEL's own CQE res: %d", cancel_res);

	EXPECT_DELTA("submitted=1 interrupted=1 fired+cancelled+flushed+removed=0");
}

/*
 * SPEC.md section 2, URING_CMD: URING_CMD CANCEL: the WAIT's CQE -ECANCELED,
 * the CANCEL's 0, again -ENOENT.
 */
TEST_F(uring, uring_cmd_cancel_cancels_pending_wait)
{
	int res, wait_res, cancel_res;
	__u64 ud;

	pt_prep_wait(io_uring_get_sqe(&self->ring), self->fd, LONG_NS, 77, 1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, pt_wait_pending(self->fd, 1, 5000, NULL));

	pt_prep_cancel(io_uring_get_sqe(&self->ring), self->fd, 77, 2);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	reap_wait_and_cancel(_metadata, &self->ring, 1, &wait_res, 2, &cancel_res);
	ASSERT_EQ(0, cancel_res);
	ASSERT_EQ(-ECANCELED, wait_res);

	pt_prep_cancel(io_uring_get_sqe(&self->ring), self->fd, 77, 3);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, pt_reap(&self->ring, 5000, &ud, &res));
	ASSERT_EQ(3ULL, ud);
	ASSERT_EQ(-ENOENT, res);

	EXPECT_DELTA("submitted=1 cancelled=1 fired+interrupted+flushed+removed=0");
}

/*
 * SPEC.md section 2, URING_CMD: a URING_CMD WAIT is a request of its open
 * file: the CANCEL ioctl reaches it.
 */
TEST_F(uring, ioctl_cancel_cancels_uring_wait)
{
	__u64 ud;
	int res;

	pt_prep_wait(io_uring_get_sqe(&self->ring), self->fd, LONG_NS, 5, 9);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, pt_wait_pending(self->fd, 1, 5000, NULL));
	ASSERT_EQ(0, pt_cancel(self->fd, 5));
	ASSERT_EQ(0, pt_reap(&self->ring, 5000, &ud, &res));
	ASSERT_EQ(9ULL, ud);
	ASSERT_EQ(-ECANCELED, res);

	EXPECT_DELTA("cancelled=1");
}

/*
 * SPEC.md section 2, URING_CMD: 64 concurrent URING_CMD WAITs all complete
 * with 0.  io-wq bounds them at
 * min(SQ entries, 4 x CPUs) parked at once by default; the test raises the
 * bound to 64 so that all of them are parked together, and checks that.
 */
TEST_F_TIMEOUT(uring, uring_64_concurrent_waits_all_fire, 120)
{
	const int n = 64;
	const __u64 timeout = 3 * NSEC_PER_SEC;
	unsigned int vals[2] = { (unsigned int)n, 0 };
	struct pendtimer_stats s;
	__u64 max_pending = 0, ud;
	bool seen[64] = { false };
	uint64_t deadline;
	int i, ret, res;

	ret = io_uring_register_iowq_max_workers(&self->ring, vals);
	ASSERT_EQ(0, ret) {
		TH_LOG("IORING_REGISTER_IOWQ_MAX_WORKERS: %s", strerror(-ret));
	}
	TH_LOG("io-wq bounded workers: default %u (min(SQ entries, 4 x %d CPUs)), raised to %d",
	       vals[0], pt_online_cpus(), n);

	for (i = 0; i < n; i++)
		pt_prep_wait(io_uring_get_sqe(&self->ring), self->fd,
				timeout, (__u64)i, (__u64)i);
	ASSERT_EQ(n, io_uring_submit(&self->ring));

	/* all 64 parked at the same time */
	deadline = pt_now_ns() + 10 * NSEC_PER_SEC;
	while (pt_now_ns() < deadline) {
		ASSERT_EQ(0, pt_stats(self->fd, &s));
		if (s.pending > max_pending)
			max_pending = s.pending;
		if (max_pending == (__u64)n || s.fired > self->s0.fired)
			break;
		pt_sleep_ms(1);
	}
	EXPECT_EQ(n, max_pending) {
		TH_LOG("only %llu of %d WAITs were parked at once",
		       (unsigned long long)max_pending, n);
	}

	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, pt_reap(&self->ring, 20000, &ud, &res)) {
			TH_LOG("only %d of %d CQEs arrived", i, n);
		}
		ASSERT_GT((__u64)n, ud);
		ASSERT_FALSE(seen[ud]);
		seen[ud] = true;
		ASSERT_EQ(0, res) {
			TH_LOG("WAIT %llu: res %d", (unsigned long long)ud, res);
		}
	}
	EXPECT_DELTA("submitted=%d fired=%d", n, n);
}

/*
 * SPEC.md section 2, URING_CMD: any cmd_op other than WAIT and CANCEL: CQE
 * -ENOTTY, nothing submitted.
 */
TEST_F(uring, unknown_cmd_op_enotty)
{
	static const __u32 ops[] = {
		0, 0x1234, _IO(PENDTIMER_IOC_MAGIC, 99),
		PENDTIMER_IOC_ARM, PENDTIMER_IOC_STATS,
		_IOW(PENDTIMER_IOC_MAGIC, 1, __u64),	/* WAIT's nr, wrong size */
	};
	struct pendtimer_wait w = { .timeout_ns = 0, .tag = 1 };
	__u64 ud;
	size_t i;
	int res;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		pt_prep_cmd(io_uring_get_sqe(&self->ring), self->fd, ops[i],
			       &w, sizeof(w), i);
		ASSERT_EQ(1, io_uring_submit(&self->ring));
		ASSERT_EQ(0, pt_reap(&self->ring, 5000, &ud, &res));
		ASSERT_EQ(i, ud);
		EXPECT_EQ(-ENOTTY, res) {
			TH_LOG("cmd_op %#x: res %d", ops[i], res);
		}
	}
	EXPECT_DELTA("submitted=0");
}

/*
 * SPEC.md section 2, URING_CMD: closing the ring ends its parked WAITs
 * promptly, not at their 10 s timers.
 */
TEST_F_TIMEOUT(uring, ring_exit_ends_parked_waits_promptly, 60)
{
	const int n = 8;
	unsigned int vals[2] = { (unsigned int)n, 0 };
	struct pendtimer_stats s;
	uint64_t t0, t1;
	int i, ret;

	io_uring_register_iowq_max_workers(&self->ring, vals);
	for (i = 0; i < n; i++)
		pt_prep_wait(io_uring_get_sqe(&self->ring), self->fd,
				LONG_NS, (__u64)i, (__u64)i);
	ASSERT_EQ(n, io_uring_submit(&self->ring));
	ASSERT_EQ(0, pt_wait_pending(self->fd, n, 10000, NULL)) {
		TH_LOG("not all %d WAITs became pending", n);
	}

	t0 = pt_now_ns();
	io_uring_queue_exit(&self->ring);
	self->ring_up = false;
	ret = pt_wait_pending(self->fd, 0, 3000, &s);
	t1 = pt_now_ns();
	TH_LOG("parked WAITs ended %llu ms after io_uring_queue_exit",
	       (unsigned long long)((t1 - t0) / NSEC_PER_MSEC));
	ASSERT_EQ(0, ret) {
		TH_LOG("%llu WAITs still pending 3 s after the ring closed",
		       (unsigned long long)s.pending);
	}
	/* io_uring signals the workers: "the waiter was signalled" */
	EXPECT_DELTA("submitted=%d fired=0 interrupted=%d", n, n);
}

/*
 * SPEC.md section 2, URING_CMD: the exit of the task that owns the ring ends
 * its parked WAITs promptly.
 */
TEST_F_TIMEOUT(uring, owner_exit_ends_parked_waits_promptly, 60)
{
	const int n = 4;
	struct pendtimer_stats s;
	int status, ret;
	uint64_t t0, t1;
	pid_t pid;
	int pfd[2];
	char c;

	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct io_uring ring;
		int i, fd = pt_open();

		if (fd < 0 || io_uring_queue_init(8, &ring, 0))
			_exit(1);
		for (i = 0; i < n; i++)
			pt_prep_wait(io_uring_get_sqe(&ring), fd, LONG_NS,
					(__u64)i, (__u64)i);
		if (io_uring_submit(&ring) != n)
			_exit(2);
		/* parked: wait for the parent's go, then exit with them pending */
		close(pfd[1]);
		if (read(pfd[0], &c, 1) < 0)
			_exit(3);
		_exit(0);
	}
	close(pfd[0]);
	ret = pt_wait_pending(self->fd, n, 10000, NULL);
	close(pfd[1]);			/* let the child exit */
	ASSERT_EQ(0, ret) {
		TH_LOG("the child's WAITs never became pending");
	}
	t0 = pt_now_ns();
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ret = pt_wait_pending(self->fd, 0, 3000, &s);
	t1 = pt_now_ns();
	TH_LOG("parked WAITs ended %llu ms after the owner exited",
	       (unsigned long long)((t1 - t0) / NSEC_PER_MSEC));
	ASSERT_EQ(0, ret);

	/* ring teardown (interrupted) and the exit's close (flushed) race */
	EXPECT_DELTA("submitted=%d fired=0 interrupted+flushed+cancelled=%d", n, n);
}

struct cancel_later {
	int fd;
	__u64 tag;
	uint64_t delay_ns;
	int res;
};

static void *cancel_later_fn(void *arg)
{
	struct cancel_later *c = arg;

	pt_sleep_ns(c->delay_ns);
	c->res = pt_cancel(c->fd, c->tag);
	return NULL;
}

/*
 * SPEC.md section 2, WAIT: -EINTR only when the calling thread was
 * signalled. Found by the fuzzer: a thread that sleeps in the WAIT ioctl
 * while one of its io_uring requests fails gets io_uring task work
 * (TIF_NOTIFY_SIGNAL), which is not a signal. The WAIT keeps sleeping and
 * fires (0) after its full timeout, nothing is counted interrupted, and the
 * io_uring request gets its CQE (-ECANCELED).
 */
TEST_F_TIMEOUT(uring, ioctl_wait_not_interrupted_by_io_uring_task_work, 60)
{
	struct cancel_later c = { .fd = self->fd, .tag = 0xa1,
				  .delay_ns = 100 * NSEC_PER_MSEC };
	struct io_uring_cqe *cqe;
	uint64_t t0, t1;
	pthread_t th;
	int res;

	pt_prep_wait(io_uring_get_sqe(&self->ring), self->fd, LONG_NS, 0xa1, 0xa1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, pt_wait_pending(self->fd, 1, 5000, NULL));
	/* 100 ms into the WAIT below the io_uring WAIT fails: task work */
	ASSERT_EQ(0, pthread_create(&th, NULL, cancel_later_fn, &c));
	t0 = pt_now_ns();
	res = pt_wait(self->fd, NSEC_PER_SEC, 0xa2);
	t1 = pt_now_ns();
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_EQ(0, c.res);
	ASSERT_EQ(0, res) {
		TH_LOG("WAIT returned %s after %llu ms, no signal was sent",
		       strerror(-res), (unsigned long long)((t1 - t0) / NSEC_PER_MSEC));
	}
	ASSERT_LE(NSEC_PER_SEC, t1 - t0);
	/* the io_uring WAIT's CQE is there, without another io_uring call */
	ASSERT_EQ(0, io_uring_peek_cqe(&self->ring, &cqe)) {
		TH_LOG("no CQE after the WAIT returned: the task work did not run");
	}
	ASSERT_EQ(0xa1ULL, cqe->user_data);
	ASSERT_EQ(-ECANCELED, cqe->res);
	io_uring_cqe_seen(&self->ring, cqe);

	EXPECT_DELTA("submitted=2 fired=1 cancelled=1 interrupted=0");
}

/*
 * Unregister this thread's rseq area, if glibc registered one. glibc
 * 2.35+ registers 32 bytes and publishes the feature size (20) in
 * __rseq_size; the length must match the registration.
 */
static int rseq_off(void)
{
	void *area = (char *)__builtin_thread_pointer() + __rseq_offset;

	if (!__rseq_size)
		return 0;
	if (!syscall(__NR_rseq, area, sizeof(struct rseq), RSEQ_FLAG_UNREGISTER, RSEQ_SIG))
		return 0;
	return syscall(__NR_rseq, area, __rseq_size, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) ? -errno : 0;
}

struct async_cancel_later {
	struct io_uring *ring;
	__u64 target;
	int submitted;
};

static void *async_cancel_later_fn(void *arg)
{
	struct async_cancel_later *c = arg;
	struct io_uring_sqe *sqe;

	pt_sleep_ns(100 * NSEC_PER_MSEC);
	sqe = io_uring_get_sqe(c->ring);
	io_uring_prep_cancel64(sqe, c->target, 0);
	io_uring_sqe_set_data64(sqe, 0xc3);
	c->submitted = io_uring_submit(c->ring);
	return NULL;
}

/*
 * SPEC.md section 2, WAIT: -EINTR only for a signal; the task work io_uring
 * queued meanwhile is not lost but runs as the WAIT ioctl returns. One
 * io-wq worker holds WAIT A; WAIT B queues behind it; while this thread
 * sleeps in the WAIT ioctl, another thread async-cancels B, and io_uring
 * posts B's CQE (-ECANCELED) from task work queued to this thread (the
 * submitter). Right after the ioctl returns, with no io_uring call, the
 * CQE must be in the ring. rseq is off in this thread: its
 * TIF_NOTIFY_RESUME after a sleep would run task work anyway.
 */
TEST_F_TIMEOUT(uring, ioctl_wait_runs_io_uring_task_work_on_return, 60)
{
	struct async_cancel_later c = { .ring = &self->ring, .target = 0xc2 };
	unsigned int maxw[2] = { 1, 1 };
	struct io_uring_cqe *cqe;
	int res, b_res = 1;
	pthread_t th;
	__u64 ud;

	ASSERT_EQ(0, rseq_off());
	ASSERT_EQ(0, io_uring_register_iowq_max_workers(&self->ring, maxw));
	pt_prep_wait(io_uring_get_sqe(&self->ring), self->fd, LONG_NS, 0xa, 0xc1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, pt_wait_pending(self->fd, 1, 5000, NULL));
	pt_prep_wait(io_uring_get_sqe(&self->ring), self->fd, LONG_NS, 0xb, 0xc2);
	ASSERT_EQ(1, io_uring_submit(&self->ring));

	ASSERT_EQ(0, pthread_create(&th, NULL, async_cancel_later_fn, &c));
	res = pt_wait(self->fd, NSEC_PER_SEC, 0xc);
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_EQ(0, res);
	ASSERT_EQ(1, c.submitted);
	while (!io_uring_peek_cqe(&self->ring, &cqe)) {
		if (cqe->user_data == 0xc2)
			b_res = cqe->res;
		io_uring_cqe_seen(&self->ring, cqe);
	}
	ASSERT_EQ(-ECANCELED, b_res) {
		TH_LOG("WAIT B's CQE %s when the WAIT ioctl returned",
		       b_res == 1 ? "missing: the task work did not run" : "wrong");
	}

	ASSERT_EQ(0, pt_cancel(self->fd, 0xa));
	do {
		ASSERT_EQ(0, pt_reap(&self->ring, 5000, &ud, &res));
	} while (ud != 0xc1);
	ASSERT_EQ(-ECANCELED, res);
	/* submitted 2: B never reached the driver */
	EXPECT_DELTA("submitted=2 fired=1 cancelled=1 interrupted=0");
}


/*
 * One io-wq worker, held by a long WAIT; a second WAIT (timeout 0, tag
 * 0xb2, SQE flags @sqe_flags) queues behind it; CANCEL SQEs then reuse
 * every slot of the 4-entry ring with a huge first word; the first WAIT is
 * cancelled and the second runs. Returns the second WAIT's CQE res, or 1
 * on a setup failure (logged).
 */
static int queued_wait_res(struct __test_metadata *_metadata, int fd,
			   __u8 sqe_flags)
{
	unsigned int maxw[2] = { 1, 1 };
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	int ret, i, res, res1 = 1, res2 = 1;
	__u64 ud;

	ret = io_uring_queue_init(4, &ring, 0);
	if (!ret)
		ret = io_uring_register_iowq_max_workers(&ring, maxw);
	if (ret) {
		TH_LOG("io_uring setup: %s", strerror(-ret));
		return 1;
	}
	pt_prep_wait(io_uring_get_sqe(&ring), fd, LONG_NS, 0xb1, 1);
	io_uring_submit(&ring);
	if (pt_wait_pending(fd, 1, 5000, NULL))
		TH_LOG("the first WAIT never became pending");
	sqe = io_uring_get_sqe(&ring);
	pt_prep_wait(sqe, fd, 0, 0xb2, 2);
	sqe->flags |= sqe_flags;
	io_uring_submit(&ring);
	for (i = 0; i < 4; i++) {
		pt_prep_cancel(io_uring_get_sqe(&ring), fd,
				  0xfff0000000000000ULL + (__u64)i, 10 + (__u64)i);
		io_uring_submit(&ring);
	}
	ret = pt_cancel(fd, 0xb1);
	for (i = 0; i < 6 && !pt_reap(&ring, 5000, &ud, &res); i++) {
		if (ud == 1)
			res1 = res;
		else if (ud == 2)
			res2 = res;
		else if (res != -ENOENT)
			TH_LOG("CANCEL of an unknown tag: %d, want -ENOENT", res);
	}
	io_uring_queue_exit(&ring);
	if (ret || res1 != -ECANCELED) {
		TH_LOG("setup: CANCEL of the first WAIT %d, its CQE %d", ret, res1);
		return 1;
	}
	return res2;
}

/*
 * SPEC.md section 2, URING_CMD: a URING_CMD WAIT is "the same request and
 * results", its arguments in the SQE command area, and the SQE slot belongs
 * to the application again once io_uring_submit() returns. Found by the
 * fuzzer on 6.12: a WAIT punted to io-wq read its payload in the worker,
 * from a slot later SQEs had reused (6.12's io_uring_cmd() leaves
 * ioucmd->sqe on the ring slot). The queued WAIT must fire (0), not take a
 * CANCEL's tag for its timeout (-EINVAL).
 */
TEST_F_TIMEOUT(uring, queued_wait_reads_payload_at_submit, 60)
{
	ASSERT_EQ(0, queued_wait_res(_metadata, self->fd, 0));
	EXPECT_DELTA("submitted=2 fired=1 cancelled=1");
}

/*
 * The same with IOSQE_ASYNC: such a WAIT reaches the worker without a
 * non-blocking issue; io_uring copied its SQE when it prepared it.
 */
TEST_F_TIMEOUT(uring, queued_forced_async_wait_reads_its_payload, 60)
{
	ASSERT_EQ(0, queued_wait_res(_metadata, self->fd, IOSQE_ASYNC));
	EXPECT_DELTA("submitted=2 fired=1 cancelled=1");
}

PT_HARNESS_MAIN(0)
