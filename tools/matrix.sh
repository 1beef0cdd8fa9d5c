#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make matrix: build-only, what the kernel test robot would build.  The
# workbench's patched tree, in a directory of its own per configuration
# ($KCP_CACHE/matrix/<name>), from tinyconfig plus tools/matrix/<name>.config,
# with the pinned toolchain (LLVM=-19, Debian's rustc), cross-compiled for
# the other architectures that have both Rust and KVM.  Each build covers
# virt/kvm, the bindings and kernel::kvm with W=1 CLIPPY=1 (and vmlinux where the
# configuration links the provider into it), and fails on any warning in
# them.  Prints a table: configuration, result, time.
#
#   matrix.sh [NAME...]     only these configurations (tools/matrix/*.config)
#
# The table of the last full run is in Documentation/build-matrix.md.

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.mk"
. "$here/lib.sh"

"$here/setup.sh" --check >/dev/null || "$here/setup.sh"
step "the workbench's patched tree (tools/build-kernel.sh)"
dir=$("$here/build-kernel.sh" | tail -1)
# A checkout of its own (a git worktree of the workbench's tree, at the
# series' commit), so that make series-check or a new series can change
# the workbench's tree while the matrix builds; moved to a new series with
# git checkout, which touches only the files that changed.
src=$KCP_CACHE/matrix/src
head=$(git -C "$dir/linux" rev-parse HEAD)
if ! git -C "$src" rev-parse -q --verify HEAD >/dev/null 2>&1; then
	step "check out the series into $src (once)"
	rm -rf "$src"
	git -C "$dir/linux" worktree prune
	git -C "$dir/linux" worktree add -q --detach "$src" "$head"
elif [ "$(git -C "$src" rev-parse HEAD)" != "$head" ]; then
	git -C "$src" checkout -q --detach "$head"
fi

names=("$@")
if [ ${#names[@]} = 0 ]; then
	for f in "$here"/matrix/*.config; do
		names+=("$(basename "$f" .config)")
	done
fi

# The architecture and the make targets of a configuration: its first
# lines, "# arch: ARCH" and "# targets: TARGET...".
field() { sed -n "s/^# $2: //p" "$here/matrix/$1.config"; }

# Every compiler diagnostic of a build log, one line each: "FILE: warning: ...".
# A C diagnostic names its file on its own line; a Rust one (rustc, clippy)
# on the "--> FILE:LINE:COL" line that follows it.
diagnostics() {
	awk '
		/^[^ ]+:[0-9]+:[0-9]+: (warning|error)/ { f = $1; sub(/:.*/, "", f); print f ": " $0; next }
		/^(warning|error)(\[[A-Za-z0-9_]+\])?: / {
			if ($0 ~ /^warning: [0-9]+ warnings? emitted/) next
			pending = $0; next
		}
		pending != "" && /^ *--> / {
			f = $2; sub(/:.*/, "", f); print f ": " pending; pending = ""; next
		}
		pending != "" && /^$/ { print "(no file): " pending; pending = "" }
	' "$1" | sed 's|^\./||; s|^'"$src"'/||'
}
# The files this series is about: a diagnostic there fails the build.
# W=1 finds things elsewhere in some architectures' own code too (arm64's
# generated syscall table, for one), and rustc warns about the flags of
# some architectures (s390's -Ctarget-feature=+backchain) in every crate,
# without a file; those are counted, not judged.
our_paths='^(virt/kvm/|arch/[a-z0-9]+/kvm/|rust/|include/kvm/|include/linux/kvm|include/uapi/linux/kvm)'

results=()
fail=0
for name in "${names[@]}"; do
	frag=$here/matrix/$name.config
	[ -r "$frag" ] || die "no configuration $frag (tools/matrix/)"
	arch=$(field "$name" arch)
	targets=$(field "$name" targets)
	out=$KCP_CACHE/matrix/$name
	log=$out.log
	mkdir -p "$out"
	# shellcheck disable=SC2046
	kmake() { make -C "$src" O="$out" ARCH="$arch" $(kmake_vars) "$@"; }
	t0=$(date +%s)
	step "$name: ARCH=$arch, make W=1 $targets (log: $log)"
	result=passed
	{
		kmake -s tinyconfig >/dev/null &&
			(cd "$out" && "$src/scripts/kconfig/merge_config.sh" -m -Q .config "$frag" >/dev/null) &&
			kmake -s olddefconfig >/dev/null
	} >"$log" 2>&1 || result="FAILED (configure)"
	if [ "$result" = passed ]; then
		# Every option the fragment asks for must have survived.
		while read -r line; do
			case "$line" in
			"# CONFIG_"*) opt=${line#\# }; opt=${opt% is not set}
				! grep -q "^$opt=" "$out/.config" ;;
			CONFIG_*) grep -qxF "$line" "$out/.config" ;;
			*) true ;;
			esac || { echo "not honoured: $line" >>"$log"; result="FAILED (config: $line)"; }
		done <"$frag"
	fi
	if [ "$result" = passed ]; then
		# shellcheck disable=SC2086
		if ! kmake W=1 CLIPPY=1 -j"$(nproc)" $targets >>"$log" 2>&1; then
			result="FAILED (build)"
		elif ! ours=$(diagnostics "$log" | grep -E "$our_paths"); then
			others=$(diagnostics "$log" | wc -l)
			[ "$others" = 0 ] || result="passed ($others W=1 elsewhere)"
		else
			result="FAILED (warnings)"
			printf '%s\n' "$ours" | head -20
		fi
	fi
	secs=$(($(date +%s) - t0))
	if [ "${result%% *}" != passed ]; then
		fail=1
		[ "$result" = "FAILED (warnings)" ] ||
			grep -E -B2 -A8 '(warning|error)(\[[A-Za-z0-9_]+\])?:|not honoured' "$log" | head -40 || tail -20 "$log"
	fi
	results+=("$(printf '| %-22s | %-10s | %-48s | %-28s | %5s s |' \
		"$name" "$arch" "$(grep -E '^CONFIG_(KVM|KVM_X86|RUST|KVM_COALESCED_PIO_RUST)=' "$out/.config" 2>/dev/null |
			sed 's/^CONFIG_//' | paste -sd' ' - || true)" "$result" "$secs")")
	echo "${results[-1]}"
done

echo
echo "| configuration          | arch       | options                                          | result                       |   time  |"
echo "| ---------------------- | ---------- | ------------------------------------------------ | ---------------------------- | ------- |"
printf '%s\n' "${results[@]}"
exit $fail
