// SPDX-License-Identifier: GPL-2.0
/*
 * What a person sees of PEND (SPEC.md section 2, PEND) through the CLI,
 * tools/pendtimer, module already loaded: `pendtimer pend SECONDS` and
 * each --via of it print what happened and exit with the documented status
 * (docs/pendtimer.1: 0 fired, 3 cancelled, 7 refused), async-cancel says
 * that io_uring cannot reach a parked command and that CANCEL by tag can;
 * `pendtimer race` has a PEND column and passes. Before 6.7 the command
 * reports -EOPNOTSUPP. The CLI binary is the `pendtimer` next to this one
 * (the VM packer puts both into /pendtimer/tests/).
 */
#include "pendtimer_util.h"
#include "pendtimer_pend.h"

#include <libgen.h>
#include <limits.h>
#include <sys/wait.h>

#define OUT_MAX		(64 * 1024)

static char cli[PATH_MAX];

/* The CLI next to this binary, or NULL. */
static const char *cli_path(void)
{
	char self_path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);

	if (n <= 0)
		return NULL;
	self_path[n] = '\0';
	snprintf(cli, sizeof(cli), "%s/pendtimer", dirname(self_path));
	return access(cli, X_OK) ? NULL : cli;
}

/*
 * Run the CLI with @argv (NULL-terminated, argv[0] ignored), stdout and
 * stderr into @out (NUL-terminated). Returns the exit status, or -1.
 */
