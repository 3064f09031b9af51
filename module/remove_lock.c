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
 * The fast path, tracking off (the default): entering is one fully
 * ordered atomic_inc_return() on the count, leaving one atomic decrement;
 * nothing else is shared between CPUs but the high watermark, an atomic
 * maximum that is written only when it grows (it sits next to the count,
 * whose cache line the entry owns anyway). The number of holders is the
 * count less the initial reference, so both are always known.
 *
 * The debug block of IO_REMOVE_LOCK_DBG_BLOCK, which WDM keeps to checked
 * builds, is switched at run time (pendtimer_remove_lock_track(), the module
 * parameter track_holders): a static key, so that the off state costs a
 * no-op in the code. With it on, each holder is listed with its task,
 * entry point and entry time, under a lock-wide spinlock, and its exit
 * keeps the longest hold. Times come from local_clock(); a hold that
 * migrates between CPUs is measured within the clock's cross-CPU drift.
 * The key may change while holders are inside: a holder remembers whether
 * it was listed (pendtimer_remove_lock_holder.listed) and leaves
 * accordingly, so holders that entered before tracking was switched on
 * are counted but never listed, and listed ones are unlisted after it is
 * switched off.
 *
 * For lockdep, holders are readers and the drain is a writer of one
 * pseudo lock, the way kernfs models its active references: waiting for
 * the drain while holding a lock that a holder needs is reported.
 *
 * The KUnit tests (remove_lock_kunit.c, pendtimer_kunit.ko) call this
 * unit in pendtimer.ko, the kernel's way: on kernels with CONFIG_KUNIT its
 * functions are exported to the EXPORTED_FOR_KUNIT_TESTING namespace
 * (EXPORT_SYMBOL_IF_KUNIT), on the others nothing is exported.
 */
#include <kunit/visibility.h>
#include <linux/sched/clock.h>
#include <linux/seq_file.h>

#include "remove_lock.h"

/* Holder tracking on or off; switched by pendtimer_remove_lock_track() only. */
static DEFINE_STATIC_KEY_FALSE(pendtimer_remove_lock_track_key);

#ifdef CONFIG_DEBUG_LOCK_ALLOC
static struct lock_class_key pendtimer_remove_lock_key;
#endif

/**
 * pendtimer_remove_lock_track() - switch holder tracking on or off
 * @on: list holders and time their holds from now on
 *
 * Holders already inside keep the state they entered with.
 *
 * Context: process; sleeps (patches the code of the static key). Callers
 * serialise (the module parameter's set callback runs under its lock).
 */
void pendtimer_remove_lock_track(bool on)
{
	if (on)
		static_branch_enable(&pendtimer_remove_lock_track_key);
	else
		static_branch_disable(&pendtimer_remove_lock_track_key);
}
EXPORT_SYMBOL_IF_KUNIT(pendtimer_remove_lock_track);

/**
 * pendtimer_remove_lock_tracking() - is holder tracking on?
 *
 * Context: any.
 * Return: true while entries are listed.
 */
bool pendtimer_remove_lock_tracking(void)
{
	return static_key_enabled(&pendtimer_remove_lock_track_key);
}
EXPORT_SYMBOL_IF_KUNIT(pendtimer_remove_lock_tracking);

/**
 * pendtimer_remove_lock_init() - initialise a remove lock, with its initial
 *	reference
 * @rl: the lock
 *
 * Context: process.
 */
void pendtimer_remove_lock_init(struct pendtimer_remove_lock *rl)
{
	atomic_set(&rl->count, 1);
	atomic_set(&rl->high_watermark, 0);
	rl->removing = 0;
	rl->initial_dropped = false;
	init_completion(&rl->drained);
	spin_lock_init(&rl->lock);
	INIT_LIST_HEAD(&rl->holders);
	rl->max_hold_ns = 0;
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	lockdep_init_map(&rl->dep_map, "pendtimer_remove_lock",
			 &pendtimer_remove_lock_key, 0);
#endif
}
EXPORT_SYMBOL_IF_KUNIT(pendtimer_remove_lock_init);

