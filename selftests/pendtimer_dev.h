/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixture and helpers of the pendtimer device tests, shared by
 * pendtimer_device_test.c (removal: del_device, unbind, one of two devices)
 * and pendtimer_holders_test.c (the remove lock's holders, recreating an
 * ID, bad bus input, root only, rmmod while a file is open): see there for
 * what SPEC.md section 4 asks.
 *
 * STATS of a deleted device cannot be read any more (its fds get -ENODEV,
 * its debugfs directory is gone), so the del_device tests account for every
 * request twice: from what user space submitted and got back, and from the
 * pendtimer:pendtimer_submit / pendtimer_complete tracepoints (a private
 * trace instance filtered on the device), which must show exactly one
 * completion per submission, with the outcome the caller saw. The
 * unbind/bind tests read the kept counters directly.
 *
 * After every test (teardown) every device still existing is quiet:
 * pending == 0 and the invariant holds.
 *
 * Each binary uses part of the helpers: the unused ones are not reported.
 */
#ifndef PENDTIMER_DEV_H
#define PENDTIMER_DEV_H

#include "pendtimer_util.h"

#include <dirent.h>
#include <grp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <liburing.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-const-variable"

#define LONG_NS		(600 * NSEC_PER_SEC)	/* never fires in a test */
#define JOIN_MS		20000
#define DEV_BASE	40	/* the IDs this binary creates: DEV_BASE.. */
#define DEV_RANGE	8
#define KO_DEFAULT	"/pendtimer/pendtimer.ko"
#define TR_INSTANCE	"pendtimer_device_test"
#define NOBODY		65534

/* ------------------------------------------------------------------ */
/* sysfs, bus devices, module */

static const char *ko_path(void)
{
	const char *ko = getenv("PENDTIMER_KO");

	return ko && *ko ? ko : KO_DEFAULT;
}

static int insmod(void)
{
	return pt_insmod(ko_path(), getenv("PT_INSMOD_ARGS"));
}

/* ------------------------------------------------------------------ */
/*
 * Tracepoint accounting: a private trace instance with the pendtimer events
 * filtered on one device; after the test, every request must show exactly
 * one pendtimer_submit and one pendtimer_complete. Tags must be unique on
 * the device for the whole test (the tests make them so).
 */
enum { K_WAIT, K_URING, K_ARM, K_NR };
enum { O_FIRED, O_CANCELLED, O_INTERRUPTED, O_FLUSHED, O_REMOVED, O_NR };
static const char *const kind_names[K_NR] = { "wait", "uring_cmd", "arm" };
static const char *const outcome_names[O_NR] = {
	"fired", "cancelled", "interrupted", "flushed", "removed",
};

struct trec {
	__u64 tag;		/* 0: empty slot */
	unsigned short submits, completes;
	signed char kind, ckind, outcome;
};

struct trace {
	char dir[256];
	bool up;
	char record_cmd;	/* the root's options/record-cmd to put back, or 0 */
	/* results of trace_collect() */
	struct trec *tab;
	size_t mask;
	size_t nrecs;
	unsigned long long lines, in_buffer, written;
	unsigned long long outcomes[O_NR];
	unsigned long long bad;		/* records not exactly 1 submit + 1 complete */
	unsigned long long unparsed;
};

static int tr_write(const struct trace *t, const char *rel, const char *val)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	return pt_write_str(path, val);
}

static const char *tracefs_root(void)
{
	if (pt_path_exists("/sys/kernel/tracing/instances"))
		return "/sys/kernel/tracing";
	if (pt_path_exists("/sys/kernel/debug/tracing/instances"))
		return "/sys/kernel/debug/tracing";
	return NULL;
}

static void tr_destroy(struct trace *t)
{
	if (t->up) {
		tr_write(t, "events/pendtimer/enable", "0");
		rmdir(t->dir);
		t->up = false;
	}
	if (t->record_cmd) {
		pt_trace_record_cmd_restore(tracefs_root(), t->record_cmd);
		t->record_cmd = 0;
	}
	free(t->tab);
	t->tab = NULL;
}

