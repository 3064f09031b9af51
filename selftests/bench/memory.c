// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_bench: the memory and teardown sections, and the memcg check.
 */
#include "bench.h"

/* ------------------------------------------------------------------ */
/* memory and teardown */

/* Wait until Slab is back within @slack_kb of @base (io_uring frees late). */
static double wait_slab_back(const struct kmem *base, long long slack_kb, unsigned int max_ms)
{
	uint64_t t0 = pt_now_ns();
	struct kmem m;

	for (;;) {
		kmem_read(&m);
		if (m.slab_kb + m.vmalloc_kb <= base->slab_kb + base->vmalloc_kb + slack_kb)
			return (double)(pt_now_ns() - t0);
		if (pt_now_ns() - t0 > (uint64_t)max_ms * NS_PER_MS)
			return -1;
		usleep(20000);
	}
}

/* @who's meminfo growth and the bytes per request it makes */
static void say_meminfo(const char *who, const struct kmem *m0, const struct kmem *m1, double bytes)
{
	say("  %s: Slab %+lld kB, VmallocUsed %+lld kB, Percpu %+lld kB -> %.1f bytes/request",
	    who, m1->slab_kb - m0->slab_kb, m1->vmalloc_kb - m0->vmalloc_kb,
	    m1->percpu_kb - m0->percpu_kb, bytes);
}

/* pendtimer: arm N, measure, close; returns 0 and fills @bytes, @close_ns. */
static int pt_mem_close(size_t n, double *bytes, double *close_ns, bool verbose)
{
	struct slabline s0, s1;
	struct kmem m0, m1;
	int fd, efd;
	uint64_t t0;

	fd = open(DEV0, O_RDWR | O_CLOEXEC);
	efd = eventfd(0, EFD_CLOEXEC);
	if (fd < 0 || efd < 0) {
		fail("open: %s", strerror(errno));
		return -1;
	}
	kmem_settle();
	usleep(50000);
	slab_read("pendtimer_req", &s0);
	kmem_read(&m0);
	t0 = pt_now_ns();
	if (arm_many(fd, efd, NULL, 0, n, LONG_TIMEOUT)) {
		close(fd);
		close(efd);
		return -1;
	}
	if (verbose)
		say("  pendtimer: %zu ARMs in %.1f ms", n, (pt_now_ns() - t0) / 1e6);
	kmem_read(&m1);
	slab_read("pendtimer_req", &s1);
	*bytes = (double)kmem_delta_bytes(&m0, &m1) / (double)n;
	if (verbose) {
		say_meminfo("pendtimer", &m0, &m1, *bytes);
		say("  pendtimer: slab pendtimer_req objsize %lld, %lld objs per %lld page(s): %.1f bytes/object; cache %+lld bytes = %.1f bytes/request",
		    s1.objsize, s1.objperslab, s1.pagesperslab,
		    s1.objperslab ? s1.pagesperslab * 4096.0 / s1.objperslab : 0.0,
		    slab_bytes(&s1) - slab_bytes(&s0),
		    (double)(slab_bytes(&s1) - slab_bytes(&s0)) / (double)n);
		detail("pendtimer_req.objsize", "%lld", s1.objsize);
		detail("pendtimer_req.objperslab", "%lld", s1.objperslab);
		detail("pendtimer_req.pagesperslab", "%lld", s1.pagesperslab);
		detail("pendtimer_req.slab_bytes_per_request", "%.1f",
		       (double)(slab_bytes(&s1) - slab_bytes(&s0)) / (double)n);
		detail("pendtimer.meminfo_delta_kb", "{\"Slab\": %lld, \"VmallocUsed\": %lld, \"Percpu\": %lld}",
		       m1.slab_kb - m0.slab_kb, m1.vmalloc_kb - m0.vmalloc_kb,
		       m1.percpu_kb - m0.percpu_kb);
	}
	t0 = pt_now_ns();
	close(fd);
	*close_ns = (double)(pt_now_ns() - t0);
	close(efd);
	return 0;
}

