/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pendtimer_bench: what its files share: sizes, paths, the results, the
 * helpers each file gives the others. main.c says what the benchmark does.
 */
#ifndef PENDTIMER_BENCH_H
#define PENDTIMER_BENCH_H

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
#include <pendtimer.h>

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

struct kmem {
	long long slab_kb, vmalloc_kb, percpu_kb;
};

struct slabline {
	long long active, num, objsize, objperslab, pagesperslab, slabs;
};

/* ------------------------------------------------------------------ */
/* JSON and details */

struct latres {
	int64_t p50, p99, max;
	int64_t p50_lo, p50_hi;		/* the median's 95 % interval */
	bool ok;
};

enum {
	L_NANOSLEEP, L_TIMERFD, L_URING, L_PT_WAIT, L_PT_URING, L_PT_ARM, L_PT_PEND,
	NR_IMPL
};
/* extra threads with 1000 pending: URING_CMD WAIT, PEND, io_uring timeouts */
enum { TH_PT_URING, TH_PT_PEND, TH_URING, NR_TH };

/* ------------------------------------------------------------------ */
/* latency */

struct latctx {
	int ptfd, tfd, efd;
	struct io_uring ring;
	uint64_t tag;
	uint64_t t0, t1;	/* the last sample's call and return */
};

/* ------------------------------------------------------------------ */
/* cancel at scale */

struct cancel_side {
	uint64_t *tags;		/* 0..N-1, shuffled prefix = this round's picks */
	size_t n;
};

#define URING_BATCH	64
#define UD_REMOVE	(1ULL << 63)

#define CANCEL_BATCHES	60	/* per N and contender; the first 3 warm up */
#define CANCEL_WARMUP	3
#define PT_BATCH	100
#define UR_BUDGET_NS	(12 * NS_PER_S)	/* io_uring at 100k: ~ms per remove */

/* Bytes in all slab caches of /proc/slabinfo, and in two of them. */
struct slabsum {
	long long all, pt_req, kiocb;
};

/* ------------------------------------------------------------------ */
/* throughput */

#define TP_BATCH	256

#define TP_THREADS	4

struct tp_thread {
	pthread_t th;
	int fd, idx, err;
	uint64_t end, done;
};

/* ------------------------------------------------------------------ */
/* threads: how many each mode needs for 1000 pending */

#define TH_N		1000
#define TH_WAIT_NS	(60 * NS_PER_S)

/* ------------------------------------------------------------------ */
/* diag: where the overshoot goes (tracepoints) */

struct diagrow {
	int64_t start, irq, wake;	/* call->armed, expiry->irq, irq->user */
	int64_t cb;	/* pendtimer: irq -> pendtimer_complete, or INT64_MIN */
};

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

#define PARAM_TRACK	"/sys/module/pendtimer/parameters/track_holders"

/* main.c */
extern const char *opt_json;
extern const char *opt_details;
extern const char *opt_lane;
extern const char *opt_sections;
extern unsigned int opt_nsamples;
extern unsigned int opt_big;
extern int opt_cpu;	/* -2: the last online CPU; -1: no pinning */
extern int failures;
extern bool pend_ok;
extern uint64_t t_start;

/* util.c */
extern cpu_set_t pin_set;
extern bool pinned;

/* report.c */
extern const char *const impl_name[NR_IMPL];
extern const uint64_t periods[2];
extern const char *const period_name[2];
extern struct latres lat[NR_IMPL][2];
extern const unsigned int cancel_n[3];
extern double cancel_pt[3], cancel_ur[3];
extern double cancel_ptu[3];	/* URING_CMD CANCEL, batched */
extern double bytes_pt, bytes_ur, bytes_pend;
extern double cps_pt, cps_ur, cps_pend;
extern const char *const th_name[NR_TH];
extern double threads_1k[NR_TH];
extern const char *cps_pt_how;
extern double td_close, td_del, td_ur;
extern char details[16384];

/* latency.c */
extern int64_t (*const lat_fn[NR_IMPL])(struct latctx *, uint64_t);

/* util.c */
void say(const char *fmt, ...);
void fail(const char *fmt, ...);
bool section_on(const char *name);
void pin(void);
void unpin(void);
void *xcalloc(size_t n, size_t sz);
uint64_t rnd(void);
int cmp_i64(const void *a, const void *b);
int64_t pct(const int64_t *v, size_t n, double p);
void median_interval(const int64_t *v, size_t n, int64_t *lo, int64_t *hi);
double median_dbl(double *v, size_t n);
void kmem_read(struct kmem *m);
void kmem_settle(void);
long long kmem_delta_bytes(const struct kmem *a, const struct kmem *b);
int slab_read(const char *name, struct slabline *s);
long long slab_bytes(const struct slabline *s);

/* wrap.c */
int pt_pending(int fd, uint64_t *pending);
int arm_many(int fd, int efd, const uint64_t *tags, uint64_t first,
		    size_t n, uint64_t timeout);
int ring_init(struct io_uring *ring, unsigned int sq, unsigned int cq);
struct io_uring_sqe *get_sqe(struct io_uring *ring);
int uring_add_timeouts(struct io_uring *ring, const uint64_t *uds,
			      uint64_t first, size_t n);
int pend_submit(struct io_uring *ring, int fd, uint64_t timeout, uint64_t first,
		       size_t n, bool parked);
void pend_probe(void);
int reap_n(struct io_uring *ring, unsigned int n, int want_hi, int want_lo);

/* report.c */
void detail(const char *key, const char *fmt, ...);
void write_json(const char *kernel);
void print_table(const char *kernel);

/* latency.c */
int latctx_open(struct latctx *c);
void latctx_close(struct latctx *c);
void bench_latency(FILE *samples);

/* cancel.c */
void bench_cancel(void);

/* memory.c */
void bench_memory_teardown(bool do_mem, bool do_td);
void bench_memory_memcg(void);

/* throughput.c */
void bench_throughput(void);
void bench_threads(void);

/* diag.c */
void bench_costs(void);
void bench_diag(unsigned int pi);

#endif /* PENDTIMER_BENCH_H */
