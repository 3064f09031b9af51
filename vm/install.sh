#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm/install.sh: what `make install` does.
#
#   module/pendtimer.ko  -> $DESTDIR/lib/modules/RELEASE/updates/pendtimer.ko
#   uapi/linux/pendtimer.h -> $DESTDIR/usr/include/linux/pendtimer.h
#   build/tools/pendtimer  -> $DESTDIR$PREFIX/bin/pendtimer        (if built)
#   docs/pendtimer.1       -> $DESTDIR$PREFIX/share/man/man1/pendtimer.1
#   docs/99-pendtimer.rules -> $DESTDIR/etc/udev/rules.d/ (only with UDEV_RULE=1)
#
# RELEASE is KDIR's kernel release (UTS_RELEASE, as in the vermagic), and the
# module must have been built against that KDIR (its vermagic is checked).
# Then depmod runs for RELEASE, unless DESTDIR is set (a staged install:
# run `depmod -a RELEASE` on the target) or DEPMOD=0.
#
# Environment: KDIR (required; the top-level Makefile passes its own),
# DESTDIR (default empty), PREFIX (default /usr/local), UDEV_RULE, DEPMOD,
# BUILD (default <repo>/build).
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
KDIR=${KDIR:?set KDIR to the kernel build directory (make install does)}
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
KO=$TOP/module/pendtimer.ko

PT_TAG=install
. "$TOP/vm/lib.sh"
# install's errors have always read "install: MSG" (no ERROR:).
die() { warn "$*"; exit 1; }

# The release modules built against KDIR carry (vermagic) and that uname -r
# reports: UTS_RELEASE. Not `make kernelrelease` first: Debian's header
# packages answer the upstream version there (6.1.192 for 6.1.0-56-amd64).
RELEASE=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' \
	"$KDIR/include/generated/utsrelease.h" 2>/dev/null || true)
if [ -z "$RELEASE" ]; then
	RELEASE=$(make -s -C "$KDIR" kernelrelease 2>/dev/null) ||
		die "cannot tell the kernel release of $KDIR"
fi
[ -n "$RELEASE" ] || die "empty kernel release for $KDIR"
[ -f "$KO" ] || die "$KO is not built (make KDIR=$KDIR module)"
vermagic=$(modinfo -F vermagic "$KO" 2>/dev/null || true)
case "$vermagic" in
"$RELEASE "*) ;;
*) die "$KO was built for '${vermagic%% *}', not $RELEASE: rebuild with make KDIR=$KDIR" ;;
esac

MODDIR=$DESTDIR/lib/modules/$RELEASE/updates
install -D -m 0644 "$KO" "$MODDIR/pendtimer.ko"
say "$MODDIR/pendtimer.ko"
install -D -m 0644 "$TOP/uapi/linux/pendtimer.h" "$DESTDIR/usr/include/linux/pendtimer.h"
say "$DESTDIR/usr/include/linux/pendtimer.h"

if [ -x "$BUILD/tools/pendtimer" ]; then
	install -D -m 0755 "$BUILD/tools/pendtimer" "$DESTDIR$PREFIX/bin/pendtimer"
	say "$DESTDIR$PREFIX/bin/pendtimer"
else
	say "build/tools/pendtimer not built (make -C tools): CLI not installed"
fi
if [ -f "$TOP/docs/pendtimer.1" ]; then
	install -D -m 0644 "$TOP/docs/pendtimer.1" "$DESTDIR$PREFIX/share/man/man1/pendtimer.1"
	say "$DESTDIR$PREFIX/share/man/man1/pendtimer.1"
fi
if [ "${UDEV_RULE:-0}" = 1 ]; then
	install -D -m 0644 "$TOP/docs/99-pendtimer.rules" \
		"$DESTDIR/etc/udev/rules.d/99-pendtimer.rules"
	say "$DESTDIR/etc/udev/rules.d/99-pendtimer.rules (group pendtimer must exist)"
fi

if [ -n "$DESTDIR" ] || [ "${DEPMOD:-1}" = 0 ]; then
	say "depmod skipped: run 'depmod -a $RELEASE' on the target"
else
	depmod -a "$RELEASE"
	say "depmod -a $RELEASE: load with 'modprobe pendtimer'"
fi
