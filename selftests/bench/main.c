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
#include "bench.h"

/* ------------------------------------------------------------------ */
/* options, time, progress */

const char *opt_json = "/tmp/pendtimer-bench.json";
static const char *opt_samples = "/tmp/pendtimer-bench-samples.txt";
const char *opt_details = "/tmp/pendtimer-bench-details.json";
const char *opt_lane = "unknown";
const char *opt_sections = "latency,costs,diag,cancel,memory,teardown,throughput,threads";
unsigned int opt_nsamples = 2000;
unsigned int opt_big = 100000;
int opt_cpu = -2;	/* -2: the last online CPU; -1: no pinning */
int failures;
/* PEND works on this kernel (io_uring_cmd_mark_cancelable(), from 6.7) */
bool pend_ok;
uint64_t t_start;

/* the options; 0, or the exit status for bad usage */
static int parse_options(int argc, char **argv)
{
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
	return 0;
}

/* latency, costs and diag run pinned, before the heavy sections */
static void run_pinned_sections(void)
{
	FILE *samples;
	int i;

	pin();
	if (pinned) {
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
}

static void run_heavy_sections(void)
{
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
}

int main(int argc, char **argv)
{
	long long old_max = -1;
	struct utsname un;
	char maxbuf[32];
	int ret;

	ret = parse_options(argc, argv);
	if (ret)
		return ret;
	uname(&un);
	t_start = pt_now_ns();
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
	if (pt_param_read("max_pending", &old_max))
		old_max = -1;
	snprintf(maxbuf, sizeof(maxbuf), "%u", 1048576);
	if (pt_write_str(PARAM_MAXPEND, maxbuf))
		fail("cannot raise max_pending");
	pend_probe();

	run_pinned_sections();
	run_heavy_sections();

	if (old_max > 0) {
		snprintf(maxbuf, sizeof(maxbuf), "%lld", old_max);
		pt_write_str(PARAM_MAXPEND, maxbuf);
	}
	write_json(un.release);
	print_table(un.release);
	say("done, %d failure(s)", failures);
	return failures ? 1 : 0;
}
