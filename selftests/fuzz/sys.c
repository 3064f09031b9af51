// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_fuzz: small system helpers: a device's state in sysfs, its minor, a
 * counter by outcome (the rest comes from lib/).
 */
#include "fuzz.h"

/* ------------------------------------------------------------------ */
/* small system helpers */

/* SL_ABSENT, SL_UNBOUND or SL_BOUND, as sysfs has device @id */
int slot_sysfs_state(int id)
{
	if (!pt_bus_dev_exists(id))
		return SL_ABSENT;
	return pt_bus_dev_bound(id) ? SL_BOUND : SL_UNBOUND;
}

int dev_minor_of(int id, unsigned int *minor)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/pendtimer%d", id);
	if (stat(path, &st))
		return -errno;
	*minor = minor(st.st_rdev);
	return 0;
}

__u64 stat_field(const struct pendtimer_stats *s, int o)
{
	switch (o) {
	case O_FIRED:
		return s->fired;
	case O_CANCELLED:
		return s->cancelled;
	case O_INTR:
		return s->interrupted;
	case O_FLUSHED:
		return s->flushed;
	default:
		return s->removed;
	}
}
