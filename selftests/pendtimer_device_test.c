// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer devices: removal, module already loaded (device 0 exists).
 * Tests create their own devices through /sys/bus/pendtimer and delete them
 * again, also when they fail (fixture teardown: pendtimer_dev.h).
 *
 * SPEC.md section 4, "Devices and the remove lock":
 *  - new_device / del_device create and remove pendtimer<ID>; unbinding the
 *    driver runs remove too, and STATS are kept across unbind/bind;
 *  - removal completes every pending request of every open file as
 *    removed (WAIT -ENODEV, URING_CMD CQE -ENODEV, ARM dropped without a
 *    signal; rule 2 of section 3 applies), waits for every holder, and only
 *    then unregisters; open files outlive the device (kref), get -ENODEV
 *    for everything and can still be closed.
 * Section 2, "Bad input": any request after removal began -ENODEV.
 * The remove lock's holders, bus input and rmmod: pendtimer_holders_test.c.
 */
#include "pendtimer_dev.h"

#include <liburing.h>	/* io_uring: not in the -m32 build (m32.mk) */

/*
 * The trace of del_device_ends_every_request_once: @nw WAITs (tags 1000..),
 * @nu URING_CMD WAITs (2000..) and @na ARMs (3000..) each submitted once and
 * removed once, the @ns submitters' requests each completed once.
 */
static void expect_trace_all_removed(struct __test_metadata *_metadata,
				     FIXTURE_DATA(dev) *self, int nw, int nu,
				     int na, int ns)
{
	unsigned int accepted = 0, removed = 0;
	int i;

	ASSERT_EQ(0, tr_collect(&self->tr, 1U << 18));
	EXPECT_TRACE_SANE(&self->tr);
	for (i = 0; i < nw; i++)
		EXPECT_TRACE_REQ(&self->tr, 1000 + i, K_WAIT, O_REMOVED);
	for (i = 0; i < nu; i++)
		EXPECT_TRACE_REQ(&self->tr, 2000 + i, K_URING, O_REMOVED);
	for (i = 0; i < na; i++)
		EXPECT_TRACE_REQ(&self->tr, 3000 + i, K_ARM, O_REMOVED);
	for (i = 0; i < ns; i++)
		accepted += submitter_check(_metadata, &self->subs[i], &self->tr,
					    &removed);
	EXPECT_EQ(self->tr.nrecs, (size_t)(nw + nu + na + accepted));
	EXPECT_EQ((unsigned long long)(nw + nu + na + removed),
		  self->tr.outcomes[O_REMOVED]);
	EXPECT_EQ(0ULL, self->tr.outcomes[O_CANCELLED] +
		  self->tr.outcomes[O_INTERRUPTED] + self->tr.outcomes[O_FLUSHED]);
	TH_LOG("trace: %zu requests: %llu fired, %llu removed (%u of the submitters')",
	       self->tr.nrecs, self->tr.outcomes[O_FIRED],
	       self->tr.outcomes[O_REMOVED], removed);
}

/* ------------------------------------------------------------------ */
/* removal ends every request exactly once */

/*
 * SPEC.md section 4, removal: every pending request of every open file
 * completes as removed exactly once (WAIT threads -ENODEV, URING_CMD WAITs
 * parked in io-wq workers CQE -ENODEV, ARMs dropped: eventfd untouched)
 * while submitters keep submitting; once removal began every request is
 * refused with -ENODEV (section 2 bad input); del_device returns after the
 * holders left; the old files get -ENODEV for every ioctl and URING_CMD
 * and close() succeeds; node, bus device and debugfs directory are gone.
 */