/* Remove an instance left by a test killed by its timeout. */
static void tr_remove_stale(void)
{
	const char *root = tracefs_root();
	char dir[256], path[300];

	if (!root)
		return;
	snprintf(dir, sizeof(dir), "%s/instances/" TR_INSTANCE, root);
	if (!pt_path_exists(dir))
		return;
	snprintf(path, sizeof(path), "%s/events/pendtimer/enable", dir);
	pt_write_str(path, "0");
	rmdir(dir);
}

/* Start recording the pendtimer events of device @id: 0 or -errno. */
static int tr_start(struct trace *t, int id, unsigned int kb_per_cpu)
{
	const char *root = tracefs_root();
	char val[64];
	int ret;

	if (!root)
		return -ENOENT;
	/* record-cmd off while the instance exists: see pt_trace_record_cmd_off() */
	pt_trace_record_cmd_off(root, &t->record_cmd);
	snprintf(t->dir, sizeof(t->dir), "%s/instances/" TR_INSTANCE, root);
	if (mkdir(t->dir, 0755))
		return -errno;
	t->up = true;
	snprintf(val, sizeof(val), "%u", kb_per_cpu);
	ret = tr_write(t, "buffer_size_kb", val);
	if (ret)
		return ret;
	snprintf(val, sizeof(val), "dev == %d", id);
	ret = tr_write(t, "events/pendtimer/pendtimer_submit/filter", val);
	if (!ret)
		ret = tr_write(t, "events/pendtimer/pendtimer_complete/filter", val);
	/* Only the two events parsed here: the others would fill the buffer. */
	if (!ret)
		ret = tr_write(t, "events/pendtimer/pendtimer_submit/enable", "1");
	if (!ret)
		ret = tr_write(t, "events/pendtimer/pendtimer_complete/enable", "1");
	return ret;
}

