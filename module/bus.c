// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer bus and devices, probe and remove (the netdevsim pattern).
 *
 * Writing an ID to /sys/bus/pendtimer/new_device creates bus device
 * pendtimer<ID> (WDM: a PDO appears); the driver's probe then creates
 * /dev/pendtimer<ID> (AddDevice + IRP_MN_START_DEVICE). Writing the ID to
 * del_device, unbinding the driver, or rmmod runs remove
 * (IRP_MN_REMOVE_DEVICE), which:
 *
 *  1. kills the remove lock: every entry point now fails with -ENODEV;
 *  2. completes every pending request of every open file as removed
 *     (rule 2 of SPEC.md section 3 applies to running timers);
 *  3. drains the remove lock: drops the initial reference and waits until
 *     every thread or io-wq worker inside the device has left;
 *  4. only then unregisters the char device and debugfs and drops the
 *     binding's reference. Open files keep struct pendtimer_dev alive
 *     and get -ENODEV for everything until they are closed.
 */
#include <linux/device.h>
#include <linux/miscdevice.h>
#include <linux/slab.h>

#include "pendtimer.h"

/*
 * Protects pendtimer_busdevs and pendtimer_bus_enabled; held across device
 * registration and removal. Lock 1 of the lock order (pendtimer.h).
 */
static DEFINE_MUTEX(pendtimer_bus_lock);
static LIST_HEAD(pendtimer_busdevs);
/*
 * new_device works only while set: from the end of module init to the
 * start of module exit, which deletes every device in the same critical
 * section that clears it, so that no device is added behind its back
 * (the netdevsim enable gate).
 */
static bool pendtimer_bus_enabled;

static struct pendtimer_busdev *to_pendtimer_busdev(struct device *dev)
{
	return container_of(dev, struct pendtimer_busdev, dev);
}

/* ---- the bound driver: struct pendtimer_dev ---- */

static void pendtimer_dev_release(struct kref *ref)
{
	struct pendtimer_dev *pd = container_of(ref, struct pendtimer_dev, ref);

	put_device(&pd->busdev->dev);
	mutex_destroy(&pd->files_lock);
	kfree(pd);
}

/**
 * pendtimer_dev_put() - drop a reference to a bound device
 * @pd: the device
 *
 * Context: process.
 */
void pendtimer_dev_put(struct pendtimer_dev *pd)
{
	kref_put(&pd->ref, pendtimer_dev_release);
}

/* Context: process, device_lock(dev) held by the driver core. */
static int pendtimer_bus_probe(struct device *dev)
{
	struct pendtimer_busdev *busdev = to_pendtimer_busdev(dev);
	struct pendtimer_dev *pd;
	int ret;

	device_lock_assert(dev);
	pd = kzalloc(sizeof(*pd), GFP_KERNEL);
	if (!pd)
		return -ENOMEM;
	kref_init(&pd->ref);
	pd->busdev = busdev;
	get_device(dev);
	pd->counters = &busdev->counters;
	pendtimer_remove_lock_init(&pd->remove_lock);
	mutex_init(&pd->files_lock);
	INIT_LIST_HEAD(&pd->files);
	strscpy(pd->name, dev_name(dev), sizeof(pd->name));

	pd->misc.minor = MISC_DYNAMIC_MINOR;
	pd->misc.name = pd->name;
	pd->misc.fops = &pendtimer_fops;
	pd->misc.parent = dev;
	pd->misc.mode = 0600;
	ret = misc_register(&pd->misc);
	if (ret)
		goto err_put_dev;

	pendtimer_debugfs_add(pd);
	dev_set_drvdata(dev, pd);
	return 0;

err_put_dev:
	pendtimer_dev_put(pd);
	return ret;
}

/* Context: process, device_lock(dev) held by the driver core; sleeps. */
static void pendtimer_bus_remove(struct device *dev)
{
	struct pendtimer_dev *pd = dev_get_drvdata(dev);
	struct pendtimer_file *pf;

	device_lock_assert(dev);
	pendtimer_remove_lock_kill(&pd->remove_lock);

	mutex_lock(&pd->files_lock);
	list_for_each_entry(pf, &pd->files, node)
		pendtimer_sweep(pf, NULL, PENDTIMER_REMOVED);
	mutex_unlock(&pd->files_lock);

	pendtimer_remove_lock_drain(&pd->remove_lock);

	pendtimer_debugfs_remove(pd);
	misc_deregister(&pd->misc);
	dev_set_drvdata(dev, NULL);
	pendtimer_dev_put(pd);
}

/* ---- bus devices: struct pendtimer_busdev ---- */

static void pendtimer_busdev_release(struct device *dev)
{
	kfree(to_pendtimer_busdev(dev));
}

static struct pendtimer_busdev *pendtimer_busdev_find(unsigned int id)
{
	struct pendtimer_busdev *busdev;

	lockdep_assert_held(&pendtimer_bus_lock);
	list_for_each_entry(busdev, &pendtimer_busdevs, node)
		if (busdev->dev.id == id)
			return busdev;
	return NULL;
}

static pendtimer_bus_type_t pendtimer_bus;

