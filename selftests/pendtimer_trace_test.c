// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer tracepoints, module already loaded, tracefs mounted.
 *
 * Issue 6, "Tracepoints pendtimer:pendtimer_submit and
 * pendtimer:pendtimer_complete (device, tag, kind, outcome, due time,
 * latency), usable from tracefs and perf":
 *  - both events exist with those fields (their format files);
 *  - a WAIT, an ARM and a cancel each leave exactly one submit and one
 *    complete event for their tag, in that order, with the right device,
 *    kind and outcome, the same due time in both, and a latency that says
 *    whether the request ended after its due time (fired) or before it
 *    (cancelled);
 *  - every outcome of SPEC.md section 3 is named: fired, cancelled,
 *    interrupted (a signalled WAIT), flushed (close) and removed
 *    (del_device, on a device of its own: the dev field names it).
 *
 * Issue 13, the race rules in the kernel's own events (pendtimer race
 * --show reads them): pendtimer_timer_enter when the file's timer callback
 * starts with the request due, pendtimer_timer_late when a cancel claims
 * a request whose callback is running (rule 1),
 * pendtimer_cleanup_deferred when a flush, release or removal leaves a
 * request to its running callback (rule 2). Each rule is forced with
 * race_delay_us as in pendtimer_race_test.c, and its events must come in
 * the rule's order: submit, timer_enter, then rule 1 complete(cancelled)
 * before timer_late, rule 2 cleanup_deferred(flushed) before
 * complete(fired). timer_enter comes before the other path's event: the
 * callback traces it under the file's lock, where it notes the time it
 * started, and only from then on does another path see it running.
 *
 * Each test records into its own tracefs instance (instances/<name>), so
 * the global trace buffer and other users of tracefs are left alone.
 * options/record-cmd is off while it exists: with it on, enabling an event
 * also hooks sched_switch and sched_wakeup to record task names, which
 * live-patches the scheduler's static branches. Under QEMU TCG with two
 * vCPUs that patching once left a vCPU executing a stale int3 in
 * __schedule ("Oops: int3", 6.12 lane); the names are not checked here.
 */
#include "pendtimer_util.h"

#include <dirent.h>
#include <sys/types.h>

#define LONG_NS		(10 * NSEC_PER_SEC)	/* "never fires in this test" */
#define SHORT_NS	(1 * NSEC_PER_MSEC)
#define JOIN_MS		10000
#define MAX_EVENTS	1024

static const char *const tracefs_roots[] = {
	"/sys/kernel/tracing",
	"/sys/kernel/debug/tracing",
};

enum ev_type { EV_SUBMIT, EV_ENTER, EV_LATE, EV_DEFERRED, EV_COMPLETE };

/* Each event's name (in the trace: "<name>: dev=... "). */
static const char *const ev_names[] = {
	[EV_SUBMIT] = "pendtimer_submit",
	[EV_ENTER] = "pendtimer_timer_enter",
	[EV_LATE] = "pendtimer_timer_late",
	[EV_DEFERRED] = "pendtimer_cleanup_deferred",
	[EV_COMPLETE] = "pendtimer_complete",
};

/* The events of issue 13; the first two are issue 6's. */
static const char *const rule_events[] = {
	"pendtimer_timer_enter", "pendtimer_timer_late", "pendtimer_cleanup_deferred",
};

struct ev {
	enum ev_type type;
	int dev;
	unsigned long long tag;
	char kind[16];
	char outcome[16];
	long long due_ns;
	long long latency_ns;
};

FIXTURE(trace) {
	char root[64];			/* tracefs mount */
	char inst[256];			/* our instance directory */
	bool have_inst;
	char record_cmd;		/* options/record-cmd to put back, or 0 */
	int fd;
	int efd;
	int bus_id;			/* a device this test created, or -1 */
	long long saved_delay;		/* race_delay_us to put back, or -1 */
	__u64 tag_base;
	struct ev ev[MAX_EVENTS];
	int nev;
};

