// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer devices and the remove lock, module already loaded (device 0
 * exists). Tests create their own devices through /sys/bus/pendtimer and
 * delete them again, also when they fail (fixture teardown).
 *
 * SPEC.md section 4, "Devices and the remove lock":
 *  - new_device / del_device create and remove pendtimer<ID>; unbinding the
 *    driver runs remove too, and STATS are kept across unbind/bind;
 *  - every entry point enters the remove lock, a WAIT holds it while it
 *    sleeps (threads and io-wq workers); once removal begins entering fails
 *    with -ENODEV;
 *  - removal completes every pending request of every open file as
 *    removed (WAIT -ENODEV, URING_CMD CQE -ENODEV, ARM dropped without a
 *    signal; rule 2 of section 3 applies), waits for every holder, and only
 *    then unregisters; open files outlive the device (kref), get -ENODEV
 *    for everything and can still be closed;
 *  - rmmod is refused while any file is open (also one of a deleted device);
 *  - debugfs holders lists the holders, the high watermark, the longest hold.
 * Section 2, "Bad input": new_device ID in use / malformed -EEXIST / -EINVAL,
 * del_device unknown / malformed -ENODEV / -EINVAL, any request after
 * removal began -ENODEV. Section 5: the bus files and /dev/pendtimer<ID>
 * are root only.
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
 */
#include "pendtimer_util.h"

#include <dirent.h>
#include <grp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <liburing.h>

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
	unsigned int accepted = 0, removed = 0;
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
	ASSERT_EQ(0, tr_collect(&self->tr, 1U << 18));
	EXPECT_TRACE_SANE(&self->tr);
	for (i = 0; i < NW; i++)
		EXPECT_TRACE_REQ(&self->tr, 1000 + i, K_WAIT, O_REMOVED);
	for (i = 0; i < NU; i++)
		EXPECT_TRACE_REQ(&self->tr, 2000 + i, K_URING, O_REMOVED);
	for (i = 0; i < NA; i++)
		EXPECT_TRACE_REQ(&self->tr, 3000 + i, K_ARM, O_REMOVED);
	for (i = 0; i < NS; i++)
		accepted += submitter_check(_metadata, &self->subs[i], &self->tr,
					    &removed);
	EXPECT_EQ(self->tr.nrecs, (size_t)(NW + NU + NA + accepted));
	EXPECT_EQ((unsigned long long)(NW + NU + NA + removed),
		  self->tr.outcomes[O_REMOVED]);
	EXPECT_EQ(0ULL, self->tr.outcomes[O_CANCELLED] +
		  self->tr.outcomes[O_INTERRUPTED] + self->tr.outcomes[O_FLUSHED]);
	TH_LOG("trace: %zu requests: %llu fired, %llu removed (%u of the submitters')",
	       self->tr.nrecs, self->tr.outcomes[O_FIRED],
	       self->tr.outcomes[O_REMOVED], removed);

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

		if (w.ret == 0 && d.submitted == 1 && d.fired == 1 &&
		    d.removed == 0 && d.race_cleanup_deferred == 1) {
			what = "hit: removal deferred to the running callback";
			hit = true;
		} else if (w.ret == 0 && d.submitted == 1 && d.fired == 1 &&
			   d.removed == 0 && d.race_cleanup_deferred == 0) {
			what = "late (already claimed by its timer)";
			nlate++;
		} else if (w.ret == -ENODEV && d.submitted == 1 && d.removed == 1 &&
			   d.fired == 0 && d.race_cleanup_deferred == 0) {
			what = "early (timer not yet running)";
			nearly++;
		} else if (w.ret == -ENODEV && d.submitted == 0) {
			what = "early (refused before it was submitted)";
			nearly++;
		} else {
			what = NULL;
		}
		/* removal never claims under a running callback (rule 2) */
		if (d.race_timer_late)
			what = NULL;
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

/* ------------------------------------------------------------------ */

struct holder_line {
	bool found;
	char comm[32];
	long long held_ns;
};

/*
 * Parse debugfs holders of @id: the header values and the holder line of
 * @pid (entry @entry), or else the first one with @entry whose comm starts
 * with @comm_prefix. 0 or -errno.
 */
