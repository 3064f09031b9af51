// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer pend: a PEND (io_uring URING_CMD PENDTIMER_URING_PEND), parked
 * by the driver, and its cancel by CANCEL, URING_CMD CANCEL, close(), the
 * exit of its process or io_uring async-cancel. Needs liburing.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#ifndef PENDTIMER_NO_URING
#include <liburing.h>
#endif

#include "cli.h"

#ifndef PENDTIMER_NO_URING
enum pvia { PVIA_NONE, PVIA_IOCTL, PVIA_URING, PVIA_CLOSE, PVIA_EXIT, PVIA_ASYNC };

static const char *const pvia_name[] = {
	[PVIA_NONE] = "none", [PVIA_IOCTL] = "ioctl", [PVIA_URING] = "uring",
	[PVIA_CLOSE] = "close", [PVIA_EXIT] = "exit", [PVIA_ASYNC] = "async-cancel",
};

static enum pvia parse_pvia(const char *s)
{
	int i;

	for (i = PVIA_IOCTL; i <= PVIA_ASYNC; i++)
		if (!strcmp(s, pvia_name[i]))
			return (enum pvia)i;
	die_usage("pend --via: '%s' is not one of ioctl, uring, close, exit, async-cancel", s);
	return PVIA_NONE;
}

/* A PEND through file @idx registered with the ring. */
static int submit_pend_fixed(struct io_uring *ring, int idx, uint64_t timeout_ns, uint64_t tag)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	int ret;

	pt_prep_pend(sqe, idx, timeout_ns, tag, 1);
	sqe->flags |= IOSQE_FIXED_FILE;
	ret = io_uring_submit(ring);
	return ret == 1 ? 0 : ret < 0 ? ret : -EIO;
}

/* Wait for a CQE until @deadline (0: forever): 0, or -ETIME. */
static int pend_reap(struct io_uring *ring, uint64_t deadline, uint64_t *ud, int *res)
{
	struct io_uring_cqe *cqe;
	int ret;

	for (;;) {
		uint64_t now = pt_now_ns();

		if (deadline && now >= deadline)
			return -ETIME;
		if (deadline) {
			struct __kernel_timespec ts = {
				.tv_sec = (long long)((deadline - now) / NSEC_PER_SEC),
				.tv_nsec = (long long)((deadline - now) % NSEC_PER_SEC),
			};

			ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
		} else {
			ret = io_uring_wait_cqe(ring, &cqe);
		}
		if (ret == -EINTR && !user_stop)
			continue;
		if (ret)
			return ret;
		*ud = cqe->user_data;
		*res = cqe->res;
		io_uring_cqe_seen(ring, cqe);
		return 0;
	}
}

static void say_pend(uint64_t t0, int res)
{
	printf("%8.3f s  ", pt_secs(pt_now_ns() - t0));
	switch (res) {
	case 0:
		printf("the PEND's CQE: 0: its timer fired and completed it "
		       "(io_uring_cmd_done() from task work: IoCompleteRequest)\n");
		break;
	case -ECANCELED:
		printf("the PEND's CQE: -ECANCELED: it was cancelled (CANCEL by tag, "
		       "its owner's close(), or io_uring's cancel call at ring close/exit)\n");
		break;
	case -ENODEV:
		printf("the PEND's CQE: -ENODEV: %s\n", pt_explain(OP_WAIT, ENODEV));
		break;
	case -EOPNOTSUPP:
		printf("the PEND's CQE: -EOPNOTSUPP: this kernel has no "
		       "io_uring_cmd_mark_cancelable() (before 6.7), so the driver cannot "
		       "park a command (it would hold up ring exit until its timer fired)\n");
		break;
	default:
		printf("the PEND was refused: %s (-%s)%s%s\n", strerror(-res),
		       pt_errname(-res), pt_explain(OP_WAIT, -res) ? ": " : "",
		       pt_explain(OP_WAIT, -res) ? pt_explain(OP_WAIT, -res) : "");
		break;
	}
}

static void say_cancel_ret(uint64_t t0, const char *how, uint64_t tag, int ret)
{
	if (ret == 0)
		printf("%8.3f s  %s(tag %" PRIu64 ") -> 0: the PEND was pending: "
		       "this call cancelled it\n", pt_secs(pt_now_ns() - t0), how, tag);
	else
		printf("%8.3f s  %s(tag %" PRIu64 ") -> -%s: %s\n", pt_secs(pt_now_ns() - t0),
		       how, tag, pt_errname(-ret),
		       pt_explain(OP_CANCEL, -ret) ? pt_explain(OP_CANCEL, -ret) :
		       strerror(-ret));
}