static void pendtimer_remove_lock_put(struct pendtimer_remove_lock *rl)
{
	if (atomic_dec_and_test(&rl->count))
		complete(&rl->drained);
}

/*
 * Raise the high watermark to @n holders. A plain read in the common case
 * (no new maximum); a cmpxchg loop only while the maximum grows.
 */
static void pendtimer_remove_lock_note_holders(struct pendtimer_remove_lock *rl,
					       int n)
{
	int hw = atomic_read(&rl->high_watermark);

	while (unlikely(n > hw))
		if (atomic_try_cmpxchg_relaxed(&rl->high_watermark, &hw, n))
			break;
}

/*
 * Tracking on: count, check and list under rl->lock, so that
 * pendtimer_remove_lock_show() sees the count and the list agree.
 * Context: process.
 */
static noinline int
pendtimer_remove_lock_enter_tracked(struct pendtimer_remove_lock *rl,
				    struct pendtimer_remove_lock_holder *h,
				    const char *where)
{
	int n;

	h->task = current;
	h->where = where;
	h->since = local_clock();
	spin_lock(&rl->lock);
	/* Fully ordered: pairs with the barrier in pendtimer_remove_lock_kill(). */
	n = atomic_inc_return(&rl->count);
	if (READ_ONCE(rl->removing)) {
		pendtimer_remove_lock_put(rl);
		spin_unlock(&rl->lock);
		return -ENODEV;
	}
	list_add_tail(&h->node, &rl->holders);
	h->listed = true;
	pendtimer_remove_lock_note_holders(rl, n - 1);
	spin_unlock(&rl->lock);
	return 0;
}

/**
 * pendtimer_remove_lock_enter() - enter the device (IoAcquireRemoveLock)
 * @rl: the lock
 * @h: the holder record, on the caller's stack until
 *	pendtimer_remove_lock_exit()
 * @where: the entry point, shown in debugfs while tracking is on
 *
 * Context: process (system call or io-wq worker).
 * Return: 0, or -ENODEV once removal has begun.
 */