static int read_holders(int id, pid_t pid, const char *entry,
			const char *comm_prefix, long long hdr[4],
			struct holder_line *hl, char **text)
{
	static const char *const keys[4] = {
		"removing: ", "holders: ", "high_watermark: ", "max_hold_ns: ",
	};
	char path[128], *buf, *line, *save = NULL;
	int i;

	snprintf(path, sizeof(path), PT_DEBUGFS "/pendtimer%d/holders", id);
	buf = pt_read_file(path, NULL);
	if (!buf)
		return -errno;
	if (text)
		*text = strdup(buf);
	memset(hl, 0, sizeof(*hl));
	for (i = 0; i < 4; i++)
		hdr[i] = -1;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char comm[32], e[64], *ep, *hp;
		int p;

		for (i = 0; i < 4; i++)
			if (!strncmp(line, keys[i], strlen(keys[i])))
				hdr[i] = strtoll(line + strlen(keys[i]), NULL, 10);
		if (sscanf(line, "holder: pid %d comm %31s", &p, comm) != 2)
			continue;
		ep = strstr(line, " entry ");
		hp = strstr(line, " held_ns ");
		if (!ep || !hp || hp < ep)
			continue;
		ep += strlen(" entry ");
		snprintf(e, sizeof(e), "%.*s", (int)(hp - ep), ep);
		if (strcmp(e, entry))
			continue;
		if ((pid > 0 && p == pid) ||
		    (pid <= 0 && !strncmp(comm, comm_prefix, strlen(comm_prefix)))) {
			hl->found = true;
			snprintf(hl->comm, sizeof(hl->comm), "%s", comm);
			hl->held_ns = strtoll(hp + strlen(" held_ns "), NULL, 10);
			break;
		}
	}
	free(buf);
	return 0;
}

/*
 * SPEC.md section 4, debug tracking: with track_holders on (switched on for
 * the test, then restored), a WAIT blocked in a thread and a
 * URING_CMD WAIT parked in an io-wq worker, debugfs holders lists both
 * (entry "ioctl" with the thread's pid and name, entry "uring_cmd wait"
 * with an iou-wrk worker), held_ns grows between two reads, the high
 * watermark covers both; when they leave, holders is 0 again and the
 * longest hold is at least what was seen.
 */
TEST_F_TIMEOUT(dev, holders_lists_blocked_wait_and_uring_worker, 120)
{
	const int id = DEV_BASE + 6;
	struct holder_line h1, h2, hu;
	long long hdr[4], hdr2[4];
	struct tid_waiter tw = { .tag = 1, .ret = 1 };
	char *text = NULL;
	pid_t tid = 0;
	uint64_t deadline;
	__u64 ud;
	int fd, res;

	TRACK_HOLDERS_ON();
	MAKE_DEV(6);
	fd = OPEN_DEV(id);
	ASSERT_LE(0, fd);
	RING_UP(8);

	ASSERT_EQ(0, read_holders(id, 0, "ioctl", "", hdr, &h1, NULL));
	EXPECT_EQ(0, hdr[0]);		/* removing */
	EXPECT_EQ(0, hdr[1]);		/* nobody inside */
	EXPECT_LE(0, hdr[2]);
	EXPECT_LE(0, hdr[3]);

	tw.fd = fd;
	ASSERT_EQ(0, pthread_create(&tw.th, NULL, tid_waiter_fn, &tw));
	ASSERT_EQ(0, pt_submit_wait(&self->ring, fd, LONG_NS, 2, 2));
	ASSERT_EQ(0, pt_wait_pending(fd, 2, 20000, NULL));
	deadline = pt_now_ns() + 5 * NSEC_PER_SEC;
	while (!(tid = __atomic_load_n(&tw.tid, __ATOMIC_ACQUIRE)) &&
	       pt_now_ns() < deadline)
		pt_sleep_ms(1);
	ASSERT_NE(0, tid);

	ASSERT_EQ(0, read_holders(id, tid, "ioctl", "", hdr, &h1, &text));
	EXPECT_TRUE(h1.found) {
		TH_LOG("no holder line for pid %d entry ioctl in:\n%s", tid, text);
	}
	EXPECT_STREQ("pt-holder", h1.comm);
	EXPECT_EQ(0, hdr[0]);
	EXPECT_EQ(2, hdr[1]) {
		TH_LOG("holders:\n%s", text);
	}
	EXPECT_LE(2, hdr[2]);
	free(text);
	text = NULL;
	ASSERT_EQ(0, read_holders(id, 0, "uring_cmd wait", "iou-wrk-", hdr, &hu, &text));
	EXPECT_TRUE(hu.found) {
		TH_LOG("no io-wq worker holder with entry \"uring_cmd wait\" in:\n%s", text);
	}
	free(text);
	text = NULL;

	pt_sleep_ms(50);
	ASSERT_EQ(0, read_holders(id, tid, "ioctl", "", hdr2, &h2, NULL));
	ASSERT_TRUE(h2.found);
	EXPECT_LE(h1.held_ns + (long long)(50 * NSEC_PER_MSEC), h2.held_ns) {
		TH_LOG("held_ns %lld then %lld, 50 ms apart", h1.held_ns, h2.held_ns);
	}
	EXPECT_LE(1, hdr2[2]);
	EXPECT_LE(hdr[2], hdr2[2]);

	/* they leave: holders 0, the longest hold covers what we saw */
	ASSERT_EQ(0, pt_cancel(fd, 1));
	ASSERT_EQ(0, pt_join_ms(tw.th, JOIN_MS));
	EXPECT_EQ(-ECANCELED, tw.ret);
	ASSERT_EQ(0, pt_cancel(fd, 2));
	ASSERT_EQ(0, pt_reap(&self->ring, JOIN_MS, &ud, &res));
	EXPECT_EQ(-ECANCELED, res);
	ASSERT_EQ(0, read_holders(id, tid, "ioctl", "", hdr, &h1, NULL));
	EXPECT_FALSE(h1.found);
	EXPECT_EQ(0, hdr[1]);
	EXPECT_LE(2, hdr[2]);
	EXPECT_LE(h2.held_ns, hdr[3]);
}

