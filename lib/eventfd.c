// SPDX-License-Identifier: LGPL-2.1 OR MIT
/* libpendtimer: the eventfd an ARM signals. */
#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pendtimer.h"

int pt_eventfd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int64_t pt_eventfd_take(int efd)
{
	uint64_t v;
	ssize_t n = read(efd, &v, sizeof(v));

	if (n == sizeof(v))
		return (int64_t)v;
	if (n < 0 && errno == EAGAIN)
		return 0;
	return n < 0 ? -errno : -EIO;
}
