// SPDX-License-Identifier: LGPL-2.1 OR MIT
/* libpendtimer: the STATS counters, their invariant, a quiet device. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pendtimer.h"

#define PT_FIELD(f)	{ #f, offsetof(struct pendtimer_stats, f) }

const struct pt_stat_field pt_stat_fields[] = {
	PT_FIELD(submitted),
	PT_FIELD(fired),
	PT_FIELD(cancelled),
	PT_FIELD(interrupted),
	PT_FIELD(flushed),
	PT_FIELD(removed),
	PT_FIELD(pending),
	PT_FIELD(race_timer_late),
	PT_FIELD(race_cleanup_deferred),
};

const size_t pt_stat_fields_nr = sizeof(pt_stat_fields) / sizeof(pt_stat_fields[0]);

__u64 pt_stat_get(const struct pendtimer_stats *s, size_t i)
{
	return *(const __u64 *)((const char *)s + pt_stat_fields[i].off);
}

bool pt_invariant_ok(const struct pendtimer_stats *s)
{
	return s->submitted == s->fired + s->cancelled + s->interrupted +
			       s->flushed + s->removed + s->pending;
}

bool pt_reserved_zero(const struct pendtimer_stats *s)
{
	size_t i;

	for (i = 0; i < sizeof(s->reserved) / sizeof(s->reserved[0]); i++)
		if (s->reserved[i])
			return false;
	return true;
}

void pt_stats_delta(struct pendtimer_stats *d, const struct pendtimer_stats *a,
		    const struct pendtimer_stats *b)
{
	const __u64 *pa = (const __u64 *)a, *pb = (const __u64 *)b;
	__u64 *pd = (__u64 *)d;
	size_t i;

	for (i = 0; i < sizeof(*d) / sizeof(__u64); i++)
		pd[i] = pa[i] - pb[i];
}

void pt_stats_fmt(char *buf, size_t len, const struct pendtimer_stats *s)
{
	snprintf(buf, len,
		 "submitted=%llu fired=%llu cancelled=%llu interrupted=%llu "
		 "flushed=%llu removed=%llu pending=%llu timer_late=%llu "
		 "cleanup_deferred=%llu",
		 (unsigned long long)s->submitted,
		 (unsigned long long)s->fired,
		 (unsigned long long)s->cancelled,
		 (unsigned long long)s->interrupted,
		 (unsigned long long)s->flushed,
		 (unsigned long long)s->removed,
		 (unsigned long long)s->pending,
		 (unsigned long long)s->race_timer_late,
		 (unsigned long long)s->race_cleanup_deferred);
}

int pt_wait_pending(int fd, __u64 want, unsigned int timeout_ms,
		    struct pendtimer_stats *out)
{
	uint64_t deadline = pt_now_ns() + (uint64_t)timeout_ms * PT_NSEC_PER_MSEC;
	struct pendtimer_stats s;
	int ret;

	for (;;) {
		ret = pt_stats(fd, &s);
		if (ret)
			break;
		if (s.pending == want)
			break;
		if (pt_now_ns() > deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		pt_sleep_ns(200 * PT_NSEC_PER_USEC);
	}
	if (out)
		*out = s;
	return ret;
}

int pt_settle(int fd, unsigned int timeout_ms, struct pendtimer_stats *out)
{
	uint64_t deadline = pt_now_ns() + (uint64_t)timeout_ms * PT_NSEC_PER_MSEC;
	struct pendtimer_stats a, b;
	int ret;

	for (;;) {
		ret = pt_stats(fd, &a);
		if (ret)
			break;
		if (a.pending == 0 && pt_invariant_ok(&a)) {
			pt_sleep_ns(100 * PT_NSEC_PER_USEC);
			ret = pt_stats(fd, &b);
			if (ret)
				break;
			if (!memcmp(&a, &b, sizeof(a)))
				break;
		}
		if (pt_now_ns() > deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		pt_sleep_ms(1);
	}
	if (out)
		*out = a;
	return ret;
}

int pt_settle_id(int id, unsigned int timeout_ms, struct pendtimer_stats *out)
{
	int fd = pt_open_id(id), ret;

	if (fd < 0)
		return fd;
	ret = pt_settle(fd, timeout_ms, out);
	close(fd);
	return ret;
}
