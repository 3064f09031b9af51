/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PEND helpers for the pendtimer selftests, the race stress, the soak and
 * the fuzzer (SPEC.md section 2, PEND): a PEND is an IORING_OP_URING_CMD
 * with cmd_op PENDTIMER_URING_PEND and a struct pendtimer_wait in the
 * 16-byte command area of a 64-byte SQE; the driver parks it and its CQE
 * comes later (0 fired, -ECANCELED, -ENODEV, or a submission error).
 *
 * Self-contained (no harness): every function returns 0 or -errno.
 *
 * io_uring is used through liburing, which Debian ships for amd64 only:
 * in a -m32 build (selftests/m32.mk) PT_HAVE_URING is 0 and only the
 * liburing-free part (kernel version, thread counts) is there. A test
 * that needs io_uring includes <liburing.h> itself, which also keeps it
 * out of the m32 build.
 */
#ifndef PENDTIMER_PEND_H
#define PENDTIMER_PEND_H

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <linux/pendtimer.h>

#if defined(__i386__)
#define PT_HAVE_URING	0
#else
#define PT_HAVE_URING	1
#include <liburing.h>
#endif

/* ------------------------------------------------------------------ */
/* kernel version: PEND needs io_uring_cmd_mark_cancelable() (6.7) */

/* "6.12.38+deb12-amd64" -> 6 * 1000 + 12; 0 if unreadable. */
static inline int pt_kernel_version(char *release, size_t len)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u))
		return 0;
	if (release)
		snprintf(release, len, "%s", u.release);
	if (sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return 0;
	return major * 1000 + minor;
}

#define PT_PEND_MIN_VERSION	(6 * 1000 + 7)

/* Does this kernel park PENDs (true), or end each with -EOPNOTSUPP? */
static inline bool pt_pend_supported(void)
{
	return pt_kernel_version(NULL, 0) >= PT_PEND_MIN_VERSION;
}

/* ------------------------------------------------------------------ */
/* threads: a PEND must not cost one */

struct pt_threads {
	int total;	/* entries of /proc/self/task */
	int iowq;	/* of them, io-wq workers (comm "iou-wrk-<tid>") */
};

/* Count this process's threads; 0 or -errno. */
static inline int pt_count_threads(struct pt_threads *t)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;

	t->total = t->iowq = 0;
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char path[300], comm[32] = "";
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		t->total++;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;	/* the thread ended meanwhile */
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "iou-wrk-", 8))
			t->iowq++;
		fclose(f);
	}
	closedir(d);
	return 0;
}

#if PT_HAVE_URING
/* ------------------------------------------------------------------ */
/* SQEs */

/*
 * A URING_CMD SQE by hand (liburing 2.3 has no io_uring_prep_cmd*):
 * io_uring_prep_rw() zeroes off/addr/len/rw_flags/addr3/__pad2, and off is
 * the union that holds cmd_op + __pad1, so cmd_op is set after it.
 */
static inline void pt_prep_cmd(struct io_uring_sqe *sqe, int fd, __u32 cmd_op,
			       const void *cmd, size_t len, __u64 user_data)
{
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = cmd_op;
	sqe->__pad1 = 0;
	memcpy(sqe->cmd, cmd, len);
	io_uring_sqe_set_data64(sqe, user_data);
}

static inline void pt_prep_pend(struct io_uring_sqe *sqe, int fd,
				__u64 timeout_ns, __u64 tag, __u64 user_data)
{
	struct pendtimer_wait w = { .timeout_ns = timeout_ns, .tag = tag };

	pt_prep_cmd(sqe, fd, PENDTIMER_URING_PEND, &w, sizeof(w), user_data);
}

static inline void pt_prep_wait_cmd(struct io_uring_sqe *sqe, int fd,
				    __u64 timeout_ns, __u64 tag, __u64 user_data)
{
	struct pendtimer_wait w = { .timeout_ns = timeout_ns, .tag = tag };

	pt_prep_cmd(sqe, fd, PENDTIMER_IOC_WAIT, &w, sizeof(w), user_data);
}

/* URING_CMD CANCEL: the tag in the first 8 bytes of the command area. */
static inline void pt_prep_cancel_cmd(struct io_uring_sqe *sqe, int fd,
				      __u64 tag, __u64 user_data)
{
	__u64 cmd[2] = { tag, 0 };

	pt_prep_cmd(sqe, fd, PENDTIMER_IOC_CANCEL, cmd, sizeof(cmd), user_data);
}

/* Submit one PEND now: 0 or -errno (of io_uring_submit()). */
static inline int pt_submit_pend(struct io_uring *ring, int fd,
				 __u64 timeout_ns, __u64 tag, __u64 user_data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	int ret;

	if (!sqe)
		return -EBUSY;
	pt_prep_pend(sqe, fd, timeout_ns, tag, user_data);
	ret = io_uring_submit(ring);
	return ret == 1 ? 0 : ret < 0 ? ret : -EIO;
}

/* ------------------------------------------------------------------ */
/* CQEs */

/* Reap one CQE within @timeout_ms: 0 with *ud, *res set; -ETIME, -errno. */
static inline int pt_reap(struct io_uring *ring, unsigned int timeout_ms,
			  __u64 *ud, int *res)
{
	struct __kernel_timespec ts = {
		.tv_sec = timeout_ms / 1000,
		.tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
	};
	struct io_uring_cqe *cqe;
	int ret;

	do {
		ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	} while (ret == -EINTR);
	if (ret)
		return ret;
	*ud = cqe->user_data;
	*res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

/* Take a CQE that is already there: 0, or -EAGAIN when there is none. */
static inline int pt_peek(struct io_uring *ring, __u64 *ud, int *res)
{
	struct io_uring_cqe *cqe;

	if (io_uring_peek_cqe(ring, &cqe))
		return -EAGAIN;
	*ud = cqe->user_data;
	*res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

/* A ring with @sq SQ and @cq CQ entries (cq 0: io_uring's default 2 x sq). */
static inline int pt_ring_init(struct io_uring *ring, unsigned int sq,
			       unsigned int cq)
{
	struct io_uring_params p;

	memset(&p, 0, sizeof(p));
	if (cq) {
		p.flags = IORING_SETUP_CQSIZE;
		p.cq_entries = cq;
	}
	return io_uring_queue_init_params(sq, ring, &p);
}
#endif /* PT_HAVE_URING */

#endif /* PENDTIMER_PEND_H */
