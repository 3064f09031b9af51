#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm/lane.sh LANE: prepare kernel lane LANE under build/lanes/LANE/.
#
#   6.1      Debian 12 linux-image-amd64 + linux-headers-amd64
#   6.12     bookworm-backports linux-image-amd64 + linux-headers-amd64
#   6.12-rt  bookworm-backports linux-image-rt-amd64 + linux-headers-rt-amd64
#   latest   Debian's newest kernel: trixie-backports linux-image-amd64 +
#            linux-headers-amd64 (7.x at the time of writing)
#   latest-rt  trixie-backports linux-image-rt-amd64 + linux-headers-rt-amd64
#
# vm/lane.sh source: fetch the newest Debian kernel source (linux-source-X.Y,
# resolved through trixie-backports' linux-source metapackage) into the
# kernel cache and print the path of its linux-source-X.Y.tar.xz (also
# linked as build/kernel-source/latest.tar.xz). The selftests take their
# kselftest harness and vm/checkpatch.sh its checkpatch.pl from it.
#   debug    tinyconfig + vm/debug.config built from
#            /usr/src/linux-source-6.1.tar.xz (KASAN, lockdep, kmemleak, ...)
#   debug-latest  tinyconfig + vm/latest-base.config + vm/debug-latest.config
#            built from Debian's newest linux-source-7.x (trixie-backports,
#            fetched through the cache's apt-trixie/): KASAN, lockdep, kmemleak, ...
#   kcsan    the same source, vm/latest-base.config + vm/kcsan.config
#            (KCSAN strict, weak-memory modelling, interrupt watcher)
#
# The 7.x headers were built with gcc-14 and their modpost needs glibc 2.38:
# modules for latest and latest-rt are built inside the Debian 13 build root
# of vm/buildroot.sh (build/lanes/LANE/buildroot names it), which this
# script prepares for those lanes.
#
# The kernels built here (debug, debug-latest, kcsan) must also have every
# option of selftests/config, the ones the tests need (checked with the
# fragments, not part of the build hash).
#
# Afterwards build/lanes/LANE/ holds:
#   kdir      KDIR for `make -C kdir M=$PWD modules`
#   vmlinuz   bootable bzImage
#   release   the kernel release string (uname -r in the guest)
#
# The host's kernels, boot setup and apt sources are never touched: Debian
# packages come through a private apt configuration in the kernel cache
# (PT_CACHE, default /var/cache/pendtimer: apt-bookworm/, apt-trixie/) and are
# unpacked with dpkg-deb -x into build/lanes/LANE/root/.
#
# Environment:
#   BUILD              build directory (default: <repo>/build)
#   LANE_REFRESH=1     re-resolve and re-fetch a Debian lane even if prepared
#   APT_LISTS_MAX_AGE  seconds before the private apt lists are refreshed
#                      (default 21600)
#   PT_JOBS            make -j for the debug kernel (default 3)
#   PT_KERNEL_TARBALL  kernel source tarball (default
#                      /usr/src/linux-source-6.1.tar.xz)
# The whole script is one brace group: bash parses it completely before
# running it, so editing this file cannot break a run in progress.
{
set -euo pipefail

LANE=${1:-}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
PT_TAG="lane $LANE"
. "$TOP/vm/lib.sh"
case "$LANE" in
6.1 | 6.12 | 6.12-rt | latest | latest-rt | debug | debug-latest | kcsan) LDIR=$BUILD/lanes/$LANE ;;
source) LDIR=$BUILD/kernel-source ;;
*)
	echo "usage: $0 6.1|6.12|6.12-rt|latest|latest-rt|debug|debug-latest|kcsan|source" >&2
	exit 2
	;;
esac
mkdir -p "$LDIR"
# One lane.sh per lane at a time (others wait, then find it prepared).
exec 9>"$LDIR/.lock"
flock -n 9 || {
	warn "waiting for another vm/lane.sh $LANE to finish"
	flock 9
}

T0=$(now)

# ---------------------------------------------------------------------------
# Debian lanes
# ---------------------------------------------------------------------------
APTDIR=$BUILD/apt
DEBS=$APTDIR/debs
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# Print "TYPE URI SUITE" for every enabled entry in the host's apt sources
# (one-line .list files and deb822 .sources files). Read only.
host_sources() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
			awk '$1 == "deb" && NF >= 3 { print "deb", $2, $3 }'
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '
		function flush(   i, j, nu, ns, u, s) {
			if (types ~ /(^| )deb( |$)/ && enabled != "no") {
				nu = split(uris, u, " "); ns = split(suites, s, " ")
				for (i = 1; i <= nu; i++)
					for (j = 1; j <= ns; j++)
						print "deb", u[i], s[j]
			}
			types = uris = suites = ""; enabled = "yes"
		}
		BEGIN { enabled = "yes" }
		/^[ \t]*#/ { next }
		/^[ \t]*$/ { flush(); next }
		{
			key = tolower($1); sub(/:$/, "", key)
			val = $0; sub(/^[^:]*:[ \t]*/, "", val)
			if (key == "types") types = val
			else if (key == "uris") uris = val
			else if (key == "suites") suites = val
			else if (key == "enabled") enabled = tolower(val)
		}
		END { flush() }' "$f"
	done
}