TEST_F_TIMEOUT(dev, del_device_ends_every_request_once, 300)
{
	enum { NW = 4, NU = 4, NA = 16, NS = 4 };
	const int id = DEV_BASE;
	int fd_w, fd_u, fd_a, efd, fd_s[NS], i, ret;
	struct pt_waiter w[NW];
	struct pendtimer_stats s;
	struct del_job job;
	char buf[320];

	ret = tr_start(&self->tr, id, 4096);
	ASSERT_EQ(0, ret) {
		TH_LOG("trace instance for the pendtimer events: %s", strerror(-ret));
	}
	MAKE_DEV(0);
	fd_w = OPEN_DEV(id);
	fd_u = OPEN_DEV(id);
	fd_a = OPEN_DEV(id);
	efd = EVENTFD();
	ASSERT_LE(0, fd_w);
	ASSERT_LE(0, fd_u);
	ASSERT_LE(0, fd_a);
	ASSERT_LE(0, efd);
	RING_UP(16);

	for (i = 0; i < NW; i++)
		ASSERT_EQ(0, pt_waiter_start(&w[i], fd_w, LONG_NS, 1000 + i, -1));
	for (i = 0; i < NU; i++)
		ASSERT_EQ(0, pt_submit_wait(&self->ring, fd_u, LONG_NS, 2000 + i, i));
	for (i = 0; i < NA; i++)
		ASSERT_EQ(0, pt_arm(fd_a, LONG_NS, 3000 + i, efd));
	ret = pt_wait_pending(fd_w, NW + NU + NA, 20000, &s);
	ASSERT_EQ(0, ret) {
		TH_LOG("pending %llu, want %d", (unsigned long long)s.pending,
		       NW + NU + NA);
	}

	self->subs = calloc(NS, sizeof(*self->subs));
	ASSERT_NE(NULL, self->subs);
	for (i = 0; i < NS; i++) {
		int sefd = EVENTFD();

		fd_s[i] = OPEN_DEV(id);
		ASSERT_LE(0, fd_s[i]);
		ASSERT_LE(0, sefd);
		ASSERT_EQ(0, submitter_start(&self->subs[i], i, fd_s[i], sefd));
		self->nsubs = i + 1;
	}
	ASSERT_EQ(0, submitters_warm(self->subs, NS, 20, 60000)) {
		TH_LOG("submitters made no progress");
	}
	ASSERT_EQ(0, pt_stats(fd_w, &s));
	pt_stats_fmt(buf, sizeof(buf), &s);
	TH_LOG("before del_device: %s", buf);
	EXPECT_LE((__u64)(NW + NU + NA), s.pending);
	EXPECT_EQ(0ULL, s.removed);

	DEL_DEVICE_JOINED(&job, id, 60000);
	TH_LOG("del_device took %llu ms",
	       (unsigned long long)((job.t1 - job.t0) / NSEC_PER_MSEC));

	for (i = 0; i < NW; i++) {
		ASSERT_EQ(0, pt_join_ms(w[i].th, JOIN_MS)) {
			TH_LOG("WAIT %d still blocked after del_device returned", i);
		}
		EXPECT_EQ(-ENODEV, w[i].ret) {
			TH_LOG("WAIT %d returned %d", i, w[i].ret);
		}
	}
	EXPECT_CQES_ENODEV(NU, 0);
	EXPECT_EQ(0, pt_eventfd_take(efd)) {
		TH_LOG("a removed ARM signalled its eventfd");
	}
	for (i = 0; i < NS; i++) {
		ASSERT_EQ(0, submitter_join(&self->subs[i])) {
			TH_LOG("submitter %d still running", i);
		}
	}

	/* every old file: -ENODEV for everything, also through io_uring */
	EXPECT_FD_DEAD(fd_w);
	EXPECT_FD_DEAD(fd_u);
	EXPECT_FD_DEAD(fd_a);
	EXPECT_URING_DEAD(fd_u);
	EXPECT_DEV_GONE(id);
	EXPECT_EQ(0, pt_eventfd_take(efd));

	/* the kernel's view: each request submitted once, completed once */
	expect_trace_all_removed(_metadata, self, NW, NU, NA, NS);

	/* the files of the removed device can still be closed */
	EXPECT_EQ(0, close_kept(self, fd_w));
	EXPECT_EQ(0, close_kept(self, fd_a));
	for (i = 0; i < NS; i++)
		EXPECT_EQ(0, close_kept(self, fd_s[i]));
	io_uring_queue_exit(&self->ring);
	self->ring_up = false;
	EXPECT_EQ(0, close_kept(self, fd_u));
}

/*
 * SPEC.md section 4 under load (section 5 max_pending raised): 10000
 * pending ARMs on one file and 8 threads submitting on their own files;
 * del_device finishes, and every request the device accepted is accounted
 * for: the 10000 ARMs removed without a signal, each submitter request
 * fired (it saw 0) or removed (it saw -ENODEV, or its ARM was dropped),
 * every refused one saw -ENODEV and left no trace.
 */
