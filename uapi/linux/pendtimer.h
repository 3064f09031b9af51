/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pendtimer: pending requests completed by hrtimers, cancelled by tag,
 * by signals, by io_uring (async-cancel, ring and task exit), by close and
 * by device removal.
 *
 * The ioctl magic 0xC4 is not claimed in the kernel's
 * Documentation/userspace-api/ioctl/ioctl-number.rst.
 */
#ifndef _UAPI_LINUX_PENDTIMER_H
#define _UAPI_LINUX_PENDTIMER_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define PENDTIMER_IOC_MAGIC		0xC4

/* Largest accepted timeout: one hour. */
#define PENDTIMER_MAX_TIMEOUT_NS	3600000000000ULL

/**
 * struct pendtimer_wait - a request the caller waits for
 * @timeout_ns: relative, CLOCK_MONOTONIC, 0..PENDTIMER_MAX_TIMEOUT_NS
 * @tag: caller's id, unique among this open file's pending requests
 *
 * 16 bytes: fits the command area of a 64-byte io_uring SQE.
 */
struct pendtimer_wait {
	__u64 timeout_ns;
	__u64 tag;
};

/**
 * struct pendtimer_arm - a request that signals an eventfd when it fires
 * @timeout_ns: relative, CLOCK_MONOTONIC, 0..PENDTIMER_MAX_TIMEOUT_NS
 * @tag: caller's id, unique among this open file's pending requests
 * @eventfd: signalled (+1) when the timer fires, never otherwise
 * @flags: must be 0
 */
struct pendtimer_arm {
	__u64 timeout_ns;
	__u64 tag;
	__s32 eventfd;
	__u32 flags;
};

/**
 * struct pendtimer_stats - device-wide counters
 * @submitted: requests accepted (WAIT, URING_CMD WAIT, PEND, ARM)
 * @fired: completed by their timer
 * @cancelled: completed by PENDTIMER_IOC_CANCEL
 * @interrupted: completed because the waiter was signalled (including
 *	io_uring async-cancel), or a PEND cancelled by ring or task exit
 * @flushed: completed by close-time flush or release
 * @removed: completed because the device was removed
 * @pending: accepted and not yet completed
 * @race_timer_late: a timer callback found its request already
 *	claimed by a cancel
 * @race_cleanup_deferred: flush, release or removal left a request
 *	to its already-running timer
 * @reserved: zero
 *
 * Counted since new_device created the device, kept across unbind/bind.
 * When the device is quiet: submitted == fired + cancelled + interrupted +
 * flushed + removed + pending.
 */
struct pendtimer_stats {
	__u64 submitted;
	__u64 fired;
	__u64 cancelled;
	__u64 interrupted;
	__u64 flushed;
	__u64 removed;
	__u64 pending;
	__u64 race_timer_late;
	__u64 race_cleanup_deferred;
	__u64 reserved[7];
};

#define PENDTIMER_IOC_WAIT	_IOW(PENDTIMER_IOC_MAGIC, 1, struct pendtimer_wait)
#define PENDTIMER_IOC_ARM	_IOW(PENDTIMER_IOC_MAGIC, 2, struct pendtimer_arm)
#define PENDTIMER_IOC_CANCEL	_IOW(PENDTIMER_IOC_MAGIC, 3, __u64)
#define PENDTIMER_IOC_STATS	_IOR(PENDTIMER_IOC_MAGIC, 4, struct pendtimer_stats)

/*
 * IORING_OP_URING_CMD only (sqe->cmd_op), a struct pendtimer_wait in the
 * command area: the driver parks the command, and its CQE arrives when the
 * request completes (0 fired, -ECANCELED cancelled, flushed or cancelled
 * by ring or task exit, -ENODEV removed). IORING_OP_ASYNC_CANCEL cannot
 * reach it (-ENOENT): cancel it by tag. -EOPNOTSUPP on kernels before 6.7.
 * Through ioctl(): -ENOTTY.
 */
#define PENDTIMER_URING_PEND	_IOW(PENDTIMER_IOC_MAGIC, 5, struct pendtimer_wait)

#endif /* _UAPI_LINUX_PENDTIMER_H */
