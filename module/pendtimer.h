/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pendtimer: internal interfaces shared by the module's files.
 *
 * Objects, from the outside in:
 *
 *  struct pendtimer_busdev   the device on the pendtimer bus, created by
 *                          new_device and freed after del_device once the
 *                          last reference is gone. Owns the counters, so
 *                          they survive unbind/bind. (WDM: the PDO.)
 *  struct pendtimer_dev    one binding of the driver to a busdev, from probe
 *                          to the last close after remove: the char device,
 *                          the remove lock and the list of open files.
 *                          (WDM: the FDO and its device extension.)
 *  struct pendtimer_file   per open file, in file->private_data: the
 *                          pending set, its timer queue, the hrtimer
 *                          that fires it and their lock. (WDM: FsContext.)
 *  struct pendtimer_req    one pending request, in the set and the timer
 *                          queue. (WDM: the pended IRP plus its KTIMER and
 *                          DPC, which here one hrtimer per file serves.)
 */
#ifndef _PENDTIMER_H
#define _PENDTIMER_H

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/timerqueue.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/pendtimer.h>

#include "compat.h"
#include "remove_lock.h"

/* Module parameters (main.c). */
extern unsigned int pendtimer_max_pending;
extern unsigned int pendtimer_race_delay_us;

/* Which path completed a request: one counter each. */
enum pendtimer_outcome {
	PENDTIMER_FIRED,
	PENDTIMER_CANCELLED,
	PENDTIMER_INTERRUPTED,
	PENDTIMER_FLUSHED,
	PENDTIMER_REMOVED,
};

/* What a request reports to. */
enum pendtimer_kind {
	PENDTIMER_KIND_WAIT,	/* a thread in the WAIT ioctl */
	PENDTIMER_KIND_URING,	/* an io-wq worker in URING_CMD WAIT */
	PENDTIMER_KIND_ARM,	/* an ARM request's eventfd */
	PENDTIMER_KIND_PEND,	/* a parked PEND command (no thread waits) */
};

struct pendtimer_file;
struct pendtimer_req;

/**
 * struct pendtimer_sink - whom a request reports to
 * @pf: the open file the request belongs to
 * @owner: the submitter's files_struct, for flush (the fl_owner_t rule)
 * @kind: what the sink is embedded in
 * @result: the request's result, written by the path that claims it
 *	(WAIT's return value, PEND's CQE result; unused for ARM)
 */
struct pendtimer_sink {
	struct pendtimer_file *pf;
	fl_owner_t owner;
	enum pendtimer_kind kind;
	int result;
};

/**
 * struct pendtimer_pend - a PEND command's state, in its io_uring_cmd's pdu
 * @sink: pf, owner, kind, and the CQE result once claimed
 * @req: the pending request; NULL before it is submitted and once a path
 *	has claimed it. Read and written under @sink.pf->lock.
 *
 * The command pins its file (and so the open file and the device) until
 * io_uring_cmd_done(), so @sink.pf stays valid for io_uring's cancel call.
 */
struct pendtimer_pend {
	struct pendtimer_sink sink;
	struct pendtimer_req *req;
};

/*
 * Device-wide counters, updated with atomics from every context (process,
 * io-wq worker, hrtimer callback); read without a lock by STATS.
 */
struct pendtimer_counters {
	atomic64_t submitted;
	atomic64_t completed[PENDTIMER_REMOVED + 1];	/* by outcome */
	atomic64_t pending;
	atomic64_t race_timer_late;
	atomic64_t race_cleanup_deferred;
};

/**
 * struct pendtimer_busdev - a device on the pendtimer bus
 * @dev: the driver-core device, named pendtimer<ID>
 * @counters: STATS, since new_device; kept across unbind/bind
 * @node: in the bus's device list, under its mutex (bus.c)
 */
struct pendtimer_busdev {
	struct device dev;
	struct pendtimer_counters counters;
	struct list_head node;
};

