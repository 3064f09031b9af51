// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer race: the three-way race demonstration (timers vs CANCEL vs
 * close-time flush, plus signals, ARMs and PENDs), with its checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#ifndef PENDTIMER_NO_URING
#include <liburing.h>
#endif

#include "cli.h"

#include "race_show.h"

#define RACE_MAX_WAITERS	32
#define RACE_MAX_CANCELLERS	16
#define RACE_ARM_SLOTS		16
#define RACE_PEND_SLOTS		16
#define RACE_PEND_INFLIGHT	32	/* PENDs parked at once, at most */
#define RACE_DUE_MAX_US		50

struct race_wctr {		/* one WAIT thread's view */
	uint64_t accepted, fired, ecanceled, eintr, enodev, refused;
	int refused_err;
};

struct race_cctr {		/* one CANCEL thread's view */
	uint64_t ok_wait, ok_arm, ok_pend, enoent, other;
	int other_err;
};

struct race {
	int fd;				/* the shared open file */
	uint64_t iterations;
	unsigned int nwaiters, ncancellers;
	unsigned int close_us, signal_us;

	uint64_t next_iter;		/* atomic: iterations claimed */
	uint64_t next_tag;		/* atomic: tags are unique in the run */
	uint64_t arms_claimed;		/* atomic */
	volatile int stop_helpers;
	volatile int submitters_left;	/* atomic */

	uint64_t wslot[RACE_MAX_WAITERS];	/* live WAIT tag, 0 = none */
	uint64_t aslot[RACE_ARM_SLOTS];		/* recent ARM tags */
	uint64_t pslot[RACE_PEND_SLOTS];	/* recent PEND tags */
	pthread_t wth[RACE_MAX_WAITERS];

	struct race_wctr w[RACE_MAX_WAITERS + 1];	/* the last: forced rounds */
	struct race_cctr c[RACE_MAX_CANCELLERS + 1];	/* the last: forced rounds */
	/* the ARM thread */
	int efd;
	uint64_t arm_accepted, arm_refused, arm_fired;
	int arm_refused_err;
	/* the PEND thread (when the kernel parks PENDs: 6.7+) */
	bool pend_on;
	uint64_t pends_claimed;		/* atomic */
	uint64_t pend_accepted, pend_fired, pend_ecanceled, pend_enodev;
	uint64_t pend_refused;
	int pend_refused_err;
	/* closer, signaller */
	uint64_t closes, close_errs, signals;
};

static uint64_t race_due_ns(uint64_t *rnd)
{
	return (pt_xorshift64(rnd) % (RACE_DUE_MAX_US + 1)) * NSEC_PER_USEC;
}

struct race_arg {
	struct race *r;
	unsigned int idx;
};

/* Count one WAIT's result (the thread's own counters). */
static void race_count_wait(struct race_wctr *c, int ret)
{
	switch (ret) {
	case 0:
		c->accepted++;
		c->fired++;
		break;
	case -ECANCELED:
		c->accepted++;
		c->ecanceled++;
		break;
	case -EINTR:
		c->accepted++;
		c->eintr++;
		break;
	case -ENODEV:
		c->accepted++;
		c->enodev++;
		break;
	default:
		c->refused++;
		c->refused_err = -ret;
		break;
	}
}

