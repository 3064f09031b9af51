// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer requests and their timer: where a request is born, claimed
 * and freed.
 *
 * Born: a WAIT request lives on its waiter's stack, like nanosleep's
 * hrtimer_sleeper (it cannot outlive the call, and the kernel stack is
 * charged to the caller's memory cgroup); an ARM request, which outlives
 * the call, comes from the pendtimer_req slab cache (SLAB_ACCOUNT), and so
 * does a PEND's, whose sink lives in its io_uring command (uring.c).
 * pendtimer_submit() puts either into its open file's pending set and its
 * timer queue, both under the file's lock.
 *
 * Timed: each open file has one hrtimer, armed for the earliest request in
 * its timer queue (a timerqueue ordered by due time, like the hrtimer
 * bases' own). Its callback, pendtimer_timer_fn(), fires every request
 * that is due and arms itself for the next one; a submission restarts it
 * only when its request becomes the earliest. Requests that join a queue
 * with an earlier one cost no hrtimer start, and one callback fires all
 * that are due when it runs (performance.md: what that bought).
 * "The timer callback of a request is running" means: the file's callback
 * has started (pf->firing_until set) and the request is due by then.
 *
 * Claimed: exactly one path takes a request out of the pending set and
 * the timer queue, under the file's lock, and reports the outcome in the
 * same critical section (pendtimer_complete()): the timer callback, a
 * cancel (pendtimer_cancel(), pendtimer_pend_cancel(), or the waiter
 * itself when signalled, pendtimer_interrupt()), a cleanup or a removal
 * (pendtimer_sweep()). The two priorities of SPEC.md section 3 fall out of
 * who may claim what:
 *
 *  1. A cancel claims whatever is in the set, also when the timer callback
 *     is already running for it: the callback then never sees it, and the
 *     cancel counts race_timer_late.
 *  2. A cleanup or removal claims a request only if its timer callback is
 *     not running. Otherwise the request stays in the set and the queue,
 *     marked deferred, for the callback to claim; the sweep counts
 *     race_cleanup_deferred and waits until every deferred request of the
 *     file has been claimed.
 *
 * Freed: the callback touches a request only under the file's lock and
 * only while it is in the timer queue, so whoever claims a request owns it
 * as soon as the lock is dropped: a WAIT request goes with its waiter's
 * stack frame; an ARM or PEND request is freed by its claimer after the
 * lock. Instead of freeing a PEND's request, the callback may keep it for
 * the file's next PEND (pendtimer_req_keep(), at most PENDTIMER_SPARE_MAX);
 * release frees what is kept. A claimed PEND's command is finished
 * (pendtimer_pend_finish(): io_uring task work, then io_uring_cmd_done())
 * after the lock too, as the claimer's last access.
 *
 * So no memory is freed while a callback or waiter can touch it: a waiter
 * (and its stack) lives until its request is claimed; a file lives while
 * it has requests in its set (release sweeps and waits), and its timer is
 * cancelled, waiting out a running callback, before it is freed; and the
 * module's exit waits for an RCU grace period, which covers the last lines
 * of callbacks (hard irq, or softirq with BH disabled on PREEMPT_RT).
 */
#include <linux/error-injection.h>
#include <linux/eventfd.h>
#include <linux/hash.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "pendtimer.h"
#include "trace.h"

/* Cleanup frees requests in batches so that interrupts stay off briefly. */
#define PENDTIMER_SWEEP_BATCH	64
/* The timer callback claims at most this many per hold of the file's lock. */
#define PENDTIMER_FIRE_BATCH	32
/*
 * A file keeps up to this many fired PEND requests for its next PENDs
 * (about 24 KiB, charged like the requests were, freed at release).
 */
#define PENDTIMER_SPARE_MAX	256
/* The pending set holds at most two requests per bucket on average. */
#define PENDTIMER_HASH_MIN_BITS	4
#define PENDTIMER_HASH_MAX_BITS	20

static struct kmem_cache *pendtimer_req_cache;

/**
 * struct pendtimer_waiter - a thread sleeping in WAIT (on its stack)
 * @sink: pf, owner, kind, and WAIT's return value written by the claimer
 * @task: the sleeping thread
 * @done: set with release semantics by the claimer, as its last access;
 *	read with acquire by the waiter while the claimer may write it.
 *	Not a bool: with UBSAN_BOOL (-fsanitize=bool), GCC turns a
 *	READ_ONCE() of a bool into a load that KCSAN instruments as a plain
 *	access, and the kcsan lane reported this intended race as a data race
 *	(__tsan_read1 where a u8 gets __tsan_volatile_read1; gcc 12).
 */
struct pendtimer_waiter {
	struct pendtimer_sink sink;
	struct task_struct *task;
	u8 done;
};

/**
 * struct pendtimer_evbind - an eventfd shared by the ARM requests of one
 *	owner on one open file (WDM: the KEVENT the DPC signals)
 * @sink: pf, owner and kind
 * @efd: the eventfd, referenced
 * @node: in pf->bindings, keyed by (@efd, owner), under pf->lock
 * @next_free: reuses @node once the binding is unlinked
 * @nr_reqs: requests pointing here, under pf->lock
 *
 * Sharing keeps a pending ARM request at 88 bytes: the eventfd and the
 * owner are stored once per binding, not once per request.
 */
struct pendtimer_evbind {
	struct pendtimer_sink sink;
	struct eventfd_ctx *efd;
	union {
		struct rb_node node;
		struct pendtimer_evbind *next_free;
	};
	unsigned int nr_reqs;
};

/* Low bit of pendtimer_req.sink: cleanup left it to its running callback. */
#define PENDTIMER_REQ_DEFERRED	1UL

/**
 * struct pendtimer_req - one pending request
 * @node: in its file's timer queue (pf->due), keyed by its due time
 *	(@node.expires), while it is pending; pf->lock
 * @tag: the caller's id, unique in the pending set of its file
 * @hnext: next in the pending set's bucket, or in a free batch; pf->lock
 * @sink: struct pendtimer_sink pointer, ORed with PENDTIMER_REQ_DEFERRED;
 *	changed under pf->lock while pending, and after that only by its
 *	claimer; an ARM's is cleared when its claim drops its use of the
 *	eventfd binding (which may then go)
 */
struct pendtimer_req {
	struct timerqueue_node node;
	u64 tag;
	struct pendtimer_req *hnext;
	unsigned long sink;
};

static struct pendtimer_sink *pendtimer_req_sink(const struct pendtimer_req *req)
{
	return (struct pendtimer_sink *)(req->sink & ~PENDTIMER_REQ_DEFERRED);
}

static ktime_t pendtimer_req_due(const struct pendtimer_req *req)
{
	return req->node.expires;
}

/* ---- the pending set: a hash of singly linked chains, under pf->lock ---- */

static struct pendtimer_req **pendtimer_bucket(struct pendtimer_file *pf, u64 tag)
{
	return &pf->buckets[hash_64(tag, pf->hash_bits)];
}

static struct pendtimer_req *pendtimer_set_find(struct pendtimer_file *pf, u64 tag)
{
	struct pendtimer_req *req;

	lockdep_assert_held(&pf->lock);
	for (req = *pendtimer_bucket(pf, tag); req; req = req->hnext)
		if (req->tag == tag)
			return req;
	return NULL;
}

static void pendtimer_set_add(struct pendtimer_file *pf, struct pendtimer_req *req)
{
	struct pendtimer_req **head = pendtimer_bucket(pf, req->tag);

	lockdep_assert_held(&pf->lock);
	req->hnext = *head;
	*head = req;
	pf->nr_pending++;
}

/* Unlink @req if it is still in the set: the claim. */
static bool pendtimer_set_del(struct pendtimer_file *pf, struct pendtimer_req *req)
{
	struct pendtimer_req **pp;

	lockdep_assert_held(&pf->lock);
	for (pp = pendtimer_bucket(pf, req->tag); *pp; pp = &(*pp)->hnext) {
		if (*pp == req) {
			*pp = req->hnext;
			return true;
		}
	}
	return false;
}

/* Find the request with @tag and unlink it, in one walk: a cancel's claim. */
static struct pendtimer_req *pendtimer_set_take(struct pendtimer_file *pf, u64 tag)
{
	struct pendtimer_req **pp, *req;

	lockdep_assert_held(&pf->lock);
	for (pp = pendtimer_bucket(pf, tag); (req = *pp); pp = &req->hnext) {
		if (req->tag == tag) {
			*pp = req->hnext;
			return req;
		}
	}
	return NULL;
}

/*
 * Process context, no locks: a bigger table if the set may outgrow it.
 * Failing is harmless (the chains get longer), and injectable.
 */
static noinline struct pendtimer_req **
pendtimer_set_grow_prepare(struct pendtimer_file *pf, unsigned int *bits)
{
	/* A hint without pf->lock: pendtimer_set_grow() decides under it. */
	unsigned int cur = data_race(pf->hash_bits);
	/* Same hint: the writers hold pf->lock, this reader does not. */
	unsigned int nr = data_race(pf->nr_pending);

	if (nr < (2U << cur) || cur >= PENDTIMER_HASH_MAX_BITS)
		return NULL;
	*bits = cur + 1;
	return kvcalloc(1U << *bits, sizeof(*pf->buckets), GFP_KERNEL_ACCOUNT);
}

ALLOW_ERROR_INJECTION(pendtimer_set_grow_prepare, NULL);

/* Rehash into @table if it is bigger; returns the table to free. */
static struct pendtimer_req **pendtimer_set_grow(struct pendtimer_file *pf,
						 struct pendtimer_req **table,
						 unsigned int bits)
{
	struct pendtimer_req **old = pf->buckets;
	unsigned int i, old_bits = pf->hash_bits;

	lockdep_assert_held(&pf->lock);
	if (!table || bits <= old_bits)
		return table;
	pf->buckets = table;
	pf->hash_bits = bits;
	for (i = 0; i < (1U << old_bits); i++) {
		struct pendtimer_req *req, *next;

		for (req = old[i]; req; req = next) {
			struct pendtimer_req **head = pendtimer_bucket(pf, req->tag);

			next = req->hnext;
			req->hnext = *head;
			*head = req;
		}
	}
	return old;
}

/* ---- eventfd bindings, under pf->lock ---- */

static int pendtimer_evbind_cmp(const struct pendtimer_evbind *b,
				const struct eventfd_ctx *efd, fl_owner_t owner)
{
	if (b->efd != efd)
		return b->efd < efd ? -1 : 1;
	if (b->sink.owner != owner)
		return b->sink.owner < owner ? -1 : 1;
	return 0;
}

static struct pendtimer_evbind *pendtimer_evbind_find(struct pendtimer_file *pf,
						      struct eventfd_ctx *efd,
						      fl_owner_t owner)
{
	struct rb_node *n = pf->bindings.rb_node;

	lockdep_assert_held(&pf->lock);
	while (n) {
		struct pendtimer_evbind *b = rb_entry(n, struct pendtimer_evbind, node);
		int c = pendtimer_evbind_cmp(b, efd, owner);

		if (!c)
			return b;
		n = c > 0 ? n->rb_left : n->rb_right;
	}
	return NULL;
}

static void pendtimer_evbind_insert(struct pendtimer_file *pf,
				    struct pendtimer_evbind *nb)
{
	struct rb_node **p = &pf->bindings.rb_node, *parent = NULL;

	lockdep_assert_held(&pf->lock);
	while (*p) {
		struct pendtimer_evbind *b = rb_entry(*p, struct pendtimer_evbind, node);

		parent = *p;
		if (pendtimer_evbind_cmp(b, nb->efd, nb->sink.owner) > 0)
			p = &(*p)->rb_left;
		else
			p = &(*p)->rb_right;
	}
	rb_link_node(&nb->node, parent, p);
	rb_insert_color(&nb->node, &pf->bindings);
}

/* Drop one request's use of @b; returns @b if it must now be freed. */
static struct pendtimer_evbind *pendtimer_evbind_unuse(struct pendtimer_file *pf,
						       struct pendtimer_evbind *b)
{
	lockdep_assert_held(&pf->lock);
	if (--b->nr_reqs)
		return NULL;
	rb_erase(&b->node, &pf->bindings);
	return b;
}

/* Any context: the binding is unreachable and no request points to it. */
static void pendtimer_evbind_free(struct pendtimer_evbind *b)
{
	eventfd_ctx_put(b->efd);
	kfree(b);
}

/* ARM's eventfd: -EBADF not open, -EINVAL not an eventfd; injectable. */
static noinline struct eventfd_ctx *pendtimer_eventfd_get(int fd)
{
	return eventfd_ctx_fdget(fd);
}

ALLOW_ERROR_INJECTION(pendtimer_eventfd_get, ERRNO);

/* Process context, no locks; injectable. */
static noinline struct pendtimer_evbind *pendtimer_evbind_alloc(void)
{
	return kmalloc(sizeof(struct pendtimer_evbind), GFP_KERNEL_ACCOUNT);
}

ALLOW_ERROR_INJECTION(pendtimer_evbind_alloc, NULL);

/*
 * The binding of (@*efd, @owner) for an ARM: found, or created with a new
 * binding allocated with pf->lock dropped (so another ARM may have created
 * it meanwhile: then the allocation is handed back in @*spare, for the
 * caller to free after the lock). A created binding takes over the
 * caller's reference to the eventfd: @*efd is set to NULL.
 * Context: process, pf->lock held (dropped and retaken to allocate).
 * Return: the binding, or NULL when the allocation failed.
 */
static struct pendtimer_evbind *
pendtimer_evbind_find_or_add(struct pendtimer_file *pf, struct eventfd_ctx **efd,
			     fl_owner_t owner, struct pendtimer_evbind **spare)
{
	struct pendtimer_evbind *b, *nb;

	lockdep_assert_held(&pf->lock);
	b = pendtimer_evbind_find(pf, *efd, owner);
	if (b)
		return b;
	spin_unlock_irq(&pf->lock);
	nb = pendtimer_evbind_alloc();
	spin_lock_irq(&pf->lock);
	b = pendtimer_evbind_find(pf, *efd, owner);
	if (b || !nb) {
		*spare = nb;
		return b;
	}
	nb->sink.pf = pf;
	nb->sink.owner = owner;
	nb->sink.kind = PENDTIMER_KIND_ARM;
	nb->efd = *efd;
	nb->nr_reqs = 0;
	pendtimer_evbind_insert(pf, nb);
	*efd = NULL;	/* the binding holds this reference now */
	return nb;
}

/* ---- claim and completion ---- */

static int pendtimer_result(enum pendtimer_outcome outcome, enum pendtimer_kind kind)
{
	switch (outcome) {
	case PENDTIMER_FIRED:
		return 0;
	case PENDTIMER_INTERRUPTED:
		/*
		 * Only a thread in the WAIT ioctl sees a signal. io_uring's
		 * async-cancel reaches an io-wq worker as one, and ring or task
		 * exit cancels a PEND: both are cancellations for the CQE.
		 */
		return kind == PENDTIMER_KIND_WAIT ? -EINTR : -ECANCELED;
	case PENDTIMER_REMOVED:
		return -ENODEV;
	default:
		return -ECANCELED;
	}
}

/*
 * Bookkeeping of a claim: @req has just left the pending set; it leaves
 * the timer queue here, so that the timer callback never sees it again.
 * Context: any, pf->lock held.
 */
static void pendtimer_claimed(struct pendtimer_file *pf, struct pendtimer_req *req)
{
	lockdep_assert_held(&pf->lock);
	timerqueue_del(&pf->due, &req->node);
	pf->nr_pending--;
	if ((req->sink & PENDTIMER_REQ_DEFERRED) && !--pf->nr_deferred)
		wake_up(&pf->drain_wq);
}

/*
 * Report @outcome to the sink of a claimed request. For a waiter this is
 * the claimer's last access to the request and to the waiter's stack. A
 * PEND only records its result here: the caller finishes its command
 * (pendtimer_req_release()) once the timer is known stopped and the lock
 * is dropped. Returns an eventfd binding whose last request this was, to
 * be freed by the caller after the request.
 * Context: any (hard irq in the timer callback), pf->lock held.
 */
static struct pendtimer_evbind *pendtimer_complete(struct pendtimer_file *pf,
						   struct pendtimer_req *req,
						   enum pendtimer_outcome outcome)
{
	struct pendtimer_sink *sink = pendtimer_req_sink(req);
	struct pendtimer_waiter *w;
	struct pendtimer_evbind *b;
	struct task_struct *task;

	lockdep_assert_held(&pf->lock);
	atomic64_inc(&pf->pd->counters->completed[outcome]);
	/*
	 * Counted before it stops being pending: a STATS reader that no
	 * longer sees it pending sees its outcome (pairs with the acquire in
	 * pendtimer_read_stats()).
	 */
	smp_mb__before_atomic();
	atomic64_dec(&pf->pd->counters->pending);
	trace_pendtimer_complete(pf->pd->busdev->dev.id, req->tag, sink->kind, outcome,
				 pendtimer_req_due(req));
	sink->result = pendtimer_result(outcome, sink->kind);

	switch (sink->kind) {
	case PENDTIMER_KIND_WAIT:
	case PENDTIMER_KIND_URING:
		w = container_of(sink, struct pendtimer_waiter, sink);
		task = w->task;
		/*
		 * Once done is seen, the waiter may return and its task exit:
		 * the RCU read section keeps the task_struct valid for the
		 * wake-up (it is freed after a grace period, as for rcuwait).
		 */
		rcu_read_lock();
		/* Publishes result; pairs with the acquire in pendtimer_wait(). */
		smp_store_release(&w->done, 1);
		wake_up_process(task);
		rcu_read_unlock();
		return NULL;
	case PENDTIMER_KIND_PEND:
		container_of(sink, struct pendtimer_pend, sink)->req = NULL;
		return NULL;
	case PENDTIMER_KIND_ARM:
		break;
	}

	b = container_of(sink, struct pendtimer_evbind, sink);
	if (outcome == PENDTIMER_FIRED)
		pendtimer_eventfd_signal(b->efd);
	/* Once its use is dropped the binding may go: forget it. */
	req->sink = 0;
	return pendtimer_evbind_unuse(pf, b);
}

/* Does the claimer free the request (else it is on a waiter's stack)? */
static bool pendtimer_req_on_heap(const struct pendtimer_req *req)
{
	enum pendtimer_kind kind = pendtimer_req_sink(req)->kind;

	return kind == PENDTIMER_KIND_ARM || kind == PENDTIMER_KIND_PEND;
}

/*
 * After the claim of an ARM or PEND request, with pf->lock dropped (the
 * timer callback no longer sees a claimed request): free the request and a
 * dead eventfd binding, then finish a PEND's command. The command goes
 * last: once finished, io_uring may free the sink with it.
 * Context: any (hard irq in the timer callback).
 */
static void pendtimer_req_release(struct pendtimer_req *req,
				  struct pendtimer_evbind *dead)
{
	/* NULL for an ARM (cleared at its claim), a PEND's sink otherwise */
	struct pendtimer_sink *sink = pendtimer_req_sink(req);

	kmem_cache_free(pendtimer_req_cache, req);
	if (dead)
		pendtimer_evbind_free(dead);
	if (sink)
		pendtimer_pend_finish(container_of(sink, struct pendtimer_pend, sink));
}

/* What a claimer collected under pf->lock, to be freed once it is dropped. */
struct pendtimer_free_batch {
	struct pendtimer_req *reqs;	/* ARM and PEND requests, by hnext */
	struct pendtimer_evbind *binds;	/* dead bindings, by next_free */
	unsigned int n;			/* requests claimed */
};

/*
 * Note @req, an ARM or PEND request just claimed, and @dead, a binding its
 * claim left unused, for pendtimer_batch_free().
 * Context: any, pf->lock held.
 */
static void pendtimer_free_later(struct pendtimer_free_batch *batch,
				 struct pendtimer_req *req,
				 struct pendtimer_evbind *dead)
{
	req->hnext = batch->reqs;
	batch->reqs = req;
	if (dead) {
		dead->next_free = batch->binds;
		batch->binds = dead;
	}
}

/* Free what a batch claimed. Context: any, pf->lock dropped. */
static void pendtimer_batch_free(struct pendtimer_free_batch *batch)
{
	struct pendtimer_evbind *b;
	struct pendtimer_req *req;

	while ((req = batch->reqs)) {
		batch->reqs = req->hnext;
		pendtimer_req_release(req, NULL);
	}
	while ((b = batch->binds)) {
		batch->binds = b->next_free;
		pendtimer_evbind_free(b);
	}
}

/*
 * Keep a claimed PEND request for its file's next PEND instead of freeing
 * it, while the file has fewer than PENDTIMER_SPARE_MAX: the slab round
 * trip of every PEND was a visible part of its throughput (performance.md).
 * Only the timer callback does this, as its last access to the request.
 * Return: the PEND to finish once the lock is dropped, or NULL when @req
 * is not kept (the caller releases it as usual).
 * Context: the timer callback, pf->lock held.
 */
static struct pendtimer_pend *pendtimer_req_keep(struct pendtimer_file *pf,
						 struct pendtimer_req *req)
{
	/* NULL for an ARM (cleared at its claim) */
	struct pendtimer_sink *sink = pendtimer_req_sink(req);

	lockdep_assert_held(&pf->lock);
	if (!sink || sink->kind != PENDTIMER_KIND_PEND ||
	    pf->nr_spare >= PENDTIMER_SPARE_MAX)
		return NULL;
	req->hnext = pf->spare;
	pf->spare = req;
	pf->nr_spare++;
	return container_of(sink, struct pendtimer_pend, sink);
}

/* ---- the file's timer ---- */

/*
 * Is the timer callback running for @req: started, and @req due by then,
 * but not claimed yet? (SPEC.md section 3: what rules 1 and 2 ask.)
 * Context: any, pf->lock held.
 */
static bool pendtimer_timer_running(const struct pendtimer_file *pf,
				    const struct pendtimer_req *req)
{
	lockdep_assert_held(&pf->lock);
	return pf->firing_until &&
	       ktime_compare(pendtimer_req_due(req), pf->firing_until) <= 0;
}

/*
 * Rule 1: a cancel has just claimed @req although the timer callback was
 * already running for it; the callback will not see it. Counted after the
 * completion, in the order the callback used to report it.
 * Context: process, pf->lock held.
 */
static void pendtimer_timer_late(struct pendtimer_file *pf, u64 tag)
{
	lockdep_assert_held(&pf->lock);
	atomic64_inc(&pf->pd->counters->race_timer_late);
	trace_pendtimer_timer_late(pf->pd->busdev->dev.id, tag);
}

/*
 * Arm the file's timer for @req when it has become the earliest request,
 * unless the callback is running: it arms the timer itself before it
 * returns (pendtimer_timer_rearm()).
 * Context: process, pf->lock held.
 */
static void pendtimer_timer_queue(struct pendtimer_file *pf,
				  struct pendtimer_req *req)
{
	lockdep_assert_held(&pf->lock);
	if (timerqueue_add(&pf->due, &req->node) && !pf->firing_until)
		hrtimer_start(&pf->timer, pendtimer_req_due(req), HRTIMER_MODE_ABS);
}

/*
 * The callback starts: from here on, every request due by @now counts as
 * having its timer callback running until the callback claims it.
 * Context: the timer callback, pf->lock held.
 */
static void pendtimer_timer_started(struct pendtimer_file *pf, ktime_t now)
{
	struct timerqueue_node *node;

	lockdep_assert_held(&pf->lock);
	pf->firing_until = now;
	if (!trace_pendtimer_timer_enter_enabled())
		return;
	for (node = timerqueue_getnext(&pf->due);
	     node && ktime_compare(node->expires, now) <= 0;
	     node = timerqueue_iterate_next(node))
		trace_pendtimer_timer_enter(pf->pd->busdev->dev.id,
					    container_of(node, struct pendtimer_req,
							 node)->tag);
}

/* What one hold of the lock in the timer callback claimed. */
struct pendtimer_fire_batch {
	struct pendtimer_free_batch freed;
	struct pendtimer_pend *kept[PENDTIMER_FIRE_BATCH];
	unsigned int nr_kept;
};

/*
 * Claim up to PENDTIMER_FIRE_BATCH requests that were due when the callback
 * started (WDM: CustomTimerDPC for each). Return: true if more are due.
 * Context: the timer callback, pf->lock held.
 */
static bool pendtimer_timer_fire(struct pendtimer_file *pf,
				 struct pendtimer_fire_batch *fb)
{
	struct timerqueue_node *node;
	struct pendtimer_evbind *dead;
	struct pendtimer_pend *kept;
	struct pendtimer_req *req;

	lockdep_assert_held(&pf->lock);
	while ((node = timerqueue_getnext(&pf->due)) &&
	       ktime_compare(node->expires, pf->firing_until) <= 0) {
		if (fb->freed.n == PENDTIMER_FIRE_BATCH)
			return true;
		req = container_of(node, struct pendtimer_req, node);
		/* In the queue while in the set: both change under pf->lock. */
		WARN_ON_ONCE(!pendtimer_set_del(pf, req));
		pendtimer_claimed(pf, req);
		fb->freed.n++;
		if (!pendtimer_req_on_heap(req)) {
			/* the waiter frees it: hands off from here */
			pendtimer_complete(pf, req, PENDTIMER_FIRED);
			continue;
		}
		dead = pendtimer_complete(pf, req, PENDTIMER_FIRED);
		kept = pendtimer_req_keep(pf, req);
		if (kept)
			fb->kept[fb->nr_kept++] = kept;
		else
			pendtimer_free_later(&fb->freed, req, dead);
	}
	return false;
}

/*
 * The callback is done: arm the timer for the earliest request left,
 * unless a submission has started it again meanwhile.
 * Context: the timer callback, pf->lock held.
 */
static enum hrtimer_restart pendtimer_timer_rearm(struct pendtimer_file *pf)
{
	struct timerqueue_node *next = timerqueue_getnext(&pf->due);

	lockdep_assert_held(&pf->lock);
	pf->firing_until = 0;
	if (!next || hrtimer_is_queued(&pf->timer))
		return HRTIMER_NORESTART;
	hrtimer_set_expires(&pf->timer, next->expires);
	return HRTIMER_RESTART;
}

/* Test knob: widen "running but not yet claimed" (SPEC.md, race_delay_us). */
static void pendtimer_race_delay(unsigned int delay_us)
{
	ktime_t end = ktime_add_us(ktime_get(), delay_us);

	while (ktime_before(ktime_get(), end))
		cpu_relax();
}

/*
 * The file's hrtimer callback: fire what is due. Context: hard irq on
 * standard kernels, the timer softirq thread on PREEMPT_RT.
 */
static enum hrtimer_restart pendtimer_timer_fn(struct hrtimer *timer)
{
	struct pendtimer_file *pf = container_of(timer, struct pendtimer_file, timer);
	unsigned int delay_us = READ_ONCE(pendtimer_race_delay_us);
	enum hrtimer_restart restart = HRTIMER_NORESTART;
	unsigned long flags;
	bool more;

	spin_lock_irqsave(&pf->lock, flags);
	pendtimer_timer_started(pf, ktime_get());
	if (unlikely(delay_us)) {
		spin_unlock_irqrestore(&pf->lock, flags);
		pendtimer_race_delay(delay_us);
		spin_lock_irqsave(&pf->lock, flags);
	}
	for (;;) {
		struct pendtimer_fire_batch fb = { };
		unsigned int i;

		more = pendtimer_timer_fire(pf, &fb);
		if (!more)
			restart = pendtimer_timer_rearm(pf);
		spin_unlock_irqrestore(&pf->lock, flags);

		/* Kept requests may be reused from here on: touch them no more. */
		for (i = 0; i < fb.nr_kept; i++)
			pendtimer_pend_finish(fb.kept[i]);
		pendtimer_batch_free(&fb.freed);
		if (!more)
			return restart;
		spin_lock_irqsave(&pf->lock, flags);
	}
}

/* ---- birth ---- */

/* A new, reused or on-stack request, not yet in any set or queue. */
static void pendtimer_req_init(struct pendtimer_req *req, u64 tag,
			       struct pendtimer_sink *sink)
{
	timerqueue_init(&req->node);
	req->tag = tag;
	req->hnext = NULL;
	req->sink = (unsigned long)sink;
}

/* An ARM or PEND request. Fault injection: fail_function may make this return NULL. */
static noinline struct pendtimer_req *pendtimer_req_alloc(u64 tag)
{
	struct pendtimer_req *req;

	req = kmem_cache_alloc(pendtimer_req_cache, GFP_KERNEL_ACCOUNT);
	if (!req)
		return NULL;
	pendtimer_req_init(req, tag, NULL);
	return req;
}

ALLOW_ERROR_INJECTION(pendtimer_req_alloc, NULL);

/*
 * A PEND request: one the file kept (pendtimer_req_keep()), set up again as
 * a new one, or else a new one allocated with pf->lock dropped.
 * Context: process, pf->lock held (dropped and retaken to allocate).
 * Return: the request, or NULL when the allocation failed.
 */
static struct pendtimer_req *pendtimer_req_get(struct pendtimer_file *pf, u64 tag)
{
	struct pendtimer_req *req = pf->spare;

	lockdep_assert_held(&pf->lock);
	if (req) {
		pf->spare = req->hnext;
		pf->nr_spare--;
		pendtimer_req_init(req, tag, NULL);
		return req;
	}
	spin_unlock_irq(&pf->lock);
	req = pendtimer_req_alloc(tag);
	spin_lock_irq(&pf->lock);
	return req;
}

/*
 * Accept @req into the pending set and the file's timer queue, due at @due.
 * Both under the lock: "in the set" equals "in the timer queue".
 * Context: process, pf->lock held, pf->rundown held for read.
 */
static int pendtimer_submit(struct pendtimer_file *pf, struct pendtimer_req *req,
			    ktime_t due)
{
	struct pendtimer_counters *c = pf->pd->counters;

	lockdep_assert_held(&pf->lock);
	lockdep_assert_held_read(&pf->rundown);
	pendtimer_remove_lock_assert_held(&pf->pd->remove_lock);
	if (pendtimer_remove_lock_dead(&pf->pd->remove_lock))
		return -ENODEV;
	if (pf->nr_pending >= READ_ONCE(pendtimer_max_pending))
		return -ENOSPC;
	if (pendtimer_set_find(pf, req->tag))
		return -EEXIST;
	pendtimer_set_add(pf, req);
	atomic64_inc(&c->submitted);
	atomic64_inc(&c->pending);
	req->node.expires = due;
	pendtimer_timer_queue(pf, req);
	trace_pendtimer_submit(pf->pd->busdev->dev.id, req->tag,
			       pendtimer_req_sink(req)->kind, due);
	return 0;
}

/*
 * The due time is fixed when the call enters, so that allocation, locking
 * and the eventfd lookup do not push it back (the file's timer runs with
 * HRTIMER_MODE_ABS and reads no clock to start).
 */
static ktime_t pendtimer_due(u64 timeout_ns)
{
	return ktime_add_ns(ktime_get(), timeout_ns);
}

/*
 * The waiter was signalled: claim its request as interrupted unless another
 * path did first. Either way the request is complete when this returns.
 * Context: process (the waiter), no locks.
 */
static void pendtimer_interrupt(struct pendtimer_file *pf, struct pendtimer_req *req)
{
	bool running;

	spin_lock_irq(&pf->lock);
	if (pendtimer_set_del(pf, req)) {
		running = pendtimer_timer_running(pf, req);
		pendtimer_claimed(pf, req);
		pendtimer_complete(pf, req, PENDTIMER_INTERRUPTED);
		if (running)
			pendtimer_timer_late(pf, req->tag);
	}
	spin_unlock_irq(&pf->lock);
}

/*
 * Sleep until the request is claimed, or claim it as interrupted.
 *
 * In an io-wq worker, TIF_NOTIFY_SIGNAL is how IORING_OP_ASYNC_CANCEL and
 * ring exit arrive: any signal_pending() interrupts. In the WAIT ioctl only
 * a signal does (-EINTR when the thread was signalled): TIF_NOTIFY_SIGNAL
 * there means task work, queued by io_uring for a ring this thread uses (a
 * completion, a new io-wq worker, a ring exit), which runs on the way back
 * to user space as after any other system call (compat.h, nosig). So the
 * ioctl decides on task_sigpending(), a real signal only: on kernels
 * without PF_NO_NOTIFY_SIGNAL, io_uring may set the flag again between
 * pendtimer_nosig_poll() and the check (the fuzzer's 6.12-rt seed
 * 0x373678f9227 got -EINTR that way); the flag only keeps schedule() from
 * sleeping, and the next pass parks it.
 * Context: process (the waiter), no locks.
 */
static void pendtimer_wait_sleep(struct pendtimer_file *pf,
				 struct pendtimer_waiter *w,
				 struct pendtimer_req *req)
{
	bool worker = current->flags & PF_IO_WORKER;
	struct pendtimer_nosig ns;

	if (!worker)
		pendtimer_nosig_begin(&ns);
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		/* Pairs with the release in pendtimer_complete(): see result. */
		if (smp_load_acquire(&w->done))
			break;
		if (!worker)
			pendtimer_nosig_poll(&ns);
		if (worker ? signal_pending(current) : task_sigpending(current)) {
			__set_current_state(TASK_RUNNING);
			pendtimer_interrupt(pf, req);
			break;
		}
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	if (!worker)
		pendtimer_nosig_end(&ns);
}

/**
 * pendtimer_wait() - submit a request and sleep until it completes
 * @pf: the open file
 * @args: timeout and tag, already copied from user space or the SQE
 *
 * Called with the device's remove lock entered; holds it while sleeping.
 *
 * Context: process: a system call, or an io-wq worker for URING_CMD.
 * Return: 0 fired; -ECANCELED cancelled, flushed or io_uring async-cancel;
 * -EINTR signalled; -ENODEV removed; or a submission error.
 */
int pendtimer_wait(struct pendtimer_file *pf, const struct pendtimer_wait *args)
{
	struct pendtimer_waiter w = {
		.sink = {
			.pf = pf,
			.owner = current->files,
			.kind = (current->flags & PF_IO_WORKER) ?
				PENDTIMER_KIND_URING : PENDTIMER_KIND_WAIT,
		},
		.task = current,
	};
	struct pendtimer_req req, **table;
	unsigned int bits;
	ktime_t due;
	int ret;

	if (args->timeout_ns > PENDTIMER_MAX_TIMEOUT_NS)
		return -EINVAL;
	due = pendtimer_due(args->timeout_ns);
	pendtimer_req_init(&req, args->tag, &w.sink);

	table = pendtimer_set_grow_prepare(pf, &bits);
	down_read(&pf->rundown);
	spin_lock_irq(&pf->lock);
	table = pendtimer_set_grow(pf, table, bits);
	ret = pendtimer_submit(pf, &req, due);
	spin_unlock_irq(&pf->lock);
	up_read(&pf->rundown);
	kvfree(table);
	if (ret)
		return ret;

	pendtimer_wait_sleep(pf, &w, &req);
	/*
	 * Claimed by now, by us or under the lock we took after the claimer;
	 * the callback no longer sees the request, which may go with the frame.
	 */
	WARN_ON_ONCE(!smp_load_acquire(&w.done));
	return w.sink.result;
}

/**
 * pendtimer_arm() - submit a request that signals an eventfd when it fires
 * @pf: the open file
 * @args: timeout, tag, eventfd and flags, copied from user space
 *
 * Context: process, with the device's remove lock entered.
 * Return: 0 accepted, or -EINVAL, -EBADF, -ENOMEM, -ENOSPC, -EEXIST, -ENODEV.
 */
int pendtimer_arm(struct pendtimer_file *pf, const struct pendtimer_arm *args)
{
	struct pendtimer_evbind *b, *spare = NULL, *dead = NULL;
	fl_owner_t owner = current->files;
	struct pendtimer_req *req, **table;
	struct eventfd_ctx *efd;
	unsigned int bits;
	ktime_t due;
	int ret;

	if (args->timeout_ns > PENDTIMER_MAX_TIMEOUT_NS || args->flags)
		return -EINVAL;
	due = pendtimer_due(args->timeout_ns);
	efd = pendtimer_eventfd_get(args->eventfd);
	if (IS_ERR(efd))
		return PTR_ERR(efd);
	req = pendtimer_req_alloc(args->tag);
	if (!req) {
		ret = -ENOMEM;
		goto out_put_efd;
	}

	table = pendtimer_set_grow_prepare(pf, &bits);
	down_read(&pf->rundown);
	spin_lock_irq(&pf->lock);
	b = pendtimer_evbind_find_or_add(pf, &efd, owner, &spare);
	if (!b) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	req->sink = (unsigned long)&b->sink;	/* pendtimer_req_init() left NULL */
	b->nr_reqs++;
	table = pendtimer_set_grow(pf, table, bits);
	ret = pendtimer_submit(pf, req, due);
	if (ret)
		dead = pendtimer_evbind_unuse(pf, b);
out_unlock:
	spin_unlock_irq(&pf->lock);
	up_read(&pf->rundown);
	kvfree(table);
	kfree(spare);
	if (ret)
		kmem_cache_free(pendtimer_req_cache, req);
	if (dead)
		pendtimer_evbind_free(dead);
out_put_efd:
	if (efd)
		eventfd_ctx_put(efd);
	return ret;
}

/**
 * pendtimer_pend() - submit a PEND: a request that no thread waits for
 * @pf: the open file
 * @pend: the command's state in its pdu; @pend->sink and @pend->req set up
 *	by the caller (req NULL)
 * @args: timeout and tag, read from the command area
 *
 * On success the request is in the pending set and @pend->req points to
 * it; the caller parks the command (-EIOCBQUEUED). Whoever claims the
 * request later finishes the command through pendtimer_pend_finish().
 *
 * Context: process (the submitter, or an io-wq worker for IOSQE_ASYNC),
 * with the device's remove lock entered.
 * Return: 0 accepted, or -EINVAL, -ENOMEM, -ENOSPC, -EEXIST, -ENODEV.
 */
int pendtimer_pend(struct pendtimer_file *pf, struct pendtimer_pend *pend,
		   const struct pendtimer_wait *args)
{
	struct pendtimer_req *req, **table;
	unsigned int bits;
	ktime_t due;
	int ret;

	if (args->timeout_ns > PENDTIMER_MAX_TIMEOUT_NS)
		return -EINVAL;
	due = pendtimer_due(args->timeout_ns);

	table = pendtimer_set_grow_prepare(pf, &bits);
	down_read(&pf->rundown);
	spin_lock_irq(&pf->lock);
	req = pendtimer_req_get(pf, args->tag);
	if (!req) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	req->sink = (unsigned long)&pend->sink;
	table = pendtimer_set_grow(pf, table, bits);
	ret = pendtimer_submit(pf, req, due);
	if (!ret)
		pend->req = req;
out_unlock:
	spin_unlock_irq(&pf->lock);
	up_read(&pf->rundown);
	kvfree(table);
	if (ret && req)
		kmem_cache_free(pendtimer_req_cache, req);
	return ret;
}

/**
 * pendtimer_pend_cancel() - io_uring's cancel of a parked PEND (ring or
 *	task exit): the PEND's cancel routine
 * @pend: the command's state
 *
 * Claims the request as interrupted unless another path claimed it first,
 * also when its timer callback is already running (rule 1: the callback
 * then never sees it), and frees it.
 *
 * Context: process (io_uring's cancel, under the ring's lock); never fails.
 * Return: true if this call claimed it: the caller completes the command
 * with @pend->sink.result. False if the request was claimed (or not yet
 * submitted) and whoever did completes the command.
 */
bool pendtimer_pend_cancel(struct pendtimer_pend *pend)
{
	struct pendtimer_file *pf = pend->sink.pf;
	struct pendtimer_req *req;
	bool claimed, running;

	spin_lock_irq(&pf->lock);
	req = pend->req;
	if (!req) {
		spin_unlock_irq(&pf->lock);
		return false;
	}
	claimed = pendtimer_set_del(pf, req);
	/* In the set while pend->req is set: both change under pf->lock. */
	WARN_ON_ONCE(!claimed);
	running = pendtimer_timer_running(pf, req);
	pendtimer_claimed(pf, req);
	pendtimer_complete(pf, req, PENDTIMER_INTERRUPTED);
	if (running)
		pendtimer_timer_late(pf, req->tag);
	spin_unlock_irq(&pf->lock);

	kmem_cache_free(pendtimer_req_cache, req);
	return true;
}

/**
 * pendtimer_cancel() - cancel a pending request of this open file by tag
 * @pf: the open file
 * @tag: the request's tag
 *
 * Claims the request even if its timer callback is already running
 * (rule 1: the callback then never sees it); an ARM or PEND request is
 * freed, and a PEND's command finished, once the lock is dropped.
 *
 * Context: process (system call, or io_uring issue); does not block.
 * Return: 0 cancelled, -ENOENT no such pending request.
 */
int pendtimer_cancel(struct pendtimer_file *pf, u64 tag)
{
	struct pendtimer_evbind *dead;
	struct pendtimer_req *req;
	bool on_heap, running;

	spin_lock_irq(&pf->lock);
	req = pendtimer_set_take(pf, tag);
	if (!req) {
		spin_unlock_irq(&pf->lock);
		return -ENOENT;
	}
	running = pendtimer_timer_running(pf, req);
	pendtimer_claimed(pf, req);
	on_heap = pendtimer_req_on_heap(req);
	dead = pendtimer_complete(pf, req, PENDTIMER_CANCELLED);
	if (running)
		pendtimer_timer_late(pf, tag);
	spin_unlock_irq(&pf->lock);

	if (on_heap)
		pendtimer_req_release(req, dead);
	return 0;
}

/*
 * Rule 2: @req's timer callback is already running; leave the request to
 * it (it claims the request once it takes the lock) and count the deferral.
 * Context: process, pf->lock held.
 */
static void pendtimer_sweep_defer(struct pendtimer_file *pf,
				  struct pendtimer_req *req,
				  enum pendtimer_outcome outcome)
{
	lockdep_assert_held(&pf->lock);
	req->sink |= PENDTIMER_REQ_DEFERRED;
	pf->nr_deferred++;
	atomic64_inc(&pf->pd->counters->race_cleanup_deferred);
	trace_pendtimer_cleanup_deferred(pf->pd->busdev->dev.id, req->tag,
					 outcome);
}

/*
 * Complete @req, just taken out of the set, its timer callback not running
 * for it. A waiter's request is handed off here; ARM and PEND requests and
 * dead bindings join @batch, to be freed after the lock.
 * Context: process, pf->lock held.
 */
static void pendtimer_sweep_complete(struct pendtimer_file *pf,
				     struct pendtimer_req *req,
				     enum pendtimer_outcome outcome,
				     struct pendtimer_free_batch *batch)
{
	struct pendtimer_evbind *dead;

	lockdep_assert_held(&pf->lock);
	pendtimer_claimed(pf, req);
	batch->n++;
	if (!pendtimer_req_on_heap(req)) {
		/* the waiter frees it: hands off from here */
		pendtimer_complete(pf, req, outcome);
		return;
	}
	dead = pendtimer_complete(pf, req, outcome);
	pendtimer_free_later(batch, req, dead);
}

/*
 * Claim the requests of one bucket chain that @owner (NULL: anyone)
 * submitted, except those left to their running callback.
 * Context: process, pf->lock held.
 */
static void pendtimer_sweep_bucket(struct pendtimer_file *pf,
				   struct pendtimer_req **pp, fl_owner_t owner,
				   enum pendtimer_outcome outcome,
				   struct pendtimer_free_batch *batch)
{
	struct pendtimer_req *req;

	lockdep_assert_held(&pf->lock);
	while ((req = *pp)) {
		struct pendtimer_sink *sink = pendtimer_req_sink(req);

		if ((owner && sink->owner != owner) ||
		    (req->sink & PENDTIMER_REQ_DEFERRED)) {
			pp = &req->hnext;
			continue;
		}
		if (pendtimer_timer_running(pf, req)) {
			pendtimer_sweep_defer(pf, req, outcome);
			pp = &req->hnext;
			continue;
		}
		*pp = req->hnext;
		pendtimer_sweep_complete(pf, req, outcome, batch);
	}
}

/**
 * pendtimer_sweep() - complete the pending requests of a file (cleanup)
 * @pf: the open file
 * @owner: only requests submitted by this owner, or NULL for all
 * @outcome: PENDTIMER_FLUSHED (flush, release) or PENDTIMER_REMOVED
 *
 * Rule 2: a request whose timer callback already runs is left to it and
 * counted as race_cleanup_deferred; the sweep returns only once every such
 * request has been claimed, so that when it returns none of the swept
 * requests is pending. Works in batches, dropping the lock in between.
 *
 * Context: process; sleeps.
 */
void pendtimer_sweep(struct pendtimer_file *pf, fl_owner_t owner,
		     enum pendtimer_outcome outcome)
{
	unsigned int i = 0, bits = 0;
	bool more = true;

	while (more) {
		struct pendtimer_free_batch batch = { };

		spin_lock_irq(&pf->lock);
		if (bits != pf->hash_bits) {
			/* first batch, or the set grew since: start over */
			bits = pf->hash_bits;
			i = 0;
		}
		for (; i < (1U << bits) && batch.n < PENDTIMER_SWEEP_BATCH; i++)
			pendtimer_sweep_bucket(pf, &pf->buckets[i], owner, outcome,
					       &batch);
		more = i < (1U << bits);
		spin_unlock_irq(&pf->lock);

		pendtimer_batch_free(&batch);
		if (more)
			cond_resched();
	}

	/* Every deferred request is claimed by its callback: wait for it. */
	spin_lock_irq(&pf->lock);
	wait_event_lock_irq(pf->drain_wq, !pf->nr_deferred, pf->lock);
	spin_unlock_irq(&pf->lock);
}

/**
 * pendtimer_file_init() - set up the per-open context
 * @pf: zeroed memory
 * @pd: the device; the caller holds a reference for @pf
 *
 * Context: process.
 * Return: 0 or -ENOMEM.
 */
noinline int pendtimer_file_init(struct pendtimer_file *pf, struct pendtimer_dev *pd)
{
	pf->buckets = kcalloc(1U << PENDTIMER_HASH_MIN_BITS, sizeof(*pf->buckets),
			      GFP_KERNEL_ACCOUNT);
	if (!pf->buckets)
		return -ENOMEM;
	pf->hash_bits = PENDTIMER_HASH_MIN_BITS;
	pf->pd = pd;
	spin_lock_init(&pf->lock);
	timerqueue_init_head(&pf->due);
	pendtimer_hrtimer_setup(&pf->timer, pendtimer_timer_fn, CLOCK_MONOTONIC,
				HRTIMER_MODE_ABS);
	init_waitqueue_head(&pf->drain_wq);
	pf->bindings = RB_ROOT;
	init_rwsem(&pf->rundown);
	INIT_LIST_HEAD(&pf->node);
	return 0;
}

ALLOW_ERROR_INJECTION(pendtimer_file_init, ERRNO);

/**
 * pendtimer_file_destroy() - release: complete what is left, free the set
 * @pf: the per-open context; no system call or worker can use it any more
 *
 * Context: process; sleeps until deferred callbacks have claimed.
 */
void pendtimer_file_destroy(struct pendtimer_file *pf)
{
	struct pendtimer_req *req, *next;

	pendtimer_sweep(pf, NULL, PENDTIMER_FLUSHED);
	WARN_ON_ONCE(pf->nr_pending || !RB_EMPTY_ROOT(&pf->bindings));
	/*
	 * Nothing is pending, so the callback does not arm the timer again;
	 * wait for one still returning (it may be keeping a request).
	 */
	hrtimer_cancel(&pf->timer);
	spin_lock_irq(&pf->lock);
	req = pf->spare;
	pf->spare = NULL;
	pf->nr_spare = 0;
	spin_unlock_irq(&pf->lock);
	for (; req; req = next) {
		next = req->hnext;
		kmem_cache_free(pendtimer_req_cache, req);
	}
	kvfree(pf->buckets);
}

/**
 * pendtimer_read_stats() - copy the counters for STATS
 * @c: the device's counters
 * @st: filled completely, reserved fields zero
 *
 * Context: any.
 */
void pendtimer_read_stats(const struct pendtimer_counters *c,
			  struct pendtimer_stats *st)
{
	memset(st, 0, sizeof(*st));
	/*
	 * pending first: a request it no longer counts is already counted
	 * in its outcome (pendtimer_complete()).
	 */
	st->pending = atomic64_read_acquire(&c->pending);
	st->submitted = atomic64_read(&c->submitted);
	st->fired = atomic64_read(&c->completed[PENDTIMER_FIRED]);
	st->cancelled = atomic64_read(&c->completed[PENDTIMER_CANCELLED]);
	st->interrupted = atomic64_read(&c->completed[PENDTIMER_INTERRUPTED]);
	st->flushed = atomic64_read(&c->completed[PENDTIMER_FLUSHED]);
	st->removed = atomic64_read(&c->completed[PENDTIMER_REMOVED]);
	st->race_timer_late = atomic64_read(&c->race_timer_late);
	st->race_cleanup_deferred = atomic64_read(&c->race_cleanup_deferred);
}

/**
 * pendtimer_reqs_init() - create the request cache
 *
 * Context: module init.
 * Return: 0 or -ENOMEM.
 */
int pendtimer_reqs_init(void)
{
	pendtimer_req_cache = kmem_cache_create("pendtimer_req",
						sizeof(struct pendtimer_req), 0,
						SLAB_ACCOUNT, NULL);
	return pendtimer_req_cache ? 0 : -ENOMEM;
}

/**
 * pendtimer_reqs_exit() - destroy the request cache
 *
 * Every request is freed by now, and each file's timer was cancelled at
 * its release, which waits for a callback still returning. The grace
 * period is a cheap guard on top: code of ours that runs with interrupts
 * or bottom halves disabled has returned once it ends.
 *
 * Context: module exit.
 */
void pendtimer_reqs_exit(void)
{
	synchronize_rcu();
	kmem_cache_destroy(pendtimer_req_cache);
}
