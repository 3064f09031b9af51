// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_bench: pendtimer against the kernel's own timers and io_uring,
 * side by side in one run (issue 5; docs/performance.md). Runs in the
 * guest as root with the module loaded (vm/guest/run-bench.sh). Absolute
 * times under QEMU/TCG mean little, the ratios do: the contenders are
 * interleaved so that they share the noise. Sections (-t):
 *
 *   latency     overshoot (actual - requested, CLOCK_MONOTONIC, measured in
 *               user space around one blocking call) at 100 us and 1 ms of
 *               clock_nanosleep, timerfd + read, io_uring IORING_OP_TIMEOUT,
 *               pendtimer WAIT ioctl, pendtimer URING_CMD WAIT, pendtimer
 *               ARM + eventfd read and pendtimer PEND (a URING_CMD the driver
 *               parks, submitted and waited for with one io_uring_enter;
 *               kernels from 6.7): -n samples of each (2000), one of each
 *               in turn with the order rotating, after 20 warm-up rounds;
 *               p50, p99, max and the CDF for the plot. Pinned to one CPU
 *               (-c), with the io-wq workers of the ring.
 *   cancel      N = 1k, 10k, 100k pending in one open file (pendtimer, ARMs
 *               of 1 h) or one ring (io_uring, pure timeouts, user_data =
 *               tag); batches of random tags, re-armed after each batch so
 *               that N stay pending: pendtimer CANCEL ioctl (100 per batch,
 *               one system call each), io_uring IORING_OP_TIMEOUT_REMOVE by
 *               user_data (64 per io_uring_enter) and, for reference,
 *               pendtimer URING_CMD CANCEL (64 per io_uring_enter). 57
 *               batches each after 3 of warm-up (io_uring: at least 10,
 *               then as many as fit in 12 s); the median batch's mean ns per
 *               cancel.
 *   memory      kernel memory per pending request at 100k (-N): Slab +
 *               VmallocUsed + Percpu of /proc/meminfo (after vm.stat_refresh)
 *               before and after arming 100k ARMs, so the kvmalloc'd hash
 *               table is included; the same for 100k io_uring timeouts in a
 *               ring already set up. Median of 5 repetitions. Then once more
 *               inside a child memory cgroup (details only).
 *   teardown    with 100k pending: close() of the pendtimer file, write to
 *               del_device (a device created for it), io_uring_queue_exit()
 *               of the ring; 5 repetitions interleaved with the memory ones,
 *               median. PEND (from 6.7): 100k parked in one ring, measured
 *               the same way in the same repetitions, split into pendtimer's
 *               own part (its pendtimer_req cache and what is in no slab
 *               cache: the tag hash) and io_uring's (io_kiocb and its other
 *               caches); the ring's close is timed (details).
 *   throughput  completions/s of zero-timeout requests, 3 rounds of 1 s:
 *               io_uring TIMEOUT 0, 256 per io_uring_enter; pendtimer ARM 0,
 *               256 ioctls then eventfd reads; pendtimer WAIT 0 from 4
 *               threads. The faster pendtimer variant is reported. PEND
 *               (from 6.7): timeout 0, 256 per io_uring_enter, reported on
 *               its own.
 *   threads     1000 pending of each kind submitted at once: the threads the
 *               process gained (/proc/self/task) with URING_CMD WAITs (each
 *               sleeps in an io-wq worker), PENDs, io_uring timeouts.
 *   costs       (details only) ns per call, without sleeping, of getppid,
 *               clock_gettime, an -ENOTTY ioctl on /dev/null and on
 *               pendtimer, CANCEL of an absent tag, ARM + CANCEL, STATS.
 *   diag        (details only) where the overshoot goes, from the
 *               tracepoints timer:hrtimer_start, timer:hrtimer_expire_entry
 *               and pendtimer:pendtimer_complete (trace clock mono): call ->
 *               timer armed, expiry -> interrupt, interrupt -> back in user
 *               space; 500 samples per contender and requested time.
 *
 * Every thread runs with PR_SET_TIMERSLACK = 1 ns. max_pending is raised
 * to 1048576 for the run and restored.
 *
 * Output: "# " progress lines and the table on stdout, results.json (-o),
 * the latency CDFs for the plot (-s), extra figures as JSON (-d). Exit
 * status 1 if any check failed (a request completing wrongly, an
 * unexpected error), 2 for bad usage.
 *
 * Usage: pendtimer_bench [-o JSON] [-s SAMPLES] [-d DETAILS] [-n SAMPLES]
 *                        [-N BIG] [-t SECTION[,+]...] [-l LANE] [-c CPU|-1]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>
#include <linux/pendtimer.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define NS_PER_US	1000ULL
#define NS_PER_MS	1000000ULL
#define NS_PER_S	1000000000ULL
#define LONG_TIMEOUT	PENDTIMER_MAX_TIMEOUT_NS	/* never fires during the run */

#define DEV0		"/dev/pendtimer0"
#define PARAM_MAXPEND	"/sys/module/pendtimer/parameters/max_pending"
#define BUS_NEW		"/sys/bus/pendtimer/new_device"
#define BUS_DEL		"/sys/bus/pendtimer/del_device"
#define TRACEFS		"/sys/kernel/tracing"
#define CGROOT		"/sys/fs/cgroup"
#define CGBENCH		CGROOT "/pendtimer-bench"

/* ------------------------------------------------------------------ */
/* options, time, progress */

static const char *opt_json = "/tmp/pendtimer-bench.json";
static const char *opt_samples = "/tmp/pendtimer-bench-samples.txt";
static const char *opt_details = "/tmp/pendtimer-bench-details.json";
static const char *opt_lane = "unknown";
static const char *opt_sections = "latency,costs,diag,cancel,memory,teardown,throughput,threads";
static unsigned int opt_nsamples = 2000;
static unsigned int opt_big = 100000;
static int opt_cpu = -2;	/* -2: the last online CPU; -1: no pinning */
static int failures;
/* PEND works on this kernel (io_uring_cmd_mark_cancelable(), from 6.7) */
static bool pend_ok;
static uint64_t t_start;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void say(const char *fmt, ...)
{
	va_list ap;
	double t = (double)(now_ns() - t_start) / 1e9;

	printf("# [%6.1fs] ", t);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void fail(const char *fmt, ...)
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
static bool section_on(const char *name)
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
static cpu_set_t pin_set;
static bool pinned;

static void pin(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int cpu = opt_cpu == -2 ? (int)(ncpu > 0 ? ncpu - 1 : 0) : opt_cpu;

	if (cpu < 0)
		return;
	CPU_ZERO(&pin_set);
	CPU_SET(cpu, &pin_set);
	pinned = !sched_setaffinity(0, sizeof(pin_set), &pin_set);
}

static void unpin(void)
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

static void *xcalloc(size_t n, size_t sz)
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

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static int cmp_i64(const void *a, const void *b)
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
static int64_t pct(const int64_t *v, size_t n, double p)
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

static double median_dbl(double *v, size_t n)
{
	if (!n)
		return -1;
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ------------------------------------------------------------------ */
/* small file helpers */

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int err;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	err = n < 0 ? -errno : 0;
	close(fd);
	return err;
}

static long long read_ll(const char *path)
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
	buf[n] = 0;
	return strtoll(buf, NULL, 10);
}

struct kmem {
	long long slab_kb, vmalloc_kb, percpu_kb;
};

static void kmem_read(struct kmem *m)
{
	char line[256];
	FILE *f;

	/* Fold the per-CPU vmstat deltas (up to ~1 MB per CPU) first. */
	write_str("/proc/sys/vm/stat_refresh", "1");
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

static long long kmem_delta_bytes(const struct kmem *a, const struct kmem *b)
{
	return ((b->slab_kb - a->slab_kb) + (b->vmalloc_kb - a->vmalloc_kb) +
		(b->percpu_kb - a->percpu_kb)) * 1024;
}

struct slabline {
	long long active, num, objsize, objperslab, pagesperslab, slabs;
};

static int slab_read(const char *name, struct slabline *s)
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

static long long slab_bytes(const struct slabline *s)
{
	return s->slabs * s->pagesperslab * 4096;
}

/* ------------------------------------------------------------------ */
/* pendtimer and io_uring wrappers */

static int pt_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

static int pt_arm(int fd, uint64_t timeout, uint64_t tag, int efd)
{
	struct pendtimer_arm a = {
		.timeout_ns = timeout, .tag = tag, .eventfd = efd, .flags = 0,
	};

	return pt_ioctl(fd, PENDTIMER_IOC_ARM, &a);
}

static int pt_cancel(int fd, uint64_t tag)
{
	return pt_ioctl(fd, PENDTIMER_IOC_CANCEL, &tag);
}

static int pt_pending(int fd, uint64_t *pending)
{
	struct pendtimer_stats st;
	int ret = pt_ioctl(fd, PENDTIMER_IOC_STATS, &st);

	if (!ret)
		*pending = st.pending;
	return ret;
}

/* ARM @n requests with tags @tags[0..n) (or first..first+n if !tags). */
static int arm_many(int fd, int efd, const uint64_t *tags, uint64_t first,
		    size_t n, uint64_t timeout)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = pt_arm(fd, timeout, tags ? tags[i] : first + i, efd);
		if (ret) {
			fail("ARM #%zu (tag %" PRIu64 "): %s", i,
			     tags ? tags[i] : first + i, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* A URING_CMD SQE by hand (liburing 2.3 has no io_uring_prep_cmd*). */
static void prep_uring_cmd(struct io_uring_sqe *sqe, int fd, __u32 cmd_op,
			   const void *cmd, size_t len, __u64 user_data)
{
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = cmd_op;
	sqe->__pad1 = 0;
	memcpy(sqe->cmd, cmd, len);
	io_uring_sqe_set_data64(sqe, user_data);
}

static int ring_init(struct io_uring *ring, unsigned int sq, unsigned int cq)
{
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof(p));
	if (cq) {
		p.flags = IORING_SETUP_CQSIZE;
		p.cq_entries = cq;
	}
	ret = io_uring_queue_init_params(sq, ring, &p);
	if (ret)
		fail("io_uring_queue_init_params(%u, cq %u): %s", sq, cq, strerror(-ret));
	return ret;
}

static struct io_uring_sqe *get_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

/* Submit @n pure timeouts (count 0) of @timeout with user_data @uds[i]. */
static struct __kernel_timespec long_ts = { .tv_sec = 3600 };

static int uring_add_timeouts(struct io_uring *ring, const uint64_t *uds,
			      uint64_t first, size_t n)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = get_sqe(ring);

		if (!sqe) {
			fail("io_uring: no SQE");
			return -EBUSY;
		}
		io_uring_prep_timeout(sqe, &long_ts, 0, 0);
		io_uring_sqe_set_data64(sqe, uds ? uds[i] : first + i);
	}
	ret = io_uring_submit(ring);
	if (ret < 0) {
		fail("io_uring_submit: %s", strerror(-ret));
		return ret;
	}
	/* No CQE may have come: they are all pending. */
	if (io_uring_cq_ready(ring)) {
		struct io_uring_cqe *cqe;

		io_uring_peek_cqe(ring, &cqe);
		fail("io_uring timeout completed early: ud %llu res %d",
		     (unsigned long long)cqe->user_data, cqe->res);
		return -EIO;
	}
	return 0;
}

