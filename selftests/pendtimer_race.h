/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixture of the pendtimer race tests, shared by pendtimer_race_test.c
 * (rules 1 and 2, the WAIT/ARM stress) and pendtimer_race_pend_test.c (the
 * PEND stress): one open file, race_delay_us put back after every test,
 * the timer's CPU and the test thread's (-1 when there is only one CPU).
 */
#ifndef PENDTIMER_RACE_H
#define PENDTIMER_RACE_H

#include "pendtimer_util.h"
#include "pendtimer_pend.h"

#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define JOIN_MS		10000

FIXTURE(race) {
	int fd;
	int fd2;
	int efd;
	long long saved_delay;
	int cpu_timer, cpu_main;	/* -1 when there is only one CPU */
};

FIXTURE_SETUP(race)
{
	struct pendtimer_stats s;
	int ret;

	self->fd = self->fd2 = self->efd = -1;
	self->saved_delay = -1;
	PT_ASSERT_OPEN(self->fd);
	ret = pt_param_read("race_delay_us", &self->saved_delay);
	ASSERT_EQ(0, ret) {
		TH_LOG("read " PT_PARAMS "race_delay_us: %s", strerror(-ret));
	}
	if (self->saved_delay != 0) {
		TH_LOG("race_delay_us was %lld at start; using 0", self->saved_delay);
		self->saved_delay = 0;
	}
	ASSERT_EQ(0, pt_param_write("race_delay_us", 0));
	PT_ASSERT_QUIET_START(self->fd, s);
	self->cpu_timer = pt_nth_cpu(0);
	self->cpu_main = pt_nth_cpu(1);
	if (self->cpu_main < 0)
		self->cpu_timer = -1;
}

FIXTURE_TEARDOWN(race)
{
	/* first, so nothing below runs with a 10 ms callback */
	EXPECT_EQ(0, pt_param_write("race_delay_us",
				    self->saved_delay < 0 ? 0 : self->saved_delay));
	if (self->fd2 >= 0)
		close(self->fd2);
	if (self->efd >= 0)
		close(self->efd);
	if (self->fd >= 0)
		close(self->fd);
	PT_EXPECT_QUIET(10000);
}

#endif /* PENDTIMER_RACE_H */
