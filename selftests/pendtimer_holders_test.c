// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer devices: the remove lock, the bus files and the module, module
 * already loaded (device 0 exists); the fixture: pendtimer_dev.h.
 *
 * SPEC.md section 4, "Devices and the remove lock":
 *  - every entry point enters the remove lock, a WAIT holds it while it
 *    sleeps (threads and io-wq workers); once removal begins entering fails
 *    with -ENODEV;
 *  - debugfs holders lists the holders, the high watermark, the longest hold;
 *  - an ID can be created again while a file of the old device is open;
 *  - rmmod is refused while any file is open (also one of a deleted device).
 * Section 2, "Bad input": new_device ID in use / malformed -EEXIST / -EINVAL,
 * del_device unknown / malformed -ENODEV / -EINVAL. Section 5: the bus files
 * and /dev/pendtimer<ID> are root only.
 */
#include "pendtimer_dev.h"

#include <liburing.h>	/* io_uring: not in the -m32 build (m32.mk) */

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

