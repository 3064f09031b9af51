// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer: the command-line companion of the pendtimer module, in the role
 * of the WDK "event" sample's test application, and a race demonstration.
 *
 *   pendtimer wait SECONDS                      IRP mode (`event <delay> 0`)
 *   pendtimer wait SECONDS --cancel-after MS --via ioctl|signal|io_uring|close
 *   pendtimer arm SECONDS                       event mode (`event <delay> 1`)
 *   pendtimer stats [--json]
 *   pendtimer race [--iterations N]             timer vs cancel vs close
 *   pendtimer new-device ID | del-device ID
 *
 * Static binary (it runs in the busybox guest of the test VM). See
 * docs/pendtimer.1 for the manual and docs/concepts.md for the concepts.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/pendtimer.h>

#include "race_show.h"

#ifndef PENDTIMER_NO_URING
#include <liburing.h>
#endif

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#define PT_DEFAULT_DEV		"/dev/pendtimer0"
#define PT_PARAMS		"/sys/module/pendtimer/parameters/"
#define PT_BUS			"/sys/bus/pendtimer/"

#define NSEC_PER_USEC		1000ULL
#define NSEC_PER_MSEC		1000000ULL
#define NSEC_PER_SEC		1000000000ULL

/* Exit codes: documented in usage() and docs/pendtimer.1. */
enum {
	EXIT_OK		= 0,	/* fired / done / race PASS */
	EXIT_FAIL	= 1,	/* race FAIL, or an unexpected error */
	EXIT_USAGE	= 2,	/* bad command line */
	EXIT_CANCELLED	= 3,	/* the request was cancelled or flushed */
	EXIT_INTR	= 4,	/* WAIT interrupted by a signal */
	EXIT_REMOVED	= 5,	/* the device was removed */
	EXIT_NODEV	= 6,	/* the device could not be opened */
	EXIT_REFUSED	= 7,	/* the request or bus write was refused */
};

static const char *prog = "pendtimer";

/* ------------------------------------------------------------------ */
/* messages */

static void __attribute__((format(printf, 1, 2))) die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", prog);
	exit(EXIT_USAGE);
}

/* What the request operation was, for the errno explanations. */
enum pt_op {
	OP_OPEN, OP_WAIT, OP_ARM, OP_CANCEL, OP_STATS, OP_NEW_DEVICE,
	OP_DEL_DEVICE, OP_PARAM,
};

/*
 * One sentence per errno of SPEC.md, in the context of the operation.
 * Returns NULL for errnos with no special meaning there.
 */
static const char *pt_explain(enum pt_op op, int err)
{
	switch (err) {
	case ENOTTY:
		return "the device does not know this ioctl number or size "
		       "(module and uapi header out of step?)";
	case EFAULT:
		return "bad user pointer: the driver could not copy the argument";
	case EINVAL:
		switch (op) {
		case OP_WAIT:
			return "timeout above PENDTIMER_MAX_TIMEOUT_NS (one hour)";
		case OP_ARM:
			return "timeout above PENDTIMER_MAX_TIMEOUT_NS (one hour), "
			       "flags not 0, or the descriptor is open but not an eventfd";
		case OP_NEW_DEVICE:
		case OP_DEL_DEVICE:
			return "malformed device ID (a decimal number is expected)";
		case OP_PARAM:
			return "value out of the parameter's range";
		default:
			return NULL;
		}
	case EBADF:
		return op == OP_ARM ? "the eventfd descriptor is not open" : NULL;
	case EEXIST:
		if (op == OP_NEW_DEVICE)
			return "a device with this ID already exists";
		return "a request with this tag is already pending in this open file "
		       "(tags are per open file)";
	case ENOSPC:
		return "this open file already has max_pending requests pending "
		       "(module parameter " PT_PARAMS "max_pending)";
	case ENODEV:
		if (op == OP_DEL_DEVICE)
			return "no device with this ID";
		if (op == OP_OPEN)
			return "the device is gone or being removed";
		return "the device was removed (or its removal has begun): "
		       "every request now fails or completes with -ENODEV";
	case ENOENT:
		if (op == OP_CANCEL)
			return "no pending request with this tag in this open file "
			       "(never submitted, already completed, or submitted "
			       "through another open file)";
		if (op == OP_OPEN)
			return "no such device node: is pendtimer.ko loaded "
			       "(and does the device ID exist)?";
		if (op == OP_NEW_DEVICE || op == OP_DEL_DEVICE || op == OP_PARAM)
			return "pendtimer.ko is not loaded";
		return NULL;
	case ECANCELED:
		return "the request was cancelled: PENDTIMER_IOC_CANCEL, "
		       "close-time flush, or io_uring async-cancel";
	case EINTR:
		return "the waiting thread was signalled: the request was cancelled "
		       "and the call is not restarted";
	case EACCES:
	case EPERM:
		if (op == OP_OPEN)
			return "permission denied: /dev/pendtimer<ID> is mode 0600 "
			       "(run as root, or see docs/99-pendtimer.rules for group access)";
		return "permission denied: root only";
	case ENOMEM:
		return "the kernel is out of memory (or the memory cgroup limit "
		       "was hit)";
	default:
		return NULL;
	}
}

static const char *pt_errname(int err)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
		{ ENOTTY, "ENOTTY" }, { EFAULT, "EFAULT" }, { EINVAL, "EINVAL" },
		{ EBADF, "EBADF" }, { EEXIST, "EEXIST" }, { ENOSPC, "ENOSPC" },
		{ ENODEV, "ENODEV" }, { ENOENT, "ENOENT" }, { ECANCELED, "ECANCELED" },
		{ EINTR, "EINTR" }, { EACCES, "EACCES" }, { EPERM, "EPERM" },
		{ ENOMEM, "ENOMEM" }, { EALREADY, "EALREADY" }, { EAGAIN, "EAGAIN" },
		{ EOPNOTSUPP, "EOPNOTSUPP" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].err == err)
			return names[i].name;
	return "E?";
}

static void pt_report(const char *what, enum pt_op op, int err)
{
	const char *why = pt_explain(op, err);

	fprintf(stderr, "%s: %s: %s (-%s)%s%s\n", prog, what, strerror(err),
		pt_errname(err), why ? ": " : "", why ? why : "");
}

/* Exit code for a request that was refused or ended with @err. */
static int pt_exit_code(int err)
{
	switch (err) {
	case 0:
		return EXIT_OK;
	case ECANCELED:
		return EXIT_CANCELLED;
	case EINTR:
		return EXIT_INTR;
	case ENODEV:
		return EXIT_REMOVED;
	case EINVAL:
	case EBADF:
	case EEXIST:
	case ENOSPC:
	case ENOMEM:
	case EFAULT:
	case ENOTTY:
	case ENOENT:
	case EACCES:
	case EPERM:
	case EOPNOTSUPP:
		return EXIT_REFUSED;
	default:
		return EXIT_FAIL;
	}
}

/* ------------------------------------------------------------------ */
/* time, parsing */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / NSEC_PER_SEC),
		.tv_nsec = (long)(ns % NSEC_PER_SEC),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

/* Sleep until @deadline; returns early (false) if *@stop becomes set. */
static bool sleep_until(uint64_t deadline, volatile sig_atomic_t *stop)
{
	for (;;) {
		uint64_t now = now_ns();

		if (stop && *stop)
			return false;
		if (now >= deadline)
			return true;
		sleep_ns(deadline - now > 50 * NSEC_PER_MSEC ?
			 50 * NSEC_PER_MSEC : deadline - now);
	}
}

static double secs(uint64_t ns)
{
	return (double)ns / (double)NSEC_PER_SEC;
}

/* SECONDS: a non-negative decimal, fractions allowed. */
static uint64_t parse_seconds(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 1e9)
		die_usage("'%s' is not a number of seconds", s);
	return (uint64_t)(v * (double)NSEC_PER_SEC + 0.5);
}

static uint64_t parse_u64(const char *s, const char *what)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (*s == '-')
		die_usage("%s: '%s' is not a non-negative integer", what, s);
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		die_usage("%s: '%s' is not a non-negative integer", what, s);
	return v;
}

/* ------------------------------------------------------------------ */
/* the device */

static int pt_open(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int err = errno;
		char what[PATH_MAX + 16];

		snprintf(what, sizeof(what), "open %s", path);
		pt_report(what, OP_OPEN, err);
		exit(EXIT_NODEV);
	}
	return fd;
}

static int pt_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

static int pt_wait(int fd, uint64_t timeout_ns, uint64_t tag)
{
	struct pendtimer_wait w = { .timeout_ns = timeout_ns, .tag = tag };

	return pt_ioctl(fd, PENDTIMER_IOC_WAIT, &w);
}

static int pt_arm(int fd, uint64_t timeout_ns, uint64_t tag, int efd)
{
	struct pendtimer_arm a = {
		.timeout_ns = timeout_ns, .tag = tag, .eventfd = efd, .flags = 0,
	};

	return pt_ioctl(fd, PENDTIMER_IOC_ARM, &a);
}

static int pt_cancel(int fd, uint64_t tag)
{
	__u64 t = tag;

	return pt_ioctl(fd, PENDTIMER_IOC_CANCEL, &t);
}

static int pt_stats(int fd, struct pendtimer_stats *s)
{
	memset(s, 0, sizeof(*s));
	return pt_ioctl(fd, PENDTIMER_IOC_STATS, s);
}

static bool pt_invariant_ok(const struct pendtimer_stats *s)
{
	return s->submitted == s->fired + s->cancelled + s->interrupted +
			       s->flushed + s->removed + s->pending;
}

static void pt_stats_delta(struct pendtimer_stats *d,
			   const struct pendtimer_stats *a,
			   const struct pendtimer_stats *b)
{
	const __u64 *pa = (const __u64 *)a, *pb = (const __u64 *)b;
	__u64 *pd = (__u64 *)d;
	size_t i;

	for (i = 0; i < sizeof(*d) / sizeof(__u64); i++)
		pd[i] = pa[i] - pb[i];
}

/* One line naming the counters that moved, for the narratives. */
static void pt_print_delta(const char *indent, const struct pendtimer_stats *d)
{
	static const struct { const char *name; size_t off; } f[] = {
		{ "submitted", offsetof(struct pendtimer_stats, submitted) },
		{ "fired", offsetof(struct pendtimer_stats, fired) },
		{ "cancelled", offsetof(struct pendtimer_stats, cancelled) },
		{ "interrupted", offsetof(struct pendtimer_stats, interrupted) },
		{ "flushed", offsetof(struct pendtimer_stats, flushed) },
		{ "removed", offsetof(struct pendtimer_stats, removed) },
		{ "race_timer_late", offsetof(struct pendtimer_stats, race_timer_late) },
		{ "race_cleanup_deferred",
		  offsetof(struct pendtimer_stats, race_cleanup_deferred) },
	};
	bool any = false;
	size_t i;

	printf("%sSTATS delta:", indent);
	for (i = 0; i < ARRAY_SIZE(f); i++) {
		__u64 v = *(const __u64 *)((const char *)d + f[i].off);

		if (v) {
			printf(" %s +%llu", f[i].name, (unsigned long long)v);
			any = true;
		}
	}
	printf("%s\n", any ? "" : " (none)");
}

/* Read a module parameter; -errno on failure. */
static int param_read(const char *name, long long *val)
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
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	buf[n] = '\0';
	*val = strtoll(buf, NULL, 0);
	return 0;
}

static int param_write(const char *name, long long val)
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

/* A no-op handler installed without SA_RESTART: the WAIT returns -EINTR. */
static void on_signal_noop(int sig)
{
	(void)sig;
}

static volatile sig_atomic_t user_stop;

static void on_user_stop(int sig)
{
	(void)sig;
	user_stop = 1;
}

static void install_handler(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART */
	sigaction(sig, &sa, NULL);
}

