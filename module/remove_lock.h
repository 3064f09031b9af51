/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pendtimer remove lock: a reference count plus a completion, the Linux
 * shape of WDM's IO_REMOVE_LOCK. It knows nothing about requests.
 *
 *   IoAcquireRemoveLock         pendtimer_remove_lock_enter()
 *   IoReleaseRemoveLock         pendtimer_remove_lock_exit()
 *   IoReleaseRemoveLockAndWait  pendtimer_remove_lock_kill(), then
 *                               pendtimer_remove_lock_drain()
 *   IO_REMOVE_LOCK_DBG_BLOCK    the holder list and the longest hold, while
 *                               pendtimer_remove_lock_track() has it on
 */
#ifndef _PENDTIMER_REMOVE_LOCK_H
#define _PENDTIMER_REMOVE_LOCK_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/jump_label.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct seq_file;

/**
 * struct pendtimer_remove_lock_holder - one entry into the lock (on the
 *	caller's stack)
 * @node: in the lock's holders while @listed, under the lock's lock
 * @task: the entering task; it stays inside the driver while listed
 * @where: the entry point, a string literal
 * @since: when it entered (local_clock(), ns); set only when @listed
 * @listed: entered with tracking on, so on the holder list. Written by
 *	pendtimer_remove_lock_enter(), read by pendtimer_remove_lock_exit():
 *	both run in the holder's task, no lock needed.
 */
struct pendtimer_remove_lock_holder {
	struct list_head node;
	struct task_struct *task;
	const char *where;
	u64 since;
	bool listed;
};

/**
 * struct pendtimer_remove_lock - a remove lock
 * @count: the initial reference plus one per holder (and, for an instant,
 *	one per entry that is being refused)
 * @high_watermark: largest number of holders seen, an atomic maximum kept
 *	on every entry; lock-free
 * @removing: set once by pendtimer_remove_lock_kill(); entering fails from
 *	then on. A u8, not a bool, for KCSAN (request.c, struct
 *	pendtimer_waiter, @done)
 * @initial_dropped: pendtimer_remove_lock_drain() dropped the initial
 *	reference; under @lock
 * @drained: completed when @count drops to zero after the kill
 * @lock: protects @initial_dropped, @holders and @max_hold_ns, and orders
 *	the tracked entries' and exits' changes of @count against
 *	pendtimer_remove_lock_show(); process context only (lock 9 of the
 *	lock order in pendtimer.h)
 * @holders: holders that entered with tracking on (their @listed is set)
 * @max_hold_ns: longest time a listed holder stayed
 * @dep_map: lockdep: holders are readers, the drain is the writer
 */
struct pendtimer_remove_lock {
	atomic_t count;
	atomic_t high_watermark;
	u8 removing;
	bool initial_dropped;
	struct completion drained;
	spinlock_t lock;		/* protects the tracking below */
	struct list_head holders;
	u64 max_hold_ns;
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	struct lockdep_map dep_map;
#endif
};

void pendtimer_remove_lock_track(bool on);
bool pendtimer_remove_lock_tracking(void);
void pendtimer_remove_lock_init(struct pendtimer_remove_lock *rl);
int pendtimer_remove_lock_enter(struct pendtimer_remove_lock *rl,
				struct pendtimer_remove_lock_holder *h,
				const char *where);
void pendtimer_remove_lock_exit(struct pendtimer_remove_lock *rl,
				struct pendtimer_remove_lock_holder *h);
void pendtimer_remove_lock_kill(struct pendtimer_remove_lock *rl);
void pendtimer_remove_lock_drain(struct pendtimer_remove_lock *rl);
void pendtimer_remove_lock_kill_and_wait(struct pendtimer_remove_lock *rl);
void pendtimer_remove_lock_show(struct pendtimer_remove_lock *rl,
				struct seq_file *m);

/**
 * pendtimer_remove_lock_dead() - has removal begun?
 * @rl: the remove lock
 *
 * Callers that must not race with removal read it under a lock that the
 * removal path takes after pendtimer_remove_lock_kill(). Any context.
 *
 * Return: true once pendtimer_remove_lock_kill() has been called.
 */
static inline bool
pendtimer_remove_lock_dead(const struct pendtimer_remove_lock *rl)
{
	return READ_ONCE(rl->removing);
}

/**
 * pendtimer_remove_lock_assert_held() - lockdep: the caller has entered
 * @rl: the remove lock
 *
 * Context: any; checks only where lockdep is on.
 */
static inline void
pendtimer_remove_lock_assert_held(const struct pendtimer_remove_lock *rl)
{
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	lockdep_assert(lock_is_held_type(&rl->dep_map, 1));
#endif
}

#endif /* _PENDTIMER_REMOVE_LOCK_H */