mirror_for() { # SUITE DEFAULT
	local m
	m=$(host_sources | awk -v s="$1" '$3 == s { print $2; exit }')
	echo "${m:-$2}"
}

APT_OPTS=()
# apt_setup DIST: private apt configuration for Debian DIST (bookworm: the
# 6.x lanes, in CACHE/apt-bookworm/; trixie: the 7.x lanes and the newest
# kernel source, in CACHE/apt-trixie/), each with its -updates, -security and
# -backports suites. Sets APTDIR, DEBS and APT_OPTS; refreshes the lists
# when older than APT_LISTS_MAX_AGE. The host's apt setup is only read.
apt_setup() { # DIST
	local dist=${1:-bookworm}
	# In the kernel cache (outside the clone, like the kernels): a fresh
	# clone on the same machine neither refreshes the lists again within
	# APT_LISTS_MAX_AGE nor downloads the same packages again.
	kernel_cache
	case "$dist" in
	bookworm) APTDIR=$CACHE/apt-bookworm ;;
	trixie) APTDIR=$CACHE/apt-trixie ;;
	*) die "apt_setup: unknown distribution $dist" ;;
	esac
	DEBS=$APTDIR/debs
	mkdir -p "$APTDIR"/etc/sources.list.d "$APTDIR"/etc/preferences.d \
		"$APTDIR"/state/lists/partial "$APTDIR"/cache/archives/partial "$DEBS"
	[ -f "$APTDIR/state/status" ] || : >"$APTDIR/state/status"
	local main sec new
	# The host (Debian 12) names its mirror for bookworm only: the same
	# archive serves trixie.
	main=$(mirror_for "$dist" "$(mirror_for bookworm http://deb.debian.org/debian)")
	sec=$(mirror_for "$dist-security" "$(mirror_for bookworm-security http://deb.debian.org/debian-security)")
	main=${main%/}
	sec=${sec%/}
	new=$(
		echo "# generated by vm/lane.sh from the host's apt sources; private to pendtimer"
		echo "deb [signed-by=$KEYRING] $main $dist main"
		echo "deb [signed-by=$KEYRING] $main $dist-updates main"
		echo "deb [signed-by=$KEYRING] $sec $dist-security main"
		echo "deb [signed-by=$KEYRING] $main $dist-backports main"
	)
	if [ "$(cat "$APTDIR/etc/sources.list" 2>/dev/null)" != "$new" ]; then
		echo "$new" >"$APTDIR/etc/sources.list"
		rm -f "$APTDIR/state/updated"
	fi
	APT_OPTS=(
		-o "Dir::Etc::sourcelist=$APTDIR/etc/sources.list"
		-o "Dir::Etc::sourceparts=$APTDIR/etc/sources.list.d"
		-o "Dir::Etc::preferences=$APTDIR/etc/preferences"
		-o "Dir::Etc::preferencesparts=$APTDIR/etc/preferences.d"
		-o "Dir::State=$APTDIR/state"
		-o "Dir::State::status=$APTDIR/state/status"
		-o "Dir::Cache=$APTDIR/cache"
		-o "APT::Sandbox::User=root"
		-o "Acquire::Languages=none"
		-o "Debug::NoLocking=1"
	)
	# Two lanes of one distribution may refresh the lists at once.
	exec 5>"$APTDIR/.lock"
	flock 5
	local age=${APT_LISTS_MAX_AGE:-21600} stamp=$APTDIR/state/updated
	if [ ! -f "$stamp" ] || [ $(($(now) - $(stat -c %Y "$stamp"))) -gt "$age" ]; then
		warn "apt-get update (private $dist config in $APTDIR, mirror $main, security $sec)"
		local t=$(now)
		apt-get -q "${APT_OPTS[@]}" update </dev/null >"$APTDIR/update.log" 2>&1 ||
			{
				cat "$APTDIR/update.log" >&2
				die "private apt-get update failed"
			}
		grep -E '^(W|E):' "$APTDIR/update.log" >&2 || true
		touch "$stamp"
		warn "apt-get update took $(($(now) - t)) s"
	fi
	exec 5>&-
}

