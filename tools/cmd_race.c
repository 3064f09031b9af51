// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer race: the three-way race demonstration (timers vs CANCEL vs
 * close-time flush, plus signals, ARMs and PENDs), with its checks; the
 * command in named steps (the threads: race.c).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "race.h"
#include "race_show.h"

/* Everything one `pendtimer race` run keeps, step to step. */
struct race_run {
	struct race *r;
	const char *dev;
	int ctl;			/* STATS through a file never flushed */
	uint64_t delay_us;
	bool force, tty, widened, delay_ok, forced, settled;
	unsigned int cpus;
	const char *phase;
	uint64_t t0;
	struct pendtimer_stats s_start, s_mid, s_force, s_end;
	struct race_arg wargs[RACE_MAX_WAITERS], cargs[RACE_MAX_CANCELLERS];
	pthread_t armer, closer, signaller, pender, cth[RACE_MAX_CANCELLERS];
};

/* What the threads saw, summed. */
struct race_totals {
	uint64_t u_acc, u_fired, u_ecan, u_eintr, u_enodev, u_refused;
	uint64_t c_ok_wait, c_ok_arm, c_ok_pend, c_enoent, c_other;
	uint64_t u_submitted, u_fired_all, u_cancelled;
	uint64_t u_flushed_wait, u_flushed_arm, u_flushed_pend, u_flushed;
	int last_refused_err, last_other_err;
};

/* A count option between @lo and @hi. */
static unsigned int race_opt_range(const char *what, unsigned int lo, unsigned int hi)
{
	unsigned int v = (unsigned int)parse_u64(optarg, what);

	if (v < lo || v > hi)
		die_usage("race: %s must be %u..%u", what, lo, hi);
	return v;
}

