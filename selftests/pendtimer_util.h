/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers for the pendtimer selftests.
 *
 * Includes the kernel's kselftest_harness.h (extracted from the newest Debian
 * kernel source, 7.x at the time of writing, into build/kselftest/ by the
 * Makefile).  Every wrapper returns 0 (or the
 * ioctl's non-negative return value) on success and -errno on failure, so
 * tests can assert the exact result codes of SPEC.md section 2 with
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

/*
 * The harness is built with -Wall upstream; its SIGALRM handler leaves a
 * parameter unused, which our -Wextra -Werror would reject.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#define PT_DEV_FMT	"/dev/pendtimer%d"
#define PT_DEV0		"/dev/pendtimer0"
#define PT_MODNAME	"pendtimer"
#define PT_SYSMOD	"/sys/module/pendtimer"
#define PT_PARAMS	PT_SYSMOD "/parameters/"
#define PT_SYSBUS	"/sys/bus/pendtimer"
#define PT_DEBUGFS	"/sys/kernel/debug/pendtimer"
#define PT_SLAB		"pendtimer_req"

#define NSEC_PER_USEC	1000ULL
#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_SEC	1000000000ULL

/* ------------------------------------------------------------------ */
/* time */

static inline uint64_t pt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static inline void pt_sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / NSEC_PER_SEC),
		.tv_nsec = (long)(ns % NSEC_PER_SEC),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

static inline void pt_sleep_ms(unsigned int ms)
{
	pt_sleep_ns((uint64_t)ms * NSEC_PER_MSEC);
}

static inline void pt_sleep_until(uint64_t deadline)
{
	uint64_t now = pt_now_ns();

	if (now < deadline)
		pt_sleep_ns(deadline - now);
}

/* Busy-wait until CLOCK_MONOTONIC reaches @deadline (no timer involved). */
static inline void pt_spin_until(uint64_t deadline)
{
	while (pt_now_ns() < deadline)
		;
}

/* ------------------------------------------------------------------ */
/* device and ioctls */

static inline int pt_open_id(int id)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), PT_DEV_FMT, id);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static inline int pt_open(void)
{
	return pt_open_id(0);
}

static inline int pt_ioctl(int fd, unsigned long req, void *arg)
{
	int ret = ioctl(fd, req, arg);

	return ret < 0 ? -errno : ret;
}

static inline int pt_wait(int fd, uint64_t timeout_ns, uint64_t tag)
{
	struct pendtimer_wait w = { .timeout_ns = timeout_ns, .tag = tag };

	return pt_ioctl(fd, PENDTIMER_IOC_WAIT, &w);
}

static inline int pt_arm_flags(int fd, uint64_t timeout_ns, uint64_t tag,
			       int efd, uint32_t flags)
{
	struct pendtimer_arm a = {
		.timeout_ns = timeout_ns,
		.tag = tag,
		.eventfd = efd,
		.flags = flags,
	};

	return pt_ioctl(fd, PENDTIMER_IOC_ARM, &a);
}

static inline int pt_arm(int fd, uint64_t timeout_ns, uint64_t tag, int efd)
{
	return pt_arm_flags(fd, timeout_ns, tag, efd, 0);
}

static inline int pt_cancel(int fd, uint64_t tag)
{
	__u64 t = tag;

	return pt_ioctl(fd, PENDTIMER_IOC_CANCEL, &t);
}

static inline int pt_stats(int fd, struct pendtimer_stats *s)
{
	memset(s, 0xa5, sizeof(*s));	/* make "not written" visible */
	return pt_ioctl(fd, PENDTIMER_IOC_STATS, s);
}

/* submitted == fired + cancelled + interrupted + flushed + removed + pending */
static inline bool pt_invariant_ok(const struct pendtimer_stats *s)
{
	return s->submitted == s->fired + s->cancelled + s->interrupted +
			       s->flushed + s->removed + s->pending;
}