# Candidate version record of PKG (honours -t for backports lanes).
apt_show() { # PKG
	apt-cache "${APT_OPTS[@]}" "${APT_T[@]}" show --no-all-versions "$1" 2>/dev/null
}
field() { # FIELD  (reads a control record on stdin)
	awk -v f="$1" '
	tolower($0) ~ "^" tolower(f) ":" { sub(/^[^:]*:[ \t]*/, ""); v = $0; on = 1; next }
	on && /^[ \t]/ { v = v " " $0; next }
	{ on = 0 }
	END { print v }'
}
# Names (and "=version" if pinned with "= ver") of PKG's Depends matching RE.
deps_matching() { # PKG RE
	apt_show "$1" | field Depends | tr ',' '\n' | tr '|' '\n' |
		sed -e 's/^[ \t]*//' -e 's/[ \t]*$//' |
		awk -v re="$2" '
		{
			name = $1; sub(/:any$/, "", name)
			if (name !~ re) next
			ver = ""
			if (match($0, /\(= [^)]*\)/)) { ver = substr($0, RSTART + 3, RLENGTH - 4) }
			print name (ver != "" ? "=" ver : "")
		}' | sort -u
}

fetch() { # NAME[=VERSION] -> path of the .deb on stdout
	local spec=$1 name ver
	name=${spec%%=*}
	if [ "$spec" != "$name" ]; then
		ver=${spec#*=}
	else
		ver=$(apt_show "$name" | field Version)
	fi
	[ -n "$ver" ] || die "no candidate version for $name"
	local f
	f=$(ls "$DEBS/${name}_$(echo "$ver" | sed 's/:/%3a/')_"*.deb 2>/dev/null | head -1 || true)
	if [ -z "$f" ]; then
		local t=$(now)
		(cd "$DEBS" && apt-get -q "${APT_OPTS[@]}" download "$name=$ver" </dev/null \
			>"$APTDIR/download.log" 2>&1) || {
			cat "$APTDIR/download.log" >&2
			die "apt-get download $name=$ver failed"
		}
		f=$(ls "$DEBS/${name}_$(echo "$ver" | sed 's/:/%3a/')_"*.deb | head -1)
		warn "downloaded $(basename "$f") ($(($(stat -c %s "$f") / 1048576)) MiB, $(($(now) - t)) s)"
	else
		warn "cached $(basename "$f")"
	fi
	echo "$f"
}

# The packages of the lane (NAME=VERSION lines) from the private apt lists:
# the image and headers the metapackages depend on, the split image's
# kernel, the headers' -common and kbuild packages. Uses debian_lane()'s
# img_meta, hdr_meta, want and APT_T.
resolve_packages() {
	local img hdr rel split hdrname extra e more=""
	img=$(deps_matching "$img_meta" '^linux-image-[0-9]' | head -1)
	hdr=$(deps_matching "$hdr_meta" '^linux-headers-[0-9]' | head -1)
	[ -n "$img" ] || die "cannot resolve $img_meta ${APT_T[*]}"
	[ -n "$hdr" ] || die "cannot resolve $hdr_meta ${APT_T[*]}"
	rel=${img%%=*}
	rel=${rel#linux-image-}
	rel=${rel%-unsigned}
	[ "${hdr%%=*}" = "linux-headers-$rel" ] ||
		die "image $img and headers $hdr do not match"
	echo "$rel" | grep -Eq -- "$want" || die "resolved release $rel is not what lane $LANE wants ($want)"
	say "resolved $img_meta ${APT_T[*]} -> $img, $hdr_meta -> $hdr" >&2

	# From 7.x the image package is split: linux-image-<abi> depends on
	# linux-binary-<abi> (the kernel, /usr/lib/modules/<abi>/vmlinuz) and
	# linux-modules-<abi> (the .ko files, ~100 MB, which the guest does
	# not need: it only loads pendtimer; LANE_FULL_MODULES=1 fetches them).
	split=$(deps_matching "${img%%=*}" '^linux-(binary|modules)-' |
		grep -E "^linux-(binary|modules)-$(printf '%s' "$rel" | sed 's/[.+]/\\&/g')(=|\$)" || true)
	if [ -n "$split" ]; then
		[ -n "${LANE_FULL_MODULES:-}" ] || split=$(echo "$split" | grep -v '^linux-modules-' || true)
		say "split image packaging: + $(echo $split)" >&2
	fi

	# The headers need their -common package and linux-kbuild-*.
	hdrname=${hdr%%=*}
	extra=$(deps_matching "$hdrname" '^linux-(headers|kbuild)-')
	# Resolve their own linux-headers/kbuild deps too (one more level).
	for e in $extra; do
		more+=" $(deps_matching "${e%%=*}" '^linux-(headers|kbuild)-' || true)"
	done
	printf '%s\n' "$img" "$hdr" $split $extra $more | awk 'NF' | sort -u
}

# Unpack DEBS into DIR, through an uncompressed tar of the result kept in
# the kernel cache (CACHE/unpacked/, keyed by the package files): unpacking
# the xz'd packages again costs 10-30 s a lane, reading the tar a second.
unpack_cached() { # DIR DEBS...
	local dir=$1 key tarball d
	shift
	kernel_cache
	key=$( { printf '%s\n' "${@##*/}"; echo "full=${LANE_FULL_MODULES:-}"; } | sha256sum | cut -c1-16)
	tarball=$CACHE/unpacked/$key.tar
	if [ -s "$tarball" ]; then
		say "unpacking $# packages into $dir (from $tarball)"
		tar -xf "$tarball" -C "$dir" || die "tar -xf $tarball failed"
		return 0
	fi
	say "unpacking $# packages into $dir"
	for d in "$@"; do
		case "$(basename "$d")" in
		linux-image-*)
			if [ -n "${LANE_FULL_MODULES:-}" ]; then
				dpkg-deb -x "$d" "$dir"
			else
				# The guest only runs our own modules: leave out the
				# image's ~400 MB of kernel/*.ko (LANE_FULL_MODULES=1
				# keeps them); /boot and modules.* metadata stay.
				dpkg-deb --fsys-tarfile "$d" |
					tar -x -C "$dir" --exclude='./lib/modules/*/kernel' \
						--exclude='./usr/lib/modules/*/kernel'
			fi
			;;
		*) dpkg-deb -x "$d" "$dir" ;;
		esac
	done
	mkdir -p "$CACHE/unpacked"
	tar -cf "$tarball.$$" -C "$dir" . && mv "$tarball.$$" "$tarball" ||
		rm -f "$tarball.$$"
}

