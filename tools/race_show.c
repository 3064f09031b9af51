// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer race --show: one caught instance of each race rule, shown as
 * the kernel saw it.
 *
 * The events come from pendtimer's tracepoints, recorded in a tracefs
 * instance of our own (instances/pendtimer_show_<pid>: other tracefs users
 * and the global buffer are left alone) with trace_clock "mono", the clock
 * of the requests' due times:
 *
 *   pendtimer_submit            dev=%d tag=%llu kind=%s due_ns=%lld
 *   pendtimer_timer_enter       dev=%d tag=%llu          (callback started)
 *   pendtimer_timer_late        dev=%d tag=%llu          (rule 1: a cancel won)
 *   pendtimer_cleanup_deferred  dev=%d tag=%llu outcome=%s   (rule 2)
 *   pendtimer_complete          dev=%d tag=%llu kind=%s outcome=%s ...
 *
 * Rule 1 (SPEC section 3; seed 000 case T2): timer_enter, then a CANCEL or
 * a signalled waiter claims (complete: cancelled or interrupted) and sees
 * the callback running (timer_late); the callback then finds nothing to
 * claim. Rule 2 (case C1): timer_enter, then
 * flush/release or removal finds the callback running and leaves the
 * request to it (cleanup_deferred), then the callback claims (complete:
 * fired).
 *
 * options/record-cmd is off while the instance exists, as in
 * selftests/pendtimer_trace_test.c: with it on, enabling an event hooks
 * sched_switch, whose live patching once broke a TCG guest. Tasks are
 * therefore named by their pid.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/pendtimer.h>

#include "pendtimer.h"

#include "race_show.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define SHOW_BUFFER_KB		"8192"	/* per CPU: a default race fits */
#define SHOW_FORCE_DELAY_US	10000	/* race_delay_us of the fallback */
#define SHOW_FORCE_ATTEMPTS	12
#define SHOW_FORCE_TAG		0x5e0000000000ULL

static const char *const show_roots[] = {
	"/sys/kernel/tracing",
	"/sys/kernel/debug/tracing",
};

static const char *const show_events[] = {
	"pendtimer_submit", "pendtimer_timer_enter", "pendtimer_timer_late",
	"pendtimer_cleanup_deferred", "pendtimer_complete",
};

static struct {
	char root[64];
	char inst[192];
	bool have_inst;
	char record_cmd;	/* the value to put back, or 0 */
	bool mono;		/* trace_clock is the due times' clock */
} show;

enum ev_type { EV_SUBMIT, EV_ENTER, EV_LATE, EV_DEFERRED, EV_COMPLETE };

struct ev {
	enum ev_type type;
	int cpu, pid, dev;
	char ctx;		/* 'h' hard irq, 's' softirq, 'z' NMI, '.' task */
	unsigned long long ts_ns, tag;
	long long due_ns;
	char kind[16], outcome[16];
};

struct evlist {
	struct ev *ev;
	size_t n, cap;
};

/* ------------------------------------------------------------------ */
/* tracefs */

static int inst_write(const char *rel, const char *val)
{
	char path[320];

	snprintf(path, sizeof(path), "%s/%s", show.inst, rel);
	return pt_write_str(path, val);
}

static void show_cleanup(void)
{
	if (show.have_inst) {
		inst_write("tracing_on", "0");
		inst_write("events/enable", "0");
		if (rmdir(show.inst) == 0)
			show.have_inst = false;
	}
	if (pt_trace_record_cmd_restore(show.root, show.record_cmd) == 0)
		show.record_cmd = 0;
}

