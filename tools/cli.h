/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pendtimer CLI's shared declarations: exit codes, the errno
 * explanations, argument parsing and the narrative output helpers
 * (tools/cli.c), and one entry point per command (tools/cmd_*.c).
 * Device access goes through libpendtimer (lib/pendtimer.h).
 */
#ifndef PENDTIMER_CLI_H
#define PENDTIMER_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>

#include <linux/pendtimer.h>

#include "pendtimer.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#define PT_DEFAULT_DEV		PT_DEV0
#define PT_BUS			PT_SYSBUS "/"

#define NSEC_PER_USEC		PT_NSEC_PER_USEC
#define NSEC_PER_MSEC		PT_NSEC_PER_MSEC
#define NSEC_PER_SEC		PT_NSEC_PER_SEC

/* Exit codes: documented in usage() and docs/pendtimer.1. */
enum {
	EXIT_OK		= 0,	/* fired / done / race PASS */
	EXIT_FAIL	= 1,	/* race FAIL, or an unexpected error */
	EXIT_USAGE	= 2,	/* bad command line */
	EXIT_CANCELLED	= 3,	/* the request was cancelled or flushed */
	EXIT_INTR	= 4,	/* WAIT interrupted by a signal */
	EXIT_REMOVED	= 5,	/* the device was removed */
	EXIT_NODEV	= 6,	/* the device could not be opened */
	EXIT_REFUSED	= 7,	/* the request or bus write was refused */
};

/* What the request operation was, for the errno explanations. */
enum pt_op {
	OP_OPEN, OP_WAIT, OP_ARM, OP_CANCEL, OP_STATS, OP_NEW_DEVICE,
	OP_DEL_DEVICE, OP_PARAM,
};

extern const char *prog;

/* messages (cli.c) */
void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
const char *pt_explain(enum pt_op op, int err);
const char *pt_errname(int err);
void pt_report(const char *what, enum pt_op op, int err);
int pt_exit_code(int err);
void say_result(const char *who, int ret);
void usage(FILE *f);

/* parsing (cli.c) */
uint64_t parse_seconds(const char *s);
uint64_t parse_u64(const char *s, const char *what);

/* wait and pend: SECONDS [--tag T] [--cancel-after MS --via HOW] (cli.c) */
struct req_args {
	uint64_t timeout_ns, tag, cancel_ms;
	int via;		/* the command's own enum; 0: none, 1: ioctl */
};
int parse_req_args(const char *cmd, int (*via_of)(const char *), struct req_args *a,
		   int argc, char **argv);

/* how a WAIT or ARM is cancelled: --via (cli.c) */
enum via { VIA_NONE, VIA_IOCTL, VIA_SIGNAL, VIA_URING, VIA_CLOSE };
extern const char *const via_name[];
enum via parse_via(const char *s);

/* the device (cli.c) */
int cli_open(const char *path);
int cli_stats(int fd, struct pendtimer_stats *s);
void pt_print_delta(const char *indent, const struct pendtimer_stats *d);
void pt_print_delta_since(int ctl, const struct pendtimer_stats *s0);

/* signals (cli.c) */
extern volatile sig_atomic_t user_stop;
void on_signal_noop(int sig);
void on_user_stop(int sig);
void install_handler(int sig, void (*fn)(int));

/* the commands (cmd_*.c) */
int cmd_wait(const char *dev, int argc, char **argv);
int cmd_pend(const char *dev, int argc, char **argv);
int cmd_arm(const char *dev, int argc, char **argv);
int cmd_stats(const char *dev, int argc, char **argv);
int cmd_bus(const char *file, enum pt_op op, int argc, char **argv);
int cmd_race(const char *dev, int argc, char **argv);

#endif /* PENDTIMER_CLI_H */