static int inst_write(struct __test_metadata *_metadata,
		      FIXTURE_DATA(trace) *self, const char *rel, const char *val)
{
	char path[512];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", self->inst, rel);
	ret = pt_write_str(path, val);
	if (ret)
		TH_LOG("write '%s' to %s: %s", val, path, strerror(-ret));
	return ret;
}

/*
 * The event a trace line records, into @e->type, and the rest of the line
 * after its "<name>:"; NULL if it records none of ours.
 */
static const char *line_event(const char *line, struct ev *e)
{
	char key[64];
	size_t t;

	for (t = 0; t < ARRAY_SIZE(ev_names); t++) {
		const char *p;

		snprintf(key, sizeof(key), "%s: ", ev_names[t]);
		p = strstr(line, key);
		if (p) {
			e->type = t;
			return p + strlen(key) - 1;
		}
	}
	return NULL;
}

/* @e's fields from @p, the rest of its line (line_event()): false if unparsed. */
static bool parse_event(struct ev *e, const char *p)
{
	switch (e->type) {
	case EV_SUBMIT:
		return sscanf(p, " dev=%d tag=%llu kind=%15s due_ns=%lld",
			      &e->dev, &e->tag, e->kind, &e->due_ns) == 4;
	case EV_DEFERRED:
		return sscanf(p, " dev=%d tag=%llu outcome=%15s",
			      &e->dev, &e->tag, e->outcome) == 3;
	case EV_COMPLETE:
		return sscanf(p, " dev=%d tag=%llu kind=%15s outcome=%15s "
			      "due_ns=%lld latency_ns=%lld",
			      &e->dev, &e->tag, e->kind, e->outcome, &e->due_ns,
			      &e->latency_ns) == 6;
	default:	/* timer_enter, timer_late */
		return sscanf(p, " dev=%d tag=%llu", &e->dev, &e->tag) == 2;
	}
}

/* Parse the instance's trace into self->ev[]; returns the number of events. */
static int collect(struct __test_metadata *_metadata, FIXTURE_DATA(trace) *self)
{
	char path[512], *buf, *line, *save = NULL;

	snprintf(path, sizeof(path), "%s/trace", self->inst);
	buf = pt_read_file(path, NULL);
	if (!buf) {
		TH_LOG("read %s: %s", path, strerror(errno));
		return -1;
	}
	self->nev = 0;
	for (line = strtok_r(buf, "\n", &save); line && self->nev < MAX_EVENTS;
	     line = strtok_r(NULL, "\n", &save)) {
		struct ev *e = &self->ev[self->nev];
		const char *p;

		memset(e, 0, sizeof(*e));
		p = line_event(line, e);
		if (!p)
			continue;
		if (parse_event(e, p))
			self->nev++;
		else
			TH_LOG("unparsed: %s", line);
	}
	free(buf);
	return self->nev;
}

/* The only event of @type for @tag, or NULL (also when there are two). */
static const struct ev *find1(FIXTURE_DATA(trace) *self, enum ev_type type,
			      __u64 tag, int *idx, int *count)
{
	const struct ev *found = NULL;
	int i;

	*count = 0;
	for (i = 0; i < self->nev; i++) {
		if (self->ev[i].type == type && self->ev[i].tag == tag) {
			if (!found) {
				found = &self->ev[i];
				*idx = i;
			}
			(*count)++;
		}
	}
	return *count == 1 ? found : NULL;
}

/*
 * Assert one submit and one complete event for @tag, in that order, on
 * device @dev, of @kind, completed with @outcome, the same due time in both.
 * @late: the request ended after its due time (latency >= 0), or before it.
 */
