# SPDX-License-Identifier: GPL-2.0
#
# pendtimer top-level build.
#
#   make                 module/pendtimer.ko for KDIR (default: the 6.1 lane's headers;
#                        LANE=latest: in the lane's Debian 13 build root)
#   make deps            host tools from Debian (idempotent)
#   make lane LANE=x     fetch or build kernel lane x (see README: Kernel lanes)
#   make selftests       static test binaries (harness from the newest kernel source)
#   make lib             build/lib/libpendtimer.a (lib/: the user-space helpers)
#   make install-lib     libpendtimer.a, lib/pendtimer.h and the uapi header only
#   make example-check   docs/example/client.c built against a DESTDIR install-lib
#   make check           every lane, every test, in QEMU
#   make demo            the race demonstration in the default lane
#   make shell           a shell in a guest of LANE (default 6.1) with the
#                        module loaded and the CLI and tests on PATH
#   make bench           benchmarks in one lane (LANE=6.1 by default)

LANE	?= 6.1
LANES	?= 6.1 6.12 6.12-rt latest latest-rt debug debug-latest kcsan
BUILD	:= $(CURDIR)/build
KDIR	?= $(BUILD)/lanes/$(LANE)/kdir
# Extra kbuild flags (W=1 and C=1 are applied by the lane builds).
KFLAGS	?=

export LANE LANES BUILD

.PHONY: all module modules clean deps lane selftests tools check demo bench \
	soak checkpatch install dkms-check shell lib install-lib example-check

all: module

# Lanes whose headers need the Debian 13 build root (latest, latest-rt:
# vm/lane.sh writes build/lanes/LANE/buildroot) build the module in it.
IN_ROOT	= $(if $(wildcard $(BUILD)/lanes/$(LANE)/buildroot),bash vm/buildroot.sh run \
	  --bind $(CURDIR) --bind $(BUILD)/lanes/$(LANE) --cd $(CURDIR) --)

module modules: $(KDIR)/Makefile
	$(IN_ROOT) $(if $(IN_ROOT),make,$(MAKE)) -C $(KDIR) M=$(CURDIR) $(KFLAGS) modules

# The default KDIR is a lane fetched into build/; any other KDIR must exist.
$(BUILD)/lanes/%/kdir/Makefile:
	bash vm/lane.sh $*

deps:
	bash vm/deps.sh

lane:
	bash vm/lane.sh $(LANE)

selftests:
	$(MAKE) -C selftests

tools:
	$(MAKE) -C tools

lib:
	$(MAKE) -C lib

# Module under /lib/modules/<release>/updates, uapi header under
# /usr/include/linux, libpendtimer.a and its header under PREFIX (DESTDIR,
# PREFIX and UDEV_RULE=1 pass through).
install: module tools lib
	KDIR=$(KDIR) bash vm/install.sh

# The library part alone (no module, no KDIR): for writing a client.
install-lib: lib
	bash vm/install.sh --lib

# The example client builds against an installed copy: a DESTDIR
# install-lib into build/, then docs/example/Makefile against it.
EXAMPLE_ROOT	:= $(BUILD)/example/root
example-check: lib
	rm -rf $(EXAMPLE_ROOT)
	DESTDIR=$(EXAMPLE_ROOT) PREFIX=/usr/local bash vm/install.sh --lib
	$(MAKE) -C docs/example SYSROOT=$(EXAMPLE_ROOT) PREFIX=/usr/local \
		OUTPUT=$(BUILD)/example CFLAGS="-O2 -g -Wall -Wextra -Werror"
	@echo "example-check: $(BUILD)/example/client built against $(EXAMPLE_ROOT)"

dkms-check: deps
	bash vm/dkms-check.sh $(LANE)

check: deps example-check
	bash vm/check.sh $(LANES)

demo: deps
	bash vm/check.sh --mode demo $(LANE)

# Interactive: the guest's serial console is this terminal; exit powers it off.
shell: deps
	bash vm/check.sh --mode shell $(LANE)

bench: deps
	bash vm/bench.sh $(LANE)

# The long fuzz + race soak (budget: see vm/guest/run-soak.sh; pass more
# with VM_EXTRA_APPEND="pt.fuzz_ops=... pt.soak_contested=...").
SOAK_LANE	?= debug
SOAK_TIMEOUT	?= 14400
soak: deps
	bash vm/check.sh --mode soak --timeout $(SOAK_TIMEOUT) $(SOAK_LANE)

checkpatch: deps
	bash vm/checkpatch.sh

# Every link of README.md and docs/*.md resolves inside the repository.
.PHONY: linkcheck
linkcheck:
	bash vm/linkcheck.sh

# kbuild's clean deletes every *.o, *.a, *.ko and .*.cmd below M= (build/
# too: the lanes' modules and header trees): clean module/ only.
clean:
	-[ -f $(KDIR)/Makefile ] && $(MAKE) -C $(KDIR) M=$(CURDIR)/module clean
	rm -f Module.symvers modules.order .Module.symvers.cmd .modules.order.cmd
	$(MAKE) -C selftests clean
	$(MAKE) -C tools clean
	$(MAKE) -C lib clean
	rm -rf $(BUILD)/example