static int name_index(const char *s, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

static struct trec *tr_slot(struct trace *t, __u64 tag, bool create)
{
	size_t i = (size_t)((tag * 0x9E3779B97F4A7C15ULL) >> 20) & t->mask;

	while (t->tab[i].tag) {
		if (t->tab[i].tag == tag)
			return &t->tab[i];
		i = (i + 1) & t->mask;
	}
	if (!create)
		return NULL;
	t->tab[i].tag = tag;
	t->tab[i].kind = t->tab[i].ckind = t->tab[i].outcome = -1;
	t->nrecs++;
	return &t->tab[i];
}

static const struct trec *tr_find(const struct trace *t, __u64 tag)
{
	return tr_slot((struct trace *)t, tag, false);
}

/* Stop recording and parse the buffer: 0 or -errno. */
static int tr_collect(struct trace *t, size_t max_reqs)
{
	char path[512], *line = NULL;
	size_t cap = 0, i, slots = 1024;
	FILE *f;

	tr_write(t, "events/pendtimer/enable", "0");
	while (slots < max_reqs * 2)
		slots <<= 1;
	t->tab = calloc(slots, sizeof(*t->tab));
	if (!t->tab)
		return -ENOMEM;
	t->mask = slots - 1;
	snprintf(path, sizeof(path), "%s/trace", t->dir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char kind[32] = "", outcome[32] = "", *p;
		unsigned long long tag;
		bool submit;
		struct trec *r;
		int dev, k, o = -1;

		if (line[0] == '#') {
			p = strstr(line, "entries-in-buffer/entries-written:");
			if (p)
				sscanf(p, "entries-in-buffer/entries-written: %llu/%llu",
				       &t->in_buffer, &t->written);
			continue;
		}
		submit = true;
		p = strstr(line, "pendtimer_submit: ");
		if (!p) {
			submit = false;
			p = strstr(line, "pendtimer_complete: ");
		}
		if (!p)
			continue;
		p = strchr(p, ' ') + 1;
		t->lines++;
		if (submit) {
			if (sscanf(p, "dev=%d tag=%llu kind=%31s", &dev, &tag, kind) != 3) {
				t->unparsed++;
				continue;
			}
		} else if (sscanf(p, "dev=%d tag=%llu kind=%31s outcome=%31s",
				  &dev, &tag, kind, outcome) != 4) {
			t->unparsed++;
			continue;
		}
		k = name_index(kind, kind_names, K_NR);
		if (!submit)
			o = name_index(outcome, outcome_names, O_NR);
		if (k < 0 || (!submit && o < 0) || !tag || t->nrecs >= slots / 2) {
			t->unparsed++;
			continue;
		}
		r = tr_slot(t, tag, true);
		if (submit) {
			r->submits++;
			r->kind = (signed char)k;
		} else {
			r->completes++;
			r->ckind = (signed char)k;
			r->outcome = (signed char)o;
			t->outcomes[o]++;
		}
	}
	free(line);
	fclose(f);
	for (i = 0; i <= t->mask; i++) {
		const struct trec *r = &t->tab[i];

		if (r->tag && (r->submits != 1 || r->completes != 1 ||
			       r->kind != r->ckind))
			t->bad++;
	}
	return 0;
}

/* Number of records whose tag lies in [lo, hi). */
static size_t tr_count_range(const struct trace *t, __u64 lo, __u64 hi)
{
	size_t i, n = 0;

	for (i = 0; i <= t->mask; i++)
		if (t->tab[i].tag >= lo && t->tab[i].tag < hi)
			n++;
	return n;
}

#define EXPECT_TRACE_SANE(t) do {					\
	EXPECT_EQ(0ULL, (t)->unparsed);					\
	EXPECT_EQ((t)->written, (t)->in_buffer) {			\
		TH_LOG("trace buffer overwritten: %llu of %llu events kept", \
		       (t)->in_buffer, (t)->written);			\
	}								\
	EXPECT_EQ((t)->lines, (t)->in_buffer);				\
	EXPECT_EQ(0ULL, (t)->bad) {					\
		TH_LOG("%llu requests without exactly one submit and one completion", \
		       (t)->bad);					\
	}								\
} while (0)

/* The request @tag: one submit and one completion, of @kind, with @outcome. */
#define EXPECT_TRACE_REQ(t, tag, k, o) do {				\
	const struct trec *__r = tr_find((t), (tag));			\
									\
	EXPECT_NE(NULL, __r) {						\
		TH_LOG("no trace of request %llu", (unsigned long long)(tag)); \
	}								\
	if (__r) {							\
		EXPECT_EQ(1, __r->submits);				\
		EXPECT_EQ(1, __r->completes);				\
		EXPECT_EQ((k), __r->kind);				\
		EXPECT_EQ((o), __r->outcome) {				\
			TH_LOG("request %llu completed as %s, not %s",	\
			       (unsigned long long)(tag),		\
			       __r->outcome < 0 ? "(none)" :		\
			       outcome_names[__r->outcome],		\
			       outcome_names[(o)]);			\
		}							\
	}								\
} while (0)

/* ------------------------------------------------------------------ */
/*
 * Submitter threads: loop WAIT (even seq) and ARM (odd seq) with short
 * timeouts and unique tags (idx + 1) << 32 | seq, recording every result,
 * until they have had POST_ENODEV more requests refused after the first
 * -ENODEV (or the test gives up).
 */
#define POST_ENODEV	64
#define SUB_CAP		(1U << 18)

struct submitter {
	pthread_t th;
	int idx, fd, efd;
	__u64 wait_ns, arm_ns;
	int stop;			/* atomic: the test thread gives up */
	unsigned int iters;		/* progress, atomic */
	int *res;			/* result of request seq */
	unsigned int n;			/* requests made */
	int first_enodev;		/* seq of the first -ENODEV, or -1 */
	unsigned int bad_after;		/* non--ENODEV results after it */
	unsigned int other;		/* results other than 0 and -ENODEV */
	int last_other;
	bool done;
	bool joined;
};

