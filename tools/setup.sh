#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the pinned toolchain the workbench needs, skipping what is
# already there.  Run as root (apt) on Debian 12 (bookworm), amd64.  A
# stock install with git and make is enough: this installs the rest.
#
#   tools/setup.sh            install everything
#   tools/setup.sh --check    only report what is missing (exit 1 if any)
#   tools/setup.sh --bench    instead, the Python venv of make bench's
#                             report (matplotlib), in $KCP_CACHE/toolchain;
#                             with --check, only check it
#
# Every version is in tools/versions.mk.  The packages come from bookworm
# and bookworm-security, at the pinned versions; QEMU alone comes from
# bookworm-backports, named as qemu-system-x86/bookworm-backports so that
# apt takes from there only QEMU and the packages that version of QEMU
# needs, never other packages (no "-t bookworm-backports").  bindgen-cli
# is built from crates.io with Debian's cargo-web, the cargo of rustc-web.
# Python is Debian's /usr/bin/python3 with Debian's python3-ply and
# python3-git (no pip into the system's python, PEP 668).

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.mk
. "$here/versions.mk"
. "$here/lib.sh"

check_only=0
bench=0
for arg in "$@"; do
	case "$arg" in
	--check) check_only=1 ;;
	--bench) bench=1 ;;
	*) die "usage: setup.sh [--check] [--bench]" ;;
	esac
done

# have_pkg NAME=VERSION, or NAME alone for any version: installed?
have_pkg() {
	local name=${1%%[=/]*} want=
	case "$1" in *=*) want=${1#*=} ;; esac
	local got
	got=$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "$name" 2>/dev/null) || return 1
	case "$got" in
	"ii  $want") return 0 ;;
	"ii  "*) [ -z "$want" ] && return 0 ;;
	esac
	return 1
}

BPO_SOURCES=/etc/apt/sources.list.d/kvm-coalesced-pio-bookworm-backports.sources

# apt_install PKG...: install with apt, as root; PKG is name=version,
# name/bookworm-backports or a bare name.  Never removes a package.
apt_install() {
	[ "$(id -u)" = 0 ] || die "need root to install: $* (run as root, or install them with apt-get)"
	command -v apt-get >/dev/null || die "no apt-get: the workbench needs Debian 12 (bookworm)"
	local p
	for p in "$@"; do
		case "$p" in
		*/bookworm-backports)
			grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ ||
				cat >"$BPO_SOURCES" <<'EOS'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
			;;
		esac
	done
	step "apt-get install $*"
	local log=$KCP_CACHE/logs/apt-install.log
	mkdir -p "$(dirname "$log")"
	local apt=(apt-get -q -o DPkg::Lock::Timeout=600)
	"${apt[@]}" update >"$log" 2>&1 || { tail -20 "$log"; die "apt-get update failed, log: $log"; }
	# One retry after finishing any interrupted configuration.
	local try
	for try in 1 2; do
		if DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends \
			--no-remove "$@" >>"$log" 2>&1; then
			return 0
		fi
		[ $try = 2 ] && { tail -20 "$log"; die "apt-get install failed, log: $log"; }
		dpkg --configure -a >>"$log" 2>&1 || true
	done
}

# make bench's report: matplotlib in a venv of its own, on Debian's python.
if [ $bench = 1 ]; then
	venv=$(bench_venv)
	if "$venv/bin/python3" -c "import matplotlib, sys; sys.exit(matplotlib.__version__ != '$MATPLOTLIB_VERSION')" 2>/dev/null; then
		[ $check_only = 1 ] && exit 0
		echo "bench venv ready"
		exit 0
	fi
	if [ $check_only = 1 ]; then
		echo "missing: matplotlib $MATPLOTLIB_VERSION in $venv"
		exit 1
	fi
	have_pkg python3-venv || apt_install python3-venv
	step "pip install matplotlib $MATPLOTLIB_VERSION numpy $NUMPY_VERSION into $venv"
	rm -rf "$venv"
	"$PYTHON" -m venv "$venv"
	"$venv/bin/python3" -m pip install --quiet --disable-pip-version-check \
		"numpy==$NUMPY_VERSION" "matplotlib==$MATPLOTLIB_VERSION"
	echo "bench venv ready"
	exit 0
