// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer races of PENDs, module already loaded; the fixture:
 * pendtimer_race.h.
 *
 * SPEC.md section 2, PEND (kernels 6.7+; not in the -m32 build, which has
 * no liburing): ring exit, task exit, CANCEL and flush racing PEND timers,
 * then removal racing them; every CQE one SPEC.md allows, the counters
 * exact where user space sees every outcome and bounded where it cannot.
 * Section 3 (who completes a contested request) as in
 * pendtimer_race_test.c.
 */
#include "pendtimer_race.h"

#include <liburing.h>

/*
 * PEND stress (SPEC.md sections 2 and 3, PEND): ring exit, task exit,
 * CANCEL (ioctl and URING_CMD) and flush racing the timers of PENDs, then
 * removal (unbind, so the counters survive) racing them. Every visible CQE
 * is one SPEC.md allows for what happened to its PEND; the counters moved
 * by exactly what user space did where it can see it, within bounds where
 * it cannot (a closed ring's CQEs are gone); the invariant holds.
 */

#define PW_WORKERS	4
#define PW_BATCH	8
#define PW_TARGET	8000		/* PENDs in the mixed phase */
#define PW_SOFT_S	40
#define PW_LONG_NS	(10 * NSEC_PER_SEC)
#define PW_RM_ID	61		/* the device of the removal phase */
#define PW_RM_ROUNDS	24
#define PW_RM_N		64

enum { PA_WAIT, PA_CANCEL_IOCTL, PA_CANCEL_URING, PA_FLUSH, PA_RING_EXIT,
       PA_TASK_EXIT, PA_NR };

static const char *const pa_name[PA_NR] = {
	[PA_WAIT] = "timers only (longs cancelled after)",
	[PA_CANCEL_IOCTL] = "CANCEL ioctl racing",
	[PA_CANCEL_URING] = "URING_CMD CANCEL racing",
	[PA_FLUSH] = "dup()+close() (flush) racing",
	[PA_RING_EXIT] = "ring exit racing",
	[PA_TASK_EXIT] = "child exit racing",
};

struct pworker {
	pthread_t th;
	int id, fd;
	unsigned int seed;
	volatile int *stop;
	__u64 *next_tag;
	/* user-side counts */
	__u64 issued, invisible, cqe0, cqe_ecanceled, cqe_other, cancel_ok,
	      cancel_enoent, cancel_other, cancel_wrong, child_slow, child_bad;
	__u64 actions[PA_NR];
	int last_other;
	uint64_t child_max_ns;
};

/* Reap CQEs until every PEND in @tags (n of them) has one, or 10 s. */
static int pw_reap(struct pworker *w, struct io_uring *ring, const __u64 *tags,
		   bool *cancelled, int *res_of, int n, int *cancel_cqes)
{
	int have = 0, i, res;
	__u64 ud;

	while (have < n || *cancel_cqes) {
		if (pt_reap(ring, 10000, &ud, &res))
			return -ETIME;
		if (ud >> 63) {		/* a URING_CMD CANCEL's CQE */
			(*cancel_cqes)--;
			if (res == 0)
				w->cancel_ok++;
			else if (res == -ENOENT)
				w->cancel_enoent++;
			else
				w->cancel_other++, w->last_other = res;
			for (i = 0; i < n; i++)
				if (tags[i] == (ud & ~(1ULL << 63)) && res == 0)
					cancelled[i] = true;
			continue;
		}
		for (i = 0; i < n && tags[i] != ud; i++)
			;
		if (i == n || res_of[i] != 1) {
			w->cqe_other++;
			w->last_other = 1000;	/* unknown or repeated CQE */
			continue;
		}
		res_of[i] = res;
		have++;
	}
	for (i = 0; i < n; i++) {
		if (res_of[i] == 0) {
			w->cqe0++;
			if (cancelled[i])	/* a CANCEL 0 and a CQE 0 */
				w->cancel_wrong++;
		} else if (res_of[i] == -ECANCELED) {
			w->cqe_ecanceled++;
		} else {
			w->cqe_other++;
			w->last_other = res_of[i];
		}
	}
	return 0;
}

