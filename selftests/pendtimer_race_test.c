// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer races, module already loaded.
 *
 * SPEC.md section 3, "Who completes a contested request":
 *  - exactly one path completes each request (timer, cancel, cleanup,
 *    removal): every WAIT returns exactly one result, every request is
 *    counted once, submitted == fired + cancelled + interrupted + flushed +
 *    removed + pending;
 *  - rule 1, a cancel outranks a running timer: a CANCEL that arrives while
 *    the callback runs but has not claimed still claims (CANCEL 0, WAIT
 *    -ECANCELED, the ARM's eventfd untouched), and the callback counts
 *    race_timer_late;
 *  - rule 2, a running timer outranks cleanup: close() during that window
 *    leaves the request to the callback (WAIT 0, fired) and counts
 *    race_cleanup_deferred.
 * Section 3, "Race-window injection": race_delay_us (0..10000) widens the
 * window; the tests set it and always put it back.
 * Section 2, PEND, racing: pendtimer_race_pend_test.c.
 *
 * The window is hit on purpose: the request's timer runs on one CPU (the
 * submitting thread is pinned there) while the test thread, pinned to
 * another CPU, busy-waits (no timer of its own, which could queue behind the
 * busy-waiting callback) into the window and then cancels or closes.  With a
 * single CPU the window cannot be entered from user space (the callback
 * busy-waits in hard irq, or in the RT timer thread), so the rule tests skip
 * and the stress test does not require the race counters there.
 */
#include "pendtimer_race.h"

/* Where in the 10 ms window the test thread acts: pendtimer_util.h. */

/*
 * SPEC.md section 3, rule 1, with a WAIT: CANCEL in the window claims, the
 * callback is late.
 */
TEST_F_TIMEOUT(race, rule1_cancel_outranks_running_timer_wait, 120)
{
	struct pt_racer r = { .fd = self->fd, .cpu_timer = self->cpu_timer };

	PT_RULE_SETUP(self->cpu_main);
	pt_hit_window(_metadata, pt_rule1_attempt, &r, "the cancel");
}

/* Thread that ARMs on a pinned CPU, so the timer runs there. */
struct armer {
	int fd, efd, cpu;
	__u64 tag;
	uint64_t t_start;
	int started;
	int ret;
};

static void *armer_fn(void *arg)
{
	struct armer *a = arg;

	pt_pin_self(a->cpu);
	a->t_start = pt_now_ns();
	__atomic_store_n(&a->started, 1, __ATOMIC_RELEASE);
	a->ret = pt_arm(a->fd, 0, a->tag, a->efd);
	return NULL;
}

/* Rule 1 with an ARM, one attempt (pt_hit_window()). */
static enum outcome rule1_arm_attempt(struct __test_metadata *_metadata,
				      void *ctx, int attempt, unsigned int off)
{
	FIXTURE_DATA(race) *self = ctx;
	struct armer ar = { .fd = self->fd, .efd = self->efd,
			    .cpu = self->cpu_timer,
			    .tag = 2000 + (__u64)attempt, .ret = 1 };
	struct pendtimer_stats b, a, d, s;
	enum outcome o;
	pthread_t th;
	bool sub;
	int64_t ev;
	int c;

	ASSERT_EQ(0, pt_stats(self->fd, &b));
	ASSERT_EQ(0, pthread_create(&th, NULL, armer_fn, &ar));
	/*
	 * Not join(): the armer's CPU is busy in the callback, and the
	 * armer may not even have left the ioctl before the window ends.
	 */
	while (!__atomic_load_n(&ar.started, __ATOMIC_ACQUIRE))
		sched_yield();
	pt_spin_until(ar.t_start + off * NSEC_PER_USEC);
	ASSERT_EQ(0, pt_stats(self->fd, &s));
	sub = s.submitted != b.submitted;
	c = pt_cancel(self->fd, ar.tag);
	ASSERT_EQ(0, pt_join_ms(th, JOIN_MS));
	ASSERT_EQ(0, ar.ret);
	ASSERT_EQ(0, pt_settle(self->fd, 5000, &a));
	pt_sleep_ms(20);
	ev = pt_eventfd_take(self->efd);
	pt_stats_delta(&d, &a, &b);

	if (c == 0 && ev == 0 && d.cancelled == 1 && d.fired == 0)
		o = d.race_timer_late == 1 ? HIT :
		    d.race_timer_late == 0 ? MISS_EARLY : BROKEN;
	else if (c == -ENOENT && ev == 1 && d.fired == 1 &&
		 d.cancelled == 0 && d.race_timer_late == 0)
		o = MISS_LATE;
	else
		o = BROKEN;
	o = pt_rule1_not_yet_submitted(o, sub, off);
	TH_LOG("attempt %d at +%u us: %s before it, CANCEL %d, eventfd %lld, cancelled +%llu fired +%llu timer_late +%llu: %s",
	       attempt, off, sub ? "submitted" : "not submitted", c, (long long)ev,
	       (unsigned long long)d.cancelled,
	       (unsigned long long)d.fired,
	       (unsigned long long)d.race_timer_late, pt_outcome_name(o));
	return o;
}

