/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pendtimer_soak: what its files share: sizes, the round, the hand-offs,
 * the helpers each file gives the others. main.c says what the soak does.
 */
#ifndef PENDTIMER_SOAK_H
#define PENDTIMER_SOAK_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <linux/futex.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/pendtimer.h>
#include <pendtimer.h>

#include "kselftest.h"
#include "soak_pend.h"

#define SOAK_ID		7
#define MAXN		1024
#define NOWN		64	/* requests with an eventfd of their own */
#define NWAIT		2
#define NLEFT		2
#define NPEND		16	/* PENDs per round (kernels 6.7+) */
#define NCAND		(NREQ + NWAIT + NPEND)	/* CANCEL candidates */
#define NREQ		(MAXN + NLEFT)	/* ARM requests */
#define MAXDELAYS	32
#define WINDOW_NS	(20 * NSEC_PER_MSEC)	/* callback busy-wait per round */

#define NSEC_PER_USEC	((uint64_t)1000)
#define NSEC_PER_MSEC	((uint64_t)1000000)
#define NSEC_PER_SEC	((uint64_t)1000000000)


/* ------------------------------------------------------------------ */

enum { CL_CLOSE = 1, CL_UNBIND = 2, CL_DEL = 4, CL_RING = 8 };

struct round {
	/* set up by the main thread before the racers start */
	int fd_wait;		/* WAITs and ARMs */
	int fd_cancel;		/* the canceller's descriptor */
	int fd_close;		/* the descriptor the closer closes */
	uint64_t T;
	uint64_t due[NREQ];
	uint64_t tag[NREQ];
	int ncancel;
	int cancel_idx[NCAND];	/* >= NREQ: the WAITs, >= NREQ + NWAIT: PENDs */
	int64_t off_cancel;
	int actions;		/* CL_* */
	int64_t off_close, off_remove, off_ring;
	uint64_t wdue[NWAIT], wtag[NWAIT];
	int npend;
	uint64_t pdue[NPEND], ptag[NPEND];
	/* results */
	int cancel_res[NCAND];
	uint64_t cancel_t[NCAND];
	uint64_t t_close, t_remove, t_remove_end, t_ring;
	int pres[NPEND];
	uint64_t pt1[NPEND];
	int close_res, remove_res;
	int wres[NWAIT];
	uint64_t wt1[NWAIT];
	uint64_t t_cancel_done, t_close_done;
	uint64_t t_quiet;	/* no due request of the round pending any more */
	/* submission */
	int n, nshared;
	int arm_res[NREQ];
};

/* ------------------------------------------------------------------ */

struct dstat {
	long delay;
	uint64_t rounds, requests, contested, timer_late, cleanup_deferred;
	uint64_t cancel_ok, cancel_enoent, fired, flushed, removed;
};

/* util.c */
extern uint64_t rng_state;

/* racers.c */
extern int64_t dt_release, dt_cancel, dt_close, dt_wait, dt_quiet;
extern struct round RD;
extern struct soak_pend SP;	/* the main thread's ring; the closer may exit it */
extern int go_cancel, go_close, go_wait[NWAIT], go_sub;
extern int done_cancel, done_close, done_wait[NWAIT], done_sub;
extern int efd[NOWN], efd_shared;
extern int quit;
extern int cpu_timer, cpu_race;

/* check.c */
extern int nfail_outcome, nfail_counter, nfail_harness;

/* util.c */
void spin_until(uint64_t t);
uint64_t rnd_below(uint64_t n);
int pin(int cpu);
int settle(struct pendtimer_stats *st);

/* racers.c */
void submit_half(int parity);
void wait_flag(int *f, int v);
void set_flag(int *f, int v);
void *submitter(void *arg);
void *canceller(void *arg);
void *closer(void *arg);
void *waiter(void *arg);

/* check.c */
bool contested_at(uint64_t due, uint64_t t_cancel, uint64_t window);
void failf(int *cnt, const char *fmt, ...);
const char *errs(int r);

/* the whole run: its settings and totals */
struct run {
	uint64_t target, seconds, seed, t_start;
	long nmax, orig_delay;
	long delays[MAXDELAYS];
	struct dstat ds[MAXDELAYS];
	int ndelays, ncpu;
	bool pend_on, created, was_bound;
	uint64_t per_req;	/* submission cost estimate */
	uint64_t rounds, contested, late_total, deferred_total, late_rounds;
	uint64_t won_timer, won_other;
	uint64_t p_sub, p_fired, p_cancel_ok, p_ecanceled, p_enodev, p_gone,
		 p_interrupted, p_ring_exits;
	uint64_t t_settle, t_submit, t_race, t_collect, t_dev;
	struct pendtimer_stats prev;
	bool have_prev;
};
extern struct run S;

/* one round: its size and what its requests did */
struct tally {
	int di, n, nshared, fd;
	long delay;
	bool removal, del;
	uint64_t window;
	struct pendtimer_stats before, after;
	uint64_t fired_efd, shared_v, round_contested;
	int wfired, cancel_ok, cancel_enoent, nreq_round;
	int pfired, pvisible, pcancel_ok;
};

/* round.c */
bool round_run(void);

/* check.c */
void check_arms(struct tally *t);
void check_waits(struct tally *t);
void check_pends(struct tally *t);
bool check_counters(struct tally *t);
int round_requests(int n);

/* racers.c */
void racers_start(void);
void racers_stop(void);

#endif /* PENDTIMER_SOAK_H */
