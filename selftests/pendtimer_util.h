/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The harness glue of the pendtimer selftests: lib/pendtimer.h (the helpers,
 * libpendtimer.a) plus what needs the harness (teardown check, main()).
 *
 * Includes the kernel's kselftest_harness.h (extracted from the newest Debian
 * kernel source, 7.x at the time of writing, into build/kselftest/ by the
 * Makefile).  Every lib wrapper returns 0 (or the ioctl's non-negative
 * return value) on success and -errno on failure, so tests can assert the
 * exact result codes of SPEC.md section 2 with
 * ASSERT_EQ(-ECANCELED, pt_wait(...)).
 *
 * ASSERT_* must only be used from the thread that runs the test (the
 * harness longjmp()s out of it) and never in FIXTURE_TEARDOWN (an ASSERT
 * there jumps back into the teardown again): helper threads record their
 * results in memory and the test thread checks them.
 */
#ifndef PENDTIMER_UTIL_H
#define PENDTIMER_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/pendtimer.h>

#include "pendtimer.h"

/*
 * The harness is built with -Wall upstream; its SIGALRM handler leaves a
 * parameter unused, which our -Wextra -Werror would reject.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#define NSEC_PER_USEC	PT_NSEC_PER_USEC
#define NSEC_PER_MSEC	PT_NSEC_PER_MSEC
#define NSEC_PER_SEC	PT_NSEC_PER_SEC

/*
 * The open every fixture setup starts with: /dev/pendtimer0 into @_fd, or
 * the test fails saying why.
 */
#define PT_ASSERT_OPEN(_fd) do {					\
	(_fd) = pt_open();						\
	ASSERT_LE(0, (_fd)) {						\
		TH_LOG("open " PT_DEV0 ": %s (is pendtimer.ko loaded?)",\
		       strerror(-(_fd)));				\
	}								\
} while (0)

/* And its STATS, into @_s: nothing may be pending when a test starts. */
#define PT_ASSERT_QUIET_START(_fd, _s) do {				\
	ASSERT_EQ(0, pt_stats((_fd), &(_s)));				\
	ASSERT_EQ(0ULL, (_s).pending) {					\
		TH_LOG("device not quiet at the start of the test");	\
	}								\
} while (0)

/*
 * The check every fixture teardown runs (EXPECT only: see the top of the
 * file).  Opens its own descriptor so it never depends on the test's.
 */
#define PT_EXPECT_QUIET(_timeout_ms) do {				\
	struct pendtimer_stats __s;					\
	char __buf[320];						\
	int __fd = pt_open();						\
	int __r;							\
									\
	EXPECT_LE(0, __fd) {						\
		TH_LOG("teardown: open " PT_DEV0 ": %s",		\
		       strerror(-__fd));				\
	}								\
	if (__fd >= 0) {						\
		__r = pt_settle(__fd, (_timeout_ms), &__s);		\
		pt_stats_fmt(__buf, sizeof(__buf), &__s);		\
		EXPECT_EQ(0, __r) {					\
			TH_LOG("teardown: device not quiet: %s", __buf);\
		}							\
		EXPECT_EQ(0ULL, __s.pending);				\
		EXPECT_TRUE(pt_invariant_ok(&__s)) {			\
			TH_LOG("teardown: invariant broken: %s", __buf);\
		}							\
		EXPECT_TRUE(pt_reserved_zero(&__s));			\
		close(__fd);						\
	}								\
} while (0)

/* The index of counter @name in pt_stat_fields[], asserted. */
static inline size_t pt_stat_index(struct __test_metadata *_metadata,
				   const char *name)
{
	size_t i;

	for (i = 0; i < pt_stat_fields_nr; i++)
		if (!strcmp(pt_stat_fields[i].name, name))
			break;
	ASSERT_LT(i, pt_stat_fields_nr) {
		TH_LOG("no counter '%s'", name);
	}
	return i;
}

/*
 * Each "counter=value" of @want (printf-style), e.g. "submitted=1
 * fired+cancelled=0" (a '+' sums counters), checked against @d (EXPECT).
 */