/*
 * SPEC.md section 3, rule 1, with an ARM: the CANCEL claims, the late
 * callback never signals.
 */
TEST_F_TIMEOUT(race, rule1_cancel_outranks_running_timer_arm, 120)
{
	PT_RULE_SETUP(self->cpu_main);
	self->efd = pt_eventfd();
	ASSERT_LE(0, self->efd);
	pt_hit_window(_metadata, rule1_arm_attempt, self, "the cancel");
}

/*
 * SPEC.md section 3, rule 2: close() in the window leaves the WAIT to its
 * timer (0, deferred). The WAIT is due after RULE2_DUE_US (pendtimer_util.h
 * says why).
 */
TEST_F_TIMEOUT(race, rule2_running_timer_outranks_close, 120)
{
	struct pt_racer r = { .fd = self->fd, .cpu_timer = self->cpu_timer };

	PT_RULE_SETUP(self->cpu_main);
	pt_hit_window(_metadata, pt_rule2_attempt, &r, "close()");
}

/* ------------------------------------------------------------------ */
/*
 * stress: timer vs CANCEL vs close vs signals, thousands of requests.
 * SPEC.md section 3: exactly one path completes each request; the
 * invariant; both rules happen (race counters > 0) under load.
 */

#define NWORKERS	8
#define NSLOTS		4
#define RECENT		64
#define TARGET		6400		/* requests; at least MIN_REQUESTS */
#define MIN_REQUESTS	5000
#define SOFT_LIMIT_S	50		/* stop the load after this, TCG or not */
#define DELAY_US	40		/* race_delay_us for the middle phase */
#define BOOST_US	200		/* if a race counter is still 0 at TARGET */
#define MAX_BOOSTS	3

enum { C_WAIT_OK, C_WAIT_ECANCELED, C_WAIT_EINTR, C_WAIT_OTHER,
       C_ARM_OK, C_ARM_OTHER, C_CANCEL_OK, C_CANCEL_ENOENT, C_CANCEL_OTHER,
       C_DUP_CLOSE, C_PRIVATE_CLOSE, C_SIGNALS, C_NR };

static const char *const cname[C_NR] = {
	[C_WAIT_OK] = "WAIT 0 (fired)",
	[C_WAIT_ECANCELED] = "WAIT -ECANCELED (cancel or flush)",
	[C_WAIT_EINTR] = "WAIT -EINTR (signal)",
	[C_WAIT_OTHER] = "WAIT other result",
	[C_ARM_OK] = "ARM 0",
	[C_ARM_OTHER] = "ARM other result",
	[C_CANCEL_OK] = "CANCEL 0",
	[C_CANCEL_ENOENT] = "CANCEL -ENOENT",
	[C_CANCEL_OTHER] = "CANCEL other result",
	[C_DUP_CLOSE] = "dup()+close() (flush)",
	[C_PRIVATE_CLOSE] = "private open+ARMs+close (flush+release)",
	[C_SIGNALS] = "signals sent",
};

struct stress;

struct worker {
	struct stress *st;
	int id;
	int efd;
	unsigned int seed;
	__u64 cnt[C_NR];
	int last_other;		/* last unexpected result, for the log */
};

struct stress {
	int slot_fd[NSLOTS];
	pthread_t th[NWORKERS];
	struct worker w[NWORKERS];
	pthread_barrier_t start, end;
	int stop;			/* atomic */
	__u64 next_tag;			/* atomic */
	__u64 requests;			/* atomic: accepted or not, submitted */
	__u64 recent[RECENT];		/* atomic: slot << 56 | tag */
	unsigned int recent_pos;	/* atomic */
};

static void stress_sig(int sig)
{
	(void)sig;
}

static void publish(struct stress *st, int slot, __u64 tag)
{
	unsigned int i = __atomic_fetch_add(&st->recent_pos, 1, __ATOMIC_RELAXED);

	__atomic_store_n(&st->recent[i % RECENT], (__u64)slot << 56 | tag,
			 __ATOMIC_RELEASE);
}

