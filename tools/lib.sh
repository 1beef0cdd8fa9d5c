# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The variables here are for the scripts that source this file.
# shellcheck disable=SC2034
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

# The make variables every kernel build (in-tree or M=) needs here: the
# pinned toolchain.  bindgen
# loads the libclang of LIBCLANG_PATH (a command-line variable, so make
# exports it), the one of the chosen clang: without it, it takes the
# newest installed, clang 22's once make bench installed it.
kmake_vars() {
	echo LLVM=-"$(kcp_llvm)" RUSTC=/usr/bin/rustc HOSTRUSTC=/usr/bin/rustc \
		RUSTDOC=/usr/bin/rustdoc RUSTFMT=/usr/bin/rustfmt \
		CLIPPY_DRIVER=/usr/bin/clippy-driver \
		RUST_LIB_SRC=/usr/src/rustc-${RUSTC_WEB_VERSION%%+*}/library \
		BINDGEN="$(bindgen_path)" \
		LIBCLANG_PATH=/usr/lib/llvm-"$(kcp_llvm)"/lib
}

# The toolchain that a kernel build depends on, for the cache keys.
toolchain_id() {
	/usr/bin/rustc --version
	"$(bindgen_path)" --version
	clang-"$(kcp_llvm)" --version | sed -n 1p
	ld.lld-"$(kcp_llvm)" --version
}

# The build directory of the workbench's kernel: $KCP_CACHE/build/<base>,
# <base> hashing the tarball and the toolchain (tools/build-kernel.sh).
kcp_base() {
	{ echo "$KERNEL_DEB_SHA256"; toolchain_id; } | sha256sum | cut -c1-16
}

workbench_tree() {
	echo "$KCP_CACHE/build/$(kcp_base)/linux"
}

# The series: who writes it, its version, and where the sources of the
# files it adds live in this repository.  A kernel path maps to the same
# path here, except for the selftests (selftests/ for
# tools/testing/selftests/) and the provider, which the out-of-tree build
# shares (rust/kvm_coalesced_pio.rs for virt/kvm/kvm_coalesced_pio.rs).
SERIES_AUTHOR_NAME="kvm-coalesced-pio developers"
SERIES_AUTHOR_EMAIL="dev@kvm-coalesced-pio.invalid"
SERIES_VERSION=3
SERIES_SOURCES=(include/kvm virt rust/kernel rust/helpers rust/kvm_coalesced_pio.rs
	Documentation/virt selftests/kvm)

# series_src KERNEL_PATH: the source in this repository.
series_src() {
	case "$1" in
	tools/testing/selftests/*) echo "${1#tools/testing/}" ;;
	virt/kvm/kvm_coalesced_pio.rs) echo rust/kvm_coalesced_pio.rs ;;
	*) echo "$1" ;;
	esac
}

# series_kernel_path SOURCE: the inverse of series_src.
series_kernel_path() {
	case "$1" in
	selftests/*) echo "tools/testing/$1" ;;
	rust/kvm_coalesced_pio.rs) echo virt/kvm/kvm_coalesced_pio.rs ;;
	*) echo "$1" ;;
	esac
}

# private_apt DIR LINE: an apt state of its own in DIR, with LINE as its
# only source (a deb or deb-src line), brought up to date; the system's
# sources, lists and package status are left alone.  Sets the array
# private_apt_opts, the options that make apt-get use that state.
private_apt() {
	mkdir -p "$1/lists/partial" "$1/cache/archives/partial"
	printf '%s\n' "$2" >"$1/sources.list"
	private_apt_opts=(
		-o "Dir::Etc::SourceList=$1/sources.list"
		-o "Dir::Etc::SourceParts=/dev/null"
		-o "Dir::State::Lists=$1/lists"
		-o "Dir::Cache=$1/cache"
		-o "Dir::State::status=/dev/null"
		-o "APT::Get::List-Cleanup=0"
		-o "APT::Sandbox::User=root"
	)
	apt-get -qq "${private_apt_opts[@]}" update >&2
}
