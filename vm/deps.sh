#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Host tools for building and testing pendtimer (run by `make deps`).
# Idempotent: installs from Debian only what is missing; a second run needs no
# network and returns at once.
# The whole script is one brace group: bash parses it completely before
# running it, so editing this file cannot break a run in progress.
{
set -euo pipefail

PKGS=(
	qemu-system-x86 busybox-static cpio build-essential libelf-dev bc flex
	bison libssl-dev dwarves kmod liburing-dev sparse linux-source-6.1
	python3 gnuplot-nox dkms gcc-multilib zstd xz-utils rsync ca-certificates
	# extra: used by the lane/kernel scripts
	apt dpkg gzip tar perl make gawk openssl coreutils findutils
	debian-archive-keyring
	# the Debian 13 build root of the 7.x lanes (vm/buildroot.sh)
	debootstrap
)

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi

echo "deps: installing: ${missing[*]}"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update </dev/null
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y \
	--no-install-recommends "${missing[@]}" </dev/null
echo "deps: done"
exit
}