/* One CANCEL of @tag, counted; *@cancelled when it claimed the PEND. */
static void pw_cancel_one(struct pworker *w, __u64 tag, bool *cancelled)
{
	int ret = pt_cancel(w->fd, tag);

	if (ret == 0)
		w->cancel_ok++, *cancelled = true;
	else if (ret == -ENOENT)
		w->cancel_enoent++;
	else
		w->cancel_other++, w->last_other = ret;
}

/* A child submits @n PENDs and exits with them parked (task exit). */
static void pw_task_exit(struct pworker *w, int n)
{
	__u64 tags[PW_BATCH];
	uint64_t t0 = pt_now_ns();
	int status, i;
	pid_t pid;

	for (i = 0; i < n; i++)
		tags[i] = __atomic_fetch_add(w->next_tag, 1, __ATOMIC_RELAXED);
	pid = fork();
	if (pid == 0) {
		struct io_uring cr;

		if (io_uring_queue_init(16, &cr, 0))
			_exit(1);
		for (i = 0; i < n; i++)
			pt_prep_pend(io_uring_get_sqe(&cr), w->fd,
				     i % 2 ? PW_LONG_NS :
				     (__u64)(rand_r(&w->seed) % 100000),
				     tags[i], tags[i]);
		_exit(io_uring_submit(&cr) == n ? 0 : 2);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status) || WEXITSTATUS(status)) {
		w->child_bad++;
		return;
	}
	t0 = pt_now_ns() - t0;
	if (t0 > w->child_max_ns)
		w->child_max_ns = t0;
	if (t0 > 5 * NSEC_PER_SEC)
		w->child_slow++;
	w->issued += n;
	w->invisible += n;
}

/*
 * The racing action @act on the batch just submitted; false when it was
 * the ring's exit (the ring is gone, its CQEs with it).
 */
static bool pw_act(struct pworker *w, struct io_uring *ring, int act,
		   const __u64 *tags, bool *cancelled, int n, int *cancel_cqes)
{
	int i;

	switch (act) {
	case PA_CANCEL_IOCTL:
		for (i = 0; i < n; i++)
			if (!(rand_r(&w->seed) % 2))
				pw_cancel_one(w, tags[i], &cancelled[i]);
		break;
	case PA_CANCEL_URING:
		for (i = 0; i < n; i++) {
			if (rand_r(&w->seed) % 2)
				continue;
			pt_prep_cancel(io_uring_get_sqe(ring), w->fd, tags[i],
				       (1ULL << 63) | tags[i]);
			(*cancel_cqes)++;
		}
		io_uring_submit(ring);
		break;
	case PA_FLUSH: {
		int d = dup(w->fd);

		if (d >= 0)
			close(d);
		break;
	}
	case PA_RING_EXIT:
		io_uring_queue_exit(ring);
		w->invisible += n;
		return false;
	default:
		break;
	}
	return true;
}

