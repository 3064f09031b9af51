// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer core semantics, module already loaded.
 *
 * SPEC.md section 2, "Requests and their results": WAIT returns 0 / -ECANCELED
 * / -EINTR (never restarted); ARM signals its eventfd +1 when it fires and
 * never otherwise; CANCEL returns 0 or -ENOENT, tags are per open file;
 * STATS copies the counters, reserved[] zero, and the invariant
 * submitted == fired + cancelled + interrupted + flushed + removed + pending.
 * Section 2, "Close, flush and release": flush cancels the closing owner's
 * requests (flushed), a forked child's close does not touch the parent's,
 * once close() returns nothing submitted before it is pending.
 * Section 2, "Bad input": every non-device row of the table, exactly.
 * Section 5, "Limits": max_pending per open file.
 *
 * Every test ends (fixture teardown) by checking that the device is quiet:
 * pending == 0 and the invariant holds.
 */
#include "pendtimer_util.h"

#include <poll.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define LONG_NS		(10 * NSEC_PER_SEC)	/* "never fires in this test" */
#define JOIN_MS		5000

FIXTURE(core) {
	int fd;				/* the test's open file */
	int fd2;			/* a second open file, if a test needs one */
	int efd;			/* an eventfd, if a test needs one */
	long long saved_max_pending;	/* restored by teardown if >= 0 */
	struct pendtimer_stats s0;	/* stats at setup */
};

FIXTURE_SETUP(core)
{
	self->fd = self->fd2 = self->efd = -1;
	self->saved_max_pending = -1;

	PT_ASSERT_OPEN(self->fd);
	PT_ASSERT_QUIET_START(self->fd, self->s0);
	ASSERT_TRUE(pt_invariant_ok(&self->s0));
}

FIXTURE_TEARDOWN(core)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->fd2 >= 0)
		close(self->fd2);
	if (self->efd >= 0)
		close(self->efd);
	if (self->saved_max_pending >= 0)
		EXPECT_EQ(0, pt_param_write("max_pending",
					    self->saved_max_pending));
	PT_EXPECT_QUIET(5000);
}

/* Stats delta since setup, read through @fd. */
#define DELTA(fd, d) do {						\
	struct pendtimer_stats __now;					\
	ASSERT_EQ(0, pt_stats((fd), &__now));				\
	pt_stats_delta((d), &__now, &self->s0);				\
} while (0)

/* The stats delta since setup, checked by pt_expect_stats() (its arguments). */
#define EXPECT_DELTA(...) do {						\
	struct pendtimer_stats __d;					\
	DELTA(self->fd, &__d);						\
	pt_expect_stats(_metadata, &__d, __VA_ARGS__);			\
} while (0)

/* ------------------------------------------------------------------ */
/* fire: SPEC.md section 2, "Requests and their results" (WAIT, ARM) */

/* WAIT returns 0, no earlier than timeout_ns after the call. */
TEST_F(core, wait_fires_0_not_before_timeout)
{
	static const __u64 timeouts[] = {
		0, 100 * NSEC_PER_USEC, 2 * NSEC_PER_MSEC, 20 * NSEC_PER_MSEC,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(timeouts); i++) {
		uint64_t t0, t1;
		int ret;

		t0 = pt_now_ns();
		ret = pt_wait(self->fd, timeouts[i], 100 + i);
		t1 = pt_now_ns();
		ASSERT_EQ(0, ret) {
			TH_LOG("timeout %llu ns", (unsigned long long)timeouts[i]);
		}
		ASSERT_LE(timeouts[i], t1 - t0) {
			TH_LOG("WAIT(%llu ns) returned after %llu ns",
			       (unsigned long long)timeouts[i],
			       (unsigned long long)(t1 - t0));
		}
		/* and not absurdly late either (TCG is slow, be generous) */
		ASSERT_GT(timeouts[i] + 5 * NSEC_PER_SEC, t1 - t0);
	}
	EXPECT_DELTA("submitted=%zu fired=%zu cancelled+interrupted+flushed+removed=0",
		     ARRAY_SIZE(timeouts), ARRAY_SIZE(timeouts));
}

