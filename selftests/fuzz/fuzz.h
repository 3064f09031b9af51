/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pendtimer_fuzz: what its files share: sizes, the result codes, the
 * shared model, the operations' tables, and the functions each file
 * gives the others. main.c says what the fuzzer does.
 */
#ifndef PENDTIMER_FUZZ_H
#define PENDTIMER_FUZZ_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>
#include <linux/pendtimer.h>
#include <pendtimer.h>

#include "kselftest.h"
#include "pendtimer_pend.h"

/* ------------------------------------------------------------------ */
/* sizes */

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define NSLOTS		3	/* device IDs 0..2 */
#define MAX_THREADS	8
#define MAX_CHILDREN	3
#define MAX_AGENTS	(MAX_THREADS + MAX_CHILDREN)
#define MAX_OWNERS	160	/* per epoch: the process and its children */
#define MAX_FDS		40	/* model descriptors per owner */
#define MAX_OFILES	2048	/* per epoch */
#define MAX_BINDINGS	512	/* per epoch */
#define MAX_BDEVS	1024	/* per run */
#define MAX_EFDS	128	/* per epoch */
#define MAX_REQS	(1 << 17)	/* per epoch */
#define HASH_BITS	16
#define NCANCEL		8	/* cancels in flight per open file */
#define MAX_URING	16	/* outstanding uring WAITs per agent */

#define NSEC_PER_USEC	((uint64_t)1000)
#define NSEC_PER_MSEC	((uint64_t)1000000)
#define NSEC_PER_SEC	((uint64_t)1000000000)

#define PARAMS		PT_PARAMS
#define BUS		PT_SYSBUS "/"
#define DRV		PT_DRV "/"
#define DBGFS		PT_DEBUGFS "/"

/* ------------------------------------------------------------------ */
/* result codes */

enum {
	RC_OK, RC_ECANCELED, RC_EINTR, RC_ENODEV, RC_ENOENT, RC_EEXIST,
	RC_ENOSPC, RC_EINVAL, RC_EFAULT, RC_EBADF, RC_ENOTTY, RC_ENOMEM,
	RC_EBUSY, RC_EALREADY, RC_ENXIO, RC_EOPNOTSUPP, RC_OTHER, RC_NR
};
#define RB(x)	(1u << RC_##x)
struct rc_ent { int e; const char *n; };

/* ------------------------------------------------------------------ */
/* outcomes and claim events */

enum { O_FIRED, O_CANCELLED, O_INTR, O_FLUSHED, O_REMOVED, O_NR };
#define OB(x)		(1u << (x))
#define O_ALL		(OB(O_FIRED) | OB(O_CANCELLED) | OB(O_INTR) | OB(O_FLUSHED) | OB(O_REMOVED))

enum {
	EV_CANCEL = 1, EV_FLUSH = 2, EV_REMOVE = 4, EV_SIGNAL = 8,
	EV_ASYNC = 16, EV_EXIT = 32, EV_KILL = 64,
};

enum { RK_WAIT, RK_URING, RK_ARM, RK_PEND };
/* a URING_CMD the model follows through the ring: WAIT or PEND */
#define RK_ON_RING(k)	((k) == RK_URING || (k) == RK_PEND)
enum { RS_FREE, RS_INFLIGHT, RS_ACTIVE, RS_DONE };
enum { ACC_NO, ACC_MAYBE, ACC_YES };

/* failure categories: one KTAP result each */
enum { F_RESULT, F_OUTCOME, F_ACCOUNT, F_FINAL, F_KERNEL, F_HARNESS, F_NR };

/* ------------------------------------------------------------------ */
/* the shared model */

struct fdent {
	int fd;			/* -1: free */
	uint8_t kind;		/* FK_PT or FK_EFD */
	uint8_t ph;		/* closed: a placeholder pipe holds the number */
	uint8_t closing;	/* a close or dup2 is under way */
	int inuse;		/* operations using the number */
	int of, efd;
	uint64_t t_ph;
};
enum { FK_PT = 1, FK_EFD };

struct owner {
	int used;
	pid_t pid;
	int agent;
	int nfds;
	struct fdent fds[MAX_FDS];
	uint64_t t_exit;
	int exiting;
};

