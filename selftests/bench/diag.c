// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_bench: the diag and costs sections: where the overshoot goes (tracepoints).
 */
#include "bench.h"

static int trace_write(const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	return pt_write_str(path, val);
}

/*
 * Parse the trace: "hrtimer_start: hrtimer=P function=FN expires=E ..." and
 * "hrtimer_expire_entry: hrtimer=P function=FN now=N" lines of function
 * @fn; trace_marker lines "pt-diag I" (I in [@lo, @hi)) open sample I.
 */
static int diag_parse(const char *fn, unsigned int lo, unsigned int hi,
		      const uint64_t *t0, const uint64_t *t1, uint64_t d,
		      struct diagrow *rows)
{
	char line[1024], want[128];
	FILE *f = fopen(TRACEFS "/trace", "re");
	long long cur = -1;
	unsigned long long expires = 0, hp = 0;
	bool have_start = false;
	int nrows = 0;

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "function=%s ", fn);
	while (fgets(line, sizeof(line), f)) {
		char *m = strstr(line, "pt-diag ");
		char *p;

		if (m) {
			cur = atoll(m + 8);
			if (cur < lo || cur >= hi)
				cur = -1;
			have_start = false;
			continue;
		}
		if (cur < 0 || (!strstr(line, want) && !strstr(line, "pendtimer_complete: ")))
			continue;
		p = strstr(line, "hrtimer_start: hrtimer=");
		if (p) {
			char *e = strstr(line, " expires=");

			if (!e || have_start)
				continue;
			hp = strtoull(p + 23, NULL, 16);
			expires = strtoull(e + 9, NULL, 10);
			have_start = true;
			continue;
		}
		p = strstr(line, "hrtimer_expire_entry: hrtimer=");
		if (p) {
			char *e = strstr(line, " now=");
			unsigned long long now;

			if (!e || !have_start || strtoull(p + 30, NULL, 16) != hp)
				continue;
			now = strtoull(e + 5, NULL, 10);
			rows[nrows].start = (int64_t)(expires - d - t0[cur]);
			rows[nrows].irq = (int64_t)(now - expires);
			rows[nrows].wake = (int64_t)(t1[cur] - now);
			rows[nrows].cb = INT64_MIN;
			nrows++;
			have_start = false;
			continue;
		}
		p = strstr(line, "pendtimer_complete: ");
		if (p)
			p = strstr(p, " latency_ns=");
		if (p && nrows && rows[nrows - 1].cb == INT64_MIN) {
			/* the request's own view: completion - due */
			rows[nrows - 1].cb = atoll(p + 12) - rows[nrows - 1].irq;
			cur = -1;
		}
	}
	fclose(f);
	return nrows;
}

static int64_t rows_p50(struct diagrow *rows, int nr, int which)
{
	int64_t *v = xcalloc(nr, sizeof(int64_t)), r;
	int j;

	int m = 0;

	for (j = 0; j < nr; j++) {
		int64_t x = which == 0 ? rows[j].start : which == 1 ? rows[j].irq :
			    which == 2 ? rows[j].wake : rows[j].cb;

		if (x != INT64_MIN)
			v[m++] = x;
	}
	qsort(v, m, sizeof(int64_t), cmp_i64);
	r = m ? pct(v, m, 50) : INT64_MIN;
	free(v);
	return r;
}

static const char *const cost_name[NR_COST] = {
	"getppid", "clock_gettime_monotonic", "devnull_ioctl_enotty",
	"pendtimer_ioctl_enotty", "pendtimer_ioctl_enotty_track_holders",
	"pendtimer_cancel_enoent", "pendtimer_arm_plus_cancel", "pendtimer_stats",
};

