// SPDX-License-Identifier: LGPL-2.1 OR MIT
/* libpendtimer: a WAIT issued from a helper thread (a PEND's: ring.c). */
#include <sched.h>
#include <string.h>

#include "internal.h"

static void *pt_waiter_fn(void *arg)
{
	struct pt_waiter *w = arg;

	if (w->cpu >= 0)
		pt_pin_self(w->cpu);
	w->t_start = pt_now_ns();
	__atomic_store_n(&w->started, 1, __ATOMIC_RELEASE);
	w->ret = pt_wait(w->fd, w->timeout_ns, w->tag);
	w->t_end = pt_now_ns();
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

int pt_waiter_launch(struct pt_waiter *w, int fd, __u64 timeout_ns, __u64 tag,
		     int cpu, void *(*fn)(void *))
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->timeout_ns = timeout_ns;
	w->tag = tag;
	w->cpu = cpu;
	w->ret = 1;	/* no WAIT or PEND returns 1: "did not return" */
	return -pthread_create(&w->th, NULL, fn, w);
}

int pt_waiter_start(struct pt_waiter *w, int fd, __u64 timeout_ns, __u64 tag,
		    int cpu)
{
	return pt_waiter_launch(w, fd, timeout_ns, tag, cpu, pt_waiter_fn);
}

void pt_waiter_wait_started(struct pt_waiter *w)
{
	while (!__atomic_load_n(&w->started, __ATOMIC_ACQUIRE))
		sched_yield();
}
