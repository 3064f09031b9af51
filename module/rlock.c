// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer remove lock: a reference count plus a completion.
 *
 * The count starts at one, the initial reference that the device itself
 * holds. Every entry point enters (count + 1) and exits (count - 1).
 * Removal first kills the lock, so that entering fails with -ENODEV, then
 * drains it: it drops the initial reference and sleeps on the completion
 * until the last holder has left. This is WDM's IO_REMOVE_LOCK
 * (IoAcquireRemoveLock / IoReleaseRemoveLock / IoReleaseRemoveLockAndWait);
 * unlike it, entering after the kill never succeeds, because the kill and
 * the entry each publish their write before reading the other's.
 *
 * The debug block of IO_REMOVE_LOCK_DBG_BLOCK is always on here: each
 * holder is listed with its task, entry point and entry time, and the
 * lock keeps the high watermark and the longest hold, for debugfs. Times
 * come from local_clock(), which is cheap on every entry; a hold that
 * migrates between CPUs is measured within the clock's cross-CPU drift.
 *
 * For lockdep, holders are readers and the drain is a writer of one
 * pseudo lock, the way kernfs models its active references: waiting for
 * the drain while holding a lock that a holder needs is reported.
 */
#include <linux/sched/clock.h>
#include <linux/seq_file.h>

#include "rlock.h"

#ifdef CONFIG_DEBUG_LOCK_ALLOC
static struct lock_class_key pendtimer_rlock_key;
#endif

/**
 * pendtimer_rlock_init() - initialise a remove lock with its initial reference
 * @rl: the lock
 *
 * Context: process.
 */
void pendtimer_rlock_init(struct pendtimer_rlock *rl)
{
	atomic_set(&rl->count, 1);
	rl->removing = false;
	init_completion(&rl->drained);
	spin_lock_init(&rl->lock);
	INIT_LIST_HEAD(&rl->holders);
	rl->nr_holders = 0;
	rl->high_watermark = 0;
	rl->max_hold_ns = 0;
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	lockdep_init_map(&rl->dep_map, "pendtimer_rlock", &pendtimer_rlock_key, 0);
#endif
}

static void pendtimer_rlock_put(struct pendtimer_rlock *rl)
{
	if (atomic_dec_and_test(&rl->count))
		complete(&rl->drained);
}

/**
 * pendtimer_rlock_enter() - enter the device (IoAcquireRemoveLock)
 * @rl: the lock
 * @h: the holder record, on the caller's stack until pendtimer_rlock_exit()
 * @where: the entry point, shown in debugfs
 *
 * Context: process (system call or io-wq worker).
 * Return: 0, or -ENODEV once removal has begun.
 */
int pendtimer_rlock_enter(struct pendtimer_rlock *rl,
			  struct pendtimer_rlock_holder *h, const char *where)
{
	atomic_inc(&rl->count);
	/* Pairs with the barrier in pendtimer_rlock_kill(). */
	smp_mb__after_atomic();
	if (READ_ONCE(rl->removing)) {
		pendtimer_rlock_put(rl);
		return -ENODEV;
	}
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	rwsem_acquire_read(&rl->dep_map, 0, 1, _RET_IP_);
#endif
	h->task = current;
	h->where = where;
	h->since = local_clock();
	spin_lock(&rl->lock);
	list_add_tail(&h->node, &rl->holders);
	if (++rl->nr_holders > rl->high_watermark)
		rl->high_watermark = rl->nr_holders;
	spin_unlock(&rl->lock);
	return 0;
}

/**
 * pendtimer_rlock_exit() - leave the device (IoReleaseRemoveLock)
 * @rl: the lock
 * @h: the record passed to pendtimer_rlock_enter()
 *
 * Context: process, the task that entered.
 */
void pendtimer_rlock_exit(struct pendtimer_rlock *rl,
			  struct pendtimer_rlock_holder *h)
{
	u64 held = local_clock() - h->since;

	spin_lock(&rl->lock);
	list_del(&h->node);
	rl->nr_holders--;
	if (held > rl->max_hold_ns)
		rl->max_hold_ns = held;
	spin_unlock(&rl->lock);
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	rwsem_release(&rl->dep_map, _RET_IP_);
#endif
	pendtimer_rlock_put(rl);
}

/**
 * pendtimer_rlock_kill() - refuse new entries
 * @rl: the lock
 *
 * Holders already inside stay until they exit; see pendtimer_rlock_drain().
 *
 * Context: process.
 */
void pendtimer_rlock_kill(struct pendtimer_rlock *rl)
{
	WRITE_ONCE(rl->removing, true);
	/* Pairs with the barrier in pendtimer_rlock_enter(). */
	smp_mb();
}

/**
 * pendtimer_rlock_drain() - drop the initial reference and wait for holders
 * @rl: a killed lock
 *
 * Context: process; sleeps until every holder has exited. Must not be
 * called by a holder (lockdep reports it).
 */
void pendtimer_rlock_drain(struct pendtimer_rlock *rl)
{
	WARN_ON_ONCE(!pendtimer_rlock_dead(rl));
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	rwsem_acquire(&rl->dep_map, 0, 0, _RET_IP_);
	if (atomic_read(&rl->count) != 1)
		lock_contended(&rl->dep_map, _RET_IP_);
#endif
	pendtimer_rlock_put(rl);
	wait_for_completion(&rl->drained);
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	lock_acquired(&rl->dep_map, _RET_IP_);
	rwsem_release(&rl->dep_map, _RET_IP_);
#endif
}

/**
 * pendtimer_rlock_kill_and_wait() - IoReleaseRemoveLockAndWait
 * @rl: the lock
 *
 * Context: process; sleeps.
 */
void pendtimer_rlock_kill_and_wait(struct pendtimer_rlock *rl)
{
	pendtimer_rlock_kill(rl);
	pendtimer_rlock_drain(rl);
}

/**
 * pendtimer_rlock_show() - print holders and watermarks (debugfs)
 * @rl: the lock
 * @m: where to print
 *
 * Context: process.
 */
void pendtimer_rlock_show(struct pendtimer_rlock *rl, struct seq_file *m)
{
	struct pendtimer_rlock_holder *h;
	u64 now = local_clock();

	spin_lock(&rl->lock);
	seq_printf(m, "removing: %d\n", pendtimer_rlock_dead(rl));
	seq_printf(m, "holders: %u\n", rl->nr_holders);
	seq_printf(m, "high_watermark: %u\n", rl->high_watermark);
	seq_printf(m, "max_hold_ns: %llu\n", rl->max_hold_ns);
	list_for_each_entry(h, &rl->holders, node)
		seq_printf(m, "holder: pid %d comm %s entry %s held_ns %lld\n",
			   task_pid_nr(h->task), h->task->comm, h->where,
			   (s64)(now - h->since));
	spin_unlock(&rl->lock);
}