static int ur_mem_close(size_t n, double *bytes, double *close_ns, double *freed_ns,
			bool verbose)
{
	struct slabline s0, s1;
	struct io_uring ring;
	struct kmem m0, m1;
	uint64_t t0;

	if (ring_init(&ring, 4096, 0))
		return -1;
	kmem_settle();
	usleep(50000);
	slab_read("io_kiocb", &s0);
	kmem_read(&m0);
	t0 = pt_now_ns();
	if (uring_add_timeouts(&ring, NULL, 0, n)) {
		io_uring_queue_exit(&ring);
		return -1;
	}
	if (verbose)
		say("  io_uring: %zu timeouts in %.1f ms", n, (pt_now_ns() - t0) / 1e6);
	kmem_read(&m1);
	slab_read("io_kiocb", &s1);
	*bytes = (double)kmem_delta_bytes(&m0, &m1) / (double)n;
	if (verbose) {
		say_meminfo("io_uring", &m0, &m1, *bytes);
		say("  io_uring: slab io_kiocb objsize %lld, %lld objs per %lld page(s): cache %+lld bytes = %.1f bytes/request",
		    s1.objsize, s1.objperslab, s1.pagesperslab,
		    slab_bytes(&s1) - slab_bytes(&s0),
		    (double)(slab_bytes(&s1) - slab_bytes(&s0)) / (double)n);
		detail("io_kiocb.objsize", "%lld", s1.objsize);
		detail("io_kiocb.slab_bytes_per_request", "%.1f",
		       (double)(slab_bytes(&s1) - slab_bytes(&s0)) / (double)n);
		detail("io_uring.meminfo_delta_kb", "{\"Slab\": %lld, \"VmallocUsed\": %lld, \"Percpu\": %lld}",
		       m1.slab_kb - m0.slab_kb, m1.vmalloc_kb - m0.vmalloc_kb,
		       m1.percpu_kb - m0.percpu_kb);
	}
	t0 = pt_now_ns();
	io_uring_queue_exit(&ring);
	*close_ns = (double)(pt_now_ns() - t0);
	/* The ring's requests are freed by a kworker after close returns. */
	*freed_ns = wait_slab_back(&m0, 2048, 30000);
	return 0;
}

static void slab_sum(struct slabsum *ss)
{
	char line[512], nm[64];
	long long pps, slabs;
	FILE *f = fopen("/proc/slabinfo", "re");

	memset(ss, 0, sizeof(*ss));
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %*d %*d %*d %*d %lld : tunables %*d %*d %*d : slabdata %*d %lld",
			   nm, &pps, &slabs) != 3)
			continue;
		ss->all += pps * slabs * 4096;
		if (!strcmp(nm, "pendtimer_req"))
			ss->pt_req += pps * slabs * 4096;
		else if (!strcmp(nm, "io_kiocb"))
			ss->kiocb += pps * slabs * 4096;
	}
	fclose(f);
}

/*
 * PEND: @n parked in one ring on one open file. The kernel memory they take
 * (meminfo, as for the others) is split in two: pendtimer's own part is the
 * growth of its pendtimer_req cache plus the memory that is in no slab cache
 * (meminfo's growth less that of all of /proc/slabinfo: large kmallocs and
 * vmalloc, i.e. pendtimer's kvmalloc'd tag hash; io_uring allocates nothing
 * that size per request); the rest, in io_uring's caches (io_kiocb, its
 * command data in kmalloc caches) is io_uring's cost of a parked command.
 * Then the ring is closed (io_uring cancels the PENDs: the driver's cancel
 * routine) and the time that takes is kept.
 */
