// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer module load and unload.  Loads the module itself (finit_module
 * on $PENDTIMER_KO, default /pendtimer/pendtimer.ko) and unloads it
 * (delete_module): run it with the module NOT loaded (it unloads a loaded
 * one first) and load the module again afterwards for the other tests.
 *
 * SPEC.md section 1 (module_init / module_exit), section 4 ("Devices and
 * the remove lock": nr_devices creates IDs 0..nr_devices-1 at load, rmmod
 * removes every device and is refused while any file is open, the file pins
 * the module), section 5 (max_pending; /dev/pendtimer<ID> is mode 0600;
 * request memory from a dedicated slab cache).  After every unload nothing
 * may be left: /dev/pendtimer0, /sys/module/pendtimer, /sys/bus/pendtimer,
 * /sys/kernel/debug/pendtimer, the pendtimer_req slab cache.
 */
#include "pendtimer_util.h"

#include <dirent.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define KO_DEFAULT	"/pendtimer/pendtimer.ko"
#define LOOPS		20

/* What must be gone after an unload (the slab cache may go with RCU delay). */
#define EXPECT_ALL_GONE() do {						\
	static const char *const __gone[] = {				\
		PT_DEV0, "/dev/pendtimer1", PT_SYSMOD, PT_SYSBUS,	\
		PT_DEBUGFS,						\
	};								\
	uint64_t __dl = pt_now_ns() + 2 * NSEC_PER_SEC;		\
	size_t __i;							\
									\
	for (__i = 0; __i < ARRAY_SIZE(__gone); __i++) {		\
		EXPECT_TRUE(pt_wait_path(__gone[__i], false, 2000)) {	\
			TH_LOG("%s still there after rmmod", __gone[__i]);\
		}							\
	}								\
	while (pt_slab_listed(PT_SLAB) && pt_now_ns() < __dl)		\
		pt_sleep_ms(10);					\
	EXPECT_FALSE(pt_slab_listed(PT_SLAB)) {				\
		TH_LOG("slab cache " PT_SLAB " still in /proc/slabinfo"); \
	}								\
} while (0)

FIXTURE(load) {
	int kofd;
	int fd, fd2;
	const char *ko;
};

FIXTURE_SETUP(load)
{
	int ret;

	self->fd = self->fd2 = -1;
	self->ko = getenv("PENDTIMER_KO");
	if (!self->ko || !*self->ko)
		self->ko = KO_DEFAULT;
	self->kofd = open(self->ko, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->kofd) {
		TH_LOG("cannot open the module %s: %s (set PENDTIMER_KO)",
		       self->ko, strerror(errno));
	}
	if (pt_module_loaded()) {
		ret = pt_rmmod(5000);
		ASSERT_EQ(0, ret) {
			TH_LOG("pendtimer already loaded and rmmod failed: %s",
			       strerror(-ret));
		}
	}
	ASSERT_FALSE(pt_module_loaded());
	ASSERT_TRUE(pt_wait_path(PT_DEV0, false, 2000));
}

FIXTURE_TEARDOWN(load)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->fd2 >= 0)
		close(self->fd2);
	if (pt_module_loaded())
		EXPECT_EQ(0, pt_rmmod(5000));
	if (self->kofd >= 0)
		close(self->kofd);
}

/*
 * insmod: /dev/pendtimer0 (char, 0600) and /sys/module/pendtimer; rmmod: all
 * gone.
 */
TEST_F_TIMEOUT(load, insmod_creates_dev_rmmod_removes_all, 60)
{
	struct pendtimer_stats s;
	struct stat st;
	long long v = -1;
	int ret;

	ret = pt_finit_module(self->kofd, "");
	ASSERT_EQ(0, ret) {
		TH_LOG("finit_module(%s): %s", self->ko, strerror(-ret));
	}
	ASSERT_TRUE(pt_module_loaded());
	ASSERT_TRUE(pt_wait_path(PT_DEV0, true, 2000)) {
		TH_LOG(PT_DEV0 " did not appear (devtmpfs mounted on /dev?)");
	}
	ASSERT_EQ(0, stat(PT_DEV0, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600U, st.st_mode & 07777) {
		TH_LOG(PT_DEV0 " has mode %o", st.st_mode & 07777);
	}
	/* parameters at their defaults */
	ASSERT_EQ(0, pt_param_read("max_pending", &v));
	EXPECT_EQ(4096, v);
	ASSERT_EQ(0, pt_param_read("race_delay_us", &v));
	EXPECT_EQ(0, v);
	TH_LOG("while loaded: %s %s, %s %s, slab " PT_SLAB " %s",
	       PT_SYSBUS, pt_path_exists(PT_SYSBUS) ? "present" : "absent",
	       PT_DEBUGFS, pt_path_exists(PT_DEBUGFS) ? "present" : "absent",
	       pt_slab_listed(PT_SLAB) ? "listed" : "not listed (merged?)");

	/* a fresh device: every counter zero */
	self->fd = pt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, pt_stats(self->fd, &s));
	EXPECT_EQ(0ULL, s.submitted + s.fired + s.cancelled + s.interrupted +
		  s.flushed + s.removed + s.pending + s.race_timer_late +
		  s.race_cleanup_deferred);
	EXPECT_TRUE(pt_reserved_zero(&s));
	ASSERT_EQ(0, pt_wait(self->fd, 0, 1));
	close(self->fd);
	self->fd = -1;

	ret = pt_rmmod(5000);
	ASSERT_EQ(0, ret) {
		TH_LOG("delete_module: %s", strerror(-ret));
	}
	EXPECT_ALL_GONE();
}