static inline bool pt_reserved_zero(const struct pendtimer_stats *s)
{
	size_t i;

	for (i = 0; i < sizeof(s->reserved) / sizeof(s->reserved[0]); i++)
		if (s->reserved[i])
			return false;
	return true;
}

/* d = a - b, field by field (counters only grow; pending may shrink). */
static inline void pt_stats_delta(struct pendtimer_stats *d,
				  const struct pendtimer_stats *a,
				  const struct pendtimer_stats *b)
{
	const __u64 *pa = (const __u64 *)a, *pb = (const __u64 *)b;
	__u64 *pd = (__u64 *)d;
	size_t i;

	for (i = 0; i < sizeof(*d) / sizeof(__u64); i++)
		pd[i] = pa[i] - pb[i];
}

static inline void pt_stats_fmt(char *buf, size_t len,
				const struct pendtimer_stats *s)
{
	snprintf(buf, len,
		 "submitted=%llu fired=%llu cancelled=%llu interrupted=%llu "
		 "flushed=%llu removed=%llu pending=%llu timer_late=%llu "
		 "cleanup_deferred=%llu",
		 (unsigned long long)s->submitted,
		 (unsigned long long)s->fired,
		 (unsigned long long)s->cancelled,
		 (unsigned long long)s->interrupted,
		 (unsigned long long)s->flushed,
		 (unsigned long long)s->removed,
		 (unsigned long long)s->pending,
		 (unsigned long long)s->race_timer_late,
		 (unsigned long long)s->race_cleanup_deferred);
}

/*
 * Poll STATS until @pred holds for the device-wide pending count, or
 * @timeout_ms passes.  Returns 0 or -ETIMEDOUT (or the STATS error); @out
 * holds the last stats read.
 */
static inline int pt_wait_pending(int fd, __u64 want, unsigned int timeout_ms,
				  struct pendtimer_stats *out)
{
	uint64_t deadline = pt_now_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;
	struct pendtimer_stats s;
	int ret;

	for (;;) {
		ret = pt_stats(fd, &s);
		if (ret)
			break;
		if (s.pending == want)
			break;
		if (pt_now_ns() > deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		pt_sleep_ns(200 * NSEC_PER_USEC);
	}
	if (out)
		*out = s;
	return ret;
}

/*
 * Wait for the device to be quiet: pending == 0, the invariant holds and
 * two consecutive reads agree.  Returns 0, -ETIMEDOUT or a STATS error.
 */
static inline int pt_settle(int fd, unsigned int timeout_ms,
			    struct pendtimer_stats *out)
{
	uint64_t deadline = pt_now_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;
	struct pendtimer_stats a, b;
	int ret;

