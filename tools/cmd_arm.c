// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer arm: ARM requests that signal an eventfd (event mode), and
 * their cancel by CANCEL or close().
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/eventfd.h>

#include "cli.h"

/* What the command line asks for, and how far the requests got. */
struct arm_run {
	uint64_t timeout_ns, tag, count, cancel_ms, t0;
	bool have_cancel, cancel_done;
	enum via via;
	int fd, efd;
	uint64_t fired, ended;
};

/* The options: -1 to go on, or the exit code (--help). */
static int arm_parse(struct arm_run *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "tag", required_argument, NULL, 't' },
		{ "cancel-after", required_argument, NULL, 'c' },
		{ "via", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 0;	/* glibc: full re-initialisation (ordering too) */
	while ((opt = getopt_long(argc, argv, "n:t:c:v:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			x->count = parse_u64(optarg, "--count");
			if (!x->count)
				die_usage("arm: --count must be at least 1");
			break;
		case 't':
			x->tag = parse_u64(optarg, "--tag");
			break;
		case 'c':
			x->cancel_ms = parse_u64(optarg, "--cancel-after");
			x->have_cancel = true;
			break;
		case 'v':
			x->via = parse_via(optarg);
			if (x->via != VIA_IOCTL && x->via != VIA_CLOSE)
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
	x->timeout_ns = parse_seconds(argv[optind]);
	if (x->have_cancel && x->via == VIA_NONE)
		x->via = VIA_IOCTL;
	if (!x->have_cancel && x->via != VIA_NONE)
		die_usage("arm: --via needs --cancel-after MS");
	return -1;
}

/* ARM count requests; a refusal ends the series (count = those armed). */
static int arm_submit(struct arm_run *x)
{
	uint64_t i;
	int ret;

	for (i = 0; i < x->count; i++) {
		ret = pt_arm(x->fd, x->timeout_ns, x->tag + i, x->efd);
		if (ret) {
			char what[64];

			snprintf(what, sizeof(what), "ARM (tag %" PRIu64 ")", x->tag + i);
			pt_report(what, OP_ARM, -ret);
			x->count = i;
			return pt_exit_code(-ret);
		}
	}
	return EXIT_OK;
}

/* The cancel, --via ioctl (each tag) or close (the file). */
static void arm_cancel(struct arm_run *x)
{
	uint64_t i, v;

	x->cancel_done = true;
	if (x->via == VIA_IOCTL) {
		uint64_t ok = 0, late = 0;

		for (i = 0; i < x->count; i++) {
			if (pt_cancel(x->fd, x->tag + i) == 0)
				ok++;
			else
				late++;
		}
		printf("%8.3f s  PENDTIMER_IOC_CANCEL of each tag: %" PRIu64
		       " cancelled, %" PRIu64 " -ENOENT (already fired)\n",
		       pt_secs(pt_now_ns() - x->t0), ok, late);
		if (ok)
			printf("%11s a cancelled ARM never signals its eventfd\n", "");
		x->ended += ok;
		return;
	}
	close(x->fd);
	x->fd = -1;
	printf("%8.3f s  close(): flush ended every pending ARM of this "
	       "process on the file; their eventfd is never signalled\n",
	       pt_secs(pt_now_ns() - x->t0));
	/* collect what fired before the close */
	if (read(x->efd, &v, sizeof(v)) == sizeof(v)) {
		x->fired += v;
		printf("           (%" PRIu64 " had fired before)\n", v);
	}
	x->ended = x->count;
}

/* Wait on the eventfd until every request ended, cancelling on time. */
static void arm_loop(struct arm_run *x)
{
	uint64_t next_note = x->t0 + NSEC_PER_SEC;
	uint64_t cancel_at = x->t0 + x->cancel_ms * NSEC_PER_MSEC;

	while (x->ended < x->count && !user_stop) {
		struct pollfd p = { .fd = x->efd, .events = POLLIN };
		uint64_t now = pt_now_ns(), until = next_note;
		uint64_t v;
		int ret;

		if (x->have_cancel && !x->cancel_done && cancel_at < until)
			until = cancel_at;
		ret = poll(&p, 1, until > now ? (int)((until - now + NSEC_PER_MSEC - 1) /
						      NSEC_PER_MSEC) : 0);
		if (ret > 0 && read(x->efd, &v, sizeof(v)) == sizeof(v)) {
			x->fired += v;
			x->ended += v;
			printf("%8.3f s  eventfd signalled (+%" PRIu64 "): %" PRIu64 " of %"
			       PRIu64 " fired\n", pt_secs(pt_now_ns() - x->t0), v, x->fired,
			       x->count);
			continue;
		}
		now = pt_now_ns();
		if (x->have_cancel && !x->cancel_done && now >= cancel_at) {
			arm_cancel(x);
			continue;
		}
		if (now >= next_note) {
			printf("%8.3f s  waiting on the eventfd: %" PRIu64 " of %" PRIu64
			       " fired\n", pt_secs(now - x->t0), x->fired, x->count);
			next_note += NSEC_PER_SEC;
		}
	}
}

int cmd_arm(const char *dev, int argc, char **argv)
{
	struct arm_run x = { .tag = 1, .count = 1, .via = VIA_NONE };
	struct pendtimer_stats s0;
	int ctl, rc;

	rc = arm_parse(&x, argc, argv);
	if (rc >= 0)
		return rc;

	x.fd = cli_open(dev);
	ctl = cli_open(dev);
	x.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (x.efd < 0) {
		perror("eventfd");
		return EXIT_FAIL;
	}
	install_handler(SIGINT, on_user_stop);
	cli_stats(ctl, &s0);
	x.t0 = pt_now_ns();
	rc = arm_submit(&x);
	if (!x.count)
		goto out;
	printf("%8.3f s  ARM: %" PRIu64 " request(s) (tags %" PRIu64 "..%" PRIu64
	       ") due in %.3f s, each signals eventfd %d (+1) when it fires; "
	       "the ioctl returned at once\n",
	       pt_secs(pt_now_ns() - x.t0), x.count, x.tag, x.tag + x.count - 1,
	       pt_secs(x.timeout_ns), x.efd);

	arm_loop(&x);
	if (user_stop)
		printf("%8.3f s  interrupted: closing the file flushes the pending ARMs\n",
		       pt_secs(pt_now_ns() - x.t0));
	if (rc == EXIT_OK && x.fired < x.count)
		rc = EXIT_CANCELLED;
out:
	if (x.fd >= 0)
		close(x.fd);
	pt_print_delta_since(ctl, &s0);
	close(x.efd);
	close(ctl);
	return rc;
}