static __u64 sub_tag(int idx, unsigned int seq)
{
	return ((__u64)(idx + 1) << 32) | seq;
}

static void *submitter_fn(void *arg)
{
	struct submitter *s = arg;
	unsigned int seq;

	for (seq = 0; seq < SUB_CAP; seq++) {
		__u64 tag = sub_tag(s->idx, seq);
		int r;

		if (__atomic_load_n(&s->stop, __ATOMIC_RELAXED))
			break;
		r = (seq & 1) ? pt_arm(s->fd, s->arm_ns, tag, s->efd) :
				pt_wait(s->fd, s->wait_ns, tag);
		s->res[seq] = r;
		s->n = seq + 1;
		__atomic_store_n(&s->iters, seq + 1, __ATOMIC_RELEASE);
		if (r != 0 && r != -ENODEV) {
			s->other++;
			s->last_other = r;
		}
		if (r == -ENODEV) {
			if (s->first_enodev < 0)
				s->first_enodev = (int)seq;
			if (seq - (unsigned int)s->first_enodev >= POST_ENODEV)
				break;
		} else if (s->first_enodev >= 0) {
			s->bad_after++;
		}
	}
	__atomic_store_n(&s->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static int submitter_start(struct submitter *s, int idx, int fd, int efd)
{
	memset(s, 0, sizeof(*s));
	s->idx = idx;
	s->fd = fd;
	s->efd = efd;
	s->wait_ns = 200 * NSEC_PER_USEC;
	s->arm_ns = 20 * NSEC_PER_MSEC;
	s->first_enodev = -1;
	s->res = calloc(SUB_CAP, sizeof(*s->res));
	if (!s->res)
		return -ENOMEM;
	return -pthread_create(&s->th, NULL, submitter_fn, s);
}

static int submitter_join(struct submitter *s)
{
	int ret = pt_join_ms(s->th, JOIN_MS);

	if (!ret)
		s->joined = true;
	return ret;
}

/* Wait until every submitter made @min requests: 0 or -ETIMEDOUT. */
static int submitters_warm(struct submitter *s, int n, unsigned int min,
			   unsigned int timeout_ms)
{
	uint64_t deadline = pt_now_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;
	int i;

	for (i = 0; i < n; i++) {
		while (__atomic_load_n(&s[i].iters, __ATOMIC_ACQUIRE) < min) {
			if (pt_now_ns() > deadline)
				return -ETIMEDOUT;
			pt_sleep_ms(1);
		}
	}
	return 0;
}

/*
 * Check submitter @s against what it saw and against the trace: a WAIT
 * that returned 0 fired; one that returned -ENODEV was removed (traced) or
 * refused (not traced); an accepted ARM fired or was removed, and its
 * eventfd counts exactly the fired ones; a refused ARM left no trace.
 * Returns the number of requests the device accepted (seen in the trace).
 */
static unsigned int submitter_check(struct __test_metadata *_metadata,
				    const struct submitter *s,
				    const struct trace *t,
				    unsigned int *removed)
{
	unsigned int seq, accepted = 0, arm_fired = 0, mismatch = 0;
	int64_t ev;

	EXPECT_TRUE(s->done);
	EXPECT_EQ(0U, s->other) {
		TH_LOG("submitter %d: %u results other than 0/-ENODEV (last %d)",
		       s->idx, s->other, s->last_other);
	}
	EXPECT_LE(0, s->first_enodev) {
		TH_LOG("submitter %d never got -ENODEV in %u requests", s->idx, s->n);
	}
	EXPECT_EQ(0U, s->bad_after) {
		TH_LOG("submitter %d: %u requests accepted after one was refused with -ENODEV",
		       s->idx, s->bad_after);
	}
	for (seq = 0; seq < s->n; seq++) {
		const struct trec *r = tr_find(t, sub_tag(s->idx, seq));
		int want_kind = (seq & 1) ? K_ARM : K_WAIT;
		bool ok;

		if (r) {
			accepted++;
			if (r->outcome == O_REMOVED)
				(*removed)++;
			if ((seq & 1) && r->outcome == O_FIRED)
				arm_fired++;
		}
		if (seq & 1)	/* ARM */
			ok = s->res[seq] == 0 ?
			     r && (r->outcome == O_FIRED || r->outcome == O_REMOVED) :
			     s->res[seq] == -ENODEV && !r;
		else		/* WAIT */
			ok = s->res[seq] == 0 ? r && r->outcome == O_FIRED :
			     s->res[seq] == -ENODEV &&
			     (!r || r->outcome == O_REMOVED);
		if (r && (r->kind != want_kind || r->submits != 1 || r->completes != 1))
			ok = false;
		if (!ok && mismatch++ < 5)
			TH_LOG("submitter %d seq %u (%s): returned %d, trace %s",
			       s->idx, seq, (seq & 1) ? "ARM" : "WAIT", s->res[seq],
			       !r ? "none" : r->outcome < 0 ? "no completion" :
			       outcome_names[r->outcome]);
	}
	EXPECT_EQ(0U, mismatch);
	/* nothing of this submitter in the trace beyond what it made */
	EXPECT_EQ((size_t)accepted,
		  tr_count_range(t, sub_tag(s->idx, 0), sub_tag(s->idx + 1, 0)));
	ev = pt_eventfd_take(s->efd);
	EXPECT_EQ((int64_t)arm_fired, ev) {
		TH_LOG("submitter %d: eventfd %lld, fired ARMs %u", s->idx,
		       (long long)ev, arm_fired);
	}
	return accepted;
}

/* ------------------------------------------------------------------ */
/* other helpers */

/* A WAIT in a named thread that records its tid. */
struct tid_waiter {
	pthread_t th;
	int fd;
	__u64 tag;
	pid_t tid;		/* atomic */
	int ret;
};

static void *tid_waiter_fn(void *arg)
{
	struct tid_waiter *w = arg;

	pthread_setname_np(pthread_self(), "pt-holder");
	__atomic_store_n(&w->tid, gettid(), __ATOMIC_RELEASE);
	w->ret = pt_wait(w->fd, LONG_NS, w->tag);
	return NULL;
}

/* Every ioctl of SPEC.md section 2 on @fd: -ENODEV (count of others). */
static int dead_fd_errors(int fd, char *why, size_t len)
{
	struct pendtimer_stats s;
	int efd = pt_eventfd(), r[4], bad = 0, i;

	r[0] = pt_wait(fd, 0, 0xdead);
	r[1] = pt_arm(fd, 0, 0xdead, efd >= 0 ? efd : 0);
	r[2] = pt_cancel(fd, 0xdead);
	r[3] = pt_stats(fd, &s);
	if (efd >= 0) {
		if (pt_eventfd_take(efd) != 0)
			bad++;
		close(efd);
	}
	for (i = 0; i < 4; i++)
		if (r[i] != -ENODEV)
			bad++;
	snprintf(why, len, "WAIT %d, ARM %d, CANCEL %d, STATS %d", r[0], r[1],
		 r[2], r[3]);
	return bad;
}

#define EXPECT_FD_DEAD(fd) do {						\
	char __why[128];						\
									\
	EXPECT_EQ(0, dead_fd_errors((fd), __why, sizeof(__why))) {	\
		TH_LOG("fd of a removed device: %s (want -ENODEV each)", __why); \
	}								\
} while (0)

/* The devices on the bus: bitmap of IDs < 256 with /dev nodes. */
static void list_devices(unsigned char map[32], int *others)
{
	struct dirent *de;
	DIR *d = opendir(PT_SYSBUS "/devices");

	memset(map, 0, 32);
	*others = 0;
	if (!d)
		return;
	while ((de = readdir(d))) {
		int id;

		if (sscanf(de->d_name, "pendtimer%d", &id) != 1)
			continue;
		if (id >= 0 && id < 256)
			map[id / 8] |= (unsigned char)(1U << (id % 8));
		else
			(*others)++;
	}
	closedir(d);
}

/* After every test: each device still existing is quiet, invariant holds. */
static void expect_all_quiet(struct __test_metadata *_metadata)
{
	struct dirent *de;
	DIR *d = opendir(PT_SYSBUS "/devices");
	int checked = 0;

	EXPECT_NE(NULL, d) {
		TH_LOG("teardown: " PT_SYSBUS "/devices: %s", strerror(errno));
	}
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct pendtimer_stats s;
		char buf[320];
		int id, fd, r;

		if (sscanf(de->d_name, "pendtimer%d", &id) != 1)
			continue;
		if (!pt_bus_dev_bound(id)) {
			TH_LOG("teardown: pendtimer%d is not bound", id);
			continue;
		}
		fd = pt_open_id(id);
		EXPECT_LE(0, fd) {
			TH_LOG("teardown: open pendtimer%d: %s", id, strerror(-fd));
		}
		if (fd < 0)
			continue;
		r = pt_settle(fd, 10000, &s);
		pt_stats_fmt(buf, sizeof(buf), &s);
		EXPECT_EQ(0, r) {
			TH_LOG("teardown: pendtimer%d not quiet: %s", id, buf);
		}
		EXPECT_EQ(0ULL, s.pending);
		EXPECT_TRUE(pt_invariant_ok(&s)) {
			TH_LOG("teardown: pendtimer%d invariant broken: %s", id, buf);
		}
		close(fd);
		checked++;
	}
	closedir(d);
	EXPECT_LE(1, checked) {
		TH_LOG("teardown: no device to check (pendtimer0 gone?)");
	}
}