#define EXPECT_EVENTS(_dev, _tag, _kind, _outcome, _late) do {		\
	const struct ev *__s, *__c;					\
	int __is = -1, __ic = -1, __ns, __nc;				\
									\
	__s = find1(self, EV_SUBMIT, (_tag), &__is, &__ns);		\
	__c = find1(self, EV_COMPLETE, (_tag), &__ic, &__nc);		\
	ASSERT_EQ(1, __ns) {						\
		TH_LOG("tag %llu: %d pendtimer_submit events",		\
		       (unsigned long long)(_tag), __ns);		\
	}								\
	ASSERT_EQ(1, __nc) {						\
		TH_LOG("tag %llu: %d pendtimer_complete events",	\
		       (unsigned long long)(_tag), __nc);		\
	}								\
	EXPECT_LT(__is, __ic);						\
	EXPECT_EQ((_dev), __s->dev);					\
	EXPECT_EQ((_dev), __c->dev);					\
	EXPECT_STREQ((_kind), __s->kind);				\
	EXPECT_STREQ((_kind), __c->kind);				\
	EXPECT_STREQ((_outcome), __c->outcome);				\
	EXPECT_EQ(__s->due_ns, __c->due_ns);				\
	EXPECT_LT(0, __s->due_ns);					\
	if (_late) {							\
		EXPECT_LE(0, __c->latency_ns);				\
	} else {							\
		EXPECT_GT(0, __c->latency_ns);				\
	}								\
} while (0)

#define NEED_TRACEFS() do {						\
	if (!self->root[0])						\
		SKIP(return, "no tracefs with events/ and instances/ (/sys/kernel/tracing)"); \
} while (0)

FIXTURE_SETUP(trace)
{
	struct pendtimer_stats s;
	char path[128];
	size_t i;
	int ret;

	self->fd = self->efd = self->bus_id = -1;
	self->saved_delay = -1;
	self->have_inst = false;
	self->record_cmd = 0;
	self->root[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(tracefs_roots); i++) {
		char p[128], e[128];

		/* instances/ and events/ (a kernel with event tracing) */
		snprintf(p, sizeof(p), "%s/instances", tracefs_roots[i]);
		snprintf(e, sizeof(e), "%s/events", tracefs_roots[i]);
		if (pt_path_exists(p) && pt_path_exists(e)) {
			snprintf(self->root, sizeof(self->root), "%s", tracefs_roots[i]);
			break;
		}
	}
	if (!self->root[0])
		return;		/* each test skips (SKIP here would not stop it) */

	PT_ASSERT_OPEN(self->fd);
	PT_ASSERT_QUIET_START(self->fd, s);
	self->tag_base = ((__u64)getpid() << 24) + 0x7000;

	ret = pt_trace_record_cmd_off(self->root, &self->record_cmd);
	if (ret != -ENOENT)
		ASSERT_EQ(0, ret);

	snprintf(self->inst, sizeof(self->inst), "%s/instances/pendtimer_trace_%d",
		 self->root, getpid());
	ret = mkdir(self->inst, 0700) ? -errno : 0;
	ASSERT_EQ(0, ret) {
		TH_LOG("mkdir %s: %s", self->inst, strerror(-ret));
	}
	self->have_inst = true;
	ASSERT_EQ(0, inst_write(_metadata, self, "events/pendtimer/pendtimer_submit/enable", "1"));
	ASSERT_EQ(0, inst_write(_metadata, self, "events/pendtimer/pendtimer_complete/enable", "1"));
	for (i = 0; i < ARRAY_SIZE(rule_events); i++) {
		char rel[128];

		/* a module without them fails the tests that need them */
		snprintf(path, sizeof(path), "%s/events/pendtimer/%s", self->root,
			 rule_events[i]);
		if (!pt_path_exists(path))
			continue;
		snprintf(rel, sizeof(rel), "events/pendtimer/%s/enable", rule_events[i]);
		ASSERT_EQ(0, inst_write(_metadata, self, rel, "1"));
	}
	ASSERT_EQ(0, inst_write(_metadata, self, "tracing_on", "1"));
}