/* ------------------------------------------------------------------ */
/* usage */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s [-d DEVICE] COMMAND [ARGS]\n"
"\n"
"The test application of the pendtimer module (the WDK \"event\" sample on Linux).\n"
"\n"
"Commands:\n"
"  wait SECONDS [--tag T]           WAIT ioctl: block until the timer fires\n"
"                                   (IRP mode, like the sample's `event <delay> 0`)\n"
"  wait SECONDS --cancel-after MS --via ioctl|signal|io_uring|close\n"
"                                   start the WAIT, try to cancel it after MS ms\n"
"                                   by PENDTIMER_IOC_CANCEL, a signal to the\n"
"                                   waiting thread, IORING_OP_ASYNC_CANCEL of a\n"
"                                   URING_CMD WAIT, or close() of its descriptor;\n"
"                                   the cancel succeeds or fails depending on\n"
"                                   which comes first\n"
"  pend SECONDS [--tag T] [--cancel-after MS --via ioctl|uring|close|exit|async-cancel]\n"
"                                   PEND (io_uring URING_CMD PENDTIMER_URING_PEND):\n"
"                                   the driver parks the command, no thread waits\n"
"                                   for it; its CQE comes when the timer fires.\n"
"                                   After MS ms try to cancel it: CANCEL ioctl,\n"
"                                   URING_CMD CANCEL, close() of its descriptor\n"
"                                   (flush), exit of the submitting process (io_uring\n"
"                                   calls the driver's cancel routine), or\n"
"                                   IORING_OP_ASYNC_CANCEL, which cannot reach a\n"
"                                   parked command (-ENOENT): CANCEL by tag then does.\n"
"                                   Needs Linux 6.7+ (before: -EOPNOTSUPP)\n"
"  arm SECONDS [--count N] [--tag T] [--cancel-after MS --via ioctl|close]\n"
"                                   ARM ioctl on an eventfd, then loop waiting on\n"
"                                   the eventfd (event mode, `event <delay> 1`)\n"
"  stats [--json]                   the device's counters and the invariant\n"
"  race [--iterations N] [--delay-us US] [--waiters N] [--cancellers N]\n"
"       [--close-us US] [--signal-us US] [--force] [--show]\n"
"                                   the three-way race demonstration: timers vs\n"
"                                   CANCEL vs close-time flush (plus signals and\n"
"                                   ARMs), with an outcome table and checks;\n"
"                                   --show: the kernel's timeline (tracefs) of\n"
"                                   one caught instance of each race rule\n"
"  new-device ID | del-device ID    create / remove /dev/pendtimer<ID> (root)\n"
"\n"
"Options:\n"
"  -d, --device PATH                device node (default " PT_DEFAULT_DEV ")\n"
"  -h, --help                       this text\n"
"\n"
"Exit status:\n"
"  0  the request fired; the command succeeded; race: PASS\n"
"  1  race: FAIL (a count or invariant did not match); an unexpected error\n"
"  2  usage error\n"
"  3  the request was cancelled (CANCEL, close-time flush, io_uring async-cancel;\n"
"     a PEND also by ring close or the exit of its process)\n"
"  4  the WAIT was interrupted by a signal (-EINTR); race: stopped by SIGINT\n"
"     or SIGTERM (its checks passed for the requests made)\n"
"  5  the device was removed (-ENODEV)\n"
"  6  the device could not be opened (module not loaded, no such ID, permission)\n"
"  7  the request or bus write was refused (-EINVAL, -EBADF, -EEXIST, -ENOSPC,\n"
"     -ENOMEM, -EFAULT, -ENOTTY, -ENOENT, -EACCES; a PEND before Linux 6.7:\n"
"     -EOPNOTSUPP)\n"
"\n"
"See pendtimer(1) and docs/concepts.md.\n", prog);
}

/* ------------------------------------------------------------------ */
/* wait */

enum via { VIA_NONE, VIA_IOCTL, VIA_SIGNAL, VIA_URING, VIA_CLOSE };

static const char *const via_name[] = {
	[VIA_NONE] = "none", [VIA_IOCTL] = "ioctl", [VIA_SIGNAL] = "signal",
	[VIA_URING] = "io_uring", [VIA_CLOSE] = "close",
};

static enum via parse_via(const char *s)
{
	int i;

	for (i = VIA_IOCTL; i <= VIA_CLOSE; i++)
		if (!strcmp(s, via_name[i]))
			return (enum via)i;
	die_usage("--via: '%s' is not one of ioctl, signal, io_uring, close", s);
	return VIA_NONE;
}

struct waiter {
	int fd;
	uint64_t timeout_ns, tag;
	uint64_t t0, t_start, t_end;
	volatile int started, done;
	int ret;
	bool narrate;		/* print the result when the WAIT returns */
};

static void say_result(const char *who, int ret);

static void *waiter_fn(void *arg)
{
	struct waiter *w = arg;

	w->t_start = now_ns();
	__atomic_store_n(&w->started, 1, __ATOMIC_RELEASE);
	w->ret = pt_wait(w->fd, w->timeout_ns, w->tag);
	w->t_end = now_ns();
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	if (w->narrate) {
		printf("%8.3f s  ", secs(w->t_end - w->t0));
		say_result("WAIT", w->ret);
	}
	return NULL;
}

static void say_result(const char *who, int ret)
{
	switch (ret) {
	case 0:
		printf("%s returned 0: the timer fired and completed the request\n", who);
		break;
	case -ECANCELED:
		printf("%s returned -ECANCELED: %s\n", who, pt_explain(OP_WAIT, ECANCELED));
		break;
	case -EINTR:
		printf("%s returned -EINTR: %s\n", who, pt_explain(OP_WAIT, EINTR));
		break;
	case -ENODEV:
		printf("%s returned -ENODEV: %s\n", who, pt_explain(OP_WAIT, ENODEV));
		break;
	default:
		printf("%s refused: %s (-%s)%s%s\n", who, strerror(-ret), pt_errname(-ret),
		       pt_explain(OP_WAIT, -ret) ? ": " : "",
		       pt_explain(OP_WAIT, -ret) ? pt_explain(OP_WAIT, -ret) : "");
		break;
	}
}

#ifndef PENDTIMER_NO_URING
/* A URING_CMD SQE by hand (liburing 2.3 has no io_uring_prep_cmd*). */
static void prep_uring_wait(struct io_uring_sqe *sqe, int fd, uint64_t timeout_ns,
			    uint64_t tag, uint64_t user_data)
{
	struct pendtimer_wait w = { .timeout_ns = timeout_ns, .tag = tag };

	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = PENDTIMER_IOC_WAIT;
	sqe->__pad1 = 0;
	memcpy(sqe->cmd, &w, sizeof(w));
	io_uring_sqe_set_data64(sqe, user_data);
}

static int wait_via_uring(int fd, uint64_t timeout_ns, uint64_t tag,
			  uint64_t cancel_ns, uint64_t t0, int *wait_res)
{
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	bool have_wait = false, have_cancel = false, cancel_sent = false;
	int ret;

	ret = io_uring_queue_init(8, &ring, 0);
	if (ret) {
		fprintf(stderr, "%s: io_uring_queue_init: %s\n", prog, strerror(-ret));
		return EXIT_FAIL;
	}
	sqe = io_uring_get_sqe(&ring);
	prep_uring_wait(sqe, fd, timeout_ns, tag, 1);
	ret = io_uring_submit(&ring);
	if (ret != 1) {
		fprintf(stderr, "%s: io_uring_submit: %s\n", prog, strerror(-ret));
		io_uring_queue_exit(&ring);
		return EXIT_FAIL;
	}
	printf("%8.3f s  URING_CMD WAIT submitted (tag %" PRIu64 ", due in %.3f s); "
	       "the submitter did not block: the request runs in an io-wq worker\n",
	       secs(now_ns() - t0), tag, secs(timeout_ns));

	while (!have_wait || !have_cancel) {
		struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = 0 };
		uint64_t now = now_ns(), until;

		if (!cancel_sent) {
			until = t0 + cancel_ns;
			if (now >= until) {
				sqe = io_uring_get_sqe(&ring);
				io_uring_prep_cancel64(sqe, 1, 0);
				io_uring_sqe_set_data64(sqe, 2);
				io_uring_submit(&ring);
				cancel_sent = true;
				printf("%8.3f s  IORING_OP_ASYNC_CANCEL submitted for it\n",
				       secs(now_ns() - t0));
				continue;
			}
			ts.tv_sec = (long long)((until - now) / NSEC_PER_SEC);
			ts.tv_nsec = (long long)((until - now) % NSEC_PER_SEC);
			ret = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
		} else {
			ret = io_uring_wait_cqe(&ring, &cqe);
		}
		if (ret == -ETIME || ret == -EINTR)
			continue;
		if (ret) {
			fprintf(stderr, "%s: io_uring_wait_cqe: %s\n", prog, strerror(-ret));
			io_uring_queue_exit(&ring);
			return EXIT_FAIL;
		}
		if (cqe->user_data == 1) {
			have_wait = true;
			*wait_res = cqe->res;
			printf("%8.3f s  ", secs(now_ns() - t0));
			say_result("the URING_CMD WAIT's CQE", cqe->res);
			if (cqe->res == -ECANCELED && cancel_sent)
				printf("           (the driver saw the io-wq worker signalled, "
				       "and counted the request as interrupted)\n");
		} else if (cqe->user_data == 2) {
			have_cancel = true;
			printf("%8.3f s  the ASYNC_CANCEL's CQE: %s%s: ", secs(now_ns() - t0),
			       cqe->res ? "-" : "0", cqe->res ? pt_errname(-cqe->res) : "");
			if (cqe->res == 0)
				printf("the request was found and cancelled\n");
			else if (cqe->res == -EALREADY)
				printf("the worker was running it and has been signalled\n");
			else if (cqe->res == -ENOENT)
				printf("no such request in flight (it had completed): "
				       "the cancel failed\n");
			else
				printf("%s\n", strerror(-cqe->res));
		}
		io_uring_cqe_seen(&ring, cqe);
		if (!have_wait && !cancel_sent && user_stop)
			cancel_ns = 0;
	}
	io_uring_queue_exit(&ring);
	return EXIT_OK;
}
#endif

