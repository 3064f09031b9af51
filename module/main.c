// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer: the WDK "event" sample's pending requests, timers, cancel and
 * remove lock, on the Linux driver model.
 *
 * Module entry and exit (WDM: DriverEntry / DriverUnload) and parameters.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sysfs.h>

#include "pendtimer.h"

#define PENDTIMER_MAX_PENDING_LIMIT	1048576U
#define PENDTIMER_RACE_DELAY_LIMIT	10000U

unsigned int pendtimer_max_pending = 4096;
unsigned int pendtimer_race_delay_us;
static unsigned int pendtimer_nr_devices = 1;

static int pendtimer_param_set_range(const char *val, unsigned int *dst,
				     unsigned int min, unsigned int max)
{
	unsigned int v;
	int ret;

	ret = kstrtouint(val, 0, &v);
	if (ret)
		return ret;
	if (v < min || v > max)
		return -EINVAL;
	WRITE_ONCE(*dst, v);
	return 0;
}

static int pendtimer_max_pending_set(const char *val, const struct kernel_param *kp)
{
	return pendtimer_param_set_range(val, kp->arg, 1, PENDTIMER_MAX_PENDING_LIMIT);
}

static int pendtimer_race_delay_set(const char *val, const struct kernel_param *kp)
{
	return pendtimer_param_set_range(val, kp->arg, 0, PENDTIMER_RACE_DELAY_LIMIT);
}

static int pendtimer_track_holders_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int ret;

	ret = kstrtobool(val, &on);
	if (ret)
		return ret;
	pendtimer_remove_lock_track(on);
	return 0;
}

static int pendtimer_track_holders_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%c\n", pendtimer_remove_lock_tracking() ? 'Y' : 'N');
}

static const struct kernel_param_ops pendtimer_max_pending_ops = {
	.set = pendtimer_max_pending_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops pendtimer_race_delay_ops = {
	.set = pendtimer_race_delay_set,
	.get = param_get_uint,
};

/*
 * track_holders: the remove lock's debug block (SPEC.md section 4). The set
 * callback runs in process context under the parameter lock, which
 * serialises the static key's switches.
 */
static const struct kernel_param_ops pendtimer_track_holders_ops = {
	.set = pendtimer_track_holders_set,
	.get = pendtimer_track_holders_get,
};

module_param_cb(max_pending, &pendtimer_max_pending_ops, &pendtimer_max_pending, 0644);
MODULE_PARM_DESC(max_pending, "Pending requests per open file (1..1048576, default 4096)");
module_param_cb(race_delay_us, &pendtimer_race_delay_ops, &pendtimer_race_delay_us, 0644);
MODULE_PARM_DESC(race_delay_us,
		 "Test knob: busy-wait in every timer callback before it claims (0..10000 us)");
module_param_cb(track_holders, &pendtimer_track_holders_ops, NULL, 0644);
MODULE_PARM_DESC(track_holders,
		 "List the remove lock's holders in debugfs and time their holds (default N)");
module_param_named(nr_devices, pendtimer_nr_devices, uint, 0444);
MODULE_PARM_DESC(nr_devices, "Devices created at load, IDs 0..nr_devices-1 (default 1)");

static int __init pendtimer_init(void)
{
	int ret;

	ret = pendtimer_reqs_init();
	if (ret)
		return ret;
	pendtimer_debugfs_init();
	ret = pendtimer_bus_init(pendtimer_nr_devices);
	if (ret)
		goto err_debugfs_exit;
	return 0;

err_debugfs_exit:
	pendtimer_debugfs_exit();
	pendtimer_reqs_exit();
	return ret;
}

static void __exit pendtimer_exit(void)
{
	pendtimer_bus_exit();
	pendtimer_debugfs_exit();
	pendtimer_reqs_exit();
}

module_init(pendtimer_init);
module_exit(pendtimer_exit);

MODULE_DESCRIPTION("Pending requests completed by hrtimers: the WDK event sample on Linux");
MODULE_AUTHOR("pendtimer developers");
MODULE_LICENSE("GPL");
