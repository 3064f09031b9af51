// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_fuzz: seeded random interleavings of every pendtimer operation,
 * from several threads and processes, with every result checked against
 * SPEC.md. Module already loaded. Plain KTAP output (kselftest.h).
 *
 * Agents: PT_FUZZ_THREADS worker threads (default 3) in this process, plus
 * up to PT_FUZZ_CHILDREN forked child processes at a time (default 2), each
 * running a random sequence of operations on the descriptors it inherited.
 * Operations: open, close (dup2 of a placeholder pipe over a descriptor
 * that another thread is using, so that its number is never reused under
 * it), dup, fork (a child
 * that works on inherited files, or only closes its copies: fork-and-close),
 * WAIT, ARM (random and hostile timeouts, tags, eventfds, flags, pointers),
 * CANCEL, STATS, unknown ioctls, URING_CMD WAIT and CANCEL, unknown cmd_op,
 * IORING_OP_ASYNC_CANCEL, ring exit, PEND (PENDTIMER_URING_PEND: parked with
 * no thread behind it; ended by its timer, CANCEL, flush, removal, or
 * io_uring's cancel call at ring exit and task exit; async-cancel must give
 * -ENOENT and leave it alone; only on kernels 6.7+), eventfd create/read/close, signals to
 * waiters (and SIGKILL to a child in WAIT), debugfs reads, new_device,
 * del_device, driver unbind/bind (also with malformed input) and changes of
 * race_delay_us. The device IDs used are 0, 1 and 2.
 *
 * The model (shared memory, one process-shared lock) knows for every open
 * file its pending requests and, for each, what may have claimed it: a
 * cancel, a flush (close by the submitting owner, release), a removal, a
 * signal, io_uring async-cancel or ring exit. After every step the result
 * must be one SPEC.md section 2 allows for that operation in that state;
 * SPEC.md section 3 gives the stronger checks: a CANCEL that returned 0
 * claimed exactly that request (its WAIT returns -ECANCELED, its eventfd is
 * not signalled), a request known pending is found by CANCEL and refused as
 * a duplicate tag, a flush or removal that began before the timer was due
 * leaves nothing to fire, WAIT never returns 0 before its timeout, -EINTR
 * only after a signal, -ECANCELED / -ENODEV only with a cause. Every epoch
 * (PT_FUZZ_EPOCH operations) ends at a barrier: all agents park, every file
 * is closed, each device must become quiet, and its counters are compared
 * with the model (submitted and each outcome within the model's bounds,
 * cancelled exact, the invariant submitted == fired + cancelled +
 * interrupted + flushed + removed + pending, the eventfd totals equal to the
 * ARM requests that fired). At the end, the invariant on every device that
 * still exists; devices and parameters are put back as they were.
 *
 * The bugs it found have deterministic regression tests in the harness
 * tests (pendtimer_uring_test: ioctl_wait_not_interrupted_by_io_uring_task_work,
 * queued_wait_reads_payload_at_submit); see docs/reliability.md.
 *
 * Environment:
 *   PT_FUZZ_SEED      seed (decimal or 0x hex); printed, replays the random
 *                     choices of every agent (the interleaving is the
 *                     scheduler's: with PT_FUZZ_THREADS=1 PT_FUZZ_CHILDREN=0
 *                     the operation sequence is the same)
 *   PT_FUZZ_OPS       operations (default 20000)
 *   PT_FUZZ_SECONDS   time bound (default 300)
 *   PT_FUZZ_EPOCH     operations per barrier (default 3000)
 *   PT_FUZZ_THREADS   worker threads (1..8, default 3)
 *   PT_FUZZ_CHILDREN  concurrent child processes (0..3, default 2)
 *   PT_FUZZ_DEVOPS    0 disables device operations (default 1)
 *   PT_FUZZ_VERBOSE   1: one line per barrier per device
 *   PT_BUDGET_STRICT  1: fuzz_budget fails, not skips, when the time bound
 *                     ends the run before PT_FUZZ_OPS (make check sets it)
 */