/* ARM returns at once; its eventfd is signalled exactly once, not early. */
TEST_F(core, arm_signals_eventfd_exactly_once)
{
	const __u64 timeout = 300 * NSEC_PER_MSEC;
	struct pollfd pfd;
	uint64_t t0, t1, t2;
	int ret;

	self->efd = pt_eventfd();
	ASSERT_LE(0, self->efd);

	t0 = pt_now_ns();
	ASSERT_EQ(0, pt_arm(self->fd, timeout, 1, self->efd));
	t1 = pt_now_ns();
	EXPECT_GT(timeout / 2, t1 - t0) {
		TH_LOG("ARM took %llu ns: it must not wait for the timer",
		       (unsigned long long)(t1 - t0));
	}

	pfd.fd = self->efd;
	pfd.events = POLLIN;
	ret = poll(&pfd, 1, 10000);
	t2 = pt_now_ns();
	ASSERT_EQ(1, ret) {
		TH_LOG("eventfd not signalled within 10 s");
	}
	ASSERT_LE(timeout, t2 - t0) {
		TH_LOG("eventfd signalled %llu ns after ARM(%llu ns)",
		       (unsigned long long)(t2 - t0),
		       (unsigned long long)timeout);
	}
	ASSERT_EQ(1, pt_eventfd_take(self->efd));

	/* well past the due time: nothing more */
	pt_sleep_ms(200);
	ASSERT_EQ(0, pt_eventfd_take(self->efd)) {
		TH_LOG("eventfd signalled more than once");
	}
	EXPECT_DELTA("submitted=1 fired=1 pending=0");
}

/* ------------------------------------------------------------------ */
/* cancel: SPEC.md section 2, CANCEL (0 / -ENOENT, tags per open file) */

/*
 * CANCEL from another thread: WAIT -ECANCELED, CANCEL 0, second CANCEL
 * -ENOENT.
 */
TEST_F(core, cancel_blocked_wait_gives_ecanceled)
{
	struct pt_waiter w;

	ASSERT_EQ(0, pt_waiter_start(&w, self->fd, LONG_NS, 42, -1));
	ASSERT_EQ(0, pt_wait_pending(self->fd, 1, JOIN_MS, NULL)) {
		TH_LOG("the WAIT never became pending");
	}
	ASSERT_EQ(0, pt_cancel(self->fd, 42));
	ASSERT_EQ(0, pt_join_ms(w.th, JOIN_MS)) {
		TH_LOG("WAIT did not return after CANCEL");
	}
	ASSERT_EQ(-ECANCELED, w.ret);
	ASSERT_GT(LONG_NS, w.t_end - w.t_start);
	ASSERT_EQ(-ENOENT, pt_cancel(self->fd, 42));

	EXPECT_DELTA("submitted=1 cancelled=1 fired+interrupted+flushed+removed=0");
}

/* CANCEL of a tag that already fired, or never existed: -ENOENT. */
TEST_F(core, cancel_after_fire_gives_enoent)
{
	struct pollfd pfd;

	ASSERT_EQ(-ENOENT, pt_cancel(self->fd, 12345));	/* never submitted */

	ASSERT_EQ(0, pt_wait(self->fd, 0, 7));
	ASSERT_EQ(-ENOENT, pt_cancel(self->fd, 7));

	self->efd = pt_eventfd();
	ASSERT_LE(0, self->efd);
	ASSERT_EQ(0, pt_arm(self->fd, NSEC_PER_MSEC, 8, self->efd));
	pfd.fd = self->efd;
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	ASSERT_EQ(0, pt_wait_pending(self->fd, 0, JOIN_MS, NULL));
	ASSERT_EQ(-ENOENT, pt_cancel(self->fd, 8));

	EXPECT_DELTA("submitted=2 fired=2 cancelled=0");
}