/*
 * --via exit: a child process submits the PEND and exits with it parked.
 * The child registers the device file with its ring and closes its own
 * descriptor first (the PEND goes through the registered file): had it
 * kept the descriptor, its exit would close it first, a flush. So on the
 * way out io_uring calls the driver's cancel routine (IO_URING_F_CANCEL).
 * Returns the exit code.
 */
static int pend_via_exit(const char *dev, int ctl, const struct pendtimer_stats *s0,
			 uint64_t timeout_ns, uint64_t tag, uint64_t cancel_ns, uint64_t t0)
{
	struct pendtimer_stats s;
	int status, ret, pfd[2];
	uint64_t t_exit;
	pid_t pid;
	char c;

	if (pipe(pfd)) {
		perror("pipe");
		return EXIT_FAIL;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return EXIT_FAIL;
	}
	if (pid == 0) {
		struct io_uring ring;
		uint64_t ud;
		int fd = cli_open(dev), res;

		close(pfd[0]);
		if (io_uring_queue_init(8, &ring, 0) || io_uring_register_files(&ring, &fd, 1) ||
		    close(fd) || submit_pend_fixed(&ring, 0, timeout_ns, tag))
			_exit(EXIT_FAIL);
		if (write(pfd[1], "s", 1) != 1)
			_exit(EXIT_FAIL);
		/* the CQE can only come first if the timer is first */
		if (!pend_reap(&ring, t0 + cancel_ns, &ud, &res)) {
			say_pend(t0, res);
			_exit(pt_exit_code(-res));
		}
		printf("%8.3f s  child %d: exiting now, with its PEND parked\n",
		       pt_secs(pt_now_ns() - t0), (int)getpid());
		_exit(EXIT_OK);
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1) {
		fprintf(stderr, "%s: the child could not submit its PEND\n", prog);
		waitpid(pid, &status, 0);
		return EXIT_FAIL;
	}
	close(pfd[0]);
	printf("%8.3f s  child %d submitted the PEND (tag %" PRIu64 ", due in %.3f s) through "
	       "a file registered with its ring (its own descriptor closed), and keeps it parked\n",
	       pt_secs(pt_now_ns() - t0), (int)pid, tag, pt_secs(timeout_ns));
	ret = waitpid(pid, &status, 0);
	t_exit = pt_now_ns();
	if (ret != pid || !WIFEXITED(status)) {
		fprintf(stderr, "%s: the child did not exit normally\n", prog);
		return EXIT_FAIL;
	}
	if (t_exit < t0 + cancel_ns || WEXITSTATUS(status) != EXIT_OK)
		return WEXITSTATUS(status);
	printf("%8.3f s  the child has exited: a process with a PEND parked exits at once "
	       "(its timer was due in %.3f s)\n", pt_secs(t_exit - t0),
	       pt_secs(t0 + timeout_ns > t_exit ? t0 + timeout_ns - t_exit : 0));
	while (!cli_stats(ctl, &s) && s.pending > s0->pending &&
	       pt_now_ns() < t_exit + 5 * NSEC_PER_SEC)
		pt_sleep_ns(NSEC_PER_MSEC);
	if (s.interrupted > s0->interrupted)
		printf("%8.3f s  on its way out its ring was closed and io_uring called the "
		       "driver's cancel routine (uring_cmd with IO_URING_F_CANCEL): the PEND "
		       "ended with -ECANCELED, counted as interrupted\n", pt_secs(pt_now_ns() - t0));
	else
		printf("%8.3f s  the PEND ended otherwise: %s\n", pt_secs(pt_now_ns() - t0),
		       s.pending > s0->pending ? "still pending 5 s after the exit" :
		       s.flushed > s0->flushed ? "flushed" : "fired or removed");
	return EXIT_CANCELLED;
}

/* What the command line asks for, and what came back so far. */
struct pend_run {
	const char *dev;
	int fd, ctl;
	struct req_args a;		/* a.via: an enum pvia */
	uint64_t t0;
	bool have_pend, want_ucancel;
	int res;			/* the PEND's CQE res (1: none yet) */
	struct pendtimer_stats s0;
	struct io_uring ring;
};

/* --via for pend */
static int pend_via_of(const char *s)
{
	return parse_pvia(s);
}

static void pend_plan(const struct pend_run *x)
{
	printf("%8.3f s  plan: PEND due in %.3f s (tag %" PRIu64 "), cancel via %s "
	       "after %" PRIu64 " ms: %s\n", 0.0, pt_secs(x->a.timeout_ns), x->a.tag,
	       pvia_name[x->a.via], x->a.cancel_ms, x->a.via == PVIA_ASYNC ?
	       "io_uring's async-cancel cannot reach it, CANCEL by tag then can" :
	       x->a.cancel_ms * NSEC_PER_MSEC < x->a.timeout_ns ?
	       "the cancel should come first and succeed" :
	       "the cancel comes after the timer and should fail");
}