static inline __printf(3, 4)
void pt_expect_stats(struct __test_metadata *_metadata,
		     const struct pendtimer_stats *d, const char *want, ...)
{
	char buf[256], *item, *save = NULL;
	va_list ap;

	va_start(ap, want);
	vsnprintf(buf, sizeof(buf), want, ap);
	va_end(ap);
	for (item = strtok_r(buf, " ", &save); item; item = strtok_r(NULL, " ", &save)) {
		char names[128], *eq = strchr(item, '='), *name, *save2 = NULL;
		unsigned long long val;
		__u64 sum = 0;

		ASSERT_NE(NULL, eq) {
			TH_LOG("'%s' is no counter=value", item);
		}
		*eq = '\0';
		snprintf(names, sizeof(names), "%s", item);
		val = strtoull(eq + 1, NULL, 0);
		for (name = strtok_r(item, "+", &save2); name;
		     name = strtok_r(NULL, "+", &save2))
			sum += pt_stat_get(d, pt_stat_index(_metadata, name));
		EXPECT_EQ(val, sum) {
			TH_LOG("%s: %llu, want %llu", names, (unsigned long long)sum, val);
		}
	}
}

/* ------------------------------------------------------------------ */
/*
 * Race windows (SPEC.md section 3): with race_delay_us = WINDOW_US the
 * timer callback holds its claim that long, and the test thread acts at an
 * offset (us after the due time) inside it.  Under TCG on a busy host a
 * vCPU can lose milliseconds, so an attempt may land before the callback
 * started (early) or after it claimed (late): move the other way and try
 * again, ATTEMPTS times at most (pt_hit_window()).
 */
#define PT_OFFSET_START_US	2500
#define WINDOW_US		10000	/* race_delay_us for the rule tests */
#define ATTEMPTS		40
#define PT_RACE_JOIN_MS		10000	/* a racing request's thread ends by then */

/*
 * Rule 2's requests are due after RULE2_DUE_US, not at once: with timeout 0
 * the timer interrupt can arrive while the submitting thread is still inside
 * the submission section (the irq is taken as the submitter drops its lock),
 * and flush first waits for that section to end (the per-open rundown,
 * SPEC.md section 2), i.e. until the 10 ms callback is over: close() then
 * always comes after the claim and the window cannot be hit.
 */
#define RULE2_DUE_US		1000

enum outcome { HIT, MISS_EARLY, MISS_LATE, BROKEN };

static inline const char *pt_outcome_name(enum outcome o)
{
	static const char *const names[] = {
		[HIT] = "hit", [MISS_EARLY] = "early (timer not yet running)",
		[MISS_LATE] = "late (timer already claimed)", [BROKEN] = "BROKEN",
	};

	return names[o];
}

/* Where in the window to act next: later if early, earlier if late. */
static inline unsigned int pt_next_offset(unsigned int off, bool early)
{
	if (early)
		return off + 1500 > 8000 ? 8000 : off + 1500;
	return off / 2 < 250 ? 250 : off / 2;
}

/*
 * Rule 1: a CANCEL (result @cancel) in the window claims the request (WAIT
 * or PEND, result @ret) from its running timer: cancelled and timer_late
 * (HIT), cancelled before the timer ran (early), or fired first (late).
 */
static inline enum outcome pt_rule1_outcome(int cancel, int ret,
					    const struct pendtimer_stats *d)
{
	if (cancel == 0 && ret == -ECANCELED && d->cancelled == 1 && d->fired == 0)
		return d->race_timer_late == 1 ? HIT :
		       d->race_timer_late == 0 ? MISS_EARLY : BROKEN;
	if (cancel == -ENOENT && ret == 0 && d->fired == 1 && d->cancelled == 0 &&
	    d->race_timer_late == 0)
		return MISS_LATE;
	return BROKEN;
}

