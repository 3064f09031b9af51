// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_fuzz: operations on the devices: debugfs, new_device, del_device, unbind,
 * bind, malformed bus writes, race_delay_us.
 */
#include "fuzz.h"

/* ---- debugfs ---- */

void op_debugfs(void)
{
	int si = slot_pick();
	struct slot *s = &W->slots[si];
	char path[128], buf[4096];
	int n, removing = -1, holders = -1, hw = -1, lines = 0;
	bool stable = s->state == SL_BOUND && !s->busy;
	unsigned int gen = s->gen;
	char *p, *sv;

	snprintf(path, sizeof(path), DBGFS "pendtimer%d/holders", s->id);
	M_unlock();
	n = pt_read_buf(path, buf, sizeof(buf));
	M_lock();
	stable = stable && gen == s->gen;
	if (!stable)
		return;		/* a device operation overlapped the read */
	if (n <= 0) {
		fail(F_RESULT, "read %s on a bound device: %s", path, n ? strerror(-n) : "empty");
		return;
	}
	for (p = strtok_r(buf, "\n", &sv); p; p = strtok_r(NULL, "\n", &sv)) {
		if (sscanf(p, "removing: %d", &removing) == 1)
			continue;
		if (sscanf(p, "holders: %d", &holders) == 1)
			continue;
		if (sscanf(p, "high_watermark: %d", &hw) == 1)
			continue;
		if (!strncmp(p, "max_hold_ns: ", 13))
			continue;
		if (!strncmp(p, "holder: pid ", 12)) {
			if (!strstr(p, " entry open ") && !strstr(p, " entry ioctl ") &&
			    !strstr(p, " entry uring_cmd wait ") && !strstr(p, " entry uring_cmd cancel ") &&
			    !strstr(p, " entry uring_cmd pend "))
				fail(F_RESULT, "%s: bad holder line '%s'", path, p);
			lines++;
			continue;
		}
		fail(F_RESULT, "%s: unexpected line '%s'", path, p);
	}
	if (removing < 0 || holders < 0 || hw < 0 || holders != lines || hw < holders)
		fail(F_RESULT, "%s: inconsistent: removing=%d holders=%d lines=%d high_watermark=%d",
		     path, removing, holders, lines, hw);
	if (removing != 0)
		fail(F_RESULT, "%s: removing=%d on a bound device", path, removing);
}

/* ---- devices ---- */

/* Under M: the removal of slot @si's binding begins. */
static void removal_begin(struct slot *s)
{
	struct binding *b = BI(s->bind);
	int ofi, i;

	b->t_rs = evclock();
	for (ofi = b->ofiles; ofi >= 0; ofi = OF(ofi)->bnext)
		for (i = OF(ofi)->reqs; i >= 0; i = R(i)->onext)
			if (req_live(R(i)))
				ev_add(R(i), EV_REMOVE, b->t_rs);
}

/* Under M: the removal returned: everything accepted before it is claimed. */
static void removal_end(struct slot *s)
{
	struct binding *b = BI(s->bind);
	int ofi, i;

	b->t_re = evclock();
	for (ofi = b->ofiles; ofi >= 0; ofi = OF(ofi)->bnext)
		for (i = OF(ofi)->reqs; i >= 0; i = R(i)->onext)
			cleanup_done(R(i), O_REMOVED, b->t_rs, b->t_re);
}

void slot_bound(struct slot *s, int bd)
{
	unsigned int minor = 0;
	int bi;

	if (dev_minor_of(s->id, &minor))
		fail(F_RESULT, "pendtimer%d bound but /dev/pendtimer%d is missing", s->id, s->id);
	bi = binding_new((int)(s - W->slots), bd, minor);
	if (bi < 0) {
		fail(F_HARNESS, "out of bindings");
		return;
	}
	s->bind = bi;
	s->bd = bd;
	s->state = SL_BOUND;
}

/* the sysfs file and the value a device operation writes */
static void devop_write(int op, int id, char *path, size_t plen, char *val, size_t vlen)
{
	switch (op) {
	case OP_NEWDEV:
		snprintf(path, plen, BUS "new_device");
		snprintf(val, vlen, "%d\n", id);
		break;
	case OP_DELDEV:
		snprintf(path, plen, BUS "del_device");
		snprintf(val, vlen, "%d", id);
		break;
	case OP_UNBIND:
		snprintf(path, plen, DRV "unbind");
		snprintf(val, vlen, "pendtimer%d", id);
		break;
	default:
		snprintf(path, plen, DRV "bind");
		snprintf(val, vlen, "pendtimer%d", id);
		break;
	}
}

/* Under M: device operation @op returned @ret on slot @s (found in state @st) */
static int devop_done(struct slot *s, int si, int op, int st, int ret)
{
	int expect, sys;

	switch (op) {
	case OP_NEWDEV:
		expect = st == SL_ABSENT ? 0 : -EEXIST;
		if (ret == 0) {
			int bd = bdev_new(si);

			sys = slot_sysfs_state(s->id);
			if (sys != SL_BOUND)
				fail(F_RESULT, "new_device %d: the driver did not bind (%s)", s->id, sl_name[sys]);
			if (bd >= 0)
				slot_bound(s, bd);
		}
		break;
	case OP_DELDEV:
		expect = st == SL_ABSENT ? -ENODEV : 0;
		if (ret == 0) {
			if (st == SL_BOUND)
				removal_end(s);
			if (s->bd >= 0) {
				BD(s->bd)->alive = 0;
				if (BD(s->bd)->a.n_arm)
					BD(s->bd)->deleted_in_epoch_with_arm = 1;
			}
			s->state = SL_ABSENT;
			s->bind = -1;
			s->bd = -1;
		}
		break;
	case OP_UNBIND:
		expect = st == SL_BOUND ? 0 : -ENODEV;
		if (ret == 0 && st == SL_BOUND) {
			removal_end(s);
			s->state = SL_UNBOUND;
			s->bind = -1;
		}
		break;
	default:
		expect = st == SL_UNBOUND ? 0 : st == SL_BOUND ? -EBUSY : -ENODEV;
		if (ret == 0 && st == SL_UNBOUND)
			slot_bound(s, s->bd);
		break;
	}
	return expect;
}

