#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The initramfs piece of the nested-qemu test, built once per key:
#   mknested.sh GEN_INIT_CPIO [QEMU]   prints the path of the piece (a cpio.gz)
# The piece holds the nested guest (tools/nested/payload.elf, a multiboot
# kernel built with clang-19 and ld.lld-19), the LD_PRELOAD library that
# shows QEMU no coalesced PIO (tools/nested/cap-off.c), and Debian's unmodified
# qemu-system-x86_64 with every library ldd lists and the firmware a
# `-machine pc` or `-machine q35` boot with -kernel reads, at the paths
# Debian installs them to.  With QEMU (make check-qemu: the patched build
# of tools/build-qemu.sh), that binary too, as
# /opt/kcp-qemu/bin/qemu-system-x86_64, with its libraries; it reads
# Debian's firmware (its --firmwarepath).
# The kernel unpacks it over the main initramfs (concatenated archives).
# The key hashes the payload's sources, this script, the QEMU package
# version, the toolchain's versions, the binaries and the libraries they
# resolve to.

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.mk"
. "$here/lib.sh"
gen_init_cpio=$1
patched=${2:-}

qemu=/usr/bin/qemu-system-x86_64
patched_path=/opt/kcp-qemu/bin/qemu-system-x86_64
# What `-machine pc|q35 -nodefaults -vga none -kernel ELF` opens besides
# libraries (strace): SeaBIOS, the vapic and multiboot option ROMs.
firmware=(/usr/share/seabios/bios-256k.bin /usr/share/qemu/kvmvapic.bin
	/usr/share/qemu/multiboot_dma.bin /usr/share/qemu/linuxboot_dma.bin)

# "soname path" for every library the dynamic loader resolves, loader too,
# for both binaries.
libs=$(for b in "$qemu" ${patched:+"$patched"}; do ldd "$b"; done |
	awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 } $1 ~ /^\/.*ld-linux/ { print $1, $1 }' | sort -u)
[ -n "$libs" ] || die "ldd $qemu listed no libraries"

key=$({
	cat "$here/nested/payload.c" "$here/nested/payload.ld" "$here/nested/cap-off.c" "$0"
	gcc --version | sed -n 1p
	echo "$QEMU_VERSION $LLVM_VERSION"
	clang-19 --version | sed -n 1p
	ld.lld-19 --version
	echo "$libs"
	sha256sum "$qemu" "${firmware[@]}" ${patched:+"$patched"}
} | sha256sum | cut -c1-16)
dir=$KCP_CACHE/nested/$key
if [ -e "$dir/nested.cpio.gz" ]; then
	echo "nested-qemu piece up to date ($dir)" >&2
	echo "$dir/nested.cpio.gz"
	exit 0
fi
rm -rf "$dir"
mkdir -p "$dir"

clang-19 --target=i386-unknown-none-elf -march=i686 -ffreestanding -fno-builtin \
	-fno-pic -fno-stack-protector -mgeneral-regs-only -O2 -Wall -Wextra -Werror \
	-c "$here/nested/payload.c" -o "$dir/payload.o"
ld.lld-19 -m elf_i386 -T "$here/nested/payload.ld" -nostdlib -static --build-id=none \
	-z max-page-size=4096 -z noexecstack -o "$dir/payload.elf" "$dir/payload.o"
# QEMU shown no coalesced PIO (the "off" run), against QEMU's own C library.
gcc -shared -fPIC -O2 -Wall -Werror -o "$dir/cap-off.so" "$here/nested/cap-off.c" -ldl

list=$dir/cpio.list
{
	for d in /usr /usr/bin /usr/share /usr/share/qemu /usr/share/seabios \
		/lib /lib/x86_64-linux-gnu /lib64 /tests; do
		echo "dir $d 755 0 0"
	done
	echo "file $qemu $qemu 755 0 0"
	if [ -n "$patched" ]; then
		for d in /opt /opt/kcp-qemu /opt/kcp-qemu/bin; do
			echo "dir $d 755 0 0"
		done
		echo "file $patched_path $patched 755 0 0"
	fi
	echo "file /tests/nested-payload.elf $dir/payload.elf 644 0 0"
	echo "file /tests/cap-off.so $dir/cap-off.so 755 0 0"
	for f in "${firmware[@]}"; do
		echo "file $f $(readlink -f "$f") 644 0 0"
	done
	echo "$libs" | while read -r name path; do
		case "$name" in
		/*) echo "file $name $(readlink -f "$path") 755 0 0" ;;
		*) echo "file /lib/x86_64-linux-gnu/$name $(readlink -f "$path") 755 0 0" ;;
		esac
	done
} >"$list"
"$gen_init_cpio" "$list" | gzip -1 >"$dir/nested.cpio.gz.tmp"
mv "$dir/nested.cpio.gz.tmp" "$dir/nested.cpio.gz"
echo "nested-qemu piece: $(wc -l <"$list") entries, $(du -h "$dir/nested.cpio.gz" | cut -f1) ($dir)" >&2
echo "$dir/nested.cpio.gz"
