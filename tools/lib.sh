# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Helpers shared by the workbench scripts.  Sourced, not run.

: "${KCP_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/kvm-coalesced-pio}"
export KCP_CACHE

_kcp_t0=${_kcp_t0:-$(date +%s)}
export _kcp_t0

# Debian's python3 (tools/setup.sh installs it with python3-ply and
# python3-git), whatever python3 comes first on PATH.
# shellcheck disable=SC2034 # for the scripts that source this file
PYTHON=/usr/bin/python3

# step NAME: print a stage header with the time elapsed since the first step.
step() {
	printf '==> [%4ss] %s\n' "$(($(date +%s) - _kcp_t0))" "$*"
}

die() {
	echo "error: $*" >&2
	exit 1
}

bindgen_path() {
	echo "$KCP_CACHE/toolchain/bindgen-$BINDGEN_VERSION/bin/bindgen"
}

# The Python venv with matplotlib, for make bench's report.
bench_venv() {
	echo "$KCP_CACHE/toolchain/bench-venv-$MATPLOTLIB_VERSION"
}

# The LLVM major version of a kernel build: 19 (the workbench's clang),
# or 22 for make bench, the LLVM of rustc-web, which lets the kernel inline
# its C helpers into Rust code (CONFIG_RUST_INLINE_HELPERS).
kcp_llvm() {
	echo "${KCP_LLVM:-19}"
}

# The make variables every kernel build (in-tree or M=) needs here.
kmake_vars() {
	echo LLVM=-"$(kcp_llvm)" RUSTC=/usr/bin/rustc HOSTRUSTC=/usr/bin/rustc \
		RUSTDOC=/usr/bin/rustdoc RUSTFMT=/usr/bin/rustfmt \
		CLIPPY_DRIVER=/usr/bin/clippy-driver \
		RUST_LIB_SRC=/usr/src/rustc-${RUSTC_WEB_VERSION%%+*}/library \
		BINDGEN="$(bindgen_path)"
}