static __u64 stress_tag(struct stress *st)
{
	return __atomic_fetch_add(&st->next_tag, 1, __ATOMIC_RELAXED);
}

static __u64 rnd_timeout(struct worker *w)
{
	return (__u64)(rand_r(&w->seed) % 50001);	/* 0..50 us */
}

static void count_arm(struct worker *w, int ret)
{
	if (ret == 0) {
		w->cnt[C_ARM_OK]++;
	} else {
		w->cnt[C_ARM_OTHER]++;
		w->last_other = ret;
	}
}

static void *stress_worker(void *arg)
{
	struct worker *w = arg;
	struct stress *st = w->st;

	pthread_barrier_wait(&st->start);
	while (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE)) {
		int r = rand_r(&w->seed) % 100;
		int slot = rand_r(&w->seed) % NSLOTS;
		__u64 tag;
		int ret, k, n, pf;

		if (r < 45) {			/* WAIT */
			tag = stress_tag(st);
			publish(st, slot, tag);
			__atomic_fetch_add(&st->requests, 1, __ATOMIC_RELAXED);
			ret = pt_wait(st->slot_fd[slot], rnd_timeout(w), tag);
			if (ret == 0) {
				w->cnt[C_WAIT_OK]++;
			} else if (ret == -ECANCELED) {
				w->cnt[C_WAIT_ECANCELED]++;
			} else if (ret == -EINTR) {
				w->cnt[C_WAIT_EINTR]++;
			} else {
				w->cnt[C_WAIT_OTHER]++;
				w->last_other = ret;
			}
		} else if (r < 70) {		/* ARM */
			tag = stress_tag(st);
			publish(st, slot, tag);
			__atomic_fetch_add(&st->requests, 1, __ATOMIC_RELAXED);
			count_arm(w, pt_arm(st->slot_fd[slot], rnd_timeout(w),
					    tag, w->efd));
		} else if (r < 88) {		/* CANCEL a recent tag */
			unsigned int pos = __atomic_load_n(&st->recent_pos,
							   __ATOMIC_RELAXED);
			__u64 e = __atomic_load_n(&st->recent[(pos - 1 -
						 (unsigned int)rand_r(&w->seed) % 8) % RECENT],
						 __ATOMIC_ACQUIRE);

			if (!e)
				continue;
			ret = pt_cancel(st->slot_fd[e >> 56],
					e & ((1ULL << 56) - 1));
			if (ret == 0) {
				w->cnt[C_CANCEL_OK]++;
			} else if (ret == -ENOENT) {
				w->cnt[C_CANCEL_ENOENT]++;
			} else {
				w->cnt[C_CANCEL_OTHER]++;
				w->last_other = ret;
			}
		} else if (r < 94) {		/* close a dup: flush */
			int d = dup(st->slot_fd[slot]);

			if (d >= 0) {
				close(d);
				w->cnt[C_DUP_CLOSE]++;
			}
		} else if (r < 98) {		/* own file: flush + release */
			pf = pt_open();
			if (pf < 0) {
				w->cnt[C_ARM_OTHER]++;
				w->last_other = pf;
				continue;
			}
			n = 1 + rand_r(&w->seed) % 4;
			for (k = 0; k < n; k++) {
				__atomic_fetch_add(&st->requests, 1,
						   __ATOMIC_RELAXED);
				count_arm(w, pt_arm(pf, rnd_timeout(w),
						    stress_tag(st), w->efd));
			}
			close(pf);
			w->cnt[C_PRIVATE_CLOSE]++;
		} else {			/* signal another worker */
			int v = rand_r(&w->seed) % NWORKERS;

			if (v != w->id && !pthread_kill(st->th[v], SIGUSR1))
				w->cnt[C_SIGNALS]++;
		}
	}
	/* nobody leaves (and can be joined) while others may still signal it */
	pthread_barrier_wait(&st->end);
	return NULL;
}

/* What the workers saw, summed, and what the counters must say then. */
struct stress_sum {
	__u64 tot[C_NR], arm_fired, accepted, fired, flushed;
};

/*
 * Phases by progress: delay 0 for the first 30%, DELAY_US up to 80%,
 * 0 again to the end; at the target, if a race counter is still 0,
 * up to MAX_BOOSTS more rounds of TARGET/4 with BOOST_US. Returns the
 * boost rounds.
 */