/* A cancelled ARM never signals its eventfd. */
TEST_F(core, cancelled_arm_never_signals)
{
	self->efd = pt_eventfd();
	ASSERT_LE(0, self->efd);
	ASSERT_EQ(0, pt_arm(self->fd, 100 * NSEC_PER_MSEC, 1, self->efd));
	ASSERT_EQ(0, pt_cancel(self->fd, 1));
	pt_sleep_ms(400);		/* well past its due time */
	ASSERT_EQ(0, pt_eventfd_take(self->efd));

	EXPECT_DELTA("submitted=1 cancelled=1 fired=0");
}

/* Tags are per open file: another file's tag is -ENOENT and left alone. */
TEST_F(core, cancel_other_files_tag_gives_enoent)
{
	struct pollfd pfd;

	self->fd2 = pt_open();
	ASSERT_LE(0, self->fd2);
	self->efd = pt_eventfd();
	ASSERT_LE(0, self->efd);

	ASSERT_EQ(0, pt_arm(self->fd2, 200 * NSEC_PER_MSEC, 5, self->efd));
	ASSERT_EQ(-ENOENT, pt_cancel(self->fd, 5));

	pfd.fd = self->efd;
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 10000)) {
		TH_LOG("the other file's ARM did not fire");
	}
	ASSERT_EQ(1, pt_eventfd_take(self->efd));

	EXPECT_DELTA("submitted=1 fired=1 cancelled=0");
}

/* ------------------------------------------------------------------ */
/* signal: SPEC.md section 2, WAIT -EINTR "the call is not restarted" */

static volatile sig_atomic_t usr1_seen;

static void usr1_handler(int sig)
{
	(void)sig;
	usr1_seen++;
}

/* A handled SA_RESTART signal to a thread in WAIT: -EINTR, not a restart. */
TEST_F(core, signal_sa_restart_wait_gives_eintr)
{
	struct sigaction sa = { .sa_handler = usr1_handler,
				.sa_flags = SA_RESTART };
	struct pt_waiter w;

	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	usr1_seen = 0;

	ASSERT_EQ(0, pt_waiter_start(&w, self->fd, LONG_NS, 9, -1));
	ASSERT_EQ(0, pt_wait_pending(self->fd, 1, JOIN_MS, NULL));
	ASSERT_EQ(0, pthread_kill(w.th, SIGUSR1));
	ASSERT_EQ(0, pt_join_ms(w.th, JOIN_MS)) {
		TH_LOG("WAIT not ended by the signal (restarted?)");
	}
	ASSERT_EQ(1, usr1_seen);
	ASSERT_EQ(-EINTR, w.ret);
	/* the request is gone: its tag is free again */
	ASSERT_EQ(-ENOENT, pt_cancel(self->fd, 9));

	EXPECT_DELTA("submitted=1 interrupted=1 fired+cancelled+flushed+removed=0");
}

/* ------------------------------------------------------------------ */
/* close: SPEC.md section 2, "Close, flush and release" */

/* close() from another thread ends a blocked WAIT with -ECANCELED (flushed). */
TEST_F(core, flush_close_ends_blocked_wait_ecanceled)
{
	struct pt_waiter w;
	int fd2 = pt_open();

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, pt_waiter_start(&w, fd2, LONG_NS, 1, -1));
	ASSERT_EQ(0, pt_wait_pending(self->fd, 1, JOIN_MS, NULL));
	ASSERT_EQ(0, close(fd2));
	ASSERT_EQ(0, pt_join_ms(w.th, JOIN_MS)) {
		TH_LOG("WAIT not ended by close()");
	}
	ASSERT_EQ(-ECANCELED, w.ret);

	EXPECT_DELTA("submitted=1 flushed=1 fired+cancelled+interrupted+removed=0");
}

