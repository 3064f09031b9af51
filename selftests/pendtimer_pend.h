/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PEND helpers for the pendtimer selftests, the race stress, the soak and
 * the fuzzer (SPEC.md section 2, PEND): a PEND is an IORING_OP_URING_CMD
 * with cmd_op PENDTIMER_URING_PEND and a struct pendtimer_wait in the
 * 16-byte command area of a 64-byte SQE; the driver parks it and its CQE
 * comes later (0 fired, -ECANCELED, -ENODEV, or a submission error).
 *
 * The helpers themselves are in lib/ (pt_prep_pend(), pt_submit_pend(),
 * pt_reap(), pt_count_threads(), pt_pend_supported() ...: lib/pendtimer.h).
 * This header adds <liburing.h> where there is one: Debian ships liburing
 * for amd64 only, so in a -m32 build (selftests/m32.mk) PT_HAVE_URING is 0
 * and only the liburing-free part is there. A test that needs io_uring
 * includes <liburing.h> itself, which also keeps it out of the m32 build.
 */
#ifndef PENDTIMER_PEND_H
#define PENDTIMER_PEND_H

#include "pendtimer.h"

#if PT_HAVE_URING
#include <liburing.h>
#endif

#endif /* PENDTIMER_PEND_H */