static void *pw_fn(void *arg)
{
	struct pworker *w = arg;
	struct io_uring ring;
	bool ring_up = false;

	while (!__atomic_load_n(w->stop, __ATOMIC_ACQUIRE)) {
		__u64 tags[PW_BATCH];
		bool cancelled[PW_BATCH] = { false };
		int res_of[PW_BATCH], i, act, n = PW_BATCH, cancel_cqes = 0;
		uint64_t t0;

		if (!ring_up) {
			if (pt_ring_init(&ring, 64, 0))
				break;
			ring_up = true;
		}
		act = rand_r(&w->seed) % PA_NR;
		w->actions[act]++;
		if (act == PA_TASK_EXIT) {
			pw_task_exit(w, n);
			continue;
		}

		/* a batch: short timers (0..100 us) and long ones (10 s) */
		for (i = 0; i < n; i++) {
			tags[i] = __atomic_fetch_add(w->next_tag, 1, __ATOMIC_RELAXED);
			res_of[i] = 1;
			pt_prep_pend(io_uring_get_sqe(&ring), w->fd,
				     rand_r(&w->seed) % 4 == 0 ? PW_LONG_NS :
				     (__u64)(rand_r(&w->seed) % 100000), tags[i], tags[i]);
		}
		t0 = pt_now_ns();
		if (io_uring_submit(&ring) != n) {
			w->cqe_other++;
			w->last_other = 2000;
			break;
		}
		w->issued += n;
		pt_spin_until(t0 + (uint64_t)(rand_r(&w->seed) % 120) * NSEC_PER_USEC);
		if (!pw_act(w, &ring, act, tags, cancelled, n, &cancel_cqes)) {
			ring_up = false;
			continue;
		}
		/* what is left long-pending: cancel it now, so the batch ends */
		pt_sleep_ns(200 * NSEC_PER_USEC);
		for (i = 0; i < n; i++)
			pw_cancel_one(w, tags[i], &cancelled[i]);
		if (pw_reap(w, &ring, tags, cancelled, res_of, n, &cancel_cqes)) {
			w->cqe_other++;
			w->last_other = -ETIME;
			break;
		}
	}
	if (ring_up)
		io_uring_queue_exit(&ring);
	return NULL;
}

/* The workers' counts summed into @tot (see pw_print()) and @act. */
static void pw_sum(struct __test_metadata *_metadata, const struct pworker *w,
		   __u64 *tot, __u64 *act, uint64_t *child_max)
{
	int i, k;

	for (i = 0; i < PW_WORKERS; i++) {
		tot[0] += w[i].issued;
		tot[1] += w[i].invisible;
		tot[2] += w[i].cqe0;
		tot[3] += w[i].cqe_ecanceled;
		tot[4] += w[i].cqe_other;
		tot[5] += w[i].cancel_ok;
		tot[6] += w[i].cancel_enoent;
		tot[7] += w[i].cancel_other;
		tot[8] += w[i].cancel_wrong;
		tot[9] += w[i].child_slow;
		tot[10] += w[i].child_bad;
		for (k = 0; k < PA_NR; k++)
			act[k] += w[i].actions[k];
		if (w[i].child_max_ns > *child_max)
			*child_max = w[i].child_max_ns;
		if (w[i].last_other)
			TH_LOG("worker %d: last unexpected result %d", i, w[i].last_other);
	}
}

static void pw_print(const __u64 *tot, const __u64 *act, uint64_t child_max,
		     uint64_t t0, const struct pendtimer_stats *d)
{
	char buf[320];
	int k;

	ksft_print_msg("PEND stress: %d workers, %llu ms, %d CPUs\n", PW_WORKERS,
		       (unsigned long long)((pt_now_ns() - t0) / NSEC_PER_MSEC),
		       pt_online_cpus());
	for (k = 0; k < PA_NR; k++)
		ksft_print_msg("  batches %-36s %8llu\n", pa_name[k],
			       (unsigned long long)act[k]);
	ksft_print_msg("  %-44s %8llu\n", "PENDs submitted", (unsigned long long)tot[0]);
	ksft_print_msg("  %-44s %8llu\n", "  CQE 0 (fired)", (unsigned long long)tot[2]);
	ksft_print_msg("  %-44s %8llu\n", "  CQE -ECANCELED", (unsigned long long)tot[3]);
	ksft_print_msg("  %-44s %8llu\n", "  CQE gone with its ring or task", (unsigned long long)tot[1]);
	ksft_print_msg("  %-44s %8llu\n", "  CQE other (must be 0)", (unsigned long long)tot[4]);
	ksft_print_msg("  %-44s %8llu\n", "CANCEL 0", (unsigned long long)tot[5]);
	ksft_print_msg("  %-44s %8llu\n", "CANCEL -ENOENT", (unsigned long long)tot[6]);
	ksft_print_msg("  %-44s %8llu\n", "child exit with PENDs parked, slowest (ms)",
		       (unsigned long long)(child_max / NSEC_PER_MSEC));
	ksft_print_msg("  stats delta: %s\n", (pt_stats_fmt(buf, sizeof(buf), d), buf));
}

