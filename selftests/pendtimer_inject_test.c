// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer allocation-failure injection, module already loaded; the debug
 * lane (CONFIG_FAIL_FUNCTION, CONFIG_FAILSLAB, debugfs). Elsewhere every
 * test skips.
 *
 * SPEC.md section 2, "Bad input": each failing operation gets a clean
 * error and "nothing is lost or leaked"; section 5: request memory comes
 * from the pendtimer_req cache. The issue asks for every allocation site,
 * one at a time and at random:
 *  - fail_function on each ALLOW_ERROR_INJECTION point: pendtimer_req_alloc
 *    (ARM returns -ENOMEM and nothing is submitted; WAIT and io_uring WAIT
 *    keep their request on the waiter's stack and are accepted),
 *    pendtimer_evbind_alloc (an ARM that needs a new eventfd binding returns
 *    -ENOMEM, one that reuses a binding is accepted), pendtimer_eventfd_get
 *    (ARM returns the injected errno), pendtimer_file_init (open returns the
 *    injected errno, the device can still be removed) and
 *    pendtimer_set_grow_prepare (harmless: the pending set does not grow,
 *    every request is still found by CANCEL);
 *  - failslab, one site at a time: /proc/thread-self/fail-nth fails the
 *    N-th allocation of one system call, for N = 1, 2, ... until the call
 *    makes no N-th allocation: open, WAIT, ARM (new and reused binding),
 *    CANCEL, STATS, close, io_uring WAIT and CANCEL, new_device (with the
 *    probe), del_device, unbind and bind;
 *  - failslab at random (probability, task filter, make-it-fail) under a
 *    sequential mix of operations whose every accepted request is known.
 * After each failure the device is checked: quiet, the invariant
 * submitted == fired + cancelled + interrupted + flushed + removed +
 * pending, the counters moved by exactly what succeeded, the remove lock
 * idle. At the end no pendtimer_req object is in use and kmemleak reports
 * nothing allocated by these tests or by the module.
 *
 * Fault injection is set quiet (verbose 0: no stack dumps in the log) and
 * put back after every test.
 */
#include "pendtimer_util.h"

#include <dirent.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <liburing.h>

#define FF	"/sys/kernel/debug/fail_function/"
#define FS	"/sys/kernel/debug/failslab/"
#define KMEMLEAK "/sys/kernel/debug/kmemleak"
#define SLABDIR	"/sys/kernel/slab/pendtimer_req/"
#define INJ_ID	8		/* a device of this test's own */
/* Requests that must not fire while the test runs, however slow the guest. */
#define LONG_NS	(600 * NSEC_PER_SEC)

/* ------------------------------------------------------------------ */
/* debugfs knobs */

static bool have_fail_function(void)
{
	return pt_path_exists(FF "inject") && pt_path_exists(FS "probability");
}

static void ff_clear(void);
static bool ff_probe_is_ftrace(const char *fn);

/* Inject into @fn: @retval, @times failures (-1: every call). */
static int ff_inject(const char *fn, long retval, int times)
{
	char path[256];
	int ret;

	ret = pt_write_str(FF "inject", fn);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), FF "%s/retval", fn);
	ret = pt_write_fmt(path, "%#lx", (unsigned long)retval);
	if (ret)
		return ret;
	if (pt_write_str(FF "probability", "100") || pt_write_str(FF "interval", "1") ||
	    pt_write_fmt(FF "times", "%d", times) || pt_write_str(FF "space", "0") ||
	    pt_write_str(FF "verbose", "0") || pt_write_str(FF "task-filter", "N"))
		return -EIO;
	if (!ff_probe_is_ftrace(fn)) {
		ff_clear();
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Inject, or skip the test on kernels whose kprobes use int3 (see above). */
#define FF_INJECT(_fn, _retval, _times) do {					\
	int __r = ff_inject((_fn), (_retval), (_times));			\
										\
	if (__r == -EOPNOTSUPP)							\
		SKIP(return, "fail_function through int3 here (no KPROBES_ON_FTRACE): " \
		     "lockdep would report should_fail_ex() taking base_crng.lock in NMI context"); \
	ASSERT_EQ(0, __r);							\
} while (0)

static void ff_clear(void)
{
	pt_write_str(FF "inject", "\n");
	pt_write_str(FF "probability", "0");
}