static int stress_drive(struct __test_metadata *_metadata, int fd,
			struct stress *st, const struct pendtimer_stats *s0,
			bool need_races, uint64_t deadline)
{
	__u64 target = TARGET, req;
	int phase = 0, boosts = 0;

	for (;;) {
		struct pendtimer_stats s;

		pt_sleep_ms(2);
		req = __atomic_load_n(&st->requests, __ATOMIC_RELAXED);
		if (phase == 0 && req >= target * 3 / 10) {
			EXPECT_EQ(0, pt_param_write("race_delay_us", DELAY_US));
			phase = 1;
		} else if (phase == 1 && req >= target * 8 / 10) {
			EXPECT_EQ(0, pt_param_write("race_delay_us", 0));
			phase = 2;
		}
		if (pt_now_ns() > deadline)
			break;
		if (req < target)
			continue;
		if (!need_races)
			break;
		ASSERT_EQ(0, pt_stats(fd, &s));
		if (s.race_timer_late > s0->race_timer_late &&
		    s.race_cleanup_deferred > s0->race_cleanup_deferred)
			break;
		if (boosts == MAX_BOOSTS)
			break;
		boosts++;
		target += TARGET / 4;
		EXPECT_EQ(0, pt_param_write("race_delay_us", BOOST_US));
	}
	return boosts;
}

/* The workers' counts and eventfds, summed into @m. */
static void stress_collect(struct __test_metadata *_metadata, struct stress *st,
			   struct stress_sum *m)
{
	int i, k;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < NWORKERS; i++) {
		int64_t v = pt_eventfd_take(st->w[i].efd);

		ASSERT_LE(0, v);
		m->arm_fired += (__u64)v;
		close(st->w[i].efd);
		for (k = 0; k < C_NR; k++)
			m->tot[k] += st->w[i].cnt[k];
		if (st->w[i].last_other)
			TH_LOG("worker %d: last unexpected result %d", i,
			       st->w[i].last_other);
	}
	m->accepted = m->tot[C_WAIT_OK] + m->tot[C_WAIT_ECANCELED] +
		      m->tot[C_WAIT_EINTR] + m->tot[C_ARM_OK];
	m->fired = m->tot[C_WAIT_OK] + m->arm_fired;
	m->flushed = m->accepted - m->fired - m->tot[C_CANCEL_OK] -
		     m->tot[C_WAIT_EINTR];
}

static void stress_print(const struct stress_sum *m, const struct pendtimer_stats *d,
			 bool need_races, int boosts, uint64_t t0)
{
	const __u64 *tot = m->tot;
	int k;

	ksft_print_msg("stress: %d workers, %d files, %llu ms, %d boost round(s), %d CPUs\n",
		       NWORKERS, NSLOTS,
		       (unsigned long long)((pt_now_ns() - t0) / NSEC_PER_MSEC),
		       boosts, pt_online_cpus());
	ksft_print_msg("  %-44s %10s\n", "outcome (user space)", "count");
	for (k = 0; k < C_NR; k++)
		ksft_print_msg("  %-44s %10llu\n", cname[k],
			       (unsigned long long)tot[k]);
	ksft_print_msg("  %-44s %10llu\n", "ARM fired (eventfd total)",
		       (unsigned long long)m->arm_fired);
	ksft_print_msg("  %-44s %10llu\n", "requests accepted",
		       (unsigned long long)m->accepted);
	ksft_print_msg("  %-22s %10s %10s\n", "counter", "expected", "stats delta");
	ksft_print_msg("  %-22s %10llu %10llu\n", "submitted",
		       (unsigned long long)m->accepted, (unsigned long long)d->submitted);
	ksft_print_msg("  %-22s %10llu %10llu\n", "fired",
		       (unsigned long long)m->fired, (unsigned long long)d->fired);
	ksft_print_msg("  %-22s %10llu %10llu\n", "cancelled",
		       (unsigned long long)tot[C_CANCEL_OK], (unsigned long long)d->cancelled);
	ksft_print_msg("  %-22s %10llu %10llu\n", "interrupted",
		       (unsigned long long)tot[C_WAIT_EINTR], (unsigned long long)d->interrupted);
	ksft_print_msg("  %-22s %10llu %10llu\n", "flushed (the rest)",
		       (unsigned long long)m->flushed, (unsigned long long)d->flushed);
	ksft_print_msg("  %-22s %10s %10llu\n", "removed", "0",
		       (unsigned long long)d->removed);
	ksft_print_msg("  %-22s %10s %10llu\n", "race_timer_late", need_races ? ">0" : "any",
		       (unsigned long long)d->race_timer_late);
	ksft_print_msg("  %-22s %10s %10llu\n", "race_cleanup_deferred",
		       need_races ? ">0" : "any",
		       (unsigned long long)d->race_cleanup_deferred);
}

