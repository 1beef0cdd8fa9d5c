#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the patched QEMU of make check-qemu, once per key:
#   build-qemu.sh        prints the directory that holds qemu-system-x86_64
#   build-qemu.sh --tcg  the same for a QEMU that runs the test VM: TCG,
#                        with tools/qemu-tcg/*.patch (the fix of SVM event
#                        injection, Documentation/design.md "Known"), for
#                        KCP_TEST_QEMU; built by make test-qemu
# The source is Debian's (tools/fetch-qemu.sh), with tools/qemu/*.patch
# applied in order.  The configuration is the least that the nested test
# needs: x86_64-softmmu with KVM and no TCG, the pc and q35 machines and
# what they select (tools/qemu/kcp.mak), the log trace backend, no
# documentation, tools, user mode, GUI or optional library.  Firmware
# comes from Debian's packages (--firmwarepath, as Debian's QEMU has it).
# The key hashes the source's checksums, the patches, the device list, the
# configure flags, this script and the build dependencies' versions; a
# second run with nothing changed builds nothing.

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.mk
. "$here/versions.mk"
. "$here/lib.sh"

flavor=nested
if [ "${1:-}" = --tcg ]; then
	flavor=tcg
elif [ $# -gt 0 ]; then
	die "usage: build-qemu.sh [--tcg]"
fi

src=$("$here/fetch-qemu.sh" | tail -1)

flags=(
	--target-list=x86_64-softmmu
	--firmwarepath=/usr/share/qemu:/usr/share/seabios
	--python=/usr/bin/python3
	--disable-download
	--without-default-features
	--without-default-devices
	--with-devices-x86_64=kcp
	--enable-trace-backends=log
	--disable-debug-info
	--disable-install-blobs
)
if [ $flavor = nested ]; then
	# installed in the test VM as /opt/kcp-qemu/bin (tools/mknested.sh)
	flags+=(--prefix=/opt/kcp-qemu --enable-kvm --disable-tcg)
	patches=("$here"/qemu/*.patch)
else
	# run where it is built: firmware paths that do not follow the binary
	flags+=(--prefix=/opt/kcp-qemu-tcg --disable-relocatable --disable-kvm --enable-tcg)
	patches=("$here"/qemu-tcg/*.patch)
fi
deps=(meson python3-pycotap ninja-build libglib2.0-dev zlib1g-dev gcc-12 libc6-dev binutils python3 pkgconf)

key=$({
	cat "$src/SOURCE" "$0" "$here/qemu/kcp.mak" "${patches[@]}"
	echo "${flags[*]}"
	dpkg-query -W -f='${Package}=${Version}\n' "${deps[@]}"
} | sha256sum | cut -c1-16)
dir=$KCP_CACHE/qemu/$key
if [ -x "$dir/qemu-system-x86_64" ]; then
	echo "patched QEMU ($flavor) up to date ($dir)" >&2
	echo "$dir"
	exit 0
fi

step "build the patched QEMU ($flavor, ${#patches[@]} patch(es); log: $dir/build.log)" >&2
rm -rf "$dir"
mkdir -p "$dir"
log=$dir/build.log
t0=$(date +%s)
cp -a "$src" "$dir/src"
for p in "${patches[@]}"; do
	echo "applying $(basename "$p")" >>"$log"
	patch -d "$dir/src" -p1 -s --no-backup-if-mismatch <"$p" >>"$log" 2>&1 ||
		die "$(basename "$p") does not apply, log: $log"
done
cp "$here/qemu/kcp.mak" "$dir/src/configs/devices/x86_64-softmmu/kcp.mak"
# Debian strips the edk2 blobs from its orig tarball and keeps meson from
# unpacking them (debian/patches/skip-unpack-edk2-blobs.patch); the same
# here, should the Debian tarball be missing (a no-op where it was applied).
sed -i 's/^if unpack_edk2_blobs$/if unpack_edk2_blobs and false/' \
	"$dir/src/pc-bios/meson.build"
mkdir "$dir/build"
if ! (cd "$dir/build" && ../src/configure "${flags[@]}" &&
	ninja -j"$(nproc)" qemu-system-x86_64) >>"$log" 2>&1; then
	tail -30 "$log"
	die "QEMU build failed, log: $log"
fi
strip -o "$dir/qemu-system-x86_64.tmp" "$dir/build/qemu-system-x86_64"
mv "$dir/qemu-system-x86_64.tmp" "$dir/qemu-system-x86_64"
echo "${flags[*]}" >"$dir/configure-flags"
echo "patched QEMU ($flavor) built in $(($(date +%s) - t0)) s: $dir/qemu-system-x86_64" |
	tee -a "$log" >&2
echo "$dir"