/*
 * fail_function needs kprobes that go through ftrace (KPROBES_ON_FTRACE):
 * through an int3 breakpoint its handler runs in NMI context, where 6.1's
 * should_fail_ex() -> get_random_u8() takes base_crng.lock and lockdep
 * reports an inconsistent lock state (a kernel report that is not the
 * module's). Returns true when the probe just registered on @fn is an
 * ftrace one, or when that cannot be told.
 */
static bool ff_probe_is_ftrace(const char *fn)
{
	char buf[8192], *line, *sv;
	int fd = open("/sys/kernel/debug/kprobes/list", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &sv); line; line = strtok_r(NULL, "\n", &sv))
		if (strstr(line, fn))
			return strstr(line, "[FTRACE]") != NULL;
	return true;
}

static void failslab_quiet(void)
{
	pt_write_str(FS "probability", "0");
	pt_write_str(FS "verbose", "0");
	pt_write_str(FS "ignore-gfp-wait", "N");
	pt_write_str(FS "cache-filter", "N");
	pt_write_str(FS "times", "-1");
	pt_write_str(FS "interval", "1");
	pt_write_str(FS "space", "0");
}

/*
 * Put failslab back. This thread may still be failing a share of its slab
 * allocations, and every write here opens a file (struct file, the
 * attribute's buffer): make-it-fail goes first, retried until it gets
 * through, so that the writes after it cannot fail. Writing probability
 * first, unchecked, once left it at 10 % after a failed open, and the
 * test's next reads got -ENOMEM. Returns 0, or the first error.
 */
static int failslab_restore(void)
{
	int ret, i;

	for (i = 0; i < 1000; i++) {
		ret = pt_write_str("/proc/thread-self/make-it-fail", "0");
		if (ret != -ENOMEM && ret != -ENFILE)
			break;
	}
	if (!ret)
		ret = pt_write_str(FS "probability", "0");
	if (!ret)
		ret = pt_write_str(FS "task-filter", "N");
	if (!ret)
		ret = pt_write_str(FS "ignore-gfp-wait", "Y");
	if (!ret)
		ret = pt_write_str("/proc/thread-self/fail-nth", "0");
	return ret;
}

/* fail-nth of this thread: arm it, read what is left */
static int nth_fd = -1;

static void nth_open(void)
{
	if (nth_fd < 0)
		nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
}

static void nth_arm(int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", n);

	if (pwrite(nth_fd, buf, (size_t)len, 0) != len)
		perror("fail-nth");
}

/* 0: the armed failure happened; > 0: the call made fewer allocations */
static int nth_left(void)
{
	char buf[16] = "";
	ssize_t n = pread(nth_fd, buf, sizeof(buf) - 1, 0);
	int left = n > 0 ? atoi(buf) : -1;

	nth_arm(0);
	return left;
}

/* ------------------------------------------------------------------ */
/* device helpers */

/* Device @id opens and a WAIT on it fires. */
static void expect_dev_works(struct __test_metadata *_metadata, int id)
{
	int fd = pt_open_id(id);

	EXPECT_LE(0, fd);
	if (fd >= 0) {
		EXPECT_EQ(0, pt_wait(fd, 0, 1));
		close(fd);
	}
}

/* quiet stats of device @id via a fresh descriptor (no fault injection) */
static int quiet_stats(int id, struct pendtimer_stats *st)
{
	int fd = pt_open_id(id), ret;

	if (fd < 0)
		return fd;
	ret = pt_settle(fd, 20000, st);
	close(fd);
	return ret;
}

/* "holders: 0" and "removing: 0" */
static bool rlock_idle(int id, char *buf, size_t len)
{
	char path[128];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), PT_DEBUGFS "/pendtimer%d/holders", id);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(buf, len, "open %s: %s", path, strerror(errno));
		return false;
	}
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, "holders: 0\n") && strstr(buf, "removing: 0\n");
}

/*
 * One URING_CMD and its CQE. A submission that failed under failslab
 * (-EAGAIN, -ENOMEM: the SQE stays queued) is counted in *sub_failed and
 * retried with injection off for this thread, so that every SQE has its CQE.
 */