/* Wait until the WAIT of @tw is in its thread and pending; its tid. */
static pid_t tid_waiter_started(struct tid_waiter *tw, int fd, uint64_t pending)
{
	uint64_t deadline = pt_now_ns() + 5 * NSEC_PER_SEC;
	pid_t tid;

	while (!(tid = __atomic_load_n(&tw->tid, __ATOMIC_ACQUIRE)) &&
	       pt_now_ns() < deadline)
		pt_sleep_ms(1);
	if (pt_wait_pending(fd, pending, 20000, NULL))
		return 0;
	return tid;
}

/* Number of "holder: " lines in @text. */
static int holder_lines(const char *text)
{
	const char *p = text;
	int n = 0;

	while ((p = strstr(p, "holder: ")) != NULL) {
		if (p == text || p[-1] == '\n')
			n++;
		p++;
	}
	return n;
}

/*
 * SPEC.md section 4, debug tracking: with track_holders off (switched off
 * for the test, then restored), the number of holders and the high
 * watermark are shown and no holder is listed; a holder that entered
 * before tracking was switched on is counted but not listed, one that
 * enters after is listed; both leave and holders is 0 again.
 */
TEST_F_TIMEOUT(dev, holders_counted_untracked_and_before_tracking, 120)
{
	const int id = DEV_BASE + 6;
	struct tid_waiter t1 = { .tag = 1, .ret = 1 }, t2 = { .tag = 2, .ret = 1 };
	struct holder_line h;
	long long hdr[4];
	char *text = NULL;
	pid_t tid1, tid2;
	int fd;

	self->saved_track = track_holders_read();
	ASSERT_LE(0, self->saved_track);
	ASSERT_EQ(0, track_holders_write(0));
	ASSERT_EQ(0, track_holders_read());
	MAKE_DEV(6);
	fd = OPEN_DEV(id);
	ASSERT_LE(0, fd);

	t1.fd = fd;
	ASSERT_EQ(0, pthread_create(&t1.th, NULL, tid_waiter_fn, &t1));
	tid1 = tid_waiter_started(&t1, fd, 1);
	ASSERT_NE(0, tid1);
	ASSERT_EQ(0, read_holders(id, tid1, "ioctl", "", hdr, &h, &text));
	EXPECT_EQ(0, hdr[0]);		/* removing */
	EXPECT_EQ(1, hdr[1]) {		/* counted */
		TH_LOG("holders:\n%s", text);
	}
	EXPECT_LE(1, hdr[2]);		/* high watermark */
	EXPECT_EQ(0, hdr[3]);		/* no hold timed on this new device */
	EXPECT_FALSE(h.found);
	EXPECT_EQ(0, holder_lines(text)) {
		TH_LOG("holders:\n%s", text);
	}
	free(text);
	text = NULL;

	/* tracking on: the holder inside stays unlisted, a new one is listed */
	ASSERT_EQ(0, track_holders_write(1));
	ASSERT_EQ(1, track_holders_read());
	t2.fd = fd;
	ASSERT_EQ(0, pthread_create(&t2.th, NULL, tid_waiter_fn, &t2));
	tid2 = tid_waiter_started(&t2, fd, 2);
	ASSERT_NE(0, tid2);
	ASSERT_EQ(0, read_holders(id, tid2, "ioctl", "", hdr, &h, &text));
	EXPECT_EQ(2, hdr[1]) {
		TH_LOG("holders:\n%s", text);
	}
	EXPECT_LE(2, hdr[2]);
	EXPECT_TRUE(h.found) {
		TH_LOG("no holder line for pid %d in:\n%s", tid2, text);
	}
	EXPECT_EQ(1, holder_lines(text)) {
		TH_LOG("holders:\n%s", text);
	}
	free(text);
	text = NULL;
	ASSERT_EQ(0, read_holders(id, tid1, "ioctl", "", hdr, &h, NULL));
	EXPECT_FALSE(h.found);

	/* the unlisted one leaves with tracking on, then the listed one */
	ASSERT_EQ(0, pt_cancel(fd, 1));
	ASSERT_EQ(0, pt_join_ms(t1.th, JOIN_MS));
	EXPECT_EQ(-ECANCELED, t1.ret);
	ASSERT_EQ(0, read_holders(id, tid2, "ioctl", "", hdr, &h, &text));
	EXPECT_EQ(1, hdr[1]);
	EXPECT_TRUE(h.found);
	EXPECT_EQ(1, holder_lines(text));
	free(text);
	text = NULL;
	ASSERT_EQ(0, pt_cancel(fd, 2));
	ASSERT_EQ(0, pt_join_ms(t2.th, JOIN_MS));
	EXPECT_EQ(-ECANCELED, t2.ret);
	ASSERT_EQ(0, read_holders(id, tid2, "ioctl", "", hdr, &h, &text));
	EXPECT_EQ(0, hdr[1]);
	EXPECT_LE(2, hdr[2]);
	EXPECT_LT(0, hdr[3]);		/* the listed hold was timed */
	EXPECT_EQ(0, holder_lines(text));
	free(text);
}