/*
 * A CANCEL sent before its request was submitted finds nothing (-ENOENT)
 * and looks late; at an offset inside the window it was early, since no
 * callback can claim before the window ends (a slow submission: an ARM
 * ioctl on the debug lane has taken longer than 2.5 ms, a PEND is not in
 * the file before io_uring_enter() reaches the driver). @sub: the counters
 * showed the request submitted just before the CANCEL.
 */
static inline enum outcome pt_rule1_not_yet_submitted(enum outcome o, bool sub,
						      unsigned int off)
{
	return o == MISS_LATE && !sub && off < WINDOW_US ? MISS_EARLY : o;
}

/*
 * Rule 2: a close() in the window leaves the request (WAIT or PEND, result
 * @ret) to its running timer: fired and deferred (HIT), fired without the
 * deferral (late), or flushed before the timer ran (early).
 */
static inline enum outcome pt_rule2_outcome(int ret,
					    const struct pendtimer_stats *d)
{
	if (ret == 0 && d->fired == 1 && d->flushed == 0)
		return d->race_cleanup_deferred == 1 ? HIT :
		       d->race_cleanup_deferred == 0 ? MISS_LATE : BROKEN;
	if (ret == -ECANCELED && d->flushed == 1 && d->fired == 0 &&
	    d->race_cleanup_deferred == 0)
		return MISS_EARLY;
	return BROKEN;
}

/*
 * A rule test's start: with one CPU it skips (the window cannot be entered
 * from user space: the callback busy-waits in hard irq, or in the RT timer
 * thread), else this thread runs on @_cpu_main, the timer on the other, and
 * race_delay_us is WINDOW_US (the fixture's teardown puts it back).
 */
#define PT_RULE_SETUP(_cpu_main) do {					\
	int __cpu_main = (_cpu_main);					\
									\
	if (__cpu_main < 0)						\
		SKIP(return, "needs 2 CPUs: the window cannot be entered on one"); \
	ASSERT_EQ(0, pt_pin_self(__cpu_main));				\
	ASSERT_EQ(0, pt_param_write("race_delay_us", WINDOW_US));	\
} while (0)

/*
 * One attempt at a rule's window, acting @off us into it (attempt @attempt
 * of ATTEMPTS): checks what every attempt must show and returns where it
 * landed. @ctx: the test's.
 */
typedef enum outcome (*pt_attempt_fn)(struct __test_metadata *_metadata,
				      void *ctx, int attempt, unsigned int off);

/*
 * Attempt until one lands in the window (HIT), from PT_OFFSET_START_US on,
 * moving the offset after each miss; a BROKEN attempt, or ATTEMPTS misses,
 * fail the test. @who: what acts in the window, for the log.
 */
static inline void pt_hit_window(struct __test_metadata *_metadata,
				 pt_attempt_fn attempt, void *ctx,
				 const char *who)
{
	unsigned int off = PT_OFFSET_START_US;
	enum outcome o = BROKEN;
	int i;

	for (i = 0; i < ATTEMPTS; i++) {
		o = attempt(_metadata, ctx, i, off);
		ASSERT_NE((int)BROKEN, (int)o);
		if (o == HIT)
			break;
		off = pt_next_offset(off, o == MISS_EARLY);
	}
	ASSERT_EQ((int)HIT, (int)o) {
		TH_LOG("%s never landed inside the %d us window", who, WINDOW_US);
	}
}

/*
 * The request of an attempt and what came of it: a WAIT, or a PEND
 * (pt_pender_start(), its own ring), from a thread pinned to the timer's
 * CPU, so that its hrtimer runs there; the test thread, on the other CPU,
 * busy-waits into the window (no timer of its own, which could queue behind
 * the busy-waiting callback) and acts.
 */
struct pt_racer {
	int fd;			/* the device's file: the counters, rule 1's request */
	int cpu_timer;		/* the request's thread's CPU */
	bool pend;		/* a PEND, else a WAIT */
	__u64 tag;		/* the attempt's request */
	struct pt_waiter w;	/* its thread; w.ret: its result */
	int c;			/* rule 1: the CANCEL's result */
	bool sub;		/* rule 1: counted submitted before the CANCEL */
	struct pendtimer_stats d;	/* the counters' delta over the attempt */
};