static int uring_one_ex(struct io_uring *ring, int fd, __u32 op, const void *cmd,
			size_t len, int *sub_failed)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int ret;

	if (!sqe)
		return -EBUSY;
	pt_prep_cmd(sqe, fd, op, cmd, len, 7);
	ret = io_uring_submit(ring);
	if (ret < 1 && sub_failed) {
		if (ret != -EAGAIN && ret != -ENOMEM && ret != 0)
			return ret;
		(*sub_failed)++;
		pt_write_str("/proc/thread-self/make-it-fail", "0");
		while ((ret = io_uring_submit(ring)) == 0)
			;
		pt_write_str("/proc/thread-self/make-it-fail", "1");
	}
	if (ret != 1)
		return ret < 0 ? ret : -EIO;
	ret = io_uring_wait_cqe(ring, &cqe);
	if (ret)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

static int uring_one(struct io_uring *ring, int fd, __u32 op, const void *cmd, size_t len)
{
	return uring_one_ex(ring, fd, op, cmd, len, NULL);
}

/* 6.1's harness runs the test body after a SKIP() in the fixture setup */
#define NEED_FI() do {							\
	if (!have_fail_function())					\
		SKIP(return, "no fail_function/failslab in debugfs (not the debug lane)"); \
} while (0)

/* ------------------------------------------------------------------ */

FIXTURE(inject) {
	int fd;
	int efd;
	struct pendtimer_stats before;
};

FIXTURE_SETUP(inject)
{
	self->fd = self->efd = -1;
	if (!have_fail_function())
		SKIP(return, "no fail_function/failslab in debugfs (not the debug lane)");
	ASSERT_TRUE(pt_module_loaded());
	failslab_quiet();
	nth_open();
	ASSERT_LE(0, nth_fd) TH_LOG("/proc/thread-self/fail-nth: %s", strerror(errno));
	self->fd = pt_open();
	ASSERT_LE(0, self->fd);
	self->efd = pt_eventfd();
	ASSERT_LE(0, self->efd);
	ASSERT_EQ(0, pt_settle(self->fd, 20000, &self->before));
}

FIXTURE_TEARDOWN(inject)
{
	char buf[512];

	if (!have_fail_function())
		return;
	ff_clear();
	failslab_restore();
	if (self->fd >= 0)
		close(self->fd);
	if (self->efd >= 0)
		close(self->efd);
	if (pt_bus_dev_exists(INJ_ID))
		pt_del_device(INJ_ID);
	PT_EXPECT_QUIET(20000);
	EXPECT_TRUE(rlock_idle(0, buf, sizeof(buf))) TH_LOG("pendtimer0: %s", buf);
}

/* the counters moved by exactly @sub submitted, @fired, @cancelled, @flushed */
#define EXPECT_MOVED(_id, _before, _sub, _fired, _canc, _flushed) do {		\
	struct pendtimer_stats __a;						\
	char __b[320];								\
										\
	ASSERT_EQ(0, quiet_stats((_id), &__a));					\
	pt_stats_fmt(__b, sizeof(__b), &__a);					\
	EXPECT_EQ((__u64)(_sub), __a.submitted - (_before)->submitted) TH_LOG("%s", __b); \
	EXPECT_EQ((__u64)(_fired), __a.fired - (_before)->fired) TH_LOG("%s", __b); \
	EXPECT_EQ((__u64)(_canc), __a.cancelled - (_before)->cancelled) TH_LOG("%s", __b); \
	EXPECT_EQ((__u64)(_flushed), __a.flushed - (_before)->flushed) TH_LOG("%s", __b); \
	EXPECT_EQ(0ULL, __a.pending);						\
	EXPECT_TRUE(pt_invariant_ok(&__a)) TH_LOG("%s", __b);			\
} while (0)

/*
 * pendtimer_req_alloc fails: ARM returns -ENOMEM, nothing is submitted, the
 * eventfd is untouched, the remove lock is idle. WAIT and io_uring WAIT do
 * not allocate (their request lives on the waiter's stack): they are
 * accepted and fire.
 */
