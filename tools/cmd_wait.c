// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer wait: the WAIT ioctl (IRP mode), and its cancel by CANCEL, a
 * signal, io_uring async-cancel of a URING_CMD WAIT, or close().
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

#ifndef PENDTIMER_NO_URING
#include <liburing.h>
#endif

#include "cli.h"

struct waiter {
	int fd;
	uint64_t timeout_ns, tag;
	uint64_t t0, t_start, t_end;
	volatile int started, done;
	int ret;
	bool narrate;		/* print the result when the WAIT returns */
};

static void *waiter_fn(void *arg)
{
	struct waiter *w = arg;

	w->t_start = pt_now_ns();
	__atomic_store_n(&w->started, 1, __ATOMIC_RELEASE);
	w->ret = pt_wait(w->fd, w->timeout_ns, w->tag);
	w->t_end = pt_now_ns();
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	if (w->narrate) {
		printf("%8.3f s  ", pt_secs(w->t_end - w->t0));
		say_result("WAIT", w->ret);
	}
	return NULL;
}

#ifndef PENDTIMER_NO_URING
static int wait_via_uring(int fd, uint64_t timeout_ns, uint64_t tag,
			  uint64_t cancel_ns, uint64_t t0, int *wait_res)
{
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	bool have_wait = false, have_cancel = false, cancel_sent = false;
	int ret;

	ret = io_uring_queue_init(8, &ring, 0);
	if (ret) {
		fprintf(stderr, "%s: io_uring_queue_init: %s\n", prog, strerror(-ret));
		return EXIT_FAIL;
	}
	sqe = io_uring_get_sqe(&ring);
	pt_prep_wait(sqe, fd, timeout_ns, tag, 1);
	ret = io_uring_submit(&ring);
	if (ret != 1) {
		fprintf(stderr, "%s: io_uring_submit: %s\n", prog, strerror(-ret));
		io_uring_queue_exit(&ring);
		return EXIT_FAIL;
	}
	printf("%8.3f s  URING_CMD WAIT submitted (tag %" PRIu64 ", due in %.3f s); "
	       "the submitter did not block: the request runs in an io-wq worker\n",
	       pt_secs(pt_now_ns() - t0), tag, pt_secs(timeout_ns));

	while (!have_wait || !have_cancel) {
		struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = 0 };
		uint64_t now = pt_now_ns(), until;

		if (!cancel_sent) {
			until = t0 + cancel_ns;
			if (now >= until) {
				sqe = io_uring_get_sqe(&ring);
				io_uring_prep_cancel64(sqe, 1, 0);
				io_uring_sqe_set_data64(sqe, 2);
				io_uring_submit(&ring);
				cancel_sent = true;
				printf("%8.3f s  IORING_OP_ASYNC_CANCEL submitted for it\n",
				       pt_secs(pt_now_ns() - t0));
				continue;
			}
			ts.tv_sec = (long long)((until - now) / NSEC_PER_SEC);
			ts.tv_nsec = (long long)((until - now) % NSEC_PER_SEC);
			ret = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
		} else {
			ret = io_uring_wait_cqe(&ring, &cqe);
		}
		if (ret == -ETIME || ret == -EINTR)
			continue;
		if (ret) {
			fprintf(stderr, "%s: io_uring_wait_cqe: %s\n", prog, strerror(-ret));
			io_uring_queue_exit(&ring);
			return EXIT_FAIL;
		}
		if (cqe->user_data == 1) {
			have_wait = true;
			*wait_res = cqe->res;
			printf("%8.3f s  ", pt_secs(pt_now_ns() - t0));
			say_result("the URING_CMD WAIT's CQE", cqe->res);
			if (cqe->res == -ECANCELED && cancel_sent)
				printf("           (the driver saw the io-wq worker signalled, "
				       "and counted the request as interrupted)\n");
		} else if (cqe->user_data == 2) {
			have_cancel = true;
			printf("%8.3f s  the ASYNC_CANCEL's CQE: %s%s: ", pt_secs(pt_now_ns() - t0),
			       cqe->res ? "-" : "0", cqe->res ? pt_errname(-cqe->res) : "");
			if (cqe->res == 0)
				printf("the request was found and cancelled\n");
			else if (cqe->res == -EALREADY)
				printf("the worker was running it and has been signalled\n");
			else if (cqe->res == -ENOENT)
				printf("no such request in flight (it had completed): "
				       "the cancel failed\n");
			else
				printf("%s\n", strerror(-cqe->res));
		}
		io_uring_cqe_seen(&ring, cqe);
		if (!have_wait && !cancel_sent && user_stop)
			cancel_ns = 0;
	}
	io_uring_queue_exit(&ring);
	return EXIT_OK;
}
#endif