/*
 * Submit @n PENDs of @timeout on @fd, tags and user_data @first + i. A PEND
 * with a long timeout must not complete at submission (-ENOSPC, ...):
 * @parked checks that no CQE came.
 */
static int pend_submit(struct io_uring *ring, int fd, uint64_t timeout, uint64_t first,
		       size_t n, bool parked)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		struct pendtimer_wait w = { .timeout_ns = timeout, .tag = first + i };
		struct io_uring_sqe *sqe = get_sqe(ring);

		if (!sqe) {
			fail("PEND: no SQE");
			return -EBUSY;
		}
		prep_uring_cmd(sqe, fd, PENDTIMER_URING_PEND, &w, sizeof(w), first + i);
	}
	ret = io_uring_submit(ring);
	if (ret < 0) {
		fail("PEND io_uring_submit: %s", strerror(-ret));
		return ret;
	}
	if (parked && io_uring_cq_ready(ring)) {
		struct io_uring_cqe *cqe;

		io_uring_peek_cqe(ring, &cqe);
		fail("PEND completed at submission: ud %llu res %d",
		     (unsigned long long)cqe->user_data, cqe->res);
		return -EIO;
	}
	return 0;
}

/*
 * Does this kernel park PENDs? Before 6.7 (no io_uring_cmd_mark_cancelable())
 * a PEND completes at once with -EOPNOTSUPP, and its figures are left out.
 */
static void pend_probe(void)
{
	struct pendtimer_wait w = { .timeout_ns = 0, .tag = 1 };
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	int fd, ret, res;

	fd = open(DEV0, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ring_init(&ring, 4, 0)) {
		fail("PEND probe: setup: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	prep_uring_cmd(io_uring_get_sqe(&ring), fd, PENDTIMER_URING_PEND, &w, sizeof(w), 1);
	ret = io_uring_submit_and_wait(&ring, 1);
	if (ret >= 0)
		ret = io_uring_wait_cqe(&ring, &cqe);
	if (ret < 0) {
		fail("PEND probe: %s", strerror(-ret));
	} else {
		res = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (res == 0)
			pend_ok = true;
		else if (res == -EOPNOTSUPP)
			say("PEND: -EOPNOTSUPP on this kernel (before 6.7): no PEND figures");
		else
			fail("PEND probe: CQE res %d, expected 0 or -EOPNOTSUPP", res);
	}
	io_uring_queue_exit(&ring);
	close(fd);
}

/*
 * Reap exactly @n CQEs (waiting for them); count those with res == @want
 * for user_data with bit 63 == @hi (others must have res == @want2).
 */
static int reap_n(struct io_uring *ring, unsigned int n, int want_hi, int want_lo)
{
	unsigned int got = 0;
	int bad = 0;

	while (got < n) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;
		int ret = io_uring_wait_cqe(ring, &cqe);

		if (ret) {
			fail("io_uring_wait_cqe: %s", strerror(-ret));
			return ret;
		}
		io_uring_for_each_cqe(ring, head, cqe) {
			int want = (cqe->user_data >> 63) ? want_hi : want_lo;

			if (cqe->res != want && !bad++)
				fail("io_uring CQE ud %#llx res %d, expected %d",
				     (unsigned long long)cqe->user_data, cqe->res, want);
			seen++;
		}
		io_uring_cq_advance(ring, seen);
		got += seen;
	}
	return bad ? -EIO : 0;
}

/* ------------------------------------------------------------------ */
/* JSON and details */

struct latres {
	int64_t p50, p99, max;
	bool ok;
};

enum {
	L_NANOSLEEP, L_TIMERFD, L_URING, L_PT_WAIT, L_PT_URING, L_PT_ARM, L_PT_PEND,
	NR_IMPL
};

static const char *const impl_name[NR_IMPL] = {
	"nanosleep", "timerfd", "io_uring_timeout", "pendtimer_wait",
	"pendtimer_uring_cmd", "pendtimer_arm_eventfd", "pendtimer_uring_pend",
};
static const uint64_t periods[2] = { 100 * NS_PER_US, NS_PER_MS };
static const char *const period_name[2] = { "100us", "1ms" };

static struct latres lat[NR_IMPL][2];
static const unsigned int cancel_n[3] = { 1000, 10000, 100000 };
static double cancel_pt[3] = { -1, -1, -1 }, cancel_ur[3] = { -1, -1, -1 };
static double cancel_ptu[3] = { -1, -1, -1 };	/* URING_CMD CANCEL, batched */
static double bytes_pt = -1, bytes_ur = -1, bytes_pend = -1;
static double cps_pt = -1, cps_ur = -1, cps_pend = -1;
/* extra threads with 1000 pending: URING_CMD WAIT, PEND, io_uring timeouts */
enum { TH_PT_URING, TH_PT_PEND, TH_URING, NR_TH };
static const char *const th_name[NR_TH] = {
	"pendtimer_uring_cmd", "pendtimer_pend", "io_uring",
};
static double threads_1k[NR_TH] = { -1, -1, -1 };

static const char *cps_pt_how = "";
static double td_close = -1, td_del = -1, td_ur = -1;

/* Extra figures for details.json: "key": value pairs, flat. */
static char details[16384];
static size_t details_len;

static void detail(const char *key, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (details_len >= sizeof(details) - 256)
		return;
	n = snprintf(details + details_len, sizeof(details) - details_len,
		     "%s\n  \"%s\": ", details_len ? "," : "", key);
	details_len += n;
	va_start(ap, fmt);
	n = vsnprintf(details + details_len, sizeof(details) - details_len, fmt, ap);
	va_end(ap);
	details_len += n;
}

static void json_num(FILE *f, double v)
{
	if (v < 0)
		fprintf(f, "null");
	else
		fprintf(f, "%.0f", v);
}

static void write_json(const char *kernel)
{
	FILE *f = fopen(opt_json, "w");
	int i, p;

	if (!f) {
		fail("%s: %s", opt_json, strerror(errno));
		return;
	}
	fprintf(f, "{\n  \"lane\": \"%s\",\n  \"kernel\": \"%s\",\n", opt_lane, kernel);
	fprintf(f, "  \"latency\": {\n");
	for (i = 0; i < NR_IMPL; i++) {
		fprintf(f, "    \"%s\": {", impl_name[i]);
		for (p = 0; p < 2; p++) {
			struct latres *r = &lat[i][p];

			fprintf(f, "%s\"%s\": ", p ? ", " : "", period_name[p]);
			if (r->ok)
				fprintf(f, "{\"p50_ns\": %" PRId64 ", \"p99_ns\": %" PRId64
					", \"max_ns\": %" PRId64 "}", r->p50, r->p99, r->max);
			else
				fprintf(f, "{\"p50_ns\": null, \"p99_ns\": null, \"max_ns\": null}");
		}
		fprintf(f, "}%s\n", i < NR_IMPL - 1 ? "," : "");
	}
	fprintf(f, "  },\n  \"cancel_ns_per_op\": {\n");
	fprintf(f, "    \"pendtimer\": {");
	for (i = 0; i < 3; i++) {
		fprintf(f, "%s\"%u\": ", i ? ", " : "", cancel_n[i]);
		json_num(f, cancel_pt[i]);
	}
	fprintf(f, "},\n    \"io_uring\": {");
	for (i = 0; i < 3; i++) {
		fprintf(f, "%s\"%u\": ", i ? ", " : "", cancel_n[i]);
		json_num(f, cancel_ur[i]);
	}
	fprintf(f, "}\n  },\n  \"bytes_per_request\": {\"pendtimer\": ");
	json_num(f, bytes_pt);
	fprintf(f, ", \"io_uring\": ");
	json_num(f, bytes_ur);
	fprintf(f, ", \"pendtimer_pend\": ");
	json_num(f, bytes_pend);
	fprintf(f, "},\n  \"completions_per_s\": {\"pendtimer\": ");
	json_num(f, cps_pt);
	fprintf(f, ", \"io_uring\": ");
	json_num(f, cps_ur);
	fprintf(f, ", \"pendtimer_pend\": ");
	json_num(f, cps_pend);
	fprintf(f, "},\n  \"threads_for_1000_pending\": {");
	for (i = 0; i < NR_TH; i++) {
		fprintf(f, "%s\"%s\": ", i ? ", " : "", th_name[i]);
		json_num(f, threads_1k[i]);
	}
	fprintf(f, "},\n  \"teardown_ns\": {\"pendtimer_close\": ");
	json_num(f, td_close);
	fprintf(f, ", \"pendtimer_del_device\": ");
	json_num(f, td_del);
	fprintf(f, ", \"io_uring_close\": ");
	json_num(f, td_ur);
	fprintf(f, "},\n  \"pend_supported\": %s\n}\n", pend_ok ? "true" : "false");
	fclose(f);

	f = fopen(opt_details, "w");
	if (f) {
		fprintf(f, "{%s\n}\n", details);
		fclose(f);
	}
}

/* ------------------------------------------------------------------ */
/* latency */

struct latctx {
	int ptfd, tfd, efd;
	struct io_uring ring;
	uint64_t tag;
	uint64_t t0, t1;	/* the last sample's call and return */
};

/* Each returns the overshoot in ns (>= INT64_MIN/2), or INT64_MIN on error. */
static int64_t lat_nanosleep(struct latctx *c, uint64_t d)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)d };
	uint64_t t0, t1;
	int r;

	t0 = now_ns();
	r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
	t1 = now_ns();
	if (r) {
		fail("clock_nanosleep: %s", strerror(r));
		return INT64_MIN;
	}
	c->t0 = t0;
	c->t1 = t1;
	return (int64_t)(t1 - t0 - d);
}

static int64_t lat_timerfd(struct latctx *c, uint64_t d)
{
	struct itimerspec its = { .it_value = { .tv_sec = 0, .tv_nsec = (long)d } };
	uint64_t t0, t1, v;
	ssize_t n;

	t0 = now_ns();
	if (timerfd_settime(c->tfd, 0, &its, NULL)) {
		fail("timerfd_settime: %s", strerror(errno));
		return INT64_MIN;
	}
	n = read(c->tfd, &v, sizeof(v));
	t1 = now_ns();
	if (n != sizeof(v) || v != 1) {
		fail("timerfd read: %zd %s", n, strerror(errno));
		return INT64_MIN;
	}
	c->t0 = t0;
	c->t1 = t1;
	return (int64_t)(t1 - t0 - d);
}

