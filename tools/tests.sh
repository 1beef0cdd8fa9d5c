#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test registry, tools/tests.list ("NAME JOB TIMEOUT COMMAND...").
#
#   tests.sh list [JOB]           the tests (of JOB), as a table
#   tests.sh select JOB [NAMES]   the registry lines of JOB's tests and of the
#                                 boot-time KUnit suites; with NAMES (comma-
#                                 or space-separated), only those, in registry
#                                 order, and an unknown name is an error that
#                                 lists the known ones
#   tests.sh names JOB [NAMES]    the same, the names only, comma-separated
#
# Every call checks the whole registry first: a malformed line is an error.
# Plain bash: make check runs it before anything is installed.
# KCP_TESTS_LIST=FILE reads another registry (the workbench's own tests).

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
registry=${KCP_TESTS_LIST:-$here/tests.list}

die() {
	echo "error: $*" >&2
	exit 1
}

[ -r "$registry" ] || die "no test registry $registry"

# The registry as "name job timeout command" lines, checked.
lines=()
declare -A seen=()
n=0
while read -r name job timeout cmd || [ -n "$name" ]; do
	n=$((n + 1))
	case "$name" in "" | \#*) continue ;; esac
	where="${registry##*/}:$n"
	[[ $name =~ ^[A-Za-z0-9_.:-]+$ ]] || die "$where: bad test name '$name'"
	case "$job" in
	boot)
		[ "$timeout" = - ] && [ "$cmd" = - ] ||
			die "$where: a boot (KUnit) test has '-' for TIMEOUT and COMMAND"
		;;
	check | run)
		[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "$where: TIMEOUT '$timeout' is not a number of seconds"
		[ -n "$cmd" ] && [ "$cmd" != - ] || die "$where: no COMMAND"
		;;
	*) die "$where: JOB '$job' is not boot, check or run" ;;
	esac
	for j in boot check run; do
		if [ -n "${seen[$j/$name]:-}" ] && { [ "$j" = "$job" ] || [ "$j" = boot ] || [ "$job" = boot ]; }; then
			die "$where: test '$name' already at ${seen[$j/$name]}"
		fi
	done
	seen[$job/$name]=$where
	lines+=("$name $job $timeout $cmd")
done <"$registry"

select_tests() {
	local job=$1 want=${2:-} l name
	local -a all=() known=()
	mapfile -t all < <(for l in "${lines[@]}"; do
		case "${l#* }" in "$job "* | "boot "*) echo "$l" ;; esac
	done)
	for l in "${all[@]}"; do known+=("${l%% *}"); done
	if [ -z "$want" ]; then
		printf '%s\n' "${all[@]}"
		return
	fi
	local -A asked=()
	for name in ${want//,/ }; do
		local found=0 k
		for k in "${known[@]}"; do [ "$k" = "$name" ] && found=1; done
		[ $found = 1 ] || die "no test '$name' in make $job; its tests: ${known[*]} (make list-tests)"
		asked[$name]=1
	done
	[ ${#asked[@]} != 0 ] || die "T= names no test; the tests of make $job: ${known[*]}"
	for l in "${all[@]}"; do
		[ -n "${asked[${l%% *}]:-}" ] && echo "$l"
	done
	return 0
}

cmd=${1:-list}
case "$cmd" in
list)
	job=${2:-}
	printf '%-34s %-6s %-8s %s\n' NAME JOB TIMEOUT COMMAND
	for l in "${lines[@]}"; do
		read -r name j timeout c <<<"$l"
		[ -z "$job" ] || [ "$j" = "$job" ] || [ "$j" = boot ] || continue
		printf '%-34s %-6s %-8s %s\n' "$name" "$j" "$timeout" "$c"
	done
	;;
select)
	[ $# -ge 2 ] || die "usage: tests.sh select JOB [NAMES]"
	select_tests "$2" "${3:-}"
	;;
names)
	[ $# -ge 2 ] || die "usage: tests.sh names JOB [NAMES]"
	sel=$(select_tests "$2" "${3:-}")
	echo "$sel" | cut -d' ' -f1 | paste -sd, -
	;;
*) die "usage: tests.sh list [JOB] | select JOB [NAMES] | names JOB [NAMES]" ;;
esac