TEST_F(inject, req_alloc_fails_arm_only)
{
	struct io_uring ring;
	struct pendtimer_wait w = { .timeout_ns = 0, .tag = 1 };
	char buf[512];

	NEED_FI();
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, 0));
	FF_INJECT("pendtimer_req_alloc", 0, -1);
	EXPECT_EQ(-ENOMEM, pt_arm(self->fd, 0, 2, self->efd));
	EXPECT_EQ(-ENOMEM, pt_arm(self->fd, LONG_NS, 3, self->efd));
	EXPECT_EQ(0, pt_wait(self->fd, 0, 1));
	EXPECT_EQ(0, uring_one(&ring, self->fd, PENDTIMER_IOC_WAIT, &w, sizeof(w)));
	ff_clear();
	pt_sleep_ms(20);
	EXPECT_EQ(0, pt_eventfd_take(self->efd));
	EXPECT_MOVED(0, &self->before, 2, 2, 0, 0);
	EXPECT_TRUE(rlock_idle(0, buf, sizeof(buf))) TH_LOG("%s", buf);
	/* and ARM works again: the same tags */
	EXPECT_EQ(0, pt_arm(self->fd, 0, 2, self->efd));
	EXPECT_EQ(0, pt_arm(self->fd, 0, 3, self->efd));
	io_uring_queue_exit(&ring);
	EXPECT_MOVED(0, &self->before, 4, 4, 0, 0);
	EXPECT_EQ(2, pt_eventfd_take(self->efd));
}

/*
 * pendtimer_evbind_alloc fails: an ARM that reuses its owner's binding of
 * the eventfd is accepted, one that needs a new binding (another eventfd,
 * or the same eventfd from another owner) returns -ENOMEM.
 */
TEST_F(inject, evbind_alloc_only_new_bindings_fail)
{
	int efd2 = pt_eventfd(), status;
	pid_t pid;

	NEED_FI();
	ASSERT_LE(0, efd2);
	ASSERT_EQ(0, pt_arm(self->fd, LONG_NS, 10, self->efd));
	FF_INJECT("pendtimer_evbind_alloc", 0, -1);
	EXPECT_EQ(0, pt_arm(self->fd, LONG_NS, 11, self->efd));
	EXPECT_EQ(-ENOMEM, pt_arm(self->fd, LONG_NS, 12, efd2));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)	/* another owner (files_struct): a new binding */
		_exit(pt_arm(self->fd, LONG_NS, 13, self->efd) == -ENOMEM ? 0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ff_clear();
	EXPECT_EQ(0, pt_cancel(self->fd, 10));
	EXPECT_EQ(0, pt_cancel(self->fd, 11));
	EXPECT_EQ(-ENOENT, pt_cancel(self->fd, 12));
	EXPECT_EQ(-ENOENT, pt_cancel(self->fd, 13));
	/* the binding went with its last request; a new one can be made */
	EXPECT_EQ(0, pt_arm(self->fd, 0, 14, efd2));
	pt_sleep_ms(20);
	EXPECT_MOVED(0, &self->before, 3, 1, 2, 0);
	EXPECT_EQ(0, pt_eventfd_take(self->efd));
	EXPECT_EQ(1, pt_eventfd_take(efd2));
	close(efd2);
}

/* pendtimer_eventfd_get fails: ARM returns that errno, nothing submitted */
TEST_F(inject, eventfd_get_errno_passes_through)
{
	static const int errs[] = { ENOMEM, EBADF, EINVAL };
	unsigned int i;

	NEED_FI();
	for (i = 0; i < 3; i++) {
		FF_INJECT("pendtimer_eventfd_get", -errs[i], -1);
		EXPECT_EQ(-errs[i], pt_arm(self->fd, 0, 20 + i, self->efd));
		ff_clear();
	}
	EXPECT_MOVED(0, &self->before, 0, 0, 0, 0);
	EXPECT_EQ(0, pt_eventfd_take(self->efd));
}

/*
 * pendtimer_file_init fails: open returns the errno, and leaves nothing
 * behind: the remove lock is idle and the device can be removed at once.
 */
TEST_F(inject, file_init_open_fails_cleanly)
{
	char buf[512];
	int i;

	NEED_FI();
	if (!pt_bus_dev_exists(INJ_ID))
		ASSERT_EQ(0, pt_new_device(INJ_ID));
	ASSERT_TRUE(pt_bus_dev_bound(INJ_ID));
	FF_INJECT("pendtimer_file_init", -ENOMEM, -1);
	for (i = 0; i < 5; i++)
		EXPECT_EQ(-ENOMEM, pt_open_id(INJ_ID));
	ff_clear();
	EXPECT_TRUE(rlock_idle(INJ_ID, buf, sizeof(buf))) TH_LOG("%s", buf);
	expect_dev_works(_metadata, INJ_ID);
	EXPECT_EQ(0, pt_del_device(INJ_ID));
	EXPECT_FALSE(pt_bus_dev_exists(INJ_ID));
}

