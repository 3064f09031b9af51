# SPDX-License-Identifier: GPL-2.0
#
# selftests/m32.mk: the selftests again as 32-bit x86 static binaries
# (-m32), into $(M32_OUTPUT) (default build/selftests/m32/), so that the
# 6.1 lane runs them through the module's compat_ioctl path.
#
#   make -C selftests -f m32.mk           standalone (reads selftests/Makefile)
#   or, in selftests/Makefile:            include $(SELFTESTS_DIR)/m32.mk
#                                         all: $(BINS) m32
#
# Every test of $(TESTS) is built, except those that include <liburing.h>:
# Debian has no i386 static liburing here (the io_uring path is the same
# for 32- and 64-bit callers anyway: the SQE layout does not depend on it).
#
# Needs gcc-multilib and libc6-dev-i386 (make deps). The harness casts
# pointers to uintmax_t in ASSERT_*/EXPECT_*, which -m32 -Wextra reports:
# -Wno-pointer-to-int-cast for these builds only.

ifndef SELFTESTS_DIR
# standalone: take TESTS, CFLAGS, the header extraction rule from Makefile
include $(dir $(lastword $(MAKEFILE_LIST)))Makefile
.DEFAULT_GOAL := m32
endif

M32_OUTPUT	?= $(OUTPUT)/m32
override M32_OUTPUT := $(abspath $(M32_OUTPUT))
M32_CFLAGS	:= $(CFLAGS) -m32 -Wno-pointer-to-int-cast
M32_LDFLAGS	:= $(LDFLAGS) -m32
# Tests that do not need liburing.
M32_TESTS	:= $(foreach t,$(TESTS),$(if $(shell grep -l '<liburing.h>' \
			$(SELFTESTS_DIR)/$(t).c 2>/dev/null),,$(t)))
M32_BINS	:= $(addprefix $(M32_OUTPUT)/,$(M32_TESTS))
# libpendtimer.a for -m32 (no liburing part): lib/Makefile M32=1.
M32_LIBPT	:= $(LIB_OUTPUT)/m32/libpendtimer.a

.PHONY: m32 m32-clean m32-lib

m32: $(M32_BINS)

$(M32_OUTPUT):
	mkdir -p $@

m32-lib:
	$(MAKE) -C $(TOP)/lib OUTPUT=$(LIB_OUTPUT) M32=1
$(M32_LIBPT): m32-lib

$(M32_BINS): $(M32_OUTPUT)/%: $(SELFTESTS_DIR)/%.c $(COMMON_DEPS) $(M32_LIBPT) | $(M32_OUTPUT)
	$(CC) $(M32_CFLAGS) -o $@ $< $(M32_LDFLAGS) $(M32_LIBPT)

m32-clean:
	rm -rf $(M32_OUTPUT)