/* --via for wait */
static int wait_via_of(const char *s)
{
	return parse_via(s);
}

/* IRP mode: the calling thread sleeps in the driver (SIGINT interrupts it). */
static int wait_plain(const char *dev, int fd, const struct req_args *a, uint64_t t0)
{
	int ret;

	install_handler(SIGINT, on_signal_noop);
	printf("%8.3f s  WAIT on %s (tag %" PRIu64 ", due in %.3f s): this thread "
	       "sleeps in the driver until the request completes (Ctrl-C interrupts it)\n",
	       0.0, dev, a->tag, pt_secs(a->timeout_ns));
	ret = pt_wait(fd, a->timeout_ns, a->tag);
	printf("%8.3f s  ", pt_secs(pt_now_ns() - t0));
	say_result("WAIT", ret);
	return pt_exit_code(-ret);
}

#ifndef PENDTIMER_NO_URING
/* A URING_CMD WAIT and an IORING_OP_ASYNC_CANCEL of it. */
static int wait_uring(int fd, const struct req_args *a, uint64_t t0)
{
	int res = 1, rc;

	rc = wait_via_uring(fd, a->timeout_ns, a->tag, a->cancel_ms * NSEC_PER_MSEC,
			    t0, &res);
	if (rc == EXIT_OK) {
		rc = pt_exit_code(-res);
		printf("  => %s\n", res == 0 ?
		       "the timer won: the async-cancel found nothing (a failed cancel)" :
		       res == -ECANCELED ?
		       "the cancel won: io_uring signalled the worker, the request "
		       "completed as cancelled" : "the request ended otherwise");
	}
	return rc;
}
#endif

/* The cancel of the WAIT thread @th's request, as --via says. */
static void wait_cancel(int *fd, pthread_t th, struct waiter *w,
			const struct req_args *a, uint64_t t0)
{
	int ret;

	switch (a->via) {
	case VIA_IOCTL:
		ret = pt_cancel(*fd, a->tag);
		if (ret == 0)
			printf("%8.3f s  PENDTIMER_IOC_CANCEL(tag %" PRIu64 ") -> 0: the "
			       "request was pending: this call cancelled it\n",
			       pt_secs(pt_now_ns() - t0), a->tag);
		else
			printf("%8.3f s  PENDTIMER_IOC_CANCEL(tag %" PRIu64 ") -> -%s: %s\n",
			       pt_secs(pt_now_ns() - t0), a->tag, pt_errname(-ret),
			       pt_explain(OP_CANCEL, -ret) ? pt_explain(OP_CANCEL, -ret) :
			       strerror(-ret));
		break;
	case VIA_SIGNAL:
		pthread_kill(th, SIGUSR1);
		printf("%8.3f s  SIGUSR1 sent to the waiting thread (%s)\n",
		       pt_secs(pt_now_ns() - t0),
		       __atomic_load_n(&w->done, __ATOMIC_ACQUIRE) ?
		       "it had already returned: too late" :
		       "it is still in the driver");
		break;
	case VIA_CLOSE:
		printf("%8.3f s  close(%d): the WAIT's own descriptor; flush cancels "
		       "the requests this process submitted on the file\n",
		       pt_secs(pt_now_ns() - t0), *fd);
		close(*fd);
		*fd = -1;
		printf("%8.3f s  close() returned: none of them is pending any more\n",
		       pt_secs(pt_now_ns() - t0));
		break;
	default:
		break;
	}
}