/*
 * pendtimer_set_grow_prepare fails: the set does not grow, nothing else
 * changes: 300 requests on one file, each found by CANCEL, duplicates
 * refused; then it grows with 300 more.
 */
TEST_F(inject, set_grow_fails_harmlessly)
{
	int i;

	NEED_FI();
	FF_INJECT("pendtimer_set_grow_prepare", 0, -1);
	for (i = 0; i < 300; i++)
		ASSERT_EQ(0, pt_arm(self->fd, LONG_NS, 1000 + i, self->efd));
	EXPECT_EQ(-EEXIST, pt_arm(self->fd, LONG_NS, 1000, self->efd));
	EXPECT_EQ(-EEXIST, pt_wait(self->fd, 0, 1299));
	ff_clear();
	for (i = 300; i < 600; i++)
		ASSERT_EQ(0, pt_arm(self->fd, LONG_NS, 1000 + i, self->efd));
	for (i = 599; i >= 0; i--)
		EXPECT_EQ(0, pt_cancel(self->fd, 1000 + i));
	EXPECT_EQ(-ENOENT, pt_cancel(self->fd, 1000));
	EXPECT_MOVED(0, &self->before, 600, 0, 600, 0);
}

/* ------------------------------------------------------------------ */
/* failslab, every site of every operation, one at a time (fail-nth) */

enum {
	S_OPEN, S_WAIT, S_ARM_NEW, S_ARM_REUSE, S_CANCEL, S_STATS, S_CLOSE,
	S_UWAIT, S_UCANCEL, S_NEWDEV, S_DELDEV, S_UNBIND, S_BIND, S_NR
};
static const char *const s_name[S_NR] = {
	"open", "WAIT", "ARM (new binding)", "ARM (reused binding)", "CANCEL",
	"STATS", "close", "io_uring WAIT", "io_uring CANCEL", "new_device",
	"del_device", "unbind", "bind",
};

struct nth_ctx {
	int fd, efd, efd2;
	struct io_uring ring;
	int ring_up;
	int accepted, fired, cancelled, flushed;	/* what succeeded */
};

/*
 * One operation with fail-nth = @n armed around its system call only.
 * Returns the result; *left is what fail-nth had left (0: injected).
 */
/* S_UWAIT, S_UCANCEL: one URING_CMD through c->ring (see nth_op()). */
static int nth_uring_op(struct nth_ctx *c, int op, int n, int *left, uint64_t tag)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int ret;

	if (op == S_UCANCEL) {
		/* a pending request to cancel */
		if (pt_arm(c->fd, LONG_NS, tag, c->efd))
			return -EIO;
		c->accepted++;
	}
	sqe = io_uring_get_sqe(&c->ring);
	if (op == S_UWAIT)
		pt_prep_wait(sqe, c->fd, 0, tag, 1);
	else
		pt_prep_cancel(sqe, c->fd, tag, 1);
	nth_arm(n);
	ret = io_uring_submit(&c->ring);
	*left = nth_left();
	if (ret < 1) {
		/* a clean failure of the submission: the SQE is still queued */
		int sret = ret;

		while ((ret = io_uring_submit(&c->ring)) == 0)
			;
		if (ret == 1 && !(sret == -EAGAIN || sret == -ENOMEM || sret == 0))
			ret = sret;
	}
	if (ret == 1) {
		ret = io_uring_wait_cqe(&c->ring, &cqe);
		if (!ret) {
			ret = cqe->res;
			io_uring_cqe_seen(&c->ring, cqe);
		}
	} else if (ret >= 0) {
		ret = -EIO;
	}
	if (op == S_UWAIT && ret == 0) {
		c->accepted++;
		c->fired++;
	}
	if (op == S_UCANCEL) {
		if (ret == 0)
			c->cancelled++;
		else if (pt_cancel(c->fd, tag) == 0)
			c->cancelled++;
	}
	return ret;
}

