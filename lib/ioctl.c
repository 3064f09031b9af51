// SPDX-License-Identifier: LGPL-2.1 OR MIT
/* libpendtimer: the device node and the ioctls of SPEC.md section 2. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "pendtimer.h"

int pt_open_path(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int pt_open_id(int id)
{
	char path[64];

	pt_dev_node(path, sizeof(path), id);
	return pt_open_path(path);
}

int pt_open(void)
{
	return pt_open_id(0);
}

int pt_ioctl(int fd, unsigned long req, void *arg)
{
	int ret = ioctl(fd, req, arg);

	return ret < 0 ? -errno : ret;
}

int pt_wait(int fd, uint64_t timeout_ns, uint64_t tag)
{
	struct pendtimer_wait w = { .timeout_ns = timeout_ns, .tag = tag };

	return pt_ioctl(fd, PENDTIMER_IOC_WAIT, &w);
}

int pt_arm_flags(int fd, uint64_t timeout_ns, uint64_t tag, int efd,
		 uint32_t flags)
{
	struct pendtimer_arm a = {
		.timeout_ns = timeout_ns,
		.tag = tag,
		.eventfd = efd,
		.flags = flags,
	};

	return pt_ioctl(fd, PENDTIMER_IOC_ARM, &a);
}

int pt_arm(int fd, uint64_t timeout_ns, uint64_t tag, int efd)
{
	return pt_arm_flags(fd, timeout_ns, tag, efd, 0);
}

int pt_cancel(int fd, uint64_t tag)
{
	__u64 t = tag;

	return pt_ioctl(fd, PENDTIMER_IOC_CANCEL, &t);
}

int pt_stats(int fd, struct pendtimer_stats *s)
{
	memset(s, 0xa5, sizeof(*s));	/* make "not written" visible */
	return pt_ioctl(fd, PENDTIMER_IOC_STATS, s);
}