#include "fuzz.h"

static int orig_race_delay = -1, orig_max_pending = -1;
/* track_holders as found (Y or N), or 0 if unreadable */
static char orig_track_holders;
/* each device as found: SL_ABSENT, SL_UNBOUND or SL_BOUND */
static int initial[NSLOTS];

/* ------------------------------------------------------------------ */
/* setup and main */

/* module parameter @name, or -1 if unreadable */
static int param_or_minus1(const char *name)
{
	long long v;

	return pt_param_read(name, &v) ? -1 : (int)v;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	if (!v || !*v)
		return def;
	return strtoull(v, NULL, 0);
}

static void init_colliding(void)
{
	uint64_t x = 0x5eed, t;
	int n = 0;

	while (n < 32) {
		t = pt_splitmix64(&x);
		if (((t * 0x61C8864680B583EBULL) >> 56) == 0x5a)
			W->colliding[n++] = t;
	}
}

static bool restore_slot(int id, int want)
{
	int cur = slot_sysfs_state(id);

	if (cur == want)
		return true;
	if (want == SL_ABSENT)
		return pt_del_device(id) == 0;
	if (cur == SL_ABSENT && pt_new_device(id))
		return false;
	cur = slot_sysfs_state(id);
	if (want == SL_BOUND && cur == SL_UNBOUND)
		return pt_drv_write("bind", id) == 0;
	if (want == SL_UNBOUND && cur == SL_BOUND)
		return pt_drv_write("unbind", id) == 0;
	return slot_sysfs_state(id) == want;
}

/* Every result skipped (or failed, @fail) and the budget skipped, for @why. */
static void end_early(bool fail, const char *why)
{
	int i;

	for (i = 0; i < F_NR; i++) {
		if (fail)
			ksft_test_result_fail("fuzz_%s (%s)\n", f_name[i], why);
		else
			ksft_test_result_skip("fuzz_%s (%s)\n", f_name[i], why);
	}
	ksft_test_result_skip("fuzz_budget (%s)\n", why);
	ksft_finished();
}

/* the shared model, with its process-shared lock */
static int world_map(void)
{
	pthread_mutexattr_t ma;

	W = mmap(NULL, sizeof(*W), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (W == MAP_FAILED) {
		perror("mmap");
		return -1;
	}
	memset(W, 0, sizeof(*W));
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&W->mu, &ma);
	return 0;
}

/* PT_FUZZ_*: the seed, the budget, the agents, the epoch */
static void read_env(void)
{
	uint64_t seed = env_u64("PT_FUZZ_SEED", 0), ep;

	if (!seed)
		seed = pt_now_ns() ^ ((uint64_t)getpid() << 32);
	W->seed = seed;
	W->pend_on = pt_pend_supported();
	W->ops_target = env_u64("PT_FUZZ_OPS", 20000);
	W->t_limit = env_u64("PT_FUZZ_SECONDS", 300) * NSEC_PER_SEC;
	W->nthreads = (int)env_u64("PT_FUZZ_THREADS", 3);
	if (W->nthreads < 1 || W->nthreads > MAX_THREADS)
		W->nthreads = 3;
	W->nchildren_max = (int)env_u64("PT_FUZZ_CHILDREN", 2);
	if (W->nchildren_max < 0 || W->nchildren_max > MAX_CHILDREN)
		W->nchildren_max = 2;
	W->devops = (int)env_u64("PT_FUZZ_DEVOPS", 1);
	W->verbose = (int)env_u64("PT_FUZZ_VERBOSE", 0);
	ep = env_u64("PT_FUZZ_EPOCH", 3000);
	W->epoch_len = ep < 100 ? 100 : ep;
	W->epoch_end = W->epoch_len;
	printf("# pendtimer_fuzz: seed=0x%" PRIx64 " (replay: PT_FUZZ_SEED=0x%" PRIx64 ") ops=%" PRIu64
	       " seconds=%" PRIu64 " threads=%d children=%d devops=%d epoch=%" PRIu64 "\n",
	       seed, seed, W->ops_target, W->t_limit / NSEC_PER_SEC, W->nthreads,
	       W->nchildren_max, W->devops, W->epoch_len);
}

