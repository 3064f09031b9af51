// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer file operations: open, flush, release and the ioctls.
 *
 * WDM mapping: IRP_MJ_CREATE -> open, IRP_MJ_DEVICE_CONTROL -> ioctl,
 * IRP_MJ_CLEANUP -> flush (once per close, per owner), IRP_MJ_CLOSE ->
 * release (last reference). Every entry point that can start work enters
 * the device's remove lock; flush and release do not, so they never fail,
 * also after removal: the file's reference keeps the device memory alive.
 */
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "pendtimer.h"

static_assert(sizeof(struct pendtimer_wait) == 16);
static_assert(sizeof(struct pendtimer_arm) == 24);
static_assert(sizeof(struct pendtimer_stats) == 128);

/* Context: process. misc_open() holds misc_mtx around this. */
static int pendtimer_open(struct inode *inode, struct file *file)
{
	struct pendtimer_dev *pd = container_of(file->private_data,
						struct pendtimer_dev, misc);
	struct pendtimer_remove_lock_holder h;
	struct pendtimer_file *pf;
	int ret;

	ret = pendtimer_remove_lock_enter(&pd->remove_lock, &h, "open");
	if (ret)
		return ret;

	pf = kzalloc(sizeof(*pf), GFP_KERNEL_ACCOUNT);
	if (!pf) {
		ret = -ENOMEM;
		goto err_exit_remove_lock;
	}
	ret = pendtimer_file_init(pf, pd);
	if (ret)
		goto err_free_pf;

	kref_get(&pd->ref);
	mutex_lock(&pd->files_lock);
	list_add_tail(&pf->node, &pd->files);
	mutex_unlock(&pd->files_lock);

	file->private_data = pf;
	stream_open(inode, file);
	pendtimer_remove_lock_exit(&pd->remove_lock, &h);
	return 0;

err_free_pf:
	kfree(pf);
err_exit_remove_lock:
	pendtimer_remove_lock_exit(&pd->remove_lock, &h);
	return ret;
}

/*
 * IRP_MJ_CLEANUP: on every close(), complete this owner's requests. First
 * wait for submissions already inside the submission section (the per-open
 * rundown), so that none submitted before the close stays pending.
 * Context: process; never fails.
 */
static int pendtimer_flush(struct file *file, fl_owner_t id)
{
	struct pendtimer_file *pf = file->private_data;

	down_write(&pf->rundown);
	up_write(&pf->rundown);
	pendtimer_sweep(pf, id, PENDTIMER_FLUSHED);
	return 0;
}

/* IRP_MJ_CLOSE: the last reference. Context: process; never fails. */
static int pendtimer_release(struct inode *inode, struct file *file)
{
	struct pendtimer_file *pf = file->private_data;
	struct pendtimer_dev *pd = pf->pd;

	/* Removal sweeps the files on this list: leave it first. */
	mutex_lock(&pd->files_lock);
	list_del(&pf->node);
	mutex_unlock(&pd->files_lock);

	pendtimer_file_destroy(pf);
	kfree(pf);
	pendtimer_dev_put(pd);
	return 0;
}

static long pendtimer_do_ioctl(struct pendtimer_file *pf, unsigned int cmd,
			       void __user *argp)
{
	switch (cmd) {
	case PENDTIMER_IOC_WAIT: {
		struct pendtimer_wait w;

		if (copy_from_user(&w, argp, sizeof(w)))
			return -EFAULT;
		return pendtimer_wait(pf, &w);
	}
	case PENDTIMER_IOC_ARM: {
		struct pendtimer_arm a;

		if (copy_from_user(&a, argp, sizeof(a)))
			return -EFAULT;
		return pendtimer_arm(pf, &a);
	}
	case PENDTIMER_IOC_CANCEL: {
		u64 tag;

		if (get_user(tag, (u64 __user *)argp))
			return -EFAULT;
		return pendtimer_cancel(pf, tag);
	}
	case PENDTIMER_IOC_STATS: {
		struct pendtimer_stats st;

		pendtimer_read_stats(pf->pd->counters, &st);
		if (copy_to_user(argp, &st, sizeof(st)))
			return -EFAULT;
		return 0;
	}
	default:
		return -ENOTTY;
	}
}

/* Context: process; WAIT sleeps inside the remove lock. */
static long pendtimer_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct pendtimer_file *pf = file->private_data;
	struct pendtimer_remove_lock_holder h;
	long ret;

	ret = pendtimer_remove_lock_enter(&pf->pd->remove_lock, &h, "ioctl");
	if (ret)
		return ret;
	ret = pendtimer_do_ioctl(pf, cmd, (void __user *)arg);
	pendtimer_remove_lock_exit(&pf->pd->remove_lock, &h);
	return ret;
}

const struct file_operations pendtimer_fops = {
	.owner		= THIS_MODULE,
	.open		= pendtimer_open,
	.flush		= pendtimer_flush,
	.release	= pendtimer_release,
	.unlocked_ioctl	= pendtimer_ioctl,
	/* The structures have one layout for 32- and 64-bit callers. */
	.compat_ioctl	= compat_ptr_ioctl,
	.uring_cmd	= pendtimer_uring_cmd,
};