/* track_holders as found: 'Y', 'N', or 0 when the module has no such parameter */
static char track_read(void)
{
	char buf[8] = "";
	int fd = open(PARAM_TRACK, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && (buf[0] == 'Y' || buf[0] == 'N') ? buf[0] : 0;
}

/* descriptors the cost loops call into */
struct costfds {
	int fd, nfd, efd;
	uint64_t tag;
};

/* @chunk calls of kind @k */
static void cost_chunk(unsigned int k, unsigned int chunk, struct costfds *c)
{
	struct pendtimer_stats st;
	struct timespec ts;
	unsigned int i;

	for (i = 0; i < chunk; i++) {
		switch (k) {
		case C_GETPPID:
			getppid();
			break;
		case C_CLOCK:
			clock_gettime(CLOCK_MONOTONIC, &ts);
			break;
		case C_NULL_IOCTL:
			ioctl(c->nfd, _IO(PENDTIMER_IOC_MAGIC, 99), NULL);
			break;
		case C_PT_ENOTTY:
		case C_PT_ENOTTY_TRACKED:
			ioctl(c->fd, _IO(PENDTIMER_IOC_MAGIC, 99), NULL);
			break;
		case C_PT_ENOENT:
			pt_cancel(c->fd, 7);
			break;
		case C_PT_ARMCANCEL:
			if (pt_arm(c->fd, LONG_TIMEOUT, c->tag, c->efd) ||
			    pt_cancel(c->fd, c->tag))
				fail("costs: ARM/CANCEL");
			c->tag++;
			break;
		case C_PT_STATS:
			ioctl(c->fd, PENDTIMER_IOC_STATS, &st);
			break;
		}
	}
}

/* the costs' figures: medians @med, fastest chunks @lo, the clocksource @cs */
static void costs_report(const double *med, const double *lo, char track, const char *cs,
			 unsigned int rounds, unsigned int chunk)
{
	say("costs (ns per call, median of %u chunks of %u; clocksource %s):", rounds, chunk, cs);
	say("  getppid %.0f, clock_gettime %.0f, /dev/null ioctl -ENOTTY %.0f, pendtimer ioctl -ENOTTY %.0f (remove lock enter+exit: +%.0f)",
	    med[C_GETPPID], med[C_CLOCK], med[C_NULL_IOCTL], med[C_PT_ENOTTY],
	    med[C_PT_ENOTTY] - med[C_NULL_IOCTL]);
	if (track)
		say("  pendtimer ioctl -ENOTTY with track_holders on %.0f (remove lock enter+exit: +%.0f)",
		    med[C_PT_ENOTTY_TRACKED], med[C_PT_ENOTTY_TRACKED] - med[C_NULL_IOCTL]);
	/* host preemption only adds: the fastest chunk is the steadier figure */
	say("  fastest chunks: /dev/null ioctl %.0f, pendtimer ioctl %.0f (+%.0f), with track_holders on %.0f (+%.0f)",
	    lo[C_NULL_IOCTL], lo[C_PT_ENOTTY], lo[C_PT_ENOTTY] - lo[C_NULL_IOCTL],
	    lo[C_PT_ENOTTY_TRACKED], lo[C_PT_ENOTTY_TRACKED] - lo[C_NULL_IOCTL]);
	detail("costs_ns_per_call_fastest_chunk",
	       "{\"devnull_ioctl_enotty\": %.0f, \"pendtimer_ioctl_enotty\": %.0f, \"pendtimer_ioctl_enotty_track_holders\": %.0f}",
	       lo[C_NULL_IOCTL], lo[C_PT_ENOTTY], lo[C_PT_ENOTTY_TRACKED]);
	say("  CANCEL of an absent tag %.0f, ARM (1 h) + CANCEL %.0f, STATS %.0f",
	    med[C_PT_ENOENT], med[C_PT_ARMCANCEL], med[C_PT_STATS]);
	detail("clock.clocksource", "\"%s\"", cs);
}

void bench_costs(void)
{
	const unsigned int chunk = 500, rounds = 31;
	double v[NR_COST][31], med[NR_COST], lo[NR_COST];
	struct costfds c = {
		.fd = open(DEV0, O_RDWR | O_CLOEXEC),
		.nfd = open("/dev/null", O_RDONLY | O_CLOEXEC),
		.efd = eventfd(0, EFD_CLOEXEC),
		.tag = 1ULL << 40,
	};
	unsigned int r, k;
	char cs[64] = "?", buf[1024], track = track_read();
	size_t len = 0;
	FILE *f;

	if (c.fd < 0 || c.nfd < 0 || c.efd < 0) {
		fail("costs: open: %s", strerror(errno));
		return;
	}
	/* the remove lock's fast path: tracking off, and on for one chunk kind */
	if (track)
		pt_write_str(PARAM_TRACK, "0");
	for (r = 0; r < rounds; r++) {
		for (k = 0; k < NR_COST; k++) {
			uint64_t t0;

			if (k == C_PT_ENOTTY_TRACKED) {
				if (!track) {
					v[k][r] = -1;
					continue;
				}
				pt_write_str(PARAM_TRACK, "1");
			}
			t0 = pt_now_ns();
			cost_chunk(k, chunk, &c);
			v[k][r] = (double)(pt_now_ns() - t0) / chunk;
			if (k == C_PT_ENOTTY_TRACKED)
				pt_write_str(PARAM_TRACK, "0");
		}
	}
	if (track)
		pt_write_str(PARAM_TRACK, track == 'Y' ? "1" : "0");
	close(c.fd);
	close(c.nfd);
	close(c.efd);
	for (k = 0; k < NR_COST; k++) {
		med[k] = median_dbl(v[k], rounds);
		lo[k] = v[k][0];	/* sorted by median_dbl(): the fastest chunk */
		len += snprintf(buf + len, sizeof(buf) - len, "%s\"%s\": %.0f", k ? ", " : "",
				cost_name[k], med[k]);
	}
	f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "re");
	if (f) {
		if (fgets(cs, sizeof(cs), f))
			cs[strcspn(cs, "\n")] = 0;
		fclose(f);
	}
	costs_report(med, lo, track, cs, rounds, chunk);
	detail("costs_ns_per_call", "{%s}", buf);
}

