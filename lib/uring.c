// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libpendtimer: URING_CMD SQEs for WAIT, PEND and CANCEL, in the style of
 * liburing's io_uring_prep_*() (liburing 2.3 has no io_uring_prep_cmd*()).
 * Only <linux/io_uring.h> is needed: liburing's struct io_uring_sqe is the
 * kernel's.
 */
#include <string.h>
#include <linux/io_uring.h>

#include "pendtimer.h"

void pt_prep_cmd(struct io_uring_sqe *sqe, int fd, __u32 cmd_op,
		 const void *cmd, size_t len, __u64 user_data)
{
	/* what io_uring_prep_rw() leaves zero, and the 16-byte command area */
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = cmd_op;
	memcpy(sqe->cmd, cmd, len);
	sqe->user_data = user_data;
}

void pt_prep_wait(struct io_uring_sqe *sqe, int fd, __u64 timeout_ns,
		  __u64 tag, __u64 user_data)
{
	struct pendtimer_wait w = { .timeout_ns = timeout_ns, .tag = tag };

	pt_prep_cmd(sqe, fd, PENDTIMER_IOC_WAIT, &w, sizeof(w), user_data);
}

void pt_prep_pend(struct io_uring_sqe *sqe, int fd, __u64 timeout_ns,
		  __u64 tag, __u64 user_data)
{
	struct pendtimer_wait w = { .timeout_ns = timeout_ns, .tag = tag };

	pt_prep_cmd(sqe, fd, PENDTIMER_URING_PEND, &w, sizeof(w), user_data);
}

/* The tag in the first 8 bytes of the command area, the rest zero. */
void pt_prep_cancel(struct io_uring_sqe *sqe, int fd, __u64 tag,
		    __u64 user_data)
{
	__u64 cmd[2] = { tag, 0 };

	pt_prep_cmd(sqe, fd, PENDTIMER_IOC_CANCEL, cmd, sizeof(cmd), user_data);
}