/*
 * Phase 2, one round: PW_RM_N PENDs on PW_RM_ID, unbind racing their
 * timers, bind again; each PEND fired or removed, the kept counters agree.
 * @rm: fired, removed, other, summed.
 */
static void pw_removal_round(struct __test_metadata *_metadata, int round, __u64 *rm)
{
	struct pendtimer_stats b, a, d;
	struct io_uring ring;
	unsigned int seed = (unsigned int)pt_now_ns();
	__u64 ud;
	int res, n0 = 0, nrm = 0, nbad = 0, dfd, i;

	ASSERT_TRUE(pt_wait_dev_node(PW_RM_ID, true));
	dfd = pt_open_id(PW_RM_ID);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, pt_stats(dfd, &b));
	ASSERT_EQ(0, pt_ring_init(&ring, PW_RM_N, 0));
	ASSERT_EQ(0, pt_param_write("race_delay_us", round % 3 ? 50 : 0));
	for (i = 0; i < PW_RM_N; i++)
		pt_prep_pend(io_uring_get_sqe(&ring), dfd,
			     (__u64)(rand_r(&seed) % 200000), (__u64)i + 1, (__u64)i + 1);
	ASSERT_EQ(PW_RM_N, io_uring_submit(&ring));
	pt_spin_until(pt_now_ns() + (uint64_t)(rand_r(&seed) % 200) * NSEC_PER_USEC);
	ASSERT_EQ(0, pt_write_str(PT_SYSBUS "/drivers/pendtimer/unbind",
				  "pendtimer61"));
	for (i = 0; i < PW_RM_N; i++) {
		ASSERT_EQ(0, pt_reap(&ring, 10000, &ud, &res));
		if (res == 0)
			n0++;
		else if (res == -ENODEV)
			nrm++;
		else
			nbad++;
	}
	io_uring_queue_exit(&ring);
	close(dfd);
	ASSERT_EQ(0, pt_param_write("race_delay_us", 0));
	ASSERT_EQ(0, pt_write_str(PT_SYSBUS "/drivers/pendtimer/bind", "pendtimer61"));
	ASSERT_TRUE(pt_wait_dev_node(PW_RM_ID, true));
	dfd = pt_open_id(PW_RM_ID);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, pt_settle(dfd, 5000, &a));
	close(dfd);
	pt_stats_delta(&d, &a, &b);
	EXPECT_EQ(0, nbad);
	EXPECT_EQ((__u64)PW_RM_N, d.submitted);
	EXPECT_EQ((__u64)n0, d.fired);
	EXPECT_EQ((__u64)nrm, d.removed);
	EXPECT_EQ(0ULL, d.cancelled + d.interrupted + d.flushed);
	EXPECT_TRUE(pt_invariant_ok(&a));
	rm[0] += (__u64)n0;
	rm[1] += (__u64)nrm;
	rm[2] += (__u64)nbad;
}

