#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the test kernel: the pinned Linux 7.3 tree with the patches in
# patches/ applied, configured from tinyconfig plus tools/kvm-test.config.
#
# Layout of the cache ($KCP_CACHE/build/<base>, <base> = hash of the
# tarball and the toolchain, the inputs that force a build from nothing):
#   linux/   the patched source, a git tree: the pristine tarball is the
#            root commit, each patch of the series one commit on top
#   out/     the O= build directory (KDIR for M= builds)
#   key      hash of every input (tarball, series, config, toolchain);
#            when it matches, nothing is rebuilt
# A changed series or config reuses linux/ and out/: git touches only the
# files that differ, so make rebuilds incrementally.
#
# Prints the path of the build directory on its last line.
#
# Environment (the defaults build the test kernel of make check/run):
#   KCP_CONFIG="FILE..."  config fragments instead of tools/kvm-test.config,
#                     merged in order (a later line about an option wins)
#   KCP_OUT=NAME      build in <dir>/NAME instead of <dir>/out, from the same
#                     source tree (another configuration of the same series;
#                     the first build copies out/, so it is incremental)
#   KCP_SERIES=none   build the pristine tree, without patches/
#   KCP_FLAVOR=NAME   build in $KCP_CACHE/build/<base>-NAME instead; its
#                     linux/ is cloned from <base>/linux when that exists

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/versions.mk"
. "$here/lib.sh"

pristine=$("$here/fetch-kernel.sh")
"$here/setup.sh" --check >/dev/null || die "toolchain incomplete: run tools/setup.sh"

read -r -a frags <<<"${KCP_CONFIG:-$here/kvm-test.config}"
for f in "${frags[@]}"; do
	[ -r "$f" ] || die "no config fragment $f"
done
flavor=${KCP_FLAVOR:-}
outname=${KCP_OUT:-out}
patches=()
if [ "${KCP_SERIES:-}" != none ]; then
	# Every patch but the cover letter, in order.
	shopt -s nullglob
	for p in "$top"/patches/*.patch; do
		[ "${p##*/}" = 0000-cover-letter.patch ] || patches+=("$p")
	done
	shopt -u nullglob
fi

