// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_fuzz: reporting: failures (one KTAP result per category), diagnostics,
 * and the kernel log scan.
 */
#include "fuzz.h"

/* ------------------------------------------------------------------ */
/* reporting */

void fail(int cat, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	__atomic_add_fetch(&W->nfail[cat], 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&W->stop, 1, __ATOMIC_RELEASE);
	if (__atomic_add_fetch(&W->nprinted, 1, __ATOMIC_SEQ_CST) > 40)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	n = printf("# FAIL[%s] seed=0x%" PRIx64 " epoch=%d op#%" PRIu64 " agent=%d%s pid=%d: %s\n",
		   f_name[cat], W->seed, W->epoch, W->ops, self ? self->idx : -1,
		   self && self->is_child ? "(child)" : "", (int)getpid(), buf);
	(void)n;
	fflush(stdout);
}

void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* kernel log */

static int kmsg_fd = -1;

void kmsg_open(void)
{
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
}

int kmsg_scan(void)
{
	static const char *const pats[] = {
		"BUG:", "WARNING:", "KASAN:", "UBSAN:", "possible circular locking",
		"possible recursive locking", "inconsistent lock state",
		"suspicious RCU usage", "DEBUG_LOCKS_WARN_ON", "ODEBUG:",
		"unreferenced object", "blocked for more than", "soft lockup",
		"general protection fault", "Call Trace:", "list_add corruption",
		"list_del corruption", "refcount_t:", "rcu: INFO:", "Oops",
	};
	char buf[8192];
	int found = 0;
	ssize_t n;

	if (kmsg_fd < 0)
		return 0;
	for (;;) {
		n = read(kmsg_fd, buf, sizeof(buf) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		buf[n] = '\0';
		for (unsigned int i = 0; i < ARRAY_SIZE(pats); i++) {
			char *msg = strchr(buf, ';');

			if (strstr(buf, pats[i])) {
				char *nl = strchr(buf, '\n');

				if (nl)
					*nl = '\0';
				if (found < 20)
					diag("kernel: %s", msg ? msg + 1 : buf);
				found++;
				break;
			}
		}
	}
	return found;
}