static int nth_op(struct nth_ctx *c, int op, int n, int *left, uint64_t tag)
{
	struct pendtimer_stats st;
	char v[32];
	int ret = 0, fd;

	*left = -1;
	switch (op) {
	case S_OPEN:
		nth_arm(n);
		fd = open("/dev/pendtimer0", O_RDWR | O_CLOEXEC);
		ret = fd < 0 ? -errno : 0;
		*left = nth_left();
		if (fd >= 0)
			close(fd);
		return ret;
	case S_WAIT:
		nth_arm(n);
		ret = pt_wait(c->fd, 0, tag);
		break;
	case S_ARM_NEW:
		nth_arm(n);
		ret = pt_arm(c->fd, 0, tag, c->efd2);
		break;
	case S_ARM_REUSE:
		nth_arm(n);
		ret = pt_arm(c->fd, 0, tag, c->efd);
		break;
	case S_CANCEL:
		/* a pending request to cancel */
		if (pt_arm(c->fd, LONG_NS, tag, c->efd))
			return -EIO;
		c->accepted++;
		nth_arm(n);
		ret = pt_cancel(c->fd, tag);
		*left = nth_left();
		if (ret == 0)
			c->cancelled++;
		else if (pt_cancel(c->fd, tag) == 0)
			c->cancelled++;
		return ret;
	case S_STATS:
		nth_arm(n);
		ret = pt_stats(c->fd, &st);
		break;
	case S_CLOSE:
		/*
		 * Another open file: closing a dup of c->fd would be a flush of
		 * this owner's requests on it (SPEC section 2), the long one too.
		 */
		fd = pt_open();
		if (fd < 0)
			return -EIO;
		if (pt_arm(fd, LONG_NS, tag, c->efd) == 0)
			c->accepted++, c->flushed++;
		nth_arm(n);
		ret = close(fd) ? -errno : 0;
		break;
	case S_UWAIT:
	case S_UCANCEL:
		return nth_uring_op(c, op, n, left, tag);
	case S_NEWDEV:
		snprintf(v, sizeof(v), "%d", INJ_ID);
		nth_arm(n);
		ret = pt_write_str(PT_SYSBUS "/new_device", v);
		break;
	case S_DELDEV:
		snprintf(v, sizeof(v), "%d", INJ_ID);
		nth_arm(n);
		ret = pt_write_str(PT_SYSBUS "/del_device", v);
		break;
	case S_UNBIND:
	case S_BIND:
		snprintf(v, sizeof(v), "pendtimer%d", INJ_ID);
		nth_arm(n);
		ret = pt_write_str(op == S_BIND ? PT_SYSBUS "/drivers/pendtimer/bind" :
					PT_SYSBUS "/drivers/pendtimer/unbind", v);
		break;
	}
	*left = nth_left();
	if ((op == S_WAIT || op == S_ARM_NEW || op == S_ARM_REUSE) && ret == 0) {
		c->accepted++;
		c->fired++;
	}
	return ret;
}

/* Before a device operation: put pendtimer<INJ_ID> in the state it needs. */
static void devop_prepare(int op)
{
	char v[32];

	snprintf(v, sizeof(v), "pendtimer%d", INJ_ID);
	switch (op) {
	case S_NEWDEV:
		if (pt_bus_dev_exists(INJ_ID))
			pt_del_device(INJ_ID);
		break;
	case S_DELDEV:
	case S_UNBIND:
		if (!pt_bus_dev_exists(INJ_ID))
			pt_new_device(INJ_ID);
		if (!pt_bus_dev_bound(INJ_ID))
			pt_write_str(PT_SYSBUS "/drivers/pendtimer/bind", v);
		break;
	case S_BIND:
		if (!pt_bus_dev_exists(INJ_ID))
			pt_new_device(INJ_ID);
		if (pt_bus_dev_bound(INJ_ID))
			pt_write_str(PT_SYSBUS "/drivers/pendtimer/unbind", v);
		break;
	}
}

