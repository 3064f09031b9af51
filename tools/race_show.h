/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pendtimer race --show: the kernel's own timeline of one caught instance
 * of each race rule, read from a tracefs instance of its own.
 */
#ifndef PENDTIMER_RACE_SHOW_H
#define PENDTIMER_RACE_SHOW_H

#include <stdbool.h>

/*
 * race_show_begin() - start recording pendtimer's events
 *
 * Creates the tracefs instance pendtimer_show_<pid> and enables the
 * submit, timer_enter, timer_late, cleanup_deferred and complete events in
 * it; the instance goes away at race_show_end() or at exit.
 * Returns 0, or -errno after saying why on stdout.
 */
int race_show_begin(void);

/* race_show_active() - race_show_begin() succeeded and race_show_end() is due */
bool race_show_active(void);

/*
 * race_show_end() - print the timeline of one caught instance of each rule
 * @dev: the device node the race ran on (for the fallback rounds)
 *
 * Stops the recording and looks for rule 1 (a cancel claimed a request
 * while its timer callback ran: timer_enter, complete(cancelled or
 * interrupted), timer_late) and rule 2 (a cleanup met a running callback
 * and deferred to it: timer_enter, cleanup_deferred, complete(fired)).
 * A rule not found in the recording is forced once more on @dev with
 * race_delay_us and pinned threads, recorded, and looked for again.
 * Returns true when both timelines were printed (or when there is only one
 * CPU, where no rule can happen).
 */
bool race_show_end(const char *dev);

#endif /* PENDTIMER_RACE_SHOW_H */