/*
 * Lock order. Every lock the module takes or runs under, outermost first;
 * a lock is taken only while holding locks above it, never one below. No
 * two locks of one class are ever held at once (one device's remove lock,
 * files_lock, one file's rundown and lock at a time), so lockdep needs no
 * subclasses. The debug lanes check this order with lockdep (PROVE_LOCKING),
 * the remove lock included (remove_lock.c).
 *
 *  1. pendtimer_bus_lock (bus.c; mutex): the bus device list and the
 *     new_device gate. Process: new_device, del_device, module init and
 *     exit. Held across device_add() and device_unregister(), so around
 *     probe and remove.
 *  2. device_lock() of the bus device (driver core; mutex): probe vs.
 *     remove, also for bind and unbind through sysfs. Process.
 *  3. Held by the callers of our entry points, not by us: misc_mtx
 *     (misc_open() around pendtimer_open()); io_uring's ring lock around
 *     the inline issue of a URING_CMD and around its IO_URING_F_CANCEL call
 *     (process: the submitter, io_uring's cancel at ring or task exit).
 *  4. pendtimer_dev.remove_lock (remove_lock.h; a count and a completion,
 *     an rwsem to lockdep). Entered (read; never waits, a trylock to
 *     lockdep) by open, ioctl and URING_CMD issue: process (system call,
 *     io_uring submitter, io-wq worker); a WAIT holds it while it sleeps.
 *     Drained (write; waits for every holder) by remove, under 1 and 2
 *     with nothing of ours held.
 *  5. pendtimer_dev.files_lock (mutex): pd->files. Process: open (inside
 *     4), release, remove (before the drain, never across it).
 *  6. pendtimer_file.rundown (rwsem): held for read by a submission from
 *     its entry to joining the pending set (process: system call, io_uring
 *     submitter, io-wq worker; inside 4); taken for write and dropped at
 *     once by flush, with nothing held.
 *  7. pendtimer_file.lock (spinlock_t, irq-safe): the pending set and what
 *     struct pendtimer_file says. Process (spin_lock_irq: submission,
 *     cancel, a signalled waiter, io_uring's cancel of a PEND, flush,
 *     release, remove; inside 5 for remove) and the hrtimer callback
 *     (spin_lock_irqsave: hard irq; the softirq thread on PREEMPT_RT).
 *  8. Kernel leaf locks, only under 7: the hrtimer base lock
 *     (hrtimer_start()), pf->drain_wq's lock
 *     (wake_up(), wait_event_lock_irq()), an eventfd's wait queue lock
 *     (eventfd_signal()), the scheduler's (wake_up_process()).
 *  9. pendtimer_remove_lock.lock (spinlock_t, process only, never in irq):
 *     the holder list. Taken alone by a tracked entry and exit and by
 *     debugfs holders, and inside 4 (write) by the drain; under it only
 *     the completion's lock (complete()).
 *
 * Waits are part of the order: the drain (4, write) waits for holders, so
 * nothing a holder may need is held across it; hrtimer_cancel() waits for
 * the callback, which takes 7, so it is never called under 7; the sweep
 * sleeps on pf->drain_wq with 7 dropped. Task work (a PEND's CQE) and
 * io_uring_cmd_done() run with none of our locks held.
 */

/**
 * struct pendtimer_dev - the driver bound to one bus device
 * @ref: one for the binding (dropped by remove), one per open file
 * @busdev: the bus device; its struct device is pinned by this object
 * @counters: &busdev->counters
 * @remove_lock: the remove lock around every entry point (lock 4)
 * @misc: /dev/pendtimer<ID>
 * @name: "pendtimer<ID>"
 * @files_lock: protects @files; process context (lock 5 of the lock order)
 * @files: open files (struct pendtimer_file.node)
 * @debugfs: pendtimer/pendtimer<ID>/ in debugfs
 */
struct pendtimer_dev {
	struct kref ref;
	struct pendtimer_busdev *busdev;
	struct pendtimer_counters *counters;
	struct pendtimer_remove_lock remove_lock;
	struct miscdevice misc;
	char name[24];
	struct mutex files_lock;	/* protects files */
	struct list_head files;
	struct dentry *debugfs;
};