TEST_F_TIMEOUT(inject, failslab_every_site_one_at_a_time, 1200)
{
	struct nth_ctx c = { .fd = self->fd, .efd = self->efd };
	int op, n, left, ret, sites = 0, injected = 0;
	uint64_t tag = 0x100000;
	char buf[512];

	NEED_FI();
	c.efd2 = pt_eventfd();
	ASSERT_LE(0, c.efd2);
	ASSERT_EQ(0, io_uring_queue_init(8, &c.ring, 0));
	/* a binding of efd to reuse */
	ASSERT_EQ(0, pt_arm(c.fd, LONG_NS, 0xfffff, c.efd));
	failslab_quiet();
	for (op = 0; op < S_NR; op++) {
		int op_sites = 0;

		for (n = 1; n <= 400; n++) {
			if (op >= S_NEWDEV)
				devop_prepare(op);
			/* earlier requests fired: ARM (new binding) needs one */
			if (op == S_ARM_NEW)
				EXPECT_EQ(0, pt_wait_pending(c.fd, 1, 5000, NULL));
			ret = nth_op(&c, op, n, &left, ++tag);
			if (left != 0) {
				/* fewer than n fault points: every site was tried */
				if (op < S_NEWDEV || op == S_NEWDEV)
					EXPECT_LE(0, ret) TH_LOG("%s without injection: %s",
							       s_name[op], strerror(-ret));
				break;
			}
			injected++;
			op_sites++;
			/* SPEC: a clean error, or success when the site is optional */
			EXPECT_TRUE(ret >= 0 || ret == -ENOMEM ||
				    (op == S_UWAIT && ret == -EAGAIN) ||
				    (op == S_UCANCEL && ret == -EAGAIN) ||
				    (op == S_OPEN && ret == -ENFILE))
				TH_LOG("%s with allocation %d failing: %s", s_name[op], n,
				       strerror(-ret));
			/* and the device is still consistent */
			{
				struct pendtimer_stats st;

				ret = pt_stats(c.fd, &st);
				EXPECT_EQ(0, ret);
				EXPECT_TRUE(pt_reserved_zero(&st));
			}
		}
		sites += op_sites;
		TH_LOG("%s: %d allocation site(s) failed one at a time", s_name[op], op_sites);
	}
	ASSERT_EQ(0, failslab_restore());
	TH_LOG("%d failures injected in %d sites", injected, sites);
	EXPECT_LT(0, injected);
	/* nothing of it left: device 0 moved by what succeeded only */
	EXPECT_EQ(0, pt_cancel(c.fd, 0xfffff));
	c.accepted++;
	c.cancelled++;
	io_uring_queue_exit(&c.ring);
	pt_sleep_ms(20);
	EXPECT_MOVED(0, &self->before, c.accepted, c.fired, c.cancelled, c.flushed);
	EXPECT_TRUE(rlock_idle(0, buf, sizeof(buf))) TH_LOG("%s", buf);
	/* the test device works and goes away */
	devop_prepare(S_DELDEV);
	EXPECT_TRUE(pt_bus_dev_bound(INJ_ID));
	expect_dev_works(_metadata, INJ_ID);
	EXPECT_EQ(0, pt_del_device(INJ_ID));
	close(c.efd2);
}

/* ------------------------------------------------------------------ */
/* failslab at random, under a sequential mix with an exact model */

