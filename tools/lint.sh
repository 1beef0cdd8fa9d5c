#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh BUILD_DIR: the review checks a maintainer would run.
#   - the series applies in order to the pristine tree (build-kernel.sh did
#     that with git am) and every patch passes checkpatch.pl --strict;
#   - the module is rustfmt-clean and contains no unsafe code (workbench.sh
#     builds it with W=1 CLIPPY=1 and fails on any warning);
#   - the shell scripts are shellcheck-clean (warnings and errors).

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/versions.mk"
. "$here/lib.sh"
dir=$1
src=$dir/linux
fail=0

shopt -s nullglob
patches=("$top"/patches/*.patch)
for p in "${patches[@]}"; do
	# Debian's python3 first: its ply and GitPython serve the SPDX check.
	if ! (cd "$src" && PATH=/usr/bin:$PATH scripts/checkpatch.pl --strict --quiet "$p" \
		>/tmp/checkpatch.$$ 2>&1); then
		echo "checkpatch --strict: $(basename "$p"):"
		sed 's/^/  /' /tmp/checkpatch.$$
		fail=1
	fi
done
rm -f /tmp/checkpatch.$$
echo "checkpatch --strict: ${#patches[@]} patches checked"

# The series carries the C sources of selftests/ to
# tools/testing/selftests/kvm: same files.
for f in "$top"/selftests/kvm/x86/*.[ch]; do
	t=$src/tools/testing/selftests/kvm/x86/$(basename "$f")
	if ! cmp -s "$f" "$t"; then
		echo "selftests/kvm/x86/$(basename "$f") differs from the series' copy ($t):"
		echo "  update the selftest patch (see README, 'Changing the series')"
		fail=1
	fi
done

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

rs=("$top"/rust/*.rs)
if [ ${#rs[@]} != 0 ]; then
	# Code, not prose: an unsafe block, fn, impl, trait or extern block.
	if grep -n -E '(^|[^[:alnum:]_])unsafe[[:space:]]*(\{|fn|impl|trait|extern)' "${rs[@]}"; then
		echo "the module must not contain unsafe code"
		fail=1
	fi
	if ! /usr/bin/rustfmt --check --edition 2021 --config-path "$src/.rustfmt.toml" "${rs[@]}"; then
		echo "rustfmt: the module is not formatted"
		fail=1
	fi
	echo "module: no unsafe code, rustfmt-clean"
fi
exit $fail