/* A forked child closing its inherited copy leaves the parent's requests. */
TEST_F(core, flush_forked_child_close_keeps_parent_requests)
{
	const __u64 arm_ns = 1500 * NSEC_PER_MSEC, wait_ns = 1600 * NSEC_PER_MSEC;
	struct pendtimer_stats d;
	struct pt_waiter w;
	struct pollfd pfd;
	int status;
	pid_t pid;

	self->fd2 = pt_open();
	ASSERT_LE(0, self->fd2);
	self->efd = pt_eventfd();
	ASSERT_LE(0, self->efd);

	ASSERT_EQ(0, pt_arm(self->fd2, arm_ns, 1, self->efd));
	ASSERT_EQ(0, pt_waiter_start(&w, self->fd2, wait_ns, 2, -1));
	ASSERT_EQ(0, pt_wait_pending(self->fd, 2, JOIN_MS, NULL));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* close the inherited copies, explicitly, then exit (closes the rest) */
		_exit(close(self->fd2) ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	DELTA(self->fd, &d);
	ASSERT_EQ(0ULL, d.flushed) {
		TH_LOG("the child's close flushed the parent's requests");
	}
	ASSERT_EQ(0ULL, d.cancelled + d.interrupted + d.removed);

	/* both still complete by their timers */
	pfd.fd = self->efd;
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 10000)) {
		TH_LOG("the parent's ARM never fired");
	}
	ASSERT_EQ(1, pt_eventfd_take(self->efd));
	ASSERT_EQ(0, pt_join_ms(w.th, 10000));
	ASSERT_EQ(0, w.ret) {
		TH_LOG("the parent's WAIT returned %d", w.ret);
	}
	ASSERT_LE(wait_ns, w.t_end - w.t_start);

	EXPECT_DELTA("submitted=2 fired=2 flushed=0");
}

/* What arm_then_close() saw. */
struct armed {
	struct pendtimer_stats before;	/* the counters before the ARMs */
	struct pendtimer_stats after;	/* and as soon as close() returned */
	uint64_t t0, t_armed, t_closed;	/* arming began, ended; close() returned */
};

/*
 * @n ARMs on a second open file, tags 0..@n - 1, the i-th due after @due_ns
 * + i * @step_ns, signalling self->efd: each accepted, then all of them
 * pending; then close() of that file.
 */
static void arm_then_close(struct __test_metadata *_metadata,
			   FIXTURE_DATA(core) *self, int n, __u64 due_ns,
			   __u64 step_ns, struct armed *a)
{
	int i, ret = 0, fd2 = pt_open();

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, pt_stats(self->fd, &a->before));
	a->t0 = pt_now_ns();
	for (i = 0; i < n; i++) {
		ret = pt_arm(fd2, due_ns + (__u64)i * step_ns, (__u64)i, self->efd);
		if (ret)
			break;
	}
	a->t_armed = pt_now_ns();
	ASSERT_EQ(0, ret) {
		TH_LOG("ARM #%d failed", i);
	}
	ASSERT_EQ(0, pt_stats(self->fd, &a->after));
	ASSERT_EQ(a->before.pending + n, a->after.pending) {
		TH_LOG("arming took %llu ms (due after %llu ms)",
		       (unsigned long long)((pt_now_ns() - a->t0) / NSEC_PER_MSEC),
		       (unsigned long long)(due_ns / NSEC_PER_MSEC));
	}

	ASSERT_EQ(0, close(fd2));
	a->t_closed = pt_now_ns();
	ASSERT_EQ(0, pt_stats(self->fd, &a->after));
}

/*
 * Once close() returns, nothing submitted before it is pending, and the
 * ARMs it cancelled never signal their eventfd.
 */