/* The options: -1 to go on, or the exit code. */
static int race_parse(struct race_run *x, int argc, char **argv)
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
	struct race *r = x->r;
	int opt;

	optind = 0;	/* glibc: full re-initialisation (ordering too) */
	while ((opt = getopt_long(argc, argv, "n:D:w:c:C:S:Fsh", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			r->iterations = parse_u64(optarg, "--iterations");
			if (r->iterations < 10)
				die_usage("race: --iterations must be at least 10");
			break;
		case 'D':
			x->delay_us = parse_u64(optarg, "--delay-us");
			break;
		case 'w':
			r->nwaiters = race_opt_range("--waiters", 1, RACE_MAX_WAITERS);
			break;
		case 'c':
			r->ncancellers = race_opt_range("--cancellers", 1,
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
			x->force = true;
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
	return -1;
}

/* Open the files, probe PENDs, read the start: -1 to go on, or the exit code. */
static int race_open(struct race_run *x)
{
	struct race *r = x->r;
	int ret;

	r->fd = cli_open(x->dev);
	x->ctl = cli_open(x->dev);
	r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->efd < 0) {
		perror("eventfd");
		return EXIT_FAIL;
	}
#ifndef PENDTIMER_NO_URING
	r->pend_on = race_pend_probe(x->ctl);
#endif
	ret = cli_stats(x->ctl, &x->s_start);
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
	return -1;
}

/* The plan. */
static void race_intro(const struct race_run *x)
{
	const struct race *r = x->r;

	printf("pendtimer race: %llu requests on %s, %u CPU(s)\n",
	       (unsigned long long)r->iterations, x->dev, x->cpus);
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
	       race_saved_delay < 0 ? 0LL : race_saved_delay,
	       (unsigned long long)x->delay_us);
	if (x->s_start.pending)
		printf("note: %llu request(s) already pending on the device: another user? "
		       "the STATS deltas may not match\n",
		       (unsigned long long)x->s_start.pending);
	if (x->cpus < 2)
		printf("note: one CPU: a cancel or close cannot run while a timer callback "
		       "spins, the race counters will stay 0\n");
	fflush(stdout);
}

/* Every thread of the mix; they leave SIGINT/SIGTERM to this one. */
static void race_start_threads(struct race_run *x)
{
	struct race *r = x->r;
	sigset_t block, old;
	unsigned int i;

	install_handler(SIGUSR1, on_signal_noop);
	install_handler(SIGINT, on_user_stop);
	install_handler(SIGTERM, on_user_stop);
	atexit(race_restore_delay);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	r->submitters_left = (int)r->nwaiters + 1 + (r->pend_on ? 1 : 0);
	for (i = 0; i < r->nwaiters; i++) {
		x->wargs[i].r = r;
		x->wargs[i].idx = i;
		pthread_create(&r->wth[i], NULL, race_waiter, &x->wargs[i]);
	}
	pthread_create(&x->armer, NULL, race_armer, r);
#ifndef PENDTIMER_NO_URING
	if (r->pend_on)
		pthread_create(&x->pender, NULL, race_pender, r);
#endif
	for (i = 0; i < r->ncancellers; i++) {
		x->cargs[i].r = r;
		x->cargs[i].idx = i;
		pthread_create(&x->cth[i], NULL, race_canceller, &x->cargs[i]);
	}
	pthread_create(&x->closer, NULL, race_closer, r);
	pthread_create(&x->signaller, NULL, race_signaller, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Half way: widen the window (race_delay_us) for the second half. */
static void race_widen(struct race_run *x)
{
	x->widened = true;
	cli_stats(x->ctl, &x->s_mid);
	if (race_saved_delay >= 0 && x->delay_us &&
	    pt_param_write("race_delay_us", (long long)x->delay_us) == 0) {
		race_restore_needed = true;
		x->delay_ok = true;
		x->phase = "widened";
	} else if (x->delay_us) {
		printf("%snote: cannot write " PT_PARAMS "race_delay_us "
		       "(root needed): no window injection\n", x->tty ? "\n" : "");
	}
	race_progress(x->r, x->ctl, "natural", x->tty, x->t0, &x->s_start);
	printf("%s-- half way: race_delay_us=%lld from now on\n", x->tty ? "\n" : "",
	       x->delay_ok ? (long long)x->delay_us : race_saved_delay);
}

/* Until the submitters are done: progress, the half-way switch, Ctrl-C. */
static void race_monitor(struct race_run *x)
{
	struct race *r = x->r;
	uint64_t next_progress, last_pct = 0;

	x->t0 = pt_now_ns();
	next_progress = x->t0 + 2 * NSEC_PER_SEC;
	x->s_mid = x->s_start;
	while (__atomic_load_n(&r->submitters_left, __ATOMIC_ACQUIRE) > 0) {
		uint64_t claimed = __atomic_load_n(&r->next_iter, __ATOMIC_RELAXED);
		uint64_t pct = (claimed > r->iterations ? r->iterations : claimed) * 100 /
			       r->iterations;

		if (user_stop && claimed < r->iterations) {
			/* stop claiming: push the counter past the end */
			__atomic_store_n(&r->next_iter, r->iterations, __ATOMIC_RELAXED);
			printf("%sinterrupted: stopping\n", x->tty ? "\n" : "");
		}
		if (!x->widened && !user_stop && claimed >= r->iterations / 2)
			race_widen(x);
		if ((x->tty && pt_now_ns() >= next_progress - 3 * NSEC_PER_SEC / 2) ||
		    pct / 10 != last_pct / 10 || pt_now_ns() >= next_progress) {
			race_progress(r, x->ctl, x->phase, x->tty, x->t0, &x->s_start);
			last_pct = pct;
			next_progress = pt_now_ns() + 2 * NSEC_PER_SEC;
		}
		pt_sleep_ns(10 * NSEC_PER_MSEC);
	}
	race_progress(r, x->ctl, x->phase, x->tty, x->t0, &x->s_start);
	if (x->tty)
		printf("\n");
}

static void race_join_threads(struct race_run *x)
{
	struct race *r = x->r;
	unsigned int i;

	r->stop_helpers = 1;
	for (i = 0; i < r->ncancellers; i++)
		pthread_join(x->cth[i], NULL);
	pthread_join(x->closer, NULL);
	pthread_join(x->signaller, NULL);
	for (i = 0; i < r->nwaiters; i++)
		pthread_join(r->wth[i], NULL);
	pthread_join(x->armer, NULL);
#ifndef PENDTIMER_NO_URING
	if (r->pend_on)
		pthread_join(x->pender, NULL);
#endif
}

/* Top up by force a race counter the random mix left at 0. */
static void race_top_up(struct race_run *x)
{
	struct pendtimer_stats d;

	cli_stats(x->ctl, &x->s_force);
	pt_stats_delta(&d, &x->s_force, &x->s_start);
	if (race_saved_delay >= 0 && x->cpus >= 2 && !user_stop &&
	    (x->force || (x->delay_ok && (!d.race_timer_late || !d.race_cleanup_deferred))) &&
	    pt_param_write("race_delay_us", race_saved_delay) == 0) {	/* writable? */
		printf("-- %s: forcing the window (race_delay_us=%d, pinned threads)\n",
		       x->force ? "--force" : "a race counter is still 0", RACE_FORCE_DELAY_US);
		x->forced = true;
		if (x->force || !d.race_timer_late)
			race_force(x->r, x->ctl, 1);
		if (x->force || !d.race_cleanup_deferred)
			race_force(x->r, x->ctl, 2);
	}
	race_restore_delay();

	/* Last close: flush + release end the ARMs still pending (flushed). */
	close(x->r->fd);
	x->settled = race_settle(x->ctl, &x->s_end, 20000);
	race_take_eventfd(x->r);
	close(x->r->efd);
}

/* Sum the threads' counters (the forced rounds' own ones last). */
static void race_sum(struct race *r, struct race_totals *t)
{
	unsigned int i;

	memset(t, 0, sizeof(*t));
	r->w[r->nwaiters] = r->w[RACE_MAX_WAITERS];	/* the forced rounds */
	r->c[r->ncancellers] = r->c[RACE_MAX_CANCELLERS];
	for (i = 0; i <= r->nwaiters; i++) {
		t->u_acc += r->w[i].accepted;
		t->u_fired += r->w[i].fired;
		t->u_ecan += r->w[i].ecanceled;
		t->u_eintr += r->w[i].eintr;
		t->u_enodev += r->w[i].enodev;
		t->u_refused += r->w[i].refused;
		if (r->w[i].refused)
			t->last_refused_err = r->w[i].refused_err;
	}
	for (i = 0; i <= r->ncancellers; i++) {
		t->c_ok_wait += r->c[i].ok_wait;
		t->c_ok_arm += r->c[i].ok_arm;
		t->c_ok_pend += r->c[i].ok_pend;
		t->c_enoent += r->c[i].enoent;
		t->c_other += r->c[i].other;
		if (r->c[i].other)
			t->last_other_err = r->c[i].other_err;
	}
	if (r->arm_refused)
		t->last_refused_err = r->arm_refused_err;
	if (r->pend_refused)
		t->last_refused_err = r->pend_refused_err;

	t->u_submitted = t->u_acc + r->arm_accepted + r->pend_accepted;
	t->u_fired_all = t->u_fired + r->arm_fired + r->pend_fired;
	t->u_cancelled = t->c_ok_wait + t->c_ok_arm + t->c_ok_pend;
	t->u_flushed_wait = t->u_ecan - t->c_ok_wait;
	t->u_flushed_arm = r->arm_accepted - r->arm_fired - t->c_ok_arm;
	t->u_flushed_pend = r->pend_ecanceled - t->c_ok_pend;
	t->u_flushed = t->u_flushed_wait + t->u_flushed_arm + t->u_flushed_pend;
}

/* The outcome table: what the user side saw, per request type. */
static void race_print_outcome(const struct race_run *x, const struct race_totals *t)
{
	const struct race *r = x->r;

	printf("\n=== outcome of %llu requests (%.1f s) ===\n",
	       (unsigned long long)t->u_submitted, pt_secs(pt_now_ns() - x->t0));
	printf("  %-32s %12s %12s %12s\n", "", "WAIT", "ARM", "PEND");
	printf("  %-32s %12llu %12llu %12s\n", "submitted (accepted)",
	       (unsigned long long)t->u_acc, (unsigned long long)r->arm_accepted,
	       r->pend_on ? u64str(r->pend_accepted) : "-");
	printf("  %-32s %12llu %12llu %12s\n", "fired (timer)",
	       (unsigned long long)t->u_fired, (unsigned long long)r->arm_fired,
	       r->pend_on ? u64str(r->pend_fired) : "-");
	printf("  %-32s %12llu %12llu %12s\n", "cancelled by CANCEL",
	       (unsigned long long)t->c_ok_wait, (unsigned long long)t->c_ok_arm,
	       r->pend_on ? u64str(t->c_ok_pend) : "-");
	printf("  %-32s %12llu %12llu %12s\n", "cancelled by close-flush",
	       (unsigned long long)t->u_flushed_wait, (unsigned long long)t->u_flushed_arm,
	       r->pend_on ? u64str(t->u_flushed_pend) : "-");
	printf("  %-32s %12llu %12s %12s\n", "interrupted (signal)",
	       (unsigned long long)t->u_eintr, "-", r->pend_on ? "0" : "-");
	printf("  %-32s %12llu %12s %12s\n", "removed (device gone)",
	       (unsigned long long)t->u_enodev, "0", r->pend_on ? u64str(r->pend_enodev) : "-");
	printf("  (WAIT: its return value; ARM: eventfd count for fired; PEND: its CQE;\n"
	       "   CANCEL: the caller's 0; close-flush: -ECANCELED not claimed by a CANCEL,\n"
	       "   and ARMs neither fired nor cancelled; the kernel counts flushed independently)\n");
	if (!r->pend_on)
		printf("  (PEND: not in the mix: this kernel completes PENDs with -EOPNOTSUPP)\n");
	printf("  other: %llu CANCEL(s) found nothing (-ENOENT: too early or too late), "
	       "%llu close(s), %llu signal(s) sent\n",
	       (unsigned long long)t->c_enoent, (unsigned long long)r->closes,
	       (unsigned long long)r->signals);
}

/* The race counters by phase: natural, widened, forced, total. */
static void race_print_races(const struct race_run *x)
{
	struct pendtimer_stats d, d1, d2, d3;

	pt_stats_delta(&d, &x->s_end, &x->s_start);
	pt_stats_delta(&d1, &x->s_mid, &x->s_start);
	pt_stats_delta(&d2, &x->s_force, &x->s_mid);
	pt_stats_delta(&d3, &x->s_end, &x->s_force);
	printf("\n=== races (STATS) ===\n");
	printf("  %-24s %10s %10s %10s %10s\n", "", "natural",
	       x->delay_ok ? "widened" : "2nd half", x->forced ? "forced" : "", "total");
	printf("  %-24s %10llu %10llu %10s %10llu   rule 1: a cancel claimed while the "
	       "timer callback ran\n", "race_timer_late",
	       (unsigned long long)d1.race_timer_late, (unsigned long long)d2.race_timer_late,
	       x->forced ? u64str(d3.race_timer_late) : "",
	       (unsigned long long)d.race_timer_late);
	printf("  %-24s %10llu %10llu %10s %10llu   rule 2: a close left the request to "
	       "its running timer\n", "race_cleanup_deferred",
	       (unsigned long long)d1.race_cleanup_deferred,
	       (unsigned long long)d2.race_cleanup_deferred,
	       x->forced ? u64str(d3.race_cleanup_deferred) : "",
	       (unsigned long long)d.race_cleanup_deferred);
}

/* User side vs the STATS delta, one line each. */
static void race_check_counts(struct check *ck, const struct race_run *x,
			      const struct race_totals *t, const struct pendtimer_stats *d)
{
	const struct pendtimer_stats *e = &x->s_end;

	printf("\n=== checks: user side vs STATS delta ===\n");
	printf("  %-32s %12s %12s\n", "", "user", "STATS");
	check_eq(ck, "submitted", t->u_submitted, d->submitted, NULL);
	check_eq(ck, "fired", t->u_fired_all, d->fired, NULL);
	check_eq(ck, "cancelled (CANCEL)", t->u_cancelled, d->cancelled, NULL);
	check_eq(ck, "interrupted (signal)", t->u_eintr, d->interrupted, NULL);
	check_eq(ck, "flushed (close)", t->u_flushed, d->flushed, NULL);
	check_eq(ck, "removed", t->u_enodev + x->r->pend_enodev, d->removed, NULL);
	check_eq(ck, "pending at the end", 0, e->pending, NULL);
	check_true(ck, x->settled, "the device settled (pending 0, counters stable)");
	check_true(ck, pt_invariant_ok(e),
		   "invariant (device totals): submitted %llu == fired %llu + cancelled %llu + interrupted %llu"
		   " + flushed %llu + removed %llu + pending %llu",
		   (unsigned long long)e->submitted, (unsigned long long)e->fired,
		   (unsigned long long)e->cancelled,
		   (unsigned long long)e->interrupted, (unsigned long long)e->flushed,
		   (unsigned long long)e->removed, (unsigned long long)e->pending);
}

/* What must hold of the results themselves. */
static void race_check_results(struct check *ck, const struct race *r,
			       const struct race_totals *t)
{
	check_true(ck, t->u_ecan >= t->c_ok_wait,
		   "every WAIT a CANCEL claimed returned -ECANCELED (%llu >= %llu)",
		   (unsigned long long)t->u_ecan, (unsigned long long)t->c_ok_wait);
	check_true(ck, r->arm_accepted >= r->arm_fired + t->c_ok_arm,
		   "no eventfd signal for a cancelled ARM (%llu >= %llu fired + %llu cancelled)",
		   (unsigned long long)r->arm_accepted, (unsigned long long)r->arm_fired,
		   (unsigned long long)t->c_ok_arm);
	if (r->pend_on)
		check_true(ck, r->pend_ecanceled >= t->c_ok_pend,
			   "every PEND a CANCEL claimed got CQE -ECANCELED (%llu >= %llu)",
			   (unsigned long long)r->pend_ecanceled,
			   (unsigned long long)t->c_ok_pend);
	check_true(ck, !t->u_refused && !r->arm_refused && !r->pend_refused,
		   "no request refused (%llu%s%s)",
		   (unsigned long long)(t->u_refused + r->arm_refused + r->pend_refused),
		   t->last_refused_err ? ", last: " : "",
		   t->last_refused_err ? strerror(t->last_refused_err) : "");
	check_true(ck, !t->c_other, "no CANCEL failed other than -ENOENT (%llu%s%s)",
		   (unsigned long long)t->c_other, t->last_other_err ? ", last: " : "",
		   t->last_other_err ? strerror(t->last_other_err) : "");
	check_true(ck, !r->close_errs, "every dup()+close() succeeded");
	check_true(ck, !race_restore_needed, "race_delay_us restored to %lld",
		   race_saved_delay);
}

/* Were both rules seen (when they could be)? And the --show timelines. */
static void race_check_rules(struct check *ck, const struct race_run *x,
			     const struct pendtimer_stats *d)
{
	if (user_stop)
		printf("  (interrupted by the user: fewer requests than asked)\n");
	if ((x->delay_ok || x->forced) && x->cpus >= 2 && !user_stop) {
		check_true(ck, d->race_timer_late > 0,
			   "rule 1 seen: race_timer_late rose (+%llu)",
			   (unsigned long long)d->race_timer_late);
		check_true(ck, d->race_cleanup_deferred > 0,
			   "rule 2 seen: race_cleanup_deferred rose (+%llu)",
			   (unsigned long long)d->race_cleanup_deferred);
	} else {
		printf("  (race counters not required: %s)\n",
		       user_stop ? "interrupted" : x->cpus < 2 ? "one CPU" :
		       "race_delay_us could not be set");
	}
	if (race_show_active())
		check_true(ck, race_show_end(x->dev), "race --show: a timeline of each rule");
}

int cmd_race(const char *dev, int argc, char **argv)
{
	static struct race race;	/* big: not on the stack */
	static struct race_run run;
	struct race_run *x = &run;
	struct pendtimer_stats d;
	struct race_totals t;
	struct check ck = { 0 };
	int rc;

	memset(&race, 0, sizeof(race));
	memset(x, 0, sizeof(*x));
	x->r = &race;
	x->dev = dev;
	x->delay_us = 30;
	x->tty = stdout_is_terminal();
	x->cpus = online_cpus();
	x->phase = "natural";
	race.iterations = 20000;
	race.nwaiters = 4;
	race.ncancellers = 2;
	race.close_us = 2000;
	race.signal_us = 5000;
	rc = race_parse(x, argc, argv);
	if (rc < 0)
		rc = race_open(x);
	if (rc >= 0)
		return rc;

	race_intro(x);
	race_start_threads(x);
	race_monitor(x);
	race_join_threads(x);
	race_top_up(x);

	race_sum(&race, &t);
	race_print_outcome(x, &t);
	race_print_races(x);
	pt_stats_delta(&d, &x->s_end, &x->s_start);
	race_check_counts(&ck, x, &t, &d);
	race_check_results(&ck, &race, &t);
	race_check_rules(&ck, x, &d);
	printf("\nRESULT: %s%s\n", ck.failed ? "FAIL" : "PASS",
	       user_stop ? " (interrupted)" : "");
	close(x->ctl);
	if (ck.failed)
		return EXIT_FAIL;
	return user_stop ? EXIT_INTR : EXIT_OK;
}