/*
 * An open file pins the module: rmmod is refused and the device keeps
 * working.
 */
TEST_F_TIMEOUT(load, rmmod_refused_while_file_open, 60)
{
	int ret;

	ASSERT_EQ(0, pt_finit_module(self->kofd, ""));
	ASSERT_TRUE(pt_wait_path(PT_DEV0, true, 2000));
	self->fd = pt_open();
	ASSERT_LE(0, self->fd);

	ret = pt_rmmod_once();
	ASSERT_EQ(-EAGAIN, ret) {	/* -EWOULDBLOCK: module in use */
		TH_LOG("delete_module with a file open: %d (%s)", ret,
		       strerror(-ret));
	}
	ASSERT_TRUE(pt_module_loaded());
	ASSERT_EQ(0, pt_wait(self->fd, 0, 1));
	close(self->fd);
	self->fd = -1;

	ASSERT_EQ(0, pt_rmmod(5000));
	EXPECT_ALL_GONE();
}

/*
 * Parameters at load: nr_devices=2 makes /dev/pendtimer1, max_pending
 * applies.
 */
TEST_F_TIMEOUT(load, insmod_params_nr_devices_max_pending, 60)
{
	struct pendtimer_stats s;
	long long v = -1;
	int efd, i, ret;

	ret = pt_finit_module(self->kofd, "nr_devices=2 max_pending=8 race_delay_us=0");
	ASSERT_EQ(0, ret) {
		TH_LOG("finit_module with parameters: %s", strerror(-ret));
	}
	ASSERT_TRUE(pt_wait_path(PT_DEV0, true, 2000));
	ASSERT_TRUE(pt_wait_path("/dev/pendtimer1", true, 2000));
	ASSERT_EQ(0, pt_param_read("max_pending", &v));
	ASSERT_EQ(8, v);

	self->fd = pt_open_id(1);
	ASSERT_LE(0, self->fd);
	efd = pt_eventfd();
	ASSERT_LE(0, efd);
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, pt_arm(self->fd, 10 * NSEC_PER_SEC, (__u64)i, efd));
	}
	EXPECT_EQ(-ENOSPC, pt_arm(self->fd, 10 * NSEC_PER_SEC, 8, efd));
	/* the devices are separate: pendtimer0's counters did not move */
	self->fd2 = pt_open_id(0);
	ASSERT_LE(0, self->fd2);
	ASSERT_EQ(0, pt_stats(self->fd2, &s));
	EXPECT_EQ(0ULL, s.submitted);
	ASSERT_EQ(0, pt_stats(self->fd, &s));
	EXPECT_EQ(8ULL, s.submitted);
	EXPECT_EQ(8ULL, s.pending);
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, pt_stats(self->fd2, &s));	/* still 0 on device 0 */
	EXPECT_EQ(0ULL, s.pending);
	close(self->fd2);
	self->fd2 = -1;
	EXPECT_EQ(0, pt_eventfd_take(efd));
	close(efd);

	ASSERT_EQ(0, pt_rmmod(5000));
	EXPECT_ALL_GONE();
}