TEST_F_TIMEOUT(dev, del_device_under_load_10k_arms_8_submitters, 600)
{
	enum { NARM = 10000, NS = 8 };
	const int id = DEV_BASE + 1;
	unsigned int accepted = 0, removed = 0;
	struct pendtimer_stats s;
	struct del_job job;
	int fd_a, efd, sfd[NS], sefd[NS], i, ret;
	size_t missing = 0;
	char buf[320];
	uint64_t t0;

	ASSERT_EQ(0, pt_param_read("max_pending", &self->saved_max_pending));
	ASSERT_EQ(0, pt_param_write("max_pending", 2 * NARM));
	ret = tr_start(&self->tr, id, 8192);
	ASSERT_EQ(0, ret) {
		TH_LOG("trace instance for the pendtimer events: %s", strerror(-ret));
	}
	MAKE_DEV(1);
	/* the submitters' files first: removal sweeps them before the 10k */
	for (i = 0; i < NS; i++) {
		sfd[i] = OPEN_DEV(id);
		sefd[i] = EVENTFD();
		ASSERT_LE(0, sfd[i]);
		ASSERT_LE(0, sefd[i]);
	}
	fd_a = OPEN_DEV(id);
	efd = EVENTFD();
	ASSERT_LE(0, fd_a);
	ASSERT_LE(0, efd);

	t0 = pt_now_ns();
	for (i = 0; i < NARM; i++) {
		ret = pt_arm(fd_a, LONG_NS, 1 + i, efd);
		ASSERT_EQ(0, ret) {
			TH_LOG("ARM %d: %s", i, strerror(-ret));
		}
	}
	TH_LOG("%d ARMs submitted in %llu ms", NARM,
	       (unsigned long long)((pt_now_ns() - t0) / NSEC_PER_MSEC));

	self->subs = calloc(NS, sizeof(*self->subs));
	ASSERT_NE(NULL, self->subs);
	for (i = 0; i < NS; i++) {
		ASSERT_EQ(0, submitter_start(&self->subs[i], i, sfd[i], sefd[i]));
		self->nsubs = i + 1;
	}
	ASSERT_EQ(0, submitters_warm(self->subs, NS, 10, 120000)) {
		TH_LOG("submitters made no progress");
	}
	ASSERT_EQ(0, pt_stats(fd_a, &s));
	pt_stats_fmt(buf, sizeof(buf), &s);
	TH_LOG("before del_device: %s", buf);
	EXPECT_LE((__u64)NARM, s.pending);

	DEL_DEVICE_JOINED(&job, id, 300000);
	TH_LOG("del_device with %llu+ pending took %llu ms",
	       (unsigned long long)s.pending,
	       (unsigned long long)((job.t1 - job.t0) / NSEC_PER_MSEC));
	for (i = 0; i < NS; i++) {
		ASSERT_EQ(0, submitter_join(&self->subs[i])) {
			TH_LOG("submitter %d still running", i);
		}
	}
	EXPECT_EQ(0, pt_eventfd_take(efd)) {
		TH_LOG("removed ARMs signalled their eventfd");
	}
	EXPECT_FD_DEAD(fd_a);
	EXPECT_DEV_GONE(id);

	ASSERT_EQ(0, tr_collect(&self->tr, 1U << 18));
	EXPECT_TRACE_SANE(&self->tr);
	for (i = 0; i < NARM; i++) {
		const struct trec *r = tr_find(&self->tr, 1 + i);

		if (!r || r->kind != K_ARM || r->outcome != O_REMOVED ||
		    r->submits != 1 || r->completes != 1) {
			if (missing++ < 5)
				TH_LOG("ARM %d: %s", 1 + i, !r ? "no trace" :
				       r->outcome < 0 ? "never completed" :
				       outcome_names[r->outcome]);
		}
	}
	EXPECT_EQ(0U, missing);
	for (i = 0; i < NS; i++)
		accepted += submitter_check(_metadata, &self->subs[i], &self->tr,
					    &removed);
	EXPECT_EQ(self->tr.nrecs, (size_t)(NARM + accepted));
	EXPECT_EQ((unsigned long long)(NARM + removed), self->tr.outcomes[O_REMOVED]);
	EXPECT_EQ((unsigned long long)(accepted - removed), self->tr.outcomes[O_FIRED]);
	TH_LOG("trace: %zu requests: %llu fired, %llu removed (%u of the submitters')",
	       self->tr.nrecs, self->tr.outcomes[O_FIRED],
	       self->tr.outcomes[O_REMOVED], removed);
	EXPECT_EQ(0, close_kept(self, fd_a));
}

