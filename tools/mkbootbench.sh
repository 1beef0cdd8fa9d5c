#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The initramfs piece of tools/guest/boot-bench, built once per key:
#   mkbootbench.sh GEN_INIT_CPIO   prints the path of the piece (a cpio.gz)
# The piece holds, under /tests/bootbench/, Debian bookworm's distribution
# kernel (DEBIAN_GUEST_KERNEL_PKG, its own vmlinuz, unmodified, the .deb's
# sha256 checked), the nested guest's initramfs (/init is
# tools/bootbench/init.c, with /dev/console and /dev/port), the LD_PRELOAD
# library tools/bootbench/exits.c, built against the C library of
# Debian's QEMU, and the kernel's name and version.  The workbench unpacks
# it over the test initramfs (with the nested-qemu piece, which has QEMU)
# when a selected test runs /tests/boot-bench.

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.mk"
. "$here/lib.sh"
gen_init_cpio=$1

dl=$KCP_CACHE/download
deb=$dl/${DEBIAN_GUEST_KERNEL_PKG}_${DEBIAN_GUEST_KERNEL_VERSION}_amd64.deb
verify() {
	echo "$DEBIAN_GUEST_KERNEL_SHA256  $1" | sha256sum --quiet -c -
}
mkdir -p "$dl"
if [ ! -e "$deb" ] || ! verify "$deb" 2>/dev/null; then
	step "download $DEBIAN_GUEST_KERNEL_PKG $DEBIAN_GUEST_KERNEL_VERSION ($DEBIAN_GUEST_KERNEL_SUITE)" >&2
	private_apt "$dl/apt-guest" \
		"deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security $DEBIAN_GUEST_KERNEL_SUITE main"
	# shellcheck disable=SC2154 # private_apt_opts: set by private_apt (lib.sh)
	(cd "$dl" && apt-get -qq "${private_apt_opts[@]}" download \
		"$DEBIAN_GUEST_KERNEL_PKG=$DEBIAN_GUEST_KERNEL_VERSION" >&2)
	verify "$deb" || die "sha256 mismatch for $deb (expected $DEBIAN_GUEST_KERNEL_SHA256)"
fi

# sed -n 1p, not head -1: under pipefail, a writer that head left early
# dies of SIGPIPE (ldd --version writes several times), failing the key.
key=$({
	cat "$here/bootbench/init.c" "$here/bootbench/exits.c" "$0"
	echo "$DEBIAN_GUEST_KERNEL_SHA256"
	gcc --version | sed -n 1p
	ldd --version | sed -n 1p
} | sha256sum | cut -c1-16)
dir=$KCP_CACHE/bootbench/$key
if [ -e "$dir/bootbench.cpio.gz" ]; then
	echo "boot-bench piece up to date ($dir)" >&2
	echo "$dir/bootbench.cpio.gz"
	exit 0
fi
rm -rf "$dir"
mkdir -p "$dir"

vmlinuz=./boot/vmlinuz-${DEBIAN_GUEST_KERNEL_PKG#linux-image-}
dpkg-deb --fsys-tarfile "$deb" | tar -xO "$vmlinuz" >"$dir/vmlinuz"
[ -s "$dir/vmlinuz" ] || die "no $vmlinuz in $deb"
gcc -static -nostdlib -ffreestanding -fno-pic -no-pie -fno-stack-protector -O2 \
	-Wall -Wextra -Werror -o "$dir/init" "$here/bootbench/init.c"
printf '%s\n' "dir /dev 755 0 0" "nod /dev/console 600 0 0 c 5 1" \
	"nod /dev/port 600 0 0 c 1 4" "file /init $dir/init 755 0 0" >"$dir/guest.list"
"$gen_init_cpio" -t 0 "$dir/guest.list" | gzip -9 -n >"$dir/initrd.cpio.gz"
gcc -shared -fPIC -O2 -Wall -Wextra -Werror -o "$dir/exits.so" "$here/bootbench/exits.c" -ldl
echo "$DEBIAN_GUEST_KERNEL_PKG $DEBIAN_GUEST_KERNEL_VERSION" >"$dir/version"

printf '%s\n' "dir /tests 755 0 0" "dir /tests/bootbench 755 0 0" \
	"file /tests/bootbench/vmlinuz $dir/vmlinuz 644 0 0" \
	"file /tests/bootbench/initrd.cpio.gz $dir/initrd.cpio.gz 644 0 0" \
	"file /tests/bootbench/exits.so $dir/exits.so 755 0 0" \
	"file /tests/bootbench/version $dir/version 644 0 0" >"$dir/cpio.list"
"$gen_init_cpio" "$dir/cpio.list" | gzip -1 >"$dir/bootbench.cpio.gz.tmp"
mv "$dir/bootbench.cpio.gz.tmp" "$dir/bootbench.cpio.gz"
echo "boot-bench piece: $(du -h "$dir/bootbench.cpio.gz" | cut -f1) ($dir)" >&2
echo "$dir/bootbench.cpio.gz"