debian_lane() {
	local img_meta hdr_meta want dist=bookworm
	APT_T=()
	case "$LANE" in
	6.1)
		img_meta=linux-image-amd64 hdr_meta=linux-headers-amd64 want='^6\.1\.'
		;;
	6.12)
		img_meta=linux-image-amd64 hdr_meta=linux-headers-amd64 want='^6\.12\.'
		APT_T=(-t bookworm-backports)
		;;
	6.12-rt)
		img_meta=linux-image-rt-amd64 hdr_meta=linux-headers-rt-amd64 want='^6\.12\..*-rt-'
		APT_T=(-t bookworm-backports)
		;;
	latest)
		# Whatever trixie-backports (else trixie) has: no version named;
		# not the -rt- flavour ([^t]-amd64).
		img_meta=linux-image-amd64 hdr_meta=linux-headers-amd64 want='^[0-9]+\.[0-9]+\..*[^t]-amd64$'
		dist=trixie APT_T=(-t trixie-backports)
		;;
	latest-rt)
		img_meta=linux-image-rt-amd64 hdr_meta=linux-headers-rt-amd64 want='^[0-9]+\.[0-9]+\..*-rt-amd64$'
		dist=trixie APT_T=(-t trixie-backports)
		;;
	esac

	if [ -z "${LANE_REFRESH:-}" ] && [ -f "$LDIR/.prepared" ] && [ -f "$LDIR/kdir/Makefile" ] &&
		[ -s "$LDIR/vmlinuz" ] && [ -s "$LDIR/release" ]; then
		say "already prepared: release $(cat "$LDIR/release") (LANE_REFRESH=1 to re-resolve)"
		lane_buildroot "$dist"
		exit 0
	fi

	apt_setup "$dist"
	local t=$(now) pkgs resolved
	# The resolution below asks apt-cache a dozen times (20 s on a busy
	# machine): reuse its answer while the lists it came from are unchanged.
	resolved=$APTDIR/resolved-$LANE${LANE_FULL_MODULES:+-full}
	if [ -s "$resolved" ] && [ "$(head -n 1 "$resolved")" = "lists $(stat -c %Y "$APTDIR/state/updated")" ]; then
		pkgs=$(tail -n +2 "$resolved")
		say "packages: $(echo $pkgs) (resolved with these lists before)"
	else
		pkgs=$(resolve_packages) || exit 1
		{ echo "lists $(stat -c %Y "$APTDIR/state/updated")"; echo "$pkgs"; } >"$resolved"
		say "packages: $(echo $pkgs) (resolved in $(($(now) - t)) s)"
	fi
	local rel
	rel=$(echo "$pkgs" | sed -n 's/^linux-image-\([0-9][^=]*\)=.*/\1/p' | head -n 1)
	rel=${rel%-unsigned}

	local debs=() p
	for p in $pkgs; do
		debs+=("$(fetch "$p")")
	done

	# Unpack next to the current tree and swap at the end, so that a
	# module build against the old kdir is not pulled from under it.
	local root=$LDIR/root new=$LDIR/root.new
	t=$(now)
	rm -rf "$new"
	mkdir -p "$new"
	unpack_cached "$new" "${debs[@]}"
	say "unpacked in $(($(now) - t)) s"
	fix_tree "$new" "$root"
	add_checker_valid "$new" "$rel"

	[ -f "$new/usr/src/linux-headers-$rel/Makefile" ] ||
		die "no usr/src/linux-headers-$rel/Makefile after unpacking"
	local vml
	for vml in "$new/boot/vmlinuz-$rel" "$new/usr/lib/modules/$rel/vmlinuz" ""; do
		[ -z "$vml" ] || [ ! -f "$vml" ] || break
	done
	[ -n "$vml" ] || die "no boot/vmlinuz-$rel or usr/lib/modules/$rel/vmlinuz in the image packages"
	vml=${vml#"$new"/}
	rm -f "$LDIR/.prepared"
	rm -rf "$LDIR/root.old"
	[ ! -e "$root" ] || mv "$root" "$LDIR/root.old"
	mv "$new" "$root"
	rm -rf "$LDIR/root.old"
	local kd=$root/usr/src/linux-headers-$rel
	ln -sfn "root/usr/src/linux-headers-$rel" "$LDIR/kdir"
	cp -f "$root/$vml" "$LDIR/vmlinuz"
	echo "$rel" >"$LDIR/release"
	printf '%s\n' $pkgs >"$LDIR/packages"
	grep -q "^CONFIG_MODULES=y" "$kd/.config" || die "$kd/.config: no CONFIG_MODULES"
	touch "$LDIR/.prepared"
	lane_buildroot "$dist"
	say "ready in $(($(now) - T0)) s: release $rel, kdir -> $(readlink "$LDIR/kdir")"
}