/* Submit the PEND and say it is parked: 0, or -1 (said why). */
static int pend_start(struct pend_run *x)
{
	struct pendtimer_stats s1;
	struct pt_threads threads;
	int ret;

	ret = pt_submit_pend(&x->ring, x->fd, x->a.timeout_ns, x->a.tag, 1);
	if (ret) {
		fprintf(stderr, "%s: io_uring_submit: %s\n", prog, strerror(-ret));
		return -1;
	}
	pt_count_threads(&threads);
	printf("%8.3f s  PEND submitted on %s (tag %" PRIu64 ", due in %.3f s): io_uring_submit() "
	       "returned at once\n", pt_secs(pt_now_ns() - x->t0), x->dev, x->a.tag,
	       pt_secs(x->a.timeout_ns));
	if (!cli_stats(x->ctl, &s1) && s1.pending > x->s0.pending)
		printf("           the driver parked it (-EIOCBQUEUED: STATUS_PENDING); no thread "
		       "waits for it: this process has %d thread(s), %d io-wq worker(s)\n",
		       threads.total, threads.iowq);
	return 0;
}

/* The async-cancel io_uring cannot do, then CANCEL by tag: 0, or -1. */
static int pend_async_cancel(struct pend_run *x)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&x->ring);
	struct pendtimer_stats s1;
	uint64_t ud = 0;
	int ret;

	io_uring_prep_cancel64(sqe, 1, 0);
	io_uring_sqe_set_data64(sqe, 3);
	io_uring_submit(&x->ring);
	printf("%8.3f s  IORING_OP_ASYNC_CANCEL submitted for the PEND (user_data 1)\n",
	       pt_secs(pt_now_ns() - x->t0));
	for (;;) {
		int r;

		if (pend_reap(&x->ring, 0, &ud, &r)) {
			fprintf(stderr, "%s: no CQE for the async-cancel\n", prog);
			return -1;
		}
		if (ud == 3) {
			ret = r;
			break;
		}
		x->have_pend = true;	/* its timer was first */
		x->res = r;
		say_pend(x->t0, x->res);
	}
	x->res = x->have_pend ? x->res : ret;
	printf("%8.3f s  the ASYNC_CANCEL's CQE: %s%s\n", pt_secs(pt_now_ns() - x->t0),
	       ret ? "-" : "0", ret ? pt_errname(-ret) : "");
	if (x->have_pend) {
		printf("           the PEND had completed already: nothing left to "
		       "cancel\n");
		return 0;
	}
	if (ret == -ENOENT && !cli_stats(x->ctl, &s1) && s1.pending > x->s0.pending) {
		printf("           io_uring cannot reach a parked command: async-cancel "
		       "only finds io_uring's own request types and io-wq work, and the\n"
		       "           PEND is neither (the driver owns it); it is still "
		       "pending (STATS pending %llu). IoCancelIrp would reach it on Windows.\n",
		       (unsigned long long)(s1.pending - x->s0.pending));
		printf("           CANCEL by tag can reach it:\n");
	} else {
		printf("           unexpected: SPEC.md says -ENOENT with the PEND still "
		       "pending\n");
	}
	say_cancel_ret(x->t0, "PENDTIMER_IOC_CANCEL", x->a.tag, pt_cancel(x->fd, x->a.tag));
	return 0;
}

/* The cancel, as --via says: 0, or -1 (said why). */
static int pend_cancel(struct pend_run *x)
{
	switch (x->a.via) {
	case PVIA_IOCTL:
		say_cancel_ret(x->t0, "PENDTIMER_IOC_CANCEL", x->a.tag, pt_cancel(x->fd, x->a.tag));
		break;
	case PVIA_URING:
		pt_prep_cancel(io_uring_get_sqe(&x->ring), x->fd, x->a.tag, 2);
		io_uring_submit(&x->ring);
		x->want_ucancel = true;
		printf("%8.3f s  URING_CMD CANCEL submitted (cmd_op PENDTIMER_IOC_CANCEL, "
		       "tag %" PRIu64 " in the command area)\n", pt_secs(pt_now_ns() - x->t0),
		       x->a.tag);
		break;
	case PVIA_CLOSE:
		printf("%8.3f s  close(%d): the PEND's own descriptor; %s\n",
		       pt_secs(pt_now_ns() - x->t0), x->fd, x->have_pend ?
		       "nothing of this process is pending on it any more" :
		       "io_uring still holds the file, so this is the flush: it cancels the "
		       "requests this process submitted on it");
		close(x->fd);
		x->fd = -1;
		break;
	case PVIA_ASYNC:
		return pend_async_cancel(x);
	default:
		break;
	}
	return 0;
}

