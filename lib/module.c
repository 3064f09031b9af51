// SPDX-License-Identifier: LGPL-2.1 OR MIT
/* libpendtimer: loading and unloading the module (root only). */
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pendtimer.h"

int pt_finit_module(int kofd, const char *params)
{
	return syscall(SYS_finit_module, kofd, params ? params : "", 0) ?
	       -errno : 0;
}

int pt_insmod(const char *ko, const char *params)
{
	int fd, ret;

	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = pt_finit_module(fd, params);
	close(fd);
	return ret;
}

int pt_rmmod_once(void)
{
	return syscall(SYS_delete_module, PT_MODNAME, O_NONBLOCK) ? -errno : 0;
}

int pt_rmmod(unsigned int timeout_ms)
{
	uint64_t deadline = pt_now_ns() + (uint64_t)timeout_ms * PT_NSEC_PER_MSEC;
	int ret;

	for (;;) {
		ret = pt_rmmod_once();
		if (ret != -EAGAIN && ret != -EBUSY)
			return ret;
		if (pt_now_ns() > deadline)
			return ret;
		pt_sleep_ms(10);
	}
}