/* 20 x (insmod, WAIT 0, ARM left pending, close, rmmod): nothing leaks. */
TEST_F_TIMEOUT(load, load_unload_20_times_no_leak, 300)
{
	int iter, efd, ret;

	efd = pt_eventfd();
	ASSERT_LE(0, efd);
	for (iter = 0; iter < LOOPS; iter++) {
		struct pendtimer_stats s;

		ret = pt_finit_module(self->kofd, "");
		ASSERT_EQ(0, ret) {
			TH_LOG("iteration %d: finit_module: %s", iter, strerror(-ret));
		}
		ASSERT_TRUE(pt_wait_path(PT_DEV0, true, 2000)) {
			TH_LOG("iteration %d: no " PT_DEV0, iter);
		}
		self->fd = pt_open();
		ASSERT_LE(0, self->fd);
		self->fd2 = pt_open();
		ASSERT_LE(0, self->fd2);
		ASSERT_EQ(0, pt_wait(self->fd, 0, 1)) {
			TH_LOG("iteration %d: WAIT", iter);
		}
		ASSERT_EQ(0, pt_arm(self->fd, 10 * NSEC_PER_SEC, 2, efd));
		close(self->fd);
		self->fd = -1;
		ASSERT_EQ(0, pt_stats(self->fd2, &s));
		EXPECT_EQ(2ULL, s.submitted);
		EXPECT_EQ(1ULL, s.fired);
		EXPECT_EQ(1ULL, s.flushed);
		EXPECT_EQ(0ULL, s.pending);
		EXPECT_TRUE(pt_invariant_ok(&s));
		close(self->fd2);
		self->fd2 = -1;

		ret = pt_rmmod(5000);
		ASSERT_EQ(0, ret) {
			TH_LOG("iteration %d: delete_module: %s", iter,
			       strerror(-ret));
		}
		EXPECT_ALL_GONE();
		ASSERT_TRUE(PT_PASSED_SO_FAR()) {
			TH_LOG("iteration %d left something behind", iter);
		}
	}
	EXPECT_EQ(0, pt_eventfd_take(efd));
	close(efd);
}

#define NEW_DEVICE	PT_SYSBUS "/new_device"
#define RACE_ROUNDS	20

/* Counters the writer child shares with the test. */
struct new_device_race {
	volatile int stop;
	volatile unsigned long added;	/* writes the bus accepted */
	volatile unsigned long refused;	/* writes the bus refused */
};

/* Write fresh IDs to new_device until told to stop. */
static void new_device_writer(struct new_device_race *r)
{
	unsigned int id = 1000;
	char buf[16];

	while (!r->stop) {
		int fd = open(NEW_DEVICE, O_WRONLY | O_CLOEXEC);
		int len;

		if (fd < 0) {
			sched_yield();
			continue;
		}
		len = snprintf(buf, sizeof(buf), "%u\n", id++);
		if (write(fd, buf, len) == len)
			r->added++;
		else
			r->refused++;
		close(fd);
	}
}

/* Bus devices are /sys/devices/pendtimer<ID> (no parent): any left? */
static int count_bus_devices_left(void)
{
	struct dirent *de;
	DIR *d = opendir("/sys/devices");
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, PT_MODNAME, strlen(PT_MODNAME)))
			n++;
	closedir(d);
	return n;
}

/*
 * SPEC section 4: rmmod removes every device. Module exit racing writes to
 * new_device must not leave a device behind (its release function would be
 * in the unloaded module): the bus refuses new devices once exit begins.
 * 20 rounds of insmod, a child writing fresh IDs as fast as it can, rmmod
 * in the middle of it; after each round no /sys/devices/pendtimer* remains.
 */
TEST_F_TIMEOUT(load, rmmod_racing_new_device_leaves_nothing, 300)
{
	struct new_device_race *r;
	unsigned long added = 0;
	int round, status, ret;
	pid_t pid;

	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r);
	for (round = 0; round < RACE_ROUNDS; round++) {
		memset(r, 0, sizeof(*r));
		ret = pt_finit_module(self->kofd, "");
		ASSERT_EQ(0, ret) {
			TH_LOG("round %d: finit_module: %s", round, strerror(-ret));
		}
		ASSERT_TRUE(pt_wait_path(PT_DEV0, true, 2000));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			new_device_writer(r);
			_exit(0);
		}
		/* let it add a few, then unload under its feet */
		while (r->added < 3 + (unsigned long)round % 5)
			sched_yield();
		ret = pt_rmmod(10000);
		r->stop = 1;
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_EQ(0, ret) {
			TH_LOG("round %d: delete_module: %s", round, strerror(-ret));
		}
		added += r->added;
		EXPECT_ALL_GONE();
		EXPECT_EQ(0, count_bus_devices_left()) {
			TH_LOG("round %d: a device outlived the module (%lu added, %lu refused)",
			       round, r->added, r->refused);
		}
		ASSERT_TRUE(PT_PASSED_SO_FAR());
	}
	TH_LOG("%d rounds, %lu devices added while the module unloaded", RACE_ROUNDS,
	       added);
	munmap(r, sizeof(*r));
}

PT_HARNESS_MAIN(0)