# From 6.15 the kernel's Makefile runs scripts/checker-valid.sh to decide
# whether C=1 may use sparse; Debian's linux-kbuild package does not ship it,
# so C=1 would print "C=1 specified, but sparse is not available or not up
# to date" and silently skip sparse. Take it from the kernel source of the
# same X.Y (the newest, see latest_source_tarball).
add_checker_valid() { # TREE RELEASE
	local tree=$1 rel=$2 common
	# -common, or -common-rt for Debian 12's rt flavour; none is no error.
	common=$(ls -d "$tree"/usr/src/linux-headers-*-common "$tree"/usr/src/linux-headers-*-common-rt \
		2>/dev/null | head -n 1 || true)
	[ -n "$common" ] && grep -q 'scripts/checker-valid\.sh' "$common/Makefile" || return 0
	[ ! -e "$common/scripts/checker-valid.sh" ] || return 0
	local xy tb
	xy=$(echo "$rel" | grep -oE '^[0-9]+\.[0-9]+')
	tb=$(latest_source_tarball)
	[ "$(basename "$tb")" = "linux-source-$xy.tar.xz" ] ||
		die "scripts/checker-valid.sh: need linux-source-$xy, the newest source is $(basename "$tb")"
	# Kept next to the tarball: one xz pass over 150 MB is enough.
	local kept
	kept=$(dirname "$tb")/checker-valid.sh
	if [ ! -s "$kept" ]; then
		tar -xJf "$tb" -O "linux-source-$xy/scripts/checker-valid.sh" >"$kept.tmp" ||
			die "no scripts/checker-valid.sh in $tb"
		mv "$kept.tmp" "$kept"
	fi
	cp "$kept" "$common/scripts/checker-valid.sh"
	chmod 0755 "$common/scripts/checker-valid.sh"
	say "added scripts/checker-valid.sh from $(basename "$tb")"
}

# The 7.x lanes build their module inside the Debian 13 build root of
# vm/buildroot.sh; build/lanes/LANE/buildroot names it for vm/check.sh and
# vm/dkms-check.sh (no such file: build on the host).
lane_buildroot() { # DIST
	if [ "$1" = trixie ]; then
		local r
		r=$(bash "$TOP/vm/buildroot.sh" ensure) || die "cannot create the trixie build root"
		echo "$r" >"$LDIR/buildroot"
		say "modules are built in the build root $r"
	else
		rm -f "$LDIR/buildroot"
	fi
}