/* ------------------------------------------------------------------ */
/* unbind / bind */

/*
 * SPEC.md section 4: unbinding the driver runs remove: pending requests
 * complete as removed (WAIT -ENODEV, URING_CMD -ENODEV, ARM no signal),
 * /dev/pendtimer<ID> disappears while the bus device stays (its ID still
 * in use: new_device -EEXIST); bind brings the node back, and STATS
 * (section 2: "kept across unbind/bind") show the old counts; the old
 * file stays -ENODEV after the rebind and closes fine.
 */
TEST_F_TIMEOUT(dev, unbind_bind_keeps_counters_old_fd_enodev, 180)
{
	enum { NA = 8 };
	const int id = DEV_BASE + 2;
	struct pendtimer_stats b, a;
	int fd_old, fd_new, efd, i, ret;
	struct pt_waiter w;
	struct pollfd pfd;
	long long v;
	char buf[320];

	MAKE_DEV(2);
	fd_old = OPEN_DEV(id);
	efd = EVENTFD();
	ASSERT_LE(0, fd_old);
	ASSERT_LE(0, efd);
	RING_UP(8);

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pt_wait(fd_old, 0, 100 + i));
	ASSERT_EQ(0, pt_arm(fd_old, 0, 200, efd));
	/*
	 * Let it fire first: while it is pending, the pending count below
	 * can reach NA + 2 before the WAITs are in (seen on 6.12-rt, where
	 * the callback runs in a thread).
	 */
	pfd.fd = efd;
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 20000));
	for (i = 0; i < NA; i++)
		ASSERT_EQ(0, pt_arm(fd_old, LONG_NS, 300 + i, efd));
	ASSERT_EQ(0, pt_waiter_start(&w, fd_old, LONG_NS, 400, -1));
	ASSERT_EQ(0, pt_submit_wait(&self->ring, fd_old, LONG_NS, 500, 0));
	ASSERT_EQ(0, pt_wait_pending(fd_old, NA + 2, 20000, &b));
	ASSERT_EQ(0, pt_stats(fd_old, &b));
	EXPECT_EQ((__u64)(3 + 1 + NA + 2), b.submitted);
	EXPECT_EQ(4ULL, b.fired);
	EXPECT_EQ(1, pt_eventfd_take(efd));

	ret = pt_drv_write("unbind", id);
	ASSERT_EQ(0, ret) {
		TH_LOG("unbind pendtimer%d: %s", id, strerror(-ret));
	}
	ASSERT_EQ(0, pt_join_ms(w.th, JOIN_MS));
	EXPECT_EQ(-ENODEV, w.ret);
	EXPECT_CQES_ENODEV(1, 0);
	EXPECT_EQ(0, pt_eventfd_take(efd));
	EXPECT_TRUE(pt_wait_dev_node(id, false)) {
		TH_LOG("/dev/pendtimer%d still there after unbind", id);
	}
	EXPECT_EQ(-ENOENT, pt_open_id(id));
	EXPECT_TRUE(pt_bus_dev_exists(id));
	EXPECT_FALSE(pt_bus_dev_bound(id));
	EXPECT_FALSE(pt_debugfs_dir_exists(id));
	EXPECT_FD_DEAD(fd_old);
	EXPECT_URING_DEAD(fd_old);
	EXPECT_EQ(-EEXIST, pt_new_device(id));

	ret = pt_drv_write("bind", id);
	ASSERT_EQ(0, ret) {
		TH_LOG("bind pendtimer%d: %s", id, strerror(-ret));
	}
	ASSERT_TRUE(pt_wait_dev_node(id, true)) {
		TH_LOG("/dev/pendtimer%d did not come back after bind", id);
	}
	EXPECT_TRUE(pt_bus_dev_bound(id));
	fd_new = OPEN_DEV(id);
	ASSERT_LE(0, fd_new);
	ASSERT_EQ(0, pt_stats(fd_new, &a));
	pt_stats_fmt(buf, sizeof(buf), &a);
	TH_LOG("after unbind/bind: %s", buf);
	EXPECT_EQ(b.submitted, a.submitted);
	EXPECT_EQ(b.fired, a.fired);
	EXPECT_EQ((__u64)(NA + 2), a.removed);
	EXPECT_EQ(0ULL, a.cancelled + a.interrupted + a.flushed);
	EXPECT_EQ(0ULL, a.pending);
	EXPECT_TRUE(pt_invariant_ok(&a));
	EXPECT_TRUE(pt_reserved_zero(&a));
	/* debugfs is back and prints the same counters */
	ASSERT_EQ(0, pt_debugfs_value(id, "stats", "submitted", &v));
	EXPECT_EQ((long long)a.submitted, v);
	ASSERT_EQ(0, pt_debugfs_value(id, "stats", "removed", &v));
	EXPECT_EQ((long long)a.removed, v);

	/* the old file belongs to the old binding: still -ENODEV */
	EXPECT_FD_DEAD(fd_old);
	ASSERT_EQ(0, pt_wait(fd_new, 0, 600));
	ASSERT_EQ(0, pt_arm(fd_new, LONG_NS, 601, efd));
	EXPECT_EQ(0, close_kept(self, fd_old));
	ASSERT_EQ(0, pt_stats(fd_new, &a));
	EXPECT_EQ(b.submitted + 2, a.submitted);
	EXPECT_EQ(1ULL, a.pending);		/* closing the old file took nothing */
	EXPECT_EQ(0ULL, a.flushed);
	EXPECT_EQ(0, pt_cancel(fd_new, 601));
	EXPECT_EQ(0, pt_eventfd_take(efd));
}