/* ------------------------------------------------------------------ */

#define MAX_FDS		48
#define MAX_SUBS	8

/*
 * The module parameter track_holders (SPEC.md section 4) reads Y or N.
 * Returns 1, 0 or -errno.
 */
static int track_holders_read(void)
{
	char buf[8] = "";
	ssize_t n;
	int fd;

	fd = open(PT_PARAMS "track_holders", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 1)
		return n < 0 ? -errno : -EIO;
	if (buf[0] != 'Y' && buf[0] != 'N')
		return -EINVAL;
	return buf[0] == 'Y';
}

static int track_holders_write(int on)
{
	return pt_param_write("track_holders", on ? 1 : 0);
}

/*
 * Last resort for a test child killed by its timeout before its teardown
 * put track_holders back: the harness's process restores what it found.
 * Test children end with _exit(), so only the harness's process runs this
 * destructor.
 */
static int track_holders_at_start = -1;

static void __attribute__((constructor)) track_holders_save(void)
{
	if (pt_module_loaded())
		track_holders_at_start = track_holders_read();
}

static void __attribute__((destructor)) track_holders_restore(void)
{
	if (track_holders_at_start >= 0 && pt_module_loaded())
		track_holders_write(track_holders_at_start);
}

/* Switch track_holders on for this test; teardown restores it. */
#define TRACK_HOLDERS_ON() do {						\
	self->saved_track = track_holders_read();			\
	ASSERT_LE(0, self->saved_track);				\
	ASSERT_EQ(0, track_holders_write(1));				\
	ASSERT_EQ(1, track_holders_read());				\
} while (0)

