// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer stats: the device's counters, the invariant and the parameters.
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

#include "cli.h"

/* What each counter of pt_stat_fields[] counts, in its order. */
static const char *const stat_what[] = {
	"requests accepted (WAIT, URING_CMD WAIT, ARM, PEND)",
	"completed by their timer",
	"completed by PENDTIMER_IOC_CANCEL",
	"waiter signalled (incl. io_uring async-cancel)",
	"completed by close-time flush or release",
	"completed because the device was removed",
	"accepted and not yet completed",
	"a cancel claimed a request while its timer callback ran",
	"cleanup left a request to its running timer",
};

int cmd_stats(const char *dev, int argc, char **argv)
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
	fd = cli_open(dev);
	ret = cli_stats(fd, &s);
	close(fd);
	if (ret) {
		pt_report("STATS", OP_STATS, -ret);
		return pt_exit_code(-ret);
	}
	pt_param_read("max_pending", &maxp);
	pt_param_read("race_delay_us", &delay);
	inv = pt_invariant_ok(&s);
	if (json) {
		printf("{\"device\": \"%s\"", dev);
		for (i = 0; i < pt_stat_fields_nr; i++)
			printf(", \"%s\": %llu", pt_stat_fields[i].name,
			       (unsigned long long)pt_stat_get(&s, i));
		printf(", \"invariant_ok\": %s", inv ? "true" : "false");
		if (maxp >= 0)
			printf(", \"max_pending\": %lld", maxp);
		if (delay >= 0)
			printf(", \"race_delay_us\": %lld", delay);
		printf("}\n");
		return EXIT_OK;
	}
	printf("%s\n", dev);
	for (i = 0; i < pt_stat_fields_nr; i++)
		printf("  %-22s %12llu   %s\n", pt_stat_fields[i].name,
		       (unsigned long long)pt_stat_get(&s, i), stat_what[i]);
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