static int64_t lat_ring_one(struct latctx *c, uint64_t d, int want, const char *what)
{
	struct io_uring_cqe *cqe;
	uint64_t t0, t1;
	int ret, res;

	t0 = now_ns();
	ret = io_uring_submit_and_wait(&c->ring, 1);
	t1 = now_ns();
	if (ret < 0) {
		fail("%s: io_uring_submit_and_wait: %s", what, strerror(-ret));
		return INT64_MIN;
	}
	ret = io_uring_wait_cqe(&c->ring, &cqe);
	if (ret) {
		fail("%s: io_uring_wait_cqe: %s", what, strerror(-ret));
		return INT64_MIN;
	}
	res = cqe->res;
	io_uring_cqe_seen(&c->ring, cqe);
	if (res != want) {
		fail("%s: CQE res %d, expected %d", what, res, want);
		return INT64_MIN;
	}
	c->t0 = t0;
	c->t1 = t1;
	return (int64_t)(t1 - t0 - d);
}

static int64_t lat_uring_timeout(struct latctx *c, uint64_t d)
{
	struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = (long long)d };
	struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);

	io_uring_prep_timeout(sqe, &ts, 0, 0);
	io_uring_sqe_set_data64(sqe, 1);
	return lat_ring_one(c, d, -ETIME, "io_uring TIMEOUT");
}

static int64_t lat_pt_uring(struct latctx *c, uint64_t d)
{
	struct pendtimer_wait w = { .timeout_ns = d, .tag = ++c->tag };
	struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);

	prep_uring_cmd(sqe, c->ptfd, PENDTIMER_IOC_WAIT, &w, sizeof(w), 2);
	return lat_ring_one(c, d, 0, "pendtimer URING_CMD WAIT");
}

/* PEND: the driver parks the command; its timer completes it (CQE 0). */
static int64_t lat_pt_pend(struct latctx *c, uint64_t d)
{
	struct pendtimer_wait w = { .timeout_ns = d, .tag = ++c->tag };
	struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);

	prep_uring_cmd(sqe, c->ptfd, PENDTIMER_URING_PEND, &w, sizeof(w), 3);
	return lat_ring_one(c, d, 0, "pendtimer URING_CMD PEND");
}

static int64_t lat_pt_wait(struct latctx *c, uint64_t d)
{
	struct pendtimer_wait w = { .timeout_ns = d, .tag = ++c->tag };
	uint64_t t0, t1;
	int ret;

	t0 = now_ns();
	ret = ioctl(c->ptfd, PENDTIMER_IOC_WAIT, &w);
	t1 = now_ns();
	if (ret) {
		fail("WAIT: %s", strerror(errno));
		return INT64_MIN;
	}
	c->t0 = t0;
	c->t1 = t1;
	return (int64_t)(t1 - t0 - d);
}

static int64_t lat_pt_arm(struct latctx *c, uint64_t d)
{
	struct pendtimer_arm a = {
		.timeout_ns = d, .tag = ++c->tag, .eventfd = c->efd, .flags = 0,
	};
	uint64_t t0, t1, v;
	ssize_t n;

	t0 = now_ns();
	if (ioctl(c->ptfd, PENDTIMER_IOC_ARM, &a)) {
		fail("ARM: %s", strerror(errno));
		return INT64_MIN;
	}
	n = read(c->efd, &v, sizeof(v));
	t1 = now_ns();
	if (n != sizeof(v) || v != 1) {
		fail("ARM eventfd read: %zd, value %" PRIu64, n, v);
		return INT64_MIN;
	}
	c->t0 = t0;
	c->t1 = t1;
	return (int64_t)(t1 - t0 - d);
}

static int64_t (*const lat_fn[NR_IMPL])(struct latctx *, uint64_t) = {
	lat_nanosleep, lat_timerfd, lat_uring_timeout, lat_pt_wait,
	lat_pt_uring, lat_pt_arm, lat_pt_pend,
};

/* A contender this kernel has: PEND needs 6.7 (before, -EOPNOTSUPP). */
static bool impl_here(int k)
{
	return k != L_PT_PEND || pend_ok;
}

static int latctx_open(struct latctx *c)
{
	memset(c, 0, sizeof(*c));
	c->ptfd = open(DEV0, O_RDWR | O_CLOEXEC);
	c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	c->efd = eventfd(0, EFD_CLOEXEC);
	if (c->ptfd < 0 || c->tfd < 0 || c->efd < 0) {
		fail("latency setup: %s", strerror(errno));
		return -1;
	}
	if (ring_init(&c->ring, 8, 0))
		return -1;
	if (pinned) {
		int ret = io_uring_register_iowq_aff(&c->ring, sizeof(pin_set), &pin_set);

		if (ret)
			say("io_uring_register_iowq_aff: %s (io-wq workers not pinned)",
			    strerror(-ret));
	}
	return 0;
}

static void latctx_close(struct latctx *c)
{
	io_uring_queue_exit(&c->ring);
	close(c->ptfd);
	close(c->tfd);
	close(c->efd);
}

static void bench_latency(FILE *samples)
{
	unsigned int n = opt_nsamples, i, k, p;
	int64_t *s[NR_IMPL];
	struct latctx c;
	bool bad[NR_IMPL] = { false };

	if (latctx_open(&c))
		return;
	for (k = 0; k < NR_IMPL; k++) {
		s[k] = xcalloc(n, sizeof(int64_t));
		bad[k] = !impl_here(k);
	}
	for (p = 0; p < 2; p++) {
		uint64_t d = periods[p], last = now_ns();

		say("latency %s: %u samples x %d contenders, interleaved%s",
		    period_name[p], n, pend_ok ? NR_IMPL : NR_IMPL - 1,
		    pend_ok ? "" : " (no PEND on this kernel)");
		/* warm-up: io-wq worker, caches, first-time allocations */
		for (i = 0; i < 20; i++)
			for (k = 0; k < NR_IMPL; k++)
				if (!bad[k] && lat_fn[k](&c, d) == INT64_MIN)
					bad[k] = true;
		for (i = 0; i < n; i++) {
			for (k = 0; k < NR_IMPL; k++) {
				unsigned int j = (i + k) % NR_IMPL;
				int64_t v;

				if (bad[j])
					continue;
				v = lat_fn[j](&c, d);
				if (v == INT64_MIN)
					bad[j] = true;
				s[j][i] = v;
			}
			if (now_ns() - last > 10 * NS_PER_S) {
				say("latency %s: %u/%u rounds", period_name[p], i + 1, n);
				last = now_ns();
			}
		}
		for (k = 0; k < NR_IMPL; k++) {
			struct latres *r = &lat[k][p];
			double q;

			if (bad[k])
				continue;
			qsort(s[k], n, sizeof(int64_t), cmp_i64);
			r->p50 = pct(s[k], n, 50);
			r->p99 = pct(s[k], n, 99);
			r->max = s[k][n - 1];
			r->ok = true;
			if (samples) {
				for (q = 0; q <= 100.0001; q += 0.5)
					fprintf(samples, "%s %s %.1f %" PRId64 "\n",
						impl_name[k], period_name[p], q, pct(s[k], n, q));
				fprintf(samples, "%s %s 99.9 %" PRId64 "\n", impl_name[k],
					period_name[p], pct(s[k], n, 99.9));
			}
			say("  %-22s %-5s p50 %8.1f us  p99 %8.1f us  max %8.1f us",
			    impl_name[k], period_name[p], r->p50 / 1e3, r->p99 / 1e3, r->max / 1e3);
		}
	}
	for (k = 0; k < NR_IMPL; k++)
		free(s[k]);
	latctx_close(&c);
}

/* ------------------------------------------------------------------ */
/* cancel at scale */

struct cancel_side {
	uint64_t *tags;		/* 0..N-1, shuffled prefix = this round's picks */
	size_t n;
};

static void pick(struct cancel_side *cs, size_t k)
{
	size_t i;

	for (i = 0; i < k; i++) {
		size_t j = i + (size_t)(rnd() % (cs->n - i));
		uint64_t t = cs->tags[i];

		cs->tags[i] = cs->tags[j];
		cs->tags[j] = t;
	}
}

#define URING_BATCH	64
#define UD_REMOVE	(1ULL << 63)

/* K TIMEOUT_REMOVE of @tags, in batches; returns ns or -1. */
static double uring_remove_round(struct io_uring *ring, const uint64_t *tags, size_t k)
{
	uint64_t t0 = now_ns();
	size_t i = 0;

	while (i < k) {
		unsigned int b = 0, got;

		while (b < URING_BATCH && i < k) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

			io_uring_prep_timeout_remove(sqe, tags[i], 0);
			io_uring_sqe_set_data64(sqe, tags[i] | UD_REMOVE);
			b++;
			i++;
		}
		got = io_uring_submit_and_wait(ring, 2 * b);
		if ((int)got < 0) {
			fail("TIMEOUT_REMOVE submit: %s", strerror(-(int)got));
			return -1;
		}
		/* the remove: 0; the removed timeout: -ECANCELED */
		if (reap_n(ring, 2 * b, 0, -ECANCELED))
			return -1;
	}
	return (double)(now_ns() - t0);
}

/* K URING_CMD CANCEL of @tags, in batches; returns ns or -1. */
static double ptu_cancel_round(struct io_uring *ring, int fd, const uint64_t *tags,
			       size_t k)
{
	uint64_t t0 = now_ns();
	size_t i = 0;

	while (i < k) {
		unsigned int b = 0;
		int got;

		while (b < URING_BATCH && i < k) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
			__u64 cmd[2] = { tags[i], 0 };

			prep_uring_cmd(sqe, fd, PENDTIMER_IOC_CANCEL, cmd, sizeof(cmd),
				       tags[i] | UD_REMOVE);
			b++;
			i++;
		}
		got = io_uring_submit_and_wait(ring, b);
		if (got < 0) {
			fail("URING_CMD CANCEL submit: %s", strerror(-got));
			return -1;
		}
		if (reap_n(ring, b, 0, 0))
			return -1;
	}
	return (double)(now_ns() - t0);
}

static double pt_cancel_round(int fd, const uint64_t *tags, size_t k)
{
	uint64_t t0 = now_ns();
	size_t i;
	int ret;

	for (i = 0; i < k; i++) {
		ret = pt_cancel(fd, tags[i]);
		if (ret) {
			fail("CANCEL tag %" PRIu64 ": %s", tags[i], strerror(-ret));
			return -1;
		}
	}
	return (double)(now_ns() - t0);
}

#define CANCEL_BATCHES	60	/* per N and contender; the first 3 warm up */
#define CANCEL_WARMUP	3
#define PT_BATCH	100
#define UR_BUDGET_NS	(12 * NS_PER_S)	/* io_uring at 100k: ~ms per remove */

