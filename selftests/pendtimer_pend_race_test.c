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

/*
 * Each PEND comes from a thread pinned to the timer's CPU, on a ring of its
 * own (struct pt_racer, pendtimer_util.h); the test thread acts into the
 * window from the other CPU.
 */
#define RACE_SETUP() do {						\
	REQUIRE_PEND();							\
	ASSERT_EQ(0, pt_param_read("race_delay_us", &self->saved_delay)); \
	PT_RULE_SETUP(self->cpu_main);					\
} while (0)

/* Rule 1 with a PEND, one attempt: and nothing else ended the PEND. */
static enum outcome rule1_pend_attempt(struct __test_metadata *_metadata,
				       void *ctx, int attempt, unsigned int off)
{
	struct pt_racer *r = ctx;
	enum outcome o = pt_rule1_attempt(_metadata, r, attempt, off);

	EXPECT_EQ(0ULL, r->d.interrupted + r->d.flushed + r->d.removed);
	return o;
}

/*
 * SPEC.md section 3, rule 1, with a PEND: a CANCEL that arrives while the
 * callback runs but before it claimed still claims: CANCEL 0, CQE
 * -ECANCELED, cancelled +1, race_timer_late +1.
 */
TEST_F_TIMEOUT(pend, rule1_cancel_outranks_running_timer_pend, 180)
{
	struct pt_racer r = { .fd = self->fd, .cpu_timer = self->cpu_timer,
			      .pend = true };

	RACE_SETUP();
	pt_hit_window(_metadata, rule1_pend_attempt, &r, "the cancel");
}

/*
 * SPEC.md section 3, rule 2, with a PEND: the owner's close() while the
 * callback runs leaves the PEND to it: CQE 0, fired +1, flushed 0,
 * race_cleanup_deferred +1 (the ring holds the file, so close() is a
 * flush, not the release).
 */
TEST_F_TIMEOUT(pend, rule2_running_timer_outranks_close_pend, 180)
{
	struct pt_racer r = { .fd = self->fd, .cpu_timer = self->cpu_timer,
			      .pend = true };

	RACE_SETUP();
	pt_hit_window(_metadata, pt_rule2_attempt, &r, "close()");
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
 * Rule 2 with removal, one attempt: unbind PEND_DEV_ID @off us after its
 * PEND's due time, bind it again (its counters survive unbind).
 */
static enum outcome rule2_removal_attempt(struct __test_metadata *_metadata,
					  void *ctx, int attempt, unsigned int off)
{
	struct pt_racer *r = ctx;
	struct pendtimer_stats b;
	enum outcome o;
	int fd;

	ASSERT_TRUE(pt_wait_dev_node(PEND_DEV_ID, true));
	fd = pt_open_id(PEND_DEV_ID);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pt_stats(fd, &b));
	r->tag = 1;
	pt_racer_go(_metadata, r, fd, RULE2_DUE_US * NSEC_PER_USEC);
	pt_racer_wait_submitted(r);
	pt_spin_until(r->w.t_start + (RULE2_DUE_US + off) * NSEC_PER_USEC);
	ASSERT_EQ(0, pt_drv_write("unbind", PEND_DEV_ID));
	pt_racer_join(_metadata, r);
	close(fd);
	ASSERT_EQ(0, pt_drv_write("bind", PEND_DEV_ID));
	ASSERT_TRUE(pt_wait_dev_node(PEND_DEV_ID, true));
	fd = pt_open_id(PEND_DEV_ID);
	ASSERT_LE(0, fd);
	pt_racer_delta(_metadata, r, fd, &b);
	close(fd);

	if (r->w.ret == 0 && r->d.fired == 1 && r->d.removed == 0)
		o = r->d.race_cleanup_deferred == 1 ? HIT :
		    r->d.race_cleanup_deferred == 0 ? MISS_LATE : BROKEN;
	else if (r->w.ret == -ENODEV && r->d.removed == 1 && r->d.fired == 0 &&
		 r->d.race_cleanup_deferred == 0)
		o = MISS_EARLY;
	else
		o = BROKEN;
	TH_LOG("attempt %d at due+%u us: unbind; PEND CQE %d, fired +%llu removed +%llu cleanup_deferred +%llu: %s",
	       attempt, off, r->w.ret, (unsigned long long)r->d.fired,
	       (unsigned long long)r->d.removed,
	       (unsigned long long)r->d.race_cleanup_deferred, pt_outcome_name(o));
	EXPECT_EQ(1ULL, r->d.submitted);
	EXPECT_EQ(0ULL, r->d.cancelled + r->d.interrupted + r->d.flushed);
	return o;
}

/*
 * SPEC.md section 3, rule 2, with removal: unbind while the PEND's callback
 * runs leaves it to the callback: CQE 0, fired +1, removed 0,
 * race_cleanup_deferred +1 (the counters survive unbind).
 */
TEST_F_TIMEOUT(pend, rule2_running_timer_outranks_removal_pend, 300)
{
	/* r.fd unused: each attempt opens PEND_DEV_ID anew */
	struct pt_racer r = { .fd = -1, .cpu_timer = self->cpu_timer, .pend = true };
	int fd;

	RACE_SETUP();
	fd = make_dev_open(_metadata, self);
	ASSERT_LE(0, fd);
	close(fd);
	pt_hit_window(_metadata, rule2_removal_attempt, &r, "the unbind");
}

PT_HARNESS_MAIN(1)