int race_show_begin(void)
{
	char path[320];
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(show_roots); i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/instances", show_roots[i]);
		if (stat(path, &st) == 0) {
			snprintf(show.root, sizeof(show.root), "%s", show_roots[i]);
			break;
		}
	}
	if (!show.root[0]) {
		printf("race --show: no tracefs with instances/ (mount -t tracefs nodev "
		       "/sys/kernel/tracing; a kernel with CONFIG_FTRACE)\n");
		return -ENOENT;
	}
	for (i = 0; i < ARRAY_SIZE(show_events); i++) {
		snprintf(path, sizeof(path), "%s/events/pendtimer/%s", show.root,
			 show_events[i]);
		if (access(path, F_OK)) {
			printf("race --show: %s is missing: this pendtimer.ko has no "
			       "tracepoint %s\n", path, show_events[i]);
			return -ENOENT;
		}
	}
	atexit(show_cleanup);
	pt_trace_record_cmd_off(show.root, &show.record_cmd);

	snprintf(show.inst, sizeof(show.inst), "%s/instances/pendtimer_show_%d",
		 show.root, (int)getpid());
	if (mkdir(show.inst, 0700)) {
		ret = -errno;
		printf("race --show: mkdir %s: %s\n", show.inst, strerror(errno));
		return ret;
	}
	show.have_inst = true;
	inst_write("buffer_size_kb", SHOW_BUFFER_KB);	/* best effort */
	show.mono = inst_write("trace_clock", "mono") == 0;
	if (!show.mono)
		inst_write("trace_clock", "global");
	for (i = 0; i < ARRAY_SIZE(show_events); i++) {
		char rel[128];

		snprintf(rel, sizeof(rel), "events/pendtimer/%s/enable", show_events[i]);
		ret = inst_write(rel, "1");
		if (ret) {
			printf("race --show: enable %s: %s\n", show_events[i], strerror(-ret));
			return ret;
		}
	}
	ret = inst_write("tracing_on", "1");
	if (ret)
		printf("race --show: tracing_on: %s\n", strerror(-ret));
	return ret;
}

/* ------------------------------------------------------------------ */
/* the recording */

/*
 *   <...>-1234    [001] d.h1.   123.456789: pendtimer_timer_enter: dev=0 tag=5
 * The task is "<...>" (record-cmd off); the third flag is the context.
 */
static bool parse_line(const char *line, struct ev *e)
{
	const char *b = strstr(line, "] "), *p, *q, *name;
	unsigned long long frac = 0;
	int digits = 0;
	char *end;

	if (!b)
		return false;
	memset(e, 0, sizeof(*e));
	for (p = b; p > line && *p != '['; p--)
		;
	if (*p != '[')
		return false;
	e->cpu = (int)strtol(p + 1, NULL, 10);
	for (q = p; q > line && q[-1] == ' '; q--)
		;
	while (q > line && q[-1] >= '0' && q[-1] <= '9')
		q--;
	e->pid = (int)strtol(q, NULL, 10);
	p = b + 2;
	e->ctx = '.';
	if (strlen(p) > 3 && p[1] != ' ' && p[2] != ' ')
		e->ctx = p[2] == 'H' ? 'h' : p[2] == 'Z' ? 'z' : p[2];
	p = strchr(p, ' ');
	if (!p)
		return false;
	while (*p == ' ')
		p++;
	e->ts_ns = strtoull(p, &end, 10) * 1000000000ULL;
	if (*end != '.')
		return false;
	for (p = end + 1; *p >= '0' && *p <= '9'; p++, digits++)
		if (digits < 9)
			frac = frac * 10 + (unsigned long long)(*p - '0');
	for (; digits < 9; digits++)
		frac *= 10;
	e->ts_ns += frac;
	name = strstr(p, "pendtimer_");
	if (!name)
		return false;
	if (sscanf(name, "pendtimer_submit: dev=%d tag=%llu kind=%15s due_ns=%lld",
		   &e->dev, &e->tag, e->kind, &e->due_ns) == 4) {
		e->type = EV_SUBMIT;
		return true;
	}
	if (sscanf(name, "pendtimer_timer_enter: dev=%d tag=%llu", &e->dev, &e->tag) == 2) {
		e->type = EV_ENTER;
		return true;
	}
	if (sscanf(name, "pendtimer_timer_late: dev=%d tag=%llu", &e->dev, &e->tag) == 2) {
		e->type = EV_LATE;
		return true;
	}
	if (sscanf(name, "pendtimer_cleanup_deferred: dev=%d tag=%llu outcome=%15s",
		   &e->dev, &e->tag, e->outcome) == 3) {
		e->type = EV_DEFERRED;
		return true;
	}
	if (sscanf(name, "pendtimer_complete: dev=%d tag=%llu kind=%15s outcome=%15s due_ns=%lld",
		   &e->dev, &e->tag, e->kind, e->outcome, &e->due_ns) == 5) {
		e->type = EV_COMPLETE;
		return true;
	}
	return false;
}