static int cmd_wait(const char *dev, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cancel-after", required_argument, NULL, 'c' },
		{ "via", required_argument, NULL, 'v' },
		{ "tag", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pendtimer_stats s0, s1, d;
	uint64_t timeout_ns, tag = 1, cancel_ms = 0, t0;
	enum via via = VIA_NONE;
	bool have_cancel = false;
	struct waiter w;
	pthread_t th;
	int opt, fd, ctl, ret, rc;

	optind = 0;	/* glibc: full re-initialisation (ordering too) */
	while ((opt = getopt_long(argc, argv, "c:v:t:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cancel_ms = parse_u64(optarg, "--cancel-after");
			have_cancel = true;
			break;
		case 'v':
			via = parse_via(optarg);
			break;
		case 't':
			tag = parse_u64(optarg, "--tag");
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			die_usage("wait: bad option");
		}
	}
	if (optind != argc - 1)
		die_usage("wait: exactly one SECONDS argument expected");
	timeout_ns = parse_seconds(argv[optind]);
	if (have_cancel && via == VIA_NONE)
		via = VIA_IOCTL;
	if (!have_cancel && via != VIA_NONE)
		die_usage("wait: --via needs --cancel-after MS");
#ifdef PENDTIMER_NO_URING
	if (via == VIA_URING)
		die_usage("wait: built without io_uring support");
#endif

	fd = pt_open(dev);
	ctl = pt_open(dev);	/* a second open file, for STATS only */
	pt_stats(ctl, &s0);
	install_handler(SIGINT, on_user_stop);
	install_handler(SIGUSR1, on_signal_noop);
	t0 = now_ns();

	if (via == VIA_NONE) {
		/* IRP mode: the calling thread sleeps in the driver (SIGINT interrupts it). */
		install_handler(SIGINT, on_signal_noop);
		printf("%8.3f s  WAIT on %s (tag %" PRIu64 ", due in %.3f s): this thread "
		       "sleeps in the driver until the request completes (Ctrl-C interrupts it)\n",
		       0.0, dev, tag, secs(timeout_ns));
		ret = pt_wait(fd, timeout_ns, tag);
		printf("%8.3f s  ", secs(now_ns() - t0));
		say_result("WAIT", ret);
		rc = pt_exit_code(-ret);
		goto out;
	}

	printf("%8.3f s  plan: WAIT due in %.3f s (tag %" PRIu64 "), cancel via %s "
	       "after %" PRIu64 " ms: the cancel %s\n",
	       0.0, secs(timeout_ns), tag, via_name[via], cancel_ms,
	       cancel_ms * NSEC_PER_MSEC < timeout_ns ? "should come first and succeed" :
	       "comes after the timer and should fail");

#ifndef PENDTIMER_NO_URING
	if (via == VIA_URING) {
		int res = 1;

		rc = wait_via_uring(fd, timeout_ns, tag, cancel_ms * NSEC_PER_MSEC, t0, &res);
		if (rc == EXIT_OK) {
			rc = pt_exit_code(-res);
			printf("  => %s\n", res == 0 ?
			       "the timer won: the async-cancel found nothing (a failed cancel)" :
			       res == -ECANCELED ?
			       "the cancel won: io_uring signalled the worker, the request "
			       "completed as cancelled" : "the request ended otherwise");
		}
		goto out;
	}
#endif

	memset(&w, 0, sizeof(w));
	w.fd = fd;
	w.timeout_ns = timeout_ns;
	w.tag = tag;
	w.t0 = t0;
	w.ret = 1;
	w.narrate = true;
	ret = pthread_create(&th, NULL, waiter_fn, &w);
	if (ret) {
		fprintf(stderr, "%s: pthread_create: %s\n", prog, strerror(ret));
		return EXIT_FAIL;
	}
	while (!__atomic_load_n(&w.started, __ATOMIC_ACQUIRE))
		sched_yield();
	printf("%8.3f s  WAIT submitted by a second thread; it sleeps in the driver\n",
	       secs(w.t_start - t0));

	sleep_until(t0 + cancel_ms * NSEC_PER_MSEC, NULL);
	switch (via) {
	case VIA_IOCTL:
		ret = pt_cancel(fd, tag);
		if (ret == 0)
			printf("%8.3f s  PENDTIMER_IOC_CANCEL(tag %" PRIu64 ") -> 0: the "
			       "request was pending: this call cancelled it\n",
			       secs(now_ns() - t0), tag);
		else
			printf("%8.3f s  PENDTIMER_IOC_CANCEL(tag %" PRIu64 ") -> -%s: %s\n",
			       secs(now_ns() - t0), tag, pt_errname(-ret),
			       pt_explain(OP_CANCEL, -ret) ? pt_explain(OP_CANCEL, -ret) :
			       strerror(-ret));
		break;
	case VIA_SIGNAL:
		ret = pthread_kill(th, SIGUSR1);
		printf("%8.3f s  SIGUSR1 sent to the waiting thread (%s)\n",
		       secs(now_ns() - t0),
		       __atomic_load_n(&w.done, __ATOMIC_ACQUIRE) ?
		       "it had already returned: too late" :
		       "it is still in the driver");
		break;
	case VIA_CLOSE:
		printf("%8.3f s  close(%d): the WAIT's own descriptor; flush cancels "
		       "the requests this process submitted on the file\n",
		       secs(now_ns() - t0), fd);
		close(fd);
		fd = -1;
		printf("%8.3f s  close() returned: none of them is pending any more\n",
		       secs(now_ns() - t0));
		break;
	default:
		break;
	}
	pthread_join(th, NULL);
	if (w.ret == -ECANCELED && via == VIA_CLOSE)
		printf("           (close-time flush: counted as flushed)\n");
	rc = pt_exit_code(-w.ret);
	printf("  => %s\n", w.ret == 0 ?
	       "the timer won: the cancel found nothing to cancel (a failed cancel)" :
	       w.ret == -ECANCELED || w.ret == -EINTR ?
	       "the cancel won: the request completed as cancelled, the timer was stopped" :
	       "the request ended otherwise");
out:
	if (pt_stats(ctl, &s1) == 0) {
		pt_stats_delta(&d, &s1, &s0);
		pt_print_delta("           ", &d);
	}
	if (fd >= 0)
		close(fd);
	close(ctl);
	return rc;
}

/* ------------------------------------------------------------------ */
/* pend */

#ifndef PENDTIMER_NO_URING
enum pvia { PVIA_NONE, PVIA_IOCTL, PVIA_URING, PVIA_CLOSE, PVIA_EXIT, PVIA_ASYNC };

static const char *const pvia_name[] = {
	[PVIA_NONE] = "none", [PVIA_IOCTL] = "ioctl", [PVIA_URING] = "uring",
	[PVIA_CLOSE] = "close", [PVIA_EXIT] = "exit", [PVIA_ASYNC] = "async-cancel",
};

static enum pvia parse_pvia(const char *s)
{
	int i;

	for (i = PVIA_IOCTL; i <= PVIA_ASYNC; i++)
		if (!strcmp(s, pvia_name[i]))
			return (enum pvia)i;
	die_usage("pend --via: '%s' is not one of ioctl, uring, close, exit, async-cancel", s);
	return PVIA_NONE;
}

/* This process's threads, and how many of them are io-wq workers. */
static void count_threads(int *total, int *iowq)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;

	*total = *iowq = 0;
	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[300], comm[32] = "";
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		(*total)++;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "iou-wrk-", 8))
			(*iowq)++;
		fclose(f);
	}
	closedir(d);
}

/* A URING_CMD SQE by hand (liburing 2.3 has no io_uring_prep_cmd*). */
static void prep_uring_cmd(struct io_uring_sqe *sqe, int fd, uint32_t cmd_op,
			   const void *cmd, size_t len, uint64_t user_data)
{
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = cmd_op;
	sqe->__pad1 = 0;
	memcpy(sqe->cmd, cmd, len);
	io_uring_sqe_set_data64(sqe, user_data);
}

static int submit_pend(struct io_uring *ring, int fd, uint64_t timeout_ns, uint64_t tag)
{
	struct pendtimer_wait w = { .timeout_ns = timeout_ns, .tag = tag };
	int ret;

	prep_uring_cmd(io_uring_get_sqe(ring), fd, PENDTIMER_URING_PEND, &w, sizeof(w), 1);
	ret = io_uring_submit(ring);
	return ret == 1 ? 0 : ret < 0 ? ret : -EIO;
}

/* The same through file @idx registered with the ring. */
static int submit_pend_fixed(struct io_uring *ring, int idx, uint64_t timeout_ns, uint64_t tag)
{
	struct pendtimer_wait w = { .timeout_ns = timeout_ns, .tag = tag };
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	int ret;

	prep_uring_cmd(sqe, idx, PENDTIMER_URING_PEND, &w, sizeof(w), 1);
	sqe->flags |= IOSQE_FIXED_FILE;
	ret = io_uring_submit(ring);
	return ret == 1 ? 0 : ret < 0 ? ret : -EIO;
}

/* Wait for a CQE until @deadline (0: forever): 0, or -ETIME. */
static int pend_reap(struct io_uring *ring, uint64_t deadline, uint64_t *ud, int *res)
{
	struct io_uring_cqe *cqe;
	int ret;

	for (;;) {
		uint64_t now = now_ns();

		if (deadline && now >= deadline)
			return -ETIME;
		if (deadline) {
			struct __kernel_timespec ts = {
				.tv_sec = (long long)((deadline - now) / NSEC_PER_SEC),
				.tv_nsec = (long long)((deadline - now) % NSEC_PER_SEC),
			};

			ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
		} else {
			ret = io_uring_wait_cqe(ring, &cqe);
		}
		if (ret == -EINTR && !user_stop)
			continue;
		if (ret)
			return ret;
		*ud = cqe->user_data;
		*res = cqe->res;
		io_uring_cqe_seen(ring, cqe);
		return 0;
	}
}

static void say_pend(uint64_t t0, int res)
{
	printf("%8.3f s  ", secs(now_ns() - t0));
	switch (res) {
	case 0:
		printf("the PEND's CQE: 0: its timer fired and completed it "
		       "(io_uring_cmd_done() from task work: IoCompleteRequest)\n");
		break;
	case -ECANCELED:
		printf("the PEND's CQE: -ECANCELED: it was cancelled (CANCEL by tag, "
		       "its owner's close(), or io_uring's cancel call at ring close/exit)\n");
		break;
	case -ENODEV:
		printf("the PEND's CQE: -ENODEV: %s\n", pt_explain(OP_WAIT, ENODEV));
		break;
	case -EOPNOTSUPP:
		printf("the PEND's CQE: -EOPNOTSUPP: this kernel has no "
		       "io_uring_cmd_mark_cancelable() (before 6.7), so the driver cannot "
		       "park a command (it would hold up ring exit until its timer fired)\n");
		break;
	default:
		printf("the PEND was refused: %s (-%s)%s%s\n", strerror(-res),
		       pt_errname(-res), pt_explain(OP_WAIT, -res) ? ": " : "",
		       pt_explain(OP_WAIT, -res) ? pt_explain(OP_WAIT, -res) : "");
		break;
	}
}

static void say_cancel_ret(uint64_t t0, const char *how, uint64_t tag, int ret)
{
	if (ret == 0)
		printf("%8.3f s  %s(tag %" PRIu64 ") -> 0: the PEND was pending: "
		       "this call cancelled it\n", secs(now_ns() - t0), how, tag);
	else
		printf("%8.3f s  %s(tag %" PRIu64 ") -> -%s: %s\n", secs(now_ns() - t0),
		       how, tag, pt_errname(-ret),
		       pt_explain(OP_CANCEL, -ret) ? pt_explain(OP_CANCEL, -ret) :
		       strerror(-ret));
}

/*
 * --via exit: a child process submits the PEND and exits with it parked.
 * The child registers the device file with its ring and closes its own
 * descriptor first (the PEND goes through the registered file): had it
 * kept the descriptor, its exit would close it first, a flush. So on the
 * way out io_uring calls the driver's cancel routine (IO_URING_F_CANCEL).
 * Returns the exit code.
 */
static int pend_via_exit(const char *dev, int ctl, const struct pendtimer_stats *s0,
			 uint64_t timeout_ns, uint64_t tag, uint64_t cancel_ns, uint64_t t0)
{
	struct pendtimer_stats s;
	int status, ret, pfd[2];
	uint64_t t_exit;
	pid_t pid;
	char c;

	if (pipe(pfd)) {
		perror("pipe");
		return EXIT_FAIL;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return EXIT_FAIL;
	}
	if (pid == 0) {
		struct io_uring ring;
		uint64_t ud;
		int fd = pt_open(dev), res;

		close(pfd[0]);
		if (io_uring_queue_init(8, &ring, 0) || io_uring_register_files(&ring, &fd, 1) ||
		    close(fd) || submit_pend_fixed(&ring, 0, timeout_ns, tag))
			_exit(EXIT_FAIL);
		if (write(pfd[1], "s", 1) != 1)
			_exit(EXIT_FAIL);
		/* the CQE can only come first if the timer is first */
		if (!pend_reap(&ring, t0 + cancel_ns, &ud, &res)) {
			say_pend(t0, res);
			_exit(pt_exit_code(-res));
		}
		printf("%8.3f s  child %d: exiting now, with its PEND parked\n",
		       secs(now_ns() - t0), (int)getpid());
		_exit(EXIT_OK);
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1) {
		fprintf(stderr, "%s: the child could not submit its PEND\n", prog);
		waitpid(pid, &status, 0);
		return EXIT_FAIL;
	}
	close(pfd[0]);
	printf("%8.3f s  child %d submitted the PEND (tag %" PRIu64 ", due in %.3f s) through "
	       "a file registered with its ring (its own descriptor closed), and keeps it parked\n",
	       secs(now_ns() - t0), (int)pid, tag, secs(timeout_ns));
	ret = waitpid(pid, &status, 0);
	t_exit = now_ns();
	if (ret != pid || !WIFEXITED(status)) {
		fprintf(stderr, "%s: the child did not exit normally\n", prog);
		return EXIT_FAIL;
	}
	if (t_exit < t0 + cancel_ns || WEXITSTATUS(status) != EXIT_OK)
		return WEXITSTATUS(status);
	printf("%8.3f s  the child has exited: a process with a PEND parked exits at once "
	       "(its timer was due in %.3f s)\n", secs(t_exit - t0),
	       secs(t0 + timeout_ns > t_exit ? t0 + timeout_ns - t_exit : 0));
	while (!pt_stats(ctl, &s) && s.pending > s0->pending &&
	       now_ns() < t_exit + 5 * NSEC_PER_SEC)
		sleep_ns(NSEC_PER_MSEC);
	if (s.interrupted > s0->interrupted)
		printf("%8.3f s  on its way out its ring was closed and io_uring called the "
		       "driver's cancel routine (uring_cmd with IO_URING_F_CANCEL): the PEND "
		       "ended with -ECANCELED, counted as interrupted\n", secs(now_ns() - t0));
	else
		printf("%8.3f s  the PEND ended otherwise: %s\n", secs(now_ns() - t0),
		       s.pending > s0->pending ? "still pending 5 s after the exit" :
		       s.flushed > s0->flushed ? "flushed" : "fired or removed");
	return EXIT_CANCELLED;
}