FIXTURE_TEARDOWN(trace)
{
	/* first, so nothing below runs with a 10 ms callback */
	if (self->saved_delay >= 0)
		EXPECT_EQ(0, pt_param_write("race_delay_us", self->saved_delay));
	if (self->fd >= 0)
		close(self->fd);
	if (self->efd >= 0)
		close(self->efd);
	if (self->bus_id >= 0) {
		char id[16];

		snprintf(id, sizeof(id), "%d", self->bus_id);
		pt_write_str(PT_SYSBUS "/del_device", id);	/* may be gone already */
	}
	if (self->have_inst) {
		char path[512];

		snprintf(path, sizeof(path), "%s/events/pendtimer/enable", self->inst);
		EXPECT_EQ(0, pt_write_str(path, "0"));
		EXPECT_EQ(0, rmdir(self->inst)) {
			TH_LOG("rmdir %s: %s", self->inst, strerror(errno));
		}
	}
	EXPECT_EQ(0, pt_trace_record_cmd_restore(self->root, self->record_cmd));
	if (self->root[0])
		PT_EXPECT_QUIET(5000);
}

/*
 * @event's format file (free() it), asserted readable, and each of its
 * @nfields @fields in it.
 */
static char *format_with(struct __test_metadata *_metadata,
			 FIXTURE_DATA(trace) *self, const char *event,
			 const char *const *fields, size_t nfields)
{
	char path[256], *fmt;
	size_t i;

	snprintf(path, sizeof(path), "%s/events/pendtimer/%s/format", self->root, event);
	fmt = pt_read_file(path, NULL);
	ASSERT_NE(NULL, fmt) {
		TH_LOG("%s: %s", path, strerror(errno));
	}
	for (i = 0; i < nfields; i++) {
		EXPECT_NE(NULL, strstr(fmt, fields[i])) {
			TH_LOG("%s has no '%s'", event, fields[i]);
		}
	}
	return fmt;
}

/* Both events exist, with the fields the issue names. */
TEST_F(trace, events_have_device_tag_kind_outcome_due_latency)
{
	static const char *const submit_fields[] = {
		"field:int dev;", "field:int kind;", "field:u64 tag;", "field:s64 due_ns;",
	};
	static const char *const complete_fields[] = {
		"field:int dev;", "field:int kind;", "field:u64 tag;", "field:int outcome;",
		"field:s64 due_ns;", "field:s64 latency_ns;",
	};
	char *fmt;

	NEED_TRACEFS();

	free(format_with(_metadata, self, "pendtimer_submit", submit_fields,
			 ARRAY_SIZE(submit_fields)));
	fmt = format_with(_metadata, self, "pendtimer_complete", complete_fields,
			  ARRAY_SIZE(complete_fields));
	/* the symbolic names perf and tracefs print */
	EXPECT_NE(NULL, strstr(fmt, "\"fired\""));
	EXPECT_NE(NULL, strstr(fmt, "\"removed\""));
	EXPECT_NE(NULL, strstr(fmt, "\"uring_cmd\""));
	free(fmt);
}

/*
 * perf and trace-cmd decode the events in user space from the format file:
 * its "print fmt" must show the kind and outcome values as numbers, not as
 * the module's enum names, which only the kernel knows (TRACE_DEFINE_ENUM).
 */
TEST_F(trace, format_decodable_in_user_space)
{
	static const char *const events[] = { "pendtimer_submit", "pendtimer_complete" };
	char *fmt, *pf;
	size_t i;

	NEED_TRACEFS();

	for (i = 0; i < ARRAY_SIZE(events); i++) {
		fmt = format_with(_metadata, self, events[i], NULL, 0);
		pf = strstr(fmt, "print fmt:");
		EXPECT_NE(NULL, pf);
		if (pf) {
			EXPECT_EQ(NULL, strstr(pf, "PENDTIMER_")) {
				TH_LOG("%s: print fmt names enum constants that perf and "
				       "trace-cmd cannot resolve (TRACE_DEFINE_ENUM missing?): %s",
				       events[i], pf);
			}
		}
		free(fmt);
	}
}