static void bench_cancel(void)
{
	unsigned int ni;

	for (ni = 0; ni < 3 && cancel_n[ni] <= opt_big; ni++) {
		size_t n = cancel_n[ni], i;
		double *bp = xcalloc(CANCEL_BATCHES, sizeof(double));
		double *bu = xcalloc(CANCEL_BATCHES, sizeof(double));
		double *bq = xcalloc(CANCEL_BATCHES, sizeof(double));
		struct cancel_side cs = { .tags = xcalloc(n, sizeof(uint64_t)), .n = n };
		unsigned int b, np = 0, nu = 0, nq = 0;
		struct io_uring ring, pring;
		uint64_t pending = 0, t0, ur_ns = 0;
		int fd = -1, efd = -1;
		bool ok = true, rings = false;

		for (i = 0; i < n; i++)
			cs.tags[i] = i;
		say("cancel: N=%zu pending; batches of random tags, re-armed after each batch so N stay pending", n);
		fd = open(DEV0, O_RDWR | O_CLOEXEC);
		efd = eventfd(0, EFD_CLOEXEC);
		if (fd < 0 || efd < 0) {
			fail("open: %s", strerror(errno));
			ok = false;
			goto out;
		}
		if (ring_init(&ring, 4096, 16384)) {
			ok = false;
			goto out;
		}
		if (ring_init(&pring, 256, 1024)) {
			io_uring_queue_exit(&ring);
			ok = false;
			goto out;
		}
		rings = true;
		t0 = now_ns();
		if (arm_many(fd, efd, NULL, 0, n, LONG_TIMEOUT))
			ok = false;
		say("  pendtimer: %zu ARMs in %.1f ms", n, (now_ns() - t0) / 1e6);
		t0 = now_ns();
		if (ok && uring_add_timeouts(&ring, NULL, 0, n))
			ok = false;
		say("  io_uring: %zu timeouts in %.1f ms", n, (now_ns() - t0) / 1e6);
		if (ok && (pt_pending(fd, &pending) || pending != n)) {
			fail("pendtimer pending %" PRIu64 ", expected %zu", pending, n);
			ok = false;
		}
		for (b = 0; ok && b < CANCEL_BATCHES; b++) {
			bool warm = b < CANCEL_WARMUP;
			double x;

			/* pendtimer CANCEL ioctl, one system call each */
			pick(&cs, PT_BATCH);
			x = pt_cancel_round(fd, cs.tags, PT_BATCH);
			if (x < 0 || arm_many(fd, efd, cs.tags, 0, PT_BATCH, LONG_TIMEOUT))
				break;
			if (!warm)
				bp[np++] = x / PT_BATCH;
			/* pendtimer URING_CMD CANCEL, a batch per io_uring_enter */
			pick(&cs, URING_BATCH);
			x = ptu_cancel_round(&pring, fd, cs.tags, URING_BATCH);
			if (x < 0 || arm_many(fd, efd, cs.tags, 0, URING_BATCH, LONG_TIMEOUT))
				break;
			if (!warm)
				bq[nq++] = x / URING_BATCH;
			/* io_uring TIMEOUT_REMOVE by user_data, a batch per io_uring_enter */
			if (b >= CANCEL_WARMUP + 10 && ur_ns > UR_BUDGET_NS)
				continue;
			pick(&cs, URING_BATCH);
			x = uring_remove_round(&ring, cs.tags, URING_BATCH);
			if (x < 0 || uring_add_timeouts(&ring, cs.tags, 0, URING_BATCH))
				break;
			ur_ns += (uint64_t)x;
			if (!warm)
				bu[nu++] = x / URING_BATCH;
			if (b == CANCEL_WARMUP + 9 || b == CANCEL_BATCHES - 1)
				say("  %u batches: median pendtimer CANCEL %.0f ns/op, io_uring TIMEOUT_REMOVE %.0f ns/op, pendtimer URING_CMD CANCEL %.0f ns/op",
				    b + 1 - CANCEL_WARMUP, median_dbl(bp, np), median_dbl(bu, nu),
				    median_dbl(bq, nq));
		}
		if (b < CANCEL_BATCHES)
			ok = false;
		if (ok && np && nu && nq) {
			cancel_pt[ni] = median_dbl(bp, np);
			cancel_ur[ni] = median_dbl(bu, nu);
			cancel_ptu[ni] = median_dbl(bq, nq);
			say("  N=%zu: pendtimer CANCEL %.0f ns/op (%u batches of %d), io_uring TIMEOUT_REMOVE %.0f ns/op (%u batches of %d, x%.1f), pendtimer URING_CMD CANCEL %.0f ns/op",
			    n, cancel_pt[ni], np, PT_BATCH, cancel_ur[ni], nu, URING_BATCH,
			    cancel_ur[ni] / cancel_pt[ni], cancel_ptu[ni]);
		}
		if (ok && (pt_pending(fd, &pending) || pending != n)) {
			fail("pendtimer pending %" PRIu64 " after the batches, expected %zu", pending, n);
			ok = false;
		}
		t0 = now_ns();
		io_uring_queue_exit(&pring);
		io_uring_queue_exit(&ring);
		rings = false;
		close(fd);
		fd = -1;
		say("  torn down in %.1f ms", (now_ns() - t0) / 1e6);
out:
		if (rings) {
			io_uring_queue_exit(&pring);
			io_uring_queue_exit(&ring);
		}
		if (fd >= 0)
			close(fd);
		if (efd >= 0)
			close(efd);
		free(cs.tags);
		free(bp);
		free(bu);
		free(bq);
		if (!ok)
			return;
	}
	{
		char buf[256];

		snprintf(buf, sizeof(buf), "{\"1000\": %.0f, \"10000\": %.0f, \"100000\": %.0f}",
			 cancel_ptu[0], cancel_ptu[1], cancel_ptu[2]);
		detail("cancel_ns_per_op.pendtimer_uring_cmd_batched", "%s", buf);
	}
}

/* ------------------------------------------------------------------ */
/* memory and teardown */

/* Wait until Slab is back within @slack_kb of @base (io_uring frees late). */
static double wait_slab_back(const struct kmem *base, long long slack_kb, unsigned int max_ms)
{
	uint64_t t0 = now_ns();
	struct kmem m;

	for (;;) {
		kmem_read(&m);
		if (m.slab_kb + m.vmalloc_kb <= base->slab_kb + base->vmalloc_kb + slack_kb)
			return (double)(now_ns() - t0);
		if (now_ns() - t0 > (uint64_t)max_ms * NS_PER_MS)
			return -1;
		usleep(20000);
	}
}

/* pendtimer: arm N, measure, close; returns 0 and fills @bytes, @close_ns. */
static int pt_mem_close(size_t n, double *bytes, double *close_ns, bool verbose)
{
	struct slabline s0, s1;
	struct kmem m0, m1;
	int fd, efd;
	uint64_t t0;

	fd = open(DEV0, O_RDWR | O_CLOEXEC);
	efd = eventfd(0, EFD_CLOEXEC);
	if (fd < 0 || efd < 0) {
		fail("open: %s", strerror(errno));
		return -1;
	}
	usleep(50000);
	slab_read("pendtimer_req", &s0);
	kmem_read(&m0);
	t0 = now_ns();
	if (arm_many(fd, efd, NULL, 0, n, LONG_TIMEOUT)) {
		close(fd);
		close(efd);
		return -1;
	}
	if (verbose)
		say("  pendtimer: %zu ARMs in %.1f ms", n, (now_ns() - t0) / 1e6);
	kmem_read(&m1);
	slab_read("pendtimer_req", &s1);
	*bytes = (double)kmem_delta_bytes(&m0, &m1) / (double)n;
	if (verbose) {
		say("  pendtimer: Slab %+lld kB, VmallocUsed %+lld kB, Percpu %+lld kB -> %.1f bytes/request",
		    m1.slab_kb - m0.slab_kb, m1.vmalloc_kb - m0.vmalloc_kb,
		    m1.percpu_kb - m0.percpu_kb, *bytes);
		say("  pendtimer: slab pendtimer_req objsize %lld, %lld objs per %lld page(s): %.1f bytes/object; cache %+lld bytes = %.1f bytes/request",
		    s1.objsize, s1.objperslab, s1.pagesperslab,
		    s1.objperslab ? s1.pagesperslab * 4096.0 / s1.objperslab : 0.0,
		    slab_bytes(&s1) - slab_bytes(&s0),
		    (double)(slab_bytes(&s1) - slab_bytes(&s0)) / (double)n);
		detail("pendtimer_req.objsize", "%lld", s1.objsize);
		detail("pendtimer_req.objperslab", "%lld", s1.objperslab);
		detail("pendtimer_req.pagesperslab", "%lld", s1.pagesperslab);
		detail("pendtimer_req.slab_bytes_per_request", "%.1f",
		       (double)(slab_bytes(&s1) - slab_bytes(&s0)) / (double)n);
		detail("pendtimer.meminfo_delta_kb", "{\"Slab\": %lld, \"VmallocUsed\": %lld, \"Percpu\": %lld}",
		       m1.slab_kb - m0.slab_kb, m1.vmalloc_kb - m0.vmalloc_kb,
		       m1.percpu_kb - m0.percpu_kb);
	}
	t0 = now_ns();
	close(fd);
	*close_ns = (double)(now_ns() - t0);
	close(efd);
	return 0;
}

static int ur_mem_close(size_t n, double *bytes, double *close_ns, double *freed_ns,
			bool verbose)
{
	struct slabline s0, s1;
	struct io_uring ring;
	struct kmem m0, m1;
	uint64_t t0;

	if (ring_init(&ring, 4096, 0))
		return -1;
	usleep(50000);
	slab_read("io_kiocb", &s0);
	kmem_read(&m0);
	t0 = now_ns();
	if (uring_add_timeouts(&ring, NULL, 0, n)) {
		io_uring_queue_exit(&ring);
		return -1;
	}
	if (verbose)
		say("  io_uring: %zu timeouts in %.1f ms", n, (now_ns() - t0) / 1e6);
	kmem_read(&m1);
	slab_read("io_kiocb", &s1);
	*bytes = (double)kmem_delta_bytes(&m0, &m1) / (double)n;
	if (verbose) {
		say("  io_uring: Slab %+lld kB, VmallocUsed %+lld kB, Percpu %+lld kB -> %.1f bytes/request",
		    m1.slab_kb - m0.slab_kb, m1.vmalloc_kb - m0.vmalloc_kb,
		    m1.percpu_kb - m0.percpu_kb, *bytes);
		say("  io_uring: slab io_kiocb objsize %lld, %lld objs per %lld page(s): cache %+lld bytes = %.1f bytes/request",
		    s1.objsize, s1.objperslab, s1.pagesperslab,
		    slab_bytes(&s1) - slab_bytes(&s0),
		    (double)(slab_bytes(&s1) - slab_bytes(&s0)) / (double)n);
		detail("io_kiocb.objsize", "%lld", s1.objsize);
		detail("io_kiocb.slab_bytes_per_request", "%.1f",
		       (double)(slab_bytes(&s1) - slab_bytes(&s0)) / (double)n);
		detail("io_uring.meminfo_delta_kb", "{\"Slab\": %lld, \"VmallocUsed\": %lld, \"Percpu\": %lld}",
		       m1.slab_kb - m0.slab_kb, m1.vmalloc_kb - m0.vmalloc_kb,
		       m1.percpu_kb - m0.percpu_kb);
	}
	t0 = now_ns();
	io_uring_queue_exit(&ring);
	*close_ns = (double)(now_ns() - t0);
	/* The ring's requests are freed by a kworker after close returns. */
	*freed_ns = wait_slab_back(&m0, 2048, 30000);
	return 0;
}