/* ------------------------------------------------------------------ */

/*
 * SPEC.md section 4: a deleted ID can be created again while a file of the
 * old device is still open: the new device is independent (its counters
 * start at 0, it takes the same tags), the old file still gets -ENODEV and
 * closing it touches nothing of the new device.
 */
TEST_F_TIMEOUT(dev, recreate_same_id_while_old_file_open, 120)
{
	const int id = DEV_BASE + 7;
	struct pendtimer_stats s;
	struct pt_waiter w;
	int fd_old, fd_new, efd;
	long long v;

	MAKE_DEV(7);
	fd_old = OPEN_DEV(id);
	efd = EVENTFD();
	ASSERT_LE(0, fd_old);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, pt_arm(fd_old, LONG_NS, 1, efd));
	ASSERT_EQ(0, pt_waiter_start(&w, fd_old, LONG_NS, 2, -1));
	ASSERT_EQ(0, pt_wait_pending(fd_old, 2, 20000, &s));
	EXPECT_EQ(2ULL, s.submitted);

	ASSERT_EQ(0, pt_del_device(id));
	ASSERT_EQ(0, pt_join_ms(w.th, JOIN_MS));
	EXPECT_EQ(-ENODEV, w.ret);
	EXPECT_DEV_GONE(id);

	ASSERT_EQ(0, pt_new_device(id));
	ASSERT_TRUE(pt_wait_dev_node(id, true));
	fd_new = OPEN_DEV(id);
	ASSERT_LE(0, fd_new);
	ASSERT_EQ(0, pt_stats(fd_new, &s));
	EXPECT_EQ(0ULL, s.submitted + s.fired + s.cancelled + s.interrupted +
		  s.flushed + s.removed + s.pending + s.race_timer_late +
		  s.race_cleanup_deferred) {
		TH_LOG("the new device's counters do not start at 0");
	}
	EXPECT_TRUE(pt_reserved_zero(&s));
	EXPECT_FD_DEAD(fd_old);

	/* same tags, new device */
	ASSERT_EQ(0, pt_arm(fd_new, LONG_NS, 1, efd));
	ASSERT_EQ(0, pt_wait(fd_new, 0, 2));
	EXPECT_EQ(0, close_kept(self, fd_old));
	ASSERT_EQ(0, pt_stats(fd_new, &s));
	EXPECT_EQ(2ULL, s.submitted);
	EXPECT_EQ(1ULL, s.fired);
	EXPECT_EQ(1ULL, s.pending);	/* the old file's close took nothing */
	EXPECT_EQ(0ULL, s.flushed + s.removed);
	ASSERT_EQ(0, pt_debugfs_value(id, "stats", "submitted", &v));
	EXPECT_EQ(2, v);
	EXPECT_EQ(0, pt_cancel(fd_new, 1));
	EXPECT_EQ(0, pt_eventfd_take(efd)) {
		TH_LOG("an ARM of the old or the new device signalled");
	}
}