/* A WAIT that fires: submit, then complete kind=wait outcome=fired. */
TEST_F(trace, wait_fired)
{
	__u64 tag = self->tag_base + 1;

	NEED_TRACEFS();

	ASSERT_EQ(0, pt_wait(self->fd, SHORT_NS, tag));
	ASSERT_LE(0, collect(_metadata, self));
	EXPECT_EVENTS(0, tag, "wait", "fired", true);
}

/* An ARM that fires: kind=arm outcome=fired, seen after its eventfd. */
TEST_F(trace, arm_fired)
{
	__u64 tag = self->tag_base + 2;
	uint64_t deadline;
	int64_t v = 0;

	NEED_TRACEFS();

	self->efd = pt_eventfd();
	ASSERT_LE(0, self->efd);
	ASSERT_EQ(0, pt_arm(self->fd, SHORT_NS, tag, self->efd));
	deadline = pt_now_ns() + JOIN_MS * NSEC_PER_MSEC;
	while (!(v = pt_eventfd_take(self->efd)) && pt_now_ns() < deadline)
		pt_sleep_ms(1);
	ASSERT_EQ(1, v);
	ASSERT_LE(0, collect(_metadata, self));
	EXPECT_EVENTS(0, tag, "arm", "fired", true);
}

/* CANCEL of a blocked WAIT and of an ARM: outcome=cancelled, before due. */
TEST_F(trace, cancel_wait_and_arm)
{
	__u64 wtag = self->tag_base + 3, atag = self->tag_base + 4;
	struct pt_waiter w;

	NEED_TRACEFS();

	self->efd = pt_eventfd();
	ASSERT_LE(0, self->efd);
	ASSERT_EQ(0, pt_waiter_start(&w, self->fd, LONG_NS, wtag, -1));
	ASSERT_EQ(0, pt_arm(self->fd, LONG_NS, atag, self->efd));
	pt_waiter_wait_started(&w);
	/* CANCEL only once the WAIT is pending: retry -ENOENT briefly */
	{
		uint64_t deadline = pt_now_ns() + JOIN_MS * NSEC_PER_MSEC;
		int c;

		while ((c = pt_cancel(self->fd, wtag)) == -ENOENT && pt_now_ns() < deadline)
			pt_sleep_ms(1);
		ASSERT_EQ(0, c);
	}
	ASSERT_EQ(0, pt_join_ms(w.th, JOIN_MS));
	ASSERT_EQ(-ECANCELED, w.ret);
	ASSERT_EQ(0, pt_cancel(self->fd, atag));
	EXPECT_EQ(0, pt_eventfd_take(self->efd));
	ASSERT_LE(0, collect(_metadata, self));
	EXPECT_EVENTS(0, wtag, "wait", "cancelled", false);
	EXPECT_EVENTS(0, atag, "arm", "cancelled", false);
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

/* A signalled WAIT is interrupted; close() flushes a pending ARM. */
TEST_F(trace, interrupted_and_flushed)
{
	__u64 wtag = self->tag_base + 5, atag = self->tag_base + 6;
	struct sigaction sa = { .sa_handler = on_sigusr1 };	/* no SA_RESTART */
	struct pendtimer_stats s;
	struct pt_waiter w;
	uint64_t deadline;

	NEED_TRACEFS();

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	self->efd = pt_eventfd();
	ASSERT_LE(0, self->efd);
	ASSERT_EQ(0, pt_waiter_start(&w, self->fd, LONG_NS, wtag, -1));
	pt_waiter_wait_started(&w);
	/* signal only once the WAIT is pending (it shows in STATS) */
	deadline = pt_now_ns() + JOIN_MS * NSEC_PER_MSEC;
	do {
		ASSERT_EQ(0, pt_stats(self->fd, &s));
		if (s.pending)
			break;
		pt_sleep_ms(1);
	} while (pt_now_ns() < deadline);
	ASSERT_EQ(1ULL, s.pending);
	ASSERT_EQ(0, pthread_kill(w.th, SIGUSR1));
	ASSERT_EQ(0, pt_join_ms(w.th, JOIN_MS));
	ASSERT_EQ(-EINTR, w.ret);

	ASSERT_EQ(0, pt_arm(self->fd, LONG_NS, atag, self->efd));
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	EXPECT_EQ(0, pt_eventfd_take(self->efd));
	ASSERT_LE(0, collect(_metadata, self));
	EXPECT_EVENTS(0, wtag, "wait", "interrupted", false);
	EXPECT_EVENTS(0, atag, "arm", "flushed", false);
}

/* del_device completes a pending ARM as removed; dev= names the device. */
TEST_F(trace, removed_names_its_device)
{
	__u64 tag = self->tag_base + 7;
	char id[16], dev[64];
	uint64_t deadline;
	int id_try, ret = -EEXIST, fd;

	NEED_TRACEFS();

	if (!pt_path_exists(PT_SYSBUS "/new_device"))
		SKIP(return, PT_SYSBUS "/new_device is missing");
	/* a free ID of our own: the other tests use pendtimer0 */
	for (id_try = 0; id_try < 64 && ret == -EEXIST; id_try++) {
		self->bus_id = 700 + (getpid() + id_try) % 200;
		snprintf(id, sizeof(id), "%d", self->bus_id);
		ret = pt_write_str(PT_SYSBUS "/new_device", id);
	}
	ASSERT_EQ(0, ret) {
		self->bus_id = -1;
		TH_LOG("new_device: %s", strerror(-ret));
	}
	snprintf(dev, sizeof(dev), PT_DEV_FMT, self->bus_id);
	deadline = pt_now_ns() + JOIN_MS * NSEC_PER_MSEC;
	while ((fd = pt_open_id(self->bus_id)) == -ENOENT && pt_now_ns() < deadline)
		pt_sleep_ms(10);
	ASSERT_LE(0, fd) {
		TH_LOG("open %s: %s", dev, strerror(-fd));
	}
	self->efd = pt_eventfd();
	ASSERT_LE(0, self->efd);
	ret = pt_arm(fd, LONG_NS, tag, self->efd);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(0, pt_write_str(PT_SYSBUS "/del_device", id));
	self->bus_id = -1;
	EXPECT_EQ(-ENODEV, pt_cancel(fd, tag));
	close(fd);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(0, pt_eventfd_take(self->efd));
	ASSERT_LE(0, collect(_metadata, self));
	EXPECT_EVENTS(atoi(id), tag, "arm", "removed", false);
}

/* ------------------------------------------------------------------ */
/* issue 13: the race rules in the events */

/* The index of the only event of @type for @tag, asserted. */
static int one_event(struct __test_metadata *_metadata, FIXTURE_DATA(trace) *self,
		     enum ev_type type, __u64 tag)
{
	int i = -1, n;

	find1(self, type, tag, &i, &n);
	ASSERT_EQ(1, n) {
		TH_LOG("tag %llu: %d %s events", (unsigned long long)tag, n,
		       ev_names[type]);
	}
	return i;
}

#define NEED_RULE_EVENTS() do {						\
	size_t __k;							\
	char __p[256];							\
									\
	for (__k = 0; __k < ARRAY_SIZE(rule_events); __k++) {		\
		snprintf(__p, sizeof(__p), "%s/events/pendtimer/%s",	\
			 self->root, rule_events[__k]);			\
		ASSERT_TRUE(pt_path_exists(__p)) {			\
			TH_LOG("no tracepoint %s", rule_events[__k]);	\
		}							\
	}								\
} while (0)

