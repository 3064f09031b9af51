/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libpendtimer's own: what one of its sources shares with another. Not
 * installed, not for clients (they have pendtimer.h).
 */
#ifndef PENDTIMER_LIB_INTERNAL_H
#define PENDTIMER_LIB_INTERNAL_H

#include "pendtimer.h"

/*
 * pt_waiter_launch() - @w for a request of @fd (@timeout_ns, @tag), then a
 * thread (pinned to @cpu if >= 0) running @fn(@w): pt_waiter_start() with
 * a WAIT's thread (waiter.c), pt_pender_start() with a PEND's (ring.c).
 *
 * Return: 0 or -errno of pthread_create().
 */
int pt_waiter_launch(struct pt_waiter *w, int fd, __u64 timeout_ns, __u64 tag,
		     int cpu, void *(*fn)(void *));

#endif /* PENDTIMER_LIB_INTERNAL_H */