struct ofile {
	int used;
	int bind, bd;
	int nfd;		/* model descriptors, all owners */
	int nsync;		/* synchronous syscalls in flight */
	int nuring;		/* uring requests holding the file */
	int reqs;		/* list head (req.onext) */
	int bnext;		/* in the binding's list */
	int released;
	int uring_ever;		/* io_uring held it: its release may lag */
	int nflushing;		/* closes of it under way */
	uint64_t nposs;		/* requests possibly pending */
	uint64_t ngone;		/* requests that stopped being possibly pending */
	struct { uint64_t tag, t; int used; } cancels[NCANCEL];
};

struct binding {
	int used;
	int slot, bd;
	unsigned int minor;
	uint64_t t_rs, t_re;	/* removal started / returned */
	int ofiles;
};

struct acct {
	int64_t sub_min, sub_max;
	int64_t omin[O_NR], omax[O_NR];
	int64_t cancel_ok;	/* CANCEL results 0: exact */
	int64_t wu_fired_min, wu_fired_max;
	int64_t arm_fired_max;
	int64_t n_arm;
	/* for the STATS lower/upper bounds */
	int64_t lb_cancel, lb_fired, lb_sub;
	int64_t ub_cancel, ub_sub;
};

struct bdev {
	int used;
	int slot;
	int alive;		/* not deleted */
	int deleted_in_epoch_with_arm;
	struct pendtimer_stats base;
	struct acct a;
	struct pendtimer_stats last;
	uint64_t last_t1;
	int have_last;
};

struct efd {
	int used;
	int nfd;
	int lossy;
	uint64_t total;
	int64_t fired_max;
	int nreq;
};

struct req {
	int hnext, onext;
	int of, owner, agent, fe, efd, bd, bind;
	uint8_t kind, state, orphan, gone;
	uint8_t sure_cancel, sure_async, acc, accounted;
	uint8_t iosqe_async;	/* io_uring WAIT submitted with IOSQE_ASYNC */
	uint32_t ev, gone_set, outcomes;
	int result;
	uint64_t tag, timeout;
	uint64_t t_reg, t_acc, due_lo, t_notpend, t_ev1, t_ev2, t_gone;
	uint64_t ngone_at_reg;
};

enum { SL_ABSENT, SL_UNBOUND, SL_BOUND };

struct slot {
	int id;
	int state;
	int busy;		/* a device operation is in flight */
	int busy_add;		/* ... and it adds a binding */
	int bind, bd;
	unsigned int gen;	/* device operations started or ended */
	pthread_mutex_t mu;	/* serialises device operations */
};

struct agent {
	int used;
	int is_child;
	pid_t pid;
	int idx;
	int owner;
	uint64_t rng[4];
	int in_op;
	int op;
	uint64_t op_t0;
	int cur_req;		/* a WAIT ioctl in flight */
	uint32_t sig_sent, sig_handled;
	int sig_inflight;
	int die, parked, exited, killed;
	int child_mode;
	int child_ops;
	uint64_t seed;
};

enum { PH_RUN, PH_STOP, PH_FINISH };

struct world {
	pthread_mutex_t mu;
	pthread_rwlock_t fdlock;	/* the process's descriptor table vs fork */
	uint64_t seed;
	int nthreads, nchildren_max, devops, verbose;
	uint64_t ops_target, ops, epoch_len;
	uint64_t t_start, t_limit;
	int phase;		/* PH_*: read and written with __atomic */
	int stop;		/* a failure: finish at the next barrier */
	int epoch;
	uint64_t epoch_end;
	unsigned int max_pending;
	uint64_t evclock;
	int nullfd;

	uint64_t n_notify_eintr;
	int nfail[F_NR];
	int nprinted;

	/* statistics */
	uint64_t n_op[64], t_op[64];
	uint64_t n_req, n_uring, n_pend, n_arm_ok, n_wait_res[RC_NR], n_cancel_ok;
	uint64_t n_pend_async_enoent;
	int pend_on;		/* the kernel parks PENDs (6.7+) */
	uint64_t n_ambiguous_open, n_forks, n_kills, n_signals, n_devops;
	uint64_t n_sure_cancel, n_sure_flush, n_probe_confirm;
	uint64_t n_barriers;

