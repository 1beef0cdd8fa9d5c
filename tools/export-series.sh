#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# export-series.sh [TREE]: write the commits pristine..HEAD of the patched
# kernel tree (default: the workbench's, $KCP_CACHE/build/<base>/linux) to
# patches/ as the new series, replacing the old one.

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/versions.mk"
. "$here/lib.sh"

tree=${1:-$(ls -d "$KCP_CACHE"/build/*/linux | head -1)}
git -C "$tree" rev-parse -q --verify pristine >/dev/null ||
	die "$tree has no 'pristine' tag: not a workbench tree"
[ -z "$(git -C "$tree" status --porcelain --untracked-files=no)" ] ||
	die "$tree has uncommitted changes: commit them first"
n=$(git -C "$tree" rev-list --count pristine..HEAD)
[ "$n" -gt 0 ] || die "no commits on top of pristine in $tree"
rm -f "$top"/patches/*.patch
git -C "$tree" format-patch -q --zero-commit -o "$top/patches" pristine..HEAD
echo "exported $n patches to patches/:"
ls "$top/patches"