/*
 * race_delay_us = WINDOW_US until the teardown, this thread on the second
 * CPU; returns the first, for the timer, or -1 with one CPU.
 */
static int widen_window(struct __test_metadata *_metadata, FIXTURE_DATA(trace) *self)
{
	int cpu_timer = pt_nth_cpu(0), cpu_main = pt_nth_cpu(1);

	/* both before pinning: then this thread has one CPU */
	if (cpu_timer < 0 || cpu_main < 0)
		return -1;
	ASSERT_EQ(0, pt_param_read("race_delay_us", &self->saved_delay)) {
		self->saved_delay = -1;
	}
	ASSERT_EQ(0, pt_pin_self(cpu_main));
	ASSERT_EQ(0, pt_param_write("race_delay_us", WINDOW_US));
	return cpu_timer;
}

/* The new events exist, with the fields the lead's format names. */
TEST_F(trace, rule_events_have_device_tag_outcome)
{
	static const char *const fields[] = { "field:int dev;", "field:u64 tag;" };
	char *fmt;
	size_t i;

	NEED_TRACEFS();
	NEED_RULE_EVENTS();

	for (i = 0; i < ARRAY_SIZE(rule_events); i++) {
		fmt = format_with(_metadata, self, rule_events[i], fields,
				  ARRAY_SIZE(fields));
		if (!strcmp(rule_events[i], "pendtimer_cleanup_deferred")) {
			EXPECT_NE(NULL, strstr(fmt, "field:int outcome;"));
			EXPECT_NE(NULL, strstr(fmt, "\"flushed\""));
			EXPECT_NE(NULL, strstr(fmt, "\"removed\""));
		}
		EXPECT_EQ(NULL, strstr(strstr(fmt, "print fmt:") ?: "", "PENDTIMER_"));
		free(fmt);
	}
}