/* the module parameters as found, then as the run wants them */
static void set_params(void)
{
	char buf[64];

	orig_race_delay = param_or_minus1("race_delay_us");
	orig_max_pending = param_or_minus1("max_pending");
	if (pt_read_buf(PARAMS "track_holders", buf, sizeof(buf)) > 0)
		orig_track_holders = buf[0];
	W->max_pending = 4096;
	/*
	 * op_debugfs checks every holder line against the count: holder
	 * tracking (SPEC.md section 4) is on for the run, restored at the end.
	 */
	if (pt_write_str(PARAMS "max_pending", "4096") || pt_write_str(PARAMS "race_delay_us", "0") ||
	    pt_write_str(PARAMS "track_holders", "1")) {
		printf("# cannot write the module parameters (not root?)\n");
		end_early(false, "parameters not writable");
	}
}

/* the module parameters put back */
static void restore_params(void)
{
	char buf[64];

	if (orig_race_delay >= 0) {
		snprintf(buf, sizeof(buf), "%d", orig_race_delay);
		pt_write_str(PARAMS "race_delay_us", buf);
	}
	if (orig_max_pending >= 0) {
		snprintf(buf, sizeof(buf), "%d", orig_max_pending);
		pt_write_str(PARAMS "max_pending", buf);
	}
	if (orig_track_holders == 'Y' || orig_track_holders == 'N')
		pt_write_str(PARAMS "track_holders", orig_track_holders == 'Y' ? "1" : "0");
}

/*
 * The placeholder dup2()ed over a closing number that is in use: a
 * pipe, which has neither our ioctls (-ENOTTY) nor uring_cmd
 * (-EOPNOTSUPP; /dev/null's uring_cmd returns 0) and is no eventfd.
 */
static int open_placeholder(void)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC)) {
		perror("pipe2");
		return -1;
	}
	W->nullfd = p[0];
	return 0;
}

/* slot @i as sysfs has it; a bound device must be quiet */
static void slot_init(int i)
{
	struct slot *s = &W->slots[i];
	pthread_mutexattr_t sm;
	struct pendtimer_stats st;
	int ret;

	pthread_mutexattr_init(&sm);
	pthread_mutexattr_setpshared(&sm, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&s->mu, &sm);
	s->id = i;
	s->bind = -1;
	s->bd = -1;
	initial[i] = slot_sysfs_state(i);
	s->state = SL_ABSENT;
	if (initial[i] != SL_ABSENT)
		s->bd = bdev_new(i);
	if (initial[i] == SL_UNBOUND)
		s->state = SL_UNBOUND;
	else if (initial[i] == SL_BOUND)
		slot_bound(s, s->bd);
	if (s->state != SL_BOUND)
		return;
	ret = pt_settle_id(s->id, 60 * 1000, &st);
	if (ret) {
		printf("# pendtimer%d not quiet at the start: %s\n", i, strerror(-ret));
		end_early(true, "device busy at start");
	}
	BD(s->bd)->base = st;
}

/* the worker threads, each with a seed of its own; this thread coordinates */
static void agents_start(void)
{
	static struct agent coord = { .idx = -1, .cur_req = -1 };
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	int i;

	sigaction(SIGUSR1, &sa, NULL);
	W->t_start = pt_now_ns();
	__atomic_store_n(&W->phase, PH_RUN, __ATOMIC_RELEASE);
	for (i = 0; i < W->nthreads; i++) {
		struct agent *a = &W->agents[i];

		a->used = 1;
		a->idx = i;
		a->owner = 0;
		a->pid = getpid();
		a->cur_req = -1;
		a->seed = W->seed + (uint64_t)i * 0x1000193;
		rng_seed(a->rng, a->seed);
	}
	for (i = 0; i < W->nthreads; i++)
		pthread_create(&threads[i], NULL, thread_main, &W->agents[i]);

	self = &coord;
	rng_seed(coord.rng, W->seed ^ 0xc001);
}

