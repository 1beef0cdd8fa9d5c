#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch Debian's linux-source-7.3 package (the pinned Linux 7.3 tree),
# verify its committed sha256 and unpack the tarball into the cache.
# Only this one package is taken from trixie-backports, with an apt state
# of its own: the system's sources are left alone.
#
# Prints the path of the pristine source tree.

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.mk"
. "$here/lib.sh"

dl=$KCP_CACHE/download
src=$KCP_CACHE/src/linux-$KERNEL_DEB_VERSION
deb=$dl/${KERNEL_DEB_PKG}_${KERNEL_DEB_VERSION}_all.deb
mkdir -p "$dl"

if [ -e "$src/.unpacked" ]; then
	echo "$src"
	exit 0
fi

verify() {
	echo "$KERNEL_DEB_SHA256  $1" | sha256sum --quiet -c -
}

if [ ! -e "$deb" ] || ! verify "$deb" 2>/dev/null; then
	step "download $KERNEL_DEB_PKG $KERNEL_DEB_VERSION ($KERNEL_DEB_SUITE)" >&2
	private_apt "$dl/apt" \
		"deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $KERNEL_DEB_SUITE main"
	# shellcheck disable=SC2154 # private_apt_opts: set by private_apt (lib.sh)
	(cd "$dl" && apt-get -qq "${private_apt_opts[@]}" download \
		"$KERNEL_DEB_PKG=$KERNEL_DEB_VERSION" >&2)
	verify "$deb" || die "sha256 mismatch for $deb (expected $KERNEL_DEB_SHA256)"
fi

step "unpack $KERNEL_TARBALL" >&2
rm -rf "$src" "$src.tmp"
mkdir -p "$src.tmp"
dpkg-deb --fsys-tarfile "$deb" |
	tar -xO --wildcards "*/$KERNEL_TARBALL" |
	tar -xJ -C "$src.tmp" --strip-components=1
mv "$src.tmp" "$src"
touch "$src/.unpacked"
echo "$src"
