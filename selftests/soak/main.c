// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_soak: the three-way race of SPEC.md section 3 (timer, CANCEL,
 * flush and removal meeting on the same requests), round after round, with
 * race_delay_us swept across its range. Module already loaded. Plain KTAP.
 *
 * A round, on a device of its own (pendtimer7, created and deleted here):
 * one open file (three descriptors), N ARM requests (the first 64 with an
 * eventfd of their own, so each one's outcome is visible), two WAITs and two
 * ARM requests with a long timeout (left to the flush or the release), due
 * at about the same time T, submitted half from each CPU so that timers
 * fire on both. Two racers wake at T plus a random offset: the canceller,
 * on the second CPU (meeting the first CPU's callbacks), CANCELs up to 64
 * random tags in a random order; the closer, on the first CPU (meeting the
 * second's callbacks), closes one descriptor (flush), unbinds the driver or
 * deletes the device (removal), or both, or nothing. race_delay_us makes each timer
 * callback busy-wait before it claims, so CANCEL meets running callbacks
 * (rule 1, race_timer_late) and flush/removal meet them too (rule 2,
 * race_cleanup_deferred).
 *
 * Checked for every request (SPEC.md section 3, "exactly one path"):
 *  - a CANCEL that returned 0 claimed it: its eventfd stays 0, its WAIT
 *    returns -ECANCELED; a request whose eventfd fired or whose WAIT
 *    returned 0 was not cancelled; an eventfd counts at most 1;
 *  - -ENODEV only with a removal, -ECANCELED only with a CANCEL or a flush;
 *  - with no cleanup path at all, every request not cancelled fires.
 * Checked for every round whose counters survive (all but del_device):
 * the counters moved by exactly what the requests did (submitted, fired =
 * eventfd counts + WAITs that returned 0, cancelled = CANCELs that returned
 * 0, interrupted = 0, flushed + removed = the rest, removed = 0 without a
 * removal, flushed = 0 without a close), and the invariant with nothing
 * pending.
 *
 * A request is "contested" when a competing completion path (its CANCEL,
 * the flush, the removal) was launched at or after its due time (its timer
 * may be firing) and before the round's requests were all complete (the
 * pending count, polled during the race): the timer and that path could
 * meet on it. The race counters say how many met inside the narrow window
 * (a callback running but not yet claimed). With one CPU the callback
 * cannot be overlapped from user space: the race-window result is skipped.
 *
 * Environment:
 *   PT_SOAK_CONTESTED  contested requests to reach (default 20000)
 *   PT_SOAK_SECONDS    time bound (default 300)
 *   PT_SOAK_DELAYS     race_delay_us values, comma separated
 *                      (default 0,1,2,5,10,20,50,100,200,500,1000,10000)
 *   PT_SOAK_N          ARM requests per round (default 1024; capped so that
 *                      N x delay stays <= 20 ms of callback busy-waiting)
 *   PT_SOAK_SEED       seed (printed)
 *   PT_BUDGET_STRICT   1: soak_budget fails, not skips, when the time bound
 *                      ends the soak before PT_SOAK_CONTESTED (make check)
 */
#include "soak.h"

int main(void)
{
	static const long def_delays[] = { 0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10000 };
	long delays[MAXDELAYS];
	struct dstat ds[MAXDELAYS];
	int ndelays = 0, i, j, k, ret, ncpu;
	uint64_t won_timer = 0, won_other = 0;
	uint64_t target, seconds, seed, t_start, contested = 0, lead = 3 * NSEC_PER_MSEC;
	long orig_delay, nmax;
	bool created = false, was_bound = false;
	pthread_t th_c, th_cl, th_w[NWAIT], th_s;
	uint64_t per_req = 50 * NSEC_PER_USEC;	/* submission cost estimate */
	uint64_t rounds = 0, late_total = 0, deferred_total = 0, late_rounds = 0;
	uint64_t p_sub = 0, p_fired = 0, p_cancel_ok = 0, p_ecanceled = 0, p_enodev = 0,
		 p_gone = 0, p_interrupted = 0, p_ring_exits = 0;
	bool pend_on = soak_pend_supported();
	uint64_t t_settle = 0, t_submit = 0, t_race = 0, t_collect = 0, t_dev = 0, tp;
	struct pendtimer_stats prev;
	bool have_prev = false;
	const char *env;
	char buf[512], v[32];
	cpu_set_t set;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ksft_print_header();
	ksft_set_plan(4);

	env = getenv("PT_SOAK_CONTESTED");
	target = env ? strtoull(env, NULL, 0) : 20000;
	env = getenv("PT_SOAK_SECONDS");
	seconds = env ? strtoull(env, NULL, 0) : 300;
	env = getenv("PT_SOAK_N");
	nmax = env ? strtol(env, NULL, 0) : MAXN;
	if (nmax < 1 || nmax > MAXN)
		nmax = MAXN;
	env = getenv("PT_SOAK_SEED");
	seed = env ? strtoull(env, NULL, 0) : 0;
	if (!seed)
		seed = now_ns() ^ ((uint64_t)getpid() << 32);
	rng_state = seed;
	env = getenv("PT_SOAK_DELAYS");
	if (env && *env) {
		char *dup = strdup(env), *p, *sv;

		for (p = strtok_r(dup, ",", &sv); p && ndelays < MAXDELAYS; p = strtok_r(NULL, ",", &sv))
			delays[ndelays++] = strtol(p, NULL, 0);
		free(dup);
	}
	if (!ndelays)
		for (i = 0; i < (int)(sizeof(def_delays) / sizeof(*def_delays)); i++)
			delays[ndelays++] = def_delays[i];
	memset(ds, 0, sizeof(ds));
	for (i = 0; i < ndelays; i++)
		ds[i].delay = delays[i];

	if (sched_getaffinity(0, sizeof(set), &set))
		CPU_ZERO(&set);
	ncpu = CPU_COUNT(&set);
	for (i = 0, k = 0; i < CPU_SETSIZE && k < 2; i++) {
		if (!CPU_ISSET(i, &set))
			continue;
		if (k++ == 0)
			cpu_timer = i;
		else
			cpu_race = i;
	}
	printf("# pendtimer_soak: seed=0x%" PRIx64 " (PT_SOAK_SEED replays the plan) contested=%" PRIu64
	       " seconds=%" PRIu64 " N<=%ld cpus=%d delays=", seed, target, seconds, nmax, ncpu);
	for (i = 0; i < ndelays; i++)
		printf("%s%ld", i ? "," : "", delays[i]);
	printf("\n");
	printf("# PENDs: %s\n", pend_on ? "16 per round, on one io_uring ring, some rounds close it (ring exit)" :
	       "none (kernel before 6.7: a PEND completes with -EOPNOTSUPP)");

	orig_delay = read_num(PARAMS "race_delay_us");
	if (orig_delay < 0 || write_num(PARAMS "race_delay_us", 0)) {
		for (i = 0; i < 4; i++)
			ksft_test_result_skip("pendtimer module not loaded or parameters not writable\n");
		ksft_finished();
	}
	if (!dev_exists()) {
		ret = write_num(BUS "new_device", SOAK_ID);
		if (ret) {
			printf("# new_device %d: %s\n", SOAK_ID, strerror(-ret));
			for (i = 0; i < 4; i++)
				ksft_test_result_fail("cannot create pendtimer%d\n", SOAK_ID);
			ksft_finished();
		}
		created = true;
	} else {
		was_bound = dev_bound();
		if (!was_bound) {
			snprintf(v, sizeof(v), "pendtimer%d", SOAK_ID);
			write_str(DRV "bind", v);
		}
	}
	for (i = 0; i < NOWN; i++) {
		efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (efd[i] < 0) {
			perror("eventfd");
			return KSFT_FAIL;
		}
	}
	efd_shared = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pin(cpu_timer);
	pthread_create(&th_s, NULL, submitter, NULL);
	pthread_create(&th_c, NULL, canceller, NULL);
	pthread_create(&th_cl, NULL, closer, NULL);
	for (j = 0; j < NWAIT; j++)
		pthread_create(&th_w[j], NULL, waiter, (void *)(intptr_t)j);

	t_start = now_ns();
	while (contested < target && now_ns() - t_start < seconds * NSEC_PER_SEC &&
	       nfail_outcome + nfail_counter + nfail_harness == 0) {
		int di = (int)(rounds % (uint64_t)ndelays), fd, n, nshared;
		long delay = delays[di];
		struct pendtimer_stats before = prev, after;
		bool counters_ok, removal, del;
		uint64_t sub1, fired_efd = 0, shared_v = 0, window;
		int wfired = 0, cancel_ok = 0, cancel_enoent = 0, nreq_round;
		uint64_t round_contested = 0;
		int pfired = 0, pvisible = 0, pcancel_ok = 0;

		rounds++;
		/* N x delay of busy-waiting in the callbacks: keep it short */
		n = (int)nmax;
		if (delay > 0 && (uint64_t)n * (uint64_t)delay * NSEC_PER_USEC > WINDOW_NS)
			n = (int)(WINDOW_NS / ((uint64_t)delay * NSEC_PER_USEC));
		if (n < 2)
			n = 2;
		nshared = n > NOWN ? n - NOWN : n / 4;
		window = (uint64_t)n * (uint64_t)delay * NSEC_PER_USEC + 200 * NSEC_PER_USEC;

		if (write_num(PARAMS "race_delay_us", delay)) {
			failf(&nfail_harness, "cannot set race_delay_us=%ld", delay);
			break;
		}
		if (!dev_bound()) {
			failf(&nfail_harness, "pendtimer%d not bound at the start of round %" PRIu64,
			      SOAK_ID, rounds);
			break;
		}
		tp = now_ns();
		/* the counters as the previous round left them, unless re-created */
		ret = have_prev ? 0 : settle(&before);
		t_settle += now_ns() - tp;
		if (ret) {
			stats_str(buf, sizeof(buf), &before);
			failf(&nfail_counter, "round %" PRIu64 ": device not quiet before the round: %s; %s",
			      rounds, errs(ret), buf);
			break;
		}
		fd = dev_open();
		if (fd < 0) {
			failf(&nfail_harness, "open: %s", errs(fd));
			break;
		}
		memset(&RD, 0, sizeof(RD));
		RD.fd_wait = fd;
		RD.fd_cancel = dup(fd);
		RD.fd_close = dup(fd);

		/* the plan */
		removal = rnd_below(100) < 25;
		del = removal && rnd_below(100) < 30;
		RD.actions = 0;
		if (rnd_below(100) < 80)
			RD.actions |= CL_CLOSE;
		if (removal)
			RD.actions |= del ? CL_DEL : CL_UNBIND;
		RD.npend = pend_on ? NPEND : 0;
		if (RD.npend && rnd_below(100) < 15)
			RD.actions |= CL_RING;
		RD.off_ring = (int64_t)rnd_below(window + 100 * NSEC_PER_USEC) - 50 * (int64_t)NSEC_PER_USEC;
		RD.off_close = (int64_t)rnd_below(window + 100 * NSEC_PER_USEC) - 50 * (int64_t)NSEC_PER_USEC;
		RD.off_remove = (int64_t)rnd_below(window + 100 * NSEC_PER_USEC) - 50 * (int64_t)NSEC_PER_USEC;
		RD.off_cancel = (int64_t)rnd_below(window) - 30 * (int64_t)NSEC_PER_USEC;

		/* the requests: due at T, spread over the window */
		lead = (uint64_t)(n + NLEFT + RD.npend) / 2 * per_req * 5 / 4 + 2 * NSEC_PER_MSEC;
		RD.T = now_ns() + lead;
		RD.n = n;
		RD.nshared = nshared;
		for (i = 0; i < n; i++) {
			RD.due[i] = RD.T + rnd_below(window / 2 + 1);
			RD.tag[i] = (rounds << 16) | (uint64_t)i;
		}
		for (i = 0; i < NLEFT; i++) {
			RD.due[MAXN + i] = RD.T + 30 * NSEC_PER_SEC;
			RD.tag[MAXN + i] = (rounds << 16) | 0x8000 | (uint64_t)i;
		}
		for (j = 0; j < NWAIT; j++) {
			RD.wdue[j] = RD.T + rnd_below(window / 2 + 1);
			RD.wtag[j] = (rounds << 16) | 0x4000 | (uint64_t)j;
		}
		for (j = 0; j < RD.npend; j++) {
			RD.pdue[j] = RD.T + rnd_below(window / 2 + 1);
			RD.ptag[j] = (rounds << 16) | 0x2000 | (uint64_t)j;
		}
		/* cancel a random subset, in a random order */
		{
			static int cand[NCAND];
			int nc = 0, frac = (int)rnd_below(61);

			for (i = 0; i < n; i++)
				cand[nc++] = i;
			for (i = 0; i < NLEFT; i++)
				if (rnd_below(2))
					cand[nc++] = MAXN + i;
			for (j = 0; j < NWAIT; j++)
				cand[nc++] = NREQ + j;
			for (j = 0; j < RD.npend; j++)
				cand[nc++] = NREQ + NWAIT + j;
			for (i = nc - 1; i > 0; i--) {
				int x = (int)rnd_below((uint64_t)i + 1), t = cand[i];

				cand[i] = cand[x];
				cand[x] = t;
			}
			RD.ncancel = nc * frac / 100;
			if (RD.ncancel > 64)
				RD.ncancel = 64;
			memcpy(RD.cancel_idx, cand, sizeof(cand));
		}
		for (i = 0; i < NCAND; i++)
			RD.cancel_res[i] = 1;	/* not cancelled */

		/* submit: timers on this CPU */
		tp = now_ns();
		for (j = 0; j < NWAIT; j++)
			set_flag(&go_wait[j], (int)rounds);
		set_flag(&go_sub, (int)rounds);
		submit_half(0);
		/* the PENDs: timers on this CPU too */
		if (RD.npend) {
			ret = soak_pend_submit(&SP, fd, RD.pdue, RD.ptag, RD.npend);
			if (ret) {
				failf(&nfail_harness, "round %" PRIu64 ": PEND submission: %s",
				      rounds, errs(ret));
				RD.npend = 0;
			}
		}
		wait_flag(&done_sub, (int)rounds);
		sub1 = now_ns();
		/* what a request costs to submit (large rounds), for the next T */
		if (n >= 256)
			per_req = (per_req * 3 + (sub1 - tp) / ((uint64_t)(n + NLEFT) / 2)) / 4;
		for (i = 0; i < NREQ; i++) {
			if ((i >= n && i < MAXN) || !RD.arm_res[i])
				continue;
			failf(&nfail_outcome, "round %" PRIu64 ": ARM tag 0x%llx: %s", rounds,
			      (unsigned long long)RD.tag[i], errs(RD.arm_res[i]));
			RD.due[i] = 0;	/* not submitted */
		}
		/* every request accepted (the WAITs too) before the racers go */
		{
			uint64_t deadline = now_ns() + 5 * NSEC_PER_SEC, want = 0;
			struct pendtimer_stats mid;

			for (i = 0; i < NREQ; i++)
				if (!((i >= n && i < MAXN) || !RD.due[i]))
					want++;
			want += NWAIT + (uint64_t)RD.npend;
			while (!stats(fd, &mid) && mid.submitted - before.submitted < want) {
				if (now_ns() > deadline) {
					failf(&nfail_harness, "round %" PRIu64 ": requests not accepted in 5 s",
					      rounds);
					break;
				}
				sched_yield();
			}
		}
		sub1 = now_ns();
		t_submit += sub1 - tp;
		if (sub1 + 200 * NSEC_PER_USEC > RD.T)
			late_rounds++;
		tp = now_ns();
		/* the racers */
		dt_release += (int64_t)(now_ns() - RD.T);
		set_flag(&go_cancel, (int)rounds);
		set_flag(&go_close, (int)rounds);
		/* meanwhile: when is nothing due pending any more? */
		{
			uint64_t deadline = now_ns() + 60 * NSEC_PER_SEC;
			struct pendtimer_stats mid;

			spin_until(RD.T);
			for (;;) {
				bool racers_done =
					__atomic_load_n(&done_cancel, __ATOMIC_ACQUIRE) == (int)rounds &&
					__atomic_load_n(&done_close, __ATOMIC_ACQUIRE) == (int)rounds;

				if (stats(fd, &mid) || mid.pending <= NLEFT) {
					/* an error: the removal, which completed everything */
					RD.t_quiet = now_ns();
					break;
				}
				if (racers_done && RD.t_remove_end) {
					RD.t_quiet = RD.t_remove_end;
					break;
				}
				if (now_ns() > deadline) {
					RD.t_quiet = now_ns();
					break;
				}
				sleep_ns(200 * NSEC_PER_USEC);
			}
		}
		wait_flag(&done_cancel, (int)rounds);
		wait_flag(&done_close, (int)rounds);
		for (j = 0; j < NWAIT; j++)
			wait_flag(&done_wait[j], (int)rounds);

		t_race += now_ns() - tp;
		dt_cancel += (int64_t)(RD.t_cancel_done - RD.T);
		dt_quiet += (int64_t)(RD.t_quiet - RD.T);
		dt_close += (int64_t)(RD.t_close_done - RD.T);
		dt_wait += (int64_t)((RD.wt1[0] > RD.wt1[1] ? RD.wt1[0] : RD.wt1[1]) - RD.T);
		tp = now_ns();
		/* after a removal, bring the device back */
		if (removal) {
			if (RD.remove_res)
				failf(&nfail_harness, "round %" PRIu64 ": %s: %s", rounds,
				      del ? "del_device" : "unbind", errs(RD.remove_res));
			if (del)
				ret = write_num(BUS "new_device", SOAK_ID);
			else {
				snprintf(v, sizeof(v), "pendtimer%d", SOAK_ID);
				ret = write_str(DRV "bind", v);
			}
			if (ret) {
				failf(&nfail_harness, "round %" PRIu64 ": %s again: %s", rounds,
				      del ? "new_device" : "bind", errs(ret));
				break;
			}
		}
		/*
		 * Let the timers that nothing claimed fire before the descriptors
		 * are closed (their flush would take them): only the long ones
		 * may stay pending.
		 */
		if (!removal) {
			uint64_t deadline = now_ns() + 10 * NSEC_PER_SEC;
			struct pendtimer_stats mid;
			int left = 0;

			for (i = 0; i < NLEFT; i++)
				left += RD.cancel_res[MAXN + i] != 0;
			while (!stats(RD.fd_wait, &mid) && mid.pending > (uint64_t)left) {
				if (now_ns() > deadline) {
					stats_str(buf, sizeof(buf), &mid);
					failf(&nfail_outcome, "round %" PRIu64 ": timers did not fire within 10 s: %s",
					      rounds, buf);
					break;
				}
				sleep_ns(200 * NSEC_PER_USEC);
			}
		}
		/* the PENDs' CQEs, unless their ring was closed in the race */
		if (RD.npend && !(RD.actions & CL_RING)) {
			ret = soak_pend_reap(&SP, RD.npend, RD.pres, RD.pt1);
			if (ret != RD.npend)
				failf(&nfail_outcome, "round %" PRIu64 ": %s of %d PEND CQEs", rounds,
				      ret < 0 ? "a stray or repeated CQE instead" : errs(ret), RD.npend);
			pvisible = RD.npend;
		}
		/* the long ones: the release (or the flush/removal) claims them */
		close(RD.fd_wait);
		close(RD.fd_cancel);
		if (!(RD.actions & CL_CLOSE))
			close(RD.fd_close);

		t_dev += now_ns() - tp;
		tp = now_ns();
		/* per request */
		for (i = 0; i < NREQ; i++) {
			bool own_efd = i < n - nshared;
			int64_t ev = 0;
			uint64_t val;
			bool cancelled = RD.cancel_res[i] == 0;

			if ((i >= n && i < MAXN) || !RD.due[i])
				continue;
			if (own_efd) {
				if (read(efd[i], &val, sizeof(val)) == sizeof(val))
					ev = (int64_t)val;
				fired_efd += (uint64_t)ev;
				if (ev > 1 || (cancelled && ev))
					failf(&nfail_outcome, "round %" PRIu64 " delay %ld: ARM tag 0x%llx: eventfd %lld, CANCEL %s (a cancelled request must not fire, a request fires once)",
					      rounds, delay, (unsigned long long)RD.tag[i], (long long)ev,
					      errs(RD.cancel_res[i]));
				if (!cancelled && !ev && !(RD.actions & (CL_CLOSE | CL_UNBIND | CL_DEL)) && i < MAXN)
					failf(&nfail_outcome, "round %" PRIu64 " delay %ld: ARM tag 0x%llx neither cancelled (%s) nor fired, and nothing else could claim it",
					      rounds, delay, (unsigned long long)RD.tag[i], errs(RD.cancel_res[i]));
			}
			if (RD.cancel_res[i] != 1) {
				if (RD.cancel_res[i] == 0)
					cancel_ok++;
				else if (RD.cancel_res[i] == -ENOENT)
					cancel_enoent++;
				else if (!(RD.cancel_res[i] == -ENODEV && removal))
					failf(&nfail_outcome, "round %" PRIu64 ": CANCEL tag 0x%llx: %s",
					      rounds, (unsigned long long)RD.tag[i], errs(RD.cancel_res[i]));
			}
			if (i < MAXN && contested_at(RD.due[i], RD.cancel_res[i] != 1 ? RD.cancel_t[i] : 0, window)) {
				round_contested++;
				if (own_efd)
					ev ? won_timer++ : won_other++;
			}
		}
		if (read(efd_shared, &shared_v, sizeof(shared_v)) != sizeof(shared_v))
			shared_v = 0;
		for (j = 0; j < NWAIT; j++) {
			int r = RD.wres[j], c = RD.cancel_res[NREQ + j];
			bool ok;

			if (c == 0)
				cancel_ok++;
			else if (c == -ENOENT)
				cancel_enoent++;
			else if (c != 1 && !(c == -ENODEV && removal))
				failf(&nfail_outcome, "round %" PRIu64 ": CANCEL of WAIT tag 0x%llx: %s",
				      rounds, (unsigned long long)RD.wtag[j], errs(c));
			switch (r) {
			case 0:
				ok = c != 0 && RD.wt1[j] >= RD.wdue[j];
				wfired++;
				break;
			case -ECANCELED:
				ok = c == 0 || (RD.actions & CL_CLOSE);
				break;
			case -ENODEV:
				ok = removal && c != 0;
				break;
			default:
				ok = false;
			}
			if (!ok)
				failf(&nfail_outcome, "round %" PRIu64 " delay %ld: WAIT tag 0x%llx -> %s with its CANCEL %s, actions 0x%x",
				      rounds, delay, (unsigned long long)RD.wtag[j], errs(r), errs(c), RD.actions);
			if (contested_at(RD.wdue[j], c != 1 ? RD.cancel_t[NREQ + j] : 0, window)) {
				round_contested++;
				r == 0 ? won_timer++ : won_other++;
			}
		}
		for (j = 0; j < RD.npend; j++) {
			int r = RD.pres[j], c = RD.cancel_res[NREQ + NWAIT + j];
			bool ok;

			if (c == 0)
				cancel_ok++, pcancel_ok++;
			else if (c == -ENOENT)
				cancel_enoent++;
			else if (c != 1 && !(c == -ENODEV && removal))
				failf(&nfail_outcome, "round %" PRIu64 ": CANCEL of PEND tag 0x%llx: %s",
				      rounds, (unsigned long long)RD.ptag[j], errs(c));
			if (!pvisible)
				continue;	/* gone with the ring */
			switch (r) {
			case 0:
				ok = c != 0 && RD.pt1[j] >= RD.pdue[j];
				pfired++;
				break;
			case -ECANCELED:
				ok = c == 0 || (RD.actions & CL_CLOSE);
				p_ecanceled++;
				break;
			case -ENODEV:
				ok = removal && c != 0;
				p_enodev++;
				break;
			default:
				ok = false;
			}
			if (!ok)
				failf(&nfail_outcome, "round %" PRIu64 " delay %ld: PEND tag 0x%llx -> CQE %s with its CANCEL %s, actions 0x%x",
				      rounds, delay, (unsigned long long)RD.ptag[j], errs(r), errs(c), RD.actions);
			if (contested_at(RD.pdue[j], c != 1 ? RD.cancel_t[NREQ + NWAIT + j] : 0, window)) {
				round_contested++;
				r == 0 ? won_timer++ : won_other++;
			}
		}
		p_sub += (uint64_t)RD.npend;
		p_fired += (uint64_t)pfired;
		p_cancel_ok += (uint64_t)pcancel_ok;
		if (RD.npend && !pvisible) {
			p_gone += (uint64_t)RD.npend;
			p_ring_exits++;
		}
		if ((RD.actions & CL_CLOSE) && RD.close_res)
			failf(&nfail_outcome, "round %" PRIu64 ": close (flush): %s", rounds, errs(RD.close_res));

		/* the counters, when they survived the round */
		nreq_round = 0;
		for (i = 0; i < NREQ; i++)
			if (!((i >= n && i < MAXN) || !RD.due[i]))
				nreq_round++;
		nreq_round += NWAIT + RD.npend;
		ret = settle(&after);
		prev = after;
		have_prev = true;
		counters_ok = !del;
		if (del)
			have_prev = false;	/* a new device: new counters */
		if (ret) {
			stats_str(buf, sizeof(buf), &after);
			failf(&nfail_counter, "round %" PRIu64 ": device not quiet after the round: %s; %s",
			      rounds, errs(ret), buf);
			break;
		}
		if (!invariant_ok(&after) || after.pending) {
			stats_str(buf, sizeof(buf), &after);
			failf(&nfail_counter, "round %" PRIu64 ": invariant: %s", rounds, buf);
		}
		if (counters_ok) {
			uint64_t d_sub = after.submitted - before.submitted;
			uint64_t d_fired = after.fired - before.fired;
			uint64_t d_can = after.cancelled - before.cancelled;
			uint64_t d_int = after.interrupted - before.interrupted;
			uint64_t d_fl = after.flushed - before.flushed;
			uint64_t d_rm = after.removed - before.removed;
			uint64_t want_fired = fired_efd + shared_v + (uint64_t)wfired + (uint64_t)pfired;
			/* a closed ring's PENDs: fired, interrupted, flushed or removed, unseen */
			uint64_t gone = RD.npend && !pvisible ? (uint64_t)(RD.npend - pcancel_ok) : 0;
			bool bad = d_sub != (uint64_t)nreq_round ||
				   d_fired < want_fired || d_fired > want_fired + gone ||
				   d_can != (uint64_t)cancel_ok || d_int > gone ||
				   d_fired + d_can + d_fl + d_rm + d_int != (uint64_t)nreq_round ||
				   (!removal && d_rm) || (!(RD.actions & CL_CLOSE) && removal && d_fl);

			p_interrupted += d_int;
			ds[di].fired += d_fired;
			ds[di].flushed += d_fl;
			ds[di].removed += d_rm;
			if (bad) {
				stats_str(buf, sizeof(buf), &after);
				failf(&nfail_counter, "round %" PRIu64 " delay %ld actions 0x%x: counters moved submitted %" PRIu64
				      " fired %" PRIu64 " cancelled %" PRIu64 " interrupted %" PRIu64 " flushed %" PRIu64
				      " removed %" PRIu64 "; expected submitted %d fired %" PRIu64 " (eventfds %" PRIu64
				      " + shared %" PRIu64 " + WAITs %d) cancelled %d; now %s",
				      rounds, delay, RD.actions, d_sub, d_fired, d_can, d_int, d_fl, d_rm,
				      nreq_round, want_fired, fired_efd, shared_v,
				      wfired, cancel_ok, buf);
			}
			ds[di].timer_late += after.race_timer_late - before.race_timer_late;
			ds[di].cleanup_deferred += after.race_cleanup_deferred - before.race_cleanup_deferred;
			late_total += after.race_timer_late - before.race_timer_late;
			deferred_total += after.race_cleanup_deferred - before.race_cleanup_deferred;
		}
		ds[di].rounds++;
		ds[di].requests += (uint64_t)nreq_round;
		ds[di].contested += round_contested;
		ds[di].cancel_ok += (uint64_t)cancel_ok;
		ds[di].cancel_enoent += (uint64_t)cancel_enoent;
		contested += round_contested;
		t_collect += now_ns() - tp;
		if (rounds % 500 == 0)
			printf("# %" PRIu64 " rounds, %" PRIu64 " contested, %" PRIu64 " s\n", rounds,
			       contested, (now_ns() - t_start) / NSEC_PER_SEC);
	}

	__atomic_store_n(&quit, 1, __ATOMIC_RELEASE);
	set_flag(&go_sub, -1);
	set_flag(&go_cancel, -1);
	set_flag(&go_close, -1);
	for (j = 0; j < NWAIT; j++)
		set_flag(&go_wait[j], -1);
	pthread_join(th_s, NULL);
	pthread_join(th_c, NULL);
	pthread_join(th_cl, NULL);
	for (j = 0; j < NWAIT; j++)
		pthread_join(th_w[j], NULL);
	write_num(PARAMS "race_delay_us", orig_delay);

	{
		uint64_t ms = (now_ns() - t_start) / NSEC_PER_MSEC, req = 0;

		for (i = 0; i < ndelays; i++)
			req += ds[i].requests;
		printf("# pendtimer_soak: seed=0x%" PRIx64 " rounds=%" PRIu64 " requests=%" PRIu64 " contested=%" PRIu64
		       " race_timer_late=%" PRIu64 " race_cleanup_deferred=%" PRIu64 " in %" PRIu64 ".%03" PRIu64
		       " s (%" PRIu64 " contested/s)\n", seed, rounds, req, contested, late_total,
		       deferred_total, ms / 1000, ms % 1000, contested * 1000 / (ms + 1));
		printf("# contested requests whose outcome is visible (own eventfd, WAIT): the timer won %" PRIu64
		       ", the competing path won %" PRIu64 "\n", won_timer, won_other);
		printf("# time: settle %" PRIu64 " ms, submit %" PRIu64 " ms, race %" PRIu64 " ms, device back %" PRIu64
		       " ms, collect %" PRIu64 " ms; %" PRIu64 " rounds started late\n",
		       t_settle / NSEC_PER_MSEC, t_submit / NSEC_PER_MSEC, t_race / NSEC_PER_MSEC,
		       t_dev / NSEC_PER_MSEC, t_collect / NSEC_PER_MSEC, late_rounds);
		printf("# after T, on average: requests complete %" PRId64 " us, racers released %" PRId64 " us, canceller done %" PRId64
		       " us, closer done %" PRId64 " us, WAITs done %" PRId64 " us\n",
		       dt_quiet / (int64_t)rounds / 1000, dt_release / (int64_t)rounds / 1000, dt_cancel / (int64_t)rounds / 1000,
		       dt_close / (int64_t)rounds / 1000, dt_wait / (int64_t)rounds / 1000);
		printf("# PENDs: %" PRIu64 " submitted: CQE 0 %" PRIu64 ", CANCEL 0 %" PRIu64 ", CQE -ECANCELED %" PRIu64
		       ", CQE -ENODEV %" PRIu64 "; %" PRIu64 " gone with their ring in %" PRIu64
		       " ring exits (interrupted by io_uring's cancel call: %" PRIu64 ")\n",
		       p_sub, p_fired, p_cancel_ok, p_ecanceled, p_enodev, p_gone, p_ring_exits,
		       p_interrupted);
		printf("# delay_us rounds requests contested timer_late cleanup_deferred cancel_0 cancel_enoent fired flushed removed\n");
		for (i = 0; i < ndelays; i++)
			printf("# %8ld %6" PRIu64 " %8" PRIu64 " %9" PRIu64 " %10" PRIu64 " %16" PRIu64 " %8" PRIu64
			       " %13" PRIu64 " %5" PRIu64 " %7" PRIu64 " %7" PRIu64 "\n",
			       ds[i].delay, ds[i].rounds, ds[i].requests, ds[i].contested,
			       ds[i].timer_late, ds[i].cleanup_deferred, ds[i].cancel_ok,
			       ds[i].cancel_enoent, ds[i].fired, ds[i].flushed, ds[i].removed);
	}

	/* the end: the device quiet and consistent, then as we found it */
	soak_pend_ring_exit(&SP);
	{
		struct pendtimer_stats st;

		ret = settle(&st);
		stats_str(buf, sizeof(buf), &st);
		printf("# final pendtimer%d: %s\n", SOAK_ID, buf);
		if (ret || !invariant_ok(&st) || st.pending)
			failf(&nfail_counter, "final: %s (%s)", buf, ret ? errs(ret) : "invariant");
	}
	for (i = 0; i < NOWN; i++)
		close(efd[i]);
	close(efd_shared);
	if (created) {
		ret = write_num(BUS "del_device", SOAK_ID);
		if (ret)
			failf(&nfail_harness, "del_device %d at the end: %s", SOAK_ID, errs(ret));
	} else if (!was_bound) {
		snprintf(v, sizeof(v), "pendtimer%d", SOAK_ID);
		write_str(DRV "unbind", v);
	}

	ksft_test_result(!nfail_outcome, "soak_one_path_per_request\n");
	ksft_test_result(!nfail_counter, "soak_counters_and_invariant\n");
	if (ncpu < 2)
		ksft_test_result_skip("soak_race_windows_hit (one CPU: the callback cannot be overlapped)\n");
	else if (contested < 1000)
		ksft_test_result_skip("soak_race_windows_hit (budget too small: %" PRIu64 " contested)\n", contested);
	else
		/* with >= 1000 contested requests across the sweep both windows are met */
		ksft_test_result(late_total > 0 && deferred_total > 0,
				 "soak_race_windows_hit (timer_late %" PRIu64 ", cleanup_deferred %" PRIu64 ")\n",
				 late_total, deferred_total);
	if (nfail_harness)
		ksft_test_result_fail("soak_budget (harness failure)\n");
	else if (contested >= target)
		ksft_test_result_pass("soak_budget (%" PRIu64 " of %" PRIu64 " contested requests)\n",
				      contested, target);
	else if (nfail_outcome + nfail_counter)
		ksft_test_result_fail("soak_budget (stopped at the first failure)\n");
	else if (getenv("PT_BUDGET_STRICT") && !strcmp(getenv("PT_BUDGET_STRICT"), "1"))
		ksft_test_result_fail("soak_budget (the time bound, %" PRIu64 " s, ended it at %" PRIu64
				      " of %" PRIu64 " contested requests)\n", seconds, contested, target);
	else
		ksft_test_result_skip("soak_budget: the time bound (%" PRIu64 " s) ended it at %" PRIu64
				      " of %" PRIu64 " contested requests\n", seconds, contested, target);
	ksft_finished();
}
