// SPDX-License-Identifier: LGPL-2.1 OR MIT
/* libpendtimer: time and a small random number generator. */
#include <errno.h>
#include <time.h>

#include "pendtimer.h"

uint64_t pt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * PT_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

void pt_sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / PT_NSEC_PER_SEC),
		.tv_nsec = (long)(ns % PT_NSEC_PER_SEC),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

void pt_sleep_ms(unsigned int ms)
{
	pt_sleep_ns((uint64_t)ms * PT_NSEC_PER_MSEC);
}

void pt_sleep_until(uint64_t deadline)
{
	uint64_t now = pt_now_ns();

	if (now < deadline)
		pt_sleep_ns(deadline - now);
}

bool pt_sleep_until_stop(uint64_t deadline, volatile int *stop)
{
	for (;;) {
		uint64_t now = pt_now_ns();

		if (stop && *stop)
			return false;
		if (now >= deadline)
			return true;
		pt_sleep_ns(deadline - now > 50 * PT_NSEC_PER_MSEC ?
			    50 * PT_NSEC_PER_MSEC : deadline - now);
	}
}

void pt_spin_until(uint64_t deadline)
{
	while (pt_now_ns() < deadline)
		;
}

double pt_secs(uint64_t ns)
{
	return (double)ns / (double)PT_NSEC_PER_SEC;
}

uint64_t pt_xorshift64(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

uint64_t pt_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
