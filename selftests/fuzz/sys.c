// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_fuzz: small system helpers: sysfs files, module parameters, STATS.
 */
#include "fuzz.h"

/* ------------------------------------------------------------------ */
/* small system helpers */

int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int ret = 0;

	if (fd < 0)
		return -errno;
	do {
		n = write(fd, s, strlen(s));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != strlen(s))
		ret = -EIO;
	close(fd);
	return ret;
}

int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, tot = 0;

	if (fd < 0)
		return -errno;
	while ((size_t)tot < len - 1) {
		n = read(fd, buf + tot, len - 1 - tot);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		tot += n;
	}
	buf[tot] = '\0';
	close(fd);
	return (int)tot;
}

int read_param(const char *name)
{
	char path[128], buf[64];

	snprintf(path, sizeof(path), PARAMS "%s", name);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	return atoi(buf);
}

int write_param(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), PARAMS "%s", name);
	return write_str(path, val);
}

bool path_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

int dev_minor_of(int id, unsigned int *minor)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/pendtimer%d", id);
	if (stat(path, &st))
		return -errno;
	*minor = minor(st.st_rdev);
	return 0;
}

int slot_sysfs_state(int id)
{
	char path[128];

	snprintf(path, sizeof(path), BUS "devices/pendtimer%d", id);
	if (!path_exists(path))
		return SL_ABSENT;
	snprintf(path, sizeof(path), BUS "devices/pendtimer%d/driver", id);
	return path_exists(path) ? SL_BOUND : SL_UNBOUND;
}

int stats_of_fd(int fd, struct pendtimer_stats *st)
{
	memset(st, 0xa5, sizeof(*st));
	return ioctl(fd, PENDTIMER_IOC_STATS, st) ? -errno : 0;
}

bool reserved_zero(const struct pendtimer_stats *s)
{
	unsigned int i;

	for (i = 0; i < 7; i++)
		if (s->reserved[i])
			return false;
	return true;
}

bool invariant_ok(const struct pendtimer_stats *s)
{
	return s->submitted == s->fired + s->cancelled + s->interrupted +
			       s->flushed + s->removed + s->pending;
}

void stats_str(char *buf, size_t len, const struct pendtimer_stats *s)
{
	snprintf(buf, len,
		 "submitted=%llu fired=%llu cancelled=%llu interrupted=%llu flushed=%llu removed=%llu pending=%llu timer_late=%llu cleanup_deferred=%llu",
		 (unsigned long long)s->submitted, (unsigned long long)s->fired,
		 (unsigned long long)s->cancelled, (unsigned long long)s->interrupted,
		 (unsigned long long)s->flushed, (unsigned long long)s->removed,
		 (unsigned long long)s->pending, (unsigned long long)s->race_timer_late,
		 (unsigned long long)s->race_cleanup_deferred);
}

__u64 stat_field(const struct pendtimer_stats *s, int o)
{
	switch (o) {
	case O_FIRED:
		return s->fired;
	case O_CANCELLED:
		return s->cancelled;
	case O_INTR:
		return s->interrupted;
	case O_FLUSHED:
		return s->flushed;
	default:
		return s->removed;
	}
}
