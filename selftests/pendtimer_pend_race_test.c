// SPDX-License-Identifier: GPL-2.0
/*
 * PEND races (SPEC.md section 3, rules 1 and 2, with a PEND; kernels 6.7+),
 * module already loaded, forced with race_delay_us: a CANCEL (ioctl or
 * io_uring's cancel routine at exec) in the window claims the PEND from its
 * running timer, and close() or removal in the window leaves it to the
 * timer. The fixture: pendtimer_pend_fixture.h; the other PEND tests:
 * pendtimer_pend_test.c.
 */
#include "pendtimer_pend_fixture.h"

#include <limits.h>
#include <liburing.h>	/* io_uring: not in the -m32 build (m32.mk) */

/* ------------------------------------------------------------------ */
/* SPEC.md section 3, rules 1 and 2, with a PEND */

#define WINDOW_US	10000	/* race_delay_us for the rule tests */
#define ATTEMPTS	40
#define RULE2_DUE_US	1000

/*
 * Each PEND comes from a thread pinned to the timer's CPU, on a ring of its
 * own (pt_pender_start()), so that its hrtimer runs there; the test thread
 * acts into the window and checks.
 */
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
		struct pt_waiter p;
		int c, sub;

		ASSERT_EQ(0, pt_stats(self->fd, &b));
		ASSERT_EQ(0, pt_pender_start(&p, self->fd, 0, tag, self->cpu_timer));
		pt_spin_until(p.t_start + off * NSEC_PER_USEC);
		c = pt_cancel(self->fd, tag);
		sub = __atomic_load_n(&p.submitted, __ATOMIC_ACQUIRE);
		ASSERT_EQ(0, pt_join_ms(p.th, JOIN_MS)) {
			TH_LOG("the PEND's CQE did not come");
		}
		ASSERT_EQ(0, p.err);
		ASSERT_EQ(0, pt_settle(self->fd, 5000, &a));
		pt_stats_delta(&d, &a, &b);

		o = pt_rule1_outcome(c, p.ret, &d);
		/*
		 * -ENOENT before io_uring_enter() returned, at an offset inside
		 * the window (the callback cannot claim before it ends): the
		 * PEND was not in the file yet, the CANCEL came too early.
		 */
		if (o == MISS_LATE && c == -ENOENT && !sub && off < WINDOW_US)
			o = MISS_EARLY;
		TH_LOG("attempt %d at +%u us: CANCEL %d, PEND CQE %d, cancelled +%llu fired +%llu timer_late +%llu: %s",
		       attempt, off, c, p.ret,
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
		struct pt_waiter p;
		int fd2 = pt_open();

		ASSERT_LE(0, fd2);
		ASSERT_EQ(0, pt_stats(self->fd, &b));
		ASSERT_EQ(0, pt_pender_start(&p, fd2, RULE2_DUE_US * NSEC_PER_USEC, 1,
					     self->cpu_timer));
		/* close() after the submission, or the PEND would get -EBADF */
		while (!__atomic_load_n(&p.submitted, __ATOMIC_ACQUIRE))
			;
		pt_spin_until(p.t_start + (RULE2_DUE_US + off) * NSEC_PER_USEC);
		ASSERT_EQ(0, close(fd2));
		ASSERT_EQ(0, pt_join_ms(p.th, JOIN_MS)) {
			TH_LOG("the PEND's CQE did not come");
		}
		ASSERT_EQ(0, p.err);
		ASSERT_EQ(0, pt_settle(self->fd, 5000, &a));
		pt_stats_delta(&d, &a, &b);

		o = pt_rule2_outcome(p.ret, &d);
		TH_LOG("attempt %d at due+%u us: PEND CQE %d, fired +%llu flushed +%llu cleanup_deferred +%llu: %s",
		       attempt, off, p.ret,
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
 * The PEND of the execve() test is due this long after its submission:
 * execve() reaches io_uring's cancel milliseconds after it starts (over
 * 10 ms on a KASAN kernel under TCG), so it must be able to start that
 * long before the due time.
 */
#define EXEC_DUE_US	50000

/*
 * The child: on the timer's CPU, a PEND due after EXEC_DUE_US; then on the
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
	e->ret = pt_submit_pend(&ring, fd, EXEC_DUE_US * NSEC_PER_USEC, 1, 1);
	__atomic_store_n(&e->submitted, 1, __ATOMIC_RELEASE);
	if (e->ret)
		_exit(3);
	CPU_ZERO(&set);
	CPU_SET(cpu_main, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		_exit(4);
	pt_spin_until(e->t_start + (uint64_t)(EXEC_DUE_US + off_us) * NSEC_PER_USEC);
	execl("/bin/busybox", "true", (char *)NULL);
	_exit(5);
}

/*
 * The next execve() offset from the due time (us): halfway between the
 * latest offsets that came early and late; before one of each is known,
 * steps that double. Bounded by the submission and the window's end.
 */
static int exec_next_offset(int off, bool was_early, int *early, int *late)
{
	if (was_early)
		*early = off;
	else
		*late = off;
	if (*early != INT_MIN && *late != INT_MAX && *late - *early > 200)
		off = *early + (*late - *early) / 2;
	else if (was_early)
		off += 2 * (off > 0 ? off : 500);
	else
		off -= 2 * (off < 0 ? -off : 500);
	if (off < -(EXEC_DUE_US - 100))
		off = -(EXEC_DUE_US - 100);
	if (off > WINDOW_US - 500)
		off = WINDOW_US - 500;
	return off;
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
	int off = 0, early = INT_MIN, late = INT_MAX;
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
		off = exec_next_offset(off, o == MISS_EARLY, &early, &late);
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
		struct pt_waiter p;

		ASSERT_TRUE(pt_wait_dev_node(PEND_DEV_ID, true));
		fd = pt_open_id(PEND_DEV_ID);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, pt_stats(fd, &b));
		ASSERT_EQ(0, pt_pender_start(&p, fd, RULE2_DUE_US * NSEC_PER_USEC, 1,
					     self->cpu_timer));
		while (!__atomic_load_n(&p.submitted, __ATOMIC_ACQUIRE))
			;
		pt_spin_until(p.t_start + (RULE2_DUE_US + off) * NSEC_PER_USEC);
		ASSERT_EQ(0, pt_drv_write("unbind", PEND_DEV_ID));
		ASSERT_EQ(0, pt_join_ms(p.th, JOIN_MS)) {
			TH_LOG("the PEND's CQE did not come");
		}
		ASSERT_EQ(0, p.err);
		close(fd);
		ASSERT_EQ(0, pt_drv_write("bind", PEND_DEV_ID));
		ASSERT_TRUE(pt_wait_dev_node(PEND_DEV_ID, true));
		fd = pt_open_id(PEND_DEV_ID);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, pt_settle(fd, 5000, &a));
		close(fd);
		pt_stats_delta(&d, &a, &b);

		if (p.ret == 0 && d.fired == 1 && d.removed == 0)
			o = d.race_cleanup_deferred == 1 ? HIT :
			    d.race_cleanup_deferred == 0 ? MISS_LATE : BROKEN;
		else if (p.ret == -ENODEV && d.removed == 1 && d.fired == 0 &&
			 d.race_cleanup_deferred == 0)
			o = MISS_EARLY;
		else
			o = BROKEN;
		TH_LOG("attempt %d at due+%u us: unbind; PEND CQE %d, fired +%llu removed +%llu cleanup_deferred +%llu: %s",
		       attempt, off, p.ret, (unsigned long long)d.fired,
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

