#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the pinned toolchain the workbench needs, skipping what is
# already there.  Run as root (apt) on Debian 12 (bookworm).
#
#   tools/setup.sh            install everything
#   tools/setup.sh --check    only report what is missing (exit 1 if any)
#   tools/setup.sh --bench    instead, the Python venv of make bench's
#                             report (matplotlib), in $KCP_CACHE/toolchain;
#                             with --check, only check it

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

# make bench's report: matplotlib in a venv of its own.
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
	step "pip install matplotlib $MATPLOTLIB_VERSION numpy $NUMPY_VERSION into $venv"
	rm -rf "$venv"
	python3 -m venv "$venv"
	"$venv/bin/python3" -m pip install --quiet --disable-pip-version-check \
		"numpy==$NUMPY_VERSION" "matplotlib==$MATPLOTLIB_VERSION"
	echo "bench venv ready"
	exit 0
fi

# name=version pairs from bookworm (and bookworm-security).
apt_pkgs=(
	"rustc-web=$RUSTC_WEB_VERSION"
	"rust-web-src=$RUSTC_WEB_VERSION"
	"rust-web-clippy=$RUSTC_WEB_VERSION"
	"rustfmt-web=$RUSTC_WEB_VERSION"
	"clang-19=$LLVM_VERSION"
	"lld-19=$LLVM_VERSION"
	"llvm-19=$LLVM_VERSION"
	"libclang-19-dev=$LLVM_VERSION"
	"busybox-static=$BUSYBOX_VERSION"
	"flex=2.6.4-8.2"
	"bison=2:3.8.2+dfsg-1+b1"
	"bc=1.07.1-3+b1"
	"libelf-dev=0.188-2.1"
	"cpio=2.13+dfsg-7.1"
	"rsync=3.5.0+ds1-0+deb12u1"
	"uuid-dev=2.38.1-5+deb12u3"
	"shellcheck=0.9.0-1"
)
# make bench builds with the LLVM of rustc-web (KCP_LLVM=22, bookworm-security).
case "$(kcp_llvm)" in
19) ;;
22) apt_pkgs+=("clang-22=$LLVM22_VERSION" "lld-22=$LLVM22_VERSION" "llvm-22=$LLVM22_VERSION") ;;
*) die "KCP_LLVM=$(kcp_llvm): only 19 (the workbench) and 22 (make bench) are pinned" ;;
esac
# From bookworm-backports; its dependencies come from bookworm.
bpo_pkgs=(
	"qemu-system-x86=$QEMU_VERSION"
)
# libssl-dev is taken as installed: pinning it would upgrade libssl.
any_pkgs=(libssl-dev)

missing=()
have_pkg() {
	local name=${1%%=*} want=${1#*=}
	local got
	got=$(dpkg-query -W -f='${Status} ${Version}' "$name" 2>/dev/null) || return 1
	case "$got" in
	"install ok installed $want") return 0 ;;
	"install ok installed "*) [ "$name" = "$want" ] && return 0 ;;
	esac
	return 1
}

for p in "${apt_pkgs[@]}" "${bpo_pkgs[@]}"; do
	have_pkg "$p" || missing+=("$p")
done
for p in "${any_pkgs[@]}"; do
	have_pkg "$p=$p" || missing+=("$p")
done

# checkpatch.pl's SPDX check (scripts/spdxcheck.py) needs ply and GitPython.
ply_ok=0
python3 -c 'import ply, git' 2>/dev/null && ply_ok=1

bindgen_bin=$(bindgen_path)
bindgen_ok=0
if [ -x "$bindgen_bin" ] && "$bindgen_bin" --version | grep -qx "bindgen $BINDGEN_VERSION"; then
	bindgen_ok=1
fi

if [ $check_only = 1 ]; then
	[ ${#missing[@]} = 0 ] && [ $bindgen_ok = 1 ] && [ $ply_ok = 1 ] && exit 0
	echo "missing: ${missing[*]} $([ $bindgen_ok = 1 ] || echo "bindgen-cli $BINDGEN_VERSION")" \
		"$([ $ply_ok = 1 ] || echo "python ply $PLY_VERSION, GitPython $GITPYTHON_VERSION")"
	exit 1
fi

if [ ${#missing[@]} != 0 ]; then
	[ "$(id -u)" = 0 ] || die "need root to install: ${missing[*]}"
	src=/etc/apt/sources.list.d/kvm-coalesced-pio-bookworm-backports.sources
	if [ ! -e "$src" ]; then
		cat >"$src" <<'EOS'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
	fi
	step "apt-get install ${missing[*]}"
	apt-get update -qq
	log=$KCP_CACHE/logs/apt-install.log
	mkdir -p "$(dirname "$log")"
	# -t lets the bookworm-backports pins resolve; the explicit versions
	# keep everything else on bookworm.  One retry after finishing any
	# interrupted configuration.
	for try in 1 2; do
		if DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends -t bookworm-backports \
			"${missing[@]}" >"$log" 2>&1; then
			break
		fi
		[ $try = 2 ] && { tail -20 "$log"; die "apt-get install failed, log: $log"; }
		dpkg --configure -a >>"$log" 2>&1 || true
	done
fi

if [ $bindgen_ok = 0 ]; then
	step "cargo install bindgen-cli $BINDGEN_VERSION into $(dirname "$(dirname "$bindgen_bin")")"
	export LIBCLANG_PATH=/usr/lib/llvm-19/lib
	cargo install --quiet --locked --root "$(dirname "$(dirname "$bindgen_bin")")" \
		bindgen-cli --version "$BINDGEN_VERSION"
fi
if [ $ply_ok = 0 ]; then
	step "pip install ply $PLY_VERSION GitPython $GITPYTHON_VERSION (for checkpatch.pl)"
	python3 -m pip install --quiet --root-user-action=ignore \
		"ply==$PLY_VERSION" "GitPython==$GITPYTHON_VERSION"
fi
echo "toolchain ready"
