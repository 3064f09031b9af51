// SPDX-License-Identifier: GPL-2.0
/*
 * pendtimer_soak: checking: contested requests, failures.
 */
#include "soak.h"

/*
 * A request is contested when a competing completion path (its CANCEL at
 * @t_cancel, the flush, the removal) was launched at or after its due time
 * (its timer may be firing) and before the round's requests were all
 * complete (RD.t_quiet, measured by polling the pending count), so that
 * the timer and that path could meet on it.
 */
bool contested_at(uint64_t due, uint64_t t_cancel, uint64_t window)
{
	uint64_t end = RD.t_quiet;

	(void)window;
	if (t_cancel && t_cancel >= due && t_cancel <= end)
		return true;
	if ((RD.actions & CL_CLOSE) && RD.t_close >= due && RD.t_close <= end)
		return true;
	if ((RD.actions & (CL_UNBIND | CL_DEL)) && RD.t_remove >= due && RD.t_remove <= end)
		return true;
	if ((RD.actions & CL_RING) && RD.t_ring >= due && RD.t_ring <= end)
		return true;
	return false;
}

int nfail_outcome, nfail_counter, nfail_harness;
static int nprinted;

void failf(int *cnt, const char *fmt, ...)
{
	va_list ap;

	(*cnt)++;
	if (++nprinted > 30)
		return;
	printf("# FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

const char *errs(int r)
{
	static char buf[8][32];
	static int k;
	char *b = buf[k++ & 7];

	if (r >= 0)
		snprintf(b, 32, "%d", r);
	else
		snprintf(b, 32, "-%s", strerror(-r));
	return b;
}