	struct slot slots[NSLOTS];
	struct agent agents[MAX_AGENTS];
	struct owner owners[MAX_OWNERS];
	int nowners;
	struct ofile ofiles[MAX_OFILES];
	int nofiles;
	struct binding bindings[MAX_BINDINGS];
	struct bdev bdevs[MAX_BDEVS];
	struct efd efds[MAX_EFDS];
	int nefds;
	int hash[1 << HASH_BITS];
	struct req reqs[MAX_REQS];
	int nreqs;
	uint64_t colliding[32];
};

/* ------------------------------------------------------------------ */
/* the operations */

enum {
	OP_OPEN, OP_CLOSE, OP_DUP, OP_FORK, OP_WAIT, OP_ARM, OP_CANCEL,
	OP_STATS, OP_BADIOCTL, OP_UWAIT, OP_UCANCEL, OP_UBAD, OP_ASYNC,
	OP_RINGEXIT, OP_REAP, OP_SIGNAL, OP_KILL, OP_EFDNEW, OP_EFDREAD,
	OP_EFDCLOSE, OP_DEBUGFS, OP_NEWDEV, OP_DELDEV, OP_UNBIND, OP_BIND,
	OP_BADBUS, OP_DELAY, OP_SLEEP, OP_UPEND, OP_NR
};

/* io_uring, per agent (thread-local; a child starts without one) */
struct uring_state {
	struct io_uring ring;
	int up;
	unsigned int entries;
	int out[MAX_URING];	/* outstanding WAIT requests */
	int nout;
	int orphaned;		/* a ring exit left requests to io_uring */
	int used;		/* submitted anything this epoch */
	uint64_t seq;
};

#define UD_WAIT		(1ULL << 62)
#define UD_CANCEL	(2ULL << 62)
#define UD_ASYNC	(3ULL << 62)
#define UD_BAD		(1ULL << 61)
#define UD_TYPE(x)	((x) & (3ULL << 62))
/* the epoch, so that a late CQE never meets a request index reused since */
#define UD_EPOCH	((uint64_t)(W->epoch & 0xffff) << 32)
#define UD_EPOCH_OF(x)	(((x) >> 32) & 0xffff)

/* ---- submissions: WAIT and ARM (ioctl) ---- */

struct subctx {
	int g;			/* descriptor (fdent) */
	int ri;			/* request */
	int efd_g;		/* eventfd descriptor, or -1 */
	int efd_bad;		/* 0, -EBADF or -EINVAL expected from the eventfd */
	int badptr;
	int badargs;
	uint64_t t0, t1;
	uint32_t sig_handled0;
	int uring_busy;		/* this thread had io_uring requests in flight */
};

/* a bad user pointer: an address that is never mapped */
#define BADPTR	((void *)0x10)

struct cancelctx {
	int g, ofi, slot, badptr;
	uint64_t tag, t_reg, t0, t1;
};

/* uring CANCELs in flight on this agent's ring */
struct ucancel {
	struct cancelctx c;
	int used, done, res;
};

/* model.c */
extern const struct rc_ent rc_tab[RC_NR];
extern const char *const o_name[O_NR];
extern const char *const rk_name[];
extern const char *const f_name[F_NR];
extern const char *const sl_name[];
extern struct world *W;
extern __thread struct agent *self;

/* agent.c */
extern const char *const op_name[OP_NR];

/* ops_uring.c */
extern __thread struct uring_state *U;
extern __thread struct ucancel ucancels[4];

/* ops_proc.c */
extern pthread_t threads[MAX_THREADS];

/* model: objects by index */

static inline struct req *R(int i) { return &W->reqs[i]; }
static inline struct ofile *OF(int i) { return &W->ofiles[i]; }
static inline struct binding *BI(int i) { return &W->bindings[i]; }
static inline struct bdev *BD(int i) { return &W->bdevs[i]; }
static inline struct owner *OW(int i) { return &W->owners[i]; }
static inline struct fdent *FE(int g) { return &W->owners[g / MAX_FDS].fds[g % MAX_FDS]; }
static inline int fe_index(int owner, int i) { return owner * MAX_FDS + i; }