TEST_F(core, flush_close_leaves_nothing_pending_no_signal)
{
	const int n = 1000;
	const __u64 due = 3 * NSEC_PER_SEC;
	struct armed a;
	__u64 fired;

	self->efd = pt_eventfd();
	ASSERT_LE(0, self->efd);
	arm_then_close(_metadata, self, n, due, NSEC_PER_USEC, &a);
	/* no polling: the guarantee holds when close() returns */
	ASSERT_EQ(a.before.pending, a.after.pending) {
		TH_LOG("%llu requests still pending after close()",
		       (unsigned long long)(a.after.pending - a.before.pending));
	}
	/*
	 * Each ARM ended once: flushed, or fired if its timer came before
	 * close() (a guest under a sanitizer may take longer than @due to
	 * arm them all).
	 */
	fired = a.after.fired - a.before.fired;
	ASSERT_EQ((__u64)n, a.after.flushed - a.before.flushed + fired);
	ASSERT_LT(fired, (__u64)n);
	if (fired)
		TH_LOG("%llu ARMs fired before close() (arming took %llu ms)",
		       (unsigned long long)fired,
		       (unsigned long long)((a.t_armed - a.t0) / NSEC_PER_MSEC));

	/* past every due time: only the ARMs that fired signalled */
	pt_sleep_until(a.t0 + due + n * NSEC_PER_USEC + 300 * NSEC_PER_MSEC);
	ASSERT_EQ((int64_t)fired, pt_eventfd_take(self->efd)) {
		TH_LOG("a flushed ARM signalled its eventfd");
	}
}

/* ------------------------------------------------------------------ */
/* bad input (SPEC.md section 2 table, every non-device row) */

/* Unknown ioctl numbers: -ENOTTY, nothing submitted. */
TEST_F(core, bad_ioctl_unknown_number_enotty)
{
	__u64 buf[16] = { 0 };

	EXPECT_EQ(-ENOTTY, pt_ioctl(self->fd, _IO(PENDTIMER_IOC_MAGIC, 0), buf));
	EXPECT_EQ(-ENOTTY, pt_ioctl(self->fd, _IO(PENDTIMER_IOC_MAGIC, 5), buf));
	EXPECT_EQ(-ENOTTY, pt_ioctl(self->fd,
				    _IOW(PENDTIMER_IOC_MAGIC, 99, __u64), buf));
	EXPECT_EQ(-ENOTTY, pt_ioctl(self->fd, _IO(0x54, 0x01), buf)); /* TCGETS-like */
	EXPECT_EQ(-ENOTTY, pt_ioctl(self->fd, 0, buf));
	/* right number, wrong direction */
	EXPECT_EQ(-ENOTTY, pt_ioctl(self->fd, _IOR(PENDTIMER_IOC_MAGIC, 1,
						   struct pendtimer_wait), buf));
	EXPECT_EQ(-ENOTTY, pt_ioctl(self->fd, _IOW(PENDTIMER_IOC_MAGIC, 4,
						   struct pendtimer_stats), buf));
	EXPECT_DELTA("submitted=0");
}

/* A known number with the wrong size: -ENOTTY, nothing submitted. */
TEST_F(core, bad_ioctl_wrong_size_enotty)
{
	__u64 buf[32] = { 0 };

	EXPECT_EQ(-ENOTTY, pt_ioctl(self->fd,
				    _IOW(PENDTIMER_IOC_MAGIC, 1, __u64), buf));
	EXPECT_EQ(-ENOTTY, pt_ioctl(self->fd,
				    _IOW(PENDTIMER_IOC_MAGIC, 1, struct pendtimer_arm), buf));
	EXPECT_EQ(-ENOTTY, pt_ioctl(self->fd,
				    _IOW(PENDTIMER_IOC_MAGIC, 2, struct pendtimer_wait), buf));
	EXPECT_EQ(-ENOTTY, pt_ioctl(self->fd,
				    _IOW(PENDTIMER_IOC_MAGIC, 3, __u32), buf));
	EXPECT_EQ(-ENOTTY, pt_ioctl(self->fd,
				    _IOW(PENDTIMER_IOC_MAGIC, 3, struct pendtimer_wait), buf));
	EXPECT_EQ(-ENOTTY, pt_ioctl(self->fd,
				    _IOR(PENDTIMER_IOC_MAGIC, 4, __u64), buf));
	EXPECT_EQ(-ENOTTY, pt_ioctl(self->fd, _IOR(PENDTIMER_IOC_MAGIC, 4,
				    __u64[sizeof(struct pendtimer_stats) / 8 + 1]), buf));
	EXPECT_DELTA("submitted=0");
}