/* coordinator: watchdog, reaper, barriers, until the budget or time is spent */
static void coordinate(void)
{
	int i;

	for (;;) {
		uint64_t now = pt_now_ns();
		bool out_of_time = now - W->t_start > W->t_limit;
		bool done = W->ops >= W->ops_target || out_of_time ||
			    __atomic_load_n(&W->stop, __ATOMIC_ACQUIRE);

		reap_children();
		M_lock();
		for (i = 0; i < W->nthreads + MAX_CHILDREN; i++) {
			struct agent *a = &W->agents[i];

			if (a->used && a->in_op && a->op == OP_WAIT &&
			    now - a->op_t0 > 400 * NSEC_PER_MSEC)
				signal_agent(a);
		}
		M_unlock();
		if (done || W->ops >= W->epoch_end || W->nreqs > MAX_REQS - 4096 ||
		    W->nofiles > MAX_OFILES - 64 || W->nowners > MAX_OWNERS - 8) {
			epoch_barrier(done);
			if (__atomic_load_n(&W->phase, __ATOMIC_ACQUIRE) == PH_FINISH || done)
				break;
		}
		pt_sleep_ns(2 * NSEC_PER_MSEC);
	}
	__atomic_store_n(&W->phase, PH_FINISH, __ATOMIC_RELEASE);
	for (i = 0; i < W->nthreads; i++)
		pthread_join(threads[i], NULL);
	reap_children();
}

/* the end: every device that still exists is quiet and consistent; the failures */
static int final_check(void)
{
	int i, ret, bad = 0;

	for (i = 0; i < NSLOTS; i++) {
		struct slot *s = &W->slots[i];
		struct pendtimer_stats st;
		char ctx[400];

		if (slot_sysfs_state(s->id) != SL_BOUND)
			continue;
		ret = pt_settle_id(s->id, 60 * 1000, &st);
		pt_stats_fmt(ctx, sizeof(ctx), &st);
		printf("# final pendtimer%d: %s\n", s->id, ctx);
		if (ret || !pt_invariant_ok(&st) || st.pending || !pt_reserved_zero(&st)) {
			printf("# FAIL[final] pendtimer%d: %s (%s)\n", s->id, ctx, ret ? strerror(-ret) : "invariant");
			bad++;
		}
	}
	return bad;
}

/* put devices back; the failures */
static int restore_slots(void)
{
	int i, bad = 0;

	for (i = 0; i < NSLOTS; i++)
		if (!restore_slot(i, initial[i])) {
			printf("# FAIL[final] could not restore pendtimer%d to %s\n", i, sl_name[initial[i]]);
			bad++;
		}
	return bad;
}

static void print_totals(void)
{
	uint64_t secs = (pt_now_ns() - W->t_start) / NSEC_PER_MSEC;
	int i;

	printf("# pendtimer_fuzz: seed=0x%" PRIx64 " ops=%" PRIu64 " in %" PRIu64 ".%03" PRIu64
	       " s (%" PRIu64 " ops/s), epochs=%" PRIu64 ", requests=%" PRIu64 " (uring %" PRIu64
	       "), ARM accepted=%" PRIu64 ", CANCEL 0=%" PRIu64 " (sole claimer %" PRIu64
	       "), cleanups before due=%" PRIu64 ", forks=%" PRIu64 ", kills=%" PRIu64
	       ", signals=%" PRIu64 ", device ops=%" PRIu64 ", ambiguous opens=%" PRIu64 "\n",
	       W->seed, W->ops, secs / 1000, secs % 1000, W->ops * 1000 / (secs + 1),
	       W->n_barriers, W->n_req, W->n_uring, W->n_arm_ok, W->n_cancel_ok,
	       W->n_sure_cancel, W->n_sure_flush, W->n_forks, W->n_kills, W->n_signals,
	       W->n_devops, W->n_ambiguous_open);
	printf("# PENDs: %" PRIu64 " submitted (of the uring requests), %" PRIu64
	       " async-cancels of a PEND answered -ENOENT%s\n", W->n_pend,
	       W->n_pend_async_enoent, W->pend_on ? "" :
	       "; none: the kernel is older than 6.7 (PEND gives -EOPNOTSUPP)");
	printf("# WAIT results:");
	for (i = 0; i < RC_NR; i++)
		if (W->n_wait_res[i])
			printf(" %s=%" PRIu64, rc_tab[i].n, W->n_wait_res[i]);
	printf("\n# ops (count/total ms):");
	for (i = 0; i < OP_NR; i++)
		printf(" %s=%" PRIu64 "/%" PRIu64, op_name[i], W->n_op[i],
		       W->t_op[i] / NSEC_PER_MSEC);
	printf("\n");
	if (W->ops < W->ops_target && !W->stop)
		printf("# note: the time bound (%" PRIu64 " s) ended the run at %" PRIu64 " of %" PRIu64 " ops\n",
		       W->t_limit / NSEC_PER_SEC, W->ops, W->ops_target);
}

