/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pendtimer: the differences between the kernels it builds on, in one place.
 *
 * Verified on the lanes it is tested on (Debian 6.1.192, 6.12.95 and 7.3);
 * the version boundaries in between follow the upstream changes named at
 * each wrapper. Nothing outside this file tests LINUX_VERSION_CODE.
 */
#ifndef _PENDTIMER_COMPAT_H
#define _PENDTIMER_COMPAT_H

#include <linux/device.h>
#include <linux/eventfd.h>
#include <linux/hrtimer.h>
#include <linux/io_uring.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/version.h>
#if KERNEL_VERSION(6, 6, 0) <= LINUX_VERSION_CODE
#include <linux/io_uring/cmd.h>
#endif

/* ---- hrtimer: hrtimer_setup() replaced hrtimer_init() in 6.13 ---- */

typedef enum hrtimer_restart (*pendtimer_timer_fn_t)(struct hrtimer *);

static inline void pendtimer_hrtimer_setup(struct hrtimer *timer,
					   pendtimer_timer_fn_t fn,
					   clockid_t clock, enum hrtimer_mode mode)
{
#if KERNEL_VERSION(6, 13, 0) <= LINUX_VERSION_CODE
	hrtimer_setup(timer, fn, clock, mode);
#else
	hrtimer_init(timer, clock, mode);
	timer->function = fn;
#endif
}

/* ---- eventfd_signal() lost its count argument in 6.8 ---- */

static inline void pendtimer_eventfd_signal(struct eventfd_ctx *efd)
{
#if KERNEL_VERSION(6, 8, 0) <= LINUX_VERSION_CODE
	eventfd_signal(efd);
#else
	eventfd_signal(efd, 1);
#endif
}

/*
 * ---- MODULE_IMPORT_NS() takes a string literal from 6.13 ----
 *
 * ("module: Convert symbol namespace to string literal"). The KUnit module
 * imports the namespace that EXPORT_SYMBOL_IF_KUNIT() exports to
 * (kunit/visibility.h, which 6.1.192, 6.12.95 and 7.3 all have).
 */
#if KERNEL_VERSION(6, 13, 0) <= LINUX_VERSION_CODE
#define PENDTIMER_IMPORT_KUNIT_NS() MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING")
#else
#define PENDTIMER_IMPORT_KUNIT_NS() MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING)
#endif

/* ---- bus_type callbacks take a const bus from 6.4 ---- */

#if KERNEL_VERSION(6, 4, 0) <= LINUX_VERSION_CODE
#define pendtimer_bus_type_t const struct bus_type
#else
#define pendtimer_bus_type_t struct bus_type
#endif

/*
 * ---- a WAIT ioctl must not be woken for good by io_uring's task work ----
 *
 * io_uring queues task work to a thread with TIF_NOTIFY_SIGNAL, which makes
 * signal_pending() true: an interruptible sleep would never sleep again.
 * The kernel's own answer is PF_NO_NOTIFY_SIGNAL (no_notify_signal_save(),
 * upstream; Debian also has it in 6.1.192 and 6.12.117): the flag stays set
 * and the task work runs on the way back to user space. Kernels without it
 * (Debian's 6.12.95) get the same effect by hand: the flag is cleared while
 * the thread sleeps and set again before it returns.
 * Context: process, the sleeping thread itself, never an io-wq worker (there
 * TIF_NOTIFY_SIGNAL is io_uring's cancel and must interrupt).
 */
struct pendtimer_nosig {
	unsigned int saved;
};

#ifdef PF_NO_NOTIFY_SIGNAL
static inline void pendtimer_nosig_begin(struct pendtimer_nosig *ns)
{
	ns->saved = no_notify_signal_save();
}

static inline void pendtimer_nosig_poll(struct pendtimer_nosig *ns)
{
}

static inline void pendtimer_nosig_end(struct pendtimer_nosig *ns)
{
	no_notify_signal_restore(ns->saved);
}
#else
static inline void pendtimer_nosig_begin(struct pendtimer_nosig *ns)
{
	ns->saved = 0;
}

/* Before each check of signal_pending(): park the flag. */
static inline void pendtimer_nosig_poll(struct pendtimer_nosig *ns)
{
	if (test_thread_flag(TIF_NOTIFY_SIGNAL)) {
		clear_notify_signal();
		ns->saved = 1;
	}
}