FIXTURE(dev) {
	int fds[MAX_FDS];		/* closed by teardown unless -1 */
	bool made[DEV_RANGE];		/* DEV_BASE + i created: delete it */
	struct io_uring ring;
	bool ring_up;
	long long saved_max_pending;	/* restored by teardown if >= 0 */
	long long saved_race_delay;
	int saved_track;		/* track_holders, restored if >= 0 */
	struct trace tr;
	struct submitter *subs;
	int nsubs;
};

FIXTURE_SETUP(dev)
{
	int i;

	for (i = 0; i < MAX_FDS; i++)
		self->fds[i] = -1;
	self->saved_max_pending = self->saved_race_delay = -1;
	self->saved_track = -1;
	ASSERT_TRUE(pt_module_loaded()) {
		TH_LOG("pendtimer.ko is not loaded");
	}
	ASSERT_TRUE(pt_path_exists(PT_DEV0));
	/* a test killed by its timeout may have left these behind */
	for (i = 0; i < DEV_RANGE; i++)
		if (pt_bus_dev_exists(DEV_BASE + i))
			EXPECT_EQ(0, pt_del_device(DEV_BASE + i));
	tr_remove_stale();
}

FIXTURE_TEARDOWN(dev)
{
	bool all_joined = true;
	int i;

	if (self->saved_race_delay >= 0)
		EXPECT_EQ(0, pt_param_write("race_delay_us", self->saved_race_delay));
	if (self->saved_track >= 0)
		EXPECT_EQ(0, track_holders_write(self->saved_track));
	/* removal ends whatever a failed test left blocked in its devices */
	for (i = 0; i < DEV_RANGE; i++)
		if (self->made[i] && pt_bus_dev_exists(DEV_BASE + i))
			EXPECT_EQ(0, pt_del_device(DEV_BASE + i));
	for (i = 0; i < self->nsubs; i++)
		__atomic_store_n(&self->subs[i].stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < self->nsubs; i++) {
		struct submitter *s = &self->subs[i];

		if (s->joined || submitter_join(s) == 0)
			free(s->res);
		else
			all_joined = false;	/* leave its memory alone */
	}
	if (all_joined)
		free(self->subs);
	if (self->ring_up)
		io_uring_queue_exit(&self->ring);
	for (i = 0; i < MAX_FDS; i++)
		if (self->fds[i] >= 0)
			close(self->fds[i]);
	if (self->saved_max_pending >= 0)
		EXPECT_EQ(0, pt_param_write("max_pending", self->saved_max_pending));
	tr_destroy(&self->tr);
	if (!pt_module_loaded())
		EXPECT_EQ(0, insmod());
	expect_all_quiet(_metadata);
}

