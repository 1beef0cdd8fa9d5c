#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The workbench: set up, build and boot the patched kernel in QEMU.
#
#   workbench.sh check [TEST,...]   run the tests (all, or the named ones)
#   workbench.sh run                the main job
#   workbench.sh shell              boot to a shell in the guest
#   workbench.sh kdir               build the kernel, print its O= directory
#
# Environment: KCP_CACHE (build cache, default ~/.cache/kvm-coalesced-pio),
# KCP_TIMEOUT (seconds the guest may run, default 1500).

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/versions.mk"
. "$here/lib.sh"

job=${1:-check}
tests=${2:-}

step "toolchain (tools/setup.sh)"
"$here/setup.sh" --check >/dev/null 2>&1 || "$here/setup.sh"

step "kernel source and build (tools/build-kernel.sh)"
dir=$("$here/build-kernel.sh" | tail -1)
out=$dir/out
src=$dir/linux
if [ "$job" = kdir ]; then
	echo "$out"
	exit 0
fi
if [ "$job" = check ]; then
	step "lint (tools/lint.sh)"
	"$here/lint.sh" "$dir"
fi

# shellcheck disable=SC2046
kmake() { make -s $(kmake_vars) "$@"; }

stage=$dir/stage
rm -rf "$stage"
mkdir -p "$stage/lib/modules" "$stage/tests"

step "modules"
mods=(virt/lib/irqbypass.ko arch/x86/kvm/kvm.ko arch/x86/kvm/kvm-amd.ko)
for m in "${mods[@]}"; do
	llvm-strip-19 --strip-debug -o "$stage/lib/modules/$(basename "$m")" "$out/$m"
done
if [ -e "$top/rust/kvm_coalesced_pio.rs" ]; then
	log=$dir/module.log
	# Kbuild refuses an MO= build beside the products of an in-tree M=
	# build (make modules KDIR=...): remove those first.
	if compgen -G "$top/rust/*.o" >/dev/null || [ -e "$top/modules.order" ]; then
		echo "removing the products of an in-tree module build (make clean)"
		kmake -C "$out" M="$top" clean >/dev/null
	fi
	if ! kmake -C "$out" M="$top" MO="$dir/module" W=1 CLIPPY=1 modules >"$log" 2>&1; then
		tail -30 "$log"
		die "module build failed, full log: $log"
	fi
	if grep -E -q '(warning|error)(\[|:)' "$log"; then
		grep -E -A5 '(warning|error)(\[|:)' "$log" | head -40
		die "the W=1 CLIPPY=1 module build is not warning-free, full log: $log"
	fi
	llvm-strip-19 --strip-debug -o "$stage/lib/modules/kvm_coalesced_pio.ko" \
		"$dir/module/rust/kvm_coalesced_pio.ko"
fi

step "kselftests (static)"
ksft=$dir/kselftest
log=$dir/kselftest.log
if ! kmake -C "$src/tools/testing/selftests/kvm" OUTPUT="$ksft" \
	KHDR_INCLUDES="-isystem $out/usr/include" EXTRA_CFLAGS=-static \
	"$ksft/coalesced_io_test" >"$log" 2>&1; then
	tail -30 "$log"
	die "selftest build failed, full log: $log"
fi
cp "$ksft/coalesced_io_test" "$stage/tests/"
{
	echo "# name timeout command"
	echo "coalesced_io_test 300 /tests/coalesced_io_test"
	if [ -e "$stage/lib/modules/kvm_coalesced_pio.ko" ]; then
		echo "coalesced_io_test_without_module 300 /tests/without-module --expect-skip /tests/coalesced_io_test"
		echo "module_lifecycle 600 /tests/module-test 20"
		echo "module_churn 900 /tests/module-churn 100"
		echo "nested_qemu 900 /tests/nested-qemu"
	fi
} >"$stage/tests/list"
if [ -e "$top/selftests/Makefile" ]; then
	log=$dir/selftests.log
	if ! make -C "$top/selftests" KSRC="$src" KHDR="$out/usr/include" \
		OUTPUT="$dir/selftests" >"$log" 2>&1; then
		tail -30 "$log"
		die "selftests build failed, full log: $log"
	fi
	find "$dir/selftests" -maxdepth 1 -type f -perm -u+x -exec cp {} "$stage/tests/" \;
	grep -v '^#' "$top/selftests/list" >>"$stage/tests/list"
fi
for f in run-main module-test module-churn without-module nested-qemu; do
	cp "$here/guest/$f" "$stage/tests/"
done
cc -static -O2 -Wall -Werror -I"$out/usr/include" -o "$stage/tests/kvm-caps" "$here/guest/kvm-caps.c"

step "initramfs"
# Debian's QEMU, its libraries and firmware, and the nested guest of the
# nested_qemu test: a piece of its own, built once per key, unpacked over
# the main archive.
nested=$("$here/mknested.sh" "$out/usr/gen_init_cpio" | tail -1)
"$here/mkinitramfs.sh" "$out" "$stage" "$dir/initramfs.cpio.gz"
cat "$nested" >>"$dir/initramfs.cpio.gz"
echo "initramfs: $(du -h "$dir/initramfs.cpio.gz" | cut -f1), of which $(du -h "$nested" | cut -f1) the nested-qemu piece"

logdir=$KCP_CACHE/logs
mkdir -p "$logdir"
console=$logdir/$job-$(date +%Y%m%d-%H%M%S).log
append="console=ttyS0 panic=-1 kcp.job=$job"
[ -n "$tests" ] && append="$append kcp.tests=$tests"
# One TCG thread for both vCPUs: with multi-threaded TCG, nested guests
# under the emulated SVM triple-faulted now and then (Documentation/design.md).
qemu=(qemu-system-x86_64 -accel "tcg,thread=single" -cpu max -smp 2 -m 2G
	-display none -no-reboot -nic none
	-kernel "$out/arch/x86/boot/bzImage" -initrd "$dir/initramfs.cpio.gz"
	-append "$append")

if [ "$job" = shell ]; then
	step "boot to a shell (leave with 'poweroff -f', or Ctrl-A X)"
	exec "${qemu[@]}" -nographic
fi

step "boot the guest (QEMU TCG, timeout ${KCP_TIMEOUT:-1500}s, console log: $console)"
set +e
timeout -k 10 "${KCP_TIMEOUT:-1500}" "${qemu[@]}" -serial stdio -monitor none </dev/null |
	python3 "$here/guest-results.py" --follow "$console"
rc=("${PIPESTATUS[@]}")
set -e
step "guest finished"
if [ "${rc[0]}" != 0 ]; then
	echo "error: QEMU exited with status ${rc[0]}$([ "${rc[0]}" = 124 ] && echo ' (timeout)')" >&2
	[ "${rc[1]}" = 0 ] && exit 1
fi
exit "${rc[1]}"