/*
 * Per attempt (cycled): the WAIT's timeout and when the unbind is written
 * (both in us after the WAIT started). The unbind path can take most of
 * the 10 ms window under TCG; on PREEMPT_RT it can even stall until the
 * busy callback (a thread there) is done, so half of the attempts start
 * the unbind before the timer is due, letting it reach the sweep while
 * the callback runs, and the attempts go on for a time budget.
 */
static const struct {
	unsigned int timeout_us, unbind_us;
} unbind_at[] = {
	{ 0, 2500 }, { 2000, 0 }, { 0, 500 }, { 1000, 0 },
	{ 0, 3000 }, { 3000, 0 }, { 0, 1000 }, { 500, 0 },
	{ 0, 2000 }, { 4000, 0 }, { 0, 0 }, { 1500, 0 },
	{ 0, 4000 }, { 2500, 0 }, { 0, 1500 }, { 6000, 0 },
};
#define UNBIND_MIN_ATTEMPTS	32
#define UNBIND_BUDGET_S		90	/* then give up, after the minimum */
#define UNBIND_LOGGED		8	/* attempts logged in full */

/*
 * What one unbind attempt came to, from the WAIT's result @ret and the
 * counters' delta @d: a hit, late or early (counted), or NULL: broken.
 */
static const char *unbind_outcome(int ret, const struct pendtimer_stats *d,
				  bool *hit, unsigned int *nearly,
				  unsigned int *nlate)
{
	/* removal never claims under a running callback (rule 2) */
	if (d->race_timer_late)
		return NULL;
	if (ret == 0 && d->submitted == 1 && d->fired == 1 &&
	    d->removed == 0 && d->race_cleanup_deferred == 1) {
		*hit = true;
		return "hit: removal deferred to the running callback";
	}
	if (ret == 0 && d->submitted == 1 && d->fired == 1 &&
	    d->removed == 0 && d->race_cleanup_deferred == 0) {
		(*nlate)++;
		return "late (already claimed by its timer)";
	}
	if (ret == -ENODEV && d->submitted == 1 && d->removed == 1 &&
	    d->fired == 0 && d->race_cleanup_deferred == 0) {
		(*nearly)++;
		return "early (timer not yet running)";
	}
	if (ret == -ENODEV && d->submitted == 0) {
		(*nearly)++;
		return "early (refused before it was submitted)";
	}
	return NULL;
}

/*
 * SPEC.md section 3 rule 2, applied to removal (section 4): a removal that
 * finds the request's timer callback already running leaves it to the
 * callback (the WAIT returns 0, fired +1, removed +0,
 * race_cleanup_deferred +1) and waits for it. race_delay_us widens the
 * window; the counters survive unbind/bind, so they can be read after.
 */
