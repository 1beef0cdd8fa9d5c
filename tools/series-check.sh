#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make series-check: every patch of the series builds.  In the workbench's
# tree, each commit of the series is checked out in turn and built
# incrementally in a build directory of its own ($dir/out-series, copied
# from the test kernel's out/ the first time) with the test kernel's
# configuration (options a patch does not have yet are dropped) and
# tools/series-check.config, which builds the provider interface before
# the patch of its user; then the
# tree is put back as it was, timestamps included, so that the workbench's
# own builds stay incremental.  Prints a table: patch, result, time.  At
# the end, the rustdoc of the whole series, which must be warning-free.

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.mk"
. "$here/lib.sh"

"$here/setup.sh" --check >/dev/null || "$here/setup.sh"
step "the workbench's patched tree (tools/build-kernel.sh)"
dir=$("$here/build-kernel.sh" | tail -1)
src=$dir/linux
out=$dir/out-series
git_k() { git -C "$src" -c advice.detachedHead=false "$@"; }
head=$(git_k rev-parse HEAD)
[ -z "$(git_k status --porcelain --untracked-files=no)" ] ||
	die "$src has uncommitted changes; commit them first"

if [ ! -e "$out/.config" ]; then
	step "copy $dir/out to $out (once), to build incrementally"
	cp -a "$dir/out" "$out"
fi

# Put the tree back at HEAD on exit, with the timestamps it has now.
mtimes=$(mktemp)
git_k diff --name-only pristine HEAD | while read -r f; do
	[ -e "$src/$f" ] && printf '%s %s\n' "$(stat -c %Y "$src/$f")" "$f"
done >"$mtimes"
restore() {
	git_k checkout -q --detach "$head"
	while read -r t f; do
		[ -e "$src/$f" ] && touch -d "@$t" "$src/$f"
	done <"$mtimes"
	rm -f "$mtimes"
}
trap restore EXIT

# shellcheck disable=SC2046
kmake() { make -C "$src" O="$out" $(kmake_vars) "$@"; }

rows=()
fail=0
n=0
for c in $(git_k rev-list --reverse pristine..HEAD); do
	n=$((n + 1))
	subject=$(git_k log -1 --format=%s "$c")
	git_k checkout -q --detach "$c"
	log=$dir/series-check-$(printf %02d $n).log
	t0=$(date +%s)
	step "patch $n/$(git_k rev-list --count pristine..HEAD "$head" 2>/dev/null || echo ?): $subject"
	result=passed
	{
		kmake -s KCONFIG_CONFIG=.config.new tinyconfig >/dev/null &&
			(cd "$out" && KCONFIG_CONFIG=.config.new "$src/scripts/kconfig/merge_config.sh" \
				-m -Q .config.new "$here/kvm-test.config" "$here/series-check.config" \
				>/dev/null) &&
			kmake -s KCONFIG_CONFIG=.config.new olddefconfig >/dev/null &&
			{ cmp -s "$out/.config.new" "$out/.config" || mv "$out/.config.new" "$out/.config"; } &&
			rm -f "$out/.config.new" "$out/.config.new.old" &&
			kmake -j"$(nproc)" bzImage modules
	} >"$log" 2>&1 || result=FAILED
	secs=$(($(date +%s) - t0))
	[ "$result" = passed ] || { fail=1; tail -20 "$log"; }
	rows+=("$(printf '| %2d | %-66s | %-6s | %4s s |' "$n" "$subject" "$result" "$secs")")
	echo "${rows[-1]}"
done

step "rustdoc of the series (make rustdoc), warning-free"
log=$dir/series-check-rustdoc.log
git_k checkout -q --detach "$head"
t0=$(date +%s)
result=passed
kmake rustdoc >"$log" 2>&1 || result=FAILED
grep -q 'warning' "$log" && result="FAILED (warnings)"
[ "$result" = passed ] || { fail=1; grep -A8 warning "$log" | head -30; }
rows+=("$(printf '| %2s | %-66s | %-6s | %4s s |' - "make rustdoc" "$result" "$(($(date +%s) - t0))")")

echo
echo "|  # | patch                                                              | result |   time |"
echo "| -- | ------------------------------------------------------------------ | ------ | ------ |"
printf '%s\n' "${rows[@]}"
exit $fail
