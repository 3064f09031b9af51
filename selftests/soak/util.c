// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_soak: time, random numbers, sysfs, the soak device and its counters, CPU
 * pinning.
 */
#include "soak.h"

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Sleep until 300 us before @t, then spin: the CPU is free meanwhile. */
void spin_until(uint64_t t)
{
	uint64_t now = now_ns();

	if (now + 400 * NSEC_PER_USEC < t) {
		struct timespec ts = {
			.tv_sec = (time_t)((t - 300 * NSEC_PER_USEC) / NSEC_PER_SEC),
			.tv_nsec = (long)((t - 300 * NSEC_PER_USEC) % NSEC_PER_SEC),
		};

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	}
	while (now_ns() < t)
		;
}

void sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / NSEC_PER_SEC),
		.tv_nsec = (long)(ns % NSEC_PER_SEC),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int write_num(const char *path, long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", v);
	return write_str(path, buf);
}

long read_num(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 0);
}

bool dev_bound(void)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), BUS "devices/pendtimer%d/driver", SOAK_ID);
	return !stat(path, &st);
}

bool dev_exists(void)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), BUS "devices/pendtimer%d", SOAK_ID);
	return !stat(path, &st);
}

int dev_open(void)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/pendtimer%d", SOAK_ID);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int stats(int fd, struct pendtimer_stats *st)
{
	memset(st, 0xa5, sizeof(*st));
	return ioctl(fd, PENDTIMER_IOC_STATS, st) ? -errno : 0;
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

/* Wait until the device is quiet; the stats of a fresh descriptor. */
int settle(struct pendtimer_stats *st)
{
	uint64_t deadline = now_ns() + 60 * NSEC_PER_SEC;
	struct pendtimer_stats b;
	int fd = dev_open(), ret;

	if (fd < 0)
		return fd;
	for (;;) {
		ret = stats(fd, st);
		if (ret)
			break;
		if (st->pending == 0 && invariant_ok(st)) {
			sleep_ns(100 * NSEC_PER_USEC);
			ret = stats(fd, &b);
			if (ret || !memcmp(st, &b, sizeof(b)))
				break;
		}
		if (now_ns() > deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		sleep_ns(NSEC_PER_MSEC);
	}
	close(fd);
	return ret;
}

int pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}
