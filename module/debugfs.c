// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer debugfs: pendtimer/pendtimer<ID>/holders (the remove lock's
 * IO_REMOVE_LOCK_DBG_BLOCK: the number of holders and the high watermark
 * always; with the module parameter track_holders on, the holders that
 * entered while it was on and the longest of their holds) and
 * pendtimer/pendtimer<ID>/stats (the counters). debugfs_remove() waits for
 * readers in progress, so the device outlives every read.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "pendtimer.h"

static struct dentry *pendtimer_debugfs_root;

static int holders_show(struct seq_file *m, void *unused)
{
	struct pendtimer_dev *pd = m->private;

	pendtimer_remove_lock_show(&pd->remove_lock, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(holders);

static int stats_show(struct seq_file *m, void *unused)
{
	struct pendtimer_dev *pd = m->private;
	struct pendtimer_stats st;

	pendtimer_read_stats(pd->counters, &st);
	seq_printf(m, "submitted: %llu\n", st.submitted);
	seq_printf(m, "fired: %llu\n", st.fired);
	seq_printf(m, "cancelled: %llu\n", st.cancelled);
	seq_printf(m, "interrupted: %llu\n", st.interrupted);
	seq_printf(m, "flushed: %llu\n", st.flushed);
	seq_printf(m, "removed: %llu\n", st.removed);
	seq_printf(m, "pending: %llu\n", st.pending);
	seq_printf(m, "race_timer_late: %llu\n", st.race_timer_late);
	seq_printf(m, "race_cleanup_deferred: %llu\n", st.race_cleanup_deferred);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

/**
 * pendtimer_debugfs_add() - create pendtimer/<name>/ for a bound device
 * @pd: the device
 *
 * debugfs failures are not fatal and not reported, as debugfs intends.
 * Context: process (probe).
 */
void pendtimer_debugfs_add(struct pendtimer_dev *pd)
{
	pd->debugfs = debugfs_create_dir(pd->name, pendtimer_debugfs_root);
	debugfs_create_file("holders", 0400, pd->debugfs, pd, &holders_fops);
	debugfs_create_file("stats", 0400, pd->debugfs, pd, &stats_fops);
}

/**
 * pendtimer_debugfs_remove() - remove a device's directory, wait for readers
 * @pd: the device
 *
 * Context: process (remove).
 */
void pendtimer_debugfs_remove(struct pendtimer_dev *pd)
{
	debugfs_remove(pd->debugfs);
	pd->debugfs = NULL;
}

/**
 * pendtimer_debugfs_init() - create the pendtimer/ directory
 *
 * Context: module init.
 */
void pendtimer_debugfs_init(void)
{
	pendtimer_debugfs_root = debugfs_create_dir("pendtimer", NULL);
}

/**
 * pendtimer_debugfs_exit() - remove the pendtimer/ directory
 *
 * Context: module exit, after every device is gone.
 */
void pendtimer_debugfs_exit(void)
{
	debugfs_remove(pendtimer_debugfs_root);
}