int pendtimer_remove_lock_enter(struct pendtimer_remove_lock *rl,
				struct pendtimer_remove_lock_holder *h,
				const char *where)
{
	int n;

	if (static_branch_unlikely(&pendtimer_remove_lock_track_key)) {
		int ret = pendtimer_remove_lock_enter_tracked(rl, h, where);

		if (ret)
			return ret;
	} else {
		/* Fully ordered: pairs with the barrier in pendtimer_remove_lock_kill(). */
		n = atomic_inc_return(&rl->count);
		if (unlikely(READ_ONCE(rl->removing))) {
			pendtimer_remove_lock_put(rl);
			return -ENODEV;
		}
		h->listed = false;
		/* Not killed when we entered: the initial reference is in n. */
		pendtimer_remove_lock_note_holders(rl, n - 1);
	}
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	rwsem_acquire_read(&rl->dep_map, 0, 1, _RET_IP_);
#endif
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(pendtimer_remove_lock_enter);

/* A listed holder leaves: unlist, keep the longest hold, drop the count. */
static noinline void
pendtimer_remove_lock_exit_tracked(struct pendtimer_remove_lock *rl,
				   struct pendtimer_remove_lock_holder *h)
{
	u64 held = local_clock() - h->since;
	bool last;

	spin_lock(&rl->lock);
	list_del(&h->node);
	if (held > rl->max_hold_ns)
		rl->max_hold_ns = held;
	last = atomic_dec_and_test(&rl->count);
	spin_unlock(&rl->lock);
	if (last)
		complete(&rl->drained);
}

/**
 * pendtimer_remove_lock_exit() - leave the device (IoReleaseRemoveLock)
 * @rl: the lock
 * @h: the record passed to pendtimer_remove_lock_enter()
 *
 * Whether @h is listed was decided when it entered, whatever the tracking
 * state is now.
 *
 * Context: process, the task that entered.
 */
void pendtimer_remove_lock_exit(struct pendtimer_remove_lock *rl,
				struct pendtimer_remove_lock_holder *h)
{
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	rwsem_release(&rl->dep_map, _RET_IP_);
#endif
	if (unlikely(h->listed))
		pendtimer_remove_lock_exit_tracked(rl, h);
	else
		pendtimer_remove_lock_put(rl);
}
EXPORT_SYMBOL_IF_KUNIT(pendtimer_remove_lock_exit);

/**
 * pendtimer_remove_lock_kill() - refuse new entries
 * @rl: the lock
 *
 * Holders already inside stay until they exit; see
 * pendtimer_remove_lock_drain().
 *
 * Context: process.
 */
void pendtimer_remove_lock_kill(struct pendtimer_remove_lock *rl)
{
	WRITE_ONCE(rl->removing, 1);
	/* Pairs with the fully ordered increment in pendtimer_remove_lock_enter(). */
	smp_mb();
}
EXPORT_SYMBOL_IF_KUNIT(pendtimer_remove_lock_kill);

/**
 * pendtimer_remove_lock_drain() - drop the initial reference and wait for
 *	the holders
 * @rl: a killed lock
 *
 * Context: process; sleeps until every holder has exited. Must not be
 * called by a holder (lockdep reports it).
 */
void pendtimer_remove_lock_drain(struct pendtimer_remove_lock *rl)
{
	bool last;

	WARN_ON_ONCE(!pendtimer_remove_lock_dead(rl));
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	rwsem_acquire(&rl->dep_map, 0, 0, _RET_IP_);
	if (atomic_read(&rl->count) != 1)
		lock_contended(&rl->dep_map, _RET_IP_);
#endif
	/* Under the lock: pendtimer_remove_lock_show() must know what count means. */
	spin_lock(&rl->lock);
	rl->initial_dropped = true;
	last = atomic_dec_and_test(&rl->count);
	spin_unlock(&rl->lock);
	if (last)
		complete(&rl->drained);
	wait_for_completion(&rl->drained);
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	lock_acquired(&rl->dep_map, _RET_IP_);
	rwsem_release(&rl->dep_map, _RET_IP_);
#endif
}
EXPORT_SYMBOL_IF_KUNIT(pendtimer_remove_lock_drain);

/**
 * pendtimer_remove_lock_kill_and_wait() - IoReleaseRemoveLockAndWait
 * @rl: the lock
 *
 * Context: process; sleeps.
 */
void pendtimer_remove_lock_kill_and_wait(struct pendtimer_remove_lock *rl)
{
	pendtimer_remove_lock_kill(rl);
	pendtimer_remove_lock_drain(rl);
}
EXPORT_SYMBOL_IF_KUNIT(pendtimer_remove_lock_kill_and_wait);

/**
 * pendtimer_remove_lock_show() - print holders and watermarks (debugfs)
 * @rl: the lock
 * @m: where to print
 *
 * The number of holders and the high watermark are always printed; the
 * holder lines only for holders that entered with tracking on, and the
 * longest hold only covers those. Under @rl->lock the count agrees with
 * the list when every holder inside entered with tracking on.
 *
 * Context: process.
 */
void pendtimer_remove_lock_show(struct pendtimer_remove_lock *rl,
				struct seq_file *m)
{
	struct pendtimer_remove_lock_holder *h;
	u64 now = local_clock();
	int holders;

	spin_lock(&rl->lock);
	holders = atomic_read(&rl->count) - (rl->initial_dropped ? 0 : 1);
	seq_printf(m, "removing: %d\n", pendtimer_remove_lock_dead(rl));
	seq_printf(m, "holders: %d\n", max(holders, 0));
	seq_printf(m, "high_watermark: %d\n", atomic_read(&rl->high_watermark));
	seq_printf(m, "max_hold_ns: %llu\n", rl->max_hold_ns);
	list_for_each_entry(h, &rl->holders, node)
		seq_printf(m, "holder: pid %d comm %s entry %s held_ns %lld\n",
			   task_pid_nr(h->task), h->task->comm, h->where,
			   (s64)(now - h->since));
	spin_unlock(&rl->lock);
}
EXPORT_SYMBOL_IF_KUNIT(pendtimer_remove_lock_show);
