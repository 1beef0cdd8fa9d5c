#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mutants.sh [NAME...]: prove the tests' strength.  Each mutant breaks the
# series on purpose in one place (tools/mutants.list: a file of the patched
# tree, the text as it is, the text as the mutant has it); for each, the
# series is rebuilt with the mutant as one more patch on top, and
# `make check` runs the tests of tools/mutants.list's T= line on both
# kernels.  A mutant is caught when a test fails; the table names the
# tests that failed.  The lint is skipped (the mutant patch is no part of
# the series), but the host-side check of the bus lookup
# (tools/bus-lookup/check.py) runs on each mutated tree, as the lint does.
# Not part of make check: about 8 minutes a mutant.  It runs on a copy
# of this checkout taken when it starts ($out/repo, with any uncommitted
# changes), so editing the checkout meanwhile changes nothing in the run.
#
# Results: $KCP_CACHE/mutants/<date>/ (one make check log per mutant, and
# table.md).

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/versions.mk"
. "$here/lib.sh"

out=$KCP_CACHE/mutants/$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
# The copy of the checkout that the run builds and tests.
repo=$out/repo
rsync -a --exclude=.git "$top/" "$repo/"
mutant_patch=$repo/patches/9999-mutant.patch
list=$repo/tools/mutants.list
tests=$(sed -n 's/^T: //p' "$list")

step "the series (tools/build-kernel.sh)"
tree=$("$repo/tools/build-kernel.sh" | tail -1)/linux
work=$KCP_CACHE/mutants/src
if ! git -C "$work" rev-parse -q --verify HEAD >/dev/null 2>&1; then
	rm -rf "$work"
	git -C "$tree" worktree prune
	git -C "$tree" worktree add -q --detach "$work" HEAD
fi
base=$(git -C "$tree" rev-parse HEAD)
git -C "$work" checkout -q --detach "$base"
git -C "$work" reset -q --hard

# The list, one directory per mutant: file, old, new, what.
"$PYTHON" - "$list" "$out/m" <<'PY'
import os, sys
src, dst = sys.argv[1:3]
blocks = open(src).read().split("\n\n")
for b in blocks:
    m = {}
    for line in b.splitlines():
        if line.startswith("#") or ":" not in line:
            continue
        key, _, val = line.partition(": ")
        m[key] = val.encode().decode("unicode_escape")
    if "name" not in m:
        continue
    d = os.path.join(dst, m["name"])
    os.makedirs(d)
    for k in ("file", "old", "new", "what"):
        open(os.path.join(d, k), "w").write(m[k])
    open(os.path.join(dst, "order"), "a").write(m["name"] + "\n")
PY

# mutate DIR: the mutant patch of the mutant in DIR, from the series' tree.
mutate() {
	# Each mutant on the series alone, not on the one before it.
	git -C "$work" reset -q --hard "$base"
	"$PYTHON" - "$work/$(cat "$1/file")" "$1/old" "$1/new" <<'PY'
import sys
path, old, new = sys.argv[1], open(sys.argv[2]).read(), open(sys.argv[3]).read()
s = open(path).read()
if s.count(old) != 1:
    sys.exit(f"{path}: the text to mutate is there {s.count(old)} times, not once: {old!r}")
open(path, "w").write(s.replace(old, new))
PY
	git -C "$work" -c user.name=mutant -c user.email=mutant@localhost commit -q -a -m "mutant"
	git -C "$work" format-patch -q --stdout -1 HEAD >"$mutant_patch"
}

names=("$@")
printf '| mutant | what | caught by |\n| --- | --- | --- |\n' >"$out/table.md"
caught_all=1
while read -r name; do
	if [ ${#names[@]} != 0 ] && [[ " ${names[*]} " != *" $name "* ]]; then
		continue
	fi
	m=$out/m/$name
	what=$(cat "$m/what")
	step "mutant $name: $what"
	mutate "$m"
	caught=()
	if ! "$PYTHON" "$repo/tools/bus-lookup/check.py" "$work" 2000 >"$out/$name.bus" 2>&1; then
		caught+=("bus-lookup check (lint)")
	fi
	KCP_NO_LINT=1 make -C "$repo" check T="$tests" >"$out/$name.log" 2>&1 || true
	while read -r test; do
		caught+=("$test")
	done < <(grep -E '^FAIL ' "$out/$name.log" | awk '{ print $2 }' | sort -u)
	grep -q '^error: kernel splat' "$out/$name.log" && caught+=("a kernel splat")
	grep -q '^error: the .* guest hung' "$out/$name.log" && caught+=("the watchdog (a hang)")
	if ! grep -q '^kernels: ' "$out/$name.log" && [ ${#caught[@]} = 0 ]; then
		caught+=("the build (see the log)")
	fi
	if [ ${#caught[@]} = 0 ]; then
		echo "mutant $name SURVIVED: no test failed (log: $out/$name.log)"
		caught_all=0
		printf '| %s | %s | **nothing: survived** |\n' "$name" "$what" >>"$out/table.md"
	else
		echo "mutant $name caught by: ${caught[*]}"
		printf '| %s | %s | %s |\n' "$name" "$what" "$(IFS=,; echo "${caught[*]}" | sed 's/,/, /g')" >>"$out/table.md"
	fi
done <"$out/m/order"
rm -f "$mutant_patch"
git -C "$work" reset -q --hard "$base"
cat "$out/table.md"
echo "results: $out"
[ $caught_all = 1 ]