# Debian's header packages point into /usr/src and /usr/lib/linux-kbuild-*:
# absolute symlinks and absolute paths in makefiles. Redirect them into the
# tree DIR, which will be moved to FINAL (symlinks become relative, makefile
# paths absolute to FINAL).
fix_tree() { # DIR FINAL
	local dir=$1 final=$2 l t n=0
	while IFS= read -r -d '' l; do
		t=$(readlink "$l")
		case "$t" in
		/*)
			ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "$dir$t")" "$l"
			n=$((n + 1))
			;;
		esac
	done < <(find "$dir" -type l -print0)
	say "relinked $n absolute symlinks"
	local f m=0
	while IFS= read -r -d '' f; do
		if grep -Eq '/usr/(src/linux-|lib/linux-kbuild)' "$f"; then
			sed -i -E "s#([^A-Za-z0-9_./-]|^)/usr/(src/linux-|lib/linux-kbuild)#\\1$final/usr/\\2#g" "$f"
			m=$((m + 1))
		fi
	done < <(find "$dir/usr/src" -maxdepth 2 -type f \( -name 'Makefile*' -o -name '*.mk' \) -print0)
	say "rewrote absolute /usr/src paths in $m makefile(s) to $final"
}

# ---------------------------------------------------------------------------
# The newest kernel source
# ---------------------------------------------------------------------------
# latest_source_tarball: resolve linux-source (trixie-backports, else
# trixie) to linux-source-X.Y, fetch it once into the kernel cache
# (CACHE/linux-source/NAME_VERSION/NAME.tar.xz, the .deb is not kept) and
# print the tarball's path. Logs go to stderr.
latest_source_tarball() {
	apt_setup trixie >&2
	APT_T=(-t trixie-backports)
	local spec name ver
	spec=$(deps_matching linux-source '^linux-source-[0-9]' | sort -V | tail -n 1)
	[ -n "$spec" ] || die "cannot resolve linux-source -t trixie-backports"
	name=${spec%%=*}
	ver=${spec#*=}
	[ "$ver" != "$spec" ] || ver=$(apt_show "$name" | field Version)
	[ -n "$ver" ] || die "no candidate version for $name"
	local dir
	dir=$(pt_cache_dir)/linux-source/${name}_$(echo "$ver" | tr ':' '_')
	local tarball=$dir/$name.tar.xz
	mkdir -p "$dir"
	exec 6>"$dir.lock"
	flock 6
	if [ ! -f "$dir/.done" ]; then
		local t=$(now) deb
		warn "fetching $name=$ver into $dir"
		rm -f "$dir"/*.deb "$tarball"
		(cd "$dir" && apt-get -q "${APT_OPTS[@]}" download "$name=$ver" </dev/null \
			>"$dir/download.log" 2>&1) || {
			cat "$dir/download.log" >&2
			die "apt-get download $name=$ver failed"
		}
		deb=$(ls "$dir"/*.deb | head -n 1)
		warn "downloaded $(basename "$deb") ($(($(stat -c %s "$deb") / 1048576)) MiB) in $(($(now) - t)) s"
		dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$name.tar.xz" >"$tarball.tmp" ||
			die "no usr/src/$name.tar.xz in $deb"
		mv "$tarball.tmp" "$tarball"
		rm -f "$deb"
		touch "$dir/.done"
		warn "$tarball ready ($(($(stat -c %s "$tarball") / 1048576)) MiB, $(($(now) - t)) s)"
	fi
	exec 6>&-
	echo "$tarball"
}

source_main() {
	local tb link=$LDIR/latest.tar.xz stamp=$BUILD/apt-trixie/state/updated
	# Resolved since the apt lists were last refreshed, and those are
	# fresh: no need to ask apt again (the selftests build asks each time).
	if [ -z "${LANE_REFRESH:-}" ] && [ -f "$link" ] && [ -f "$stamp" ] &&
		[ "$(stat -c %Y "$link")" -ge "$(stat -c %Y "$stamp")" ] &&
		[ $(($(now) - $(stat -c %Y "$stamp"))) -le "${APT_LISTS_MAX_AGE:-21600}" ]; then
		readlink "$link"
		return 0
	fi
	tb=$(latest_source_tarball)
	ln -sfn "$tb" "$LDIR/latest.tar.xz"
	echo "$tb"
}

# ---------------------------------------------------------------------------
# kernel-source lanes: debug (6.1), debug-latest and kcsan (newest source)
# ---------------------------------------------------------------------------
# The sources and the built kernels live in a cache outside the clone
# (PT_CACHE, default /var/cache/pendtimer, else build/cache), keyed by the
# build hash, so that a fresh clone on the same machine (CI) does not
# rebuild the same kernel. Sets CACHE.
kernel_cache() {
	CACHE=$(pt_cache_dir)
}

# Unpack the xz'd source tarball that CMD... writes to stdout into
# $CACHE/src/NAME, unless it is there already from the same ID. Clones
# share the cache: one extraction at a time.
src_extract() { # NAME ID CMD...
	local name=$1 id=$2 srcbase=$CACHE/src
	shift 2
	mkdir -p "$srcbase"
	exec 7>"$srcbase/.$name.lock"
	flock -n 7 || {
		say "waiting for another extraction of $srcbase/$name"
		flock 7
	}
	if [ ! -f "$srcbase/$name/Makefile" ] ||
		[ "$(cat "$srcbase/.$name.stamp" 2>/dev/null)" != "$id" ]; then
		say "extracting $name ($id) into $srcbase"
		local t=$(now)
		rm -rf "${srcbase:?}/$name" "$srcbase/.$name.stamp"
		{ "$@" | xz -dc | tar -x -C "$srcbase"; } ||
			die "extracting $name failed"
		[ -f "$srcbase/$name/Makefile" ] || die "the tarball did not contain $name/Makefile"
		echo "$id" >"$srcbase/.$name.stamp"
		say "extracted in $(($(now) - t)) s"
	fi
	exec 7>&-
}

# The 6.1 debug lane: Debian 12's linux-source-6.1 (installed by make deps).
debug_lane() {
	local tarball=${PT_KERNEL_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
	local frag=$TOP/vm/debug.config
	[ -f "$tarball" ] || die "$tarball missing (make deps installs linux-source-6.1)"
	[ -f "$frag" ] || die "$frag missing"
	kernel_cache
	local name
	name=$(basename "$tarball")
	name=${name%.tar.*}
	src_extract "$name" "$(readlink -f "$tarball") $(stat -c '%s %Y' "$tarball")" cat "$tarball"
	local src=$CACHE/src/$name kver pkgver
	kver=$(awk '/^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)[ \t]*=/ { printf "%s ", $0 }' "$src/Makefile")
	pkgver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || echo unknown)
	SRC_PREPARE=:
	kernel_build "$src" "tarball $name $pkgver $kver" "$frag"
}

# debug-latest and kcsan: the newest linux-source-N.M (N >= 7) that trixie
# and trixie-backports offer, resolved by name and version, never
# hard-coded.
latest_src_lane() {
	local frags=("$TOP/vm/latest-base.config" "$TOP/vm/$LANE.config") f
	for f in "${frags[@]}"; do
		[ -f "$f" ] || die "$f missing"
	done
	apt_setup trixie
	APT_T=(-t trixie-backports)
	local pkg ver
	pkg=$(apt-cache "${APT_OPTS[@]}" pkgnames linux-source- |
		grep -E '^linux-source-([7-9]|[1-9][0-9]+)\.[0-9]+$' | sort -V | tail -n 1 || true)
	[ -n "$pkg" ] || die "no linux-source-7.x or newer in trixie/trixie-backports"
	ver=$(apt_show "$pkg" | field Version)
	[ -n "$ver" ] || die "no candidate version of $pkg"
	say "newest kernel source: $pkg $ver"
	kernel_cache
	LATEST_PKG=$pkg LATEST_VER=$ver
	SRC_PREPARE=latest_src_prepare
	kernel_build "$CACHE/src/$pkg" "package $pkg $ver" "${frags[@]}"
}

# Unpack the newest source tarball (latest_source_tarball: fetched once
# into the kernel cache, shared with the harness and checkpatch) into the
# cache's source tree.
latest_src_prepare() {
	local tb
	tb=$(latest_source_tarball)
	[ "$(basename "$tb")" = "$LATEST_PKG.tar.xz" ] ||
		die "the newest source is $(basename "$tb"), the lane resolved $LATEST_PKG"
	src_extract "$LATEST_PKG" "$LATEST_PKG $LATEST_VER" cat "$tb"
}

# Configure (tinyconfig + FRAGMENTs + olddefconfig), verify and build the
# kernel in SRC into $CACHE/$LANE-<hash>, or take it from there; link
# build/lanes/LANE/ to it. ID names the source (it and the fragments make
# the hash). $SRC_PREPARE runs first when a build is needed.
kernel_build() { # SRC ID FRAGMENT...
	local src=$1 id=$2
	shift 2
	local frags=("$@") jobs=${PT_JOBS:-3} hash
	# Checked in the final .config with the fragments, but not part of the
	# build hash: the options the selftests need (selftests/config), which
	# the fragments must set.
	local wanted=("${frags[@]}" "$TOP/selftests/config")
	# Bump RECIPE when the build steps below change in a way that needs a rebuild.
	local RECIPE=1
	hash=$({
		echo "recipe $RECIPE"
		echo "$id"
		cat "${frags[@]}"
	} | sha256sum | cut -c1-16)

	local kbuild=$CACHE/$LANE-$hash
	local obj=$kbuild/obj
	# The cache is shared by every clone on this machine: one build at a time.
	exec 8>"$kbuild.lock"
	flock -n 8 || {
		say "waiting for another build of $kbuild"
		flock 8
	}
	if [ -f "$kbuild/.done" ] && [ -f "$obj/Module.symvers" ] && [ -s "$kbuild/vmlinuz" ]; then
		# Checked again on every use: a cache filled by an older
		# vm/lane.sh must meet today's rules too.
		kconfig_symbols "$src" "$kbuild"
		verify_config "$kbuild/kconfig-symbols" "$obj/.config" "${wanted[@]}"
		if [ "$(cat "$LDIR/.buildhash" 2>/dev/null)" != "$hash" ] ||
			[ ! -f "$LDIR/kdir/Makefile" ] || [ ! -s "$LDIR/vmlinuz" ]; then
			ln -sfn "$obj" "$LDIR/kdir"
			cp -f "$kbuild/vmlinuz" "$LDIR/vmlinuz"
			cp -f "$kbuild/release" "$LDIR/release"
			echo "$hash" >"$LDIR/.buildhash"
			say "taken from the cache $kbuild"
		fi
		say "up to date: release $(cat "$LDIR/release"), build hash $hash"
		exit 0
	fi

	$SRC_PREPARE
	[ -f "$src/Makefile" ] || die "no kernel source in $src"
	say "building $LANE kernel ($id) with $(basename -a "${frags[@]}" | xargs), hash $hash, -j$jobs"
	rm -f "$LDIR/.buildhash" "$kbuild/kconfig-symbols"
	mkdir -p "$obj"
	local blog=$kbuild/build.log
	: >"$blog"
	local MK=(make -C "$src" O="$obj" ARCH=x86_64 -j"$jobs")
	local t=$(now)
	run() {
		echo "+ $*" >>"$blog"
		"$@" >>"$blog" 2>&1 || {
			tail -n 60 "$blog" >&2
			die "failed: $* (full log: $blog)"
		}
	}
	run "${MK[@]}" tinyconfig
	run env ARCH=x86_64 "$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "${frags[@]}"
	run "${MK[@]}" olddefconfig
	kconfig_symbols "$src" "$kbuild"
	verify_config "$kbuild/kconfig-symbols" "$obj/.config" "${wanted[@]}"
	say "configured in $(($(now) - t)) s; compiling (log: $blog)"
	run "${MK[@]}" bzImage modules
	run "${MK[@]}" modules_prepare
	[ -f "$obj/Module.symvers" ] || die "no Module.symvers after the build"
	local rel
	rel=$(make -s -C "$src" O="$obj" ARCH=x86_64 kernelrelease)
	cp -f "$obj/arch/x86/boot/bzImage" "$kbuild/vmlinuz"
	echo "$rel" >"$kbuild/release"
	touch "$kbuild/.done"
	ln -sfn "$obj" "$LDIR/kdir"
	cp -f "$kbuild/vmlinuz" "$LDIR/vmlinuz"
	echo "$rel" >"$LDIR/release"
	echo "$hash" >"$LDIR/.buildhash"
	say "built in $(($(now) - t)) s: release $rel, vmlinuz $(stat -c %s "$LDIR/vmlinuz") bytes"
}

# Every symbol the kernel source SRC defines in its Kconfig files, as
# CONFIG_NAME lines, into KBUILD/kconfig-symbols (kept with the build, so
# that a cached kernel is checked without its source).
kconfig_symbols() { # SRC KBUILD
	local src=$1 out=$2/kconfig-symbols
	[ -s "$out" ] && return 0
	[ -f "$src/Kconfig" ] || die "no $out and no source in $src to make it from (remove $2 to rebuild)"
	find "$src" -name 'Kconfig*' -type f -print0 |
		xargs -0 sed -n -E 's/^[ \t]*(menu)?config[ \t]+([A-Za-z0-9_]+)[ \t]*$/CONFIG_\2/p' |
		sort -u >"$out.tmp"
	mv "$out.tmp" "$out"
}

# Every option the fragments set must exist in the source's Kconfig and
# have exactly that value in the final .config ("# CONFIG_X is not set":
# not set). A symbol the source does not know fails too: it would pass an
# "is not set" check by its absence, and hides a rename. Fragments are
# named by their file name in messages (vm/'s) or by their path in the
# repository (selftests/config).
fragname() { # FILE...
	local f
	for f in "$@"; do
		case "$f" in
		"$TOP"/vm/*) echo "${f##*/}" ;;
		*) echo "${f#"$TOP"/}" ;;
		esac
	done
}
verify_config() { # SYMBOLS CONFIG FRAGMENT...
	local syms=$1 cfg=$2 bad=0 n=0 frag line sym val got
	shift 2
	for frag in "$@"; do
		while IFS= read -r line; do
			case "$line" in
			CONFIG_*=*)
				sym=${line%%=*} val=${line#*=}
				got=$(grep -E "^$sym=" "$cfg" | tail -1 | cut -d= -f2- || true)
				if [ "$got" != "$val" ]; then
					echo "lane $LANE: config: $sym wanted $val, got ${got:-<not set>} ($(fragname "$frag"))" >&2
					bad=1
				fi
				;;
			"# CONFIG_"*" is not set")
				sym=${line#\# }
				sym=${sym%% *}
				if grep -Eq "^$sym=" "$cfg"; then
					echo "lane $LANE: config: $sym wanted unset, got $(grep -E "^$sym=" "$cfg") ($(fragname "$frag"))" >&2
					bad=1
				fi
				;;
			*) continue ;;
			esac
			n=$((n + 1))
			if ! grep -qx "$sym" "$syms"; then
				echo "lane $LANE: config: $sym does not exist in this kernel's Kconfig ($(fragname "$frag"))" >&2
				bad=1
			fi
		done <"$frag"
	done
	[ $bad -eq 0 ] || die "$(fragname "$@" | xargs) not fully applied (see above)"
	say "config check: all $n options of $(fragname "$@" | xargs) exist and are applied"
}

case "$LANE" in
debug) debug_lane ;;
debug-latest | kcsan) latest_src_lane ;;
source) source_main ;;
*) debian_lane ;;
esac
exit
}