static int collect(struct evlist *l)
{
	char path[320], *buf, *line, *save = NULL;

	snprintf(path, sizeof(path), "%s/trace", show.inst);
	buf = pt_read_file(path, NULL);
	if (!buf) {
		printf("race --show: read %s: %s\n", path, strerror(errno));
		return -1;
	}
	l->n = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct ev e;

		if (line[0] == '#' || !parse_line(line, &e))
			continue;
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 4096;
			struct ev *nev = realloc(l->ev, cap * sizeof(*nev));

			if (!nev)
				break;
			l->ev = nev;
			l->cap = cap;
		}
		l->ev[l->n++] = e;
	}
	free(buf);
	return 0;
}

/* ------------------------------------------------------------------ */
/* finding a caught instance */

struct instance {
	size_t submit, enter, claim, loser;	/* indexes into the list */
	bool found;
};

static bool same_req(const struct ev *a, const struct ev *b)
{
	return a->dev == b->dev && a->tag == b->tag;
}

/*
 * The events of the request that @x (a timer_late or cleanup_deferred)
 * belongs to: the last submit of its dev/tag before it, the callback's
 * entry and the claim, in the order the rule has them. The hrtimer core
 * marks a callback running before the callback's first line (where
 * timer_enter fires) runs, so a cancel or a cleanup can see it running
 * before timer_enter: @strict asks for the callback's entry first as well.
 */
static bool find_around(const struct evlist *l, size_t x, int rule, bool strict,
			struct instance *in)
{
	const struct ev *ex = &l->ev[x];
	size_t i, s = (size_t)-1;
	bool have_enter = false, have_claim = false;

	for (i = x; i-- > 0;) {
		if (same_req(&l->ev[i], ex) && l->ev[i].type == EV_SUBMIT) {
			s = i;
			break;
		}
	}
	if (s == (size_t)-1)
		return false;
	memset(in, 0, sizeof(*in));
	in->submit = s;
	in->loser = x;
	for (i = s + 1; i < l->n; i++) {
		const struct ev *e = &l->ev[i];

		if (!same_req(e, ex))
			continue;
		if (e->type == EV_SUBMIT)
			break;	/* the tag was used again */
		if (e->type == EV_ENTER && !have_enter) {
			in->enter = i;
			have_enter = true;
		} else if (e->type == EV_COMPLETE && !have_claim) {
			in->claim = i;
			have_claim = true;
		}
	}
	if (!have_enter || !have_claim)
		return false;
	if (rule == 1)	/* (enter <) claim (cancel, signal) < late, enter < late */
		return (!strict || in->enter < in->claim) && in->claim < x && in->enter < x &&
		       (!strcmp(l->ev[in->claim].outcome, "cancelled") ||
			!strcmp(l->ev[in->claim].outcome, "interrupted"));
	/* (enter <) deferred < claim (fired), enter < claim */
	return (!strict || in->enter < x) && x < in->claim && in->enter < in->claim &&
	       !strcmp(l->ev[in->claim].outcome, "fired");
}

/*
 * The first complete instance of @rule: the callback's entry first if
 * there is one, then a WAIT if there is one.
 */
static struct instance find_rule(const struct evlist *l, int rule)
{
	enum ev_type t = rule == 1 ? EV_LATE : EV_DEFERRED;
	struct instance best = { .found = false }, in;
	int strict;
	size_t i;

	for (strict = 1; strict >= 0 && !best.found; strict--) {
		for (i = 0; i < l->n; i++) {
			if (l->ev[i].type != t || !find_around(l, i, rule, strict, &in))
				continue;
			in.found = true;
			if (!strcmp(l->ev[in.submit].kind, "wait"))
				return in;
			if (!best.found)
				best = in;
		}
	}
	return best;
}

/* ------------------------------------------------------------------ */
/* the fallback: force a rule, as pendtimer_race_test does */

struct force_waiter {
	int fd, cpu;
	unsigned long long tag, due_ns;
	unsigned long long t_start;
	int started, ret;
};

static void *force_wait_fn(void *arg)
{
	struct force_waiter *w = arg;

	pt_pin_self(w->cpu);
	w->t_start = pt_now_ns();
	__atomic_store_n(&w->started, 1, __ATOMIC_RELEASE);
	w->ret = pt_wait(w->fd, w->due_ns, w->tag);
	return NULL;
}

