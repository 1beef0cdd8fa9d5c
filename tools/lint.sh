#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh BUILD_DIR [QEMU_SRC]: the review checks a maintainer would run.
#   - the series applies in order to the pristine tree (build-kernel.sh did
#     that with git am) and every patch passes checkpatch.pl --strict;
#   - with QEMU_SRC (make check-qemu: Debian's QEMU source), the QEMU
#     patches (tools/qemu/*.patch, tools/qemu-tcg/*.patch) pass QEMU's own
#     scripts/checkpatch.pl;
#   - every file the series adds is the same as its source in this
#     repository (tools/export-series.sh --check);
#   - the Rust is rustfmt-clean, and the modules (the provider and the
#     misbehaving one of the tests) contain no unsafe code (workbench.sh
#     builds them with W=1 CLIPPY=1 and fails on any warning);
#   - the shell scripts are shellcheck-clean (warnings and errors);
#   - patch 1's I/O bus lookup finds exactly the devices that contain an
#     access, on random buses (tools/bus-lookup/).

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/versions.mk"
. "$here/lib.sh"
dir=$1
qemu_src=${2:-}
src=$dir/linux
fail=0

shopt -s nullglob
patches=()
for p in "$top"/patches/*.patch; do
	[ "${p##*/}" = 0000-cover-letter.patch ] || patches+=("$p")
done
# checkpatch.pl --strict, but for two questions that this tree cannot
# answer, which are answered here instead:
#  - UNKNOWN_COMMIT_ID: the tree is a tarball import without history, so
#    no Fixes: id can be looked up in it (patch 1's are upstream's
#    743eeb0b01d2 and f848a5a8dcb6); the form of the tag is still
#    checked (GIT_COMMIT_ID);
#  - FILE_PATH_CHANGES, "added file(s), does MAINTAINERS need updating?":
#    every file the series adds must have maintainers (get_maintainer.pl).
checkpatch() {
	# Debian's python3 first: its ply and GitPython serve the SPDX check.
	if ! (cd "$src" && PATH=/usr/bin:$PATH scripts/checkpatch.pl --strict --quiet \
		--ignore FILE_PATH_CHANGES,UNKNOWN_COMMIT_ID "$1" >"$1.checkpatch" 2>&1); then
		echo "checkpatch --strict: $(basename "$1"):"
		sed 's/^/  /' "$1.checkpatch"
	fi
	rm -f "$1.checkpatch"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "${patches[@]}" "$tmp/"
# One checkpatch per CPU: it is the slowest part of the lint.
export -f checkpatch
export src
printf '%s\n' "$tmp"/*.patch | xargs -P"$(nproc)" -I{} bash -c 'checkpatch {}' >"$tmp/report"
if [ -s "$tmp/report" ]; then
	cat "$tmp/report"
	fail=1
fi
echo "checkpatch --strict: ${#patches[@]} patches checked"
if [ -n "$qemu_src" ]; then
	qpatches=("$top"/tools/qemu/*.patch "$top"/tools/qemu-tcg/*.patch)
	for p in "${qpatches[@]}"; do
		if ! (cd "$qemu_src" && scripts/checkpatch.pl "$p" >"$tmp/qemu-checkpatch" 2>&1); then
			echo "QEMU checkpatch: $(basename "$p"):"
			sed 's/^/  /' "$tmp/qemu-checkpatch"
			fail=1
		fi
	done
	echo "QEMU checkpatch: ${#qpatches[@]} patches checked"
fi
added=$(git -C "$src" diff --name-only --diff-filter=A pristine HEAD)
for f in $added; do
	if ! (cd "$src" && scripts/get_maintainer.pl --no-git --no-git-fallback --no-rolestats \
		-f "$f" 2>/dev/null | grep -q 'kvm@vger.kernel.org'); then
		echo "MAINTAINERS: no KVM maintainer for $f, which the series adds"
		fail=1
	fi
done
echo "MAINTAINERS: $(wc -w <<<"$added") files added by the series have KVM maintainers"

# The files the series adds are generated from their sources here.
"$here/export-series.sh" --check "$src" || fail=1

# Patch 1's I/O bus lookup, compiled on the host from the tree's
# kvm_main.c, against a brute force on random buses.
if ! "$PYTHON" "$here/bus-lookup/check.py" "$src" 2000; then
	echo "bus lookup: the lookup of the tree's kvm_main.c is wrong (above)"
	fail=1
fi

# The shell scripts: shellcheck, warnings and errors.
sh_files=("$top"/tools/*.sh "$top"/.ci/run "$top"/selftests/kvm/x86/*.sh)
# The guest's programs that are not C: busybox sh scripts.
guest_sh=()
for f in "$top"/tools/guest/*; do
	case "$f" in *.c) ;; *) guest_sh+=("$f") ;; esac
done
if ! (cd "$here" && shellcheck -S warning -x "${sh_files[@]}" &&
	shellcheck -S warning -x -s sh "${guest_sh[@]}"); then
	echo "shellcheck: the scripts above need fixing"
	fail=1
fi
echo "shellcheck: $((${#sh_files[@]} + ${#guest_sh[@]})) scripts checked"

mods=("$top"/rust/*.rs "$top"/rust/faulty/*.rs)
if [ ${#mods[@]} != 0 ]; then
	# Code, not prose: an unsafe block, fn, impl, trait or extern block.
	if grep -n -E '(^|[^[:alnum:]_])unsafe[[:space:]]*(\{|fn|impl|trait|extern)' "${mods[@]}"; then
		echo "the modules must not contain unsafe code"
		fail=1
	fi
	echo "modules: no unsafe code (${#mods[@]} files)"
fi
rs=("${mods[@]}" "$top"/rust/kernel/*.rs "$top"/rust/kernel/kvm/*.rs)
if ! /usr/bin/rustfmt --check --edition 2021 --config-path "$src/.rustfmt.toml" "${rs[@]}"; then
	echo "rustfmt: the files above are not formatted"
	fail=1
fi
echo "rustfmt: ${#rs[@]} files clean"
exit $fail