static int cmd_pend(const char *dev, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cancel-after", required_argument, NULL, 'c' },
		{ "via", required_argument, NULL, 'v' },
		{ "tag", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pendtimer_stats s0, s1, d;
	uint64_t timeout_ns, tag = 1, cancel_ms = 0, t0, ud = 0;
	enum pvia via = PVIA_NONE;
	bool have_cancel = false, have_pend = false, want_ucancel = false;
	int opt, fd, ctl, ret, res = 1, rc = EXIT_FAIL, threads, iowq;
	struct io_uring ring;
	struct io_uring_sqe *sqe;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "c:v:t:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cancel_ms = parse_u64(optarg, "--cancel-after");
			have_cancel = true;
			break;
		case 'v':
			via = parse_pvia(optarg);
			break;
		case 't':
			tag = parse_u64(optarg, "--tag");
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			die_usage("pend: bad option");
		}
	}
	if (optind != argc - 1)
		die_usage("pend: exactly one SECONDS argument expected");
	timeout_ns = parse_seconds(argv[optind]);
	if (have_cancel && via == PVIA_NONE)
		via = PVIA_IOCTL;
	if (!have_cancel && via != PVIA_NONE)
		die_usage("pend: --via needs --cancel-after MS");

	ctl = pt_open(dev);	/* STATS only: never flushed by this command */
	pt_stats(ctl, &s0);
	install_handler(SIGINT, on_user_stop);
	t0 = now_ns();
	if (via != PVIA_NONE)
		printf("%8.3f s  plan: PEND due in %.3f s (tag %" PRIu64 "), cancel via %s "
		       "after %" PRIu64 " ms: %s\n", 0.0, secs(timeout_ns), tag, pvia_name[via],
		       cancel_ms, via == PVIA_ASYNC ?
		       "io_uring's async-cancel cannot reach it, CANCEL by tag then can" :
		       cancel_ms * NSEC_PER_MSEC < timeout_ns ?
		       "the cancel should come first and succeed" :
		       "the cancel comes after the timer and should fail");
	if (via == PVIA_EXIT) {
		rc = pend_via_exit(dev, ctl, &s0, timeout_ns, tag, cancel_ms * NSEC_PER_MSEC, t0);
		goto out_stats;
	}

	fd = pt_open(dev);
	ret = io_uring_queue_init(8, &ring, 0);
	if (ret) {
		fprintf(stderr, "%s: io_uring_queue_init: %s\n", prog, strerror(-ret));
		return EXIT_FAIL;
	}
	ret = submit_pend(&ring, fd, timeout_ns, tag);
	if (ret) {
		fprintf(stderr, "%s: io_uring_submit: %s\n", prog, strerror(-ret));
		goto out_ring;
	}
	count_threads(&threads, &iowq);
	printf("%8.3f s  PEND submitted on %s (tag %" PRIu64 ", due in %.3f s): io_uring_submit() "
	       "returned at once\n", secs(now_ns() - t0), dev, tag, secs(timeout_ns));
	if (!pt_stats(ctl, &s1) && s1.pending > s0.pending)
		printf("           the driver parked it (-EIOCBQUEUED: STATUS_PENDING); no thread "
		       "waits for it: this process has %d thread(s), %d io-wq worker(s)\n",
		       threads, iowq);

	if (via != PVIA_NONE) {
		ret = pend_reap(&ring, t0 + cancel_ms * NSEC_PER_MSEC, &ud, &res);
		if (ret == 0 && ud == 1) {
			have_pend = true;
			say_pend(t0, res);
		}
	}
	/* the timer first: try the cancel all the same, it must fail */
	if (have_pend && via != PVIA_NONE)
		sleep_until(t0 + cancel_ms * NSEC_PER_MSEC, NULL);
	switch (via) {
	case PVIA_IOCTL:
		say_cancel_ret(t0, "PENDTIMER_IOC_CANCEL", tag, pt_cancel(fd, tag));
		break;
	case PVIA_URING: {
		uint64_t cmd[2] = { tag, 0 };

		prep_uring_cmd(io_uring_get_sqe(&ring), fd, PENDTIMER_IOC_CANCEL, cmd,
			       sizeof(cmd), 2);
		io_uring_submit(&ring);
		want_ucancel = true;
		printf("%8.3f s  URING_CMD CANCEL submitted (cmd_op PENDTIMER_IOC_CANCEL, "
		       "tag %" PRIu64 " in the command area)\n", secs(now_ns() - t0), tag);
		break;
	}
	case PVIA_CLOSE:
		printf("%8.3f s  close(%d): the PEND's own descriptor; %s\n", secs(now_ns() - t0),
		       fd, have_pend ? "nothing of this process is pending on it any more" :
		       "io_uring still holds the file, so this is the flush: it cancels the "
		       "requests this process submitted on it");
		close(fd);
		fd = -1;
		break;
	case PVIA_ASYNC:
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_cancel64(sqe, 1, 0);
		io_uring_sqe_set_data64(sqe, 3);
		io_uring_submit(&ring);
		printf("%8.3f s  IORING_OP_ASYNC_CANCEL submitted for the PEND (user_data 1)\n",
		       secs(now_ns() - t0));
		for (;;) {
			int r;

			if (pend_reap(&ring, 0, &ud, &r)) {
				fprintf(stderr, "%s: no CQE for the async-cancel\n", prog);
				goto out_ring;
			}
			if (ud == 3) {
				ret = r;
				break;
			}
			have_pend = true;	/* its timer was first */
			res = r;
			say_pend(t0, res);
		}
		res = have_pend ? res : ret;
		printf("%8.3f s  the ASYNC_CANCEL's CQE: %s%s\n", secs(now_ns() - t0),
		       ret ? "-" : "0", ret ? pt_errname(-ret) : "");
		if (have_pend) {
			printf("           the PEND had completed already: nothing left to "
			       "cancel\n");
			break;
		}
		if (ret == -ENOENT && !pt_stats(ctl, &s1) && s1.pending > s0.pending) {
			printf("           io_uring cannot reach a parked command: async-cancel "
			       "only finds io_uring's own request types and io-wq work, and the\n"
			       "           PEND is neither (the driver owns it); it is still "
			       "pending (STATS pending %llu). IoCancelIrp would reach it on Windows.\n",
			       (unsigned long long)(s1.pending - s0.pending));
			printf("           CANCEL by tag can reach it:\n");
		} else {
			printf("           unexpected: SPEC.md says -ENOENT with the PEND still "
			       "pending\n");
		}
		say_cancel_ret(t0, "PENDTIMER_IOC_CANCEL", tag, pt_cancel(fd, tag));
		break;
	default:
		break;
	}
	while (!have_pend || want_ucancel) {
		int r;

		ret = pend_reap(&ring, 0, &ud, &r);
		if (ret == -EINTR && user_stop) {
			user_stop = 0;
			printf("\n%8.3f s  interrupted: cancelling it by tag\n", secs(now_ns() - t0));
			say_cancel_ret(t0, "PENDTIMER_IOC_CANCEL", tag, pt_cancel(fd, tag));
			continue;
		}
		if (ret) {
			fprintf(stderr, "%s: io_uring_wait_cqe: %s\n", prog, strerror(-ret));
			goto out_ring;
		}
		if (ud == 1) {
			have_pend = true;
			res = r;
			say_pend(t0, res);
		} else if (ud == 2) {
			want_ucancel = false;
			printf("%8.3f s  the URING_CMD CANCEL's CQE: %s%s: %s\n", secs(now_ns() - t0),
			       r ? "-" : "0", r ? pt_errname(-r) : "",
			       r == 0 ? "it cancelled the PEND (inline, like the ioctl)" :
			       r == -ENOENT ? pt_explain(OP_CANCEL, ENOENT) : strerror(-r));
		}
	}
	if (res == -ECANCELED)
		printf("           (counted as %s)\n", via == PVIA_CLOSE ? "flushed" : "cancelled");
	rc = pt_exit_code(-res);
	if (via != PVIA_NONE)
		printf("  => %s\n", res == 0 ?
		       "the timer won: the cancel found nothing to cancel (a failed cancel)" :
		       res == -ECANCELED ? "the cancel won: the PEND completed as cancelled, "
		       "its timer was stopped" : "the PEND ended otherwise");
out_ring:
	io_uring_queue_exit(&ring);
	if (fd >= 0)
		close(fd);
out_stats:
	if (pt_stats(ctl, &s1) == 0) {
		pt_stats_delta(&d, &s1, &s0);
		pt_print_delta("           ", &d);
	}
	close(ctl);
	return rc;
}
#endif /* PENDTIMER_NO_URING */

/* ------------------------------------------------------------------ */
/* arm */