	for (;;) {
		ret = pt_stats(fd, &a);
		if (ret)
			break;
		if (a.pending == 0 && pt_invariant_ok(&a)) {
			pt_sleep_ns(100 * NSEC_PER_USEC);
			ret = pt_stats(fd, &b);
			if (ret)
				break;
			if (!memcmp(&a, &b, sizeof(a)))
				break;
		}
		if (pt_now_ns() > deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		pt_sleep_ms(1);
	}
	if (out)
		*out = a;
	return ret;
}

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
/* eventfd */

static inline int pt_eventfd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Nonblocking read: the counter value (> 0), 0 if it is 0, or -errno. */
static inline int64_t pt_eventfd_take(int efd)
{
	uint64_t v;
	ssize_t n = read(efd, &v, sizeof(v));

	if (n == sizeof(v))
		return (int64_t)v;
	if (n < 0 && errno == EAGAIN)
		return 0;
	return n < 0 ? -errno : -EIO;
}

/* ------------------------------------------------------------------ */
/* files, sysfs and module parameters */

static inline bool pt_path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static inline bool pt_module_loaded(void)
{
	return pt_path_exists(PT_SYSMOD);
}

/* Read a module parameter as a number. */
static inline int pt_param_read(const char *name, long long *val)
{
	char path[256], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), PT_PARAMS "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	buf[n] = '\0';
	errno = 0;
	*val = strtoll(buf, NULL, 0);
	return errno ? -errno : 0;
}

/* Write a module parameter; returns 0 or the write()'s -errno. */
static inline int pt_param_write(const char *name, long long val)
{
	char path[256], buf[64];
	int fd, len, ret = 0;

	snprintf(path, sizeof(path), PT_PARAMS "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%lld\n", val);
	if (write(fd, buf, (size_t)len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

/* Does /proc/slabinfo list a cache named @name? (false if unreadable) */
static inline bool pt_slab_listed(const char *name)
{
	size_t nlen = strlen(name);
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/slabinfo", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, nlen) &&
		    (line[nlen] == ' ' || line[nlen] == '\t')) {
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

/* ------------------------------------------------------------------ */
/* threads */

/*
 * pt_scaled() - N divided by $PT_SCALE (at least 1): the bulk tests' size.
 * vm/check.sh boots the sanitizer lanes (KASAN, KCSAN) with pt.scale=10 and
 * run-tests.sh exports it: the same code paths, a tenth of the requests.
 */
static inline int pt_scaled(int n)
{
	const char *e = getenv("PT_SCALE");
	long d = e ? strtol(e, NULL, 10) : 1;

	if (d < 1)
		d = 1;
	return n / d > 0 ? (int)(n / d) : 1;
}

static inline int pt_online_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	return CPU_COUNT(&set);
}

/* The @n-th CPU (0-based) of this thread's affinity mask, or -1. */
static inline int pt_nth_cpu(int n)
{
	cpu_set_t set;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set) && n-- == 0)
			return cpu;
	return -1;
}

static inline int pt_pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* Join with a deadline; returns 0 or -ETIMEDOUT (the thread still runs). */
static inline int pt_join_ms(pthread_t th, unsigned int timeout_ms)
{
	struct timespec ts;
	uint64_t ns;

	clock_gettime(CLOCK_REALTIME, &ts);
	ns = (uint64_t)ts.tv_nsec + (uint64_t)timeout_ms * NSEC_PER_MSEC;
	ts.tv_sec += (time_t)(ns / NSEC_PER_SEC);
	ts.tv_nsec = (long)(ns % NSEC_PER_SEC);
	return -pthread_timedjoin_np(th, NULL, &ts);
}

/* A WAIT issued from a helper thread: the test thread checks the result. */
struct pt_waiter {
	pthread_t th;
	int fd;
	__u64 timeout_ns;
	__u64 tag;
	int cpu;			/* pin to this CPU if >= 0 */
	volatile int started;		/* set just before the ioctl */
	uint64_t t_start, t_end;	/* CLOCK_MONOTONIC around the ioctl */
	volatile int done;
	int ret;
};

static inline void *pt_waiter_fn(void *arg)
{
	struct pt_waiter *w = arg;

	if (w->cpu >= 0)
		pt_pin_self(w->cpu);
	w->t_start = pt_now_ns();
	__atomic_store_n(&w->started, 1, __ATOMIC_RELEASE);
	w->ret = pt_wait(w->fd, w->timeout_ns, w->tag);
	w->t_end = pt_now_ns();
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static inline int pt_waiter_start(struct pt_waiter *w, int fd,
				  __u64 timeout_ns, __u64 tag, int cpu)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->timeout_ns = timeout_ns;
	w->tag = tag;
	w->cpu = cpu;
	w->ret = 1;	/* no WAIT returns 1: "did not return" */
	return -pthread_create(&w->th, NULL, pt_waiter_fn, w);
}

static inline void pt_waiter_wait_started(struct pt_waiter *w)
{
	while (!__atomic_load_n(&w->started, __ATOMIC_ACQUIRE))
		sched_yield();
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
