// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer new-device ID, del-device ID: writes to the pendtimer bus.
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

int cmd_bus(const char *file, enum pt_op op, int argc, char **argv)
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
