#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The workbench: set up, build and boot the patched kernel in QEMU.
#
#   workbench.sh check [TEST,...]   run the tests (all, or the named ones)
#   workbench.sh run                the main job
#   workbench.sh shell              boot to a shell in the guest
#   workbench.sh kdir               build the kernel, print its O= directory
#                                   (alone on stdout; progress on stderr)
#
# The tests are those of tools/tests.list (tools/tests.sh reads it).
# Environment: KCP_CACHE (build cache, default ~/.cache/kvm-coalesced-pio),
# KCP_TIMEOUT (seconds the guest may run, default 1500).

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/versions.mk"
. "$here/lib.sh"

job=${1:-check}
tests=${2:-}
case "$job" in
check | shell) list_job=check ;;
run) list_job=run ;;
kdir) exec 3>&1 1>&2 ;;
*) die "usage: workbench.sh check [TEST,...] | run | shell | kdir" ;;
esac
[ -z "$tests" ] || [ "$job" = check ] || die "only make check takes T="

# The selection first: a name that matches no test fails here, in
# seconds, before anything is installed or built.
if [ "$job" != kdir ]; then
	selection=$("$here/tests.sh" select "$list_job" "$tests")
	expect=$(cut -d' ' -f1 <<<"$selection" | paste -sd, -)
	[ -z "$tests" ] || echo "selected: ${expect//,/ }"
fi

step "toolchain (tools/setup.sh)"
"$here/setup.sh" --check >/dev/null 2>&1 || "$here/setup.sh"

if [ "$job" = check ]; then
	step "the workbench's own tests (make test-tools)"
	"$PYTHON" -m unittest discover -s "$here/tests" -q
fi

step "kernel source and build (tools/build-kernel.sh)"
dir=$("$here/build-kernel.sh" | tail -1)
out=$dir/out
src=$dir/linux
if [ "$job" = kdir ]; then
	echo "$out" >&3
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
if [ -e "$top/selftests/Makefile" ]; then
	log=$dir/selftests.log
	if ! make -C "$top/selftests" KSRC="$src" KHDR="$out/usr/include" \
		OUTPUT="$dir/selftests" >"$log" 2>&1; then
		tail -30 "$log"
		die "selftests build failed, full log: $log"
	fi
	find "$dir/selftests" -maxdepth 1 -type f -perm -u+x -exec cp {} "$stage/tests/" \;
fi
# The guest's own programs: scripts as they are, C built static.
for f in "$here"/guest/*; do
	case "$f" in
	*/init) ;;
	*.c) cc -static -O2 -Wall -Werror -I"$out/usr/include" \
		-o "$stage/tests/$(basename "$f" .c)" "$f" ;;
	*) if [ -x "$f" ]; then cp "$f" "$stage/tests/"; fi ;;
	esac
done
# The tests of this run (tools/tests.list), and everything they run.
echo "$selection" >"$stage/tests/list"
while read -r name _ _ cmd; do
	for w in $cmd; do
		case "$w" in
		/tests/*) [ -e "$stage$w" ] ||
			die "test $name runs $w, which is not in the initramfs (README, 'Adding a test')" ;;
		esac
	done
done <<<"$selection"

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
if [ "$job" = run ]; then
	# The main job's figures: with -icount shift=0 the guest's TSC counts
	# the instructions QEMU executes (one vCPU), so the demo's table
	# repeats from run to run, as make bench's (README, "The main job").
	# Nothing from the host may reach the guest either: no RDRAND or
	# RDSEED (host randomness), and a clock that starts at a fixed date
	# and follows the instruction count.
	accel=(-accel tcg -icount "shift=0,align=off,sleep=off" -smp 1
		-cpu "max,-rdrand,-rdseed" -rtc "base=2026-01-01T00:00:00,clock=vm")
else
	# One TCG thread for both vCPUs: with multi-threaded TCG, nested guests
	# under the emulated SVM triple-faulted now and then (Documentation/design.md).
	accel=(-accel "tcg,thread=single" -smp 2 -cpu max)
fi
qemu=(qemu-system-x86_64 "${accel[@]}" -m 2G
	-display none -no-reboot -nic none
	-kernel "$out/arch/x86/boot/bzImage" -initrd "$dir/initramfs.cpio.gz"
	-append "$append")

if [ "$job" = shell ]; then
	step "boot to a shell (leave with 'poweroff -f', or Ctrl-A X)"
	exec "${qemu[@]}" -nographic
fi

step "boot the guest (QEMU TCG, timeout ${KCP_TIMEOUT:-1500}s, console log: $console)"
# QEMU writes the console to the log file itself and the parser follows
# the file: no reader on a pipe can hold the guest's UART up, and change
# what the guest executes (make run's figures).
: >"$console"
set +e
timeout -k 10 "${KCP_TIMEOUT:-1500}" "${qemu[@]}" -serial "file:$console" -monitor none </dev/null &
qpid=$!
trap 'kill "$qpid" 2>/dev/null' EXIT
tail -n +1 -f --pid="$qpid" "$console" |
	"$PYTHON" "$here/guest-results.py" --live "$console" --expect "$expect"
prc=${PIPESTATUS[1]}
wait "$qpid"
qrc=$?
trap - EXIT
set -e
step "guest finished"
if [ "$qrc" != 0 ]; then
	echo "error: QEMU exited with status $qrc$([ "$qrc" = 124 ] && echo ' (timeout)')" >&2
	[ "$prc" = 0 ] && exit 1
fi
exit "$prc"