/* Under M: sysfs and the device node as the model has the slot */
static void devop_check_state(struct slot *s)
{
	int sys = slot_sysfs_state(s->id);
	bool node;

	if (sys != s->state)
		fail(F_RESULT, "pendtimer%d is %s in sysfs, the model says %s", s->id,
		     sl_name[sys], sl_name[s->state]);
	node = pt_dev_node_exists(s->id);
	if (node != (s->state == SL_BOUND))
		fail(F_RESULT, "/dev/pendtimer%d %s with the device %s", s->id,
		     node ? "exists" : "is missing", sl_name[s->state]);
}

void devop(int op)
{
	int si = slot_pick(), ret, st, expect;
	struct slot *s = &W->slots[si];
	char path[128], val[32], rb[32], eb[32];

	if (!W->devops)
		return;
	M_unlock();
	pthread_mutex_lock(&s->mu);
	M_lock();
	st = s->state;
	s->busy = 1;
	s->gen++;
	s->busy_add = op == OP_NEWDEV || op == OP_BIND;
	if ((op == OP_DELDEV || op == OP_UNBIND) && st == SL_BOUND)
		removal_begin(s);
	set_in_op(op, -1);
	M_unlock();

	devop_write(op, s->id, path, sizeof(path), val, sizeof(val));
	ret = pt_write_str(path, val);

	M_lock();
	clear_in_op();
	W->n_devops++;
	expect = devop_done(s, si, op, st, ret);
	if (ret != expect)
		fail(F_RESULT, "write '%s' to %s with the device %s -> %s, want %s",
		     val, path, sl_name[st], res_str(ret, rb, sizeof(rb)),
		     res_str(expect, eb, sizeof(eb)));
	devop_check_state(s);
	s->busy = 0;
	s->busy_add = 0;
	s->gen++;
	M_unlock();
	pthread_mutex_unlock(&s->mu);
	M_lock();
}

void op_badbus(void)
{
	static const char *const bad[] = {
		"abc", "-1", "4294967296", "2147483648", "12abc", " 7", "0x10", "99999999999",
	};
	const char *v = bad[rnd_below(8)];
	int which = (int)rnd_below(4), ret, want;
	char rb[32], wb[32];
	const char *path;

	M_unlock();
	switch (which) {
	case 0:
		path = BUS "new_device";
		want = -EINVAL;
		break;
	case 1:
		path = BUS "del_device";
		want = -EINVAL;
		break;
	case 2:
		path = DRV "bind";
		want = -ENODEV;
		break;
	default:
		path = DRV "unbind";
		want = -ENODEV;
		break;
	}
	ret = pt_write_str(path, v);
	M_lock();
	/* a u32 above INT_MAX: new_device calls it malformed, del_device unknown */
	if (which == 1 && ret == -ENODEV && !strcmp(v, "2147483648"))
		ret = want;
	if (ret != want)
		fail(F_RESULT, "write '%s' to %s -> %s, want %s", v, path,
		     res_str(ret, rb, sizeof(rb)), res_str(want, wb, sizeof(wb)));
}

void op_delay(void)
{
	static const char *const vals[] = {
		"0", "0", "0", "1", "2", "5", "10", "20", "50", "100", "200",
	};
	unsigned int r = (unsigned int)rnd_below(100);
	char rb[32];
	int ret;

	M_unlock();
	if (r < 80) {
		ret = pt_write_str(PARAMS "race_delay_us", vals[rnd_below(11)]);
		if (ret)
			goto bad;
	} else if (r < 90) {
		/* a wide window, briefly */
		ret = pt_write_str(PARAMS "race_delay_us", r < 88 ? "1000" : "10000");
		if (ret)
			goto bad;
		pt_sleep_ns(NSEC_PER_MSEC + rnd_below(3 * NSEC_PER_MSEC));
		ret = pt_write_str(PARAMS "race_delay_us", "0");
		if (ret)
			goto bad;
	} else {
		static const char *const badv[] = { "10001", "-1", "abc", "4294967296" };
		const char *v = badv[rnd_below(4)];

		ret = pt_write_str(PARAMS "race_delay_us", v);
		/* out of range: -EINVAL; not a u32 at all: kstrtouint's -ERANGE */
		if (ret != -EINVAL && !(ret == -ERANGE && !strcmp(v, "4294967296"))) {
			M_lock();
			fail(F_RESULT, "race_delay_us='%s' -> %s, want -EINVAL", v, res_str(ret, rb, sizeof(rb)));
			return;
		}
	}
	M_lock();
	return;
bad:
	M_lock();
	fail(F_RESULT, "writing race_delay_us: %s", res_str(ret, rb, sizeof(rb)));
}
