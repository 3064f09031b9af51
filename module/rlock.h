/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pendtimer remove lock: a reference count plus a completion, the Linux
 * shape of WDM's IO_REMOVE_LOCK. It knows nothing about requests.
 *
 *   IoAcquireRemoveLock         pendtimer_rlock_enter()
 *   IoReleaseRemoveLock         pendtimer_rlock_exit()
 *   IoReleaseRemoveLockAndWait  pendtimer_rlock_kill() + pendtimer_rlock_drain()
 *   IO_REMOVE_LOCK_DBG_BLOCK    the holder list and the longest hold, while
 *                               pendtimer_rlock_track() has it on
 */
#ifndef _PENDTIMER_RLOCK_H
#define _PENDTIMER_RLOCK_H

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
 * struct pendtimer_rlock_holder - one entry into the lock (caller's stack)
 * @node: in pendtimer_rlock.holders while @listed, under pendtimer_rlock.lock
 * @task: the entering task; it stays inside the driver while listed
 * @where: the entry point, a string literal
 * @since: when it entered (local_clock(), ns); set only when @listed
 * @listed: entered with tracking on, so on the holder list. Written by
 *	pendtimer_rlock_enter(), read by pendtimer_rlock_exit(): both run in
 *	the holder's task, no lock needed.
 */
struct pendtimer_rlock_holder {
	struct list_head node;
	struct task_struct *task;
	const char *where;
	u64 since;
	bool listed;
};

/**
 * struct pendtimer_rlock - a remove lock
 * @count: the initial reference plus one per holder (and, for an instant,
 *	one per entry that is being refused)
 * @high_watermark: largest number of holders seen, an atomic maximum kept
 *	on every entry; lock-free
 * @removing: set once by pendtimer_rlock_kill(); entering fails from then on
 * @initial_dropped: pendtimer_rlock_drain() dropped the initial reference;
 *	under @lock
 * @drained: completed when @count drops to zero after the kill
 * @lock: protects @initial_dropped, @holders and @max_hold_ns, and orders
 *	the tracked entries' and exits' changes of @count against
 *	pendtimer_rlock_show(); process context only
 * @holders: holders that entered with tracking on (their @listed is set)
 * @max_hold_ns: longest time a listed holder stayed
 * @dep_map: lockdep: holders are readers, the drain is the writer
 */
struct pendtimer_rlock {
	atomic_t count;
	atomic_t high_watermark;
	bool removing;
	bool initial_dropped;
	struct completion drained;
	spinlock_t lock;		/* protects the tracking below */
	struct list_head holders;
	u64 max_hold_ns;
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	struct lockdep_map dep_map;
#endif
};

void pendtimer_rlock_track(bool on);
bool pendtimer_rlock_tracking(void);
void pendtimer_rlock_init(struct pendtimer_rlock *rl);
int pendtimer_rlock_enter(struct pendtimer_rlock *rl,
			  struct pendtimer_rlock_holder *h, const char *where);
void pendtimer_rlock_exit(struct pendtimer_rlock *rl,
			  struct pendtimer_rlock_holder *h);
void pendtimer_rlock_kill(struct pendtimer_rlock *rl);
void pendtimer_rlock_drain(struct pendtimer_rlock *rl);
void pendtimer_rlock_kill_and_wait(struct pendtimer_rlock *rl);
void pendtimer_rlock_show(struct pendtimer_rlock *rl, struct seq_file *m);

/**
 * pendtimer_rlock_dead() - has removal begun?
 * @rl: the remove lock
 *
 * Callers that must not race with removal read it under a lock that the
 * removal path takes after pendtimer_rlock_kill(). Any context.
 *
 * Return: true once pendtimer_rlock_kill() has been called.
 */
static inline bool pendtimer_rlock_dead(const struct pendtimer_rlock *rl)
{
	return READ_ONCE(rl->removing);
}

#endif /* _PENDTIMER_RLOCK_H */