/* one KTAP result per failure category, and the budget */
static void report_results(void)
{
	char buf[64];
	int i;

	for (i = 0; i < F_NR; i++)
		ksft_test_result(!W->nfail[i], "fuzz_%s%s%s\n", f_name[i],
				 W->nfail[i] ? " # failures: " : "",
				 W->nfail[i] ? (snprintf(buf, sizeof(buf), "%d", W->nfail[i]), buf) : "");
	if (W->ops >= W->ops_target)
		ksft_test_result_pass("fuzz_budget (%" PRIu64 " of %" PRIu64 " operations)\n",
				      W->ops, W->ops_target);
	else if (W->stop)
		ksft_test_result_fail("fuzz_budget (stopped at the first failure)\n");
	else if (env_u64("PT_BUDGET_STRICT", 0))
		ksft_test_result_fail("fuzz_budget (the time bound, %" PRIu64 " s, ended it at %" PRIu64
				      " of %" PRIu64 " operations)\n",
				      W->t_limit / NSEC_PER_SEC, W->ops, W->ops_target);
	else
		ksft_test_result_skip("fuzz_budget: the time bound (%" PRIu64 " s) ended it at %" PRIu64
				      " of %" PRIu64 " operations\n",
				      W->t_limit / NSEC_PER_SEC, W->ops, W->ops_target);
	if (W->nfail[F_RESULT] + W->nfail[F_OUTCOME] + W->nfail[F_ACCOUNT] + W->nfail[F_KERNEL])
		printf("# replay with PT_FUZZ_SEED=0x%" PRIx64 "\n", W->seed);
}

int main(void)
{
	int i, ret, final_bad;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ksft_print_header();
	ksft_set_plan(F_NR + 1);

	if (!pt_path_exists("/sys/module/pendtimer") || slot_sysfs_state(0) != SL_BOUND) {
		printf("# pendtimer module not loaded, or pendtimer0 not bound\n");
		end_early(false, "module not loaded");
	}
	if (world_map())
		return KSFT_FAIL;
	read_env();
	set_params();
	if (open_placeholder())
		return KSFT_FAIL;
	init_colliding();
	memset(W->hash, 0xff, sizeof(W->hash));
	W->nowners = 0;
	owner_new(getpid(), 0);
	kmsg_open();
	for (i = 0; i < NSLOTS; i++)
		slot_init(i);
	if (W->devops && initial[0] != SL_BOUND)
		printf("# note: pendtimer0 was %s at the start\n", sl_name[initial[0]]);

	agents_start();
	coordinate();

	final_bad = final_check();
	final_bad += restore_slots();
	restore_params();
	ret = kmsg_scan();
	if (ret)
		W->nfail[F_KERNEL] += ret;
	W->nfail[F_FINAL] += final_bad;
	print_totals();
	report_results();
	ksft_finished();
}
