// SPDX-License-Identifier: GPL-2.0
/* pendtimer tracepoints: instantiated here, fired from request.c. */
#include "pendtimer.h"

#define CREATE_TRACE_POINTS
#include "trace.h"