/* Bytes in all slab caches of /proc/slabinfo, and in two of them. */
struct slabsum {
	long long all, pt_req, kiocb;
};

static void slab_sum(struct slabsum *ss)
{
	char line[512], nm[64];
	long long pps, slabs;
	FILE *f = fopen("/proc/slabinfo", "re");

	memset(ss, 0, sizeof(*ss));
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %*d %*d %*d %*d %lld : tunables %*d %*d %*d : slabdata %*d %lld",
			   nm, &pps, &slabs) != 3)
			continue;
		ss->all += pps * slabs * 4096;
		if (!strcmp(nm, "pendtimer_req"))
			ss->pt_req += pps * slabs * 4096;
		else if (!strcmp(nm, "io_kiocb"))
			ss->kiocb += pps * slabs * 4096;
	}
	fclose(f);
}

/*
 * PEND: @n parked in one ring on one open file. The kernel memory they take
 * (meminfo, as for the others) is split in two: pendtimer's own part is the
 * growth of its pendtimer_req cache plus the memory that is in no slab cache
 * (meminfo's growth less that of all of /proc/slabinfo: large kmallocs and
 * vmalloc, i.e. pendtimer's kvmalloc'd tag hash; io_uring allocates nothing
 * that size per request); the rest, in io_uring's caches (io_kiocb, its
 * command data in kmalloc caches) is io_uring's cost of a parked command.
 * Then the ring is closed (io_uring cancels the PENDs: the driver's cancel
 * routine) and the time that takes is kept.
 */
static int pend_mem_close(size_t n, double *bytes, double *own, double *close_ns,
			  bool verbose)
{
	struct slabsum s0, s1;
	struct io_uring ring;
	struct kmem m0, m1;
	long long total, outside;
	uint64_t t0;
	int fd;

	fd = open(DEV0, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fail("open: %s", strerror(errno));
		return -1;
	}
	if (ring_init(&ring, 4096, 0)) {
		close(fd);
		return -1;
	}
	usleep(50000);
	slab_sum(&s0);
	kmem_read(&m0);
	t0 = now_ns();
	if (pend_submit(&ring, fd, LONG_TIMEOUT, 0, n, true)) {
		io_uring_queue_exit(&ring);
		close(fd);
		return -1;
	}
	if (verbose)
		say("  PEND: %zu parked in %.1f ms", n, (now_ns() - t0) / 1e6);
	kmem_read(&m1);
	slab_sum(&s1);
	total = kmem_delta_bytes(&m0, &m1);
	outside = total - (s1.all - s0.all);
	*bytes = (double)total / (double)n;
	*own = (double)((s1.pt_req - s0.pt_req) + (outside > 0 ? outside : 0)) / (double)n;
	if (verbose) {
		say("  PEND: Slab %+lld kB, VmallocUsed %+lld kB, Percpu %+lld kB -> %.1f bytes/request",
		    m1.slab_kb - m0.slab_kb, m1.vmalloc_kb - m0.vmalloc_kb,
		    m1.percpu_kb - m0.percpu_kb, *bytes);
		say("  PEND: pendtimer_req cache %.1f + outside slab caches %.1f = pendtimer's own %.1f bytes/request; io_kiocb cache %.1f, all other caches %.1f: io_uring's %.1f",
		    (double)(s1.pt_req - s0.pt_req) / n, (double)outside / n, *own,
		    (double)(s1.kiocb - s0.kiocb) / n,
		    (double)((s1.all - s0.all) - (s1.pt_req - s0.pt_req) - (s1.kiocb - s0.kiocb)) / n,
		    *bytes - *own);
		detail("pend.bytes_per_request_split",
		       "{\"total\": %.1f, \"pendtimer_req_cache\": %.1f, \"outside_slab_caches\": %.1f, \"pendtimer_own\": %.1f, \"io_kiocb_cache\": %.1f, \"other_slab_caches\": %.1f, \"io_uring\": %.1f}",
		       *bytes, (double)(s1.pt_req - s0.pt_req) / n, (double)outside / n, *own,
		       (double)(s1.kiocb - s0.kiocb) / n,
		       (double)((s1.all - s0.all) - (s1.pt_req - s0.pt_req) - (s1.kiocb - s0.kiocb)) / n,
		       *bytes - *own);
	}
	t0 = now_ns();
	io_uring_queue_exit(&ring);
	*close_ns = (double)(now_ns() - t0);
	close(fd);
	return 0;
}

static int find_free_id(void)
{
	char path[64];
	int id;

	for (id = 90; id < 200; id++) {
		snprintf(path, sizeof(path), "/sys/bus/pendtimer/devices/pendtimer%d", id);
		if (access(path, F_OK))
			return id;
	}
	return -1;
}

