#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm/buildroot.sh: the Debian 13 (trixie) build root in which modules for the
# 7.x lanes (latest, latest-rt) are built. Debian's 7.x headers were built
# with gcc-14 and their prebuilt kbuild tools (modpost, objtool, fixdep) need
# glibc 2.38; the host is Debian 12 (gcc-12, glibc 2.36) and is never
# upgraded for them.
#
#   vm/buildroot.sh ensure
#       create the root if needed (debootstrap --variant=minbase trixie, then
#       the packages below from its own apt sources: trixie, -updates,
#       -security, -backports) and print its path
#   vm/buildroot.sh run [--bind DIR]... [--cd DIR] -- CMD [ARG]...
#       run CMD inside the root, as root, with /proc, /dev and a private /tmp
#       mounted and every DIR bind-mounted at the same absolute path (so
#       that the lane's kdir, whose makefiles name absolute paths, and the
#       repository are where the host sees them); working directory DIR of
#       --cd (default: the current one). Exits with CMD's status.
#
# The root lives in the kernel cache (PT_CACHE, default /var/cache/pendtimer,
# else build/cache), shared by every clone on the machine, one creation at a
# time (flock), named by a hash of its package list and this recipe: a
# changed list makes a new root. `run` mounts in a private mount namespace
# (unshare -m), so nothing it mounts is seen by, or outlives it on, the
# host; it also unmounts on exit (trap) in case the namespace is shared.
#
# Environment: BUILD, PT_CACHE, BUILDROOT_MIRROR (default: the host's
# bookworm mirror, else deb.debian.org).
# The whole script is one brace group: bash parses it completely before
# running it, so editing this file cannot break a run in progress.
{
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
DIST=trixie
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# What the 7.x kbuild needs for `make M=... W=1 C=1 modules` and for dkms:
# gcc-14 (the compiler the headers name), make, libelf (objtool),
# sparse (C=1), bc, flex, bison (Kbuild's own scripts), libssl (sign-file),
# dwarves (pahole: module BTF), kmod + dkms (vm/dkms-check.sh).
#
# sparse: from 6.15 the kernel only runs a sparse that understands
# __typeof_unqual__ (its scripts/checker-valid.sh; otherwise kbuild prints
# "C=1 specified, but sparse is not available or not up to date" and skips
# it). trixie's sparse 0.6.4 does not; when the installed one fails that
# test, the sparse binary of Debian unstable (0.6.5~rc1 at the time of
# writing; it needs only libc) is fetched with the root's own apt (unstable
# pinned to 1: nothing is ever installed from it) into /usr/local/bin.
PACKAGES=(gcc-14 gcc libc6-dev make libelf-dev sparse bc flex bison libssl-dev
	dwarves kmod dkms)
# Bump when the steps below change in a way that needs a new root.
RECIPE=2

# Its messages go to stderr (warn): stdout carries the root's path (ensure)
# and the command's output (run).
PT_TAG=buildroot
. "$TOP/vm/lib.sh"

host_mirror() { # SUITE DEFAULT: the host's mirror for SUITE (read only)
	local m
	m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		sed -e 's/#.*//' -e 's/\[[^]]*\]//' |
		awk -v s="$1" '$1 == "deb" && $3 == s { print $2; exit }')
	if [ -z "$m" ]; then
		m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$1" '
			/^[ \t]*$/ { if (ok && u != "") { print u; exit } ok = 0; u = "" }
			tolower($1) == "uris:" { u = $2 }
			tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
			END { if (ok && u != "") print u }' | head -n 1)
	fi
	m=${m:-$2}
	echo "${m%/}"
}