static int cmd_arm(const char *dev, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "tag", required_argument, NULL, 't' },
		{ "cancel-after", required_argument, NULL, 'c' },
		{ "via", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t timeout_ns, tag = 1, count = 1, cancel_ms = 0, t0, fired = 0, ended = 0;
	bool have_cancel = false, cancel_done = false;
	enum via via = VIA_NONE;
	struct pendtimer_stats s0, s1, d;
	uint64_t next_note;
	int opt, fd, ctl, efd, ret, rc = EXIT_OK;
	uint64_t i;

	optind = 0;	/* glibc: full re-initialisation (ordering too) */
	while ((opt = getopt_long(argc, argv, "n:t:c:v:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			count = parse_u64(optarg, "--count");
			if (!count)
				die_usage("arm: --count must be at least 1");
			break;
		case 't':
			tag = parse_u64(optarg, "--tag");
			break;
		case 'c':
			cancel_ms = parse_u64(optarg, "--cancel-after");
			have_cancel = true;
			break;
		case 'v':
			via = parse_via(optarg);
			if (via != VIA_IOCTL && via != VIA_CLOSE)
				die_usage("arm: --via must be ioctl or close (an ARM has "
					  "no waiting thread to signal)");
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			die_usage("arm: bad option");
		}
	}
	if (optind != argc - 1)
		die_usage("arm: exactly one SECONDS argument expected");
	timeout_ns = parse_seconds(argv[optind]);
	if (have_cancel && via == VIA_NONE)
		via = VIA_IOCTL;
	if (!have_cancel && via != VIA_NONE)
		die_usage("arm: --via needs --cancel-after MS");

	fd = pt_open(dev);
	ctl = pt_open(dev);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0) {
		perror("eventfd");
		return EXIT_FAIL;
	}
	install_handler(SIGINT, on_user_stop);
	pt_stats(ctl, &s0);
	t0 = now_ns();
	for (i = 0; i < count; i++) {
		ret = pt_arm(fd, timeout_ns, tag + i, efd);
		if (ret) {
			char what[64];

			snprintf(what, sizeof(what), "ARM (tag %" PRIu64 ")", tag + i);
			pt_report(what, OP_ARM, -ret);
			count = i;
			rc = pt_exit_code(-ret);
			break;
		}
	}
	if (!count)
		goto out;
	printf("%8.3f s  ARM: %" PRIu64 " request(s) (tags %" PRIu64 "..%" PRIu64
	       ") due in %.3f s, each signals eventfd %d (+1) when it fires; "
	       "the ioctl returned at once\n",
	       secs(now_ns() - t0), count, tag, tag + count - 1, secs(timeout_ns), efd);

	next_note = t0 + NSEC_PER_SEC;
	while (ended < count && !user_stop) {
		struct pollfd p = { .fd = efd, .events = POLLIN };
		uint64_t now = now_ns(), until = next_note;
		uint64_t v;

		if (have_cancel && !cancel_done && t0 + cancel_ms * NSEC_PER_MSEC < until)
			until = t0 + cancel_ms * NSEC_PER_MSEC;
		ret = poll(&p, 1, until > now ? (int)((until - now + NSEC_PER_MSEC - 1) /
						      NSEC_PER_MSEC) : 0);
		if (ret > 0 && read(efd, &v, sizeof(v)) == sizeof(v)) {
			fired += v;
			ended += v;
			printf("%8.3f s  eventfd signalled (+%" PRIu64 "): %" PRIu64 " of %"
			       PRIu64 " fired\n", secs(now_ns() - t0), v, fired, count);
			continue;
		}
		now = now_ns();
		if (have_cancel && !cancel_done && now >= t0 + cancel_ms * NSEC_PER_MSEC) {
			cancel_done = true;
			if (via == VIA_IOCTL) {
				uint64_t ok = 0, late = 0;

				for (i = 0; i < count; i++) {
					ret = pt_cancel(fd, tag + i);
					if (ret == 0)
						ok++;
					else
						late++;
				}
				printf("%8.3f s  PENDTIMER_IOC_CANCEL of each tag: %" PRIu64
				       " cancelled, %" PRIu64 " -ENOENT (already fired)\n",
				       secs(now_ns() - t0), ok, late);
				if (ok)
					printf("%11s a cancelled ARM never signals its eventfd\n",
					       "");
				ended += ok;
			} else {
				close(fd);
				fd = -1;
				printf("%8.3f s  close(): flush ended every pending ARM of this "
				       "process on the file; their eventfd is never signalled\n",
				       secs(now_ns() - t0));
				/* collect what fired before the close */
				if (read(efd, &v, sizeof(v)) == sizeof(v)) {
					fired += v;
					printf("           (%" PRIu64 " had fired before)\n", v);
				}
				ended = count;
			}
			continue;
		}
		if (now >= next_note) {
			printf("%8.3f s  waiting on the eventfd: %" PRIu64 " of %" PRIu64
			       " fired\n", secs(now - t0), fired, count);
			next_note += NSEC_PER_SEC;
		}
	}
	if (user_stop)
		printf("%8.3f s  interrupted: closing the file flushes the pending ARMs\n",
		       secs(now_ns() - t0));
	if (rc == EXIT_OK && fired < count)
		rc = EXIT_CANCELLED;
out:
	if (fd >= 0)
		close(fd);
	if (pt_stats(ctl, &s1) == 0) {
		pt_stats_delta(&d, &s1, &s0);
		pt_print_delta("           ", &d);
	}
	close(efd);
	close(ctl);
	return rc;
}

/* ------------------------------------------------------------------ */
/* stats */

static const struct {
	const char *name;
	size_t off;
	const char *what;
} stat_fields[] = {
#define F(n, w) { #n, offsetof(struct pendtimer_stats, n), w }
	F(submitted, "requests accepted (WAIT, URING_CMD WAIT, ARM)"),
	F(fired, "completed by their timer"),
	F(cancelled, "completed by PENDTIMER_IOC_CANCEL"),
	F(interrupted, "waiter signalled (incl. io_uring async-cancel)"),
	F(flushed, "completed by close-time flush or release"),
	F(removed, "completed because the device was removed"),
	F(pending, "accepted and not yet completed"),
	F(race_timer_late, "timer callback found its request claimed by a cancel"),
	F(race_cleanup_deferred, "cleanup left a request to its running timer"),
#undef F
};

static __u64 stat_get(const struct pendtimer_stats *s, size_t i)
{
	return *(const __u64 *)((const char *)s + stat_fields[i].off);
}