TEST_F_TIMEOUT(race, stress_timer_cancel_close_signal, 240)
{
	struct sigaction sa = { .sa_handler = stress_sig, .sa_flags = SA_RESTART };
	struct pendtimer_stats s0, s1, d;
	struct stress_sum m;
	struct stress *st;
	const __u64 *tot = m.tot;
	int i, boosts, ret;
	bool need_races = self->cpu_main >= 0;
	uint64_t t0;
	char buf[320];

	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	st = calloc(1, sizeof(*st));
	ASSERT_NE(NULL, st);
	st->next_tag = 1;
	for (i = 0; i < NSLOTS; i++) {
		st->slot_fd[i] = pt_open();
		ASSERT_LE(0, st->slot_fd[i]);
	}
	ASSERT_EQ(0, pthread_barrier_init(&st->start, NULL, NWORKERS + 1));
	ASSERT_EQ(0, pthread_barrier_init(&st->end, NULL, NWORKERS));
	ASSERT_EQ(0, pt_stats(self->fd, &s0));

	for (i = 0; i < NWORKERS; i++) {
		struct worker *w = &st->w[i];

		w->st = st;
		w->id = i;
		w->seed = (unsigned int)(pt_now_ns() ^ (uint64_t)i * 2654435761u);
		w->efd = pt_eventfd();
		ASSERT_LE(0, w->efd);
		ASSERT_EQ(0, pthread_create(&st->th[i], NULL, stress_worker, w));
	}
	t0 = pt_now_ns();
	pthread_barrier_wait(&st->start);
	boosts = stress_drive(_metadata, self->fd, st, &s0, need_races,
			      t0 + SOFT_LIMIT_S * NSEC_PER_SEC);
	__atomic_store_n(&st->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NWORKERS; i++) {
		ASSERT_EQ(0, pt_join_ms(st->th[i], 30000)) {
			TH_LOG("worker %d stuck", i);
		}
	}
	EXPECT_EQ(0, pt_param_write("race_delay_us", 0));

	/* close everything: whatever is left is flushed, callbacks finish */
	for (i = 0; i < NSLOTS; i++)
		close(st->slot_fd[i]);
	ret = pt_settle(self->fd, 10000, &s1);
	pt_stats_fmt(buf, sizeof(buf), &s1);
	ASSERT_EQ(0, ret) {
		TH_LOG("not quiet after the run: %s", buf);
	}
	pt_sleep_ms(20);
	stress_collect(_metadata, st, &m);
	ASSERT_EQ(0, pt_stats(self->fd, &s1));
	pt_stats_delta(&d, &s1, &s0);
	stress_print(&m, &d, need_races, boosts, t0);

	/* every call returned one allowed code */
	EXPECT_EQ(0ULL, tot[C_WAIT_OTHER]);
	EXPECT_EQ(0ULL, tot[C_ARM_OTHER]);
	EXPECT_EQ(0ULL, tot[C_CANCEL_OTHER]);
	/* enough load */
	EXPECT_LE((__u64)MIN_REQUESTS, m.accepted);
	/* every request accounted for, exactly once */
	EXPECT_EQ(m.accepted, d.submitted);
	EXPECT_EQ(m.fired, d.fired);
	EXPECT_EQ(tot[C_CANCEL_OK], d.cancelled);
	EXPECT_EQ(tot[C_WAIT_EINTR], d.interrupted);
	EXPECT_GE(m.accepted, m.fired + tot[C_CANCEL_OK] + tot[C_WAIT_EINTR]);
	EXPECT_EQ(m.flushed, d.flushed);
	EXPECT_EQ(0ULL, d.removed);
	EXPECT_EQ(0ULL, d.pending);
	EXPECT_EQ(d.submitted, d.fired + d.cancelled + d.interrupted + d.flushed);
	/* a WAIT's -ECANCELED came from a CANCEL or a flush */
	EXPECT_GE(d.cancelled + d.flushed, tot[C_WAIT_ECANCELED]);
	EXPECT_TRUE(pt_invariant_ok(&s1));
	if (need_races) {
		EXPECT_LT(0ULL, d.race_timer_late);
		EXPECT_LT(0ULL, d.race_cleanup_deferred);
	} else {
		ksft_print_msg("  one CPU: race counters not required\n");
	}
	pthread_barrier_destroy(&st->start);
	pthread_barrier_destroy(&st->end);
	free(st);
}

PT_HARNESS_MAIN(1)