static int run_cli(char *const argv[], char *out, size_t len)
{
	size_t got = 0;
	int pfd[2], status;
	pid_t pid;
	ssize_t n;

	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		execv(cli, argv);
		_exit(127);
	}
	close(pfd[1]);
	while (got < len - 1 && (n = read(pfd[0], out + got, len - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(pfd[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

FIXTURE(cli) {
	char *out;
	int fd;
	bool supported;
	struct pendtimer_stats s0;
};

FIXTURE_SETUP(cli)
{
	self->out = malloc(OUT_MAX);
	ASSERT_NE(NULL, self->out);
	if (!PT_HAVE_URING)
		SKIP(return, "-m32 build: the CLI is the same 64-bit binary, run by the 64-bit build");
	if (!cli_path())
		SKIP(return, "no pendtimer CLI next to this binary (make -C tools)");
	self->supported = pt_pend_supported();
	self->fd = pt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, pt_stats(self->fd, &self->s0));
}

FIXTURE_TEARDOWN(cli)
{
	free(self->out);
	if (self->fd > 0)
		close(self->fd);
	PT_EXPECT_QUIET(10000);
}

/* The output contains @s (logged in full when it does not). */
#define EXPECT_OUT(s) EXPECT_NE(NULL, strstr(self->out, (s))) {		\
	TH_LOG("no \"%s\" in:\n%s", (s), self->out);			\
}

#define RUN(want_status, ...) do {					\
	char *const __argv[] = { "pendtimer", __VA_ARGS__, NULL };	\
	int __st = run_cli(__argv, self->out, OUT_MAX);			\
	EXPECT_EQ((want_status), __st) {				\
		TH_LOG("exit status %d, want %d; output:\n%s", __st,	\
		       (want_status), self->out);			\
	}								\
} while (0)

#define REQUIRE_PEND() do {						\
	if (!self->supported)						\
		SKIP(return, "kernel < 6.7: PEND completes with -EOPNOTSUPP " \
		     "(pend_before_6_7_says_eopnotsupp checks that)");	\
} while (0)

/* SPEC.md section 2, PEND: parked with no thread, CQE 0 when it fires: exit 0. */
TEST_F_TIMEOUT(cli, pend_fires_exit_0, 60)
{
	struct pendtimer_stats s, d;

	REQUIRE_PEND();
	RUN(0, "pend", "0.3");
	EXPECT_OUT("-EIOCBQUEUED");
	EXPECT_OUT("0 io-wq worker(s)");
	EXPECT_OUT("the PEND's CQE: 0");
	ASSERT_EQ(0, pt_stats(self->fd, &s));
	pt_stats_delta(&d, &s, &self->s0);
	EXPECT_EQ(1ULL, d.submitted);
	EXPECT_EQ(1ULL, d.fired);
}

/* SPEC.md section 2, PEND: CANCEL by ioctl and by URING_CMD: exit 3, cancelled. */
TEST_F_TIMEOUT(cli, pend_cancel_ioctl_and_uring_exit_3, 60)
{
	struct pendtimer_stats s, d;

	REQUIRE_PEND();
	RUN(3, "pend", "5", "--cancel-after", "200", "--via", "ioctl");
	EXPECT_OUT("PENDTIMER_IOC_CANCEL(tag 1) -> 0");
	EXPECT_OUT("the PEND's CQE: -ECANCELED");
	RUN(3, "pend", "5", "--cancel-after", "200", "--via", "uring");
	EXPECT_OUT("the URING_CMD CANCEL's CQE: 0");
	EXPECT_OUT("the PEND's CQE: -ECANCELED");
	/* the timer first: the cancel fails, exit 0 */
	RUN(0, "pend", "0.1", "--cancel-after", "600", "--via", "ioctl");
	EXPECT_OUT("-ENOENT");
	EXPECT_OUT("the timer won");
	ASSERT_EQ(0, pt_stats(self->fd, &s));
	pt_stats_delta(&d, &s, &self->s0);
	EXPECT_EQ(3ULL, d.submitted);
	EXPECT_EQ(2ULL, d.cancelled);
	EXPECT_EQ(1ULL, d.fired);
}

/*
 * SPEC.md section 2, PEND: close() (flushed) and the exit of the submitting
 * process (io_uring's cancel call: interrupted), both exit 3.
 */
TEST_F_TIMEOUT(cli, pend_close_and_exit_exit_3, 60)
{
	struct pendtimer_stats s, d;

	REQUIRE_PEND();
	RUN(3, "pend", "5", "--cancel-after", "200", "--via", "close");
	EXPECT_OUT("counted as flushed");
	RUN(3, "pend", "30", "--cancel-after", "200", "--via", "exit");
	EXPECT_OUT("exits at once");
	EXPECT_OUT("counted as interrupted");
	ASSERT_EQ(0, pt_stats(self->fd, &s));
	pt_stats_delta(&d, &s, &self->s0);
	EXPECT_EQ(2ULL, d.submitted);
	EXPECT_EQ(1ULL, d.flushed);
	EXPECT_EQ(1ULL, d.interrupted);
	EXPECT_EQ(0ULL, d.fired);
}

/*
 * SPEC.md section 2, PEND: IORING_OP_ASYNC_CANCEL cannot reach a parked
 * command (-ENOENT, still pending), CANCEL by tag then does: exit 3.
 */
TEST_F_TIMEOUT(cli, pend_async_cancel_explains_enoent_then_cancels, 60)
{
	struct pendtimer_stats s, d;

	REQUIRE_PEND();
	RUN(3, "pend", "5", "--cancel-after", "200", "--via", "async-cancel");
	EXPECT_OUT("the ASYNC_CANCEL's CQE: -ENOENT");
	EXPECT_OUT("io_uring cannot reach a parked command");
	EXPECT_OUT("still pending");
	EXPECT_OUT("CANCEL by tag can reach it");
	EXPECT_OUT("PENDTIMER_IOC_CANCEL(tag 1) -> 0");
	EXPECT_OUT("the PEND's CQE: -ECANCELED");
	ASSERT_EQ(0, pt_stats(self->fd, &s));
	pt_stats_delta(&d, &s, &self->s0);
	EXPECT_EQ(1ULL, d.submitted);
	EXPECT_EQ(1ULL, d.cancelled);
	EXPECT_EQ(0ULL, d.interrupted);
}

/* SPEC.md section 2, PEND before 6.7: -EOPNOTSUPP, exit 7. */
TEST_F(cli, pend_before_6_7_says_eopnotsupp)
{
	if (self->supported)
		SKIP(return, "kernel >= 6.7 parks PENDs");
	RUN(7, "pend", "1");
	EXPECT_OUT("-EOPNOTSUPP");
	EXPECT_OUT("before 6.7");
}

/*
 * SPEC.md section 3 with PENDs in the mix: `pendtimer race` passes and its
 * outcome table has a PEND column (on 6.7+; a note before).
 */
TEST_F_TIMEOUT(cli, race_table_has_a_pend_column, 600)
{
	RUN(0, "race", "--iterations", "2000");
	EXPECT_OUT("RESULT: PASS");
	EXPECT_OUT("PEND");
	if (self->supported) {
		EXPECT_OUT("1 PEND thread");
	} else {
		EXPECT_OUT("no PENDs in the mix");
	}
}

PT_HARNESS_MAIN(0)
