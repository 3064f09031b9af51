// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_soak: the round's threads: submitter, canceller, closer, waiters, and
 * their hand-offs.
 */
#include "soak.h"

int64_t dt_release, dt_cancel, dt_close, dt_wait, dt_quiet;

struct round RD;
struct soak_pend SP;	/* the main thread's ring; the closer may exit it */
/* round hand-offs, read and written with __atomic and futexes */
int go_cancel, go_close, go_wait[NWAIT], go_sub;
int done_cancel, done_close, done_wait[NWAIT], done_sub;
int efd[NOWN], efd_shared;

/* Submit the ARM requests i with i % 2 == @parity (timers on this CPU). */
void submit_half(int parity)
{
	int i;

	for (i = parity; i < NREQ; i += 2) {
		struct pendtimer_arm a = { .flags = 0 };
		uint64_t now;

		if (i >= RD.n && i < MAXN)
			continue;
		now = pt_now_ns();
		a.timeout_ns = RD.due[i] > now ? RD.due[i] - now : 0;
		a.tag = RD.tag[i];
		a.eventfd = i < RD.n - RD.nshared ? efd[i] : efd_shared;
		if (i >= MAXN)
			a.eventfd = efd_shared;
		RD.arm_res[i] = ioctl(RD.fd_wait, PENDTIMER_IOC_ARM, &a) ? -errno : 0;
	}
}
int quit;
int cpu_timer = -1, cpu_race = -1;

/* Round hand-offs: futexes, so that waiting threads leave the CPU alone. */
void wait_flag(int *f, int v)
{
	int cur;

	while ((cur = __atomic_load_n(f, __ATOMIC_ACQUIRE)) != v &&
	       !__atomic_load_n(&quit, __ATOMIC_ACQUIRE))
		syscall(SYS_futex, f, FUTEX_WAIT_PRIVATE, cur, NULL, NULL, 0);
}

void set_flag(int *f, int v)
{
	__atomic_store_n(f, v, __ATOMIC_RELEASE);
	syscall(SYS_futex, f, FUTEX_WAKE_PRIVATE, 8, NULL, NULL, 0);
}

/* on the second CPU: half of the ARM requests */
void *submitter(void *arg)
{
	int round = 0;

	(void)arg;
	pin(cpu_race);
	for (;;) {
		round++;
		wait_flag(&go_sub, round);
		if (__atomic_load_n(&quit, __ATOMIC_ACQUIRE))
			break;
		submit_half(1);
		set_flag(&done_sub, round);
	}
	return NULL;
}

/* CANCEL on the second CPU, meeting the callbacks of the first (rule 1) */
void *canceller(void *arg)
{
	int round = 0, k;

	(void)arg;
	pin(cpu_race);
	for (;;) {
		round++;
		wait_flag(&go_cancel, round);
		if (__atomic_load_n(&quit, __ATOMIC_ACQUIRE))
			break;
		spin_until(RD.T + (uint64_t)RD.off_cancel);
		for (k = 0; k < RD.ncancel; k++) {
			int i = RD.cancel_idx[k];
			__u64 tag = i >= NREQ + NWAIT ? RD.ptag[i - NREQ - NWAIT] :
				    i >= NREQ ? RD.wtag[i - NREQ] : RD.tag[i];

			RD.cancel_t[i] = pt_now_ns();
			RD.cancel_res[i] = ioctl(RD.fd_cancel, PENDTIMER_IOC_CANCEL, &tag) ? -errno : 0;
		}
		RD.t_cancel_done = pt_now_ns();
		set_flag(&done_cancel, round);
	}
	return NULL;
}

/* flush and removal on the first CPU, meeting the second's callbacks (rule 2) */
void *closer(void *arg)
{
	int round = 0;

	(void)arg;
	pin(cpu_timer);
	for (;;) {
		round++;
		wait_flag(&go_close, round);
		if (__atomic_load_n(&quit, __ATOMIC_ACQUIRE))
			break;
		if (RD.actions & CL_CLOSE) {
			spin_until(RD.T + (uint64_t)RD.off_close);
			RD.t_close = pt_now_ns();
			RD.close_res = close(RD.fd_close) ? -errno : 0;
		}
		if (RD.actions & CL_RING) {
			/* ring exit: io_uring calls the PENDs' cancel routine */
			spin_until(RD.T + (uint64_t)RD.off_ring);
			RD.t_ring = pt_now_ns();
			soak_pend_ring_exit(&SP);
		}
		if (RD.actions & (CL_UNBIND | CL_DEL)) {
			spin_until(RD.T + (uint64_t)RD.off_remove);
			RD.t_remove = pt_now_ns();
			if (RD.actions & CL_UNBIND)
				RD.remove_res = pt_drv_write("unbind", SOAK_ID);
			else
				RD.remove_res = pt_del_device(SOAK_ID);
			RD.t_remove_end = pt_now_ns();
		}
		RD.t_close_done = pt_now_ns();
		set_flag(&done_close, round);
	}
	return NULL;
}

void *waiter(void *arg)
{
	int j = (int)(intptr_t)arg, round = 0;

	pin(j ? cpu_race : cpu_timer);
	for (;;) {
		struct pendtimer_wait w;
		uint64_t now;

		round++;
		wait_flag(&go_wait[j], round);
		if (__atomic_load_n(&quit, __ATOMIC_ACQUIRE))
			break;
		now = pt_now_ns();
		w.timeout_ns = RD.wdue[j] > now ? RD.wdue[j] - now : 0;
		w.tag = RD.wtag[j];
		RD.wres[j] = ioctl(RD.fd_wait, PENDTIMER_IOC_WAIT, &w) ? -errno : 0;
		RD.wt1[j] = pt_now_ns();
		set_flag(&done_wait[j], round);
	}
	return NULL;
}

static pthread_t th_c, th_cl, th_w[NWAIT], th_s;

void racers_start(void)
{
	int j;

	pthread_create(&th_s, NULL, submitter, NULL);
	pthread_create(&th_c, NULL, canceller, NULL);
	pthread_create(&th_cl, NULL, closer, NULL);
	for (j = 0; j < NWAIT; j++)
		pthread_create(&th_w[j], NULL, waiter, (void *)(intptr_t)j);
}

void racers_stop(void)
{
	int j;

	__atomic_store_n(&quit, 1, __ATOMIC_RELEASE);
	set_flag(&go_sub, -1);
	set_flag(&go_cancel, -1);
	set_flag(&go_close, -1);
	for (j = 0; j < NWAIT; j++)
		set_flag(&go_wait[j], -1);
	pthread_join(th_s, NULL);
	pthread_join(th_c, NULL);
	pthread_join(th_cl, NULL);
	for (j = 0; j < NWAIT; j++)
		pthread_join(th_w[j], NULL);
}