/* Context: process, pendtimer_bus_lock held. */
static int pendtimer_busdev_new(unsigned int id)
{
	struct pendtimer_busdev *busdev;
	int ret;

	lockdep_assert_held(&pendtimer_bus_lock);
	if (id > INT_MAX)
		return -EINVAL;
	if (pendtimer_busdev_find(id))
		return -EEXIST;

	busdev = kzalloc(sizeof(*busdev), GFP_KERNEL);
	if (!busdev)
		return -ENOMEM;
	device_initialize(&busdev->dev);
	busdev->dev.bus = &pendtimer_bus;
	busdev->dev.release = pendtimer_busdev_release;
	busdev->dev.id = id;
	ret = dev_set_name(&busdev->dev, "pendtimer%u", id);
	if (ret)
		goto err_put;
	ret = device_add(&busdev->dev);
	if (ret)
		goto err_put;
	list_add_tail(&busdev->node, &pendtimer_busdevs);
	return 0;

err_put:
	put_device(&busdev->dev);
	return ret;
}

/* Context: process, pendtimer_bus_lock held; sleeps until removal is done. */
static void pendtimer_busdev_del(struct pendtimer_busdev *busdev)
{
	lockdep_assert_held(&pendtimer_bus_lock);
	list_del(&busdev->node);
	device_unregister(&busdev->dev);
}

static int pendtimer_parse_id(const char *buf, unsigned int *id)
{
	return kstrtouint(buf, 10, id) ? -EINVAL : 0;
}

static ssize_t new_device_store(pendtimer_bus_type_t *bus, const char *buf,
				size_t count)
{
	unsigned int id;
	int ret;

	ret = pendtimer_parse_id(buf, &id);
	if (ret)
		return ret;
	mutex_lock(&pendtimer_bus_lock);
	/* The module is loading or unloading: no new devices. */
	ret = pendtimer_bus_enabled ? pendtimer_busdev_new(id) : -ENODEV;
	mutex_unlock(&pendtimer_bus_lock);
	return ret ? ret : count;
}
static BUS_ATTR_WO(new_device);

static ssize_t del_device_store(pendtimer_bus_type_t *bus, const char *buf,
				size_t count)
{
	struct pendtimer_busdev *busdev;
	unsigned int id;
	int ret;

	ret = pendtimer_parse_id(buf, &id);
	if (ret)
		return ret;
	mutex_lock(&pendtimer_bus_lock);
	busdev = pendtimer_busdev_find(id);
	if (busdev)
		pendtimer_busdev_del(busdev);
	mutex_unlock(&pendtimer_bus_lock);
	return busdev ? count : -ENODEV;
}
static BUS_ATTR_WO(del_device);

static struct attribute *pendtimer_bus_attrs[] = {
	&bus_attr_new_device.attr,
	&bus_attr_del_device.attr,
	NULL,
};
ATTRIBUTE_GROUPS(pendtimer_bus);

static pendtimer_bus_type_t pendtimer_bus = {
	.name		= "pendtimer",
	.bus_groups	= pendtimer_bus_groups,
	.probe		= pendtimer_bus_probe,
	.remove		= pendtimer_bus_remove,
};

static struct device_driver pendtimer_driver = {
	.name		= "pendtimer",
	.bus		= &pendtimer_bus,
	.owner		= THIS_MODULE,
};

/* Disable new_device and delete every device, in one critical section. */
static void pendtimer_busdev_del_all(void)
{
	struct pendtimer_busdev *busdev, *tmp;

	mutex_lock(&pendtimer_bus_lock);
	pendtimer_bus_enabled = false;
	list_for_each_entry_safe_reverse(busdev, tmp, &pendtimer_busdevs, node)
		pendtimer_busdev_del(busdev);
	mutex_unlock(&pendtimer_bus_lock);
}

/**
 * pendtimer_bus_init() - register bus and driver, create the first devices
 * @nr_devices: create pendtimer0 .. pendtimer<nr_devices - 1>
 *
 * Context: module init.
 * Return: 0 or a negative errno, with everything undone.
 */
int pendtimer_bus_init(unsigned int nr_devices)
{
	unsigned int id;
	int ret;

	ret = bus_register(&pendtimer_bus);
	if (ret)
		return ret;
	ret = driver_register(&pendtimer_driver);
	if (ret)
		goto err_bus_unregister;

	mutex_lock(&pendtimer_bus_lock);
	for (id = 0; id < nr_devices && !ret; id++)
		ret = pendtimer_busdev_new(id);
	pendtimer_bus_enabled = !ret;
	mutex_unlock(&pendtimer_bus_lock);
	if (ret)
		goto err_del_devices;
	return 0;

err_del_devices:
	pendtimer_busdev_del_all();
	driver_unregister(&pendtimer_driver);
err_bus_unregister:
	bus_unregister(&pendtimer_bus);
	return ret;
}

/**
 * pendtimer_bus_exit() - remove every device, unregister driver and bus
 *
 * new_device is disabled first, under the same lock as the deletion, so
 * no device outlives the module. Files still open on deleted devices
 * cannot exist: each pins the module.
 *
 * Context: module exit.
 */
void pendtimer_bus_exit(void)
{
	pendtimer_busdev_del_all();
	driver_unregister(&pendtimer_driver);
	bus_unregister(&pendtimer_bus);
}
