#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The workbench: set up, build and boot the patched kernel in QEMU.
#
#   workbench.sh check [TEST,...]   run the tests (all, or the named ones):
#                                   on the test kernel (the series with the
#                                   Rust provider, job "check"), then on the
#                                   same series configured without it (KVM's
#                                   C code, job "c")
#   workbench.sh pristine [TEST,...]
#                                   the selftests against the unpatched tree
#                                   (job "pristine", make check-pristine)
#   workbench.sh qemu [TEST,...]    build the patched QEMU of tools/qemu/ and
#                                   run the nested-qemu tests with it and
#                                   with Debian's, on pc and q35 (job
#                                   "qemu", make check-qemu)
#   workbench.sh run                the main job
#   workbench.sh shell              boot to a shell in the guest
#   workbench.sh kdir               build the kernel, print its O= directory
#                                   (alone on stdout; progress on stderr)
#
# The tests are those of tools/tests.list (tools/tests.sh reads it).
# Environment: KCP_CACHE (build cache, default ~/.cache/kvm-coalesced-pio),
# KCP_TIMEOUT (seconds each guest may run, default 1500), KCP_WATCHDOG
# (seconds of a silent console after which a guest counts as hung and its
# registers are dumped, default 300), KCP_TCG (QEMU's
# TCG threading of the test VM: single, the default, or multi),
# KCP_TESTS_LIST (another test registry, for a test run many times),
# KCP_TEST_QEMU (the test VM's QEMU binary; default: Debian's source with
# tools/qemu-tcg/, built by tools/build-qemu.sh --tcg).

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/versions.mk"
. "$here/lib.sh"

job=${1:-check}
tests=${2:-}
case "$job" in
check) jobs=(check check2 c) ;;
pristine) jobs=(pristine) ;;
qemu) jobs=(qemu) ;;
run | shell) jobs=(run) ;;
kdir) jobs=(); exec 3>&1 1>&2 ;;
*) die "usage: workbench.sh check [TEST,...] | pristine [TEST,...] | qemu [TEST,...] | run | shell | kdir" ;;
esac
case "$job" in
check | pristine | qemu) ;;
*) [ -z "$tests" ] || die "only make check, check-pristine and check-qemu take T=" ;;
esac
# What the guest's /init runs: the qemu job's tests as a check.
guest_job=$job
[ "$job" = qemu ] && guest_job=check