fi

# name=version, from bookworm (and bookworm-security).
pinned=(
	"rustc-web=$RUSTC_WEB_VERSION"
	"rust-web-src=$RUSTC_WEB_VERSION"
	"rust-web-clippy=$RUSTC_WEB_VERSION"
	"rustfmt-web=$RUSTC_WEB_VERSION"
	"clang-19=$LLVM_VERSION"
	"lld-19=$LLVM_VERSION"
	"llvm-19=$LLVM_VERSION"
	"libclang-19-dev=$LLVM_VERSION"
	"busybox-static=$BUSYBOX_VERSION"
	"flex=$FLEX_VERSION"
	"bison=$BISON_VERSION"
	"bc=$BC_VERSION"
	"libelf-dev=$LIBELF_VERSION"
	"cpio=$CPIO_VERSION"
	"rsync=$RSYNC_VERSION"
	"uuid-dev=$UUID_DEV_VERSION"
	"shellcheck=$SHELLCHECK_VERSION"
	"python3-ply=$PYTHON3_PLY_VERSION"
	"python3-git=$PYTHON3_GIT_VERSION"
)
# make bench builds with the LLVM of rustc-web (KCP_LLVM=22, bookworm-security).
case "$(kcp_llvm)" in
19) ;;
22) pinned+=("clang-22=$LLVM22_VERSION" "lld-22=$LLVM22_VERSION" "llvm-22=$LLVM22_VERSION") ;;
*) die "KCP_LLVM=$(kcp_llvm): only 19 (the workbench) and 22 (make bench) are pinned" ;;
esac
# The system's own C compiler, libc, perl, xz, CA certificates (for
# crates.io) and python3: any version, usually there already.
base=(gcc libc6-dev perl xz-utils ca-certificates python3)

bindgen_bin=$(bindgen_path)
bindgen_ok=0
if [ -x "$bindgen_bin" ] && "$bindgen_bin" --version 2>/dev/null | grep -qx "bindgen $BINDGEN_VERSION"; then
	bindgen_ok=1
else
	# Only needed to build bindgen.
	pinned+=("cargo-web=$RUSTC_WEB_VERSION")
fi

missing=()
for p in "${pinned[@]}" "${base[@]}"; do
	have_pkg "$p" || missing+=("$p")
done
have_pkg "qemu-system-x86=$QEMU_VERSION" || missing+=(qemu-system-x86/bookworm-backports)

if [ $check_only = 1 ]; then
	[ ${#missing[@]} = 0 ] && [ $bindgen_ok = 1 ] && exit 0
	echo "missing: ${missing[*]}$([ $bindgen_ok = 1 ] || echo " bindgen-cli=$BINDGEN_VERSION")"
	exit 1
fi

if [ ${#missing[@]} != 0 ]; then
	apt_install "${missing[@]}"
	# Whatever apt chose must be what tools/versions.mk pins.
	wrong=()
	for p in "${pinned[@]}" "${base[@]}" "qemu-system-x86=$QEMU_VERSION"; do
		have_pkg "$p" || wrong+=("$p")
	done
	[ ${#wrong[@]} = 0 ] ||
		die "after apt-get install, still not installed as pinned: ${wrong[*]} (has Debian moved on? see tools/versions.mk)"
fi

if [ $bindgen_ok = 0 ]; then
	root=$(dirname "$(dirname "$bindgen_bin")")
	step "cargo install bindgen-cli $BINDGEN_VERSION into $root (Debian's cargo-web)"
	LIBCLANG_PATH=/usr/lib/llvm-19/lib RUSTC=/usr/bin/rustc \
		/usr/bin/cargo install --quiet --locked --root "$root" \
		bindgen-cli --version "$BINDGEN_VERSION" ||
		die "cargo install bindgen-cli $BINDGEN_VERSION failed (network to crates.io?)"
fi
echo "toolchain ready"
