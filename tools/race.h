/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pendtimer race: the shared state of the mix (struct race), its threads and
 * forced rounds (race.c), used by the command's steps (cmd_race.c).
 */
#ifndef PENDTIMER_RACE_H
#define PENDTIMER_RACE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli.h"

#define RACE_MAX_WAITERS	32
#define RACE_MAX_CANCELLERS	16
#define RACE_ARM_SLOTS		16
#define RACE_PEND_SLOTS		16
#define RACE_PEND_INFLIGHT	32	/* PENDs parked at once, at most */
#define RACE_DUE_MAX_US		50

struct race_wctr {		/* one WAIT thread's view */
	uint64_t accepted, fired, ecanceled, eintr, enodev, refused;
	int refused_err;
};

struct race_cctr {		/* one CANCEL thread's view */
	uint64_t ok_wait, ok_arm, ok_pend, enoent, other;
	int other_err;
};

struct race {
	int fd;				/* the shared open file */
	uint64_t iterations;
	unsigned int nwaiters, ncancellers;
	unsigned int close_us, signal_us;

	uint64_t next_iter;		/* atomic: iterations claimed */
	uint64_t next_tag;		/* atomic: tags are unique in the run */
	uint64_t arms_claimed;		/* atomic */
	volatile int stop_helpers;
	volatile int submitters_left;	/* atomic */

	uint64_t wslot[RACE_MAX_WAITERS];	/* live WAIT tag, 0 = none */
	uint64_t aslot[RACE_ARM_SLOTS];		/* recent ARM tags */
	uint64_t pslot[RACE_PEND_SLOTS];	/* recent PEND tags */
	pthread_t wth[RACE_MAX_WAITERS];

	struct race_wctr w[RACE_MAX_WAITERS + 1];	/* the last: forced rounds */
	struct race_cctr c[RACE_MAX_CANCELLERS + 1];	/* the last: forced rounds */
	/* the ARM thread */
	int efd;
	uint64_t arm_accepted, arm_refused, arm_fired;
	int arm_refused_err;
	/* the PEND thread (when the kernel parks PENDs: 6.7+) */
	bool pend_on;
	uint64_t pends_claimed;		/* atomic */
	uint64_t pend_accepted, pend_fired, pend_ecanceled, pend_enodev;
	uint64_t pend_refused;
	int pend_refused_err;
	/* closer, signaller */
	uint64_t closes, close_errs, signals;
};

struct race_arg {
	struct race *r;
	unsigned int idx;
};

struct check {
	int failed;
};

#define RACE_FORCE_DELAY_US	10000
/* race_delay_us as it was, and whether it still has to be written back */
extern bool race_restore_needed;
extern long long race_saved_delay;

/* the threads of the mix (race.c) */
void *race_waiter(void *arg);
void *race_armer(void *arg);
void *race_pender(void *arg);
void *race_canceller(void *arg);
void *race_closer(void *arg);
void *race_signaller(void *arg);
bool race_pend_probe(int ctl);
void race_take_eventfd(struct race *r);

/* forced rounds, settling, progress (race.c) */
bool race_force(struct race *r, int ctl, int rule);
bool race_settle(int ctl, struct pendtimer_stats *out, unsigned int timeout_ms);
void race_restore_delay(void);
bool stdout_is_terminal(void);
unsigned int online_cpus(void);
void race_progress(struct race *r, int ctl, const char *phase, bool tty,
		   uint64_t t0, const struct pendtimer_stats *s0);

/* the result table and checks (race.c) */
const char *u64str(uint64_t v);
void check_eq(struct check *ck, const char *what, uint64_t user, uint64_t kern,
	      const char *note);
void check_true(struct check *ck, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* PENDTIMER_RACE_H */
