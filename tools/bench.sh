#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: coalesced PIO in Rust (this series and its in-tree provider)
# against upstream's C (the same tree without the series) and the in-kernel
# floor.
#
#   bench.sh [-p POINT,...] [-r REPS]
#
# Builds two kernels from the pinned 7.3 tree with one config,
# tools/bench.config (no KASAN, lockdep, kmemleak): "rust", with patches/
# and the provider as a module (tools/bench-rust.config), and "stock", the
# pristine tree, whose KVM has upstream's C coalesced PIO.  Builds
# tools/bench/coalesced_pio_bench against each tree's selftest library,
# boots each kernel in QEMU with -icount shift=0 (the guest's TSC counts
# executed instructions, so the figures repeat from run to run), runs the
# benchmark there (the series' kernel twice: with the provider loaded,
# "rust", and without, "series-c", KVM's C code of the series), and hands
# the three console logs to tools/bench-report.py, which prints the tables
# and the ratios and writes a CSV and a PNG.  Documentation/benchmark.md.
#
# Environment: KCP_CACHE (build cache, default ~/.cache/kvm-coalesced-pio),
# KCP_TIMEOUT (seconds each guest may run, default 1800).

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/versions.mk"
. "$here/lib.sh"

# Both kernels are built with clang 22, the LLVM of rustc-web, so that the
# kernel can inline its C helpers into Rust code (CONFIG_RUST_INLINE_HELPERS,
# which needs matching LLVM versions); KCP_LLVM=19 builds them with the
# workbench's clang 19 instead, without inlined helpers.
export KCP_LLVM=${KCP_LLVM:-22}

bench_args=()
while getopts "p:r:" opt; do
	case "$opt" in
	p) bench_args+=("-p" "${OPTARG//,/:}") ;;
	r) bench_args+=("-r" "$OPTARG") ;;
	*) die "usage: bench.sh [-p POINT,...] [-r REPS]" ;;
	esac
done

step "toolchain (tools/setup.sh, tools/setup.sh --bench)"
"$here/setup.sh" --check >/dev/null 2>&1 || "$here/setup.sh"
"$here/setup.sh" --check --bench >/dev/null 2>&1 || "$here/setup.sh" --bench
python=$(bench_venv)/bin/python3

# shellcheck disable=SC2046
kmake() { make -s $(kmake_vars) "$@"; }

# The config of both kernels: tools/bench.config, plus the inlined helpers
# where the LLVM versions match.
mkdir -p "$KCP_CACHE/bench"
config=$KCP_CACHE/bench/bench-llvm$KCP_LLVM.config
{
	cat "$here/bench.config"
	if [ "$KCP_LLVM" = 22 ]; then
		echo "CONFIG_EXPERT=y"
		echo "CONFIG_RUST_INLINE_HELPERS=y"
	fi
} >"$config.tmp"
mv "$config.tmp" "$config"
echo "clang-$KCP_LLVM, rustc $(/usr/bin/rustc --version | cut -d' ' -f2) (LLVM $(/usr/bin/rustc -vV | sed -n 's/^LLVM version: //p'))," \
	"inlined C helpers: $([ "$KCP_LLVM" = 22 ] && echo yes || echo no)"

kernels=(rust stock)
declare -A dirs
for k in "${kernels[@]}"; do
	step "kernel '$k' (tools/build-kernel.sh, $config)"
	if [ "$k" = rust ]; then
		dirs[$k]=$(KCP_CONFIG="$config $here/bench-rust.config" KCP_FLAVOR=bench-rust \
			"$here/build-kernel.sh" | tail -1)
	else
		dirs[$k]=$(KCP_CONFIG="$config" KCP_FLAVOR=bench-stock \
			KCP_SERIES=none "$here/build-kernel.sh" | tail -1)
	fi
done

# The kernel's modules, installed as a system has them (the guest runs
# depmod, and KVM loads the provider by its alias), the benchmark, the
# initramfs.
prepare() {
	local k=$1 dir=$2
	local out=$dir/out src=$dir/linux stage=$dir/bench-stage log
	rm -rf "$stage"
	mkdir -p "$stage/lib/modules" "$stage/tests"
	log=$dir/modules_install.log
	kmake -C "$src" O="$out" INSTALL_MOD_PATH="$stage" INSTALL_MOD_STRIP=1 \
		modules_install >"$log" 2>&1 || { tail -20 "$log"; die "modules_install failed, log: $log"; }
	step "benchmark (static) against the '$k' tree"
	log=$dir/bench-build.log
	# The UAPI headers of the series (a superset) for both: the exact-width
	# points skip themselves where the kernel has no such zones.
	if ! make -C "$top/selftests" KSRC="$src" KHDR="${dirs[rust]}/out/usr/include" \
		OUTPUT="$dir/bench" bench >"$log" 2>&1; then
		tail -30 "$log"
		die "benchmark build failed, full log: $log"
	fi
	cp "$dir/bench/coalesced_pio_bench" "$stage/tests/"
	step "initramfs for '$k'"
	"$here/mkinitramfs.sh" "$out" "$stage" "$dir/bench-initramfs.cpio.gz"
}

for k in "${kernels[@]}"; do
	prepare "$k" "${dirs[$k]}"
done

stamp=$(date +%Y%m%d-%H%M%S)
logdir=$KCP_CACHE/logs
results=$KCP_CACHE/bench/$stamp
mkdir -p "$logdir" "$results"
append_args=$(IFS=,; echo "${bench_args[*]}")
logs=()
# Three runs: the series' kernel with the provider loaded (rust) and
# without it (series-c: KVM's C code of the series), and the stock kernel.
for k in rust series-c stock; do
	dir=${dirs[$k]:-${dirs[rust]}}
	console=$logdir/bench-$k-$stamp.log
	append="console=ttyS0 panic=-1 kcp.job=bench"
	[ "$k" = series-c ] && append="$append kcp.provider=none"
	[ -n "$append_args" ] && append="$append kcp.bench=$append_args"
	step "boot '$k' (QEMU TCG -icount shift=0, timeout ${KCP_TIMEOUT:-1800}s, console log: $console)"
	set +e
	timeout -k 10 "${KCP_TIMEOUT:-1800}" qemu-system-x86_64 \
		-accel tcg -icount shift=0,align=off,sleep=off -cpu max -smp 1 -m 1G \
		-display none -no-reboot -nic none -serial stdio -monitor none \
		-kernel "$dir/out/arch/x86/boot/bzImage" \
		-initrd "$dir/bench-initramfs.cpio.gz" -append "$append" </dev/null |
		tee "$console" | grep --line-buffered -E '^kcp-bench (kernel|point)' |
		sed -u -E 's/^kcp-bench /    /; s/ (accesses|exits|coalesced)=[0-9]+//g'
	rc=("${PIPESTATUS[@]}")
	set -e
	if [ "${rc[0]}" != 0 ] || ! grep -q '^kcp-bench done' "$console"; then
		echo "---- console tail ($console) ----"
		tail -40 "$console"
		die "the '$k' guest did not finish the benchmark (QEMU status ${rc[0]}$([ "${rc[0]}" = 124 ] && echo ', timeout')), full log: $console"
	fi
	logs+=("$k=$console")
done

step "report (tools/bench-report.py)"
"$python" "$here/bench-report.py" --out "$results" "${logs[@]}"
ln -sfn "$stamp" "$KCP_CACHE/bench/latest"
step "done"