/* Keep @fd for teardown; returns it. */
static int keep_fd(FIXTURE_DATA(dev) *self, int fd)
{
	int i;

	for (i = 0; i < MAX_FDS && fd >= 0; i++) {
		if (self->fds[i] < 0) {
			self->fds[i] = fd;
			break;
		}
	}
	return fd;
}

/* close() a kept fd: close's result, 0 or -errno. */
static int close_kept(FIXTURE_DATA(dev) *self, int fd)
{
	int i;

	for (i = 0; i < MAX_FDS; i++)
		if (self->fds[i] == fd)
			self->fds[i] = -1;
	return close(fd) ? -errno : 0;
}

#define OPEN_DEV(id) keep_fd(self, pt_open_id(id))
#define EVENTFD() keep_fd(self, pt_eventfd())

/* Create DEV_BASE + @n and wait for its node. */
#define MAKE_DEV(n) do {						\
	int __r = pt_new_device(DEV_BASE + (n));				\
									\
	ASSERT_EQ(0, __r) {						\
		TH_LOG("new_device %d: %s", DEV_BASE + (n), strerror(-__r)); \
	}								\
	self->made[(n)] = true;						\
	ASSERT_TRUE(pt_wait_dev_node(DEV_BASE + (n), true)) {		\
		TH_LOG("/dev/pendtimer%d did not appear", DEV_BASE + (n)); \
	}								\
} while (0)

#define RING_UP(entries) do {						\
	int __r = io_uring_queue_init((entries), &self->ring, 0);	\
									\
	ASSERT_EQ(0, __r) {						\
		TH_LOG("io_uring_queue_init: %s", strerror(-__r));	\
	}								\
	self->ring_up = true;						\
} while (0)