static __u64 race_counter(int fd, int rule)
{
	struct pendtimer_stats s;

	if (pt_stats(fd, &s))
		return 0;
	return rule == 1 ? s.race_timer_late : s.race_cleanup_deferred;
}

/*
 * A WAIT from a thread pinned to one CPU (its timer runs there and spins
 * race_delay_us before it claims); this thread, pinned to another, acts
 * inside that window: CANCEL (rule 1) or close() of a dup() (rule 2).
 */
static bool force_rule(const char *dev, int rule)
{
	static const unsigned int off_us[SHOW_FORCE_ATTEMPTS] = {
		1500, 3000, 1000, 5000, 2000, 7000, 600, 4000, 8000, 2500, 6000, 9000,
	};
	int cpu_a = pt_nth_cpu(0), cpu_b = pt_nth_cpu(1), fd, attempt;
	unsigned long long due_us = rule == 1 ? 500 : 1000;
	long long saved = -1;
	cpu_set_t mask;
	bool hit = false;

	if (cpu_a < 0 || cpu_b < 0 || pt_param_read("race_delay_us", &saved))
		return false;
	fd = pt_open_path(dev);
	if (fd < 0)
		return false;
	if (pt_param_write("race_delay_us", SHOW_FORCE_DELAY_US)) {
		close(fd);
		return false;
	}
	sched_getaffinity(0, sizeof(mask), &mask);
	pt_pin_self(cpu_b);
	for (attempt = 0; attempt < SHOW_FORCE_ATTEMPTS && !hit; attempt++) {
		struct force_waiter w = {
			.fd = fd, .cpu = cpu_a, .due_ns = due_us * 1000,
			.tag = SHOW_FORCE_TAG + (unsigned long long)(rule * 100 + attempt),
		};
		__u64 before = race_counter(fd, rule);
		pthread_t th;

		if (pthread_create(&th, NULL, force_wait_fn, &w))
			break;
		while (!__atomic_load_n(&w.started, __ATOMIC_ACQUIRE))
			;
		while (pt_now_ns() < w.t_start + (due_us + off_us[attempt]) * 1000)
			;
		if (rule == 1) {
			pt_cancel(fd, w.tag);
		} else {
			int d = dup(fd);

			if (d >= 0)
				close(d);
		}
		pthread_join(th, NULL);
		hit = race_counter(fd, rule) > before;
	}
	pt_param_write("race_delay_us", saved);
	sched_setaffinity(0, sizeof(mask), &mask);
	close(fd);
	return hit;
}

/* ------------------------------------------------------------------ */
/* printing */

static const char *ctx_name(const struct ev *e, char *buf, size_t len)
{
	switch (e->ctx) {
	case 'h':
		return "hard irq";
	case 's':
		return "softirq";
	case 'z':
		return "NMI";
	default:
		snprintf(buf, len, "task %d", e->pid);
		return buf;
	}
}

static void row(const struct ev *base, const struct ev *e, const char *event,
		const char *what)
{
	char cbuf[32];

	printf("  %+9lld us  %3d  %-9s  %-17s %s\n",
	       ((long long)(e->ts_ns - base->ts_ns)) / 1000, e->cpu,
	       ctx_name(e, cbuf, sizeof(cbuf)), event, what);
}

static const char *claimer(const char *outcome)
{
	if (!strcmp(outcome, "cancelled"))
		return "CANCEL claims it: cancelled";
	if (!strcmp(outcome, "interrupted"))
		return "a signal (or io_uring exit) claims it: interrupted";
	if (!strcmp(outcome, "fired"))
		return "the callback claims it: fired";
	return "claimed";
}

static const char *user_saw(const char *kind, const char *outcome)
{
	bool fired = !strcmp(outcome, "fired");

	if (!strcmp(kind, "arm"))
		return fired ? "the ARM's eventfd was signalled" :
		       "the ARM's eventfd was never signalled";
	if (!strcmp(kind, "wait"))
		return fired ? "the WAIT returned 0 (fired)" :
		       !strcmp(outcome, "interrupted") ? "the WAIT returned -EINTR" :
		       "the WAIT returned -ECANCELED";
	return fired ? "its io_uring completion said fired" :
	       "its io_uring completion said it did not fire";
}

