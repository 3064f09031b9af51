// SPDX-License-Identifier: MIT
/*
 * A pendtimer client of your own, on the installed libpendtimer:
 *
 *   cc -o client client.c -lpendtimer -pthread
 *   ./client [SECONDS]            (root, or group access: docs/install.md)
 *
 * It ARMs two requests on one eventfd, CANCELs the second, waits for the
 * first to signal, and checks the device's accounting invariant.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pendtimer.h>

int main(int argc, char **argv)
{
	double secs = argc > 1 ? strtod(argv[1], NULL) : 0.5;
	uint64_t timeout_ns = (uint64_t)(secs * PT_NSEC_PER_SEC);
	struct pendtimer_stats s;
	char line[320];
	struct pollfd p;
	int fd, efd, ret;

	fd = pt_open();			/* /dev/pendtimer0 */
	if (fd < 0) {
		fprintf(stderr, "open " PT_DEV0 ": %s\n", strerror(-fd));
		return 1;
	}
	efd = pt_eventfd();
	if (efd < 0) {
		fprintf(stderr, "eventfd: %s\n", strerror(-efd));
		return 1;
	}
	ret = pt_arm(fd, timeout_ns, 1, efd);
	if (!ret)
		ret = pt_arm(fd, timeout_ns, 2, efd);
	if (ret) {
		fprintf(stderr, "ARM: %s\n", strerror(-ret));
		return 1;
	}
	printf("ARM tags 1 and 2, due in %.3f s\n", secs);

	ret = pt_cancel(fd, 2);
	printf("CANCEL tag 2: %s\n", ret ? strerror(-ret) : "cancelled (never signals)");

	p = (struct pollfd){ .fd = efd, .events = POLLIN };
	if (poll(&p, 1, (int)(secs * 1000) + 5000) != 1) {
		fprintf(stderr, "the eventfd was not signalled\n");
		return 1;
	}
	printf("eventfd: %lld request(s) fired\n", (long long)pt_eventfd_take(efd));

	ret = pt_settle(fd, 5000, &s);
	pt_stats_fmt(line, sizeof(line), &s);
	printf("STATS %s\ninvariant %s\n", line,
	       pt_invariant_ok(&s) ? "holds" : "DOES NOT HOLD");
	close(efd);
	close(fd);
	return ret || !pt_invariant_ok(&s);
}