/* Reap @n CQEs that must all be -ENODEV, user_data in [lo, lo + n). */
#define EXPECT_CQES_ENODEV(n, lo) do {					\
	bool __got[64] = { false };					\
	__u64 __ud, __lo = (lo);					\
	int __i, __res;							\
	bool __ok;							\
									\
	for (__i = 0; __i < (n); __i++) {				\
		ASSERT_EQ(0, pt_reap(&self->ring, JOIN_MS, &__ud, &__res)) { \
			TH_LOG("only %d of %d URING_CMD CQEs arrived", __i, (n)); \
		}							\
		__ok = __ud - __lo < (__u64)(n) && !__got[__ud - __lo];	\
		ASSERT_TRUE(__ok) {					\
			TH_LOG("unexpected or repeated CQE user_data %llu", \
			       (unsigned long long)__ud);		\
		}							\
		__got[__ud - __lo] = true;				\
		EXPECT_EQ(-ENODEV, __res) {				\
			TH_LOG("URING_CMD WAIT %llu: res %d", (unsigned long long)__ud, __res); \
		}							\
	}								\
	/* and exactly one CQE each: nothing more comes */		\
	EXPECT_EQ(-ETIME, pt_reap(&self->ring, 300, &__ud, &__res));	\
} while (0)

/* URING_CMD WAIT and CANCEL on a dead fd: both CQEs -ENODEV. */
#define EXPECT_URING_DEAD(fd) do {					\
	int __res, __i, __w = 1, __c = 1;				\
	__u64 __ud;							\
									\
	ASSERT_EQ(0, pt_submit_wait(&self->ring, (fd), 0, 0xdead, 0xd1)); \
	ASSERT_EQ(0, pt_submit_cancel(&self->ring, (fd), 0xdead, 0xd2)); \
	for (__i = 0; __i < 2; __i++) {					\
		ASSERT_EQ(0, pt_reap(&self->ring, JOIN_MS, &__ud, &__res)); \
		if (__ud == 0xd1)					\
			__w = __res;					\
		else if (__ud == 0xd2)					\
			__c = __res;					\
	}								\
	EXPECT_EQ(-ENODEV, __w);					\
	EXPECT_EQ(-ENODEV, __c);					\
} while (0)

/* Everything of a deleted device is gone: node, bus device, debugfs. */
#define EXPECT_DEV_GONE(id) do {					\
	char __p[64];							\
									\
	pt_dev_node(__p, sizeof(__p), (id));				\
	EXPECT_TRUE(pt_wait_path(__p, false, 3000)) {			\
		TH_LOG("%s still there after removal", __p);		\
	}								\
	EXPECT_EQ(-ENOENT, pt_open_id(id));				\
	EXPECT_FALSE(pt_bus_dev_exists(id));				\
	EXPECT_FALSE(pt_debugfs_dir_exists(id));				\
} while (0)

struct del_job {
	pthread_t th;
	int id;
	int ret;
	uint64_t t0, t1;
};

static void *del_job_fn(void *arg)
{
	struct del_job *j = arg;

	j->t0 = pt_now_ns();
	j->ret = pt_del_device(j->id);
	j->t1 = pt_now_ns();
	return NULL;
}

/* del_device @id from a helper thread, so that a hang fails the test. */
#define DEL_DEVICE_JOINED(j, id_, timeout_ms) do {			\
	(j)->id = (id_);						\
	(j)->ret = 1;							\
	ASSERT_EQ(0, pthread_create(&(j)->th, NULL, del_job_fn, (j)));	\
	ASSERT_EQ(0, pt_join_ms((j)->th, (timeout_ms))) {		\
		TH_LOG("del_device %d did not return in %u ms: a holder never left", \
		       (id_), (unsigned int)(timeout_ms));		\
	}								\
	ASSERT_EQ(0, (j)->ret) {					\
		TH_LOG("del_device %d: %s", (id_), strerror(-(j)->ret)); \
	}								\
} while (0)

#pragma GCC diagnostic pop

#endif /* PENDTIMER_DEV_H */