/* ------------------------------------------------------------------ */
/* bus files: bad input and permissions */

/*
 * SPEC.md section 2, bad input: new_device / del_device malformed -EINVAL
 * (nothing created or removed), new_device of an ID in use -EEXIST,
 * del_device of an unknown ID -ENODEV.
 */
TEST_F_TIMEOUT(dev, new_del_device_bad_input_exact_errno, 60)
{
	static const char *const bad[] = {
		"abc\n", "abc", "\n", "-1\n", "-1", "1x\n", "1x",
		"99999999999999999999\n",
	};
	unsigned char before[32], after[32];
	int others_b, others_a, ret;
	const int id = DEV_BASE + 1;
	char idbuf[16];
	size_t i;

	list_devices(before, &others_b);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ret = pt_write_str(PT_NEW_DEVICE, bad[i]);
		EXPECT_EQ(-EINVAL, ret) {
			TH_LOG("new_device \"%s\": %d", bad[i], ret);
		}
		ret = pt_write_str(PT_DEL_DEVICE, bad[i]);
		EXPECT_EQ(-EINVAL, ret) {
			TH_LOG("del_device \"%s\": %d", bad[i], ret);
		}
	}
	list_devices(after, &others_a);
	EXPECT_EQ(0, memcmp(before, after, sizeof(before))) {
		TH_LOG("malformed writes created or removed a device");
	}
	EXPECT_EQ(others_b, others_a);

	/* in use: device 0, and one made here (with and without newline) */
	EXPECT_EQ(-EEXIST, pt_new_device(0));
	ASSERT_TRUE(pt_dev_node_exists(0));
	MAKE_DEV(1);
	EXPECT_EQ(-EEXIST, pt_new_device(id));
	snprintf(idbuf, sizeof(idbuf), "%d", id);
	EXPECT_EQ(-EEXIST, pt_write_str(PT_NEW_DEVICE, idbuf));

	/* unknown */
	EXPECT_EQ(-ENODEV, pt_del_device(DEV_BASE + 2));
	EXPECT_FALSE(pt_bus_dev_exists(DEV_BASE + 2));
	EXPECT_EQ(0, pt_write_str(PT_DEL_DEVICE, idbuf));
	EXPECT_EQ(-ENODEV, pt_del_device(id));
	EXPECT_FALSE(pt_bus_dev_exists(id));
	EXPECT_TRUE(pt_wait_dev_node(id, false));
}

/* Capability sets of this process, from /proc/self/status: all zero? */
static bool caps_all_zero(char *why, size_t len)
{
	static const char *const keys[] = { "CapInh:", "CapPrm:", "CapEff:",
					    "CapBnd:", "CapAmb:" };
	char *buf = pt_read_file("/proc/self/status", NULL), *p;
	bool ok = true;
	size_t i;

	if (!buf) {
		snprintf(why, len, "cannot read /proc/self/status");
		return false;
	}
	why[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		p = strstr(buf, keys[i]);
		if (p && strtoull(p + strlen(keys[i]), NULL, 16)) {
			ok = false;
			snprintf(why + strlen(why), len - strlen(why), "%s not 0 ", keys[i]);
		}
	}
	free(buf);
	return ok;
}