/* A rule test's attempts (pt_hit_window()): the racer, the tags' base. */
struct rule_try {
	struct pt_racer r;
	__u64 tag_base;
};

/*
 * A rule test's start, once tracefs is there: the rule events in it, the
 * window widened (widen_window()) for @t's requests; false with one CPU.
 */
static bool rule_setup(struct __test_metadata *_metadata,
		       FIXTURE_DATA(trace) *self, struct rule_try *t)
{
	NEED_RULE_EVENTS();
	t->r.fd = self->fd;
	t->r.cpu_timer = widen_window(_metadata, self);
	return t->r.cpu_timer >= 0;
}

/* Rule 1, one attempt: a hit when the CANCEL claimed and the callback was late. */
static enum outcome rule1_attempt(struct __test_metadata *_metadata,
				  void *ctx, int attempt, unsigned int off)
{
	struct rule_try *t = ctx;
	struct pt_racer *r = &t->r;
	bool hit;

	r->tag = t->tag_base + (__u64)attempt;
	pt_race_cancel(_metadata, r, off);
	hit = r->c == 0 && r->w.ret == -ECANCELED && r->d.race_timer_late == 1;
	TH_LOG("attempt %d at +%u us: CANCEL %d, WAIT %d, timer_late +%llu%s",
	       attempt, off, r->c, r->w.ret, (unsigned long long)r->d.race_timer_late,
	       hit ? ": hit" : "");
	return hit ? HIT : r->c == 0 ? MISS_EARLY : MISS_LATE;
}

/* Rule 2, one attempt: a hit when the WAIT fired and the flush was deferred. */
static enum outcome rule2_attempt(struct __test_metadata *_metadata,
				  void *ctx, int attempt, unsigned int off)
{
	struct rule_try *t = ctx;
	struct pt_racer *r = &t->r;
	bool hit;

	r->tag = t->tag_base + (__u64)attempt;
	pt_race_close(_metadata, r, off);
	hit = r->w.ret == 0 && r->d.race_cleanup_deferred == 1;
	TH_LOG("attempt %d at due+%u us: WAIT %d, cleanup_deferred +%llu%s",
	       attempt, off, r->w.ret, (unsigned long long)r->d.race_cleanup_deferred,
	       hit ? ": hit" : "");
	return hit ? HIT : r->w.ret == -ECANCELED ? MISS_EARLY : MISS_LATE;
}