static inline void pendtimer_nosig_end(struct pendtimer_nosig *ns)
{
	if (ns->saved)
		set_thread_flag(TIF_NOTIFY_SIGNAL);
}
#endif

/*
 * ---- io_uring commands ----
 *
 * The command area: ioucmd->cmd until 6.6; io_uring_sqe_cmd(sqe) from 6.6,
 * a macro taking the payload's type in 7.x (tested with #ifdef, since the
 * earlier one is a function).
 */
#if defined(io_uring_sqe_cmd)
#define pendtimer_uring_payload(ioucmd, type)	io_uring_sqe_cmd((ioucmd)->sqe, type)
#elif KERNEL_VERSION(6, 6, 0) <= LINUX_VERSION_CODE
#define pendtimer_uring_payload(ioucmd, type)	\
	((const type *)io_uring_sqe_cmd((ioucmd)->sqe))
#else
#define pendtimer_uring_payload(ioucmd, type)	((const type *)(ioucmd)->cmd)
#endif

/*
 * Before 6.16 a command punted to io-wq after -EAGAIN may find ioucmd->sqe
 * still pointing at its ring slot, which user space may have refilled
 * (6.12's io_uring_cmd() copies the SQE on -EAGAIN but does not repoint
 * ioucmd->sqe). Fixed upstream when io_uring began copying a command's SQE
 * itself before punting it ("io_uring: add struct io_cold_def->sqe_copy()
 * method", 6.16). On those kernels the driver keeps its own copy, taken at
 * the non-blocking issue.
 */
#if KERNEL_VERSION(6, 16, 0) <= LINUX_VERSION_CODE
#define PENDTIMER_URING_SQE_UNSTABLE	0
#else
#define PENDTIMER_URING_SQE_UNSTABLE	1
#endif

/*
 * PEND needs io_uring_cmd_mark_cancelable() and IO_URING_F_CANCEL (6.7):
 * without them a parked command would hold up ring exit until its timer
 * fired. Before 6.7 PEND fails with -EOPNOTSUPP, and the stubs below are
 * never reached.
 */
#if KERNEL_VERSION(6, 7, 0) <= LINUX_VERSION_CODE
#define PENDTIMER_HAVE_PEND		1
#define PENDTIMER_URING_F_CANCEL	IO_URING_F_CANCEL

static inline void pendtimer_uring_mark_cancelable(struct io_uring_cmd *ioucmd,
						   unsigned int issue_flags)
{
	io_uring_cmd_mark_cancelable(ioucmd, issue_flags);
}
#else
#define PENDTIMER_HAVE_PEND		0
#define PENDTIMER_URING_F_CANCEL	0

static inline void pendtimer_uring_mark_cancelable(struct io_uring_cmd *ioucmd,
						   unsigned int issue_flags)
{
	WARN_ON_ONCE(1);
}
#endif

/* io_uring_cmd_done() lost its res2 argument in 6.18. */
static inline void pendtimer_uring_done(struct io_uring_cmd *ioucmd, int ret,
					unsigned int issue_flags)
{
#if KERNEL_VERSION(6, 18, 0) <= LINUX_VERSION_CODE
	io_uring_cmd_done(ioucmd, ret, issue_flags);
#else
	io_uring_cmd_done(ioucmd, ret, 0, issue_flags);
#endif
}

/*
 * PENDTIMER_URING_TASK_WORK(name, fn) defines the task-work callback @name
 * that calls void fn(struct io_uring_cmd *, unsigned int issue_flags) in
 * the submitter's context, for io_uring_cmd_complete_in_task(). The
 * callback takes a struct io_tw_req from 6.19 on, the command and the
 * issue flags before.
 */
#if KERNEL_VERSION(6, 19, 0) <= LINUX_VERSION_CODE
#define PENDTIMER_URING_TASK_WORK(name, fn)				\
static void name(struct io_tw_req tw_req, io_tw_token_t tw)		\
{									\
	fn(io_uring_cmd_from_tw(tw_req), IO_URING_CMD_TASK_WORK_ISSUE_FLAGS); \
}
#else
#define PENDTIMER_URING_TASK_WORK(name, fn)				\
static void name(struct io_uring_cmd *ioucmd, unsigned int issue_flags) \
{									\
	fn(ioucmd, issue_flags);					\
}
#endif

#endif /* _PENDTIMER_COMPAT_H */