/* r->tag's request of @fd, due after @due_ns: its thread about to go. */
static inline void pt_racer_go(struct __test_metadata *_metadata,
			       struct pt_racer *r, int fd, __u64 due_ns)
{
	int ret = -EOPNOTSUPP;	/* a PEND without liburing (-m32) */

	if (!r->pend)
		ret = pt_waiter_start(&r->w, fd, due_ns, r->tag, r->cpu_timer);
#if PT_HAVE_URING
	else
		ret = pt_pender_start(&r->w, fd, due_ns, r->tag, r->cpu_timer);
#endif
	ASSERT_EQ(0, ret);
	pt_waiter_wait_started(&r->w);
}

/* A PEND: until io_uring_submit() returned (a close() before: -EBADF). */
static inline void pt_racer_wait_submitted(struct pt_racer *r)
{
	while (r->pend && !__atomic_load_n(&r->w.submitted, __ATOMIC_ACQUIRE))
		;
}

/* The request's thread back, with the request's result. */
static inline void pt_racer_join(struct __test_metadata *_metadata,
				 struct pt_racer *r)
{
	ASSERT_EQ(0, pt_join_ms(r->w.th, PT_RACE_JOIN_MS)) {
		TH_LOG("%s", r->pend ? "the PEND's CQE did not come" :
		       "WAIT did not return");
	}
	ASSERT_EQ(0, r->w.err);
}

/* r->d: the counters of @fd, once quiet, since @b. */
static inline void pt_racer_delta(struct __test_metadata *_metadata,
				  struct pt_racer *r, int fd,
				  const struct pendtimer_stats *b)
{
	struct pendtimer_stats a;

	ASSERT_EQ(0, pt_settle(fd, 5000, &a));
	pt_stats_delta(&r->d, &a, b);
}

/*
 * Rule 1's race, once: r->tag's request of r->fd due at once, and the test
 * thread's CANCEL of it @off us after its thread started.
 */
static inline void pt_race_cancel(struct __test_metadata *_metadata,
				  struct pt_racer *r, unsigned int off)
{
	struct pendtimer_stats b, s;

	ASSERT_EQ(0, pt_stats(r->fd, &b));
	pt_racer_go(_metadata, r, r->fd, 0);
	pt_spin_until(r->w.t_start + off * NSEC_PER_USEC);
	ASSERT_EQ(0, pt_stats(r->fd, &s));
	r->sub = s.submitted != b.submitted;
	r->c = pt_cancel(r->fd, r->tag);
	pt_racer_join(_metadata, r);
	pt_racer_delta(_metadata, r, r->fd, &b);
}

/*
 * Rule 2's race, once: r->tag's request due after RULE2_DUE_US on a file
 * of its own, which the test thread closes @off us after the due time.
 */
static inline void pt_race_close(struct __test_metadata *_metadata,
				 struct pt_racer *r, unsigned int off)
{
	struct pendtimer_stats b;
	int fd2 = pt_open();

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, pt_stats(r->fd, &b));
	pt_racer_go(_metadata, r, fd2, RULE2_DUE_US * NSEC_PER_USEC);
	pt_racer_wait_submitted(r);
	pt_spin_until(r->w.t_start + (RULE2_DUE_US + off) * NSEC_PER_USEC);
	ASSERT_EQ(0, close(fd2));
	pt_racer_join(_metadata, r);
	pt_racer_delta(_metadata, r, r->fd, &b);
}

/*
 * SPEC.md section 3, rule 1, one attempt (a pt_attempt_fn, @ctx a struct
 * pt_racer): a CANCEL in the window claims the request from its running
 * timer (pt_rule1_outcome()).
 */