TEST_F_TIMEOUT(dev, unbind_leaves_running_timer_to_its_callback, 240)
{
	const int id = DEV_BASE + 3;
	int cpu_timer = pt_nth_cpu(0), cpu_main = pt_nth_cpu(1);
	unsigned int nearly = 0, nlate = 0;
	int attempt, ufd = -1, ret;
	uint64_t deadline;
	bool hit = false;
	char ubuf[32];

	if (cpu_main < 0)
		SKIP(return, "needs 2 CPUs: the window cannot be entered on one");
	MAKE_DEV(3);
	ASSERT_EQ(0, pt_param_read("race_delay_us", &self->saved_race_delay));
	ASSERT_EQ(0, pt_pin_self(cpu_main));
	ASSERT_EQ(0, pt_param_write("race_delay_us", 10000));
	snprintf(ubuf, sizeof(ubuf), "pendtimer%d", id);
	deadline = pt_now_ns() + UNBIND_BUDGET_S * NSEC_PER_SEC;

	for (attempt = 0; !hit; attempt++) {
		unsigned int tmo = unbind_at[attempt % ARRAY_SIZE(unbind_at)].timeout_us;
		unsigned int off = unbind_at[attempt % ARRAY_SIZE(unbind_at)].unbind_us;
		struct pendtimer_stats b, a, d;
		uint64_t t_u0, t_u1;
		struct pt_waiter w;
		const char *what;
		int fd, fd2;
		ssize_t n;

		if (attempt >= UNBIND_MIN_ATTEMPTS && pt_now_ns() > deadline)
			break;
		fd = OPEN_DEV(id);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, pt_stats(fd, &b));
		ufd = keep_fd(self, open(PT_DRV "/unbind", O_WRONLY | O_CLOEXEC));
		ASSERT_LE(0, ufd);
		ASSERT_EQ(0, pt_waiter_start(&w, fd, tmo * NSEC_PER_USEC, 1, cpu_timer));
		pt_waiter_wait_started(&w);
		pt_spin_until(w.t_start + off * NSEC_PER_USEC);
		t_u0 = pt_now_ns();
		n = write(ufd, ubuf, strlen(ubuf));
		ret = n < 0 ? -errno : 0;
		t_u1 = pt_now_ns();
		close_kept(self, ufd);
		ASSERT_EQ(0, ret) {
			TH_LOG("unbind: %s", strerror(-ret));
		}
		ASSERT_EQ(0, pt_join_ms(w.th, JOIN_MS)) {
			TH_LOG("WAIT still blocked after unbind returned");
		}
		ret = pt_drv_write("bind", id);
		ASSERT_EQ(0, ret) {
			TH_LOG("bind: %s", strerror(-ret));
		}
		ASSERT_TRUE(pt_wait_dev_node(id, true));
		fd2 = OPEN_DEV(id);
		ASSERT_LE(0, fd2);
		ASSERT_EQ(0, pt_stats(fd2, &a));
		pt_stats_delta(&d, &a, &b);
		ASSERT_TRUE(pt_invariant_ok(&a));
		ASSERT_EQ(0ULL, a.pending);

		what = unbind_outcome(w.ret, &d, &hit, &nearly, &nlate);
		if (attempt < UNBIND_LOGGED || hit || !what)
			TH_LOG("attempt %d: WAIT(%u us), unbind at +%llu us for %llu us, WAIT %d after %llu us, submitted +%llu fired +%llu removed +%llu cleanup_deferred +%llu timer_late +%llu: %s",
			       attempt, tmo,
			       (unsigned long long)(t_u0 - w.t_start) / 1000,
			       (unsigned long long)(t_u1 - t_u0) / 1000, w.ret,
			       (unsigned long long)(w.t_end - w.t_start) / 1000,
			       (unsigned long long)d.submitted,
			       (unsigned long long)d.fired,
			       (unsigned long long)d.removed,
			       (unsigned long long)d.race_cleanup_deferred,
			       (unsigned long long)d.race_timer_late,
			       what ? what : "BROKEN");
		ASSERT_NE(NULL, what);
		EXPECT_EQ(0ULL, d.cancelled + d.interrupted + d.flushed);
		EXPECT_FD_DEAD(fd);
		EXPECT_EQ(0, close_kept(self, fd));
		EXPECT_EQ(0, close_kept(self, fd2));
	}
	TH_LOG("%d attempts: %u early, %u late, %s", attempt, nearly, nlate,
	       hit ? "then the hit" : "no hit");
	ASSERT_TRUE(hit) {
		TH_LOG("the unbind never landed inside the 10 ms window");
	}
}

/* ------------------------------------------------------------------ */