struct unpriv_result {
	int setup;		/* 0 or -errno of the privilege drop */
	int caps_zero;
	int new_dev, del_dev, dev_rw, dev_ro;
	char why[128];
};

/*
 * SPEC.md section 5: new_device / del_device are root only (0200) and
 * /dev/pendtimer<ID> is 0600: a forked child that drops every capability
 * and becomes uid/gid 65534 gets -EACCES opening any of them.
 */
TEST_F_TIMEOUT(dev, bus_files_and_node_refuse_non_root, 60)
{
	struct unpriv_result *r;
	struct stat st;
	int status;
	pid_t pid;

	ASSERT_EQ(0, stat(PT_NEW_DEVICE, &st));
	EXPECT_EQ(0200U, st.st_mode & 07777);
	EXPECT_EQ(0U, st.st_uid);
	ASSERT_EQ(0, stat(PT_DEL_DEVICE, &st));
	EXPECT_EQ(0200U, st.st_mode & 07777);
	EXPECT_EQ(0U, st.st_uid);
	ASSERT_EQ(0, stat(PT_DEV0, &st));
	EXPECT_EQ(0600U, st.st_mode & 07777);
	EXPECT_EQ(0U, st.st_uid);

	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r);
	memset(r, 0, sizeof(*r));
	r->setup = 1;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		long last = 40;
		char *s = pt_read_file("/proc/sys/kernel/cap_last_cap", NULL);
		int fd;
		long c;

		if (s) {
			last = strtol(s, NULL, 10);
			free(s);
		}
		for (c = 0; c <= last; c++)
			prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
		prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
		if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY)) {
			r->setup = -errno;
			_exit(1);
		}
		r->setup = 0;
		r->caps_zero = caps_all_zero(r->why, sizeof(r->why));
		fd = open(PT_NEW_DEVICE, O_WRONLY | O_CLOEXEC);
		r->new_dev = fd < 0 ? -errno : 0;
		fd = open(PT_DEL_DEVICE, O_WRONLY | O_CLOEXEC);
		r->del_dev = fd < 0 ? -errno : 0;
		fd = open(PT_DEV0, O_RDWR | O_CLOEXEC);
		r->dev_rw = fd < 0 ? -errno : 0;
		fd = open(PT_DEV0, O_RDONLY | O_CLOEXEC);
		r->dev_ro = fd < 0 ? -errno : 0;
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, r->setup) {
		TH_LOG("dropping privileges: %s", strerror(-r->setup));
	}
	ASSERT_TRUE(r->caps_zero) {
		TH_LOG("the child kept capabilities: %s", r->why);
	}
	EXPECT_EQ(-EACCES, r->new_dev);
	EXPECT_EQ(-EACCES, r->del_dev);
	EXPECT_EQ(-EACCES, r->dev_rw);
	EXPECT_EQ(-EACCES, r->dev_ro);
	munmap(r, sizeof(*r));
}

/* ------------------------------------------------------------------ */
/* rmmod (last: it reloads the module) */

/* kmemleak report lines mentioning pendtimer (module code or our comm). */
static int kmemleak_ours(char *first, size_t len)
{
	char *buf, *line, *save = NULL;
	int n;

	n = pt_write_str("/sys/kernel/debug/kmemleak", "scan");
	if (n)
		return n;
	buf = pt_read_file("/sys/kernel/debug/kmemleak", NULL);
	if (!buf)
		return -errno;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strstr(line, "pendtimer"))
			continue;
		if (!n)
			snprintf(first, len, "%s", line);
		n++;
	}
	free(buf);
	return n;
}

static bool debug_lane(void)
{
	const char *lane = getenv("LANE");

	return lane && (!strcmp(lane, "debug") || !strcmp(lane, "debug-latest"));
}

/*
 * SPEC.md section 4: rmmod is refused while any file is open (the file
 * pins the module), also a file of a device already deleted; after the
 * last close it succeeds and removes every device, the created ones too.
 * The module is loaded again for the tests after this one. In the debug
 * lane, kmemleak then finds nothing of ours.
 */