/* WAIT, ARM, URING_CMD, PEND */
static const char *kind_name(const char *kind, char *buf, size_t len)
{
	size_t i;

	for (i = 0; kind[i] && i + 1 < len; i++)
		buf[i] = kind[i] >= 'a' && kind[i] <= 'z' ? (char)(kind[i] - 'a' + 'A') : kind[i];
	buf[i] = '\0';
	return buf;
}

static void print_instance(const struct evlist *l, int rule, const struct instance *in)
{
	const struct ev *s = &l->ev[in->submit], *en = &l->ev[in->enter];
	const struct ev *c = &l->ev[in->claim], *x = &l->ev[in->loser];
	long long due_rel = (s->due_ns - (long long)s->ts_ns) / 1000;
	char what[96], kbuf[16];

	if (rule == 1)
		printf("\nrule 1: a cancel claims a request while its timer callback runs\n"
		       "  WDK sample, seed 000 case T2: the cancel routine holds the lock when\n"
		       "  the timer expires; the DPC waits for the lock, then finds no IRP.\n");
	else
		printf("\nrule 2: a cleanup meets a running timer callback and leaves the request to it\n"
		       "  WDK sample, seed 000 case C1: cleanup holds the lock when the timer\n"
		       "  fires; KeCancelTimer fails, so cleanup leaves the IRP to the DPC.\n");
	printf("  %s dev=%d tag=%llu", kind_name(s->kind, kbuf, sizeof(kbuf)), s->dev, s->tag);
	if (show.mono && due_rel > 0)
		printf(", due %lld us after its submission", due_rel);
	else if (show.mono)
		printf(", due at once");
	printf(":\n  %12s  %3s  %-9s  %-17s %s\n", "time", "CPU", "context", "event",
	       "what happened");
	row(s, s, "submit", "the request is pending, its timer started");
	/* the callback's entry where it happened: see find_around() */
	if (in->enter < (rule == 1 ? in->claim : in->loser))
		row(s, en, "timer_enter", "the timer callback starts, not yet holding the lock");
	if (rule == 1) {
		snprintf(what, sizeof(what), "%s   <- wins", claimer(c->outcome));
		row(s, c, "complete", what);
	} else {
		snprintf(what, sizeof(what), "%s finds the callback running, defers   <- loses",
			 !strcmp(x->outcome, "removed") ? "removal" : "close() (flush)");
		row(s, x, "cleanup_deferred", what);
	}
	if (in->enter > (rule == 1 ? in->claim : in->loser))
		row(s, en, "timer_enter", "the callback's first line (the timer core had "
		    "already marked it running)");
	if (rule == 1) {
		row(s, x, "timer_late", "the callback finds it claimed, leaves   <- loses");
	} else {
		snprintf(what, sizeof(what), "%s   <- wins", claimer(c->outcome));
		row(s, c, "complete", what);
	}
	printf("  the user saw: %s\n", user_saw(s->kind, c->outcome));
}

bool race_show_active(void)
{
	return show.have_inst;
}

bool race_show_end(const char *dev)
{
	struct evlist l = { 0 };
	bool ok = true;
	int rule;

	if (!show.have_inst)
		return false;
	inst_write("tracing_on", "0");
	printf("\n=== the kernel's timeline of one caught instance of each rule "
	       "(tracefs: instances/%s) ===\n", strrchr(show.inst, '/') + 1);
	if (collect(&l)) {
		show_cleanup();
		return false;
	}
	for (rule = 1; rule <= 2; rule++) {
		struct instance in = find_rule(&l, rule);

		if (!in.found && sysconf(_SC_NPROCESSORS_ONLN) < 2) {
			printf("  one CPU: no callback can run while a cancel or close does: "
			       "nothing to show\n");
			break;
		}
		if (!in.found) {
			printf("  rule %d: no complete instance in the recording: forcing one "
			       "(race_delay_us=%d, pinned threads)\n", rule, SHOW_FORCE_DELAY_US);
			inst_write("tracing_on", "1");
			force_rule(dev, rule);
			inst_write("tracing_on", "0");
			if (collect(&l) == 0)
				in = find_rule(&l, rule);
		}
		if (in.found) {
			print_instance(&l, rule, &in);
		} else {
			printf("\nrule %d: no instance caught (%s)\n", rule,
			       rule == 1 ? "timer_enter, complete(cancelled), timer_late" :
			       "timer_enter, cleanup_deferred, complete(fired)");
			ok = false;
		}
	}
	free(l.ev);
	show_cleanup();
	return ok;
}