static inline enum outcome pt_rule1_attempt(struct __test_metadata *_metadata,
					    void *ctx, int attempt,
					    unsigned int off)
{
	struct pt_racer *r = ctx;
	enum outcome o;

	r->tag = 1000 + (__u64)attempt;
	pt_race_cancel(_metadata, r, off);
	o = pt_rule1_not_yet_submitted(pt_rule1_outcome(r->c, r->w.ret, &r->d),
				       r->sub, off);
	TH_LOG("attempt %d at +%u us: %s before it, CANCEL %d, %s %d, cancelled +%llu fired +%llu timer_late +%llu: %s",
	       attempt, off, r->sub ? "submitted" : "not submitted", r->c,
	       r->pend ? "PEND CQE" : "WAIT", r->w.ret,
	       (unsigned long long)r->d.cancelled,
	       (unsigned long long)r->d.fired,
	       (unsigned long long)r->d.race_timer_late, pt_outcome_name(o));
	EXPECT_EQ(1ULL, r->d.submitted);
	return o;
}

/*
 * SPEC.md section 3, rule 2, one attempt (a pt_attempt_fn, @ctx a struct
 * pt_racer): the owner's close() in the window leaves the request to its
 * running timer (pt_rule2_outcome()).
 */
static inline enum outcome pt_rule2_attempt(struct __test_metadata *_metadata,
					    void *ctx, int attempt,
					    unsigned int off)
{
	struct pt_racer *r = ctx;
	enum outcome o;

	r->tag = 1;
	pt_race_close(_metadata, r, off);
	o = pt_rule2_outcome(r->w.ret, &r->d);
	TH_LOG("attempt %d at due+%u us: %s %d, fired +%llu flushed +%llu cleanup_deferred +%llu: %s",
	       attempt, off, r->pend ? "PEND CQE" : "WAIT", r->w.ret,
	       (unsigned long long)r->d.fired,
	       (unsigned long long)r->d.flushed,
	       (unsigned long long)r->d.race_cleanup_deferred,
	       pt_outcome_name(o));
	EXPECT_EQ(1ULL, r->d.submitted);
	EXPECT_EQ(0ULL, r->d.cancelled + r->d.interrupted + r->d.removed);
	return o;
}

/* ------------------------------------------------------------------ */
/*
 * main(): the harness's test_harness_run() (as TEST_HARNESS_MAIN), plus a
 * last-resort restore of the run-time parameters a test may change, for a
 * test child killed by its timeout before its teardown ran.
 *
 * The harness itself keeps the tests in source order (its constructors
 * detect the direction in which they run) and its ksft_print_header()
 * makes stdout line-buffered (a test child ends with _exit(): what it
 * printf()s must not sit in a buffer); the setvbuf() here only makes that
 * hold from the first line of main() on.
 */
static long long pt_saved_race_delay_us = -1;
static long long pt_saved_max_pending = -1;

static inline void pt_restore_params(void)
{
	if (pt_saved_race_delay_us >= 0)
		pt_param_write("race_delay_us", pt_saved_race_delay_us);
	if (pt_saved_max_pending >= 0)
		pt_param_write("max_pending", pt_saved_max_pending);
}

/*
 * PT_PASSED_SO_FAR(): has the running test passed every EXPECT_* so far?
 * For a loop that stops at the first iteration leaving something wrong
 * (ASSERT_TRUE(PT_PASSED_SO_FAR())). The harness keeps that state in
 * _metadata->exit_code and says so through __test_passed().
 */
#define PT_PASSED_SO_FAR()	__test_passed(_metadata)

#define PT_HARNESS_MAIN(_save_params)					\
	int main(int argc, char **argv)					\
	{								\
		setvbuf(stdout, NULL, _IOLBF, 0);			\
		if ((_save_params) && pt_module_loaded()) {		\
			if (pt_param_read("race_delay_us",		\
					  &pt_saved_race_delay_us))	\
				pt_saved_race_delay_us = -1;		\
			if (pt_param_read("max_pending",		\
					  &pt_saved_max_pending))	\
				pt_saved_max_pending = -1;		\
			atexit(pt_restore_params);			\
		}							\
		return test_harness_run(argc, argv);			\
	}

#endif /* PENDTIMER_UTIL_H */
