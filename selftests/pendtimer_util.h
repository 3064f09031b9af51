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

/* ------------------------------------------------------------------ */
/*
 * Race windows (SPEC.md section 3): with race_delay_us = WINDOW_US the
 * timer callback holds its claim that long, and the test thread acts at an
 * offset (us after the due time) inside it.  Under TCG on a busy host a
 * vCPU can lose milliseconds, so an attempt may land before the callback
 * started (early) or after it claimed (late): move the other way and try
 * again, ATTEMPTS times at most.
 */
#define PT_OFFSET_START_US	2500

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
