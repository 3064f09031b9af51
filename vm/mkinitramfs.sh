#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm/mkinitramfs.sh LANE OUT: gzip'd newc cpio for the pendtimer guest.
#
#   /init                     vm/guest/init
#   /bin/busybox + applets    from busybox-static
#   /pendtimer/*.ko           build/lanes/LANE/modules/*.ko
#   /pendtimer/tests/         the whole of build/selftests/
#   /pendtimer/tests/settings selftests/settings (run-tests.sh's timeout=)
#   /pendtimer/run-tests.sh   vm/guest/run-tests.sh, or $PT_RUN_TESTS if set
#   /pendtimer/run-*.sh       the other guest scripts of vm/guest/ (run-soak.sh,
#                             run-bench.sh: run-tests.sh hands modes to them)
#   /pendtimer/lane, release  lane name and kernel release
#   /etc/passwd, /etc/group   root and nobody (65534)
#
# Environment: BUILD (default <repo>/build), PT_RUN_TESTS (override script),
# BUSYBOX (default /bin/busybox).
# The whole script is one brace group: bash parses it completely before
# running it, so editing this file cannot break a run in progress.
{
set -euo pipefail

LANE=${1:-}
OUT=${2:-}
[ -n "$LANE" ] && [ -n "$OUT" ] || {
	echo "usage: $0 LANE OUT" >&2
	exit 2
}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
LDIR=$BUILD/lanes/$LANE
BUSYBOX=${BUSYBOX:-/bin/busybox}
RUN_TESTS=${PT_RUN_TESTS:-$TOP/vm/guest/run-tests.sh}

[ -x "$BUSYBOX" ] || {
	echo "mkinitramfs: $BUSYBOX missing (make deps installs busybox-static)" >&2
	exit 1
}
if LC_ALL=C readelf -l "$BUSYBOX" 2>/dev/null | grep -q INTERP; then
	echo "mkinitramfs: $BUSYBOX is not static (install busybox-static)" >&2
	exit 1
fi

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/pt-initramfs.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT

mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,pendtimer/tests}
chmod 1777 "$STAGE/tmp"
cp "$BUSYBOX" "$STAGE/bin/busybox"
"$BUSYBOX" --list-full | while read -r app; do
	[ "$app" = bin/busybox ] && continue
	[ -e "$STAGE/$app" ] || ln -s /bin/busybox "$STAGE/$app"
done
install -m 0755 "$TOP/vm/guest/init" "$STAGE/init"
if [ "$(id -u)" -eq 0 ]; then
	mknod -m 0600 "$STAGE/dev/console" c 5 1
	mknod -m 0666 "$STAGE/dev/null" c 1 3
fi

cat >"$STAGE/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$STAGE/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
echo "pendtimer-guest" >"$STAGE/etc/hostname"

echo "$LANE" >"$STAGE/pendtimer/lane"
[ -f "$LDIR/release" ] && cp "$LDIR/release" "$STAGE/pendtimer/release"

nko=0
if [ -d "$LDIR/modules" ]; then
	for ko in "$LDIR"/modules/*.ko; do
		[ -f "$ko" ] || continue
		cp "$ko" "$STAGE/pendtimer/"
		nko=$((nko + 1))
	done
fi

ntests=0
if [ -d "$BUILD/selftests" ]; then
	cp -a "$BUILD/selftests/." "$STAGE/pendtimer/tests/"
	# Copies of the guest scripts that selftests/Makefile made before they
	# moved to vm/guest/: the current ones go to /pendtimer/ (below).
	rm -f "$STAGE"/pendtimer/tests/run-*.sh
	ntests=$(find "$STAGE/pendtimer/tests" -type f -perm -u+x | wc -l)
fi
if [ -f "$TOP/selftests/settings" ]; then
	install -m 0644 "$TOP/selftests/settings" "$STAGE/pendtimer/tests/settings"
fi

for s in "$TOP"/vm/guest/run-*.sh; do
	[ "${s##*/}" = run-tests.sh ] || install -m 0755 "$s" "$STAGE/pendtimer/${s##*/}"
done
rt="missing"
if [ -f "$RUN_TESTS" ]; then
	install -m 0755 "$RUN_TESTS" "$STAGE/pendtimer/run-tests.sh"
	rt=$RUN_TESTS
fi

mkdir -p "$(dirname "$OUT")"
(cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc --owner=0:0 --reproducible) | gzip -6 >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "mkinitramfs: $OUT ($(($(stat -c %s "$OUT") / 1024)) KiB): $nko module(s), $ntests test executable(s), run-tests.sh: $rt"
exit
}