/*
 * The WAIT from a second thread, cancelled from this one after cancel_ms:
 * the exit code, or -1 when the thread could not be started.
 */
static int wait_threaded(int *fd, const struct req_args *a, uint64_t t0)
{
	struct waiter w;
	pthread_t th;
	int ret;

	memset(&w, 0, sizeof(w));
	w.fd = *fd;
	w.timeout_ns = a->timeout_ns;
	w.tag = a->tag;
	w.t0 = t0;
	w.ret = 1;
	w.narrate = true;
	ret = pthread_create(&th, NULL, waiter_fn, &w);
	if (ret) {
		fprintf(stderr, "%s: pthread_create: %s\n", prog, strerror(ret));
		return -1;
	}
	while (!__atomic_load_n(&w.started, __ATOMIC_ACQUIRE))
		sched_yield();
	printf("%8.3f s  WAIT submitted by a second thread; it sleeps in the driver\n",
	       pt_secs(w.t_start - t0));

	pt_sleep_until_stop(t0 + a->cancel_ms * NSEC_PER_MSEC, NULL);
	wait_cancel(fd, th, &w, a, t0);
	pthread_join(th, NULL);
	if (w.ret == -ECANCELED && a->via == VIA_CLOSE)
		printf("           (close-time flush: counted as flushed)\n");
	printf("  => %s\n", w.ret == 0 ?
	       "the timer won: the cancel found nothing to cancel (a failed cancel)" :
	       w.ret == -ECANCELED || w.ret == -EINTR ?
	       "the cancel won: the request completed as cancelled, the timer was stopped" :
	       "the request ended otherwise");
	return pt_exit_code(-w.ret);
}

int cmd_wait(const char *dev, int argc, char **argv)
{
	struct req_args a = { .tag = 1, .via = VIA_NONE };
	struct pendtimer_stats s0;
	int fd, ctl, rc;
	uint64_t t0;

	rc = parse_req_args("wait", wait_via_of, &a, argc, argv);
	if (rc >= 0)
		return rc;
#ifdef PENDTIMER_NO_URING
	if (a.via == VIA_URING)
		die_usage("wait: built without io_uring support");
#endif

	fd = cli_open(dev);
	ctl = cli_open(dev);	/* a second open file, for STATS only */
	cli_stats(ctl, &s0);
	install_handler(SIGINT, on_user_stop);
	install_handler(SIGUSR1, on_signal_noop);
	t0 = pt_now_ns();

	if (a.via == VIA_NONE) {
		rc = wait_plain(dev, fd, &a, t0);
		goto out;
	}
	printf("%8.3f s  plan: WAIT due in %.3f s (tag %" PRIu64 "), cancel via %s "
	       "after %" PRIu64 " ms: the cancel %s\n",
	       0.0, pt_secs(a.timeout_ns), a.tag, via_name[a.via], a.cancel_ms,
	       a.cancel_ms * NSEC_PER_MSEC < a.timeout_ns ? "should come first and succeed" :
	       "comes after the timer and should fail");
#ifndef PENDTIMER_NO_URING
	if (a.via == VIA_URING) {
		rc = wait_uring(fd, &a, t0);
		goto out;
	}
#endif
	rc = wait_threaded(&fd, &a, t0);
	if (rc < 0)
		return EXIT_FAIL;
out:
	pt_print_delta_since(ctl, &s0);
	if (fd >= 0)
		close(fd);
	close(ctl);
	return rc;
}