TEST_F_TIMEOUT(race, stress_pend_ring_exit_task_exit_cancel_flush_removal, 300)
{
	struct pendtimer_stats s0, s1, d;
	struct pworker *w;
	volatile int stop = 0;
	__u64 next_tag = 1, tot[16] = { 0 }, act[PA_NR] = { 0 }, rm[3] = { 0 };
	uint64_t t0, child_max = 0;
	int i, fd, ret, rounds;
	char buf[320], id[16];

	if (!pt_pend_supported())
		SKIP(return, "kernel < 6.7: PENDs complete with -EOPNOTSUPP (pend test)");
	w = calloc(PW_WORKERS, sizeof(*w));
	ASSERT_NE(NULL, w);
	fd = pt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pt_stats(self->fd, &s0));

	/* phase 1: timers vs CANCEL, flush, ring exit, task exit */
	ASSERT_EQ(0, pt_param_write("race_delay_us", 20));
	for (i = 0; i < PW_WORKERS; i++) {
		w[i].id = i;
		w[i].fd = fd;
		w[i].stop = &stop;
		w[i].next_tag = &next_tag;
		w[i].seed = (unsigned int)(pt_now_ns() ^ (uint64_t)(i + 1) * 2654435761u);
		ASSERT_EQ(0, pthread_create(&w[i].th, NULL, pw_fn, &w[i]));
	}
	t0 = pt_now_ns();
	while (__atomic_load_n(&next_tag, __ATOMIC_RELAXED) < PW_TARGET &&
	       pt_now_ns() - t0 < PW_SOFT_S * NSEC_PER_SEC)
		pt_sleep_ms(10);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < PW_WORKERS; i++)
		ASSERT_EQ(0, pt_join_ms(w[i].th, 60000)) {
			TH_LOG("PEND worker %d stuck", i);
		}
	EXPECT_EQ(0, pt_param_write("race_delay_us", 0));
	close(fd);
	ret = pt_settle(self->fd, 15000, &s1);
	pt_stats_fmt(buf, sizeof(buf), &s1);
	ASSERT_EQ(0, ret) {
		TH_LOG("not quiet after the PEND stress: %s", buf);
	}
	pt_stats_delta(&d, &s1, &s0);
	pw_sum(_metadata, w, tot, act, &child_max);
	pw_print(tot, act, child_max, t0, &d);

	EXPECT_EQ(0ULL, tot[4]);	/* every visible CQE 0 or -ECANCELED */
	EXPECT_EQ(0ULL, tot[7]);	/* every CANCEL 0 or -ENOENT */
	EXPECT_EQ(0ULL, tot[8]);	/* no PEND both cancelled and fired */
	EXPECT_EQ(0ULL, tot[9]);	/* children exit at once */
	EXPECT_EQ(0ULL, tot[10]);
	EXPECT_LE(1000ULL, tot[0]);
	/* exact where user space sees everything, bounded where it cannot */
	EXPECT_EQ(tot[0], d.submitted);
	EXPECT_EQ(tot[5], d.cancelled);
	EXPECT_LE(tot[2], d.fired);
	EXPECT_GE(tot[2] + tot[1], d.fired);
	EXPECT_GE(tot[1], d.interrupted);
	EXPECT_LT(0ULL, d.interrupted);		/* ring and task exits did cancel */
	EXPECT_LE(tot[3], d.cancelled + d.flushed);
	EXPECT_GE(tot[3] + tot[1], d.cancelled + d.flushed);
	EXPECT_EQ(0ULL, d.removed);
	EXPECT_EQ(0ULL, d.pending);
	EXPECT_TRUE(pt_invariant_ok(&s1));
	free(w);

	/* phase 2: removal (unbind) racing PEND timers, counters kept */
	snprintf(id, sizeof(id), "%d", PW_RM_ID);
	if (!pt_path_exists(PT_SYSBUS "/devices/pendtimer61"))
		ASSERT_EQ(0, pt_write_str(PT_SYSBUS "/new_device", id));
	for (rounds = 0; rounds < PW_RM_ROUNDS; rounds++)
		pw_removal_round(_metadata, rounds, rm);
	ksft_print_msg("PEND removal: %d unbinds racing %d PENDs each: %llu fired, %llu removed, %llu other\n",
		       PW_RM_ROUNDS, PW_RM_N, (unsigned long long)rm[0],
		       (unsigned long long)rm[1], (unsigned long long)rm[2]);
	EXPECT_EQ(0, pt_write_str(PT_SYSBUS "/del_device", id));
}

PT_HARNESS_MAIN(1)