/* A rule's events: their indexes into self->ev[] (rule_events_in_order()). */
struct rule_events {
	int submit, enter, other, last;
};

/*
 * Collect, then a rule's events for @tag, one of each, in this order: the
 * submit, the callback's timer_enter, the other path's @other (the CANCEL's
 * complete, the flush's cleanup_deferred) and @last (the CANCEL's
 * timer_late, the callback's complete).
 */
static void rule_events_in_order(struct __test_metadata *_metadata,
				 FIXTURE_DATA(trace) *self, __u64 tag,
				 enum ev_type other, enum ev_type last,
				 struct rule_events *ix)
{
	ASSERT_LE(0, collect(_metadata, self));
	ix->submit = one_event(_metadata, self, EV_SUBMIT, tag);
	ix->enter = one_event(_metadata, self, EV_ENTER, tag);
	ix->other = one_event(_metadata, self, other, tag);
	ix->last = one_event(_metadata, self, last, tag);
	EXPECT_LT(ix->submit, ix->enter);
	EXPECT_LT(ix->enter, ix->other);
	EXPECT_LT(ix->other, ix->last);
}

/*
 * Rule 1 (SPEC.md section 3; seed 000 case T2): a CANCEL inside the
 * window claims the WAIT while its callback spins. The events say so in
 * this order: submit, the callback's timer_enter, complete cancelled (the
 * CANCEL claimed), timer_late (the CANCEL saw the callback running).
 */
TEST_F_TIMEOUT(trace, rule1_timer_late_after_the_cancel_claimed, 120)
{
	struct rule_try t = { .tag_base = self->tag_base + 100 };
	struct rule_events ix;	/* other: complete, last: timer_late */

	NEED_TRACEFS();
	if (!rule_setup(_metadata, self, &t))
		SKIP(return, "needs 2 CPUs: the window cannot be entered on one");
	pt_hit_window(_metadata, rule1_attempt, &t, "the cancel");
	rule_events_in_order(_metadata, self, t.r.tag, EV_COMPLETE, EV_LATE, &ix);
	EXPECT_STREQ("cancelled", self->ev[ix.other].outcome);
	EXPECT_STREQ("wait", self->ev[ix.other].kind);
	EXPECT_EQ(0, self->ev[ix.enter].dev);
	EXPECT_EQ(0, self->ev[ix.last].dev);
}

/*
 * Rule 2 (seed 000 case C1): close() inside the window finds the callback
 * running and leaves the WAIT to it. The events: submit, the callback's
 * timer_enter, cleanup_deferred outcome=flushed (the flush deferred),
 * complete fired (the callback claimed).
 */
TEST_F_TIMEOUT(trace, rule2_cleanup_deferred_before_the_callback_claims, 120)
{
	struct rule_try t = { .tag_base = self->tag_base + 200 };
	struct rule_events ix;	/* other: cleanup_deferred, last: complete */

	NEED_TRACEFS();
	if (!rule_setup(_metadata, self, &t))
		SKIP(return, "needs 2 CPUs: the window cannot be entered on one");
	pt_hit_window(_metadata, rule2_attempt, &t, "close()");
	rule_events_in_order(_metadata, self, t.r.tag, EV_DEFERRED, EV_COMPLETE, &ix);
	EXPECT_STREQ("flushed", self->ev[ix.other].outcome);
	EXPECT_STREQ("fired", self->ev[ix.last].outcome);
	EXPECT_STREQ("wait", self->ev[ix.last].kind);
	EXPECT_EQ(0, self->ev[ix.other].dev);
}

PT_HARNESS_MAIN(1)