static int pend_mem_close(size_t n, double *bytes, double *own, double *close_ns,
			  bool verbose)
{
	struct slabsum s0, s1;
	struct io_uring ring;
	struct kmem m0, m1;
	long long total, outside;
	uint64_t t0;
	int fd;

	fd = open(DEV0, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fail("open: %s", strerror(errno));
		return -1;
	}
	if (ring_init(&ring, 4096, 0)) {
		close(fd);
		return -1;
	}
	kmem_settle();
	usleep(50000);
	slab_sum(&s0);
	kmem_read(&m0);
	t0 = pt_now_ns();
	if (pend_submit(&ring, fd, LONG_TIMEOUT, 0, n, true)) {
		io_uring_queue_exit(&ring);
		close(fd);
		return -1;
	}
	if (verbose)
		say("  PEND: %zu parked in %.1f ms", n, (pt_now_ns() - t0) / 1e6);
	kmem_read(&m1);
	slab_sum(&s1);
	total = kmem_delta_bytes(&m0, &m1);
	outside = total - (s1.all - s0.all);
	*bytes = (double)total / (double)n;
	*own = (double)((s1.pt_req - s0.pt_req) + (outside > 0 ? outside : 0)) / (double)n;
	if (verbose) {
		say_meminfo("PEND", &m0, &m1, *bytes);
		say("  PEND: pendtimer_req cache %.1f + outside slab caches %.1f = pendtimer's own %.1f bytes/request; io_kiocb cache %.1f, all other caches %.1f: io_uring's %.1f",
		    (double)(s1.pt_req - s0.pt_req) / n, (double)outside / n, *own,
		    (double)(s1.kiocb - s0.kiocb) / n,
		    (double)((s1.all - s0.all) - (s1.pt_req - s0.pt_req) - (s1.kiocb - s0.kiocb)) / n,
		    *bytes - *own);
		detail("pend.bytes_per_request_split",
		       "{\"total\": %.1f, \"pendtimer_req_cache\": %.1f, \"outside_slab_caches\": %.1f, \"pendtimer_own\": %.1f, \"io_kiocb_cache\": %.1f, \"other_slab_caches\": %.1f, \"io_uring\": %.1f}",
		       *bytes, (double)(s1.pt_req - s0.pt_req) / n, (double)outside / n, *own,
		       (double)(s1.kiocb - s0.kiocb) / n,
		       (double)((s1.all - s0.all) - (s1.pt_req - s0.pt_req) - (s1.kiocb - s0.kiocb)) / n,
		       *bytes - *own);
	}
	t0 = pt_now_ns();
	io_uring_queue_exit(&ring);
	*close_ns = (double)(pt_now_ns() - t0);
	close(fd);
	return 0;
}

static int find_free_id(void)
{
	char path[64];
	int id;

	for (id = 90; id < 200; id++) {
		snprintf(path, sizeof(path), "/sys/bus/pendtimer/devices/pendtimer%d", id);
		if (access(path, F_OK))
			return id;
	}
	return -1;
}