/* the timer and pendtimer events the diag section traces: on ("1") or off ("0") */
static void diag_events(const char *on)
{
	trace_write("events/timer/hrtimer_start/enable", on);
	trace_write("events/timer/hrtimer_expire_entry/enable", on);
	trace_write("events/pendtimer/pendtimer_complete/enable", on);
}

/* the p50 of each stage of contender @impl's @nr samples in @rows */
static void diag_report(unsigned int pi, int impl, struct diagrow *rows, int nr)
{
	int64_t a = rows_p50(rows, nr, 0), b = rows_p50(rows, nr, 1);
	int64_t w = rows_p50(rows, nr, 2), cb = rows_p50(rows, nr, 3);
	char key[96];

	say("  %-22s %3d samples, p50: call->timer armed %6.1f us, expiry->irq %6.1f us, irq->back in user %6.1f us",
	    impl_name[impl], nr, a / 1e3, b / 1e3, w / 1e3);
	snprintf(key, sizeof(key), "diag_%s_p50_ns.%s", period_name[pi], impl_name[impl]);
	if (cb != INT64_MIN) {
		say("  %-22s pendtimer:pendtimer_complete: irq -> request completed %6.1f us (p50)",
		    "", cb / 1e3);
		detail(key, "{\"samples\": %d, \"call_to_armed\": %" PRId64
		       ", \"expiry_to_irq\": %" PRId64 ", \"irq_to_user\": %" PRId64
		       ", \"irq_to_complete_tracepoint\": %" PRId64 "}", nr, a, b, w, cb);
	} else {
		detail(key, "{\"samples\": %d, \"call_to_armed\": %" PRId64
		       ", \"expiry_to_irq\": %" PRId64 ", \"irq_to_user\": %" PRId64 "}",
		       nr, a, b, w);
	}
}

void bench_diag(unsigned int pi)
{
	static const struct {
		int impl;
		const char *fn;
	} who[] = {
		{ L_NANOSLEEP, "hrtimer_wakeup" },
		{ L_PT_WAIT, "pendtimer_timer_fn" },
		{ L_TIMERFD, "timerfd_tmrproc" },
		{ L_PT_ARM, "pendtimer_timer_fn" },
		{ L_URING, "io_timeout_fn" },
	};
	const unsigned int nw = ARRAY_SIZE(who);
	const unsigned int n = opt_nsamples < 500 ? opt_nsamples : 500;
	const uint64_t d = periods[pi];
	uint64_t *t0, *t1;
	struct diagrow *rows;
	struct latctx c;
	int mfd;
	unsigned int i, k;

	if (access(TRACEFS "/events/timer/hrtimer_start/enable", F_OK)) {
		say("diag: no tracefs timer events, skipped");
		return;
	}
	if (latctx_open(&c))
		return;
	say("diag: %u samples at %s each, interleaved, timer:hrtimer_start/expire_entry traced",
	    n, period_name[pi]);
	trace_write("tracing_on", "0");
	trace_write("trace_clock", "mono");
	trace_write("buffer_size_kb", "16384");
	trace_write("trace", "");
	diag_events("1");
	mfd = open(TRACEFS "/trace_marker", O_WRONLY | O_CLOEXEC);
	if (mfd < 0) {
		say("diag: trace_marker: %s, skipped", strerror(errno));
		latctx_close(&c);
		return;
	}
	t0 = xcalloc((size_t)nw * n, sizeof(uint64_t));
	t1 = xcalloc((size_t)nw * n, sizeof(uint64_t));
	rows = xcalloc(n, sizeof(*rows));
	for (i = 0; i < 20; i++)
		for (k = 0; k < nw; k++)
			lat_fn[who[k].impl](&c, d);
	trace_write("tracing_on", "1");
	for (i = 0; i < n; i++) {
		for (k = 0; k < nw; k++) {
			unsigned int j = (i + k) % nw, idx = j * n + i;
			char mk[32];
			int len = snprintf(mk, sizeof(mk), "pt-diag %u\n", idx);

			if (write(mfd, mk, len) < 0)
				break;
			if (lat_fn[who[j].impl](&c, d) == INT64_MIN)
				break;
			t0[idx] = c.t0;
			t1[idx] = c.t1;
		}
	}
	trace_write("tracing_on", "0");
	diag_events("0");
	for (k = 0; k < nw; k++) {
		int nr = diag_parse(who[k].fn, k * n, (k + 1) * n, t0, t1, d, rows);

		if (nr <= 0) {
			say("  %s: no trace rows matched", impl_name[who[k].impl]);
			continue;
		}
		diag_report(pi, who[k].impl, rows, nr);
	}
	trace_write("trace", "");
	trace_write("buffer_size_kb", "1408");
	trace_write("trace_clock", "local");
	close(mfd);
	free(t0);
	free(t1);
	free(rows);
	latctx_close(&c);
}
