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

int cmd_arm(const char *dev, int argc, char **argv)
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
	struct pendtimer_stats s0;
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

	fd = cli_open(dev);
	ctl = cli_open(dev);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0) {
		perror("eventfd");
		return EXIT_FAIL;
	}
	install_handler(SIGINT, on_user_stop);
	cli_stats(ctl, &s0);
	t0 = pt_now_ns();
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
	       pt_secs(pt_now_ns() - t0), count, tag, tag + count - 1, pt_secs(timeout_ns), efd);

	next_note = t0 + NSEC_PER_SEC;
	while (ended < count && !user_stop) {
		struct pollfd p = { .fd = efd, .events = POLLIN };
		uint64_t now = pt_now_ns(), until = next_note;
		uint64_t v;

		if (have_cancel && !cancel_done && t0 + cancel_ms * NSEC_PER_MSEC < until)
			until = t0 + cancel_ms * NSEC_PER_MSEC;
		ret = poll(&p, 1, until > now ? (int)((until - now + NSEC_PER_MSEC - 1) /
						      NSEC_PER_MSEC) : 0);
		if (ret > 0 && read(efd, &v, sizeof(v)) == sizeof(v)) {
			fired += v;
			ended += v;
			printf("%8.3f s  eventfd signalled (+%" PRIu64 "): %" PRIu64 " of %"
			       PRIu64 " fired\n", pt_secs(pt_now_ns() - t0), v, fired, count);
			continue;
		}
		now = pt_now_ns();
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
				       pt_secs(pt_now_ns() - t0), ok, late);
				if (ok)
					printf("%11s a cancelled ARM never signals its eventfd\n",
					       "");
				ended += ok;
			} else {
				close(fd);
				fd = -1;
				printf("%8.3f s  close(): flush ended every pending ARM of this "
				       "process on the file; their eventfd is never signalled\n",
				       pt_secs(pt_now_ns() - t0));
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
			       " fired\n", pt_secs(now - t0), fired, count);
			next_note += NSEC_PER_SEC;
		}
	}
	if (user_stop)
		printf("%8.3f s  interrupted: closing the file flushes the pending ARMs\n",
		       pt_secs(pt_now_ns() - t0));
	if (rc == EXIT_OK && fired < count)
		rc = EXIT_CANCELLED;
out:
	if (fd >= 0)
		close(fd);
	pt_print_delta_since(ctl, &s0);
	close(efd);
	close(ctl);
	return rc;
}
