// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer: the command-line companion of the pendtimer module, in the role
 * of the WDK "event" sample's test application, and a race demonstration.
 *
 *   pendtimer wait SECONDS                      IRP mode (`event <delay> 0`)
 *   pendtimer wait SECONDS --cancel-after MS --via ioctl|signal|io_uring|close
 *   pendtimer pend SECONDS [--cancel-after MS --via ...]   io_uring PEND
 *   pendtimer arm SECONDS                       event mode (`event <delay> 1`)
 *   pendtimer stats [--json]
 *   pendtimer race [--iterations N]             timer vs cancel vs close
 *   pendtimer new-device ID | del-device ID
 *
 * This file: usage and the dispatch; one file per command (cmd_*.c), the
 * shared output helpers in cli.c, device access through libpendtimer.
 * Static binary (it runs in the busybox guest of the test VM). See
 * docs/pendtimer.1 for the manual and docs/concepts.md for the concepts.
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"

/* ------------------------------------------------------------------ */
/* usage */

void usage(FILE *f)
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

