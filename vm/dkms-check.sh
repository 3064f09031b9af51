#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm/dkms-check.sh [LANE...]: `dkms build` of pendtimer against each lane's
# headers (default: 6.1), with Debian's dkms, in a private DKMS tree:
#
#   build/dkms/LANE/source/pendtimer-VERSION/   the staged sources + dkms.conf
#   build/dkms/LANE/tree/                       --dkmstree (dkms add + build)
#   build/dkms/LANE/install/                    --installtree (unused by build)
#
# Nothing outside build/ is touched: not /var/lib/dkms, /usr/src or
# /lib/modules (module signing is switched off: dkms would otherwise
# create a key in /var/lib/dkms when it finds a sign-file tool).
# A lane passes when dkms builds module/pendtimer.ko without a compiler
# warning and the .ko's vermagic names the lane's release.
#
# Lanes whose modules are built in the Debian 13 build root (the 7.x lanes:
# build/lanes/LANE/buildroot names it, see vm/buildroot.sh) run the root's
# own dkms there, with the repository, the lane and build/dkms/LANE bound at
# the same paths; the root's /var/lib/dkms must stay untouched too.
#
# Ends with one line per lane, "dkms-check LANE RELEASE: PASS|FAIL (...)",
# and exits with the number of failed lanes.
#
# Environment: BUILD (default <repo>/build), DKMS (default dkms).
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
DKMS=${DKMS:-dkms}
LANES=("$@")
[ ${#LANES[@]} -gt 0 ] || LANES=(6.1)

PT_TAG=dkms-check
. "$TOP/vm/lib.sh"

command -v "$DKMS" >/dev/null || {
	say "$DKMS not found (make deps installs Debian's dkms)"
	exit 1
}
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$TOP/dkms.conf")
[ -n "$VERSION" ] || { say "no PACKAGE_VERSION in $TOP/dkms.conf"; exit 1; }

# Snapshot of the system DKMS state, to prove we left it alone.
sys_state() { ls -laR /var/lib/dkms 2>/dev/null; }
SYS_BEFORE=$(sys_state)

# run_dkms LANE ARG...: the host's dkms, or the lane's build root's.
run_dkms() {
	local lane=$1
	shift
	local ldir=$BUILD/lanes/$lane
	if [ -s "$ldir/buildroot" ]; then
		bash "$TOP/vm/buildroot.sh" run --bind "$TOP" --bind "$ldir" \
			--bind "$BUILD/dkms/$lane" --cd / -- env sign_file="$sign_file" dkms "$@"
	else
		"$DKMS" "$@"
	fi
}

# dkms reads sign_file from the environment if framework.conf does not set
# it: a path that does not exist means "modules won't be signed".
export sign_file=/nonexistent/pendtimer-dkms-check/sign-file

failed=0
results=()
for lane in "${LANES[@]}"; do
	LDIR=$BUILD/lanes/$lane
	KDIR=$LDIR/kdir
	if [ ! -f "$KDIR/Makefile" ] || [ ! -s "$LDIR/release" ]; then
		results+=("dkms-check $lane ?: FAIL (lane not prepared: make lane LANE=$lane)")
		failed=$((failed + 1))
		continue
	fi
	KDIR=$(cd "$KDIR" && pwd -P)
	RELEASE=$(cat "$LDIR/release")
	D=$BUILD/dkms/$lane
	SRC=$D/source/pendtimer-$VERSION
	rm -rf "$D"
	mkdir -p "$SRC/module" "$D/tree" "$D/install"

	# Stage exactly what a source package would carry.
	cp "$TOP/dkms.conf" "$TOP/Kbuild" "$SRC/"
	cp "$TOP"/module/*.c "$TOP"/module/*.h "$TOP/module/Kbuild" "$SRC/module/"
	cp -r "$TOP/uapi" "$SRC/uapi"

	LOG=$D/dkms.log
	opts=(-m pendtimer -v "$VERSION" --dkmstree "$D/tree" --sourcetree "$D/source"
	      --installtree "$D/install")
	say "lane $lane: dkms add + build pendtimer/$VERSION for $RELEASE (log $LOG)"
	where=host
	root_before=
	if [ -s "$LDIR/buildroot" ]; then
		where="build root $(cat "$LDIR/buildroot")"
		root_before=$(ls -laR "$(cat "$LDIR/buildroot")/var/lib/dkms" 2>/dev/null)
	fi
	{
		echo "# dkms of the $where"
		echo "+ dkms add ${opts[*]}"
		run_dkms "$lane" add "${opts[@]}"
		echo "exit=$?"
		echo "+ dkms build ${opts[*]} -k $RELEASE --kernelsourcedir $KDIR"
		run_dkms "$lane" build "${opts[@]}" -k "$RELEASE" --kernelsourcedir "$KDIR"
		echo "exit=$?"
	} >"$LOG" 2>&1
	# dkms keeps make.log in build/ when the build fails, in log/ when it works
	MAKELOG=$(find "$D/tree/pendtimer/$VERSION" -name make.log 2>/dev/null | head -n 1)
	KO=$(find "$D/tree/pendtimer/$VERSION/$RELEASE" -name pendtimer.ko 2>/dev/null | head -n 1)

	why=
	grep -q '^exit=[1-9]' "$LOG" && why="dkms failed: $(grep -m1 -i 'error' "$LOG" || tail -n 1 "$LOG")"
	[ -z "$why" ] && [ -z "$KO" ] && why="no pendtimer.ko in the DKMS tree"
	if [ -z "$why" ] && [ -n "$MAKELOG" ] && grep -qiE 'warning:|error:' "$MAKELOG"; then
		why="compiler complaints in $MAKELOG"
		grep -iE 'warning:|error:' "$MAKELOG" | head -n 10
	fi
	if [ -z "$why" ] && [ -s "$LDIR/buildroot" ] &&
		[ "$(ls -laR "$(cat "$LDIR/buildroot")/var/lib/dkms" 2>/dev/null)" != "$root_before" ]; then
		why="the build root's /var/lib/dkms changed: the private tree leaked"
	fi
	if [ -z "$why" ]; then
		vermagic=$(modinfo -F vermagic "$KO" 2>/dev/null)
		case "$vermagic" in
		"$RELEASE "*) ;;
		*) why="vermagic '$vermagic' does not name $RELEASE" ;;
		esac
	fi
	if [ -n "$why" ]; then
		tail -n 20 "$LOG"
		[ -n "$MAKELOG" ] && tail -n 20 "$MAKELOG"
		results+=("dkms-check $lane $RELEASE: FAIL ($why)")
		failed=$((failed + 1))
	else
		results+=("dkms-check $lane $RELEASE: PASS (${KO#"$BUILD"/}, dkms of the $where)")
	fi
done

if [ "$(sys_state)" != "$SYS_BEFORE" ]; then
	results+=("dkms-check: FAIL (/var/lib/dkms changed: the private tree leaked)")
	failed=$((failed + 1))
fi
printf '%s\n' "${results[@]}"
exit $failed