/*
 * SPEC.md section 4: devices are independent: removing one completes only
 * its own requests; the other's WAIT, URING_CMD and ARMs stay pending, its
 * timers still fire, CANCEL still reaches them, and its counters show
 * nothing removed.
 */
TEST_F_TIMEOUT(dev, removing_one_device_leaves_the_other_working, 180)
{
	const int ida = DEV_BASE + 4, idb = DEV_BASE + 5;
	int fda, fdb, efda, efdb, i, res;
	struct pt_waiter wa, wb;
	struct pendtimer_stats s;
	struct pollfd pfd;
	char buf[320];
	__u64 ud;

	MAKE_DEV(4);
	MAKE_DEV(5);
	fda = OPEN_DEV(ida);
	fdb = OPEN_DEV(idb);
	efda = EVENTFD();
	efdb = EVENTFD();
	ASSERT_LE(0, fda);
	ASSERT_LE(0, fdb);
	ASSERT_LE(0, efda);
	ASSERT_LE(0, efdb);
	RING_UP(8);

	ASSERT_EQ(0, pt_waiter_start(&wa, fda, LONG_NS, 1, -1));
	ASSERT_EQ(0, pt_waiter_start(&wb, fdb, LONG_NS, 1, -1));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pt_arm(fda, LONG_NS, 10 + i, efda));
		ASSERT_EQ(0, pt_arm(fdb, LONG_NS, 10 + i, efdb));
	}
	ASSERT_EQ(0, pt_submit_wait(&self->ring, fdb, LONG_NS, 20, 20));
	ASSERT_EQ(0, pt_wait_pending(fda, 5, 20000, NULL));
	ASSERT_EQ(0, pt_wait_pending(fdb, 6, 20000, NULL));

	ASSERT_EQ(0, pt_del_device(ida));
	ASSERT_EQ(0, pt_join_ms(wa.th, JOIN_MS));
	EXPECT_EQ(-ENODEV, wa.ret);
	EXPECT_EQ(0, pt_eventfd_take(efda));
	EXPECT_FD_DEAD(fda);
	EXPECT_DEV_GONE(ida);

	/* B: untouched */
	EXPECT_FALSE(__atomic_load_n(&wb.done, __ATOMIC_ACQUIRE));
	EXPECT_EQ(-ETIME, pt_reap(&self->ring, 100, &ud, &res));
	ASSERT_EQ(0, pt_stats(fdb, &s));
	EXPECT_EQ(6ULL, s.pending);
	EXPECT_EQ(6ULL, s.submitted);
	EXPECT_EQ(0ULL, s.removed);
	EXPECT_TRUE(pt_debugfs_dir_exists(idb));
	EXPECT_TRUE(pt_dev_node_exists(idb));

	/* B: timers fire, CANCEL works, new requests are accepted */
	ASSERT_EQ(0, pt_arm(fdb, 50 * NSEC_PER_MSEC, 30, efdb));
	pfd.fd = efdb;
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 20000));
	EXPECT_EQ(1, pt_eventfd_take(efdb));
	ASSERT_EQ(0, pt_wait(fdb, 0, 31));
	ASSERT_EQ(0, pt_cancel(fdb, 1));
	ASSERT_EQ(0, pt_join_ms(wb.th, JOIN_MS));
	EXPECT_EQ(-ECANCELED, wb.ret);
	ASSERT_EQ(0, pt_cancel(fdb, 20));
	ASSERT_EQ(0, pt_reap(&self->ring, JOIN_MS, &ud, &res));
	EXPECT_EQ(20ULL, ud);
	EXPECT_EQ(-ECANCELED, res);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, pt_cancel(fdb, 10 + i));
	EXPECT_EQ(0, pt_eventfd_take(efdb));
	ASSERT_EQ(0, pt_settle(fdb, 10000, &s));
	pt_stats_fmt(buf, sizeof(buf), &s);
	TH_LOG("the other device: %s", buf);
	EXPECT_EQ(8ULL, s.submitted);
	EXPECT_EQ(2ULL, s.fired);
	EXPECT_EQ(6ULL, s.cancelled);
	EXPECT_EQ(0ULL, s.removed + s.flushed + s.interrupted);
	EXPECT_TRUE(pt_invariant_ok(&s));
	EXPECT_EQ(0, close_kept(self, fda));
}

PT_HARNESS_MAIN(1)
