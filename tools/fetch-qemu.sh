#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch Debian's source package of the pinned QEMU (qemu $QEMU_VERSION from
# $QEMU_SRC_SUITE), verify the sha256 of its files against
# tools/versions.mk and unpack it into the cache.  Only this one source
# package is taken, with an apt state of its own: the system's sources are
# left alone.
#
# With the .dsc and the Debian tarball, the tree is unpacked with
# dpkg-source (Debian's patches applied).  The mirror this workbench
# reaches serves the orig tarball but answers 404 for the .dsc and the
# Debian tarball of this version; then the tree is the verified orig
# tarball alone, and a notice says so.  SOURCE in the tree's directory
# lists the files used, with their sha256: tools/build-qemu.sh keys its
# cache with it.
#
# Prints the path of the unpacked source tree.

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.mk
. "$here/versions.mk"
. "$here/lib.sh"

ver=${QEMU_VERSION#*:}   # no epoch in file names
upstream=${ver%-*}       # 10.0.2+ds
dl=$KCP_CACHE/download/qemu
dsc=$dl/qemu_$ver.dsc
orig=$dl/qemu_$upstream.orig.tar.xz
debian=$dl/qemu_$ver.debian.tar.xz
src=$KCP_CACHE/src/qemu-$ver
mkdir -p "$dl"

if [ -e "$src/.unpacked" ]; then
	echo "$src"
	exit 0
fi

# verify FILE SHA256: true if FILE exists with that sha256.
verify() {
	[ -e "$1" ] && echo "$2  $1" | sha256sum --quiet -c - >/dev/null 2>&1
}

if ! verify "$orig" "$QEMU_ORIG_SHA256" || ! verify "$dsc" "$QEMU_DSC_SHA256" ||
	! verify "$debian" "$QEMU_DEBIAN_SHA256"; then
	step "download qemu $QEMU_VERSION source ($QEMU_SRC_SUITE)" >&2
	private_apt "$dl/apt" \
		"deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $QEMU_SRC_SUITE main"
	# apt checks each file against the signed index and keeps what it
	# got; a file the mirror does not serve fails the command, not the
	# others.
	# shellcheck disable=SC2154 # private_apt_opts: set by private_apt (lib.sh)
	(cd "$dl" && apt-get -qq "${private_apt_opts[@]}" source --download-only \
		"qemu=$QEMU_VERSION" >&2) || true
fi
verify "$orig" "$QEMU_ORIG_SHA256" ||
	die "no verified $orig (expected sha256 $QEMU_ORIG_SHA256)"
if [ -e "$dsc" ] && ! verify "$dsc" "$QEMU_DSC_SHA256"; then
	die "sha256 mismatch for $dsc (expected $QEMU_DSC_SHA256)"
fi
if [ -e "$debian" ] && ! verify "$debian" "$QEMU_DEBIAN_SHA256"; then
	die "sha256 mismatch for $debian (expected $QEMU_DEBIAN_SHA256)"
fi

rm -rf "$src" "$src.tmp"
mkdir -p "$(dirname "$src")"
if [ -e "$dsc" ] && [ -e "$debian" ]; then
	step "unpack qemu $ver (dpkg-source)" >&2
	dpkg-source --no-copy -x "$dsc" "$src.tmp" >&2
	used=("$dsc" "$orig" "$debian")
else
	step "unpack qemu $upstream orig tarball" >&2
	echo "notice: the mirror did not serve qemu_$ver.dsc and its Debian tarball:" \
		"building from the verified orig tarball alone, without Debian's patches" >&2
	mkdir -p "$src.tmp"
	tar -xJf "$orig" -C "$src.tmp" --strip-components=1 --no-same-owner
	used=("$orig")
fi
(cd "$dl" && sha256sum "${used[@]##*/}") >"$src.tmp/SOURCE"
mv "$src.tmp" "$src"
touch "$src/.unpacked"
echo "$src"