static void *race_waiter(void *arg)
{
	struct race_arg *a = arg;
	struct race *r = a->r;
	struct race_wctr *c = &r->w[a->idx];
	uint64_t rnd = 0x9e3779b97f4a7c15ULL * (a->idx + 1);

	while (__atomic_fetch_add(&r->next_iter, 1, __ATOMIC_RELAXED) < r->iterations) {
		uint64_t tag = __atomic_add_fetch(&r->next_tag, 1, __ATOMIC_RELAXED);
		int ret;

		__atomic_store_n(&r->wslot[a->idx], tag, __ATOMIC_RELEASE);
		ret = pt_wait(r->fd, race_due_ns(&rnd), tag);
		__atomic_store_n(&r->wslot[a->idx], 0, __ATOMIC_RELEASE);
		race_count_wait(c, ret);
	}
	__atomic_fetch_sub(&r->submitters_left, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void race_take_eventfd(struct race *r)
{
	uint64_t v;

	if (read(r->efd, &v, sizeof(v)) == sizeof(v))
		r->arm_fired += v;
}

/* ARMs make about a fifth of the requests, spread over the run. */
static void *race_armer(void *arg)
{
	struct race *r = arg;
	uint64_t rnd = 0x2545f4914f6cdd1dULL, n = 0;

	for (;;) {
		uint64_t claimed = __atomic_load_n(&r->next_iter, __ATOMIC_RELAXED);
		uint64_t tag;
		int ret;

		if (claimed >= r->iterations)
			break;
		if (__atomic_load_n(&r->arms_claimed, __ATOMIC_RELAXED) * 5 > claimed) {
			pt_sleep_ns(50 * NSEC_PER_USEC);
			continue;
		}
		if (__atomic_fetch_add(&r->next_iter, 1, __ATOMIC_RELAXED) >= r->iterations)
			break;
		__atomic_fetch_add(&r->arms_claimed, 1, __ATOMIC_RELAXED);
		tag = __atomic_add_fetch(&r->next_tag, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&r->aslot[n % RACE_ARM_SLOTS], tag, __ATOMIC_RELEASE);
		ret = pt_arm(r->fd, race_due_ns(&rnd), tag, r->efd);
		if (ret) {
			r->arm_refused++;
			r->arm_refused_err = -ret;
		} else {
			r->arm_accepted++;
		}
		if (++n % 8 == 0)
			race_take_eventfd(r);
	}
	race_take_eventfd(r);
	__atomic_fetch_sub(&r->submitters_left, 1, __ATOMIC_RELEASE);
	return NULL;
}

#ifndef PENDTIMER_NO_URING
static void race_count_pend(struct race *r, int res)
{
	switch (res) {
	case 0:
		r->pend_accepted++;
		r->pend_fired++;
		break;
	case -ECANCELED:
		r->pend_accepted++;
		r->pend_ecanceled++;
		break;
	case -ENODEV:
		r->pend_accepted++;
		r->pend_enodev++;
		break;
	default:
		r->pend_refused++;
		r->pend_refused_err = -res;
		break;
	}
}

/*
 * PENDs make about a fifth of the requests: parked on one ring (no thread
 * waits for them), at most RACE_PEND_INFLIGHT at once, their CQEs reaped
 * as they come.
 */
static void *race_pender(void *arg)
{
	struct race *r = arg;
	uint64_t rnd = 0x6a09e667f3bcc909ULL, n = 0;
	unsigned int inflight = 0;
	struct io_uring_cqe *cqe;
	struct io_uring ring;

	if (io_uring_queue_init(2 * RACE_PEND_INFLIGHT, &ring, 0)) {
		r->pend_refused++;
		r->pend_refused_err = ENOMEM;
		__atomic_fetch_sub(&r->submitters_left, 1, __ATOMIC_RELEASE);
		return NULL;
	}
	for (;;) {
		uint64_t claimed = __atomic_load_n(&r->next_iter, __ATOMIC_RELAXED);
		uint64_t tag;

		while (!io_uring_peek_cqe(&ring, &cqe)) {
			race_count_pend(r, cqe->res);
			io_uring_cqe_seen(&ring, cqe);
			inflight--;
		}
		if (claimed >= r->iterations)
			break;
		if (inflight >= RACE_PEND_INFLIGHT ||
		    __atomic_load_n(&r->pends_claimed, __ATOMIC_RELAXED) * 5 > claimed) {
			if (inflight && !io_uring_wait_cqe(&ring, &cqe)) {
				race_count_pend(r, cqe->res);
				io_uring_cqe_seen(&ring, cqe);
				inflight--;
			} else if (!inflight) {
				pt_sleep_ns(50 * NSEC_PER_USEC);
			}
			continue;
		}
		if (__atomic_fetch_add(&r->next_iter, 1, __ATOMIC_RELAXED) >= r->iterations)
			break;
		__atomic_fetch_add(&r->pends_claimed, 1, __ATOMIC_RELAXED);
		tag = __atomic_add_fetch(&r->next_tag, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&r->pslot[n++ % RACE_PEND_SLOTS], tag, __ATOMIC_RELEASE);
		if (pt_submit_pend(&ring, r->fd, race_due_ns(&rnd), tag, 1)) {
			r->pend_refused++;
			r->pend_refused_err = EIO;
			continue;
		}
		inflight++;
	}
	while (inflight && !io_uring_wait_cqe(&ring, &cqe)) {
		race_count_pend(r, cqe->res);
		io_uring_cqe_seen(&ring, cqe);
		inflight--;
	}
	io_uring_queue_exit(&ring);
	__atomic_fetch_sub(&r->submitters_left, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Does this kernel park PENDs? One due at once, on the STATS file. */
static bool race_pend_probe(int ctl)
{
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	bool ok = false;

	if (io_uring_queue_init(2, &ring, 0))
		return false;
	if (!pt_submit_pend(&ring, ctl, 0, UINT64_MAX, 1) && !io_uring_wait_cqe(&ring, &cqe)) {
		ok = cqe->res == 0;
		if (!ok)
			printf("note: a PEND completed with %s: no PENDs in the mix%s\n",
			       pt_errname(-cqe->res), cqe->res == -EOPNOTSUPP ?
			       " (Linux before 6.7 cannot park them)" : "");
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	return ok;
}
#endif

/* CANCEL live tags: WAIT slots, recent ARM and PEND tags, at random. */
static void *race_canceller(void *arg)
{
	struct race_arg *a = arg;
	struct race *r = a->r;
	struct race_cctr *c = &r->c[a->idx];
	uint64_t rnd = 0xda942042e4dd58b5ULL * (a->idx + 3);
	unsigned int nslots = r->nwaiters + RACE_ARM_SLOTS +
			      (r->pend_on ? RACE_PEND_SLOTS : 0);

	while (!r->stop_helpers) {
		unsigned int i = (unsigned int)(pt_xorshift64(&rnd) % nslots);
		bool is_wait = i < r->nwaiters;
		bool is_arm = !is_wait && i < r->nwaiters + RACE_ARM_SLOTS;
		uint64_t tag = __atomic_load_n(is_wait ? &r->wslot[i] : is_arm ?
					       &r->aslot[i - r->nwaiters] :
					       &r->pslot[i - r->nwaiters - RACE_ARM_SLOTS],
					       __ATOMIC_ACQUIRE);
		int ret;

		if (!tag) {
			sched_yield();
			continue;
		}
		ret = pt_cancel(r->fd, tag);
		if (ret == 0) {
			if (is_wait)
				c->ok_wait++;
			else if (is_arm)
				c->ok_arm++;
			else
				c->ok_pend++;
		} else if (ret == -ENOENT) {
			c->enoent++;
		} else {
			c->other++;
			c->other_err = -ret;
		}
		if (pt_xorshift64(&rnd) % 4 == 0)
			pt_sleep_ns((pt_xorshift64(&rnd) % 100) * NSEC_PER_USEC);
	}
	return NULL;
}

/* close() of dup()'ed descriptors of the open file: flush per owner. */
static void *race_closer(void *arg)
{
	struct race *r = arg;
	uint64_t rnd = 0x853c49e6748fea9bULL;

	while (!r->stop_helpers) {
		int d;

		pt_sleep_ns((r->close_us / 2 + pt_xorshift64(&rnd) % (r->close_us + 1)) *
			 NSEC_PER_USEC);
		d = dup(r->fd);
		if (d < 0) {
			r->close_errs++;
			continue;
		}
		if (close(d))
			r->close_errs++;
		else
			r->closes++;
	}
	return NULL;
}

/* Signal a random WAIT thread now and then: its WAIT returns -EINTR. */
static void *race_signaller(void *arg)
{
	struct race *r = arg;
	uint64_t rnd = 0xf1357aea2e62a9c5ULL;

	while (!r->stop_helpers) {
		unsigned int i;

		pt_sleep_ns((r->signal_us / 2 + pt_xorshift64(&rnd) % (r->signal_us + 1)) *
			 NSEC_PER_USEC);
		i = (unsigned int)(pt_xorshift64(&rnd) % r->nwaiters);
		/* only threads inside a WAIT: the others are about to exit */
		if (__atomic_load_n(&r->wslot[i], __ATOMIC_ACQUIRE) &&
		    __atomic_load_n(&r->submitters_left, __ATOMIC_ACQUIRE) &&
		    !pthread_kill(r->wth[i], SIGUSR1))
			r->signals++;
	}
	return NULL;
}

/*
 * Forced rounds, only when the random mix did not hit a window: the way
 * selftests/pendtimer_race_test.c hits it on purpose. A WAIT due at once is
 * submitted by a thread pinned to one CPU (its timer runs there and spins
 * race_delay_us before it claims); this thread, pinned to another CPU,
 * busy-waits into that window and then cancels (rule 1) or closes a dup()
 * of the file (rule 2).
 */
static bool race_restore_needed;
static long long race_saved_delay;

#define RACE_FORCE_DELAY_US	10000
#define RACE_FORCE_ATTEMPTS	12
/*
 * Due a little later than at once: a timer due at once fires as soon as the
 * submitter drops the file's lock, still inside its submission section,
 * and close() (flush) first waits for that section: it would only get to
 * the request after the callback.
 */
#define RACE_FORCE_DUE_US	500

struct race_forced {
	struct race *r;
	int cpu;
	uint64_t tag, t_start;
	volatile int started;
	int ret;
};

static void *race_forced_waiter(void *arg)
{
	struct race_forced *f = arg;

	pt_pin_self(f->cpu);
	f->t_start = pt_now_ns();
	__atomic_store_n(&f->started, 1, __ATOMIC_RELEASE);
	f->ret = pt_wait(f->r->fd, RACE_FORCE_DUE_US * NSEC_PER_USEC, f->tag);
	return NULL;
}

/* Returns true once the counter of @rule moved. */
static bool race_force(struct race *r, int ctl, int rule)
{
	static const unsigned int offsets_us[RACE_FORCE_ATTEMPTS] = {
		1500, 3000, 1000, 5000, 2000, 7000, 500, 4000, 8000, 2500, 6000, 9000,
	};
	struct race_wctr *wc = &r->w[RACE_MAX_WAITERS];
	struct race_cctr *cc = &r->c[RACE_MAX_CANCELLERS];
	int cpu_timer = pt_nth_cpu(0), cpu_main = pt_nth_cpu(1);
	cpu_set_t saved;
	bool hit = false;
	int attempt;

	if (cpu_timer < 0 || cpu_main < 0)
		return false;
	if (pt_param_write("race_delay_us", RACE_FORCE_DELAY_US))
		return false;
	race_restore_needed = true;
	sched_getaffinity(0, sizeof(saved), &saved);
	pt_pin_self(cpu_main);
	for (attempt = 0; attempt < RACE_FORCE_ATTEMPTS && !hit && !user_stop; attempt++) {
		struct race_forced f = { .r = r, .cpu = cpu_timer, .ret = 1 };
		struct pendtimer_stats b, a;
		pthread_t th;
		int ret;

		f.tag = __atomic_add_fetch(&r->next_tag, 1, __ATOMIC_RELAXED);
		if (cli_stats(ctl, &b) || pthread_create(&th, NULL, race_forced_waiter, &f))
			break;
		while (!__atomic_load_n(&f.started, __ATOMIC_ACQUIRE))
			;
		while (pt_now_ns() < f.t_start + (RACE_FORCE_DUE_US + offsets_us[attempt]) *
		       NSEC_PER_USEC)
			;
		if (rule == 1) {
			ret = pt_cancel(r->fd, f.tag);
			if (ret == 0)
				cc->ok_wait++;
			else if (ret == -ENOENT)
				cc->enoent++;
			else
				cc->other++;
			if (ret && ret != -ENOENT)
				cc->other_err = -ret;
		} else {
			int d = dup(r->fd);

			if (d < 0 || close(d))
				r->close_errs++;
			else
				r->closes++;
		}
		pthread_join(th, NULL);
		race_count_wait(wc, f.ret);
		if (cli_stats(ctl, &a))
			break;
		hit = rule == 1 ? a.race_timer_late > b.race_timer_late :
			a.race_cleanup_deferred > b.race_cleanup_deferred;
		printf("  forced rule %d, attempt %d (%s %u us after the due time): WAIT %s, %s\n",
		       rule, attempt + 1, rule == 1 ? "CANCEL" : "close()", offsets_us[attempt],
		       f.ret == 0 ? "fired" : f.ret == -ECANCELED ? "-ECANCELED" :
		       strerror(-f.ret),
		       hit ? (rule == 1 ? "race_timer_late +1" : "race_cleanup_deferred +1") :
		       "missed the window");
	}
	sched_setaffinity(0, sizeof(saved), &saved);
	return hit;
}

/* Wait for pending == 0 and two equal reads; false on timeout. */
static bool race_settle(int ctl, struct pendtimer_stats *out, unsigned int timeout_ms)
{
	uint64_t deadline = pt_now_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;
	struct pendtimer_stats a, b;

	for (;;) {
		if (cli_stats(ctl, &a))
			return false;
		if (a.pending == 0) {
			pt_sleep_ns(NSEC_PER_MSEC);
			if (cli_stats(ctl, &b))
				return false;
			if (!memcmp(&a, &b, sizeof(a))) {
				*out = a;
				return true;
			}
		}
		if (pt_now_ns() > deadline) {
			*out = a;
			return false;
		}
		pt_sleep_ns(2 * NSEC_PER_MSEC);
	}
}

static void race_restore_delay(void)
{
	if (race_restore_needed && pt_param_write("race_delay_us", race_saved_delay) == 0)
		race_restore_needed = false;
}

/* A terminal that understands \r (not the VM's serial console, TERM=dumb). */
static bool stdout_is_terminal(void)
{
	const char *term = getenv("TERM");

	return isatty(STDOUT_FILENO) && term && *term && strcmp(term, "dumb");
}

static unsigned int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned int)n : 1;
}

static void race_progress(struct race *r, int ctl, const char *phase, bool tty,
			  uint64_t t0, const struct pendtimer_stats *s0)
{
	struct pendtimer_stats s, abs;
	uint64_t claimed = __atomic_load_n(&r->next_iter, __ATOMIC_RELAXED);

	if (claimed > r->iterations)
		claimed = r->iterations;
	if (cli_stats(ctl, &abs))
		return;
	pt_stats_delta(&s, &abs, s0);
	s.pending = abs.pending;
	printf("%s[%3u%%] %6.1f s  %-8s  submitted %8llu  fired %7llu  cancelled %6llu  "
	       "flushed %6llu  interrupted %4llu  pending %4llu  timer_late %4llu  "
	       "cleanup_deferred %4llu%s",
	       tty ? "\r" : "", (unsigned int)(claimed * 100 / r->iterations),
	       pt_secs(pt_now_ns() - t0), phase,
	       (unsigned long long)s.submitted, (unsigned long long)s.fired,
	       (unsigned long long)s.cancelled, (unsigned long long)s.flushed,
	       (unsigned long long)s.interrupted, (unsigned long long)s.pending,
	       (unsigned long long)s.race_timer_late,
	       (unsigned long long)s.race_cleanup_deferred, tty ? "" : "\n");
	fflush(stdout);
}

/* A number as a string, for optional table cells (one call per printf). */
static const char *u64str(uint64_t v)
{
	static __thread char buf[4][24];
	static __thread unsigned int n;
	char *b = buf[n++ % 4];

	snprintf(b, sizeof(buf[0]), "%llu", (unsigned long long)v);
	return b;
}

struct check {
	int failed;
};

static void check_eq(struct check *ck, const char *what, uint64_t user, uint64_t kern,
		     const char *note)
{
	bool ok = user == kern;

	printf("  %-32s %12llu %12llu   %s%s%s\n", what, (unsigned long long)user,
	       (unsigned long long)kern, ok ? "ok" : "MISMATCH",
	       note ? "  " : "", note ? note : "");
	if (!ok)
		ck->failed++;
}

static void check_true(struct check *ck, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void check_true(struct check *ck, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("  [%s] ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		ck->failed++;
}

int cmd_race(const char *dev, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iterations", required_argument, NULL, 'n' },
		{ "delay-us", required_argument, NULL, 'D' },
		{ "waiters", required_argument, NULL, 'w' },
		{ "cancellers", required_argument, NULL, 'c' },
		{ "close-us", required_argument, NULL, 'C' },
		{ "signal-us", required_argument, NULL, 'S' },
		{ "force", no_argument, NULL, 'F' },
		{ "show", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct race race;	/* big: not on the stack */
	struct race *r = &race;
	struct race_arg wargs[RACE_MAX_WAITERS], cargs[RACE_MAX_CANCELLERS];
	pthread_t armer, closer, signaller, cth[RACE_MAX_CANCELLERS];
#ifndef PENDTIMER_NO_URING
	pthread_t pender;
#endif
	struct pendtimer_stats s_start, s_mid, s_force, s_end, d, d1, d2, d3;
	uint64_t delay_us = 30, t0, next_progress, last_pct = 0;
	uint64_t u_acc = 0, u_fired = 0, u_ecan = 0, u_eintr = 0, u_enodev = 0,
		 u_refused = 0, c_ok_wait = 0, c_ok_arm = 0, c_ok_pend = 0, c_enoent = 0,
		 c_other = 0;
	uint64_t u_submitted, u_fired_all, u_cancelled, u_flushed_wait, u_flushed_arm,
		 u_flushed_pend, u_flushed;
	bool tty = stdout_is_terminal(), widened = false, delay_ok = false, settled;
	bool forced = false, force = false;
	unsigned int cpus = online_cpus(), i;
	const char *phase = "natural";
	struct check ck = { 0 };
	sigset_t block, old;
	int opt, ctl, ret, last_refused_err = 0, last_other_err = 0;

	memset(r, 0, sizeof(*r));
	r->iterations = 20000;
	r->nwaiters = 4;
	r->ncancellers = 2;
	r->close_us = 2000;
	r->signal_us = 5000;
	optind = 0;	/* glibc: full re-initialisation (ordering too) */
	while ((opt = getopt_long(argc, argv, "n:D:w:c:C:S:Fsh", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			r->iterations = parse_u64(optarg, "--iterations");
			if (r->iterations < 10)
				die_usage("race: --iterations must be at least 10");
			break;
		case 'D':
			delay_us = parse_u64(optarg, "--delay-us");
			break;
		case 'w':
			r->nwaiters = (unsigned int)parse_u64(optarg, "--waiters");
			if (r->nwaiters < 1 || r->nwaiters > RACE_MAX_WAITERS)
				die_usage("race: --waiters must be 1..%d", RACE_MAX_WAITERS);
			break;
		case 'c':
			r->ncancellers = (unsigned int)parse_u64(optarg, "--cancellers");
			if (r->ncancellers < 1 || r->ncancellers > RACE_MAX_CANCELLERS)
				die_usage("race: --cancellers must be 1..%d",
					  RACE_MAX_CANCELLERS);
			break;
		case 'C':
			r->close_us = (unsigned int)parse_u64(optarg, "--close-us");
			if (!r->close_us)
				die_usage("race: --close-us must be at least 1");
			break;
		case 'S':
			r->signal_us = (unsigned int)parse_u64(optarg, "--signal-us");
			if (!r->signal_us)
				die_usage("race: --signal-us must be at least 1");
			break;
		case 'F':
			force = true;
			break;
		case 's':
			if (race_show_begin())
				return EXIT_FAIL;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			die_usage("race: bad option");
		}
	}
	if (optind != argc)
		die_usage("race: no arguments expected");

	r->fd = cli_open(dev);
	ctl = cli_open(dev);	/* STATS through an open file that is never flushed */
	r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->efd < 0) {
		perror("eventfd");
		return EXIT_FAIL;
	}
#ifndef PENDTIMER_NO_URING
	r->pend_on = race_pend_probe(ctl);
#endif
	ret = cli_stats(ctl, &s_start);
	if (ret) {
		pt_report("STATS", OP_STATS, -ret);
		return pt_exit_code(-ret);
	}
	ret = pt_param_read("race_delay_us", &race_saved_delay);
	if (ret)
		race_saved_delay = -1;
	if (ret)
		printf("note: cannot read " PT_PARAMS "race_delay_us (%s): no window injection\n",
		       strerror(-ret));

	printf("pendtimer race: %llu requests on %s, %u CPU(s)\n",
	       (unsigned long long)r->iterations, dev, cpus);
	printf("  %u WAIT threads (due 0..%u us), 1 ARM thread (eventfd, ~1 request in 5),\n"
	       "  %u CANCEL threads (PENDTIMER_IOC_CANCEL of live tags), 1 closer (close() of\n"
	       "  a dup()'ed descriptor every ~%u us: flush cancels this process's requests),\n"
	       "  1 signaller (SIGUSR1 to a waiting thread every ~%u us)\n",
	       r->nwaiters, RACE_DUE_MAX_US, r->ncancellers, r->close_us, r->signal_us);
	if (r->pend_on)
		printf("  1 PEND thread (io_uring PENDTIMER_URING_PEND, ~1 request in 5, up to %d\n"
		       "  parked on one ring with no thread behind them; CANCEL and close reach them too)\n",
		       RACE_PEND_INFLIGHT);
	printf("  first half: race_delay_us=%lld (natural timing); second half: "
	       "race_delay_us=%llu (the timer callback spins before it claims)\n",
	       ret ? 0LL : race_saved_delay, (unsigned long long)delay_us);
	if (s_start.pending)
		printf("note: %llu request(s) already pending on the device: another user? "
		       "the STATS deltas may not match\n",
		       (unsigned long long)s_start.pending);
	if (cpus < 2)
		printf("note: one CPU: a cancel or close cannot run while a timer callback "
		       "spins, the race counters will stay 0\n");
	fflush(stdout);

	install_handler(SIGUSR1, on_signal_noop);
	install_handler(SIGINT, on_user_stop);
	install_handler(SIGTERM, on_user_stop);
	atexit(race_restore_delay);
	/* Worker threads leave SIGINT/SIGTERM to the main thread. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	r->submitters_left = (int)r->nwaiters + 1 + (r->pend_on ? 1 : 0);
	for (i = 0; i < r->nwaiters; i++) {
		wargs[i].r = r;
		wargs[i].idx = i;
		pthread_create(&r->wth[i], NULL, race_waiter, &wargs[i]);
	}
	pthread_create(&armer, NULL, race_armer, r);
#ifndef PENDTIMER_NO_URING
	if (r->pend_on)
		pthread_create(&pender, NULL, race_pender, r);
#endif
	for (i = 0; i < r->ncancellers; i++) {
		cargs[i].r = r;
		cargs[i].idx = i;
		pthread_create(&cth[i], NULL, race_canceller, &cargs[i]);
	}
	pthread_create(&closer, NULL, race_closer, r);
	pthread_create(&signaller, NULL, race_signaller, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	t0 = pt_now_ns();
	next_progress = t0 + 2 * NSEC_PER_SEC;
	s_mid = s_start;
	while (__atomic_load_n(&r->submitters_left, __ATOMIC_ACQUIRE) > 0) {
		uint64_t claimed = __atomic_load_n(&r->next_iter, __ATOMIC_RELAXED);
		uint64_t pct = (claimed > r->iterations ? r->iterations : claimed) * 100 /
			       r->iterations;

		if (user_stop && claimed < r->iterations) {
			/* stop claiming: push the counter past the end */
			__atomic_store_n(&r->next_iter, r->iterations, __ATOMIC_RELAXED);
			printf("%sinterrupted: stopping\n", tty ? "\n" : "");
		}
		if (!widened && !user_stop && claimed >= r->iterations / 2) {
			widened = true;
			cli_stats(ctl, &s_mid);
			if (race_saved_delay >= 0 && delay_us &&
			    pt_param_write("race_delay_us", (long long)delay_us) == 0) {
				race_restore_needed = true;
				delay_ok = true;
				phase = "widened";
			} else if (delay_us) {
				printf("%snote: cannot write " PT_PARAMS "race_delay_us "
				       "(root needed): no window injection\n", tty ? "\n" : "");
			}
			race_progress(r, ctl, "natural", tty, t0, &s_start);
			printf("%s-- half way: race_delay_us=%lld from now on\n", tty ? "\n" : "",
			       delay_ok ? (long long)delay_us : race_saved_delay);
		}
		if ((tty && pt_now_ns() >= next_progress - 3 * NSEC_PER_SEC / 2) ||
		    pct / 10 != last_pct / 10 || pt_now_ns() >= next_progress) {
			race_progress(r, ctl, phase, tty, t0, &s_start);
			last_pct = pct;
			next_progress = pt_now_ns() + 2 * NSEC_PER_SEC;
		}
		pt_sleep_ns(10 * NSEC_PER_MSEC);
	}
	race_progress(r, ctl, phase, tty, t0, &s_start);
	if (tty)
		printf("\n");

	r->stop_helpers = 1;
	for (i = 0; i < r->ncancellers; i++)
		pthread_join(cth[i], NULL);
	pthread_join(closer, NULL);
	pthread_join(signaller, NULL);
	for (i = 0; i < r->nwaiters; i++)
		pthread_join(r->wth[i], NULL);
	pthread_join(armer, NULL);
#ifndef PENDTIMER_NO_URING
	if (r->pend_on)
		pthread_join(pender, NULL);
#endif

	/* Top up by force a race counter the random mix left at 0. */
	cli_stats(ctl, &s_force);
	pt_stats_delta(&d, &s_force, &s_start);
	if (race_saved_delay >= 0 && cpus >= 2 && !user_stop &&
	    (force || (delay_ok && (!d.race_timer_late || !d.race_cleanup_deferred))) &&
	    pt_param_write("race_delay_us", race_saved_delay) == 0) {	/* writable? */
		printf("-- %s: forcing the window (race_delay_us=%d, pinned threads)\n",
		       force ? "--force" : "a race counter is still 0", RACE_FORCE_DELAY_US);
		forced = true;
		if (force || !d.race_timer_late)
			race_force(r, ctl, 1);
		if (force || !d.race_cleanup_deferred)
			race_force(r, ctl, 2);
	}
	race_restore_delay();

	/* Last close: flush + release end the ARMs still pending (flushed). */
	close(r->fd);
	settled = race_settle(ctl, &s_end, 20000);
	race_take_eventfd(r);
	close(r->efd);

	r->w[r->nwaiters] = r->w[RACE_MAX_WAITERS];	/* the forced rounds */
	r->c[r->ncancellers] = r->c[RACE_MAX_CANCELLERS];
	for (i = 0; i <= r->nwaiters; i++) {
		u_acc += r->w[i].accepted;
		u_fired += r->w[i].fired;
		u_ecan += r->w[i].ecanceled;
		u_eintr += r->w[i].eintr;
		u_enodev += r->w[i].enodev;
		u_refused += r->w[i].refused;
		if (r->w[i].refused)
			last_refused_err = r->w[i].refused_err;
	}
	for (i = 0; i <= r->ncancellers; i++) {
		c_ok_wait += r->c[i].ok_wait;
		c_ok_arm += r->c[i].ok_arm;
		c_ok_pend += r->c[i].ok_pend;
		c_enoent += r->c[i].enoent;
		c_other += r->c[i].other;
		if (r->c[i].other)
			last_other_err = r->c[i].other_err;
	}
	if (r->arm_refused)
		last_refused_err = r->arm_refused_err;
	if (r->pend_refused)
		last_refused_err = r->pend_refused_err;

	u_submitted = u_acc + r->arm_accepted + r->pend_accepted;
	u_fired_all = u_fired + r->arm_fired + r->pend_fired;
	u_cancelled = c_ok_wait + c_ok_arm + c_ok_pend;
	u_flushed_wait = u_ecan - c_ok_wait;
	u_flushed_arm = r->arm_accepted - r->arm_fired - c_ok_arm;
	u_flushed_pend = r->pend_ecanceled - c_ok_pend;
	u_flushed = u_flushed_wait + u_flushed_arm + u_flushed_pend;
	pt_stats_delta(&d, &s_end, &s_start);
	pt_stats_delta(&d1, &s_mid, &s_start);
	pt_stats_delta(&d2, &s_force, &s_mid);
	pt_stats_delta(&d3, &s_end, &s_force);

	printf("\n=== outcome of %llu requests (%.1f s) ===\n",
	       (unsigned long long)u_submitted, pt_secs(pt_now_ns() - t0));
	printf("  %-32s %12s %12s %12s\n", "", "WAIT", "ARM", "PEND");
	printf("  %-32s %12llu %12llu %12s\n", "submitted (accepted)",
	       (unsigned long long)u_acc, (unsigned long long)r->arm_accepted,
	       r->pend_on ? u64str(r->pend_accepted) : "-");
	printf("  %-32s %12llu %12llu %12s\n", "fired (timer)",
	       (unsigned long long)u_fired, (unsigned long long)r->arm_fired,
	       r->pend_on ? u64str(r->pend_fired) : "-");
	printf("  %-32s %12llu %12llu %12s\n", "cancelled by CANCEL",
	       (unsigned long long)c_ok_wait, (unsigned long long)c_ok_arm,
	       r->pend_on ? u64str(c_ok_pend) : "-");
	printf("  %-32s %12llu %12llu %12s\n", "cancelled by close-flush",
	       (unsigned long long)u_flushed_wait, (unsigned long long)u_flushed_arm,
	       r->pend_on ? u64str(u_flushed_pend) : "-");
	printf("  %-32s %12llu %12s %12s\n", "interrupted (signal)",
	       (unsigned long long)u_eintr, "-", r->pend_on ? "0" : "-");
	printf("  %-32s %12llu %12s %12s\n", "removed (device gone)",
	       (unsigned long long)u_enodev, "0", r->pend_on ? u64str(r->pend_enodev) : "-");
	printf("  (WAIT: its return value; ARM: eventfd count for fired; PEND: its CQE;\n"
	       "   CANCEL: the caller's 0; close-flush: -ECANCELED not claimed by a CANCEL,\n"
	       "   and ARMs neither fired nor cancelled; the kernel counts flushed independently)\n");
	if (!r->pend_on)
		printf("  (PEND: not in the mix: this kernel completes PENDs with -EOPNOTSUPP)\n");
	printf("  other: %llu CANCEL(s) found nothing (-ENOENT: too early or too late), "
	       "%llu close(s), %llu signal(s) sent\n",
	       (unsigned long long)c_enoent, (unsigned long long)r->closes,
	       (unsigned long long)r->signals);

	printf("\n=== races (STATS) ===\n");
	printf("  %-24s %10s %10s %10s %10s\n", "", "natural",
	       delay_ok ? "widened" : "2nd half", forced ? "forced" : "", "total");
	printf("  %-24s %10llu %10llu %10s %10llu   rule 1: a cancel claimed while the "
	       "timer callback ran\n", "race_timer_late",
	       (unsigned long long)d1.race_timer_late, (unsigned long long)d2.race_timer_late,
	       forced ? u64str(d3.race_timer_late) : "",
	       (unsigned long long)d.race_timer_late);
	printf("  %-24s %10llu %10llu %10s %10llu   rule 2: a close left the request to "
	       "its running timer\n", "race_cleanup_deferred",
	       (unsigned long long)d1.race_cleanup_deferred,
	       (unsigned long long)d2.race_cleanup_deferred,
	       forced ? u64str(d3.race_cleanup_deferred) : "",
	       (unsigned long long)d.race_cleanup_deferred);

	printf("\n=== checks: user side vs STATS delta ===\n");
	printf("  %-32s %12s %12s\n", "", "user", "STATS");
	check_eq(&ck, "submitted", u_submitted, d.submitted, NULL);
	check_eq(&ck, "fired", u_fired_all, d.fired, NULL);
	check_eq(&ck, "cancelled (CANCEL)", u_cancelled, d.cancelled, NULL);
	check_eq(&ck, "interrupted (signal)", u_eintr, d.interrupted, NULL);
	check_eq(&ck, "flushed (close)", u_flushed, d.flushed, NULL);
	check_eq(&ck, "removed", u_enodev + r->pend_enodev, d.removed, NULL);
	check_eq(&ck, "pending at the end", 0, s_end.pending, NULL);
	check_true(&ck, settled, "the device settled (pending 0, counters stable)");
	check_true(&ck, pt_invariant_ok(&s_end),
		   "invariant (device totals): submitted %llu == fired %llu + cancelled %llu + interrupted %llu"
		   " + flushed %llu + removed %llu + pending %llu",
		   (unsigned long long)s_end.submitted, (unsigned long long)s_end.fired,
		   (unsigned long long)s_end.cancelled,
		   (unsigned long long)s_end.interrupted, (unsigned long long)s_end.flushed,
		   (unsigned long long)s_end.removed, (unsigned long long)s_end.pending);
	check_true(&ck, u_ecan >= c_ok_wait,
		   "every WAIT a CANCEL claimed returned -ECANCELED (%llu >= %llu)",
		   (unsigned long long)u_ecan, (unsigned long long)c_ok_wait);
	check_true(&ck, r->arm_accepted >= r->arm_fired + c_ok_arm,
		   "no eventfd signal for a cancelled ARM (%llu >= %llu fired + %llu cancelled)",
		   (unsigned long long)r->arm_accepted, (unsigned long long)r->arm_fired,
		   (unsigned long long)c_ok_arm);
	if (r->pend_on)
		check_true(&ck, r->pend_ecanceled >= c_ok_pend,
			   "every PEND a CANCEL claimed got CQE -ECANCELED (%llu >= %llu)",
			   (unsigned long long)r->pend_ecanceled, (unsigned long long)c_ok_pend);
	check_true(&ck, !u_refused && !r->arm_refused && !r->pend_refused,
		   "no request refused (%llu%s%s)",
		   (unsigned long long)(u_refused + r->arm_refused + r->pend_refused),
		   last_refused_err ? ", last: " : "",
		   last_refused_err ? strerror(last_refused_err) : "");
	check_true(&ck, !c_other, "no CANCEL failed other than -ENOENT (%llu%s%s)",
		   (unsigned long long)c_other, last_other_err ? ", last: " : "",
		   last_other_err ? strerror(last_other_err) : "");
	check_true(&ck, !r->close_errs, "every dup()+close() succeeded");
	check_true(&ck, !race_restore_needed, "race_delay_us restored to %lld",
		   race_saved_delay);
	if (user_stop)
		printf("  (interrupted by the user: fewer requests than asked)\n");
	if ((delay_ok || forced) && cpus >= 2 && !user_stop) {
		check_true(&ck, d.race_timer_late > 0,
			   "rule 1 seen: race_timer_late rose (+%llu)",
			   (unsigned long long)d.race_timer_late);
		check_true(&ck, d.race_cleanup_deferred > 0,
			   "rule 2 seen: race_cleanup_deferred rose (+%llu)",
			   (unsigned long long)d.race_cleanup_deferred);
	} else {
		printf("  (race counters not required: %s)\n",
		       user_stop ? "interrupted" : cpus < 2 ? "one CPU" :
		       "race_delay_us could not be set");
	}
	if (race_show_active())
		check_true(&ck, race_show_end(dev), "race --show: a timeline of each rule");
	printf("\nRESULT: %s%s\n", ck.failed ? "FAIL" : "PASS",
	       user_stop ? " (interrupted)" : "");
	close(ctl);
	if (ck.failed)
		return EXIT_FAIL;
	return user_stop ? EXIT_INTR : EXIT_OK;
}