/* model.c */
int rc_of(int res);
void rc_set_str(char *buf, size_t len, unsigned int set);
const char *res_str(int res, char *buf, size_t len);
void rng_seed(uint64_t *s, uint64_t seed);
uint64_t rnd(void);
uint64_t rnd_below(uint64_t n);
int chance(unsigned int permille);
void M_lock(void);
void M_unlock(void);
void fd_rdlock(void);
void fd_unlock(void);
void fd_enter(void);
uint64_t evclock(void);
unsigned int hash_ot(int of, uint64_t tag);
int ofile_new(int bind);
int binding_new(int slot, int bd, unsigned int minor);
int bdev_new(int slot);
int efd_new(void);
int fdent_new(int owner, int fd, int kind, int of, int efd);
int owner_new(pid_t pid, int agent);
int pick_fe(int owner, int kind);
void ev_add(struct req *r, uint32_t ev, uint64_t t);
uint32_t ev_outcomes(const struct req *r);
bool req_live(const struct req *r);
void req_not_poss(struct req *r);
void account(struct req *r);
void arm_gone(struct req *r, uint32_t set, uint64_t t);
void wait_gone(struct req *r, uint32_t set, uint64_t t);
void cleanup_done(struct req *r, int outcome, uint64_t ts, uint64_t te);
void of_maybe_released(int ofi, uint64_t ts, uint64_t te);
int req_new(int ofi, int fe, int kind, uint64_t tag, uint64_t timeout);
int tag_candidates(int ofi, uint64_t tag, int excl, uint64_t t0, uint64_t t1,
			  int *cands, int max);
int tag_def_pending_idx(int ofi, uint64_t tag, int excl, uint64_t t0, uint64_t t1,
			       uint64_t own);
bool tag_def_pending(int ofi, uint64_t tag, int excl, uint64_t t0, uint64_t t1,
			    uint64_t own);
uint64_t poss_max(const struct req *r);
void fe_release(int g);
void fe_reap(int owner);
void req_desc(const struct req *r, char *buf, size_t len);

/* report.c */
void fail(int cat, const char *fmt, ...);
void diag(const char *fmt, ...);
void kmsg_open(void);
int kmsg_scan(void);

/* sys.c */
int dev_minor_of(int id, unsigned int *minor);
int slot_sysfs_state(int id);
__u64 stat_field(const struct pendtimer_stats *s, int o);

/* agent.c */
void agent_loop(void);
void *thread_main(void *arg);

/* ops_uring.c */
int uring_reap(unsigned int wait_ms);
void op_uwait(void);
void op_ucancel(void);
void op_upend(void);
void op_ubad(void);
void op_async(void);
void ring_exit_locked(void);
void op_ringexit(void);
void uring_drain(void);

/* ops_file.c */
void set_in_op(int op, int cur_req);
void clear_in_op(void);
uint64_t pick_timeout(int blocking);
uint64_t pick_tag(int ofi);
int slot_pick(void);
void op_open(void);
void close_fe(int owner, int g, bool exiting, bool unlocked);
void op_close(void);
void op_dup(void);
void op_efd_new(void);
void op_efd_read(void);
void op_efd_close(void);
void op_wait(void);
void op_arm(void);
uint64_t pick_cancel_tag(int ofi);
void cancel_register(struct cancelctx *c);
void op_cancel(void);
void op_stats(void);
void op_badioctl(void);

/* check.c */
bool ph_during(int g, uint64_t t1);
void eval_submit(struct subctx *c, int res, bool uring);
void cancel_eval(struct cancelctx *c, int res, bool uring);

/* ops_proc.c */
void on_sigusr1(int sig);
void signal_agent(struct agent *a);
void op_signal(void);
void op_kill(void);
void op_fork(void);
void child_exit_locked(void);
void child_reaped_locked(struct agent *a, int status);
void reap_children(void);

/* ops_device.c */
void op_debugfs(void);
void slot_bound(struct slot *s, int bd);
void devop(int op);
void op_badbus(void);
void op_delay(void);

/* barrier.c */
void epoch_barrier(bool final);

#endif /* PENDTIMER_FUZZ_H */
