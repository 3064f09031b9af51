// SPDX-License-Identifier: LGPL-2.1 OR MIT
/* libpendtimer: CPUs, pinning, threads, the kernel version. */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "pendtimer.h"

/*
 * vm/check.sh boots the sanitizer lanes (KASAN, KCSAN) with pt.scale=10 and
 * run-tests.sh exports it as PT_SCALE: the same code paths, a tenth of the
 * requests.
 */
int pt_scaled(int n)
{
	const char *e = getenv("PT_SCALE");
	long d = e ? strtol(e, NULL, 10) : 1;

	if (d < 1)
		d = 1;
	return n / d > 0 ? (int)(n / d) : 1;
}

int pt_online_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	return CPU_COUNT(&set);
}

int pt_nth_cpu(int n)
{
	cpu_set_t set;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set) && n-- == 0)
			return cpu;
	return -1;
}

int pt_pin_thread(pthread_t th, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(th, sizeof(set), &set);
}

int pt_pin_self(int cpu)
{
	return pt_pin_thread(pthread_self(), cpu);
}

int pt_join_ms(pthread_t th, unsigned int timeout_ms)
{
	struct timespec ts;
	uint64_t ns;

	clock_gettime(CLOCK_REALTIME, &ts);
	ns = (uint64_t)ts.tv_nsec + (uint64_t)timeout_ms * PT_NSEC_PER_MSEC;
	ts.tv_sec += (time_t)(ns / PT_NSEC_PER_SEC);
	ts.tv_nsec = (long)(ns % PT_NSEC_PER_SEC);
	return -pthread_timedjoin_np(th, NULL, &ts);
}

int pt_count_threads(struct pt_threads *t)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;

	t->total = t->iowq = 0;
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char path[300], comm[32] = "";
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		t->total++;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;	/* the thread ended meanwhile */
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "iou-wrk-", 8))
			t->iowq++;
		fclose(f);
	}
	closedir(d);
	return 0;
}

int pt_kernel_version(char *release, size_t len)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u))
		return 0;
	if (release)
		snprintf(release, len, "%s", u.release);
	if (sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return 0;
	return major * 1000 + minor;
}

bool pt_pend_supported(void)
{
	return pt_kernel_version(NULL, 0) >= PT_PEND_MIN_VERSION;
}