/* A bad user pointer: -EFAULT for WAIT, ARM, CANCEL and STATS. */
TEST_F(core, bad_pointer_efault)
{
	long pagesz = sysconf(_SC_PAGESIZE);
	void *hole;

	hole = mmap(NULL, (size_t)pagesz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_EQ(0, munmap(hole, (size_t)pagesz));

	EXPECT_EQ(-EFAULT, pt_ioctl(self->fd, PENDTIMER_IOC_WAIT, NULL));
	EXPECT_EQ(-EFAULT, pt_ioctl(self->fd, PENDTIMER_IOC_WAIT, hole));
	EXPECT_EQ(-EFAULT, pt_ioctl(self->fd, PENDTIMER_IOC_ARM, NULL));
	EXPECT_EQ(-EFAULT, pt_ioctl(self->fd, PENDTIMER_IOC_ARM, hole));
	EXPECT_EQ(-EFAULT, pt_ioctl(self->fd, PENDTIMER_IOC_CANCEL, NULL));
	EXPECT_EQ(-EFAULT, pt_ioctl(self->fd, PENDTIMER_IOC_CANCEL, hole));
	EXPECT_EQ(-EFAULT, pt_ioctl(self->fd, PENDTIMER_IOC_STATS, NULL));
	EXPECT_EQ(-EFAULT, pt_ioctl(self->fd, PENDTIMER_IOC_STATS, hole));
	/*
	 * An address above the task size is a bad user pointer too: a kernel
	 * address for 64-bit callers, the last page (above the compat task
	 * size) for 32-bit ones.
	 */
#if __SIZEOF_POINTER__ == 8
	EXPECT_EQ(-EFAULT, pt_ioctl(self->fd, PENDTIMER_IOC_WAIT,
				    (void *)0xffffffffff600000UL));
#else
	EXPECT_EQ(-EFAULT, pt_ioctl(self->fd, PENDTIMER_IOC_WAIT,
				    (void *)0xfffff000UL));
#endif
	EXPECT_DELTA("submitted=0");
}

/* timeout_ns > MAX: -EINVAL; exactly MAX is accepted. */
TEST_F(core, timeout_above_max_einval_max_accepted)
{
	self->efd = pt_eventfd();
	ASSERT_LE(0, self->efd);

	EXPECT_EQ(-EINVAL, pt_wait(self->fd, PENDTIMER_MAX_TIMEOUT_NS + 1, 1));
	EXPECT_EQ(-EINVAL, pt_wait(self->fd, UINT64_MAX, 1));
	EXPECT_EQ(-EINVAL, pt_wait(self->fd, 1ULL << 63, 1));
	EXPECT_EQ(-EINVAL, pt_arm(self->fd, PENDTIMER_MAX_TIMEOUT_NS + 1, 1,
				  self->efd));
	EXPECT_EQ(-EINVAL, pt_arm(self->fd, UINT64_MAX, 1, self->efd));

	ASSERT_EQ(0, pt_arm(self->fd, PENDTIMER_MAX_TIMEOUT_NS, 1, self->efd));
	ASSERT_EQ(0, pt_cancel(self->fd, 1));
	EXPECT_EQ(0, pt_eventfd_take(self->efd));

	EXPECT_DELTA("submitted=1 cancelled=1");
}

/* ARM with flags != 0: -EINVAL. */
TEST_F(core, arm_flags_nonzero_einval)
{
	self->efd = pt_eventfd();
	ASSERT_LE(0, self->efd);
	EXPECT_EQ(-EINVAL, pt_arm_flags(self->fd, 0, 1, self->efd, 1));
	EXPECT_EQ(-EINVAL, pt_arm_flags(self->fd, 0, 1, self->efd, 0x80000000u));
	EXPECT_EQ(-EINVAL, pt_arm_flags(self->fd, 0, 1, self->efd, ~0u));
	EXPECT_DELTA("submitted=0");
}

/* ARM with an eventfd that is not open: -EBADF. */
TEST_F(core, arm_eventfd_not_open_ebadf)
{
	int closed = dup(self->fd);

	ASSERT_LE(0, closed);
	ASSERT_EQ(0, close(closed));
	EXPECT_EQ(-EBADF, pt_arm(self->fd, 0, 1, closed));
	EXPECT_EQ(-EBADF, pt_arm(self->fd, 0, 1, -1));
	EXPECT_EQ(-EBADF, pt_arm(self->fd, 0, 1, 0x7ffffff0));
	EXPECT_DELTA("submitted=0");
}

/* ARM with an open descriptor that is not an eventfd: -EINVAL. */
TEST_F(core, arm_eventfd_not_eventfd_einval)
{
	int p[2];

	ASSERT_EQ(0, pipe(p));
	EXPECT_EQ(-EINVAL, pt_arm(self->fd, 0, 1, p[0]));
	EXPECT_EQ(-EINVAL, pt_arm(self->fd, 0, 1, p[1]));
	EXPECT_EQ(-EINVAL, pt_arm(self->fd, 0, 1, self->fd));	/* the device */
	close(p[0]);
	close(p[1]);
	EXPECT_DELTA("submitted=0");
}

/* A tag already pending in this open file: -EEXIST; in another file: fine. */
TEST_F(core, tag_pending_in_same_file_eexist)
{
	self->efd = pt_eventfd();
	ASSERT_LE(0, self->efd);
	self->fd2 = pt_open();
	ASSERT_LE(0, self->fd2);

	ASSERT_EQ(0, pt_arm(self->fd, LONG_NS, 9, self->efd));
	EXPECT_EQ(-EEXIST, pt_arm(self->fd, LONG_NS, 9, self->efd));
	EXPECT_EQ(-EEXIST, pt_wait(self->fd, 0, 9));	/* returns at once */
	ASSERT_EQ(0, pt_arm(self->fd2, LONG_NS, 9, self->efd));

	ASSERT_EQ(0, pt_cancel(self->fd, 9));
	ASSERT_EQ(0, pt_cancel(self->fd2, 9));
	/* completed: the tag is free again */
	ASSERT_EQ(0, pt_wait(self->fd, 0, 9));
	EXPECT_EQ(0, pt_eventfd_take(self->efd));

	EXPECT_DELTA("submitted=3 cancelled=2 fired=1");
}

/*
 * max_pending (per open file, SPEC.md section 5) = 8: the 9th pending
 * -ENOSPC (table row "more than max_pending"), room again after a cancel.
 */
TEST_F(core, max_pending_limit_enospc)
{
	int i;

	ASSERT_EQ(0, pt_param_read("max_pending", &self->saved_max_pending));
	ASSERT_EQ(0, pt_param_write("max_pending", 8));
	self->efd = pt_eventfd();
	ASSERT_LE(0, self->efd);
	self->fd2 = pt_open();
	ASSERT_LE(0, self->fd2);

	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, pt_arm(self->fd, LONG_NS, (__u64)i, self->efd));
	}
	EXPECT_EQ(-ENOSPC, pt_arm(self->fd, LONG_NS, 8, self->efd));
	EXPECT_EQ(-ENOSPC, pt_wait(self->fd, 0, 8));	/* returns at once */
	/* per open file: another file still has room */
	ASSERT_EQ(0, pt_arm(self->fd2, LONG_NS, 0, self->efd));

	ASSERT_EQ(0, pt_cancel(self->fd, 3));
	ASSERT_EQ(0, pt_arm(self->fd, LONG_NS, 8, self->efd));
	EXPECT_EQ(-ENOSPC, pt_arm(self->fd, LONG_NS, 9, self->efd));

	EXPECT_DELTA("submitted=10 cancelled=1 pending=9");
	/* teardown closes the files (flush) and restores max_pending */
}