static int cmd_stats(const char *dev, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pendtimer_stats s;
	long long maxp = -1, delay = -1;
	bool json = false, inv;
	int opt, fd, ret;
	size_t i;

	optind = 0;	/* glibc: full re-initialisation (ordering too) */
	while ((opt = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			die_usage("stats: bad option");
		}
	}
	if (optind != argc)
		die_usage("stats: no arguments expected");
	fd = pt_open(dev);
	ret = pt_stats(fd, &s);
	close(fd);
	if (ret) {
		pt_report("STATS", OP_STATS, -ret);
		return pt_exit_code(-ret);
	}
	param_read("max_pending", &maxp);
	param_read("race_delay_us", &delay);
	inv = pt_invariant_ok(&s);
	if (json) {
		printf("{\"device\": \"%s\"", dev);
		for (i = 0; i < ARRAY_SIZE(stat_fields); i++)
			printf(", \"%s\": %llu", stat_fields[i].name,
			       (unsigned long long)stat_get(&s, i));
		printf(", \"invariant_ok\": %s", inv ? "true" : "false");
		if (maxp >= 0)
			printf(", \"max_pending\": %lld", maxp);
		if (delay >= 0)
			printf(", \"race_delay_us\": %lld", delay);
		printf("}\n");
		return EXIT_OK;
	}
	printf("%s\n", dev);
	for (i = 0; i < ARRAY_SIZE(stat_fields); i++)
		printf("  %-22s %12llu   %s\n", stat_fields[i].name,
		       (unsigned long long)stat_get(&s, i), stat_fields[i].what);
	printf("  invariant: submitted == fired + cancelled + interrupted + flushed + "
	       "removed + pending: %llu == %llu: %s\n",
	       (unsigned long long)s.submitted,
	       (unsigned long long)(s.fired + s.cancelled + s.interrupted + s.flushed +
				    s.removed + s.pending),
	       inv ? "holds" : "DOES NOT HOLD (device busy, or a bug)");
	if (maxp >= 0 || delay >= 0)
		printf("  parameters: max_pending=%lld race_delay_us=%lld\n", maxp, delay);
	return EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* new-device, del-device */

static int cmd_bus(const char *file, enum pt_op op, int argc, char **argv)
{
	char path[256];
	const char *id;
	int fd;
	size_t len;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc != 2)
		die_usage("%s: exactly one ID argument expected", argv[0]);
	/* The ID goes to the kernel as given: it judges malformed IDs (-EINVAL). */
	id = argv[1];
	snprintf(path, sizeof(path), PT_BUS "%s", file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		pt_report(path, op, err);
		return err == ENOENT ? EXIT_NODEV : EXIT_REFUSED;
	}
	len = strlen(id);
	if (write(fd, id, len) != (ssize_t)len) {
		int err = errno;

		snprintf(path, sizeof(path), "%s %s", argv[0], id);
		pt_report(path, op, err);
		close(fd);
		return EXIT_REFUSED;
	}
	close(fd);
	if (op == OP_NEW_DEVICE)
		printf("created pendtimer%s: /dev/pendtimer%s\n", id, id);
	else
		printf("removed pendtimer%s: its pending requests completed as "
		       "removed, open files now get -ENODEV\n", id);
	return EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* race */

#define RACE_MAX_WAITERS	32
#define RACE_MAX_CANCELLERS	16
#define RACE_ARM_SLOTS		16
#define RACE_PEND_SLOTS		16
#define RACE_PEND_INFLIGHT	32	/* PENDs parked at once, at most */
#define RACE_DUE_MAX_US		50

struct race_wctr {		/* one WAIT thread's view */
	uint64_t accepted, fired, ecanceled, eintr, enodev, refused;
	int refused_err;
};

struct race_cctr {		/* one CANCEL thread's view */
	uint64_t ok_wait, ok_arm, ok_pend, enoent, other;
	int other_err;
};

struct race {
	int fd;				/* the shared open file */
	uint64_t iterations;
	unsigned int nwaiters, ncancellers;
	unsigned int close_us, signal_us;

	uint64_t next_iter;		/* atomic: iterations claimed */
	uint64_t next_tag;		/* atomic: tags are unique in the run */
	uint64_t arms_claimed;		/* atomic */
	volatile int stop_helpers;
	volatile int submitters_left;	/* atomic */

	uint64_t wslot[RACE_MAX_WAITERS];	/* live WAIT tag, 0 = none */
	uint64_t aslot[RACE_ARM_SLOTS];		/* recent ARM tags */
	uint64_t pslot[RACE_PEND_SLOTS];	/* recent PEND tags */
	pthread_t wth[RACE_MAX_WAITERS];

	struct race_wctr w[RACE_MAX_WAITERS + 1];	/* the last: forced rounds */
	struct race_cctr c[RACE_MAX_CANCELLERS + 1];	/* the last: forced rounds */
	/* the ARM thread */
	int efd;
	uint64_t arm_accepted, arm_refused, arm_fired;
	int arm_refused_err;
	/* the PEND thread (when the kernel parks PENDs: 6.7+) */
	bool pend_on;
	uint64_t pends_claimed;		/* atomic */
	uint64_t pend_accepted, pend_fired, pend_ecanceled, pend_enodev;
	uint64_t pend_refused;
	int pend_refused_err;
	/* closer, signaller */
	uint64_t closes, close_errs, signals;
};

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static uint64_t race_due_ns(uint64_t *rnd)
{
	return (xorshift(rnd) % (RACE_DUE_MAX_US + 1)) * NSEC_PER_USEC;
}

struct race_arg {
	struct race *r;
	unsigned int idx;
};

/* Count one WAIT's result (the thread's own counters). */
static void race_count_wait(struct race_wctr *c, int ret)
{
	switch (ret) {
	case 0:
		c->accepted++;
		c->fired++;
		break;
	case -ECANCELED:
		c->accepted++;
		c->ecanceled++;
		break;
	case -EINTR:
		c->accepted++;
		c->eintr++;
		break;
	case -ENODEV:
		c->accepted++;
		c->enodev++;
		break;
	default:
		c->refused++;
		c->refused_err = -ret;
		break;
	}
}

static void *race_waiter(void *arg)
{
	struct race_arg *a = arg;
	struct race *r = a->r;
	struct race_wctr *c = &r->w[a->idx];
	uint64_t rnd = 0x9e3779b97f4a7c15ULL * (a->idx + 1);

	while (__atomic_fetch_add(&r->next_iter, 1, __ATOMIC_RELAXED) < r->iterations) {
		uint64_t tag = __atomic_add_fetch(&r->next_tag, 1, __ATOMIC_RELAXED);
		int ret;

		__atomic_store_n(&r->wslot[a->idx], tag, __ATOMIC_RELEASE);
		ret = pt_wait(r->fd, race_due_ns(&rnd), tag);
		__atomic_store_n(&r->wslot[a->idx], 0, __ATOMIC_RELEASE);
		race_count_wait(c, ret);
	}
	__atomic_fetch_sub(&r->submitters_left, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void race_take_eventfd(struct race *r)
{
	uint64_t v;

	if (read(r->efd, &v, sizeof(v)) == sizeof(v))
		r->arm_fired += v;
}

/* ARMs make about a fifth of the requests, spread over the run. */
static void *race_armer(void *arg)
{
	struct race *r = arg;
	uint64_t rnd = 0x2545f4914f6cdd1dULL, n = 0;

	for (;;) {
		uint64_t claimed = __atomic_load_n(&r->next_iter, __ATOMIC_RELAXED);
		uint64_t tag;
		int ret;

		if (claimed >= r->iterations)
			break;
		if (__atomic_load_n(&r->arms_claimed, __ATOMIC_RELAXED) * 5 > claimed) {
			sleep_ns(50 * NSEC_PER_USEC);
			continue;
		}
		if (__atomic_fetch_add(&r->next_iter, 1, __ATOMIC_RELAXED) >= r->iterations)
			break;
		__atomic_fetch_add(&r->arms_claimed, 1, __ATOMIC_RELAXED);
		tag = __atomic_add_fetch(&r->next_tag, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&r->aslot[n % RACE_ARM_SLOTS], tag, __ATOMIC_RELEASE);
		ret = pt_arm(r->fd, race_due_ns(&rnd), tag, r->efd);
		if (ret) {
			r->arm_refused++;
			r->arm_refused_err = -ret;
		} else {
			r->arm_accepted++;
		}
		if (++n % 8 == 0)
			race_take_eventfd(r);
	}
	race_take_eventfd(r);
	__atomic_fetch_sub(&r->submitters_left, 1, __ATOMIC_RELEASE);
	return NULL;
}

#ifndef PENDTIMER_NO_URING
static void race_count_pend(struct race *r, int res)
{
	switch (res) {
	case 0:
		r->pend_accepted++;
		r->pend_fired++;
		break;
	case -ECANCELED:
		r->pend_accepted++;
		r->pend_ecanceled++;
		break;
	case -ENODEV:
		r->pend_accepted++;
		r->pend_enodev++;
		break;
	default:
		r->pend_refused++;
		r->pend_refused_err = -res;
		break;
	}
}

/*
 * PENDs make about a fifth of the requests: parked on one ring (no thread
 * waits for them), at most RACE_PEND_INFLIGHT at once, their CQEs reaped
 * as they come.
 */
static void *race_pender(void *arg)
{
	struct race *r = arg;
	uint64_t rnd = 0x6a09e667f3bcc909ULL, n = 0;
	unsigned int inflight = 0;
	struct io_uring_cqe *cqe;
	struct io_uring ring;

	if (io_uring_queue_init(2 * RACE_PEND_INFLIGHT, &ring, 0)) {
		r->pend_refused++;
		r->pend_refused_err = ENOMEM;
		__atomic_fetch_sub(&r->submitters_left, 1, __ATOMIC_RELEASE);
		return NULL;
	}
	for (;;) {
		uint64_t claimed = __atomic_load_n(&r->next_iter, __ATOMIC_RELAXED);
		uint64_t tag;

		while (!io_uring_peek_cqe(&ring, &cqe)) {
			race_count_pend(r, cqe->res);
			io_uring_cqe_seen(&ring, cqe);
			inflight--;
		}
		if (claimed >= r->iterations)
			break;
		if (inflight >= RACE_PEND_INFLIGHT ||
		    __atomic_load_n(&r->pends_claimed, __ATOMIC_RELAXED) * 5 > claimed) {
			if (inflight && !io_uring_wait_cqe(&ring, &cqe)) {
				race_count_pend(r, cqe->res);
				io_uring_cqe_seen(&ring, cqe);
				inflight--;
			} else if (!inflight) {
				sleep_ns(50 * NSEC_PER_USEC);
			}
			continue;
		}
		if (__atomic_fetch_add(&r->next_iter, 1, __ATOMIC_RELAXED) >= r->iterations)
			break;
		__atomic_fetch_add(&r->pends_claimed, 1, __ATOMIC_RELAXED);
		tag = __atomic_add_fetch(&r->next_tag, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&r->pslot[n++ % RACE_PEND_SLOTS], tag, __ATOMIC_RELEASE);
		if (submit_pend(&ring, r->fd, race_due_ns(&rnd), tag)) {
			r->pend_refused++;
			r->pend_refused_err = EIO;
			continue;
		}
		inflight++;
	}
	while (inflight && !io_uring_wait_cqe(&ring, &cqe)) {
		race_count_pend(r, cqe->res);
		io_uring_cqe_seen(&ring, cqe);
		inflight--;
	}
	io_uring_queue_exit(&ring);
	__atomic_fetch_sub(&r->submitters_left, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Does this kernel park PENDs? One due at once, on the STATS file. */
static bool race_pend_probe(int ctl)
{
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	bool ok = false;

	if (io_uring_queue_init(2, &ring, 0))
		return false;
	if (!submit_pend(&ring, ctl, 0, UINT64_MAX) && !io_uring_wait_cqe(&ring, &cqe)) {
		ok = cqe->res == 0;
		if (!ok)
			printf("note: a PEND completed with %s: no PENDs in the mix%s\n",
			       pt_errname(-cqe->res), cqe->res == -EOPNOTSUPP ?
			       " (Linux before 6.7 cannot park them)" : "");
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	return ok;
}
#endif

/* CANCEL live tags: WAIT slots, recent ARM and PEND tags, at random. */
static void *race_canceller(void *arg)
{
	struct race_arg *a = arg;
	struct race *r = a->r;
	struct race_cctr *c = &r->c[a->idx];
	uint64_t rnd = 0xda942042e4dd58b5ULL * (a->idx + 3);
	unsigned int nslots = r->nwaiters + RACE_ARM_SLOTS +
			      (r->pend_on ? RACE_PEND_SLOTS : 0);

	while (!r->stop_helpers) {
		unsigned int i = (unsigned int)(xorshift(&rnd) % nslots);
		bool is_wait = i < r->nwaiters;
		bool is_arm = !is_wait && i < r->nwaiters + RACE_ARM_SLOTS;
		uint64_t tag = __atomic_load_n(is_wait ? &r->wslot[i] : is_arm ?
					       &r->aslot[i - r->nwaiters] :
					       &r->pslot[i - r->nwaiters - RACE_ARM_SLOTS],
					       __ATOMIC_ACQUIRE);
		int ret;

		if (!tag) {
			sched_yield();
			continue;
		}
		ret = pt_cancel(r->fd, tag);
		if (ret == 0) {
			if (is_wait)
				c->ok_wait++;
			else if (is_arm)
				c->ok_arm++;
			else
				c->ok_pend++;
		} else if (ret == -ENOENT) {
			c->enoent++;
		} else {
			c->other++;
			c->other_err = -ret;
		}
		if (xorshift(&rnd) % 4 == 0)
			sleep_ns((xorshift(&rnd) % 100) * NSEC_PER_USEC);
	}
	return NULL;
}

/* close() of dup()'ed descriptors of the open file: flush per owner. */
static void *race_closer(void *arg)
{
	struct race *r = arg;
	uint64_t rnd = 0x853c49e6748fea9bULL;

	while (!r->stop_helpers) {
		int d;

		sleep_ns((r->close_us / 2 + xorshift(&rnd) % (r->close_us + 1)) *
			 NSEC_PER_USEC);
		d = dup(r->fd);
		if (d < 0) {
			r->close_errs++;
			continue;
		}
		if (close(d))
			r->close_errs++;
		else
			r->closes++;
	}
	return NULL;
}

/* Signal a random WAIT thread now and then: its WAIT returns -EINTR. */
static void *race_signaller(void *arg)
{
	struct race *r = arg;
	uint64_t rnd = 0xf1357aea2e62a9c5ULL;

	while (!r->stop_helpers) {
		unsigned int i;

		sleep_ns((r->signal_us / 2 + xorshift(&rnd) % (r->signal_us + 1)) *
			 NSEC_PER_USEC);
		i = (unsigned int)(xorshift(&rnd) % r->nwaiters);
		/* only threads inside a WAIT: the others are about to exit */
		if (__atomic_load_n(&r->wslot[i], __ATOMIC_ACQUIRE) &&
		    __atomic_load_n(&r->submitters_left, __ATOMIC_ACQUIRE) &&
		    !pthread_kill(r->wth[i], SIGUSR1))
			r->signals++;
	}
	return NULL;
}

/*
 * Forced rounds, only when the random mix did not hit a window: the way
 * selftests/pendtimer_race_test.c hits it on purpose. A WAIT due at once is
 * submitted by a thread pinned to one CPU (its timer runs there and spins
 * race_delay_us before it claims); this thread, pinned to another CPU,
 * busy-waits into that window and then cancels (rule 1) or closes a dup()
 * of the file (rule 2).
 */
static bool race_restore_needed;
static long long race_saved_delay;

#define RACE_FORCE_DELAY_US	10000
#define RACE_FORCE_ATTEMPTS	12
/*
 * Due a little later than at once: a timer due at once fires as soon as the
 * submitter drops the file's lock, still inside its submission section,
 * and close() (flush) first waits for that section: it would only get to
 * the request after the callback.
 */
#define RACE_FORCE_DUE_US	500

struct race_forced {
	struct race *r;
	int cpu;
	uint64_t tag, t_start;
	volatile int started;
	int ret;
};

static int pin_to(pthread_t th, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(th, sizeof(set), &set);
}

/* The @n-th CPU of this thread's affinity mask, or -1. */
static int nth_cpu(int n)
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

static void *race_forced_waiter(void *arg)
{
	struct race_forced *f = arg;

	pin_to(pthread_self(), f->cpu);
	f->t_start = now_ns();
	__atomic_store_n(&f->started, 1, __ATOMIC_RELEASE);
	f->ret = pt_wait(f->r->fd, RACE_FORCE_DUE_US * NSEC_PER_USEC, f->tag);
	return NULL;
}

/* Returns true once the counter of @rule moved. */
static bool race_force(struct race *r, int ctl, int rule)
{
	static const unsigned int offsets_us[RACE_FORCE_ATTEMPTS] = {
		1500, 3000, 1000, 5000, 2000, 7000, 500, 4000, 8000, 2500, 6000, 9000,
	};
	struct race_wctr *wc = &r->w[RACE_MAX_WAITERS];
	struct race_cctr *cc = &r->c[RACE_MAX_CANCELLERS];
	int cpu_timer = nth_cpu(0), cpu_main = nth_cpu(1);
	cpu_set_t saved;
	bool hit = false;
	int attempt;

	if (cpu_timer < 0 || cpu_main < 0)
		return false;
	if (param_write("race_delay_us", RACE_FORCE_DELAY_US))
		return false;
	race_restore_needed = true;
	sched_getaffinity(0, sizeof(saved), &saved);
	pin_to(pthread_self(), cpu_main);
	for (attempt = 0; attempt < RACE_FORCE_ATTEMPTS && !hit && !user_stop; attempt++) {
		struct race_forced f = { .r = r, .cpu = cpu_timer, .ret = 1 };
		struct pendtimer_stats b, a;
		pthread_t th;
		int ret;

		f.tag = __atomic_add_fetch(&r->next_tag, 1, __ATOMIC_RELAXED);
		if (pt_stats(ctl, &b) || pthread_create(&th, NULL, race_forced_waiter, &f))
			break;
		while (!__atomic_load_n(&f.started, __ATOMIC_ACQUIRE))
			;
		while (now_ns() < f.t_start + (RACE_FORCE_DUE_US + offsets_us[attempt]) *
		       NSEC_PER_USEC)
			;
		if (rule == 1) {
			ret = pt_cancel(r->fd, f.tag);
			if (ret == 0)
				cc->ok_wait++;
			else if (ret == -ENOENT)
				cc->enoent++;
			else
				cc->other++;
			if (ret && ret != -ENOENT)
				cc->other_err = -ret;
		} else {
			int d = dup(r->fd);

			if (d < 0 || close(d))
				r->close_errs++;
			else
				r->closes++;
		}
		pthread_join(th, NULL);
		race_count_wait(wc, f.ret);
		if (pt_stats(ctl, &a))
			break;
		hit = rule == 1 ? a.race_timer_late > b.race_timer_late :
			a.race_cleanup_deferred > b.race_cleanup_deferred;
		printf("  forced rule %d, attempt %d (%s %u us after the due time): WAIT %s, %s\n",
		       rule, attempt + 1, rule == 1 ? "CANCEL" : "close()", offsets_us[attempt],
		       f.ret == 0 ? "fired" : f.ret == -ECANCELED ? "-ECANCELED" :
		       strerror(-f.ret),
		       hit ? (rule == 1 ? "race_timer_late +1" : "race_cleanup_deferred +1") :
		       "missed the window");
	}
	sched_setaffinity(0, sizeof(saved), &saved);
	return hit;
}

/* Wait for pending == 0 and two equal reads; false on timeout. */
static bool race_settle(int ctl, struct pendtimer_stats *out, unsigned int timeout_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;
	struct pendtimer_stats a, b;

	for (;;) {
		if (pt_stats(ctl, &a))
			return false;
		if (a.pending == 0) {
			sleep_ns(NSEC_PER_MSEC);
			if (pt_stats(ctl, &b))
				return false;
			if (!memcmp(&a, &b, sizeof(a))) {
				*out = a;
				return true;
			}
		}
		if (now_ns() > deadline) {
			*out = a;
			return false;
		}
		sleep_ns(2 * NSEC_PER_MSEC);
	}
}

static void race_restore_delay(void)
{
	if (race_restore_needed && param_write("race_delay_us", race_saved_delay) == 0)
		race_restore_needed = false;
}

/* A terminal that understands \r (not the VM's serial console, TERM=dumb). */
static bool stdout_is_terminal(void)
{
	const char *term = getenv("TERM");

	return isatty(STDOUT_FILENO) && term && *term && strcmp(term, "dumb");
}

static unsigned int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned int)n : 1;
}

static void race_progress(struct race *r, int ctl, const char *phase, bool tty,
			  uint64_t t0, const struct pendtimer_stats *s0)
{
	struct pendtimer_stats s, abs;
	uint64_t claimed = __atomic_load_n(&r->next_iter, __ATOMIC_RELAXED);

	if (claimed > r->iterations)
		claimed = r->iterations;
	if (pt_stats(ctl, &abs))
		return;
	pt_stats_delta(&s, &abs, s0);
	s.pending = abs.pending;
	printf("%s[%3u%%] %6.1f s  %-8s  submitted %8llu  fired %7llu  cancelled %6llu  "
	       "flushed %6llu  interrupted %4llu  pending %4llu  timer_late %4llu  "
	       "cleanup_deferred %4llu%s",
	       tty ? "\r" : "", (unsigned int)(claimed * 100 / r->iterations),
	       secs(now_ns() - t0), phase,
	       (unsigned long long)s.submitted, (unsigned long long)s.fired,
	       (unsigned long long)s.cancelled, (unsigned long long)s.flushed,
	       (unsigned long long)s.interrupted, (unsigned long long)s.pending,
	       (unsigned long long)s.race_timer_late,
	       (unsigned long long)s.race_cleanup_deferred, tty ? "" : "\n");
	fflush(stdout);
}

/* A number as a string, for optional table cells (one call per printf). */
static const char *u64str(uint64_t v)
{
	static __thread char buf[4][24];
	static __thread unsigned int n;
	char *b = buf[n++ % 4];

	snprintf(b, sizeof(buf[0]), "%llu", (unsigned long long)v);
	return b;
}

struct check {
	int failed;
};

static void check_eq(struct check *ck, const char *what, uint64_t user, uint64_t kern,
		     const char *note)
{
	bool ok = user == kern;

	printf("  %-32s %12llu %12llu   %s%s%s\n", what, (unsigned long long)user,
	       (unsigned long long)kern, ok ? "ok" : "MISMATCH",
	       note ? "  " : "", note ? note : "");
	if (!ok)
		ck->failed++;
}

static void check_true(struct check *ck, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void check_true(struct check *ck, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("  [%s] ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		ck->failed++;
}

static int cmd_race(const char *dev, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iterations", required_argument, NULL, 'n' },
		{ "delay-us", required_argument, NULL, 'D' },
		{ "waiters", required_argument, NULL, 'w' },
		{ "cancellers", required_argument, NULL, 'c' },
		{ "close-us", required_argument, NULL, 'C' },
		{ "signal-us", required_argument, NULL, 'S' },
		{ "force", no_argument, NULL, 'F' },
		{ "show", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct race race;	/* big: not on the stack */
	struct race *r = &race;
	struct race_arg wargs[RACE_MAX_WAITERS], cargs[RACE_MAX_CANCELLERS];
	pthread_t armer, closer, signaller, cth[RACE_MAX_CANCELLERS];
#ifndef PENDTIMER_NO_URING
	pthread_t pender;
#endif
	struct pendtimer_stats s_start, s_mid, s_force, s_end, d, d1, d2, d3;
	uint64_t delay_us = 30, t0, next_progress, last_pct = 0;
	uint64_t u_acc = 0, u_fired = 0, u_ecan = 0, u_eintr = 0, u_enodev = 0,
		 u_refused = 0, c_ok_wait = 0, c_ok_arm = 0, c_ok_pend = 0, c_enoent = 0,
		 c_other = 0;
	uint64_t u_submitted, u_fired_all, u_cancelled, u_flushed_wait, u_flushed_arm,
		 u_flushed_pend, u_flushed;
	bool tty = stdout_is_terminal(), widened = false, delay_ok = false, settled;
	bool forced = false, force = false;
	unsigned int cpus = online_cpus(), i;
	const char *phase = "natural";
	struct check ck = { 0 };
	sigset_t block, old;
	int opt, ctl, ret, last_refused_err = 0, last_other_err = 0;

	memset(r, 0, sizeof(*r));
	r->iterations = 20000;
	r->nwaiters = 4;
	r->ncancellers = 2;
	r->close_us = 2000;
	r->signal_us = 5000;
	optind = 0;	/* glibc: full re-initialisation (ordering too) */
	while ((opt = getopt_long(argc, argv, "n:D:w:c:C:S:Fsh", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			r->iterations = parse_u64(optarg, "--iterations");
			if (r->iterations < 10)
				die_usage("race: --iterations must be at least 10");
			break;
		case 'D':
			delay_us = parse_u64(optarg, "--delay-us");
			break;
		case 'w':
			r->nwaiters = (unsigned int)parse_u64(optarg, "--waiters");
			if (r->nwaiters < 1 || r->nwaiters > RACE_MAX_WAITERS)
				die_usage("race: --waiters must be 1..%d", RACE_MAX_WAITERS);
			break;
		case 'c':
			r->ncancellers = (unsigned int)parse_u64(optarg, "--cancellers");
			if (r->ncancellers < 1 || r->ncancellers > RACE_MAX_CANCELLERS)
				die_usage("race: --cancellers must be 1..%d",
					  RACE_MAX_CANCELLERS);
			break;
		case 'C':
			r->close_us = (unsigned int)parse_u64(optarg, "--close-us");
			if (!r->close_us)
				die_usage("race: --close-us must be at least 1");
			break;
		case 'S':
			r->signal_us = (unsigned int)parse_u64(optarg, "--signal-us");
			if (!r->signal_us)
				die_usage("race: --signal-us must be at least 1");
			break;
		case 'F':
			force = true;
			break;
		case 's':
			if (race_show_begin())
				return EXIT_FAIL;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			die_usage("race: bad option");
		}
	}
	if (optind != argc)
		die_usage("race: no arguments expected");

	r->fd = pt_open(dev);
	ctl = pt_open(dev);	/* STATS through an open file that is never flushed */
	r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->efd < 0) {
		perror("eventfd");
		return EXIT_FAIL;
	}
#ifndef PENDTIMER_NO_URING
	r->pend_on = race_pend_probe(ctl);
#endif
	ret = pt_stats(ctl, &s_start);
	if (ret) {
		pt_report("STATS", OP_STATS, -ret);
		return pt_exit_code(-ret);
	}
	ret = param_read("race_delay_us", &race_saved_delay);
	if (ret)
		race_saved_delay = -1;
	if (ret)
		printf("note: cannot read " PT_PARAMS "race_delay_us (%s): no window injection\n",
		       strerror(-ret));

	printf("pendtimer race: %llu requests on %s, %u CPU(s)\n",
	       (unsigned long long)r->iterations, dev, cpus);
	printf("  %u WAIT threads (due 0..%u us), 1 ARM thread (eventfd, ~1 request in 5),\n"
	       "  %u CANCEL threads (PENDTIMER_IOC_CANCEL of live tags), 1 closer (close() of\n"
	       "  a dup()'ed descriptor every ~%u us: flush cancels this process's requests),\n"
	       "  1 signaller (SIGUSR1 to a waiting thread every ~%u us)\n",
	       r->nwaiters, RACE_DUE_MAX_US, r->ncancellers, r->close_us, r->signal_us);
	if (r->pend_on)
		printf("  1 PEND thread (io_uring PENDTIMER_URING_PEND, ~1 request in 5, up to %d\n"
		       "  parked on one ring with no thread behind them; CANCEL and close reach them too)\n",
		       RACE_PEND_INFLIGHT);
	printf("  first half: race_delay_us=%lld (natural timing); second half: "
	       "race_delay_us=%llu (the timer callback spins before it claims)\n",
	       ret ? 0LL : race_saved_delay, (unsigned long long)delay_us);
	if (s_start.pending)
		printf("note: %llu request(s) already pending on the device: another user? "
		       "the STATS deltas may not match\n",
		       (unsigned long long)s_start.pending);
	if (cpus < 2)
		printf("note: one CPU: a cancel or close cannot run while a timer callback "
		       "spins, the race counters will stay 0\n");
	fflush(stdout);

	install_handler(SIGUSR1, on_signal_noop);
	install_handler(SIGINT, on_user_stop);
	install_handler(SIGTERM, on_user_stop);
	atexit(race_restore_delay);
	/* Worker threads leave SIGINT/SIGTERM to the main thread. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	r->submitters_left = (int)r->nwaiters + 1 + (r->pend_on ? 1 : 0);
	for (i = 0; i < r->nwaiters; i++) {
		wargs[i].r = r;
		wargs[i].idx = i;
		pthread_create(&r->wth[i], NULL, race_waiter, &wargs[i]);
	}
	pthread_create(&armer, NULL, race_armer, r);
#ifndef PENDTIMER_NO_URING
	if (r->pend_on)
		pthread_create(&pender, NULL, race_pender, r);
#endif
	for (i = 0; i < r->ncancellers; i++) {
		cargs[i].r = r;
		cargs[i].idx = i;
		pthread_create(&cth[i], NULL, race_canceller, &cargs[i]);
	}
	pthread_create(&closer, NULL, race_closer, r);
	pthread_create(&signaller, NULL, race_signaller, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	t0 = now_ns();
	next_progress = t0 + 2 * NSEC_PER_SEC;
	s_mid = s_start;
	while (__atomic_load_n(&r->submitters_left, __ATOMIC_ACQUIRE) > 0) {
		uint64_t claimed = __atomic_load_n(&r->next_iter, __ATOMIC_RELAXED);
		uint64_t pct = (claimed > r->iterations ? r->iterations : claimed) * 100 /
			       r->iterations;

		if (user_stop && claimed < r->iterations) {
			/* stop claiming: push the counter past the end */
			__atomic_store_n(&r->next_iter, r->iterations, __ATOMIC_RELAXED);
			printf("%sinterrupted: stopping\n", tty ? "\n" : "");
		}
		if (!widened && !user_stop && claimed >= r->iterations / 2) {
			widened = true;
			pt_stats(ctl, &s_mid);
			if (race_saved_delay >= 0 && delay_us &&
			    param_write("race_delay_us", (long long)delay_us) == 0) {
				race_restore_needed = true;
				delay_ok = true;
				phase = "widened";
			} else if (delay_us) {
				printf("%snote: cannot write " PT_PARAMS "race_delay_us "
				       "(root needed): no window injection\n", tty ? "\n" : "");
			}
			race_progress(r, ctl, "natural", tty, t0, &s_start);
			printf("%s-- half way: race_delay_us=%lld from now on\n", tty ? "\n" : "",
			       delay_ok ? (long long)delay_us : race_saved_delay);
		}
		if ((tty && now_ns() >= next_progress - 3 * NSEC_PER_SEC / 2) ||
		    pct / 10 != last_pct / 10 || now_ns() >= next_progress) {
			race_progress(r, ctl, phase, tty, t0, &s_start);
			last_pct = pct;
			next_progress = now_ns() + 2 * NSEC_PER_SEC;
		}
		sleep_ns(10 * NSEC_PER_MSEC);
	}
	race_progress(r, ctl, phase, tty, t0, &s_start);
	if (tty)
		printf("\n");

	r->stop_helpers = 1;
	for (i = 0; i < r->ncancellers; i++)
		pthread_join(cth[i], NULL);
	pthread_join(closer, NULL);
	pthread_join(signaller, NULL);
	for (i = 0; i < r->nwaiters; i++)
		pthread_join(r->wth[i], NULL);
	pthread_join(armer, NULL);
#ifndef PENDTIMER_NO_URING
	if (r->pend_on)
		pthread_join(pender, NULL);
#endif

	/* Top up by force a race counter the random mix left at 0. */
	pt_stats(ctl, &s_force);
	pt_stats_delta(&d, &s_force, &s_start);
	if (race_saved_delay >= 0 && cpus >= 2 && !user_stop &&
	    (force || (delay_ok && (!d.race_timer_late || !d.race_cleanup_deferred))) &&
	    param_write("race_delay_us", race_saved_delay) == 0) {	/* writable? */
		printf("-- %s: forcing the window (race_delay_us=%d, pinned threads)\n",
		       force ? "--force" : "a race counter is still 0", RACE_FORCE_DELAY_US);
		forced = true;
		if (force || !d.race_timer_late)
			race_force(r, ctl, 1);
		if (force || !d.race_cleanup_deferred)
			race_force(r, ctl, 2);
	}
	race_restore_delay();

	/* Last close: flush + release end the ARMs still pending (flushed). */
	close(r->fd);
	settled = race_settle(ctl, &s_end, 20000);
	race_take_eventfd(r);
	close(r->efd);

	r->w[r->nwaiters] = r->w[RACE_MAX_WAITERS];	/* the forced rounds */
	r->c[r->ncancellers] = r->c[RACE_MAX_CANCELLERS];
	for (i = 0; i <= r->nwaiters; i++) {
		u_acc += r->w[i].accepted;
		u_fired += r->w[i].fired;
		u_ecan += r->w[i].ecanceled;
		u_eintr += r->w[i].eintr;
		u_enodev += r->w[i].enodev;
		u_refused += r->w[i].refused;
		if (r->w[i].refused)
			last_refused_err = r->w[i].refused_err;
	}
	for (i = 0; i <= r->ncancellers; i++) {
		c_ok_wait += r->c[i].ok_wait;
		c_ok_arm += r->c[i].ok_arm;
		c_ok_pend += r->c[i].ok_pend;
		c_enoent += r->c[i].enoent;
		c_other += r->c[i].other;
		if (r->c[i].other)
			last_other_err = r->c[i].other_err;
	}
	if (r->arm_refused)
		last_refused_err = r->arm_refused_err;
	if (r->pend_refused)
		last_refused_err = r->pend_refused_err;

	u_submitted = u_acc + r->arm_accepted + r->pend_accepted;
	u_fired_all = u_fired + r->arm_fired + r->pend_fired;
	u_cancelled = c_ok_wait + c_ok_arm + c_ok_pend;
	u_flushed_wait = u_ecan - c_ok_wait;
	u_flushed_arm = r->arm_accepted - r->arm_fired - c_ok_arm;
	u_flushed_pend = r->pend_ecanceled - c_ok_pend;
	u_flushed = u_flushed_wait + u_flushed_arm + u_flushed_pend;
	pt_stats_delta(&d, &s_end, &s_start);
	pt_stats_delta(&d1, &s_mid, &s_start);
	pt_stats_delta(&d2, &s_force, &s_mid);
	pt_stats_delta(&d3, &s_end, &s_force);

	printf("\n=== outcome of %llu requests (%.1f s) ===\n",
	       (unsigned long long)u_submitted, secs(now_ns() - t0));
	printf("  %-32s %12s %12s %12s\n", "", "WAIT", "ARM", "PEND");
	printf("  %-32s %12llu %12llu %12s\n", "submitted (accepted)",
	       (unsigned long long)u_acc, (unsigned long long)r->arm_accepted,
	       r->pend_on ? u64str(r->pend_accepted) : "-");
	printf("  %-32s %12llu %12llu %12s\n", "fired (timer)",
	       (unsigned long long)u_fired, (unsigned long long)r->arm_fired,
	       r->pend_on ? u64str(r->pend_fired) : "-");
	printf("  %-32s %12llu %12llu %12s\n", "cancelled by CANCEL",
	       (unsigned long long)c_ok_wait, (unsigned long long)c_ok_arm,
	       r->pend_on ? u64str(c_ok_pend) : "-");
	printf("  %-32s %12llu %12llu %12s\n", "cancelled by close-flush",
	       (unsigned long long)u_flushed_wait, (unsigned long long)u_flushed_arm,
	       r->pend_on ? u64str(u_flushed_pend) : "-");
	printf("  %-32s %12llu %12s %12s\n", "interrupted (signal)",
	       (unsigned long long)u_eintr, "-", r->pend_on ? "0" : "-");
	printf("  %-32s %12llu %12s %12s\n", "removed (device gone)",
	       (unsigned long long)u_enodev, "0", r->pend_on ? u64str(r->pend_enodev) : "-");
	printf("  (WAIT: its return value; ARM: eventfd count for fired; PEND: its CQE;\n"
	       "   CANCEL: the caller's 0; close-flush: -ECANCELED not claimed by a CANCEL,\n"
	       "   and ARMs neither fired nor cancelled; the kernel counts flushed independently)\n");
	if (!r->pend_on)
		printf("  (PEND: not in the mix: this kernel completes PENDs with -EOPNOTSUPP)\n");
	printf("  other: %llu CANCEL(s) found nothing (-ENOENT: too early or too late), "
	       "%llu close(s), %llu signal(s) sent\n",
	       (unsigned long long)c_enoent, (unsigned long long)r->closes,
	       (unsigned long long)r->signals);

	printf("\n=== races (STATS) ===\n");
	printf("  %-24s %10s %10s %10s %10s\n", "", "natural",
	       delay_ok ? "widened" : "2nd half", forced ? "forced" : "", "total");
	printf("  %-24s %10llu %10llu %10s %10llu   rule 1: a cancel claimed while the "
	       "timer callback ran\n", "race_timer_late",
	       (unsigned long long)d1.race_timer_late, (unsigned long long)d2.race_timer_late,
	       forced ? u64str(d3.race_timer_late) : "",
	       (unsigned long long)d.race_timer_late);
	printf("  %-24s %10llu %10llu %10s %10llu   rule 2: a close left the request to "
	       "its running timer\n", "race_cleanup_deferred",
	       (unsigned long long)d1.race_cleanup_deferred,
	       (unsigned long long)d2.race_cleanup_deferred,
	       forced ? u64str(d3.race_cleanup_deferred) : "",
	       (unsigned long long)d.race_cleanup_deferred);

	printf("\n=== checks: user side vs STATS delta ===\n");
	printf("  %-32s %12s %12s\n", "", "user", "STATS");
	check_eq(&ck, "submitted", u_submitted, d.submitted, NULL);
	check_eq(&ck, "fired", u_fired_all, d.fired, NULL);
	check_eq(&ck, "cancelled (CANCEL)", u_cancelled, d.cancelled, NULL);
	check_eq(&ck, "interrupted (signal)", u_eintr, d.interrupted, NULL);
	check_eq(&ck, "flushed (close)", u_flushed, d.flushed, NULL);
	check_eq(&ck, "removed", u_enodev + r->pend_enodev, d.removed, NULL);
	check_eq(&ck, "pending at the end", 0, s_end.pending, NULL);
	check_true(&ck, settled, "the device settled (pending 0, counters stable)");
	check_true(&ck, pt_invariant_ok(&s_end),
		   "invariant (device totals): submitted %llu == fired %llu + cancelled %llu + interrupted %llu"
		   " + flushed %llu + removed %llu + pending %llu",
		   (unsigned long long)s_end.submitted, (unsigned long long)s_end.fired,
		   (unsigned long long)s_end.cancelled,
		   (unsigned long long)s_end.interrupted, (unsigned long long)s_end.flushed,
		   (unsigned long long)s_end.removed, (unsigned long long)s_end.pending);
	check_true(&ck, u_ecan >= c_ok_wait,
		   "every WAIT a CANCEL claimed returned -ECANCELED (%llu >= %llu)",
		   (unsigned long long)u_ecan, (unsigned long long)c_ok_wait);
	check_true(&ck, r->arm_accepted >= r->arm_fired + c_ok_arm,
		   "no eventfd signal for a cancelled ARM (%llu >= %llu fired + %llu cancelled)",
		   (unsigned long long)r->arm_accepted, (unsigned long long)r->arm_fired,
		   (unsigned long long)c_ok_arm);
	if (r->pend_on)
		check_true(&ck, r->pend_ecanceled >= c_ok_pend,
			   "every PEND a CANCEL claimed got CQE -ECANCELED (%llu >= %llu)",
			   (unsigned long long)r->pend_ecanceled, (unsigned long long)c_ok_pend);
	check_true(&ck, !u_refused && !r->arm_refused && !r->pend_refused,
		   "no request refused (%llu%s%s)",
		   (unsigned long long)(u_refused + r->arm_refused + r->pend_refused),
		   last_refused_err ? ", last: " : "",
		   last_refused_err ? strerror(last_refused_err) : "");
	check_true(&ck, !c_other, "no CANCEL failed other than -ENOENT (%llu%s%s)",
		   (unsigned long long)c_other, last_other_err ? ", last: " : "",
		   last_other_err ? strerror(last_other_err) : "");
	check_true(&ck, !r->close_errs, "every dup()+close() succeeded");
	check_true(&ck, !race_restore_needed, "race_delay_us restored to %lld",
		   race_saved_delay);
	if (user_stop)
		printf("  (interrupted by the user: fewer requests than asked)\n");
	if ((delay_ok || forced) && cpus >= 2 && !user_stop) {
		check_true(&ck, d.race_timer_late > 0,
			   "rule 1 seen: race_timer_late rose (+%llu)",
			   (unsigned long long)d.race_timer_late);
		check_true(&ck, d.race_cleanup_deferred > 0,
			   "rule 2 seen: race_cleanup_deferred rose (+%llu)",
			   (unsigned long long)d.race_cleanup_deferred);
	} else {
		printf("  (race counters not required: %s)\n",
		       user_stop ? "interrupted" : cpus < 2 ? "one CPU" :
		       "race_delay_us could not be set");
	}
	if (race_show_active())
		check_true(&ck, race_show_end(dev), "race --show: a timeline of each rule");
	printf("\nRESULT: %s%s\n", ck.failed ? "FAIL" : "PASS",
	       user_stop ? " (interrupted)" : "");
	close(ctl);
	if (ck.failed)
		return EXIT_FAIL;
	return user_stop ? EXIT_INTR : EXIT_OK;
}

/* ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dev = PT_DEFAULT_DEV;
	const char *cmd;
	int opt;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* options before the command, then the command's own (including -d) */
	while ((opt = getopt_long(argc, argv, "+d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			dev = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			die_usage("bad option");
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	cmd = argv[0];

	/* Accept --device after the command too: pull it out here. */
	{
		int i, j = 1;

		for (i = 1; i < argc; i++) {
			if ((!strcmp(argv[i], "--device") || !strcmp(argv[i], "-d")) &&
			    i + 1 < argc) {
				dev = argv[++i];
				continue;
			}
			if (!strncmp(argv[i], "--device=", 9)) {
				dev = argv[i] + 9;
				continue;
			}
			argv[j++] = argv[i];
		}
		argc = j;
		argv[argc] = NULL;
	}

	if (!strcmp(cmd, "wait"))
		return cmd_wait(dev, argc, argv);
	if (!strcmp(cmd, "arm"))
		return cmd_arm(dev, argc, argv);
	if (!strcmp(cmd, "pend")) {
#ifndef PENDTIMER_NO_URING
		return cmd_pend(dev, argc, argv);
#else
		die_usage("pend: built without io_uring support");
#endif
	}
	if (!strcmp(cmd, "stats"))
		return cmd_stats(dev, argc, argv);
	if (!strcmp(cmd, "race"))
		return cmd_race(dev, argc, argv);
	if (!strcmp(cmd, "new-device"))
		return cmd_bus("new_device", OP_NEW_DEVICE, argc, argv);
	if (!strcmp(cmd, "del-device"))
		return cmd_bus("del_device", OP_DEL_DEVICE, argc, argv);
	if (!strcmp(cmd, "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	die_usage("unknown command '%s'", cmd);
	return EXIT_USAGE;
}