MIRROR=${BUILDROOT_MIRROR:-$(host_mirror bookworm http://deb.debian.org/debian)}
SECMIRROR=$(host_mirror bookworm-security http://deb.debian.org/debian-security)
HASH=$({
	echo "recipe $RECIPE dist $DIST"
	printf '%s\n' "${PACKAGES[@]}"
} | sha256sum | cut -c1-16)
CACHE=$(pt_cache_dir)
ROOT=$CACHE/buildroot-$DIST-$HASH

sources_list() {
	echo "deb [signed-by=$KEYRING] $MIRROR $DIST main"
	echo "deb [signed-by=$KEYRING] $MIRROR $DIST-updates main"
	echo "deb [signed-by=$KEYRING] $SECMIRROR $DIST-security main"
	echo "deb [signed-by=$KEYRING] $MIRROR $DIST-backports main"
}

# A C file that sparse must parse without error (what the kernel's
# scripts/checker-valid.sh tests).
TYPEOF_UNQUAL='static inline int u(const int *q)
{
	__typeof_unqual__(*q) v = *q;
	return v;
}'

sparse_ok() { # SPARSE (in the root)
	printf '%s\n' "$TYPEOF_UNQUAL" >"$ROOT/root/typeof-unqual.c"
	local out
	out=$(in_root_plain "$1" -m64 /root/typeof-unqual.c 2>&1) || return 1
	# sparse exits 0 after a parse error: judge by what it prints.
	! printf '%s\n' "$out" | grep -q error
}

sparse_from_unstable() {
	echo "deb [signed-by=$KEYRING check-valid-until=no] $MIRROR unstable main" >"$ROOT/etc/apt/sources.list.d/unstable.list"
	printf 'Package: *\nPin: release a=unstable\nPin-Priority: 1\n' \
		>"$ROOT/etc/apt/preferences.d/unstable"
	in_root_plain apt-get -q update &&
		in_root_plain bash -c 'set -e; mkdir -p /root/sparse; cd /root/sparse
			apt-get -q download sparse/unstable
			dpkg-deb --fsys-tarfile sparse_*.deb | tar -xO ./usr/bin/sparse >/usr/local/bin/sparse
			chmod 0755 /usr/local/bin/sparse; cd /; rm -rf /root/sparse'
}

# Run CMD in ROOT with only /proc mounted (used while creating the root).
in_root_plain() {
	unshare -m --propagation private bash -c '
		set -e
		root=$1; shift
		mount -t proc proc "$root/proc"
		trap "umount -l \"$root/proc\" 2>/dev/null || true" EXIT
		chroot "$root" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LC_ALL=C DEBIAN_FRONTEND=noninteractive "$@"
	' bash "$ROOT" "$@"
}

ensure() {
	[ -f "$ROOT/.done" ] && { echo "$ROOT"; return 0; }
	command -v debootstrap >/dev/null || die "debootstrap missing (make deps installs it)"
	exec 8>"$ROOT.lock"
	flock -n 8 || {
		warn "waiting for another creation of $ROOT"
		flock 8
	}
	[ -f "$ROOT/.done" ] && { echo "$ROOT"; return 0; }
	local t0 t log=$ROOT.log
	t0=$(now)
	rm -rf "$ROOT"
	warn "debootstrap --variant=minbase $DIST $ROOT ($MIRROR; log $log)"
	: >"$log"
	t=$(now)
	debootstrap --variant=minbase --keyring="$KEYRING" "$DIST" "$ROOT" "$MIRROR" \
		>>"$log" 2>&1 || {
		tail -n 30 "$log" >&2
		die "debootstrap failed (log $log)"
	}
	warn "debootstrap took $(($(now) - t)) s"
	# Its own apt sources and keyring; name resolution for apt.
	mkdir -p "$ROOT/usr/share/keyrings"
	cp -f "$KEYRING" "$ROOT$KEYRING"
	sources_list >"$ROOT/etc/apt/sources.list"
	rm -f "$ROOT"/etc/apt/sources.list.d/*
	cp -fL /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
	# No daemons may start in the root (dkms, kmod triggers).
	printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
	chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
	t=$(now)
	warn "apt-get install ${PACKAGES[*]}"
	in_root_plain apt-get -q update >>"$log" 2>&1 &&
		in_root_plain apt-get -q install -y --no-install-recommends "${PACKAGES[@]}" \
			>>"$log" 2>&1 || {
		tail -n 30 "$log" >&2
		die "apt-get install in the build root failed (log $log)"
	}
	warn "packages installed in $(($(now) - t)) s"
	if ! sparse_ok /usr/bin/sparse; then
		warn "$(in_root_plain sparse --version) cannot parse __typeof_unqual__: sparse of unstable into /usr/local/bin"
		sparse_from_unstable >>"$log" 2>&1 || {
			tail -n 30 "$log" >&2
			die "cannot fetch the sparse of Debian unstable (log $log)"
		}
		sparse_ok /usr/local/bin/sparse ||
			die "$(in_root_plain /usr/local/bin/sparse --version 2>&1) cannot parse __typeof_unqual__ either"
	fi
	warn "sparse: $(in_root_plain sparse --version 2>&1) ($(in_root_plain sh -c 'command -v sparse'))"
	in_root_plain apt-get -q clean >>"$log" 2>&1 || true
	in_root_plain gcc-14 --version | head -n 1 >&2
	touch "$ROOT/.done"
	warn "build root ready in $(($(now) - t0)) s: $ROOT ($(du -sm "$ROOT" | cut -f1) MiB)"
	echo "$ROOT"
}

run() {
	local binds=() cwd=$PWD d
	while [ $# -gt 0 ]; do
		case "$1" in
		--bind) binds+=("$(realpath -m "$2")"); shift 2 ;;
		--cd) cwd=$2; shift 2 ;;
		--) shift; break ;;
		*) die "run: unknown option $1 (use -- before the command)" ;;
		esac
	done
	[ $# -gt 0 ] || die "run: no command"
	[ -f "$ROOT/.done" ] || die "build root $ROOT not created (vm/buildroot.sh ensure)"
	# Mount points for the binds, in the shared root (empty directories).
	for d in "${binds[@]}"; do
		[ -d "$d" ] || die "run: --bind $d: no such directory"
		mkdir -p "$ROOT$d"
	done
	unshare -m --propagation private bash -c '
		set -e
		root=$1 cwd=$2 nb=$3
		shift 3
		binds=("${@:1:$nb}")
		shift "$nb"
		mounted=()
		cleanup() {
			local i
			for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
				umount -l "${mounted[$i]}" 2>/dev/null || true
			done
		}
		trap cleanup EXIT
		mount -t proc proc "$root/proc"; mounted+=("$root/proc")
		mount --rbind /dev "$root/dev"; mounted+=("$root/dev")
		mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"; mounted+=("$root/tmp")
		for d in "${binds[@]}"; do
			# (again: a DIR under /tmp is under the tmpfs just mounted)
			mkdir -p "$root$d"
			mount --rbind "$d" "$root$d"; mounted+=("$root$d")
		done
		rc=0
		chroot "$root" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LC_ALL=C TERM=dumb bash -c "cd \"\$0\" && exec \"\$@\"" "$cwd" "$@" || rc=$?
		exit $rc
	' bash "$ROOT" "$cwd" "${#binds[@]}" "${binds[@]}" "$@"
}

case "${1:-}" in
ensure) ensure ;;
run) shift; run "$@" ;;
path) echo "$ROOT" ;;
*)
	echo "usage: $0 ensure | path | run [--bind DIR]... [--cd DIR] -- CMD [ARG]..." >&2
	exit 2
	;;
esac
exit
}