/*
 * max_pending is 1..1048576 (SPEC.md section 5): writes outside fail with
 * EINVAL.
 */
TEST_F(core, max_pending_param_out_of_range_einval)
{
	long long v = -1;

	ASSERT_EQ(0, pt_param_read("max_pending", &self->saved_max_pending));
	EXPECT_EQ(-EINVAL, pt_param_write("max_pending", 0));
	EXPECT_EQ(-EINVAL, pt_param_write("max_pending", 1048577));
	EXPECT_EQ(-EINVAL, pt_param_write("max_pending", -1));
	ASSERT_EQ(0, pt_param_read("max_pending", &v));
	EXPECT_EQ(self->saved_max_pending, v);
	EXPECT_EQ(0, pt_param_write("max_pending", 1));
	EXPECT_EQ(0, pt_param_write("max_pending", 1048576));
	ASSERT_EQ(0, pt_param_read("max_pending", &v));
	EXPECT_EQ(1048576, v);
}

/*
 * 100k pending ARMs in one file: close() flushes all of them (sections 2 and
 * 5). A tenth of them on the sanitizer lanes (pt_scaled()).
 */
TEST_F_TIMEOUT(core, close_with_100k_pending_arms, 300)
{
	const int n = pt_scaled(100000);
	struct armed a;

	ASSERT_EQ(0, pt_param_read("max_pending", &self->saved_max_pending));
	ASSERT_EQ(0, pt_param_write("max_pending", 1048576));
	self->efd = pt_eventfd();
	ASSERT_LE(0, self->efd);
	arm_then_close(_metadata, self, n, 600 * NSEC_PER_SEC, 1, &a);
	TH_LOG("%d ARMs in %llu ms, close() in %llu ms", n,
	       (unsigned long long)((a.t_armed - a.t0) / NSEC_PER_MSEC),
	       (unsigned long long)((a.t_closed - a.t_armed) / NSEC_PER_MSEC));
	ASSERT_EQ(a.before.pending, a.after.pending);
	ASSERT_EQ(a.before.flushed + n, a.after.flushed);
	ASSERT_EQ(a.before.submitted + n, a.after.submitted);
	EXPECT_EQ(0, pt_eventfd_take(self->efd));
}

/* ------------------------------------------------------------------ */
/* STATS: SPEC.md section 2, struct pendtimer_stats and the invariant */

/* STATS fills the whole struct; reserved[] is zero, the invariant holds. */
TEST_F(core, stats_reserved_zero_invariant)
{
	struct pendtimer_stats s, s2;

	ASSERT_EQ(0, pt_stats(self->fd, &s));	/* pt_stats pre-fills 0xa5 */
	EXPECT_TRUE(pt_reserved_zero(&s));
	EXPECT_TRUE(pt_invariant_ok(&s));
	ASSERT_EQ(0, pt_wait(self->fd, 0, 1));
	ASSERT_EQ(0, pt_stats(self->fd, &s));
	EXPECT_TRUE(pt_reserved_zero(&s));
	EXPECT_TRUE(pt_invariant_ok(&s));
	EXPECT_EQ(self->s0.submitted + 1, s.submitted);
	/* device-wide: another open file sees the same counters */
	self->fd2 = pt_open();
	ASSERT_LE(0, self->fd2);
	ASSERT_EQ(0, pt_stats(self->fd2, &s2));
	EXPECT_EQ(0, memcmp(&s, &s2, sizeof(s)));
}

PT_HARNESS_MAIN(1)