base=$(kcp_base)
key=$( {
	echo "$base"
	cat "${frags[@]}"
	[ ${#patches[@]} = 0 ] || cat "${patches[@]}"
	sha256sum <"$here/build-kernel.sh"
} | sha256sum | cut -c1-64)

dir=$KCP_CACHE/build/$base${flavor:+-$flavor}
src=$dir/linux
out=$dir/$outname
keyfile=$dir/key${KCP_OUT:+-$KCP_OUT}
# Another configuration of the same tree starts from the main build.
if [ "$outname" != out ] && [ ! -e "$out/.config" ] && [ -e "$dir/out/.config" ]; then
	step "copy $dir/out to $out (once), to build it incrementally" >&2
	rm -rf "$out"
	cp -a "$dir/out" "$out"
	rm -f "$out/arch/x86/boot/bzImage"
fi
mkdir -p "$dir" "$out"

# Up to date: same inputs, and the tree is still the series as it was built
# (an interrupted make series-check can leave it at an earlier patch).
treefile=$dir/tree
tree_now() {
	[ -z "$(git -C "$src" status --porcelain --untracked-files=no 2>/dev/null)" ] &&
		git -C "$src" rev-parse -q --verify 'HEAD^{tree}' 2>/dev/null
}
if [ -e "$out/arch/x86/boot/bzImage" ] && [ "$(cat "$keyfile" 2>/dev/null)" = "$key" ]; then
	if [ "$(tree_now)" = "$(cat "$treefile" 2>/dev/null)" ]; then
		step "kernel up to date ($dir)" >&2
		echo "$dir"
		exit 0
	fi
	step "$src is not the series it was built from (an interrupted series-check?): re-apply it" >&2
fi

git_k() {
	git -C "$src" -c user.name=workbench -c user.email=workbench@localhost \
		-c core.autocrlf=false -c gc.auto=0 "$@"
}

# A tree whose root commit is the tarball, tagged pristine.
has_pristine() {
	git --git-dir="$1/.git" rev-parse -q --verify refs/tags/pristine >/dev/null 2>&1
}

main_src=$KCP_CACHE/build/$base/linux
if ! has_pristine "$src" && [ -n "$flavor" ] && has_pristine "$main_src"; then
	step "clone the pristine tree from $main_src into $src (once)" >&2
	rm -rf "$src"
	git -c init.defaultBranch=pristine clone -q --local --no-checkout "$main_src" "$src"
	git_k checkout -q --detach pristine
fi
if ! has_pristine "$src"; then
	step "import the pristine tree into $src (once)" >&2
	rm -rf "$src"
	cp -a "$pristine" "$src"
	rm -f "$src/.unpacked"
	git_k init -q
	git_k add -A -f
	git_k commit -q -m "Linux $KERNEL_DEB_VERSION (Debian $KERNEL_DEB_PKG)"
	git_k tag pristine
fi

# The cache tree is also where a developer edits the series: never throw
# away work that is not committed there.
if [ -n "$(git_k status --porcelain --untracked-files=normal)" ] && [ "${KCP_FORCE:-0}" != 1 ]; then
	git_k status --short | head -20 >&2
	die "$src has uncommitted changes; commit them (git -C $src commit) or rerun with KCP_FORCE=1 to discard them"
fi
step "apply the series (${#patches[@]} patches)" >&2
git_k am --abort >/dev/null 2>&1 || true
# Re-applying the series from pristine rewrites every file it touches; keep
# the timestamps of those whose content ends up the same, so that make only
# rebuilds what the new series really changed.
old_head=$(git_k rev-parse HEAD)
mtimes=$(mktemp)
trap 'rm -f "$mtimes"' EXIT
git_k diff --name-only pristine "$old_head" | while read -r f; do
	[ -e "$src/$f" ] && printf '%s %s\n' "$(stat -c %Y "$src/$f")" "$f"
done >"$mtimes"
git_k checkout -q --detach pristine
git_k reset -q --hard pristine
git_k clean -qfdx
if [ ${#patches[@]} != 0 ]; then
	git_k am -q --whitespace=error-all "${patches[@]}" ||
		die "the series does not apply to the pristine tree (see git -C $src am --show-current-patch)"
fi
git_k rev-parse 'HEAD^{tree}' >"$treefile"
changed=$(git_k diff --name-only "$old_head" HEAD)
while read -r t f; do
	grep -qxF "$f" <<<"$changed" || touch -d "@$t" "$src/$f"
done <"$mtimes"

kmake() {
	# shellcheck disable=SC2046
	make -C "$src" O="$out" $(kmake_vars) "$@"
}

step "configure: tinyconfig + ${frags[*]#"$top"/}" >&2
# The fragments as one: the last line about an option wins.
config=$out/.config.fragment
cat "${frags[@]}" | awk '
	/^CONFIG_[A-Z0-9_]+=/ { opt = $0; sub(/=.*/, "", opt) }
	/^# CONFIG_[A-Z0-9_]+ is not set/ { opt = $2 }
	opt != "" { last[opt] = $0; order[++n] = opt; opt = "" }
	END { for (i = 1; i <= n; i++) if (!done[order[i]]++) print last[order[i]] }
' >"$config"
kmake -s KCONFIG_CONFIG=.config.new tinyconfig >/dev/null
(cd "$out" && KCONFIG_CONFIG=.config.new "$src/scripts/kconfig/merge_config.sh" -m -Q \
	.config.new "$config" >/dev/null)
kmake -s KCONFIG_CONFIG=.config.new olddefconfig >/dev/null
# Every option the fragments ask for must have survived olddefconfig.
missing=$(grep -E '^(CONFIG_[A-Z0-9_]+=|# CONFIG_[A-Z0-9_]+ is not set)' "$config" |
	while read -r line; do
		case "$line" in
		"# "*) opt=${line#\# }; opt=${opt% is not set}
		       grep -q "^$opt=" "$out/.config.new" && echo "$line" ;;
		*)     grep -qxF "$line" "$out/.config.new" || echo "$line" ;;
		esac
	done; true)
[ -z "$missing" ] || die "config options not honoured (missing dependency?):"$'\n'"$missing"
cmp -s "$out/.config.new" "$out/.config" || mv "$out/.config.new" "$out/.config"
rm -f "$out/.config.new" "$out/.config.new.old"

log=$dir/build${KCP_OUT:+-$KCP_OUT}.log
step "make bzImage modules headers in $outname (log: $log)" >&2
if ! kmake -j"$(nproc)" bzImage modules headers >"$log" 2>&1; then
	tail -40 "$log" >&2
	die "kernel build failed, full log: $log"
fi
echo "$key" >"$keyfile"
step "kernel built: $out/arch/x86/boot/bzImage" >&2
echo "$dir"
