// SPDX-License-Identifier: LGPL-2.1 OR MIT
/* libpendtimer: files, sysfs (bus, driver, parameters), debugfs, tracefs, slab. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pendtimer.h"

bool pt_path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

bool pt_wait_path(const char *path, bool want, unsigned int timeout_ms)
{
	uint64_t deadline = pt_now_ns() + (uint64_t)timeout_ms * PT_NSEC_PER_MSEC;

	while (pt_path_exists(path) != want) {
		if (pt_now_ns() > deadline)
			return false;
		pt_sleep_ms(5);
	}
	return true;
}

bool pt_module_loaded(void)
{
	return pt_path_exists(PT_SYSMOD);
}

int pt_write_buf(const char *path, const char *buf, size_t len)
{
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do {
		n = write(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	close(fd);
	return ret;
}

int pt_write_str(const char *path, const char *s)
{
	return pt_write_buf(path, s, strlen(s));
}

int pt_write_fmt(const char *path, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return pt_write_str(path, buf);
}

int pt_read_buf(const char *path, char *buf, size_t len)
{
	size_t tot = 0;
	ssize_t n = 0;
	int fd;

	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (tot < len - 1) {
		n = read(fd, buf + tot, len - 1 - tot);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		tot += (size_t)n;
	}
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	buf[tot] = '\0';
	return (int)tot;
}

char *pt_read_file(const char *path, size_t *lenp)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap + 1);
	ssize_t n;
	int fd;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len)) > 0) {
		len += (size_t)n;
		if (len == cap) {
			char *nb = realloc(buf, cap * 2 + 1);

			if (!nb) {
				n = -1;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

int pt_read_ll(const char *path, long long *val)
{
	char buf[64];
	int n = pt_read_buf(path, buf, sizeof(buf));

	if (n < 0)
		return n;
	errno = 0;
	*val = strtoll(buf, NULL, 0);
	return errno ? -errno : 0;
}

int pt_param_read(const char *name, long long *val)
{
	char path[256];

	snprintf(path, sizeof(path), PT_PARAMS "%s", name);
	return pt_read_ll(path, val);
}

int pt_param_write(const char *name, long long val)
{
	char path[256], buf[64];

	snprintf(path, sizeof(path), PT_PARAMS "%s", name);
	snprintf(buf, sizeof(buf), "%lld\n", val);
	return pt_write_str(path, buf);
}

bool pt_slab_listed(const char *name)
{
	size_t nlen = strlen(name);
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/slabinfo", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, nlen) &&
		    (line[nlen] == ' ' || line[nlen] == '\t')) {
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

/* ------------------------------------------------------------------ */
/* devices on the pendtimer bus */

void pt_dev_node(char *buf, size_t len, int id)
{
	snprintf(buf, len, PT_DEV_FMT, id);
}

bool pt_dev_node_exists(int id)
{
	char p[64];

	pt_dev_node(p, sizeof(p), id);
	return pt_path_exists(p);
}

bool pt_wait_dev_node(int id, bool want)
{
	char p[64];

	pt_dev_node(p, sizeof(p), id);
	return pt_wait_path(p, want, 3000);
}

/* PT_SYSBUS/devices/pendtimer<id>/<rel> exists? */
static bool bus_dev_has(int id, const char *rel)
{
	char p[160];

	snprintf(p, sizeof(p), PT_SYSBUS "/devices/pendtimer%d%s", id, rel);
	return pt_path_exists(p);
}

bool pt_bus_dev_exists(int id)
{
	return bus_dev_has(id, "");
}

bool pt_bus_dev_bound(int id)
{
	return bus_dev_has(id, "/driver");
}

int pt_trace_record_cmd_off(const char *root, char *was)
{
	char path[300], *val;
	int ret = 0;

	*was = 0;
	snprintf(path, sizeof(path), "%s/options/record-cmd", root);
	val = pt_read_file(path, NULL);
	if (!val)
		return -ENOENT;
	if (val[0] == '1') {
		ret = pt_write_str(path, "0");
		if (!ret)
			*was = '1';
	}
	free(val);
	return ret;
}

int pt_trace_record_cmd_restore(const char *root, char was)
{
	char path[300], val[2] = { was, '\0' };

	if (!was)
		return 0;
	snprintf(path, sizeof(path), "%s/options/record-cmd", root);
	return pt_write_str(path, val);
}

bool pt_debugfs_dir_exists(int id)
{
	char p[128];

	snprintf(p, sizeof(p), PT_DEBUGFS "/pendtimer%d", id);
	return pt_path_exists(p);
}

int pt_new_device(int id)
{
	return pt_write_fmt(PT_NEW_DEVICE, "%d\n", id);
}

int pt_del_device(int id)
{
	return pt_write_fmt(PT_DEL_DEVICE, "%d\n", id);
}

int pt_drv_write(const char *file, int id)
{
	char path[128];

	snprintf(path, sizeof(path), PT_DRV "/%s", file);
	return pt_write_fmt(path, "pendtimer%d", id);
}

int pt_debugfs_value(int id, const char *file, const char *name,
		     long long *val)
{
	char path[128], key[64], *buf, *p;
	int ret = -ENOENT;

	snprintf(path, sizeof(path), PT_DEBUGFS "/pendtimer%d/%s", id, file);
	buf = pt_read_file(path, NULL);
	if (!buf)
		return -errno;
	snprintf(key, sizeof(key), "%s: ", name);
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, key, strlen(key))) {
			*val = strtoll(p + strlen(key), NULL, 10);
			ret = 0;
			break;
		}
	}
	free(buf);
	return ret;
}