TEST_F_TIMEOUT(inject, failslab_random_mix, 900)
{
	struct io_uring ring;
	uint64_t x = 0x1234567 ^ (uint64_t)getpid(), tag = 0x200000;
	uint64_t pend_tag[64];
	int npend = 0, accepted = 0, fired = 0, cancelled = 0, flushed = 0;
	int nfail = 0, i, fd2 = -1;
	int fd = self->fd;
	char buf[512];

	NEED_FI();
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, 0));
	failslab_quiet();
	ASSERT_EQ(0, pt_write_str(FS "task-filter", "Y"));
	ASSERT_EQ(0, pt_write_str("/proc/thread-self/make-it-fail", "1"));
	ASSERT_EQ(0, pt_write_str(FS "probability", "10"));
	for (i = 0; i < 3000; i++) {
		unsigned int r;
		int ret;

		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		r = (unsigned int)(x >> 33) % 100;
		if (r < 25) {			/* WAIT, fires at once */
			ret = pt_wait(fd, 0, ++tag);
			if (ret == 0)
				accepted++, fired++;
		} else if (r < 55 && npend < 64) {	/* ARM, long */
			ret = pt_arm(fd, LONG_NS, ++tag, self->efd);
			if (ret == 0) {
				accepted++;
				pend_tag[npend++] = tag;
			}
		} else if (r < 75 && npend) {	/* CANCEL */
			ret = pt_cancel(fd, pend_tag[npend - 1]);
			if (ret == 0) {
				cancelled++;
				npend--;
			} else {
				EXPECT_EQ(-ENOMEM, ret);
				ret = ret == -ENOMEM ? -ENOMEM : ret;
			}
		} else if (r < 82) {		/* io_uring WAIT */
			struct pendtimer_wait w = { .timeout_ns = 0, .tag = ++tag };

			int subf = 0;

			ret = uring_one_ex(&ring, fd, PENDTIMER_IOC_WAIT, &w, sizeof(w), &subf);
			if (ret == 0)
				accepted++, fired++;
			/*
			 * io_uring's own allocations: the submission (retried),
			 * or io-wq failing to create a worker, which cancels
			 * the work before it runs (-ECANCELED, never submitted)
			 */
			if (subf || ret == -EAGAIN || ret == -ECANCELED)
				ret = ret ? -ENOMEM : 0, nfail += subf && !ret;
		} else if (r < 88) {		/* STATS */
			struct pendtimer_stats st;

			ret = pt_stats(fd, &st);
		} else if (r < 94) {		/* reopen: flush of all of them */
			fd2 = open(PT_DEV0, O_RDWR | O_CLOEXEC);
			ret = fd2 < 0 ? -errno : 0;
			if (fd2 >= 0) {
				flushed += npend;
				npend = 0;
				ret = close(fd) ? -errno : 0;
				EXPECT_EQ(0, ret) TH_LOG("close never fails");
				fd = fd2;
				self->fd = fd;
			}
		} else {			/* dup + close: a flush too */
			int d = dup(fd);

			ret = 0;
			if (d >= 0) {
				flushed += npend;
				npend = 0;
				EXPECT_EQ(0, close(d));
			}
		}
		if (ret == -ENOMEM)
			nfail++;
		else
			EXPECT_EQ(0, ret) TH_LOG("op %d (kind %u): %s", i, r, strerror(-ret));
	}
	ASSERT_EQ(0, failslab_restore());
	TH_LOG("%d of 3000 operations failed with -ENOMEM", nfail);
	EXPECT_LT(0, nfail);
	for (i = 0; i < npend; i++)
		EXPECT_EQ(0, pt_cancel(fd, pend_tag[i]));
	cancelled += npend;
	io_uring_queue_exit(&ring);
	EXPECT_MOVED(0, &self->before, accepted, fired, cancelled, flushed);
	EXPECT_TRUE(rlock_idle(0, buf, sizeof(buf))) TH_LOG("%s", buf);
	EXPECT_EQ(0, pt_eventfd_take(self->efd));
}

/* ------------------------------------------------------------------ */
/* nothing leaked: runs last (tests run in order) */

FIXTURE(leaks) {
	int unused;
};

FIXTURE_SETUP(leaks)
{
	if (!have_fail_function())
		SKIP(return, "not the debug lane");
}

FIXTURE_TEARDOWN(leaks)
{
}

/* No pendtimer_req in use once every file is closed (SPEC section 5). */
TEST_F(leaks, no_request_objects_in_use)
{
	char buf[64];
	int fd, n;

	NEED_FI();
	if (!pt_path_exists(SLABDIR "objects"))
		SKIP(return, "no " SLABDIR);
	/* empty the per-CPU slabs so that "objects" counts what is in use */
	pt_write_str(SLABDIR "shrink", "1");
	fd = open(SLABDIR "objects", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ASSERT_LT(0, n);
	buf[n] = '\0';
	EXPECT_EQ(0, atoi(buf)) TH_LOG("pendtimer_req objects in use: %s", buf);
}

/*
 * kmemleak: nothing allocated by these tests (their comm) or by the module
 * (a "pendtimer" frame) is unreferenced.
 */
TEST_F_TIMEOUT(leaks, kmemleak_scan_clean, 300)
{
	char *buf, *p, *entry;
	size_t cap = 1 << 20, len = 0;
	int fd, found = 0;
	ssize_t n;

	NEED_FI();
	if (!pt_path_exists(KMEMLEAK))
		SKIP(return, "no kmemleak");
	/* kmemleak reports objects older than 5 s */
	pt_sleep_ms(6000);
	ASSERT_EQ(0, pt_write_str(KMEMLEAK, "scan"));
	buf = malloc(cap);
	ASSERT_NE(NULL, buf);
	fd = open(KMEMLEAK, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	while ((n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	/* entries start with "unreferenced object" */
	for (entry = strstr(buf, "unreferenced object"); entry; entry = p) {
		p = strstr(entry + 1, "unreferenced object");
		if (p)
			p[-1] = '\0';
		if (strstr(entry, "pendtimer") || strstr(entry, "comm \"pendtimer_")) {
			found++;
			if (found <= 3)
				TH_LOG("%s", entry);
		}
		if (p)
			p[-1] = '\n';
	}
	EXPECT_EQ(0, found);
	free(buf);
}

PT_HARNESS_MAIN(1)
