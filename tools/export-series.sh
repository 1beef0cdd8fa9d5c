#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel series and its sources.  Every file the series adds lives in
# this repository as source (see series_src in tools/lib.sh for where); the
# patches in patches/ are generated, and only changes to files the kernel
# already has are kept as diffs.
#
#   export-series.sh [TREE]          the commits pristine..HEAD of TREE become
#                                    patches/ and the sources of the files
#                                    they add (default TREE: the workbench's
#                                    tree, $KCP_CACHE/build/<key>/linux)
#   export-series.sh --sources [TREE]
#                                    the other way round: fold the sources
#                                    edited in this repository into the
#                                    commits of TREE that last touched them,
#                                    then export as above
#   export-series.sh --check [TREE]  fail if TREE (with the series applied,
#                                    as build-kernel.sh leaves it) and the
#                                    sources differ (tools/lint.sh)
#
# patches/0000-cover-letter.patch is written from patches/cover-letter.txt
# with the shortlog and diffstat of the series.

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/versions.mk"
. "$here/lib.sh"

mode=patches
case "${1:-}" in
--check) mode=check; shift ;;
--sources) mode=sources; shift ;;
-h | --help) sed -n '3,24p' "$0"; exit 0 ;;
-*) die "unknown option $1 (see $0 --help)" ;;
esac

tree=${1:-$(workbench_tree)}
[ -d "$tree/.git" ] || die "$tree is not a git tree (build the kernel first: make kdir)"
git_t() {
	git -C "$tree" -c user.name="$SERIES_AUTHOR_NAME" \
		-c user.email="$SERIES_AUTHOR_EMAIL" -c core.autocrlf=false -c core.abbrev=9 "$@"
}
# The base must be the pristine import: the root commit, tagged pristine,
# whose tree is the unpacked tarball.
git_t rev-parse -q --verify pristine >/dev/null ||
	die "$tree has no 'pristine' tag: not a tree imported by tools/build-kernel.sh"
[ "$(git_t rev-list --max-parents=0 HEAD)" = "$(git_t rev-parse 'pristine^{commit}')" ] ||
	die "$tree: HEAD does not grow from the pristine import"
[ "$(git_t rev-list --count --merges pristine..HEAD)" = 0 ] ||
	die "$tree: merges between pristine and HEAD; the series must be linear"
if [ "$mode" != check ] && [ -n "$(git_t status --porcelain --untracked-files=no)" ]; then
	die "$tree has uncommitted changes: commit them first"
fi

# The cover letter, on stdout: cover-letter.txt's text, then what git
# format-patch puts below it, for the series pristine..HEAD.
cover_letter() {
	local n
	n=$(git_t rev-list --count pristine..HEAD)
	printf 'From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n'
	printf 'From: %s <%s>\n' "$SERIES_AUTHOR_NAME" "$SERIES_AUTHOR_EMAIL"
	sed -n '1s/^/Subject: [PATCH v'"$SERIES_VERSION"' 00\/'"$(printf %02d "$n")"'] /p' "$top/patches/cover-letter.txt"
	echo
	sed '1,2d' "$top/patches/cover-letter.txt"
	echo
	git_t shortlog pristine..HEAD | sed 's/^/  /; s/^  $//'
	echo
	git_t diff --stat=72 --summary pristine HEAD
	echo
	echo "base-commit: $(git_t rev-parse 'pristine^{commit}') (Debian $KERNEL_DEB_PKG $KERNEL_DEB_VERSION)"
}

# The files the series adds (kernel paths), and the sources managed here.
added() { git_t diff --name-only --diff-filter=A pristine HEAD; }
managed() {
	(cd "$top" && git ls-files -co --exclude-standard -- "${SERIES_SOURCES[@]}") | sort
}

check() {
	local f src bad=0 want
	want=$(added | while read -r f; do series_src "$f"; done | sort)
	while read -r src; do
		[ -n "$src" ] || continue
		if ! grep -qxF "$src" <<<"$want"; then
			echo "$src: no patch of the series adds it (remove it, or add it to the series)"
			bad=1
		fi
	done < <(managed)
	while read -r f; do
		src=$(series_src "$f")
		if [ ! -e "$top/$src" ]; then
			echo "$src: missing; the series adds $f"
			bad=1
		elif ! git_t show "HEAD:$f" | cmp -s - "$top/$src"; then
			echo "$src differs from the $f that the series adds:"
			git_t show "HEAD:$f" | diff -u --label "series:$f" --label "$src" - "$top/$src" | head -20 | sed 's/^/  /'
			bad=1
		fi
	done < <(added)
	# The cover letter is what the export writes from cover-letter.txt,
	# but for the id of the pristine import in base-commit: the import is
	# committed on each machine, so its id is the machine's own.
	local cover=$top/patches/0000-cover-letter.patch
	if ! cmp -s <(cover_letter | grep -v '^base-commit: ') <(grep -v '^base-commit: ' "$cover"); then
		echo "patches/0000-cover-letter.patch is not written from patches/cover-letter.txt and the series:"
		diff -u --label generated --label patches/0000-cover-letter.patch \
			<(cover_letter | grep -v '^base-commit: ') <(grep -v '^base-commit: ' "$cover") |
			head -20 | sed 's/^/  /'
		bad=1
	fi
	if [ $bad = 1 ]; then
		echo "to regenerate the patches from the sources: tools/export-series.sh --sources"
		return 1
	fi
	echo "series sources: $(added | wc -l) files added by the series match their sources"
}

if [ "$mode" = check ]; then
	check
	exit
fi

if [ "$mode" = sources ]; then
	# Fold each edited source into the last commit that touched its file.
	folded=0
	while read -r src; do
		f=$(series_kernel_path "$src")
		if git_t cat-file -e "HEAD:$f" 2>/dev/null &&
			git_t show "HEAD:$f" | cmp -s - "$top/$src"; then
			continue
		fi
		last=$(git_t log -1 --format=%H pristine..HEAD -- "$f")
		[ -n "$last" ] || die "$src: no commit of the series adds $f; commit it in $tree first"
		mkdir -p "$(dirname "$tree/$f")"
		cp "$top/$src" "$tree/$f"
		git_t add -f "$f"
		git_t commit -q --fixup="$last"
		echo "folded $src into $(git_t log -1 --format='%h %s' "$last")"
		folded=$((folded + 1))
	done < <(managed)
	if [ $folded != 0 ]; then
		GIT_SEQUENCE_EDITOR=: git_t rebase -q -i --autosquash pristine ||
			die "the fixups do not apply cleanly; finish the rebase in $tree"
	fi
fi

n=$(git_t rev-list --count pristine..HEAD)
[ "$n" -gt 0 ] || die "no commits on top of pristine in $tree"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git_t format-patch -q --zero-commit --no-signature --subject-prefix="PATCH v$SERIES_VERSION" \
	-o "$tmp" pristine..HEAD
cover_letter >"$tmp/0000-cover-letter.patch"
find "$top/patches" -maxdepth 1 -name '*.patch' -delete
cp "$tmp"/*.patch "$top/patches/"

# The sources of the files the series adds, as the last commit has them.
while read -r src; do
	rm -f "$top/$src"
done < <(managed)
while read -r f; do
	src=$(series_src "$f")
	mkdir -p "$(dirname "$top/$src")"
	git_t show "HEAD:$f" >"$top/$src"
done < <(added)
echo "exported $n patches and a cover letter to patches/, and $(added | wc -l) sources"
check >/dev/null