static int pt_del_device(size_t n, double *del_ns)
{
	int id = find_free_id(), fd = -1, efd = -1, delfd = -1, i, ret = -1;
	char path[64], idbuf[16];
	uint64_t t0;
	ssize_t w;

	if (id < 0) {
		fail("no free device ID");
		return -1;
	}
	snprintf(idbuf, sizeof(idbuf), "%d", id);
	if (write_str(BUS_NEW, idbuf)) {
		fail("new_device %d: %s", id, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "/dev/pendtimer%d", id);
	for (i = 0; i < 100 && access(path, F_OK); i++)
		usleep(20000);
	fd = open(path, O_RDWR | O_CLOEXEC);
	efd = eventfd(0, EFD_CLOEXEC);
	delfd = open(BUS_DEL, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || efd < 0 || delfd < 0) {
		fail("del_device setup (%s): %s", path, strerror(errno));
		goto out;
	}
	if (arm_many(fd, efd, NULL, 0, n, LONG_TIMEOUT))
		goto out;
	t0 = now_ns();
	w = write(delfd, idbuf, strlen(idbuf));
	*del_ns = (double)(now_ns() - t0);
	if (w != (ssize_t)strlen(idbuf)) {
		fail("del_device %d: %s", id, strerror(errno));
		goto out;
	}
	{
		/* the file outlives its device: everything -ENODEV */
		int r = pt_arm(fd, 1, 1, efd);

		if (r != -ENODEV)
			fail("ARM after del_device: %d, expected -ENODEV", r);
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (efd >= 0)
		close(efd);
	if (delfd >= 0)
		close(delfd);
	if (ret && access(path, F_OK) == 0)
		write_str(BUS_DEL, idbuf);
	return ret;
}

static double mem_pt[8], mem_ur[8], tdc[8], tdu[8], tdd[8];
static double mem_pend[8], own_pend[8], tdp[8];

/* Wait for Slab to stop moving (io_uring rings of earlier sections free late). */
static void settle(void)
{
	struct kmem a, b;
	unsigned int i, calm = 0;

	kmem_read(&a);
	for (i = 0; i < 100 && calm < 3; i++) {
		usleep(100000);
		kmem_read(&b);
		calm = llabs(b.slab_kb - a.slab_kb) < 64 ? calm + 1 : 0;
		a = b;
	}
}

static void bench_memory_teardown(bool do_mem, bool do_td)
{
	unsigned int reps = do_td ? 5 : 1, r;
	size_t n = opt_big;
	double freed[8];
	unsigned int nr = 0;

	say("memory/teardown: %zu pending, %u repetitions, interleaved (pendtimer close, io_uring close, del_device)",
	    n, reps);
	for (r = 0; r < reps; r++) {
		bool v = r == 0;

		settle();
		if (pt_mem_close(n, &mem_pt[r], &tdc[r], v))
			return;
		if (ur_mem_close(n, &mem_ur[r], &tdu[r], &freed[r], v))
			return;
		if (pend_ok && pend_mem_close(n, &mem_pend[r], &own_pend[r], &tdp[r], v))
			return;
		if (do_td && pt_del_device(n, &tdd[r]))
			return;
		say("  rep %u: bytes/request pendtimer %.1f io_uring %.1f; teardown ms: pendtimer close %.2f, io_uring close %.2f (memory freed %.0f ms after close), del_device %.2f",
		    r + 1, mem_pt[r], mem_ur[r], tdc[r] / 1e6, tdu[r] / 1e6,
		    freed[r] < 0 ? -1.0 : freed[r] / 1e6, do_td ? tdd[r] / 1e6 : -1.0);
		if (pend_ok)
			say("  rep %u: PEND bytes/request %.1f (pendtimer's own %.1f), ring close with %zu PENDs %.2f ms",
			    r + 1, mem_pend[r], own_pend[r], n, tdp[r] / 1e6);
		nr++;
	}
	if (do_mem) {
		bytes_pt = median_dbl(mem_pt, nr);
		bytes_ur = median_dbl(mem_ur, nr);
		if (pend_ok) {
			bytes_pend = median_dbl(mem_pend, nr);
			detail("bytes_per_request.pendtimer_pend_own", "%.1f",
			       median_dbl(own_pend, nr));
		}
	}
	if (pend_ok && do_td)
		detail("teardown_ns.pendtimer_pend_ring_close", "%.0f", median_dbl(tdp, nr));
	if (do_td) {
		td_close = median_dbl(tdc, nr);
		td_ur = median_dbl(tdu, nr);
		td_del = median_dbl(tdd, nr);
		detail("io_uring_close.memory_freed_after_ns", "%.0f", median_dbl(freed, nr));
	}
}

/*
 * The same memory measurement inside a child memory cgroup: with kmem
 * accounting each slab page also gets an obj_cgroup vector (8 bytes per
 * object). The root cgroup (the guest's default) does not pay it.
 */
static void bench_memory_memcg(void)
{
	double bp, bu, c1, c2, fr;
	char pid[32];

	if (access(CGROOT "/cgroup.controllers", F_OK)) {
		say("memory in a memcg: no cgroup2 at %s, skipped", CGROOT);
		return;
	}
	write_str(CGROOT "/cgroup.subtree_control", "+memory");
	if (mkdir(CGBENCH, 0755) && errno != EEXIST) {
		say("memory in a memcg: mkdir %s: %s, skipped", CGBENCH, strerror(errno));
		return;
	}
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (write_str(CGBENCH "/cgroup.procs", pid)) {
		say("memory in a memcg: cannot join %s, skipped", CGBENCH);
		rmdir(CGBENCH);
		return;
	}
	say("memory in memcg %s (kmem accounting on):", CGBENCH);
	settle();
	if (!pt_mem_close(opt_big, &bp, &c1, false) &&
	    !ur_mem_close(opt_big, &bu, &c2, &fr, false)) {
		say("  memcg: bytes/request pendtimer %.1f, io_uring %.1f", bp, bu);
		detail("bytes_per_request_in_memcg", "{\"pendtimer\": %.1f, \"io_uring\": %.1f}",
		       bp, bu);
	}
	write_str(CGROOT "/cgroup.procs", pid);
	usleep(100000);
	rmdir(CGBENCH);
}

/* ------------------------------------------------------------------ */
/* throughput */

#define TP_BATCH	256

static double tp_uring(double secs)
{
	struct io_uring ring;
	struct __kernel_timespec zero = { 0, 0 };
	uint64_t t0, end, done = 0;

	if (ring_init(&ring, TP_BATCH, 0))
		return -1;
	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	while (now_ns() < end) {
		unsigned int i;
		int ret;

		for (i = 0; i < TP_BATCH; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			io_uring_prep_timeout(sqe, &zero, 0, 0);
			io_uring_sqe_set_data64(sqe, i);
		}
		ret = io_uring_submit_and_wait(&ring, TP_BATCH);
		if (ret < 0) {
			fail("throughput io_uring submit: %s", strerror(-ret));
			io_uring_queue_exit(&ring);
			return -1;
		}
		if (reap_n(&ring, TP_BATCH, -ETIME, -ETIME)) {
			io_uring_queue_exit(&ring);
			return -1;
		}
		done += TP_BATCH;
	}
	io_uring_queue_exit(&ring);
	return (double)done * 1e9 / (double)(now_ns() - t0);
}

/* PENDs of timeout 0, 256 per io_uring_enter, then the 256 CQEs (res 0). */
static double tp_pt_pend(double secs)
{
	int fd = open(DEV0, O_RDWR | O_CLOEXEC);
	uint64_t t0, end, done = 0, tag = 0;
	struct io_uring ring;

	if (fd < 0) {
		fail("open: %s", strerror(errno));
		return -1;
	}
	if (ring_init(&ring, TP_BATCH, 0)) {
		close(fd);
		return -1;
	}
	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	while (now_ns() < end) {
		unsigned int i;
		int ret;

		for (i = 0; i < TP_BATCH; i++) {
			struct pendtimer_wait w = { .timeout_ns = 0, .tag = tag++ };

			prep_uring_cmd(io_uring_get_sqe(&ring), fd, PENDTIMER_URING_PEND,
				       &w, sizeof(w), i);
		}
		ret = io_uring_submit_and_wait(&ring, TP_BATCH);
		if (ret < 0) {
			fail("throughput PEND submit: %s", strerror(-ret));
			break;
		}
		if (reap_n(&ring, TP_BATCH, 0, 0))
			break;
		done += TP_BATCH;
	}
	io_uring_queue_exit(&ring);
	close(fd);
	if (failures)
		return -1;
	return (double)done * 1e9 / (double)(now_ns() - t0);
}

static double tp_pt_arm(double secs)
{
	int fd = open(DEV0, O_RDWR | O_CLOEXEC), efd = eventfd(0, EFD_CLOEXEC);
	uint64_t t0, end, done = 0, tag = 0;

	if (fd < 0 || efd < 0) {
		fail("open: %s", strerror(errno));
		return -1;
	}
	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	while (now_ns() < end) {
		uint64_t got = 0, v;
		unsigned int i;

		for (i = 0; i < TP_BATCH; i++) {
			int ret = pt_arm(fd, 0, tag++, efd);

			if (ret) {
				fail("throughput ARM: %s", strerror(-ret));
				close(fd);
				close(efd);
				return -1;
			}
		}
		while (got < TP_BATCH) {
			if (read(efd, &v, sizeof(v)) != sizeof(v)) {
				fail("throughput eventfd read: %s", strerror(errno));
				close(fd);
				close(efd);
				return -1;
			}
			got += v;
		}
		if (got != TP_BATCH) {
			fail("throughput: eventfd counted %" PRIu64 " for %u ARMs", got, TP_BATCH);
			close(fd);
			close(efd);
			return -1;
		}
		done += TP_BATCH;
	}
	close(fd);
	close(efd);
	return (double)done * 1e9 / (double)(now_ns() - t0);
}

#define TP_THREADS	4

struct tp_thread {
	pthread_t th;
	int fd, idx, err;
	uint64_t end, done;
};

static void *tp_wait_fn(void *arg)
{
	struct tp_thread *t = arg;
	uint64_t i = 0;

	while (now_ns() < t->end) {
		struct pendtimer_wait w = {
			.timeout_ns = 0, .tag = ((uint64_t)t->idx << 40) | i++,
		};

		if (ioctl(t->fd, PENDTIMER_IOC_WAIT, &w)) {
			t->err = errno;
			break;
		}
		t->done++;
	}
	return NULL;
}

static double tp_pt_wait(double secs)
{
	struct tp_thread t[TP_THREADS];
	int fd = open(DEV0, O_RDWR | O_CLOEXEC), i;
	uint64_t t0, done = 0;

	if (fd < 0) {
		fail("open: %s", strerror(errno));
		return -1;
	}
	t0 = now_ns();
	for (i = 0; i < TP_THREADS; i++) {
		t[i] = (struct tp_thread){ .fd = fd, .idx = i,
			.end = t0 + (uint64_t)(secs * 1e9) };
		pthread_create(&t[i].th, NULL, tp_wait_fn, &t[i]);
	}
	for (i = 0; i < TP_THREADS; i++) {
		pthread_join(t[i].th, NULL);
		if (t[i].err)
			fail("throughput WAIT thread %d: %s", i, strerror(t[i].err));
		done += t[i].done;
	}
	close(fd);
	return (double)done * 1e9 / (double)(now_ns() - t0);
}

static void bench_throughput(void)
{
	const unsigned int rounds = 3;
	const double secs = 1.0;
	double u[3], a[3], w[3], pe[3] = { -1, -1, -1 }, mu, ma, mw;
	unsigned int r;

	say("throughput: zero-timeout requests, %u rounds of %.1f s each, interleaved",
	    rounds, secs);
	for (r = 0; r < rounds; r++) {
		u[r] = tp_uring(secs);
		if (pend_ok)
			pe[r] = tp_pt_pend(secs);
		a[r] = tp_pt_arm(secs);
		w[r] = tp_pt_wait(secs);
		if (u[r] < 0 || a[r] < 0 || w[r] < 0 || (pend_ok && pe[r] < 0))
			return;
		say("  round %u: io_uring TIMEOUT 0 %.0f/s, pendtimer PEND 0 %.0f/s, pendtimer ARM 0 %.0f/s, pendtimer WAIT 0 x%d threads %.0f/s",
		    r + 1, u[r], pe[r], a[r], TP_THREADS, w[r]);
	}
	if (pend_ok) {
		cps_pend = median_dbl(pe, rounds);
		detail("completions_per_s.pendtimer_pend_how", "\"%s\"",
		       "PEND timeout 0, batches of 256 SQEs per io_uring_enter, 1 thread");
	}
	mu = median_dbl(u, rounds);
	ma = median_dbl(a, rounds);
	mw = median_dbl(w, rounds);
	cps_ur = mu;
	if (ma >= mw) {
		cps_pt = ma;
		cps_pt_how = "ARM timeout 0, batches of 256 ioctls then eventfd reads, 1 thread";
	} else {
		cps_pt = mw;
		cps_pt_how = "WAIT timeout 0 ioctl loops from 4 threads on one open file";
	}
	detail("completions_per_s.pendtimer_arm_1thread", "%.0f", ma);
	detail("completions_per_s.pendtimer_wait_4threads", "%.0f", mw);
	detail("completions_per_s.pendtimer_how", "\"%s\"", cps_pt_how);
	detail("completions_per_s.io_uring_how", "\"%s\"",
	       "TIMEOUT 0, batches of 256 SQEs per io_uring_enter, 1 thread");
}

/* ------------------------------------------------------------------ */
/* threads: how many each mode needs for 1000 pending */

#define TH_N		1000
#define TH_WAIT_NS	(60 * NS_PER_S)

/* Threads of this process: /proc/self/task (io-wq workers are among them). */
static int count_threads(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/task");
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Wait until the device has @want pending (STATS), or TH_WAIT_NS passed. */
static int wait_pending(int fd, uint64_t want, uint64_t *got)
{
	uint64_t t0 = now_ns();

	for (;;) {
		if (pt_pending(fd, got))
			return -1;
		if (*got >= want)
			return 0;
		if (now_ns() - t0 > TH_WAIT_NS)
			return -ETIMEDOUT;
		usleep(20000);
	}
}

/*
 * 1000 pending of one kind, submitted at once; the number of threads the
 * process gained. io_uring: timeouts of 1 h in one ring. PEND: 1000 PENDs
 * of 1 h in one ring. URING_CMD WAIT: 1000 WAITs of 1 h in one ring, each
 * of which sleeps in an io-wq worker; io-wq runs a URING_CMD as bounded
 * work (at most 4 workers per CPU by default, the rest wait in its queue,
 * not in the driver), so the ring's limits are raised to 1000
 * (IORING_REGISTER_IOWQ_MAX_WORKERS), and RLIMIT_NPROC too. If not all
 * are pending after a minute, the threads counted so far are reported
 * with the number pending (details). Each ring is closed afterwards, which
 * ends its requests.
 */
static double threads_for(int kind)
{
	int fd = -1, base, n = -1, ret;
	uint64_t p0 = 0, got = 0, i;
	struct io_uring ring;

	if (kind != TH_URING) {
		fd = open(DEV0, O_RDWR | O_CLOEXEC);
		if (fd < 0 || pt_pending(fd, &p0)) {
			fail("threads: open: %s", strerror(errno));
			return -1;
		}
	}
	if (ring_init(&ring, 1024, 4096)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	base = count_threads();
	switch (kind) {
	case TH_URING:
		ret = uring_add_timeouts(&ring, NULL, 0, TH_N);
		usleep(200000);
		break;
	case TH_PT_PEND:
		ret = pend_submit(&ring, fd, LONG_TIMEOUT, 0, TH_N, true);
		if (!ret)
			ret = wait_pending(fd, p0 + TH_N, &got);
		break;
	default:
		{
			unsigned int mw[2] = { TH_N, TH_N };

			ret = io_uring_register_iowq_max_workers(&ring, mw);
			if (ret)
				say("  io_uring_register_iowq_max_workers: %s", strerror(-ret));
		}
		for (i = 0; i < TH_N; i++) {
			struct pendtimer_wait w = { .timeout_ns = LONG_TIMEOUT, .tag = i };

			prep_uring_cmd(get_sqe(&ring), fd, PENDTIMER_IOC_WAIT, &w, sizeof(w), i);
		}
		ret = io_uring_submit(&ring);
		ret = ret < 0 ? ret : wait_pending(fd, p0 + TH_N, &got);
		detail("threads_for_1000_pending.pendtimer_uring_cmd_pending_reached",
		       "%" PRIu64, got - p0);
		break;
	}
	if (ret && ret != -ETIMEDOUT)
		fail("threads %s: %d", th_name[kind], ret);
	else
		n = count_threads() - base;
	if (ret == -ETIMEDOUT)
		say("  %-22s only %" PRIu64 " of %d pending after %llu s: %d more threads",
		    th_name[kind], got - p0, TH_N, TH_WAIT_NS / NS_PER_S, n);
	else
		say("  %-22s %d pending: %d more threads", th_name[kind], TH_N, n);
	io_uring_queue_exit(&ring);
	if (fd >= 0)
		close(fd);
	return n;
}

/* The io-wq workers of a closed ring exit late: wait for the count to settle. */
static void threads_settle(int base)
{
	unsigned int i;

	for (i = 0; i < 300 && count_threads() > base; i++)
		usleep(100000);
}

static void bench_threads(void)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	/* the one with io-wq workers last */
	static const int order[NR_TH] = { TH_URING, TH_PT_PEND, TH_PT_URING };
	int k, base = count_threads();

	if (setrlimit(RLIMIT_NPROC, &rl))
		say("threads: setrlimit(RLIMIT_NPROC): %s", strerror(errno));
	say("threads: %d pending of each kind, submitted in one go", TH_N);
	for (k = 0; k < NR_TH; k++) {
		if (order[k] == TH_PT_PEND && !pend_ok)
			continue;
		threads_settle(base);
		threads_1k[order[k]] = threads_for(order[k]);
	}
	threads_settle(base);
}

/* ------------------------------------------------------------------ */
/* diag: where the overshoot goes (tracepoints) */

struct diagrow {
	int64_t start, irq, wake;	/* call->armed, expiry->irq, irq->user */
	int64_t cb;	/* pendtimer: irq -> pendtimer_complete, or INT64_MIN */
};

static int trace_write(const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	return write_str(path, val);
}

/*
 * Parse the trace: "hrtimer_start: hrtimer=P function=FN expires=E ..." and
 * "hrtimer_expire_entry: hrtimer=P function=FN now=N" lines of function
 * @fn; trace_marker lines "pt-diag I" (I in [@lo, @hi)) open sample I.
 */
static int diag_parse(const char *fn, unsigned int lo, unsigned int hi,
		      const uint64_t *t0, const uint64_t *t1, uint64_t d,
		      struct diagrow *rows)
{
	char line[1024], want[128];
	FILE *f = fopen(TRACEFS "/trace", "re");
	long long cur = -1;
	unsigned long long expires = 0, hp = 0;
	bool have_start = false;
	int nrows = 0;

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "function=%s ", fn);
	while (fgets(line, sizeof(line), f)) {
		char *m = strstr(line, "pt-diag ");
		char *p;

		if (m) {
			cur = atoll(m + 8);
			if (cur < lo || cur >= hi)
				cur = -1;
			have_start = false;
			continue;
		}
		if (cur < 0 || (!strstr(line, want) && !strstr(line, "pendtimer_complete: ")))
			continue;
		p = strstr(line, "hrtimer_start: hrtimer=");
		if (p) {
			char *e = strstr(line, " expires=");

			if (!e || have_start)
				continue;
			hp = strtoull(p + 23, NULL, 16);
			expires = strtoull(e + 9, NULL, 10);
			have_start = true;
			continue;
		}
		p = strstr(line, "hrtimer_expire_entry: hrtimer=");
		if (p) {
			char *e = strstr(line, " now=");
			unsigned long long now;

			if (!e || !have_start || strtoull(p + 30, NULL, 16) != hp)
				continue;
			now = strtoull(e + 5, NULL, 10);
			rows[nrows].start = (int64_t)(expires - d - t0[cur]);
			rows[nrows].irq = (int64_t)(now - expires);
			rows[nrows].wake = (int64_t)(t1[cur] - now);
			rows[nrows].cb = INT64_MIN;
			nrows++;
			have_start = false;
			continue;
		}
		p = strstr(line, "pendtimer_complete: ");
		if (p)
			p = strstr(p, " latency_ns=");
		if (p && nrows && rows[nrows - 1].cb == INT64_MIN) {
			/* the request's own view: completion - due */
			rows[nrows - 1].cb = atoll(p + 12) - rows[nrows - 1].irq;
			cur = -1;
		}
	}
	fclose(f);
	return nrows;
}

static int64_t rows_p50(struct diagrow *rows, int nr, int which)
{
	int64_t *v = xcalloc(nr, sizeof(int64_t)), r;
	int j;

	int m = 0;

	for (j = 0; j < nr; j++) {
		int64_t x = which == 0 ? rows[j].start : which == 1 ? rows[j].irq :
			    which == 2 ? rows[j].wake : rows[j].cb;

		if (x != INT64_MIN)
			v[m++] = x;
	}
	qsort(v, m, sizeof(int64_t), cmp_i64);
	r = m ? pct(v, m, 50) : INT64_MIN;
	free(v);
	return r;
}

/*
 * What the pieces of a request cost here, without sleeping: chunks of 500
 * calls of each, interleaved, median chunk. Under TCG the guest's
 * clocksource is often the HPET (TSC unstable): then every ktime_get() is
 * an emulated MMIO read and clock_gettime() a system call.
 */
enum {
	C_GETPPID, C_CLOCK, C_NULL_IOCTL, C_PT_ENOTTY, C_PT_ENOTTY_TRACKED, C_PT_ENOENT,
	C_PT_ARMCANCEL, C_PT_STATS, NR_COST
};

static const char *const cost_name[NR_COST] = {
	"getppid", "clock_gettime_monotonic", "devnull_ioctl_enotty",
	"pendtimer_ioctl_enotty", "pendtimer_ioctl_enotty_track_holders",
	"pendtimer_cancel_enoent", "pendtimer_arm_plus_cancel", "pendtimer_stats",
};

#define PARAM_TRACK	"/sys/module/pendtimer/parameters/track_holders"

/* track_holders as found: 'Y', 'N', or 0 when the module has no such parameter */
static char track_read(void)
{
	char buf[8] = "";
	int fd = open(PARAM_TRACK, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && (buf[0] == 'Y' || buf[0] == 'N') ? buf[0] : 0;
}

static void bench_costs(void)
{
	const unsigned int chunk = 500, rounds = 31;
	double v[NR_COST][31], med[NR_COST], lo[NR_COST];
	int fd = open(DEV0, O_RDWR | O_CLOEXEC), nfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int efd = eventfd(0, EFD_CLOEXEC);
	struct pendtimer_stats st;
	struct timespec ts;
	unsigned int r, k, i;
	uint64_t tag = 1ULL << 40;
	char cs[64] = "?", buf[1024], track = track_read();
	size_t len = 0;
	FILE *f;

	if (fd < 0 || nfd < 0 || efd < 0) {
		fail("costs: open: %s", strerror(errno));
		return;
	}
	/* the remove lock's fast path: tracking off, and on for one chunk kind */
	if (track)
		write_str(PARAM_TRACK, "0");
	for (r = 0; r < rounds; r++) {
		for (k = 0; k < NR_COST; k++) {
			uint64_t t0;

			if (k == C_PT_ENOTTY_TRACKED) {
				if (!track) {
					v[k][r] = -1;
					continue;
				}
				write_str(PARAM_TRACK, "1");
			}
			t0 = now_ns();

			for (i = 0; i < chunk; i++) {
				switch (k) {
				case C_GETPPID:
					getppid();
					break;
				case C_CLOCK:
					clock_gettime(CLOCK_MONOTONIC, &ts);
					break;
				case C_NULL_IOCTL:
					ioctl(nfd, _IO(PENDTIMER_IOC_MAGIC, 99), NULL);
					break;
				case C_PT_ENOTTY:
				case C_PT_ENOTTY_TRACKED:
					ioctl(fd, _IO(PENDTIMER_IOC_MAGIC, 99), NULL);
					break;
				case C_PT_ENOENT:
					pt_cancel(fd, 7);
					break;
				case C_PT_ARMCANCEL:
					if (pt_arm(fd, LONG_TIMEOUT, tag, efd) ||
					    pt_cancel(fd, tag))
						fail("costs: ARM/CANCEL");
					tag++;
					break;
				case C_PT_STATS:
					ioctl(fd, PENDTIMER_IOC_STATS, &st);
					break;
				}
			}
			v[k][r] = (double)(now_ns() - t0) / chunk;
			if (k == C_PT_ENOTTY_TRACKED)
				write_str(PARAM_TRACK, "0");
		}
	}
	if (track)
		write_str(PARAM_TRACK, track == 'Y' ? "1" : "0");
	close(fd);
	close(nfd);
	close(efd);
	for (k = 0; k < NR_COST; k++) {
		med[k] = median_dbl(v[k], rounds);
		lo[k] = v[k][0];	/* sorted by median_dbl(): the fastest chunk */
		len += snprintf(buf + len, sizeof(buf) - len, "%s\"%s\": %.0f", k ? ", " : "",
				cost_name[k], med[k]);
	}
	f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "re");
	if (f) {
		if (fgets(cs, sizeof(cs), f))
			cs[strcspn(cs, "\n")] = 0;
		fclose(f);
	}
	say("costs (ns per call, median of %u chunks of %u; clocksource %s):", rounds, chunk, cs);
	say("  getppid %.0f, clock_gettime %.0f, /dev/null ioctl -ENOTTY %.0f, pendtimer ioctl -ENOTTY %.0f (remove lock enter+exit: +%.0f)",
	    med[C_GETPPID], med[C_CLOCK], med[C_NULL_IOCTL], med[C_PT_ENOTTY],
	    med[C_PT_ENOTTY] - med[C_NULL_IOCTL]);
	if (track)
		say("  pendtimer ioctl -ENOTTY with track_holders on %.0f (remove lock enter+exit: +%.0f)",
		    med[C_PT_ENOTTY_TRACKED], med[C_PT_ENOTTY_TRACKED] - med[C_NULL_IOCTL]);
	/* host preemption only adds: the fastest chunk is the steadier figure */
	say("  fastest chunks: /dev/null ioctl %.0f, pendtimer ioctl %.0f (+%.0f), with track_holders on %.0f (+%.0f)",
	    lo[C_NULL_IOCTL], lo[C_PT_ENOTTY], lo[C_PT_ENOTTY] - lo[C_NULL_IOCTL],
	    lo[C_PT_ENOTTY_TRACKED], lo[C_PT_ENOTTY_TRACKED] - lo[C_NULL_IOCTL]);
	detail("costs_ns_per_call_fastest_chunk",
	       "{\"devnull_ioctl_enotty\": %.0f, \"pendtimer_ioctl_enotty\": %.0f, \"pendtimer_ioctl_enotty_track_holders\": %.0f}",
	       lo[C_NULL_IOCTL], lo[C_PT_ENOTTY], lo[C_PT_ENOTTY_TRACKED]);
	say("  CANCEL of an absent tag %.0f, ARM (1 h) + CANCEL %.0f, STATS %.0f",
	    med[C_PT_ENOENT], med[C_PT_ARMCANCEL], med[C_PT_STATS]);
	detail("clock.clocksource", "\"%s\"", cs);
	detail("costs_ns_per_call", "{%s}", buf);
}

static void bench_diag(unsigned int pi)
{
	static const struct {
		int impl;
		const char *fn;
	} who[] = {
		{ L_NANOSLEEP, "hrtimer_wakeup" },
		{ L_PT_WAIT, "pendtimer_timer_fn" },
		{ L_TIMERFD, "timerfd_tmrproc" },
		{ L_PT_ARM, "pendtimer_timer_fn" },
		{ L_URING, "io_timeout_fn" },
	};
	const unsigned int nw = ARRAY_SIZE(who);
	const unsigned int n = opt_nsamples < 500 ? opt_nsamples : 500;
	const uint64_t d = periods[pi];
	uint64_t *t0, *t1;
	struct diagrow *rows;
	struct latctx c;
	int mfd;
	unsigned int i, k;
	char key[96];

	if (access(TRACEFS "/events/timer/hrtimer_start/enable", F_OK)) {
		say("diag: no tracefs timer events, skipped");
		return;
	}
	if (latctx_open(&c))
		return;
	say("diag: %u samples at %s each, interleaved, timer:hrtimer_start/expire_entry traced",
	    n, period_name[pi]);
	trace_write("tracing_on", "0");
	trace_write("trace_clock", "mono");
	trace_write("buffer_size_kb", "16384");
	trace_write("trace", "");
	trace_write("events/timer/hrtimer_start/enable", "1");
	trace_write("events/timer/hrtimer_expire_entry/enable", "1");
	trace_write("events/pendtimer/pendtimer_complete/enable", "1");
	mfd = open(TRACEFS "/trace_marker", O_WRONLY | O_CLOEXEC);
	if (mfd < 0) {
		say("diag: trace_marker: %s, skipped", strerror(errno));
		latctx_close(&c);
		return;
	}
	t0 = xcalloc((size_t)nw * n, sizeof(uint64_t));
	t1 = xcalloc((size_t)nw * n, sizeof(uint64_t));
	rows = xcalloc(n, sizeof(*rows));
	for (i = 0; i < 20; i++)
		for (k = 0; k < nw; k++)
			lat_fn[who[k].impl](&c, d);
	trace_write("tracing_on", "1");
	for (i = 0; i < n; i++) {
		for (k = 0; k < nw; k++) {
			unsigned int j = (i + k) % nw, idx = j * n + i;
			char mk[32];
			int len = snprintf(mk, sizeof(mk), "pt-diag %u\n", idx);

			if (write(mfd, mk, len) < 0)
				break;
			if (lat_fn[who[j].impl](&c, d) == INT64_MIN)
				break;
			t0[idx] = c.t0;
			t1[idx] = c.t1;
		}
	}
	trace_write("tracing_on", "0");
	trace_write("events/timer/hrtimer_start/enable", "0");
	trace_write("events/timer/hrtimer_expire_entry/enable", "0");
	trace_write("events/pendtimer/pendtimer_complete/enable", "0");
	for (k = 0; k < nw; k++) {
		int nr = diag_parse(who[k].fn, k * n, (k + 1) * n, t0, t1, d, rows);
		int64_t a, b, w, cb;

		if (nr <= 0) {
			say("  %s: no trace rows matched", impl_name[who[k].impl]);
			continue;
		}
		a = rows_p50(rows, nr, 0);
		b = rows_p50(rows, nr, 1);
		w = rows_p50(rows, nr, 2);
		cb = rows_p50(rows, nr, 3);
		say("  %-22s %3d samples, p50: call->timer armed %6.1f us, expiry->irq %6.1f us, irq->back in user %6.1f us",
		    impl_name[who[k].impl], nr, a / 1e3, b / 1e3, w / 1e3);
		snprintf(key, sizeof(key), "diag_%s_p50_ns.%s", period_name[pi],
			 impl_name[who[k].impl]);
		if (cb != INT64_MIN) {
			say("  %-22s pendtimer:pendtimer_complete: irq -> request completed %6.1f us (p50)",
			    "", cb / 1e3);
			detail(key, "{\"samples\": %d, \"call_to_armed\": %" PRId64
			       ", \"expiry_to_irq\": %" PRId64 ", \"irq_to_user\": %" PRId64
			       ", \"irq_to_complete_tracepoint\": %" PRId64 "}", nr, a, b, w, cb);
		} else {
			detail(key, "{\"samples\": %d, \"call_to_armed\": %" PRId64
			       ", \"expiry_to_irq\": %" PRId64 ", \"irq_to_user\": %" PRId64 "}",
			       nr, a, b, w);
		}
	}
	trace_write("trace", "");
	trace_write("buffer_size_kb", "1408");
	trace_write("trace_clock", "local");
	close(mfd);
	free(t0);
	free(t1);
	free(rows);
	latctx_close(&c);
}

/* ------------------------------------------------------------------ */
/* the table */

static void print_table(const char *kernel)
{
	int i, p;

	printf("\npendtimer benchmark, lane %s, kernel %s\n\n", opt_lane, kernel);
	printf("latency overshoot (us)       |        100 us         |         1 ms\n");
	printf("                             |   p50     p99     max |   p50     p99     max\n");
	for (i = 0; i < NR_IMPL; i++) {
		printf("%-28s |", impl_name[i]);
		for (p = 0; p < 2; p++) {
			struct latres *r = &lat[i][p];

			if (r->ok)
				printf(" %6.1f %7.1f %7.1f |", r->p50 / 1e3, r->p99 / 1e3,
				       r->max / 1e3);
			else
				printf("      -       -       - |");
		}
		printf("\n");
	}
	printf("\ncancel, ns per op            |     1k pending     10k pending    100k pending\n");
	printf("%-28s | %14.0f %14.0f %14.0f\n", "pendtimer CANCEL ioctl", cancel_pt[0],
	       cancel_pt[1], cancel_pt[2]);
	printf("%-28s | %14.0f %14.0f %14.0f\n", "io_uring TIMEOUT_REMOVE", cancel_ur[0],
	       cancel_ur[1], cancel_ur[2]);
	printf("%-28s | %14.0f %14.0f %14.0f\n", "(pendtimer URING_CMD CANCEL)",
	       cancel_ptu[0], cancel_ptu[1], cancel_ptu[2]);
	printf("\nbytes per pending request (%u)  pendtimer ARM %.1f   io_uring TIMEOUT %.1f\n",
	       opt_big, bytes_pt, bytes_ur);
	if (pend_ok)
		printf("bytes per pending PEND (%u)   %.1f\n", opt_big, bytes_pend);
	printf("completions/s, timeout 0      pendtimer %.0f   io_uring %.0f   PEND %.0f\n",
	       cps_pt, cps_ur, cps_pend);
	printf("threads for %d pending        URING_CMD WAIT %.0f   PEND %.0f   io_uring %.0f\n",
	       TH_N, threads_1k[TH_PT_URING], threads_1k[TH_PT_PEND], threads_1k[TH_URING]);
	printf("  (pendtimer: %s)\n", cps_pt_how);
	printf("teardown of %u pending (ms)  pendtimer close %.2f   del_device %.2f   io_uring ring close %.2f\n\n",
	       opt_big, td_close / 1e6, td_del / 1e6, td_ur / 1e6);
}

int main(int argc, char **argv)
{
	long long old_max = -1;
	struct utsname un;
	FILE *samples = NULL;
	char maxbuf[32];
	int opt;

	while ((opt = getopt(argc, argv, "o:s:d:n:N:t:l:c:")) != -1) {
		switch (opt) {
		case 'o':
			opt_json = optarg;
			break;
		case 's':
			opt_samples = optarg;
			break;
		case 'd':
			opt_details = optarg;
			break;
		case 'n':
			opt_nsamples = (unsigned int)atoi(optarg);
			break;
		case 'N':
			opt_big = (unsigned int)atoi(optarg);
			break;
		case 't':
			opt_sections = optarg;
			break;
		case 'l':
			opt_lane = optarg;
			break;
		case 'c':
			opt_cpu = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-o json] [-s samples] [-d details] [-n samples] [-N big] [-t sections] [-l lane] [-c cpu|-1]\n",
				argv[0]);
			return 2;
		}
	}
	if (opt_nsamples < 10 || opt_big < 1000) {
		fprintf(stderr, "bad -n/-N\n");
		return 2;
	}
	if (!strcmp(opt_lane, "unknown") && getenv("LANE"))
		opt_lane = getenv("LANE");
	uname(&un);
	t_start = now_ns();
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* nanosleep's floor is the hrtimer's, not 50 us of default slack */
	if (prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0))
		fail("PR_SET_TIMERSLACK: %s", strerror(errno));
	say("pendtimer_bench: lane %s, kernel %s, timer slack %d ns, pid %d, sections %s",
	    opt_lane, un.release, prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), getpid(), opt_sections);
	if (access(DEV0, R_OK | W_OK)) {
		fail("%s: %s (module not loaded?)", DEV0, strerror(errno));
		return 1;
	}
	old_max = read_ll(PARAM_MAXPEND);
	snprintf(maxbuf, sizeof(maxbuf), "%u", 1048576);
	if (write_str(PARAM_MAXPEND, maxbuf))
		fail("cannot raise max_pending");
	pend_probe();

	/* latency, costs and diag run pinned, before the heavy sections */
	pin();
	if (pinned) {
		int i;

		for (i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &pin_set))
				say("latency, costs and diag pinned to CPU %d (io-wq workers too)", i);
	}
	if (section_on("latency")) {
		samples = fopen(opt_samples, "w");
		if (samples)
			fprintf(samples, "# impl period percentile overshoot_ns\n");
		bench_latency(samples);
		if (samples)
			fclose(samples);
	}
	if (section_on("costs"))
		bench_costs();
	if (section_on("diag")) {
		bench_diag(0);
		bench_diag(1);
	}
	unpin();
	if (section_on("cancel"))
		bench_cancel();
	if (section_on("memory") || section_on("teardown"))
		bench_memory_teardown(section_on("memory"), section_on("teardown"));
	if (section_on("memory"))
		bench_memory_memcg();
	if (section_on("throughput"))
		bench_throughput();
	if (section_on("threads"))
		bench_threads();

	if (old_max > 0) {
		snprintf(maxbuf, sizeof(maxbuf), "%lld", old_max);
		write_str(PARAM_MAXPEND, maxbuf);
	}
	write_json(un.release);
	print_table(un.release);
	say("done, %d failure(s)", failures);
	return failures ? 1 : 0;
}