/* The CQEs still to come (Ctrl-C: CANCEL by tag): 0, or -1 (said why). */
static int pend_drain(struct pend_run *x)
{
	uint64_t ud = 0;
	int ret;

	while (!x->have_pend || x->want_ucancel) {
		int r;

		ret = pend_reap(&x->ring, 0, &ud, &r);
		if (ret == -EINTR && user_stop) {
			user_stop = 0;
			printf("\n%8.3f s  interrupted: cancelling it by tag\n",
			       pt_secs(pt_now_ns() - x->t0));
			say_cancel_ret(x->t0, "PENDTIMER_IOC_CANCEL", x->a.tag,
				       pt_cancel(x->fd, x->a.tag));
			continue;
		}
		if (ret) {
			fprintf(stderr, "%s: io_uring_wait_cqe: %s\n", prog, strerror(-ret));
			return -1;
		}
		if (ud == 1) {
			x->have_pend = true;
			x->res = r;
			say_pend(x->t0, x->res);
		} else if (ud == 2) {
			x->want_ucancel = false;
			printf("%8.3f s  the URING_CMD CANCEL's CQE: %s%s: %s\n",
			       pt_secs(pt_now_ns() - x->t0), r ? "-" : "0", r ? pt_errname(-r) : "",
			       r == 0 ? "it cancelled the PEND (inline, like the ioctl)" :
			       r == -ENOENT ? pt_explain(OP_CANCEL, ENOENT) : strerror(-r));
		}
	}
	return 0;
}

/* The PEND on a ring of this process, its cancel and its CQE: the exit code. */
static int pend_on_ring(struct pend_run *x)
{
	uint64_t ud = 0, cancel_at = x->t0 + x->a.cancel_ms * NSEC_PER_MSEC;

	if (pend_start(x))
		return EXIT_FAIL;
	if (x->a.via != PVIA_NONE &&
	    pend_reap(&x->ring, cancel_at, &ud, &x->res) == 0 && ud == 1) {
		x->have_pend = true;
		say_pend(x->t0, x->res);
	}
	/* the timer first: try the cancel all the same, it must fail */
	if (x->have_pend && x->a.via != PVIA_NONE)
		pt_sleep_until_stop(cancel_at, NULL);
	if (pend_cancel(x) || pend_drain(x))
		return EXIT_FAIL;
	if (x->res == -ECANCELED)
		printf("           (counted as %s)\n",
		       x->a.via == PVIA_CLOSE ? "flushed" : "cancelled");
	if (x->a.via != PVIA_NONE)
		printf("  => %s\n", x->res == 0 ?
		       "the timer won: the cancel found nothing to cancel (a failed cancel)" :
		       x->res == -ECANCELED ? "the cancel won: the PEND completed as cancelled, "
		       "its timer was stopped" : "the PEND ended otherwise");
	return pt_exit_code(-x->res);
}

int cmd_pend(const char *dev, int argc, char **argv)
{
	static struct pend_run run;
	struct pend_run *x = &run;
	int ret, rc;

	memset(x, 0, sizeof(*x));
	x->dev = dev;
	x->a.tag = 1;
	x->res = 1;
	rc = parse_req_args("pend", pend_via_of, &x->a, argc, argv);
	if (rc >= 0)
		return rc;

	x->ctl = cli_open(dev);	/* STATS only: never flushed by this command */
	cli_stats(x->ctl, &x->s0);
	install_handler(SIGINT, on_user_stop);
	x->t0 = pt_now_ns();
	if (x->a.via != PVIA_NONE)
		pend_plan(x);
	if (x->a.via == PVIA_EXIT) {
		rc = pend_via_exit(dev, x->ctl, &x->s0, x->a.timeout_ns, x->a.tag,
				   x->a.cancel_ms * NSEC_PER_MSEC, x->t0);
		goto out_stats;
	}

	x->fd = cli_open(dev);
	ret = io_uring_queue_init(8, &x->ring, 0);
	if (ret) {
		fprintf(stderr, "%s: io_uring_queue_init: %s\n", prog, strerror(-ret));
		return EXIT_FAIL;
	}
	rc = pend_on_ring(x);
	io_uring_queue_exit(&x->ring);
	if (x->fd >= 0)
		close(x->fd);
out_stats:
	pt_print_delta_since(x->ctl, &x->s0);
	close(x->ctl);
	return rc;
}
#endif /* PENDTIMER_NO_URING */
