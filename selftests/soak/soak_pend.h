/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The soak's PENDs (SPEC.md section 2, PEND): a few per round, parked on
 * one io_uring ring of the main thread, due with the round's ARMs; the
 * ring may be closed in the race (ring exit), which ends them through the
 * driver's cancel routine (counted interrupted) and takes their CQEs away.
 * Compiled into pendtimer_soak (selftests/soak/).
 */
#ifndef PENDTIMER_SOAK_PEND_H
#define PENDTIMER_SOAK_PEND_H

#include <stdbool.h>
#include <stdint.h>

#include <liburing.h>

struct soak_pend {
	struct io_uring ring;
	bool up;
};

bool soak_pend_supported(void);
int soak_pend_submit(struct soak_pend *sp, int fd, const uint64_t *due,
		     const uint64_t *tag, int n);
int soak_pend_reap(struct soak_pend *sp, int n, int *res, uint64_t *t_cqe);
void soak_pend_ring_exit(struct soak_pend *sp);

#endif /* PENDTIMER_SOAK_PEND_H */
