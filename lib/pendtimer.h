/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libpendtimer: user-space helpers for clients of the pendtimer driver
 * (SPEC.md section 2), used by the CLI (tools/), the selftests, the fuzzer,
 * the soak and the benchmark, and installed by `make install` for anyone
 * writing a client of their own (see docs/example/client.c).
 *
 * Conventions: every function that can fail returns 0 (or a non-negative
 * value: a descriptor, a count) on success and -errno on failure; nothing
 * here prints, exits or keeps global state.  No test harness inside: the
 * selftests' harness glue is selftests/pendtimer_util.h.
 *
 * io_uring: the pt_prep_*() helpers fill a struct io_uring_sqe (liburing's
 * or <linux/io_uring.h>'s: the same layout) in the style of liburing's
 * io_uring_prep_*() and need no liburing; the pt_ring_*(), pt_submit_*(),
 * pt_reap(), pt_peek() and pt_pender_start() helpers do (link with -luring)
 * and are absent from a library built with NO_URING=1 or for 32-bit x86
 * (PT_HAVE_URING 0).
 *
 * Link: -lpendtimer -lpthread [-luring].
 */
#ifndef PENDTIMER_LIB_H
#define PENDTIMER_LIB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/pendtimer.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef PT_HAVE_URING
#if defined(__i386__) || defined(PENDTIMER_NO_URING)
#define PT_HAVE_URING	0
#else
#define PT_HAVE_URING	1
#endif
#endif

#define PT_DEV_FMT	"/dev/pendtimer%d"
#define PT_DEV0		"/dev/pendtimer0"
#define PT_MODNAME	"pendtimer"
#define PT_SYSMOD	"/sys/module/pendtimer"
#define PT_PARAMS	PT_SYSMOD "/parameters/"
#define PT_SYSBUS	"/sys/bus/pendtimer"
#define PT_NEW_DEVICE	PT_SYSBUS "/new_device"
#define PT_DEL_DEVICE	PT_SYSBUS "/del_device"
#define PT_DRV		PT_SYSBUS "/drivers/pendtimer"
#define PT_DEBUGFS	"/sys/kernel/debug/pendtimer"
#define PT_SLAB		"pendtimer_req"

#define PT_NSEC_PER_USEC	1000ULL
#define PT_NSEC_PER_MSEC	1000000ULL
#define PT_NSEC_PER_SEC		1000000000ULL

/* ------------------------------------------------------------------ */
/* time (lib/time.c) */

/**
 * pt_now_ns() - CLOCK_MONOTONIC in nanoseconds.
 */
uint64_t pt_now_ns(void);

/**
 * pt_sleep_ns() - sleep @ns nanoseconds on CLOCK_MONOTONIC (signals resume it).
 * @ns: how long.
 */
void pt_sleep_ns(uint64_t ns);

/**
 * pt_sleep_ms() - sleep @ms milliseconds.
 * @ms: how long.
 */
void pt_sleep_ms(unsigned int ms);

/**
 * pt_sleep_until() - sleep until CLOCK_MONOTONIC reaches @deadline.
 * @deadline: a pt_now_ns() value.
 */
void pt_sleep_until(uint64_t deadline);

/**
 * pt_sleep_until_stop() - sleep until @deadline in steps of at most 50 ms.
 * @deadline: a pt_now_ns() value.
 * @stop: if not NULL, checked between steps.
 *
 * Return: true at the deadline, false when *@stop was set first.
 */
bool pt_sleep_until_stop(uint64_t deadline, volatile int *stop);

/**
 * pt_spin_until() - busy-wait until CLOCK_MONOTONIC reaches @deadline.
 * @deadline: a pt_now_ns() value.
 */
void pt_spin_until(uint64_t deadline);

/**
 * pt_secs() - nanoseconds as seconds.
 * @ns: a duration.
 */
double pt_secs(uint64_t ns);

/**
 * pt_xorshift64() - the next number of a xorshift64 generator (13, 7, 17).
 * @state: the generator (never 0).
 */
uint64_t pt_xorshift64(uint64_t *state);

/**
 * pt_splitmix64() - the next number of a splitmix64 generator (also the
 * usual way to seed a larger generator from one 64-bit seed).
 * @state: the generator (any value).
 */
uint64_t pt_splitmix64(uint64_t *state);

/* ------------------------------------------------------------------ */
/* the device and its ioctls (lib/ioctl.c) */

/**
 * pt_open_path() - open a pendtimer device node read-write, close-on-exec.
 * @path: e.g. PT_DEV0.
 *
 * Return: the descriptor or -errno.
 */
int pt_open_path(const char *path);

/**
 * pt_open_id() - open /dev/pendtimer@id.
 * @id: the device id.
 *
 * Return: the descriptor or -errno.
 */
int pt_open_id(int id);

/**
 * pt_open() - open /dev/pendtimer0.
 *
 * Return: the descriptor or -errno.
 */
int pt_open(void);

/**
 * pt_ioctl() - ioctl(2) with the -errno convention.
 * @fd: a pendtimer descriptor.
 * @req: the request (PENDTIMER_IOC_*).
 * @arg: its argument.
 *
 * Return: the ioctl's non-negative value or -errno.
 */
int pt_ioctl(int fd, unsigned long req, void *arg);

/**
 * pt_wait() - PENDTIMER_IOC_WAIT: block until the request completes.
 * @fd: a pendtimer descriptor.
 * @timeout_ns: relative timeout.
 * @tag: the request's tag (for CANCEL).
 *
 * Return: 0 (fired), -ECANCELED, -EINTR, -ENODEV or a submission error.
 */
int pt_wait(int fd, uint64_t timeout_ns, uint64_t tag);

/**
 * pt_arm_flags() - PENDTIMER_IOC_ARM with flags.
 * @fd: a pendtimer descriptor.
 * @timeout_ns: relative timeout.
 * @tag: the request's tag.
 * @efd: the eventfd signalled at completion.
 * @flags: struct pendtimer_arm flags.
 *
 * Return: 0 (armed) or -errno.
 */
int pt_arm_flags(int fd, uint64_t timeout_ns, uint64_t tag, int efd,
		 uint32_t flags);

/**
 * pt_arm() - PENDTIMER_IOC_ARM without flags.
 * @fd: a pendtimer descriptor.
 * @timeout_ns: relative timeout.
 * @tag: the request's tag.
 * @efd: the eventfd signalled at completion.
 *
 * Return: 0 (armed) or -errno.
 */
int pt_arm(int fd, uint64_t timeout_ns, uint64_t tag, int efd);

/**
 * pt_cancel() - PENDTIMER_IOC_CANCEL: cancel every request tagged @tag.
 * @fd: a pendtimer descriptor.
 * @tag: the tag.
 *
 * Return: 0 or -errno (-ENOENT: none pending).
 */
int pt_cancel(int fd, uint64_t tag);

/**
 * pt_stats() - PENDTIMER_IOC_STATS.
 * @fd: a pendtimer descriptor.
 * @s: filled (0xa5 bytes first, so that what the driver left is visible).
 *
 * Return: 0 or -errno.
 */
int pt_stats(int fd, struct pendtimer_stats *s);

/* ------------------------------------------------------------------ */
/* stats (lib/stats.c) */

/**
 * pt_invariant_ok() - the accounting invariant of SPEC.md.
 * @s: stats.
 *
 * Return: submitted == fired + cancelled + interrupted + flushed + removed
 * + pending.
 */
bool pt_invariant_ok(const struct pendtimer_stats *s);

/**
 * pt_reserved_zero() - are the reserved fields all zero?
 * @s: stats.
 */
bool pt_reserved_zero(const struct pendtimer_stats *s);

/**
 * pt_stats_delta() - @d = @a - @b, field by field.
 * @d: the result (may be @a or @b).
 * @a: the later stats.
 * @b: the earlier stats.
 */
void pt_stats_delta(struct pendtimer_stats *d, const struct pendtimer_stats *a,
		    const struct pendtimer_stats *b);

/**
 * pt_stats_fmt() - the counters on one line ("submitted=1 fired=1 ...").
 * @buf: the result.
 * @len: its size (320 bytes are enough).
 * @s: stats.
 */
void pt_stats_fmt(char *buf, size_t len, const struct pendtimer_stats *s);

/**
 * struct pt_stat_field - one counter of struct pendtimer_stats.
 * @name: its name as the CLI and docs print it.
 * @off: its offset in the struct.
 */
struct pt_stat_field {
	const char *name;
	size_t off;
};

/* Every counter (not reserved), in struct order; pt_stat_fields_nr of them. */
extern const struct pt_stat_field pt_stat_fields[];
extern const size_t pt_stat_fields_nr;

/**
 * pt_stat_get() - a counter by its pt_stat_fields[] index.
 * @s: stats.
 * @i: the index.
 */
__u64 pt_stat_get(const struct pendtimer_stats *s, size_t i);

/**
 * pt_wait_pending() - poll STATS until pending == @want.
 * @fd: a pendtimer descriptor.
 * @want: the pending count to wait for.
 * @timeout_ms: how long at most.
 * @out: if not NULL, the last stats read.
 *
 * Return: 0, -ETIMEDOUT or the STATS error.
 */
int pt_wait_pending(int fd, __u64 want, unsigned int timeout_ms,
		    struct pendtimer_stats *out);

/**
 * pt_settle() - wait for the device to be quiet.
 * @fd: a pendtimer descriptor.
 * @timeout_ms: how long at most.
 * @out: if not NULL, the last stats read.
 *
 * Quiet: pending == 0, the invariant holds and two reads 100 us apart agree.
 *
 * Return: 0, -ETIMEDOUT or the STATS error.
 */
int pt_settle(int fd, unsigned int timeout_ms, struct pendtimer_stats *out);

/**
 * pt_settle_id() - pt_settle() on a descriptor of its own of device @id.
 * @id: the device ID (/dev/pendtimer<id>).
 * @timeout_ms: how long at the most.
 * @out: the last counters read (may be NULL).
 *
 * Return: as pt_settle(), or -errno if the device does not open.
 */
int pt_settle_id(int id, unsigned int timeout_ms, struct pendtimer_stats *out);

/* ------------------------------------------------------------------ */
/* eventfd (lib/eventfd.c) */

/**
 * pt_eventfd() - a nonblocking, close-on-exec eventfd.
 *
 * Return: the descriptor or -errno.
 */
int pt_eventfd(void);

/**
 * pt_eventfd_take() - read an eventfd without blocking.
 * @efd: the eventfd.
 *
 * Return: the counter (> 0), 0 if it was 0, or -errno.
 */
int64_t pt_eventfd_take(int efd);

/* ------------------------------------------------------------------ */
/* files, sysfs, module parameters, debugfs (lib/sysfs.c) */

/**
 * pt_path_exists() - does @path exist (stat(2) succeeds)?
 * @path: the path.
 */
bool pt_path_exists(const char *path);

/**
 * pt_wait_path() - poll every 5 ms until @path exists (@want) or not.
 * @path: the path.
 * @want: true: wait for it to appear; false: to go.
 * @timeout_ms: how long at most.
 *
 * Return: true if it did in time.
 */
bool pt_wait_path(const char *path, bool want, unsigned int timeout_ms);

/**
 * pt_module_loaded() - is /sys/module/pendtimer there?
 */
bool pt_module_loaded(void);

/**
 * pt_write_buf() - write(2) @len bytes of @buf to @path, in one call
 * (again if a signal interrupts it).
 * @path: a (sysfs, debugfs, proc) file.
 * @buf: the bytes.
 * @len: how many.
 *
 * Return: 0, -errno, or -EIO for a short write.
 */
int pt_write_buf(const char *path, const char *buf, size_t len);

/**
 * pt_write_str() - pt_write_buf() of a string.
 * @path: the file.
 * @s: the string (without its NUL).
 */
int pt_write_str(const char *path, const char *s);

/**
 * pt_write_fmt() - pt_write_str() of a printf-formatted string (< 256 bytes).
 * @path: the file.
 * @fmt: the format.
 */
int pt_write_fmt(const char *path, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * pt_read_buf() - read up to @len - 1 bytes of @path, NUL-terminated: until
 * the end of the file or @len - 1 bytes (again if a signal interrupts a read).
 * @path: the file.
 * @buf: the result.
 * @len: its size.
 *
 * Return: the bytes read or -errno.
 */
int pt_read_buf(const char *path, char *buf, size_t len);

/**
 * pt_read_file() - read a whole (small) file into malloc()ed memory.
 * @path: the file.
 * @lenp: if not NULL, its length.
 *
 * Return: the NUL-terminated contents (free() them), or NULL with errno set.
 */
char *pt_read_file(const char *path, size_t *lenp);

/**
 * pt_read_ll() - read a file holding one number.
 * @path: the file.
 * @val: the number.
 *
 * Return: 0 or -errno.
 */
int pt_read_ll(const char *path, long long *val);

/**
 * pt_param_read() - read a module parameter as a number.
 * @name: its name under /sys/module/pendtimer/parameters/.
 * @val: the number.
 *
 * Return: 0 or -errno.
 */
int pt_param_read(const char *name, long long *val);

/**
 * pt_param_write() - write a module parameter.
 * @name: its name under /sys/module/pendtimer/parameters/.
 * @val: the number.
 *
 * Return: 0 or the write's -errno.
 */
int pt_param_write(const char *name, long long val);

/**
 * pt_trace_record_cmd_off() - switch tracefs's options/record-cmd off.
 * @root: the tracefs root (an instance has no such option).
 * @was: set to '1' when it was on and is now off (what to put back with
 *	pt_trace_record_cmd_restore()), else to 0.
 *
 * With record-cmd on, enabling any event also hooks sched_switch and
 * sched_wakeup, which live-patches the scheduler's static branches; under
 * QEMU TCG a vCPU has been seen to execute a stale int3 from that patching.
 *
 * Return: 0 (also when it was off already), -ENOENT without the option,
 * or the write's -errno.
 */
int pt_trace_record_cmd_off(const char *root, char *was);

/**
 * pt_trace_record_cmd_restore() - put record-cmd back as it was.
 * @root: the tracefs root.
 * @was: what pt_trace_record_cmd_off() left there; 0 does nothing.
 *
 * Return: 0 or the write's -errno.
 */
int pt_trace_record_cmd_restore(const char *root, char was);

/**
 * pt_slab_listed() - does /proc/slabinfo list a cache named @name?
 * @name: the cache name (PT_SLAB).
 *
 * Return: false also when slabinfo is unreadable.
 */
bool pt_slab_listed(const char *name);

/**
 * pt_dev_node() - the device node path of device @id.
 * @buf: the result.
 * @len: its size.
 * @id: the device id.
 */
void pt_dev_node(char *buf, size_t len, int id);

/**
 * pt_dev_node_exists() - is /dev/pendtimer@id there?
 * @id: the device id.
 */
bool pt_dev_node_exists(int id);

/**
 * pt_wait_dev_node() - wait up to 3 s for /dev/pendtimer@id to come or go.
 * @id: the device id.
 * @want: come (true) or go (false).
 */
bool pt_wait_dev_node(int id, bool want);

/**
 * pt_bus_dev_exists() - is bus device pendtimer@id registered?
 * @id: the device id.
 */
bool pt_bus_dev_exists(int id);

/**
 * pt_bus_dev_bound() - is bus device pendtimer@id bound to the driver?
 * @id: the device id.
 */
bool pt_bus_dev_bound(int id);

/**
 * pt_debugfs_dir_exists() - has device @id its debugfs directory?
 * @id: the device id.
 */
bool pt_debugfs_dir_exists(int id);

/**
 * pt_new_device() - write @id to the bus's new_device.
 * @id: the device id.
 *
 * Return: 0 or the write's -errno.
 */
int pt_new_device(int id);

/**
 * pt_del_device() - write @id to the bus's del_device.
 * @id: the device id.
 *
 * Return: 0 or the write's -errno.
 */
int pt_del_device(int id);

/**
 * pt_drv_write() - write "pendtimer@id" to the driver's @file.
 * @file: "bind" or "unbind".
 * @id: the device id.
 *
 * Return: 0 or the write's -errno.
 */
int pt_drv_write(const char *file, int id);

/**
 * pt_debugfs_value() - the number of a "name: value" line of a debugfs file.
 * @id: the device id.
 * @file: the file in its debugfs directory (e.g. "holders").
 * @name: the name.
 * @val: the number.
 *
 * Return: 0, -ENOENT (no such line) or -errno.
 */
int pt_debugfs_value(int id, const char *file, const char *name,
		     long long *val);

/* ------------------------------------------------------------------ */
/* loading and unloading the module (lib/module.c; root only) */

/**
 * pt_finit_module() - finit_module(2) of an open .ko.
 * @kofd: the module file.
 * @params: its parameters ("" or NULL: none).
 *
 * Return: 0 or -errno.
 */
int pt_finit_module(int kofd, const char *params);

/**
 * pt_insmod() - load the module from @ko.
 * @ko: the path of pendtimer.ko.
 * @params: its parameters ("" or NULL: none).
 *
 * Return: 0 or -errno.
 */
int pt_insmod(const char *ko, const char *params);

/**
 * pt_rmmod_once() - delete_module(2) "pendtimer", O_NONBLOCK.
 *
 * Return: 0 or -errno (-EBUSY while a descriptor is open).
 */
int pt_rmmod_once(void);

/**
 * pt_rmmod() - unload, retrying on -EAGAIN and -EBUSY for @timeout_ms.
 * @timeout_ms: how long at most (a reference may still be dropped).
 *
 * Return: 0 or the last -errno.
 */
int pt_rmmod(unsigned int timeout_ms);

/* ------------------------------------------------------------------ */
/* CPUs, threads, kernel (lib/cpu.c) */

/**
 * pt_scaled() - @n divided by $PT_SCALE (at least 1): the bulk tests' size.
 * @n: the full size.
 */
int pt_scaled(int n);

/**
 * pt_online_cpus() - how many CPUs this thread may run on.
 */
int pt_online_cpus(void);

/**
 * pt_nth_cpu() - the @n-th CPU (0-based) of this thread's affinity mask.
 * @n: the index.
 *
 * Return: the CPU number or -1.
 */
int pt_nth_cpu(int n);

/**
 * pt_pin_thread() - pin thread @th to CPU @cpu.
 * @th: the thread.
 * @cpu: the CPU.
 *
 * Return: 0 or -errno.
 */
int pt_pin_thread(pthread_t th, int cpu);

/**
 * pt_pin_self() - pin the calling thread to CPU @cpu.
 * @cpu: the CPU.
 *
 * Return: 0 or -errno.
 */
int pt_pin_self(int cpu);

/**
 * pt_join_ms() - pthread_join() with a deadline.
 * @th: the thread.
 * @timeout_ms: how long at most.
 *
 * Return: 0 or -ETIMEDOUT (the thread still runs).
 */
int pt_join_ms(pthread_t th, unsigned int timeout_ms);

/**
 * struct pt_threads - this process's threads.
 * @total: entries of /proc/self/task.
 * @iowq: of them, io-wq workers (comm "iou-wrk-<tid>").
 */
struct pt_threads {
	int total;
	int iowq;
};

/**
 * pt_count_threads() - count this process's threads.
 * @t: the result.
 *
 * Return: 0 or -errno.
 */
int pt_count_threads(struct pt_threads *t);

/**
 * pt_kernel_version() - the running kernel as major * 1000 + minor.
 * @release: if not NULL, uname's release string.
 * @len: its size.
 *
 * Return: e.g. 6012 for "6.12.38+deb12-amd64"; 0 if unreadable.
 */
int pt_kernel_version(char *release, size_t len);

/* PEND needs io_uring_cmd_mark_cancelable() (6.7). */
#define PT_PEND_MIN_VERSION	(6 * 1000 + 7)

/**
 * pt_pend_supported() - does this kernel park PENDs (or end each with
 * -EOPNOTSUPP)?
 */
bool pt_pend_supported(void);

/* ------------------------------------------------------------------ */
/* a WAIT (lib/waiter.c) or a PEND (lib/ring.c) on a helper thread */

/**
 * struct pt_waiter - a WAIT, or a PEND, issued from a helper thread.
 * @th: the thread.
 * @fd: the descriptor.
 * @timeout_ns: the request's timeout.
 * @tag: the request's tag (a PEND's user_data too).
 * @cpu: pin to this CPU if >= 0.
 * @started: set just before the ioctl (a PEND: its submission).
 * @submitted: a PEND: set when io_uring_submit() returned (__atomic_load_n()).
 * @t_start: CLOCK_MONOTONIC before the ioctl (a PEND: its submission).
 * @t_end: CLOCK_MONOTONIC after it (a PEND: after its CQE).
 * @done: set after it.
 * @ret: its result, a PEND's CQE res (1 until there is one: none is 1).
 * @err: a PEND: 0, or the error of its ring's setup, of its submission or
 *	of the wait for its CQE.
 */
struct pt_waiter {
	pthread_t th;
	int fd;
	__u64 timeout_ns;
	__u64 tag;
	int cpu;
	volatile int started;
	int submitted;
	uint64_t t_start, t_end;
	volatile int done;
	int ret;
	int err;
};

/**
 * pt_waiter_start() - start a thread that issues one WAIT.
 * @w: the waiter.
 * @fd: the descriptor.
 * @timeout_ns: the WAIT's timeout.
 * @tag: the WAIT's tag.
 * @cpu: pin the thread to this CPU if >= 0.
 *
 * Return: 0 or -errno of pthread_create().
 */
int pt_waiter_start(struct pt_waiter *w, int fd, __u64 timeout_ns, __u64 tag,
		    int cpu);

/**
 * pt_waiter_wait_started() - yield until the waiter is about to WAIT.
 * @w: the waiter.
 */
void pt_waiter_wait_started(struct pt_waiter *w);

/* ------------------------------------------------------------------ */
/* io_uring SQEs, no liburing needed (lib/uring.c) */

struct io_uring_sqe;

/**
 * pt_prep_cmd() - an IORING_OP_URING_CMD SQE.
 * @sqe: the SQE (every field is written).
 * @fd: the pendtimer descriptor.
 * @cmd_op: PENDTIMER_URING_PEND, PENDTIMER_IOC_WAIT or PENDTIMER_IOC_CANCEL.
 * @cmd: the command (at most 16 bytes; the rest of the area is zeroed).
 * @len: its size.
 * @user_data: the CQE's user_data.
 */
void pt_prep_cmd(struct io_uring_sqe *sqe, int fd, __u32 cmd_op,
		 const void *cmd, size_t len, __u64 user_data);

/**
 * pt_prep_wait() - a URING_CMD WAIT (completes when the request does).
 * @sqe: the SQE.
 * @fd: the pendtimer descriptor.
 * @timeout_ns: relative timeout.
 * @tag: the request's tag.
 * @user_data: the CQE's user_data.
 */
void pt_prep_wait(struct io_uring_sqe *sqe, int fd, __u64 timeout_ns,
		  __u64 tag, __u64 user_data);

/**
 * pt_prep_pend() - a URING_CMD PEND (parked; no thread waits for it).
 * @sqe: the SQE.
 * @fd: the pendtimer descriptor.
 * @timeout_ns: relative timeout.
 * @tag: the request's tag.
 * @user_data: the CQE's user_data.
 */
void pt_prep_pend(struct io_uring_sqe *sqe, int fd, __u64 timeout_ns,
		  __u64 tag, __u64 user_data);

/**
 * pt_prep_cancel() - a URING_CMD CANCEL of the requests tagged @tag.
 * @sqe: the SQE.
 * @fd: the pendtimer descriptor.
 * @tag: the tag.
 * @user_data: the CQE's user_data.
 */
void pt_prep_cancel(struct io_uring_sqe *sqe, int fd, __u64 tag,
		    __u64 user_data);

#if PT_HAVE_URING
/* ------------------------------------------------------------------ */
/* rings, submission and CQEs, with liburing (lib/ring.c; -luring) */

struct io_uring;

/**
 * pt_ring_init() - a ring with @sq SQ and @cq CQ entries.
 * @ring: the ring.
 * @sq: SQ entries.
 * @cq: CQ entries (0: io_uring's default, 2 x @sq).
 *
 * Return: 0 or -errno.
 */
int pt_ring_init(struct io_uring *ring, unsigned int sq, unsigned int cq);

/**
 * pt_submit_wait() - submit one URING_CMD WAIT now.
 * @ring: the ring.
 * @fd: the pendtimer descriptor.
 * @timeout_ns: relative timeout.
 * @tag: the request's tag.
 * @user_data: the CQE's user_data.
 *
 * Return: 0, -EBUSY (no free SQE) or -errno of io_uring_submit().
 */
int pt_submit_wait(struct io_uring *ring, int fd, __u64 timeout_ns, __u64 tag,
		   __u64 user_data);

/**
 * pt_submit_pend() - submit one PEND now.
 * @ring: the ring.
 * @fd: the pendtimer descriptor.
 * @timeout_ns: relative timeout.
 * @tag: the request's tag.
 * @user_data: the CQE's user_data.
 *
 * Return: 0, -EBUSY (no free SQE) or -errno of io_uring_submit().
 */
int pt_submit_pend(struct io_uring *ring, int fd, __u64 timeout_ns, __u64 tag,
		   __u64 user_data);

/**
 * pt_submit_cancel() - submit one URING_CMD CANCEL now.
 * @ring: the ring.
 * @fd: the pendtimer descriptor.
 * @tag: the tag.
 * @user_data: the CQE's user_data.
 *
 * Return: 0, -EBUSY (no free SQE) or -errno of io_uring_submit().
 */
int pt_submit_cancel(struct io_uring *ring, int fd, __u64 tag, __u64 user_data);

/**
 * pt_submit_async_cancel() - submit one IORING_OP_ASYNC_CANCEL now.
 * @ring: the ring.
 * @target: the user_data of the request to cancel (any with
 *	IORING_ASYNC_CANCEL_ANY).
 * @flags: IORING_ASYNC_CANCEL_* flags, or 0.
 * @user_data: the cancel's own CQE's user_data.
 *
 * Return: 0, -EBUSY (no free SQE) or -errno of io_uring_submit().
 */
int pt_submit_async_cancel(struct io_uring *ring, __u64 target,
			   unsigned int flags, __u64 user_data);

/**
 * pt_reap() - wait for one CQE (a signal does not end the wait).
 * @ring: the ring.
 * @timeout_ms: how long at most.
 * @ud: its user_data.
 * @res: its res.
 *
 * Return: 0, -ETIME or -errno.
 */
int pt_reap(struct io_uring *ring, unsigned int timeout_ms, __u64 *ud,
	    int *res);

/**
 * pt_peek() - take a CQE that is already there.
 * @ring: the ring.
 * @ud: its user_data.
 * @res: its res.
 *
 * Return: 0, or -EAGAIN when there is none.
 */
int pt_peek(struct io_uring *ring, __u64 *ud, int *res);

/**
 * pt_pender_start() - start a thread that issues one PEND (user_data @tag)
 * on a ring of its own and waits for its CQE (until the due time and 10 s
 * more); a struct pt_waiter otherwise, with @submitted and @err.
 * @w: the waiter.
 * @fd: the descriptor.
 * @timeout_ns: the PEND's timeout.
 * @tag: the PEND's tag.
 * @cpu: pin the thread to this CPU if >= 0.
 *
 * Returns once the thread is about to submit (@started): no
 * pt_waiter_wait_started() needed.
 *
 * Return: 0, -errno of pthread_create(), or its ring's setup error.
 */
int pt_pender_start(struct pt_waiter *w, int fd, __u64 timeout_ns, __u64 tag,
		    int cpu);
#endif /* PT_HAVE_URING */

#ifdef __cplusplus
}
#endif

#endif /* PENDTIMER_LIB_H */
