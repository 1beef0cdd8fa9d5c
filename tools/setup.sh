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
#   tools/setup.sh --qemu     also the build dependencies of the patched
#                             QEMU of make check-qemu (tools/build-qemu.sh)
#
# Every version is in tools/versions.mk.  The packages come from bookworm
# and bookworm-security, at the pinned versions; QEMU and its SeaBIOS alone
# come from bookworm-backports, named by exact version, so that apt takes
# nothing else from there (with "-t bookworm-backports" it would take
# every new package from there, libelf1 0.192 among them).  bindgen-cli
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
qemu_deps=0
for arg in "$@"; do
	case "$arg" in
	--check) check_only=1 ;;
	--bench) bench=1 ;;
	--qemu) qemu_deps=1 ;;
	*) die "usage: setup.sh [--check] [--bench | --qemu]" ;;
	esac
done

# installed: "name version" of every installed package, read once (one
# dpkg-query: --check stays fast); reread after an install.
declare -A installed=()
read_installed() {
	installed=()
	local name status version
	while read -r name status version; do
		[ "$status" = ii ] && installed[${name%%:*}]=$version
	done < <(dpkg-query -W -f='${binary:Package} ${db:Status-Abbrev} ${Version}\n' 2>/dev/null)
	return 0
}
read_installed

# have_pkg NAME=VERSION, or NAME alone for any version: installed?
have_pkg() {
	local name=${1%%=*} want=
	case "$1" in *=*) want=${1#*=} ;; esac
	[ -n "${installed[$name]+set}" ] || return 1
	[ -z "$want" ] || [ "${installed[$name]}" = "$want" ]
}

BPO_SOURCES=/etc/apt/sources.list.d/kvm-coalesced-pio-bookworm-backports.sources

# apt_install [--bpo] PKG...: install with apt, as root; PKG is
# name=version or a bare name (any version).  --bpo: some come from
# bookworm-backports, whose apt source is added if missing.  Never removes
# a package.
apt_install() {
	local bpo=0
	[ "$1" = --bpo ] && { bpo=1; shift; }
	[ "$(id -u)" = 0 ] || die "need root to install: $* (run as root, or install them with apt-get)"
	command -v apt-get >/dev/null || die "no apt-get: the workbench needs Debian 12 (bookworm)"
	if [ $bpo = 1 ] && ! grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		cat >"$BPO_SOURCES" <<'EOS'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
	fi
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
# From bookworm-backports.
bpo=(
	"qemu-system-x86=$QEMU_VERSION"
	"qemu-system-common=$QEMU_VERSION"
	"qemu-system-data=$QEMU_VERSION"
	"seabios=$SEABIOS_VERSION"
)
# make check-qemu builds QEMU (tools/build-qemu.sh): meson and pycotap
# from bookworm-backports, the rest from bookworm (glib's -dev package
# pulls the matching libglib2.0-0 point release, a bookworm update).
if [ $qemu_deps = 1 ]; then
	pinned+=("ninja-build=$QEMU_NINJA_VERSION" "libglib2.0-dev=$QEMU_GLIB_VERSION" zlib1g-dev pkgconf)
	bpo+=("meson=$QEMU_MESON_VERSION" "python3-pycotap=$QEMU_PYCOTAP_VERSION")
fi
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
missing_bpo=()
for p in "${bpo[@]}"; do
	have_pkg "$p" || missing_bpo+=("$p")
done

if [ $check_only = 1 ]; then
	missing+=("${missing_bpo[@]}")
	[ ${#missing[@]} = 0 ] && [ $bindgen_ok = 1 ] && exit 0
	echo "missing: ${missing[*]}$([ $bindgen_ok = 1 ] || echo " bindgen-cli=$BINDGEN_VERSION")"
	exit 1
fi

if [ ${#missing[@]} != 0 ] || [ ${#missing_bpo[@]} != 0 ]; then
	if [ ${#missing_bpo[@]} = 0 ]; then
		apt_install "${missing[@]}"
	else
		apt_install --bpo "${missing[@]}" "${missing_bpo[@]}"
	fi
	# Whatever apt chose must be what tools/versions.mk pins.
	read_installed
	wrong=()
	for p in "${pinned[@]}" "${base[@]}" "${bpo[@]}"; do
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
