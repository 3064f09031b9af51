/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pendtimer tracepoints, each in the context of the path that hits it:
 *
 *  pendtimer_submit            a request joins its file's pending set
 *  pendtimer_timer_enter       the file's timer callback starts with the
 *                              request due (before the race_delay_us
 *                              window and the claim)
 *  pendtimer_timer_late        a cancel claimed the request while its
 *                              timer callback was running (rule 1;
 *                              race_timer_late), after its complete event
 *  pendtimer_cleanup_deferred  flush, release or removal left the request
 *                              to its running callback (rule 2;
 *                              race_cleanup_deferred)
 *  pendtimer_complete          a path claimed it (the claimer's context)
 *
 * All fire under the file's lock.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM pendtimer

#if !defined(_PENDTIMER_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _PENDTIMER_TRACE_H

#include <linux/ktime.h>
#include <linux/tracepoint.h>

/* Export the enum values so that perf and trace-cmd can decode them. */
TRACE_DEFINE_ENUM(PENDTIMER_KIND_WAIT);
TRACE_DEFINE_ENUM(PENDTIMER_KIND_URING);
TRACE_DEFINE_ENUM(PENDTIMER_KIND_ARM);
TRACE_DEFINE_ENUM(PENDTIMER_KIND_PEND);
TRACE_DEFINE_ENUM(PENDTIMER_FIRED);
TRACE_DEFINE_ENUM(PENDTIMER_CANCELLED);
TRACE_DEFINE_ENUM(PENDTIMER_INTERRUPTED);
TRACE_DEFINE_ENUM(PENDTIMER_FLUSHED);
TRACE_DEFINE_ENUM(PENDTIMER_REMOVED);

#define pendtimer_show_kind(kind)					\
	__print_symbolic(kind,						\
			 { PENDTIMER_KIND_WAIT, "wait" },		\
			 { PENDTIMER_KIND_URING, "uring_cmd" },		\
			 { PENDTIMER_KIND_ARM, "arm" },			\
			 { PENDTIMER_KIND_PEND, "pend" })

#define pendtimer_show_outcome(outcome)					\
	__print_symbolic(outcome,					\
			 { PENDTIMER_FIRED, "fired" },			\
			 { PENDTIMER_CANCELLED, "cancelled" },		\
			 { PENDTIMER_INTERRUPTED, "interrupted" },	\
			 { PENDTIMER_FLUSHED, "flushed" },		\
			 { PENDTIMER_REMOVED, "removed" })

TRACE_EVENT(pendtimer_submit,
	    TP_PROTO(int dev, u64 tag, int kind, ktime_t due),
	    TP_ARGS(dev, tag, kind, due),
	    TP_STRUCT__entry(__field(int, dev)
			     __field(int, kind)
			     __field(u64, tag)
			     __field(s64, due_ns)),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->kind = kind;
			   __entry->tag = tag;
			   __entry->due_ns = ktime_to_ns(due);),
	    TP_printk("dev=%d tag=%llu kind=%s due_ns=%lld",
		      __entry->dev, __entry->tag,
		      pendtimer_show_kind(__entry->kind), __entry->due_ns)
);

/*
 * latency_ns is the completion time minus the due time (CLOCK_MONOTONIC):
 * the timer's overshoot for a fired request, negative for a request that
 * ended before it was due.
 */
TRACE_EVENT(pendtimer_complete,
	    TP_PROTO(int dev, u64 tag, int kind, int outcome, ktime_t due),
	    TP_ARGS(dev, tag, kind, outcome, due),
	    TP_STRUCT__entry(__field(int, dev)
			     __field(int, kind)
			     __field(u64, tag)
			     __field(int, outcome)
			     __field(s64, due_ns)
			     __field(s64, latency_ns)),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->kind = kind;
			   __entry->tag = tag;
			   __entry->outcome = outcome;
			   __entry->due_ns = ktime_to_ns(due);
			   __entry->latency_ns =
				ktime_to_ns(ktime_sub(ktime_get(), due));),
	    TP_printk("dev=%d tag=%llu kind=%s outcome=%s due_ns=%lld latency_ns=%lld",
		      __entry->dev, __entry->tag,
		      pendtimer_show_kind(__entry->kind),
		      pendtimer_show_outcome(__entry->outcome),
		      __entry->due_ns, __entry->latency_ns)
);

DECLARE_EVENT_CLASS(pendtimer_timer,
		    TP_PROTO(int dev, u64 tag),
		    TP_ARGS(dev, tag),
		    TP_STRUCT__entry(__field(int, dev)
				     __field(u64, tag)),
		    TP_fast_assign(__entry->dev = dev;
				   __entry->tag = tag;),
		    TP_printk("dev=%d tag=%llu", __entry->dev, __entry->tag)
);

DEFINE_EVENT(pendtimer_timer, pendtimer_timer_enter,
	     TP_PROTO(int dev, u64 tag),
	     TP_ARGS(dev, tag)
);

DEFINE_EVENT(pendtimer_timer, pendtimer_timer_late,
	     TP_PROTO(int dev, u64 tag),
	     TP_ARGS(dev, tag)
);

TRACE_EVENT(pendtimer_cleanup_deferred,
	    TP_PROTO(int dev, u64 tag, int outcome),
	    TP_ARGS(dev, tag, outcome),
	    TP_STRUCT__entry(__field(int, dev)
			     __field(int, outcome)
			     __field(u64, tag)),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->outcome = outcome;
			   __entry->tag = tag;),
	    TP_printk("dev=%d tag=%llu outcome=%s", __entry->dev, __entry->tag,
		      pendtimer_show_outcome(__entry->outcome))
);

#endif /* _PENDTIMER_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
