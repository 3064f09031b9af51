// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer race: the threads of the mix (WAIT, ARM, PEND, CANCEL, close,
 * signal), the forced rounds that hit a window on purpose, and the output
 * helpers of the result table (the command's steps: cmd_race.c).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#ifndef PENDTIMER_NO_URING
#include <liburing.h>
#endif

#include "race.h"

static uint64_t race_due_ns(uint64_t *rnd)
{
	return (pt_xorshift64(rnd) % (RACE_DUE_MAX_US + 1)) * NSEC_PER_USEC;
}

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

void *race_waiter(void *arg)
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

void race_take_eventfd(struct race *r)
{
	uint64_t v;

	if (read(r->efd, &v, sizeof(v)) == sizeof(v))
		r->arm_fired += v;
}

/* ARMs make about a fifth of the requests, spread over the run. */
void *race_armer(void *arg)
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
void *race_pender(void *arg)
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
bool race_pend_probe(int ctl)
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
void *race_canceller(void *arg)
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
void *race_closer(void *arg)
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
void *race_signaller(void *arg)
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
bool race_restore_needed;
long long race_saved_delay;

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
bool race_force(struct race *r, int ctl, int rule)
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
bool race_settle(int ctl, struct pendtimer_stats *out, unsigned int timeout_ms)
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

void race_restore_delay(void)
{
	if (race_restore_needed && pt_param_write("race_delay_us", race_saved_delay) == 0)
		race_restore_needed = false;
}

/* A terminal that understands \r (not the VM's serial console, TERM=dumb). */
bool stdout_is_terminal(void)
{
	const char *term = getenv("TERM");

	return isatty(STDOUT_FILENO) && term && *term && strcmp(term, "dumb");
}

unsigned int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned int)n : 1;
}

void race_progress(struct race *r, int ctl, const char *phase, bool tty,
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
const char *u64str(uint64_t v)
{
	static __thread char buf[4][24];
	static __thread unsigned int n;
	char *b = buf[n++ % 4];

	snprintf(b, sizeof(buf[0]), "%llu", (unsigned long long)v);
	return b;
}

void check_eq(struct check *ck, const char *what, uint64_t user, uint64_t kern,
		     const char *note)
{
	bool ok = user == kern;

	printf("  %-32s %12llu %12llu   %s%s%s\n", what, (unsigned long long)user,
	       (unsigned long long)kern, ok ? "ok" : "MISMATCH",
	       note ? "  " : "", note ? note : "");
	if (!ok)
		ck->failed++;
}

void check_true(struct check *ck, bool ok, const char *fmt, ...)
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

