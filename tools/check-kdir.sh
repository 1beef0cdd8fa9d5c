#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-kdir.sh KDIR "KMAKE_VARS": can kvm_coalesced_pio.ko be built against
# the kernel build directory KDIR with the make variables KMAKE_VARS?
# `make modules KDIR=...` runs this first, so that a wrong tree fails in one
# line that says what to do, not deep in the compiler:
#   - KDIR must be a built kernel tree (its O= directory if it has one);
#   - with the series applied: the provider's symbol is exported
#     (Module.symvers) or linked in (System.map);
#   - built with the compiler and rustc that KMAKE_VARS selects
#     (CONFIG_CC_VERSION_TEXT, CONFIG_RUSTC_VERSION_TEXT in its .config).

set -euo pipefail
kdir=${1:?usage: check-kdir.sh KDIR \"KMAKE_VARS\"}
vars=${2:-}
# The symbol the series exports to the module (patches/, virt/kvm).
provider=kvm_coalesced_pio_register_provider

die() {
	echo "error: $*" >&2
	exit 1
}

[ -d "$kdir" ] || die "KDIR=$kdir does not exist"
cfg=$kdir/.config
if [ ! -e "$cfg" ]; then
	[ -e "$kdir/Makefile" ] && [ -d "$kdir/kernel" ] &&
		die "KDIR=$kdir has no .config: if the tree was built with O=, pass KDIR=<that O= directory>"
	die "KDIR=$kdir is not a kernel build directory (no .config)"
fi
[ -e "$kdir/Module.symvers" ] ||
	die "KDIR=$kdir is not built (no Module.symvers): build it first (make -C <tree> modules)"
config() {
	sed -n "s/^$1=\"\{0,1\}\([^\"]*\)\"\{0,1\}\$/\1/p" "$cfg"
}
[ "$(config CONFIG_RUST)" = y ] || die "KDIR=$kdir has no Rust (CONFIG_RUST): enable it and rebuild"
case "$(config CONFIG_KVM)" in
y | m) ;;
*) die "KDIR=$kdir has no KVM (CONFIG_KVM): enable it and rebuild" ;;
esac
if ! grep -qw "$provider" "$kdir/Module.symvers" &&
	! { [ -e "$kdir/System.map" ] && grep -qw "$provider" "$kdir/System.map"; }; then
	die "KDIR=$kdir lacks the series ($provider is neither in Module.symvers nor in System.map): apply the series (git am patches/*.patch) and rebuild"
fi

# The compiler and rustc this build would use, as the kernel's Makefile
# picks them from the make variables.
cc='' llvm='' rustc=rustc
for w in $vars; do
	case "$w" in
	CC=*) cc=${w#CC=} ;;
	LLVM=*) llvm=${w#LLVM=} ;;
	RUSTC=*) rustc=${w#RUSTC=} ;;
	esac
done
if [ -z "$cc" ]; then
	case "$llvm" in
	"" | 0) cc=gcc ;;
	1) cc=clang ;;
	*/) cc=${llvm}clang ;;
	-*) cc=clang$llvm ;;
	*) cc=clang ;;
	esac
fi

# suggest TEXT: the LLVM= that gives a compiler announcing TEXT, if any.
suggest() {
	local c
	for c in /usr/bin/clang-[0-9]*; do
		[ -x "$c" ] && [ "$("$c" --version 2>/dev/null | head -n1)" = "$1" ] &&
			{ echo "LLVM=-${c##*clang-}"; return; }
	done
	[ "$(clang --version 2>/dev/null | head -n1)" = "$1" ] && { echo "LLVM=1"; return; }
	[ "$(gcc --version 2>/dev/null | head -n1)" = "$1" ] && { echo "CC=gcc"; return; }
	echo "LLVM=..."
}

want=$(config CONFIG_CC_VERSION_TEXT)
got=$("$cc" --version 2>/dev/null | head -n1) || true
if [ -n "$want" ] && [ "$got" != "$want" ]; then
	die "KDIR=$kdir was built with \"$want\", but KMAKE_VARS selects $cc (\"${got:-not found}\"): pass KMAKE_VARS=\"$(suggest "$want") ...\" matching that tree"
fi
want=$(config CONFIG_RUSTC_VERSION_TEXT)
got=$("$rustc" --version 2>/dev/null | head -n1) || true
if [ -n "$want" ] && [ "$got" != "$want" ]; then
	die "KDIR=$kdir was built with \"$want\", but KMAKE_VARS selects $rustc (\"${got:-not found}\"): pass KMAKE_VARS=\"RUSTC=... ...\" matching that tree"
fi
exit 0
