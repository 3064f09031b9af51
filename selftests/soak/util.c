// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_soak: random numbers, sleeping until a moment, CPU pinning;
 * the rest comes from lib/.
 */
#include "soak.h"

uint64_t rng_state;

/* Sleep until 300 us before @t, then spin: the CPU is free meanwhile. */
void spin_until(uint64_t t)
{
	if (pt_now_ns() + 400 * NSEC_PER_USEC < t)
		pt_sleep_until(t - 300 * NSEC_PER_USEC);
	pt_spin_until(t);
}

uint64_t rnd_below(uint64_t n)
{
	return n ? pt_splitmix64(&rng_state) % n : 0;
}

/* Pin the calling thread to @cpu, if there is one (>= 0). */
int pin(int cpu)
{
	return cpu < 0 ? 0 : pt_pin_self(cpu);
}

/* the soak device's counters, once it is quiet (60 s at most) */
int settle(struct pendtimer_stats *st)
{
	return pt_settle_id(SOAK_ID, 60 * 1000, st);
}
