// SPDX-License-Identifier: GPL-2.0
/*
 * The pendtimer CLI's shared helpers: the errno explanations of SPEC.md,
 * exit codes, argument parsing, opening the device, the STATS delta line
 * and signal handlers. The device itself is reached through libpendtimer.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

const char *prog = "pendtimer";

/* ------------------------------------------------------------------ */
/* messages */

void die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", prog);
	exit(EXIT_USAGE);
}

/*
 * One sentence per errno of SPEC.md, in the context of the operation.
 * Returns NULL for errnos with no special meaning there.
 */
const char *pt_explain(enum pt_op op, int err)
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

const char *pt_errname(int err)
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

void pt_report(const char *what, enum pt_op op, int err)
{
	const char *why = pt_explain(op, err);

	fprintf(stderr, "%s: %s: %s (-%s)%s%s\n", prog, what, strerror(err),
		pt_errname(err), why ? ": " : "", why ? why : "");
}

/* Exit code for a request that was refused or ended with @err. */
int pt_exit_code(int err)
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

void say_result(const char *who, int ret)
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

/* ------------------------------------------------------------------ */
/* parsing */

/* SECONDS: a non-negative decimal, fractions allowed. */
uint64_t parse_seconds(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 1e9)
		die_usage("'%s' is not a number of seconds", s);
	return (uint64_t)(v * (double)NSEC_PER_SEC + 0.5);
}

uint64_t parse_u64(const char *s, const char *what)
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

/*
 * The options of wait and pend (@cmd): -1 to go on, or the exit code
 * (--help). @via_of parses --via (and dies on a bad one) as it comes.
 */
int parse_req_args(const char *cmd, int (*via_of)(const char *), struct req_args *a,
		   int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cancel-after", required_argument, NULL, 'c' },
		{ "via", required_argument, NULL, 'v' },
		{ "tag", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_cancel = false;
	int opt;

	optind = 0;	/* glibc: full re-initialisation (ordering too) */
	while ((opt = getopt_long(argc, argv, "c:v:t:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			a->cancel_ms = parse_u64(optarg, "--cancel-after");
			have_cancel = true;
			break;
		case 'v':
			a->via = via_of(optarg);
			break;
		case 't':
			a->tag = parse_u64(optarg, "--tag");
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			die_usage("%s: bad option", cmd);
		}
	}
	if (optind != argc - 1)
		die_usage("%s: exactly one SECONDS argument expected", cmd);
	a->timeout_ns = parse_seconds(argv[optind]);
	if (have_cancel && !a->via)
		a->via = 1;	/* ioctl */
	if (!have_cancel && a->via)
		die_usage("%s: --via needs --cancel-after MS", cmd);
	return -1;
}

/* ------------------------------------------------------------------ */
/* --via */

const char *const via_name[] = {
	[VIA_NONE] = "none", [VIA_IOCTL] = "ioctl", [VIA_SIGNAL] = "signal",
	[VIA_URING] = "io_uring", [VIA_CLOSE] = "close",
};

enum via parse_via(const char *s)
{
	int i;

	for (i = VIA_IOCTL; i <= VIA_CLOSE; i++)
		if (!strcmp(s, via_name[i]))
			return (enum via)i;
	die_usage("--via: '%s' is not one of ioctl, signal, io_uring, close", s);
	return VIA_NONE;
}

/* ------------------------------------------------------------------ */
/* the device */

/* Open @path or exit with EXIT_NODEV, saying why. */
int cli_open(const char *path)
{
	int fd = pt_open_path(path);

	if (fd < 0) {
		char what[PATH_MAX + 16];

		snprintf(what, sizeof(what), "open %s", path);
		pt_report(what, OP_OPEN, -fd);
		exit(EXIT_NODEV);
	}
	return fd;
}

/* STATS, all zero when it fails (the narratives print deltas). */
int cli_stats(int fd, struct pendtimer_stats *s)
{
	int ret = pt_stats(fd, s);

	if (ret)
		memset(s, 0, sizeof(*s));
	return ret;
}

/* One line naming the counters that moved, for the narratives. */
void pt_print_delta(const char *indent, const struct pendtimer_stats *d)
{
	bool any = false;
	size_t i;

	printf("%sSTATS delta:", indent);
	for (i = 0; i < pt_stat_fields_nr; i++) {
		__u64 v = pt_stat_get(d, i);

		if (v && strcmp(pt_stat_fields[i].name, "pending")) {
			printf(" %s +%llu", pt_stat_fields[i].name, (unsigned long long)v);
			any = true;
		}
	}
	printf("%s\n", any ? "" : " (none)");
}

/* The delta line of what moved since @s0 (nothing if STATS fails). */
void pt_print_delta_since(int ctl, const struct pendtimer_stats *s0)
{
	struct pendtimer_stats s1, d;

	if (cli_stats(ctl, &s1) == 0) {
		pt_stats_delta(&d, &s1, s0);
		pt_print_delta("           ", &d);
	}
}

/* ------------------------------------------------------------------ */
/* signals */

/* A no-op handler installed without SA_RESTART: the WAIT returns -EINTR. */
void on_signal_noop(int sig)
{
	(void)sig;
}

volatile sig_atomic_t user_stop;

void on_user_stop(int sig)
{
	(void)sig;
	user_stop = 1;
}

void install_handler(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART */
	sigaction(sig, &sa, NULL);
}
