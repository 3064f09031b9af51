// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_bench: time, output, options' sections, CPU pinning, random numbers,
 * percentiles, and small file helpers (sysfs, /proc/meminfo, slabinfo).
 */
#include "bench.h"

void say(const char *fmt, ...)
{
	va_list ap;
	double t = (double)(pt_now_ns() - t_start) / 1e9;

	printf("# [%6.1fs] ", t);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void fail(const char *fmt, ...)
{
	va_list ap;

	printf("# FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	failures++;
}

/* -t takes a list separated by ',' or '+' (pt.bench= turns ',' into ' '). */
bool section_on(const char *name)
{
	const char *p = opt_sections;
	size_t n = strlen(name);

	while (p && *p) {
		if (!strncmp(p, name, n) && (p[n] == ',' || p[n] == '+' || p[n] == '\0'))
			return true;
		p = strpbrk(p, ",+");
		if (p)
			p++;
	}
	return false;
}

/*
 * The latency contenders run pinned to one CPU, and so do the io-wq workers
 * of their ring: every contender then sleeps and wakes on the CPU whose
 * timer interrupt fires, and none pays a cross-CPU wake-up (under TCG, a
 * halted vCPU thread that the busy host must schedule first).
 */
cpu_set_t pin_set;
bool pinned;

void pin(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int cpu = opt_cpu == -2 ? (int)(ncpu > 0 ? ncpu - 1 : 0) : opt_cpu;

	if (cpu < 0)
		return;
	CPU_ZERO(&pin_set);
	CPU_SET(cpu, &pin_set);
	pinned = !sched_setaffinity(0, sizeof(pin_set), &pin_set);
}

void unpin(void)
{
	cpu_set_t all;
	int i;

	if (!pinned)
		return;
	CPU_ZERO(&all);
	for (i = 0; i < CPU_SETSIZE; i++)
		CPU_SET(i, &all);
	sched_setaffinity(0, sizeof(all), &all);
	pinned = false;
}

void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n, sz);

	if (!p) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	return p;
}

/* xorshift64*: reproducible random picks */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* nearest-rank percentile of sorted @v */
int64_t pct(const int64_t *v, size_t n, double p)
{
	size_t i;

	if (!n)
		return 0;
	if (p <= 0)
		return v[0];
	i = (size_t)((p / 100.0) * (double)n + 0.999999999);
	if (i < 1)
		i = 1;
	if (i > n)
		i = n;
	return v[i - 1];
}

/*
 * The distribution-free 95 % interval of the median of sorted @v: the order
 * statistics at ranks n/2 -/+ 0.98 sqrt(n) (the binomial's normal
 * approximation), rounded outwards.
 */
void median_interval(const int64_t *v, size_t n, int64_t *lo, int64_t *hi)
{
	size_t r = 0, m = (n + 1) / 2 - 1;	/* pct(v, n, 50)'s index */

	if (!n) {
		*lo = *hi = 0;
		return;
	}
	while ((double)r * (double)r < 0.9604 * (double)n)
		r++;
	*lo = v[m >= r ? m - r : 0];
	*hi = v[m + r < n ? m + r : n - 1];
}

double median_dbl(double *v, size_t n)
{
	if (!n)
		return -1;
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ------------------------------------------------------------------ */
/* small file helpers */

void kmem_read(struct kmem *m)
{
	char line[256];
	FILE *f;

	/* Fold the per-CPU vmstat deltas (up to ~1 MB per CPU) first. */
	pt_write_str("/proc/sys/vm/stat_refresh", "1");
	memset(m, 0, sizeof(*m));
	f = fopen("/proc/meminfo", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Slab:", 5))
			m->slab_kb = atoll(line + 5);
		else if (!strncmp(line, "VmallocUsed:", 12))
			m->vmalloc_kb = atoll(line + 12);
		else if (!strncmp(line, "Percpu:", 7))
			m->percpu_kb = atoll(line + 7);
	}
	fclose(f);
}

/*
 * Release the empty slabs of every cache (SLUB's shrink) before a memory
 * measurement, so that what it allocates grows the caches instead of
 * refilling objects that earlier sections freed and the caches kept: on
 * 7.3 the growth had counted 29.7 bytes for each 56-byte pendtimer_req.
 * Both sides of a comparison start from this state. Best effort.
 */
void kmem_settle(void)
{
	DIR *d = opendir("/sys/kernel/slab");
	char path[PATH_MAX];
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink", e->d_name);
		pt_write_str(path, "1");
	}
	closedir(d);
}

long long kmem_delta_bytes(const struct kmem *a, const struct kmem *b)
{
	return ((b->slab_kb - a->slab_kb) + (b->vmalloc_kb - a->vmalloc_kb) +
		(b->percpu_kb - a->percpu_kb)) * 1024;
}

int slab_read(const char *name, struct slabline *s)
{
	char line[512], nm[64];
	size_t len = strlen(name);
	FILE *f = fopen("/proc/slabinfo", "re");
	int ret = -1;

	memset(s, 0, sizeof(*s));
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, len) || line[len] != ' ')
			continue;
		if (sscanf(line, "%63s %lld %lld %lld %lld %lld : tunables %*d %*d %*d : slabdata %*d %lld",
			   nm, &s->active, &s->num, &s->objsize, &s->objperslab,
			   &s->pagesperslab, &s->slabs) == 7)
			ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

long long slab_bytes(const struct slabline *s)
{
	return s->slabs * s->pagesperslab * 4096;
}