static int del_device_cost(size_t n, double *del_ns)
{
	int id = find_free_id(), fd = -1, efd = -1, delfd = -1, i, ret = -1;
	char path[64], idbuf[16];
	uint64_t t0;
	ssize_t w;

	if (id < 0) {
		fail("no free device ID");
		return -1;
	}
	snprintf(idbuf, sizeof(idbuf), "%d", id);
	if (pt_write_str(BUS_NEW, idbuf)) {
		fail("new_device %d: %s", id, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "/dev/pendtimer%d", id);
	for (i = 0; i < 100 && access(path, F_OK); i++)
		usleep(20000);
	fd = open(path, O_RDWR | O_CLOEXEC);
	efd = eventfd(0, EFD_CLOEXEC);
	delfd = open(BUS_DEL, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || efd < 0 || delfd < 0) {
		fail("del_device setup (%s): %s", path, strerror(errno));
		goto out;
	}
	if (arm_many(fd, efd, NULL, 0, n, LONG_TIMEOUT))
		goto out;
	t0 = pt_now_ns();
	w = write(delfd, idbuf, strlen(idbuf));
	*del_ns = (double)(pt_now_ns() - t0);
	if (w != (ssize_t)strlen(idbuf)) {
		fail("del_device %d: %s", id, strerror(errno));
		goto out;
	}
	{
		/* the file outlives its device: everything -ENODEV */
		int r = pt_arm(fd, 1, 1, efd);

		if (r != -ENODEV)
			fail("ARM after del_device: %d, expected -ENODEV", r);
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (efd >= 0)
		close(efd);
	if (delfd >= 0)
		close(delfd);
	if (ret && access(path, F_OK) == 0)
		pt_write_str(BUS_DEL, idbuf);
	return ret;
}

static double mem_pt[8], mem_ur[8], tdc[8], tdu[8], tdd[8];
static double mem_pend[8], own_pend[8], tdp[8];

/* Wait for Slab to stop moving (io_uring rings of earlier sections free late). */
static void settle(void)
{
	struct kmem a, b;
	unsigned int i, calm = 0;

	kmem_read(&a);
	for (i = 0; i < 100 && calm < 3; i++) {
		usleep(100000);
		kmem_read(&b);
		calm = llabs(b.slab_kb - a.slab_kb) < 64 ? calm + 1 : 0;
		a = b;
	}
}

void bench_memory_teardown(bool do_mem, bool do_td)
{
	unsigned int reps = do_td ? 5 : 1, r;
	size_t n = opt_big;
	double freed[8];
	unsigned int nr = 0;

	say("memory/teardown: %zu pending, %u repetitions, interleaved (pendtimer close, io_uring close, del_device)",
	    n, reps);
	for (r = 0; r < reps; r++) {
		bool v = r == 0;

		settle();
		if (pt_mem_close(n, &mem_pt[r], &tdc[r], v))
			return;
		if (ur_mem_close(n, &mem_ur[r], &tdu[r], &freed[r], v))
			return;
		if (pend_ok && pend_mem_close(n, &mem_pend[r], &own_pend[r], &tdp[r], v))
			return;
		if (do_td && del_device_cost(n, &tdd[r]))
			return;
		say("  rep %u: bytes/request pendtimer %.1f io_uring %.1f; teardown ms: pendtimer close %.2f, io_uring close %.2f (memory freed %.0f ms after close), del_device %.2f",
		    r + 1, mem_pt[r], mem_ur[r], tdc[r] / 1e6, tdu[r] / 1e6,
		    freed[r] < 0 ? -1.0 : freed[r] / 1e6, do_td ? tdd[r] / 1e6 : -1.0);
		if (pend_ok)
			say("  rep %u: PEND bytes/request %.1f (pendtimer's own %.1f), ring close with %zu PENDs %.2f ms",
			    r + 1, mem_pend[r], own_pend[r], n, tdp[r] / 1e6);
		nr++;
	}
	if (do_mem) {
		bytes_pt = median_dbl(mem_pt, nr);
		bytes_ur = median_dbl(mem_ur, nr);
		if (pend_ok) {
			bytes_pend = median_dbl(mem_pend, nr);
			detail("bytes_per_request.pendtimer_pend_own", "%.1f",
			       median_dbl(own_pend, nr));
		}
	}
	if (pend_ok && do_td)
		detail("teardown_ns.pendtimer_pend_ring_close", "%.0f", median_dbl(tdp, nr));
	if (do_td) {
		td_close = median_dbl(tdc, nr);
		td_ur = median_dbl(tdu, nr);
		td_del = median_dbl(tdd, nr);
		detail("io_uring_close.memory_freed_after_ns", "%.0f", median_dbl(freed, nr));
	}
}

/*
 * The same memory measurement inside a child memory cgroup: with kmem
 * accounting each slab page also gets an obj_cgroup vector (8 bytes per
 * object). The root cgroup (the guest's default) does not pay it.
 */
void bench_memory_memcg(void)
{
	double bp, bu, c1, c2, fr;
	char pid[32];

	if (access(CGROOT "/cgroup.controllers", F_OK)) {
		say("memory in a memcg: no cgroup2 at %s, skipped", CGROOT);
		return;
	}
	pt_write_str(CGROOT "/cgroup.subtree_control", "+memory");
	if (mkdir(CGBENCH, 0755) && errno != EEXIST) {
		say("memory in a memcg: mkdir %s: %s, skipped", CGBENCH, strerror(errno));
		return;
	}
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (pt_write_str(CGBENCH "/cgroup.procs", pid)) {
		say("memory in a memcg: cannot join %s, skipped", CGBENCH);
		rmdir(CGBENCH);
		return;
	}
	say("memory in memcg %s (kmem accounting on):", CGBENCH);
	settle();
	if (!pt_mem_close(opt_big, &bp, &c1, false) &&
	    !ur_mem_close(opt_big, &bu, &c2, &fr, false)) {
		say("  memcg: bytes/request pendtimer %.1f, io_uring %.1f", bp, bu);
		detail("bytes_per_request_in_memcg", "{\"pendtimer\": %.1f, \"io_uring\": %.1f}",
		       bp, bu);
	}
	pt_write_str(CGROOT "/cgroup.procs", pid);
	usleep(100000);
	rmdir(CGBENCH);
}
