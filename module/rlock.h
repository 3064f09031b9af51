/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pendtimer remove lock: a reference count plus a completion, the Linux
 * shape of WDM's IO_REMOVE_LOCK. It knows nothing about requests.
 *
 *   IoAcquireRemoveLock         pendtimer_rlock_enter()
 *   IoReleaseRemoveLock         pendtimer_rlock_exit()
 *   IoReleaseRemoveLockAndWait  pendtimer_rlock_kill() + pendtimer_rlock_drain()
 *   IO_REMOVE_LOCK_DBG_BLOCK    the holder list, high watermark, longest hold
 */
#ifndef _PENDTIMER_RLOCK_H
#define _PENDTIMER_RLOCK_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct seq_file;

/**
 * struct pendtimer_rlock_holder - one entry into the lock (caller's stack)
 * @node: in pendtimer_rlock.holders, under pendtimer_rlock.lock
 * @task: the entering task; it stays inside the driver while listed
 * @where: the entry point, a string literal
 * @since: when it entered (local_clock(), ns)
 */
struct pendtimer_rlock_holder {
	struct list_head node;
	struct task_struct *task;
	const char *where;
	u64 since;
};

/**
 * struct pendtimer_rlock - a remove lock
 * @count: the initial reference plus one per holder
 * @removing: set once by pendtimer_rlock_kill(); entering fails from then on
 * @drained: completed when @count drops to zero after the kill
 * @lock: protects the tracking fields below; process context only
 * @holders: current holders (struct pendtimer_rlock_holder)
 * @nr_holders: length of @holders
 * @high_watermark: largest @nr_holders seen
 * @max_hold_ns: longest time a holder stayed
 * @dep_map: lockdep: holders are readers, the drain is the writer
 */
struct pendtimer_rlock {
	atomic_t count;
	bool removing;
	struct completion drained;
	spinlock_t lock;		/* protects the tracking below */
	struct list_head holders;
	unsigned int nr_holders;
	unsigned int high_watermark;
	u64 max_hold_ns;
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	struct lockdep_map dep_map;
#endif
};

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