TEST_F_TIMEOUT(dev, rmmod_refused_while_file_open_then_succeeds, 180)
{
	const int idx = DEV_BASE + 2, idz = DEV_BASE + 3;
	bool debug = debug_lane();
	struct pendtimer_stats s;
	uint64_t deadline;
	int fd0, fdx, efd, ret, tries = 0, n;
	char leak[256];

	if (debug) {
		ASSERT_TRUE(pt_path_exists("/sys/kernel/debug/kmemleak")) {
			TH_LOG("debug lane without kmemleak");
		}
	}
	ASSERT_TRUE(pt_path_exists(ko_path())) {
		TH_LOG("%s missing: cannot reload the module (set PENDTIMER_KO)",
		       ko_path());
	}
	MAKE_DEV(2);
	fd0 = OPEN_DEV(0);
	fdx = OPEN_DEV(idx);
	efd = EVENTFD();
	ASSERT_LE(0, fd0);
	ASSERT_LE(0, fdx);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, pt_arm(fdx, LONG_NS, 1, efd));

	/* delete_module(2) says EWOULDBLOCK (EAGAIN) for a module in use */
	EXPECT_EQ(-EWOULDBLOCK, pt_rmmod_once());
	ASSERT_TRUE(pt_module_loaded());
	EXPECT_EQ(0, pt_wait(fd0, 0, 1));
	EXPECT_EQ(0, close_kept(self, fd0));
	EXPECT_EQ(-EWOULDBLOCK, pt_rmmod_once());

	/* a file of a deleted device still pins the module */
	ASSERT_EQ(0, pt_del_device(idx));
	EXPECT_FD_DEAD(fdx);
	EXPECT_EQ(0, pt_eventfd_take(efd));
	EXPECT_EQ(-EWOULDBLOCK, pt_rmmod_once());
	ASSERT_TRUE(pt_module_loaded());
	EXPECT_EQ(0, close_kept(self, fdx));

	/* a created device without files goes with the module */
	MAKE_DEV(3);

	if (debug) {
		pt_sleep_ms(6000);	/* kmemleak reports objects older than 5 s */
		n = kmemleak_ours(leak, sizeof(leak));
		EXPECT_EQ(0, n) {
			TH_LOG("kmemleak before rmmod: %d lines, first: %s", n, leak);
		}
		TH_LOG("kmemleak scan before rmmod: %d report lines mention pendtimer", n);
	}

	deadline = pt_now_ns() + 5 * NSEC_PER_SEC;
	while ((ret = pt_rmmod_once()) == -EWOULDBLOCK && pt_now_ns() < deadline) {
		tries++;
		pt_sleep_ms(10);
	}
	ASSERT_EQ(0, ret) {
		TH_LOG("rmmod after the last close: %s", strerror(-ret));
	}
	if (tries)
		TH_LOG("rmmod needed %d retries after the last close", tries);
	EXPECT_FALSE(pt_module_loaded());
	EXPECT_TRUE(pt_wait_path(PT_DEV0, false, 3000));
	EXPECT_FALSE(pt_dev_node_exists(idz));
	EXPECT_FALSE(pt_path_exists(PT_SYSBUS));
	EXPECT_FALSE(pt_path_exists(PT_DEBUGFS));
	self->made[2] = self->made[3] = false;

	if (debug) {
		pt_sleep_ms(6000);
		n = kmemleak_ours(leak, sizeof(leak));
		EXPECT_EQ(0, n) {
			TH_LOG("kmemleak after rmmod: %d lines, first: %s", n, leak);
		}
		TH_LOG("kmemleak scan after rmmod: %d report lines mention pendtimer", n);
	}

	ret = insmod();
	ASSERT_EQ(0, ret) {
		TH_LOG("insmod %s: %s", ko_path(), strerror(-ret));
	}
	ASSERT_TRUE(pt_wait_path(PT_DEV0, true, 3000));
	EXPECT_FALSE(pt_dev_node_exists(idz));
	fd0 = OPEN_DEV(0);
	ASSERT_LE(0, fd0);
	ASSERT_EQ(0, pt_stats(fd0, &s));
	EXPECT_EQ(0ULL, s.submitted);	/* a fresh module, fresh devices */
}

PT_HARNESS_MAIN(1)