/**
 * struct pendtimer_file - per-open context (file->private_data)
 * @pd: the device, pinned by a reference (kref)
 * @lock: protects every field below it, and the requests' membership in the
 *	pending set. Taken irqsave: the hrtimer callback takes it in hard irq
 *	context (softirq thread on PREEMPT_RT, where it is a sleeping lock).
 *	Lock 7 of the lock order above.
 * @buckets: the pending set, a hash of singly linked chains by tag
 * @hash_bits: log2 of the number of @buckets
 * @nr_pending: requests in the pending set
 * @nr_deferred: requests a cleanup left to their running timer callback and
 *	that nobody has claimed yet (SPEC.md section 3, rule 2)
 * @drain_wq: cleanup waits here for @nr_deferred to reach zero
 * @bindings: eventfd bindings of ARM requests (struct pendtimer_evbind)
 * @rundown: held for read by submissions between entry and joining the
 *	pending set; flush takes it for write to wait for them (FileRundownLock);
 *	lock 6
 * @node: in pd->files, under pd->files_lock
 * @spare: fired PEND requests kept for this file's next PENDs, linked
 *	through their hnext (request.c, pendtimer_req_get())
 * @nr_spare: requests in @spare, at most PENDTIMER_SPARE_MAX
 * @due: the timer queue: every request in the pending set, by due time
 * @firing_until: while the timer callback runs, the time it started at:
 *	requests due by then have their timer callback running (rules 1 and
 *	2); 0 otherwise
 * @timer: armed for the earliest request in @due, unless the callback is
 *	running (it arms itself before it returns); its callback fires every
 *	request that is due (request.c)
 */
struct pendtimer_file {
	struct pendtimer_dev *pd;
	spinlock_t lock;		/* protects what follows, and the set */
	struct pendtimer_req **buckets;
	unsigned int hash_bits;
	unsigned int nr_pending;
	unsigned int nr_deferred;
	wait_queue_head_t drain_wq;
	struct rb_root bindings;
	struct rw_semaphore rundown;
	struct list_head node;
	struct pendtimer_req *spare;
	unsigned int nr_spare;
	struct timerqueue_head due;
	ktime_t firing_until;
	struct hrtimer timer;
};

/* request.c: requests and their timers */
int pendtimer_reqs_init(void);
void pendtimer_reqs_exit(void);
int pendtimer_file_init(struct pendtimer_file *pf, struct pendtimer_dev *pd);
void pendtimer_file_destroy(struct pendtimer_file *pf);
int pendtimer_wait(struct pendtimer_file *pf, const struct pendtimer_wait *w);
int pendtimer_arm(struct pendtimer_file *pf, const struct pendtimer_arm *a);
int pendtimer_cancel(struct pendtimer_file *pf, u64 tag);
int pendtimer_pend(struct pendtimer_file *pf, struct pendtimer_pend *pend,
		   const struct pendtimer_wait *args);
bool pendtimer_pend_cancel(struct pendtimer_pend *pend);
void pendtimer_sweep(struct pendtimer_file *pf, fl_owner_t owner,
		     enum pendtimer_outcome outcome);
void pendtimer_read_stats(const struct pendtimer_counters *c,
			  struct pendtimer_stats *st);

/* fops.c: the character device */
extern const struct file_operations pendtimer_fops;

/* uring.c: URING_CMD */
int pendtimer_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags);
void pendtimer_pend_finish(struct pendtimer_pend *pend);

/* bus.c: bus, devices, probe and remove */
int pendtimer_bus_init(unsigned int nr_devices);
void pendtimer_bus_exit(void);
void pendtimer_dev_put(struct pendtimer_dev *pd);

/* debugfs.c */
void pendtimer_debugfs_init(void);
void pendtimer_debugfs_exit(void);
void pendtimer_debugfs_add(struct pendtimer_dev *pd);
void pendtimer_debugfs_remove(struct pendtimer_dev *pd);

#endif /* _PENDTIMER_H */
