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