# The selection first: a name that matches no test fails here, in
# seconds, before anything is installed or built.
declare -A selection=() expect=()
if [ ${#jobs[@]} != 0 ]; then
	[ -z "$tests" ] || "$here/tests.sh" check "$(IFS=,; echo "${jobs[*]}")" "$tests"
	for j in "${jobs[@]}"; do
		selection[$j]=$("$here/tests.sh" select "$j" "$tests")
		expect[$j]=$(cut -d' ' -f1 <<<"${selection[$j]}" | paste -sd, -)
		[ -z "$tests" ] || echo "selected for $j: ${expect[$j]//,/ }"
	done
fi
# A job whose selection has nothing to run (only KUnit suites) is skipped
# when T= was given.
wanted() {
	[ -n "${selection[$1]}" ] || return 1
	[ -z "$tests" ] || grep -qv ' - -$' <<<"${selection[$1]}"
}

# The test VM's QEMU is built here too (below), so every job needs QEMU's
# build dependencies; kdir builds only the kernel.
setup_args=(--qemu)
[ "$job" = kdir ] && setup_args=()
step "toolchain (tools/setup.sh)"
"$here/setup.sh" --check "${setup_args[@]}" >/dev/null 2>&1 || "$here/setup.sh" "${setup_args[@]}"

if [ "$job" = check ]; then
	step "the workbench's own tests (make test-tools)"
	"$PYTHON" -m unittest discover -s "$here/tests" -q
fi

# shellcheck disable=SC2046
kmake() { make -s $(kmake_vars) "$@"; }

# The kernels.  check, run, shell: the series with the Rust provider
# (tools/kvm-test.config).  c: the same tree built in out-c with
# tools/kvm-test-c.config on top.  pristine: the unpatched tree.
if [ "$job" = pristine ]; then
	# The selftests are built with the patched tree's UAPI headers (a
	# superset): what the pristine kernel lacks, they skip.
	step "kernel: the series, for its UAPI headers and selftest library (tools/build-kernel.sh)"
	series_dir=$("$here/build-kernel.sh" | tail -1)
	khdr=$series_dir/out/usr/include
	ksrc=$series_dir/linux
	step "kernel: the pristine tree (tools/build-kernel.sh)"
	dir=$(KCP_SERIES=none KCP_FLAVOR=pristine \
		KCP_CONFIG="$here/kvm-test.config $here/kvm-test-c.config" \
		"$here/build-kernel.sh" | tail -1)
else
	step "kernel: the series with the Rust provider (tools/build-kernel.sh)"
	dir=$("$here/build-kernel.sh" | tail -1)
fi
src=$dir/linux
out=$dir/out
khdr=${khdr:-$out/usr/include}
# The repository's selftests build on the series' selftest library (its
# kvm_util.h helpers), also for the pristine kernel.
ksrc=${ksrc:-$src}
if [ "$job" = kdir ]; then
	echo "$out" >&3
	exit 0
fi
if [ "$job" = check ] && wanted c; then
	step "kernel: the series without the provider, KVM's C code (tools/build-kernel.sh)"
	KCP_OUT=out-c KCP_CONFIG="$here/kvm-test.config $here/kvm-test-c.config" \
		"$here/build-kernel.sh" >/dev/null
fi
# The test VM's QEMU: Debian's source with the fix of tools/qemu-tcg/
# (QEMU's TCG delivered an interrupt that KVM injects twice, the nested
# guests' hang of Documentation/design.md), unless KCP_TEST_QEMU names
# another (KCP_TEST_QEMU=qemu-system-x86_64: Debian's own).
if [ -z "${KCP_TEST_QEMU:-}" ]; then
	step "the test VM's QEMU (tools/build-qemu.sh --tcg)"
	KCP_TEST_QEMU=$("$here/build-qemu.sh" --tcg | tail -1)/qemu-system-x86_64
fi
# make check-qemu: the patched QEMU, built from Debian's source.
patched_qemu=
if [ "$job" = qemu ]; then
	step "the patched QEMU (tools/build-qemu.sh)"
	patched_qemu=$("$here/build-qemu.sh" | tail -1)/qemu-system-x86_64
fi
# The lint runs beside the builds of the programs; its report comes before
# the guests boot, which a failed lint stops.
lint_pid=
if [ "${KCP_NO_LINT:-0}" = 1 ]; then
	step "lint skipped (KCP_NO_LINT=1: tools/mutants.sh)"
elif [ "$job" = check ] || [ "$job" = qemu ]; then
	step "lint (tools/lint.sh), in the background"
	lint_log=$dir/lint.log
	"$here/lint.sh" "$dir" ${patched_qemu:+"$("$here/fetch-qemu.sh" | tail -1)"} >"$lint_log" 2>&1 &
	lint_pid=$!
fi

# modules OUT STAGE: the kernel's modules, installed as a system has them,
# so that KVM's request_module() finds the provider (the guest runs depmod).
modules() {
	kmake -C "$src" O="$1" INSTALL_MOD_PATH="$2" INSTALL_MOD_STRIP=1 \
		modules_install >"$dir/modules_install.log" 2>&1 ||
		{ tail -20 "$dir/modules_install.log"; die "modules_install failed"; }
}

# module_build NAME SRC_DIR: an out-of-tree build with W=1 CLIPPY=1 against
# the test kernel, which must be warning-free; the .ko in $ko.
module_build() {
	local name=$1 m=$2 log=$dir/module-$1.log
	# Kbuild refuses an MO= build beside the products of an in-tree M=
	# build (make modules KDIR=...): remove those first.
	if compgen -G "$m/*.o" >/dev/null || compgen -G "$m/rust/*.o" >/dev/null ||
		[ -e "$m/modules.order" ]; then
		echo "removing the products of an in-tree module build in $m (make clean)" >&2
		kmake -C "$out" M="$m" clean >/dev/null
	fi
	if ! kmake -C "$out" M="$m" MO="$dir/module-$name" W=1 CLIPPY=1 modules >"$log" 2>&1; then
		tail -30 "$log" >&2
		die "$name module build failed, full log: $log"
	fi
	if grep -E -q '(warning|error)(\[|:)' "$log"; then
		grep -E -A5 '(warning|error)(\[|:)' "$log" | head -40 >&2
		die "the W=1 CLIPPY=1 build of $name is not warning-free, full log: $log"
	fi
	ko=$(find "$dir/module-$name" -name kvm_coalesced_pio.ko)
}

step "programs: kselftests, selftests, the guest's tools"
# The series' selftests, built and installed by the kernel's kselftest
# Makefile as CI systems do, restricted to the tests of coalesced I/O;
# static, since the initramfs has no C library.
ksft_progs="coalesced_io_test coalesced_io_overlap_test x86/coalesced_pio_test"
ksft_install=$dir/kselftest-install
if [ "$job" != pristine ]; then
	log=$dir/kselftest.log
	rm -rf "$ksft_install"
	if ! kmake -C "$src/tools/testing/selftests" O="$dir/kselftest" TARGETS=kvm \
		TEST_GEN_PROGS_x86="$(echo $ksft_progs)" \
		KHDR_INCLUDES="-isystem $out/usr/include" EXTRA_CFLAGS=-static \
		INSTALL_PATH="$ksft_install" install >"$log" 2>&1; then
		tail -30 "$log"
		die "kselftest build failed, full log: $log"
	fi
fi
# Upstream's coalesced_io_test, unmodified, from the tree under test.
ksft=$dir/kselftest-upstream
log=$dir/kselftest-upstream.log
if ! kmake -C "$src/tools/testing/selftests/kvm" OUTPUT="$ksft" \
	KHDR_INCLUDES="-isystem $out/usr/include" EXTRA_CFLAGS=-static \
	"$ksft/coalesced_io_test" >"$log" 2>&1; then
	tail -30 "$log"
	die "selftest build failed, full log: $log"
fi
# The repository's selftests (what the series adds, built against any
# tree) and the demo.
log=$dir/selftests.log
if ! make -C "$top/selftests" KSRC="$ksrc" KHDR="$khdr" \
	OUTPUT="$dir/selftests" >"$log" 2>&1; then
	tail -30 "$log"
	die "selftests build failed, full log: $log"
fi

# stage KIND OUT STAGE: the initramfs contents for a job.
stage() {
	local kind=$1 o=$2 s=$3 f
	rm -rf "$s"
	mkdir -p "$s/lib/modules" "$s/tests"
	modules "$o" "$s"
	if [ "$kind" = check ] || [ "$kind" = check2 ] || [ "$kind" = qemu ]; then
		mkdir -p "$s/lib/modules/extra" "$s/lib/modules/faulty"
		module_build provider "$top"
		llvm-strip-19 --strip-debug -o "$s/lib/modules/extra/kvm_coalesced_pio.ko" "$ko"
		module_build faulty "$top/rust/faulty"
		llvm-strip-19 --strip-debug -o "$s/lib/modules/faulty/kvm_coalesced_pio.ko" "$ko"
	fi
	[ "$kind" = pristine ] || cp -a "$ksft_install" "$s/kselftest"
	cp "$ksft/coalesced_io_test" "$s/tests/"
	find "$dir/selftests" -maxdepth 1 -type f -perm -u+x -exec cp {} "$s/tests/" \;
	# The guest's own programs: scripts as they are, C built static.
	for f in "$here"/guest/*; do
		case "$f" in
		*/init) ;;
		*.c) cc -static -O2 -Wall -Werror -I"$khdr" \
			-o "$s/tests/$(basename "$f" .c)" "$f" ;;
		*) if [ -x "$f" ]; then cp "$f" "$s/tests/"; fi ;;
		esac
	done
	# The tests of this run (tools/tests.list), and everything they run.
	echo "${selection[$kind]}" >"$s/tests/list"
	while read -r name _ _ cmd; do
		for w in $cmd; do
			case "$w" in
			/tests/*) [ -e "$s$w" ] ||
				die "test $name runs $w, which is not in the initramfs (README, 'Adding a test')" ;;
			esac
		done
	done <<<"${selection[$kind]}"
}

# initramfs KIND STAGE OUTPUT
initramfs() {
	"$here/mkinitramfs.sh" "$out" "$2" "$3"
	if [ "$1" = check ] || [ "$1" = check2 ] || [ "$1" = run ] || [ "$1" = qemu ]; then
		# Debian's QEMU, its libraries and firmware, and the nested guest
		# of the nested_qemu test (and for make check-qemu the patched
		# QEMU): a piece of its own, built once per key, unpacked over the
		# main archive.
		nested=$("$here/mknested.sh" "$out/usr/gen_init_cpio" ${patched_qemu:+"$patched_qemu"} | tail -1)
		cat "$nested" >>"$3"
		echo "initramfs for $1: $(du -h "$3" | cut -f1), of which $(du -h "$nested" | cut -f1) the nested-qemu piece"
		# A test that boots Debian's kernel nested (tools/guest/boot-bench)
		# gets it, with the guest's init and the exit counter.
		if grep -q ' /tests/boot-bench' <<<"${selection[$1]}"; then
			piece=$("$here/mkbootbench.sh" "$out/usr/gen_init_cpio" | tail -1)
			cat "$piece" >>"$3"
			echo "initramfs for $1: $(du -h "$piece" | cut -f1) more, the boot-bench piece"
		fi
	else
		echo "initramfs for $1: $(du -h "$3" | cut -f1)"
	fi
}

logdir=$KCP_CACHE/logs
mkdir -p "$logdir"

# boot KIND OUT INITRAMFS: boot a guest and judge its console.
boot() {
	local kind=$1 o=$2 initrd=$3 console append qpid prc qrc
	console=$logdir/$kind-$(date +%Y%m%d-%H%M%S).log
	# no5lvl: four-level paging.  With five (QEMU's -cpu max has LA57),
	# KASAN reported a wild access in an interrupt now and then at boot:
	# identify_cpu() clears the boot CPU's capabilities before it reads
	# them again, pgtable_l5_enabled() reads LA57 from there until the
	# alternatives are patched, so for that moment KASAN takes a direct-map
	# address (0xff11...) for one without shadow.  An upstream race, in
	# either configuration; the tests need no five-level paging.
	append="console=ttyS0 panic=-1 no5lvl watchdog_thresh=30 rcupdate.rcu_cpu_stall_timeout=60"
	append="$append softlockup_all_cpu_backtrace=1 kcp.job=$guest_job"
	# KCP_APPEND: more kernel parameters, e.g. kvm_amd.vgif=0 (README,
	# "Chasing a rare failure").
	append="$append${KCP_APPEND:+ $KCP_APPEND}"
	if [ "$job" = run ]; then
		# The main job's figures: with -icount shift=0 the guest's TSC
		# counts the instructions QEMU executes (one vCPU), so the demo's
		# table repeats from run to run, as make bench's (README, "The
		# main job").  Nothing from the host may reach the guest either:
		# no RDRAND or RDSEED (host randomness), and a clock that starts
		# at a fixed date and follows the instruction count.
		accel=(-accel tcg -icount "shift=0,align=off,sleep=off" -smp 1
			-cpu "max,-rdrand,-rdseed" -rtc "base=2026-01-01T00:00:00,clock=vm")
	else
		# One TCG thread for both vCPUs: with multi-threaded TCG, nested
		# guests under the emulated SVM triple-faulted now and then
		# (Documentation/design.md); KCP_TCG=multi to chase that.
		accel=(-accel "tcg,thread=${KCP_TCG:-single}" -smp 2 -cpu max)
	fi
	qemu=("$KCP_TEST_QEMU" "${accel[@]}" -m 2G
		-display none -no-reboot -nic none
		-kernel "$o/arch/x86/boot/bzImage" -initrd "$initrd"
		-append "$append")
	if [ "$job" = shell ]; then
		step "boot to a shell (leave with 'poweroff -f', or Ctrl-A X)"
		exec "${qemu[@]}" -nographic
	fi
	step "boot the $kind guest (QEMU TCG, timeout ${KCP_TIMEOUT:-1500}s, console log: $console)"
	# QEMU writes the console to the log file itself and the parser
	# follows the file: no reader on a pipe can hold the guest's UART up,
	# and change what the guest executes (make run's figures).
	: >"$console"
	mon=$logdir/$kind-monitor.sock
	rm -f "$mon"
	set +e
	timeout -k 10 "${KCP_TIMEOUT:-1500}" "${qemu[@]}" -serial "file:$console" \
		-monitor "unix:$mon,server=on,wait=off" </dev/null &
	qpid=$!
	# A silent console for KCP_WATCHDOG seconds (default 300) is a hang:
	# the watchdog dumps the vCPUs' registers (QEMU's monitor, symbols from
	# System.map) and stops QEMU, so that the run fails in minutes.
	"$PYTHON" "$here/watchdog.py" --console "$console" --monitor "$mon" \
		--qemu-pid "$qpid" --system-map "$o/System.map" --limit "${KCP_WATCHDOG:-300}" \
		--report "${console%.log}.hang" &
	wpid=$!
	tail -n +1 -f --pid="$qpid" "$console" |
		"$PYTHON" "$here/guest-results.py" --live "$console" --expect "${expect[$kind]}"
	prc=${PIPESTATUS[1]}
	wait "$qpid"
	qrc=$?
	wait "$wpid"
	wrc=$?
	set -e
	if [ "$wrc" != 0 ]; then
		echo "error: the $kind guest hung: its console was silent for ${KCP_WATCHDOG:-300} s (registers above, also in ${console%.log}.hang)" >&2
		[ "$prc" = 0 ] && prc=1
	fi
	step "the $kind guest finished"
	if [ "$qrc" != 0 ]; then
		echo "error: QEMU exited with status $qrc$([ "$qrc" = 124 ] && echo ' (timeout)')" >&2
		[ "$prc" = 0 ] && return 1
	fi
	return "$prc"
}

if [ -n "$lint_pid" ]; then
	step "lint (tools/lint.sh): the report"
	if wait "$lint_pid"; then
		cat "$lint_log"
	else
		cat "$lint_log"
		die "lint failed (the report above, also in $lint_log)"
	fi
fi

# Stage every job's guest, then boot them: the first in the foreground,
# the others (make check's second guest of the test kernel, check2, and
# the C kernel's, c) in the background beside it, each on one TCG thread;
# their reports follow the first one's.
kinds=()
declare -A build_of=()
for kind in "${jobs[@]}"; do
	wanted "$kind" || continue
	build_of[$kind]=$out
	[ "$kind" = c ] && build_of[$kind]=$dir/out-c
	step "stage and initramfs for $kind"
	stage "$kind" "${build_of[$kind]}" "$dir/stage-$kind"
	initramfs "$kind" "$dir/stage-$kind" "$dir/initramfs-$kind.cpio.gz"
	kinds+=("$kind")
done
[ ${#kinds[@]} != 0 ] || die "no test selected"

status=0
ran=()
# record KIND RC: a guest's verdict, for the closing line and the status.
record() {
	if [ "$2" = 0 ]; then
		ran+=("$1: passed")
	else
		ran+=("$1: FAILED")
		status=1
	fi
}
declare -A bg=()
for kind in "${kinds[@]:1}"; do
	step "the $kind guest boots in the background (its report follows the ${kinds[0]} guest's)"
	boot "$kind" "${build_of[$kind]}" "$dir/initramfs-$kind.cpio.gz" >"$dir/boot-$kind.out" 2>&1 &
	bg[$kind]=$!
done
if boot "${kinds[0]}" "${build_of[${kinds[0]}]}" "$dir/initramfs-${kinds[0]}.cpio.gz"; then rc=0; else rc=$?; fi
record "${kinds[0]}" $rc
for kind in "${kinds[@]:1}"; do
	if wait "${bg[$kind]}"; then rc=0; else rc=$?; fi
	cat "$dir/boot-$kind.out"
	record "$kind" $rc
done
[ ${#ran[@]} = 1 ] || echo "kernels: ${ran[*]}"
exit $status
