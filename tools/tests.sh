#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test registry, tools/tests.list ("NAME JOBS TIMEOUT COMMAND...").
#
#   tests.sh list [JOB]           the tests (of JOB), as a table
#   tests.sh select JOB [NAMES]   the registry lines of JOB's tests, each as
#                                 "NAME JOB TIMEOUT COMMAND...", KUnit suites
#                                 included; with NAMES (comma- or space-
#                                 separated), only those, in registry order
#   tests.sh names JOB [NAMES]    the same, the names only, comma-separated
#   tests.sh check JOBS NAMES     fail, listing the known tests, unless every
#                                 name is a test of one of JOBS (comma-
#                                 separated); make check T=... calls this
#
# JOBS is a comma-separated list of the jobs that run a test: check (the
# test kernel of make check, with the Rust provider), check2 (the same
# kernel, in a second guest that make check boots beside the first, so
# that the two cores share the long tests), c (the same series
# configured without it, also part of make check), run (make run, the main
# job), pristine (make check-pristine, the unpatched tree) and qemu (make
# check-qemu: the test kernel, with the patched QEMU of tools/qemu/).  A KUnit
# suite, which the kernel runs at boot, has "-" as TIMEOUT and COMMAND.
#
# Every call checks the whole registry first: a malformed line is an error.
# Plain bash: make check runs it before anything is installed.
# KCP_TESTS_LIST=FILE reads another registry (the workbench's own tests).

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
registry=${KCP_TESTS_LIST:-$here/tests.list}
JOBS="check check2 c run pristine qemu"

die() {
	echo "error: $*" >&2
	exit 1
}

[ -r "$registry" ] || die "no test registry $registry"

# The registry as "name job timeout command" lines, one per job, checked.
lines=()
declare -A seen=()
n=0
while read -r name jobs timeout cmd || [ -n "$name" ]; do
	n=$((n + 1))
	case "$name" in "" | \#*) continue ;; esac
	where="${registry##*/}:$n"
	[[ $name =~ ^[A-Za-z0-9_.:-]+$ ]] || die "$where: bad test name '$name'"
	if [ "$timeout" = - ] || [ "$cmd" = - ]; then
		[ "$timeout" = - ] && [ "$cmd" = - ] ||
			die "$where: a KUnit suite has '-' for both TIMEOUT and COMMAND"
	else
		[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "$where: TIMEOUT '$timeout' is not a number of seconds"
		[ -n "$cmd" ] || die "$where: no COMMAND"
	fi
	[ -n "$jobs" ] || die "$where: no JOBS"
	for job in ${jobs//,/ }; do
		case " $JOBS " in
		*" $job "*) ;;
		*) die "$where: JOB '$job' is not one of: $JOBS" ;;
		esac
		[ -z "${seen[$job/$name]:-}" ] || die "$where: test '$name' already at ${seen[$job/$name]}"
		seen[$job/$name]=$where
		lines+=("$name $job $timeout $cmd")
	done
done <"$registry"

# known JOB: the names of JOB's tests, in registry order.
known() {
	local l
	for l in "${lines[@]}"; do
		case "${l#* }" in "$1 "*) echo "${l%% *}" ;; esac
	done
}

# check_names JOBS NAMES: every name must be a test of one of JOBS.
check_names() {
	local jobs=$1 want=$2 name job all
	all=$(for job in ${jobs//,/ }; do known "$job"; done | awk '!seen[$0]++' | paste -sd' ' -)
	[ -n "${want//[, ]/}" ] || die "T= names no test; the tests of make ${jobs%%,*}: $all"
	for name in ${want//,/ }; do
		case " $all " in
		*" $name "*) ;;
		*) die "no test '$name' in make ${jobs%%,*}; its tests: $all (make list-tests)" ;;
		esac
	done
}

select_tests() {
	local job=$1 want=${2:-} l
	for l in "${lines[@]}"; do
		case "${l#* }" in "$job "*) ;; *) continue ;; esac
		if [ -n "$want" ]; then
			case ",${want// /,}," in *",${l%% *},"*) ;; *) continue ;; esac
		fi
		echo "$l"
	done
	return 0
}

cmd=${1:-list}
case "$cmd" in
list)
	job=${2:-}
	printf '%-34s %-10s %-8s %s\n' NAME JOB TIMEOUT COMMAND
	for l in "${lines[@]}"; do
		read -r name j timeout c <<<"$l"
		[ -z "$job" ] || [ "$j" = "$job" ] || continue
		printf '%-34s %-10s %-8s %s\n' "$name" "$j" "$timeout" "$c"
	done
	;;
select)
	# NAMES may include tests of other jobs (make check's two kernels):
	# "check" is what refuses a name that no job has.
	[ $# -ge 2 ] || die "usage: tests.sh select JOB [NAMES]"
	select_tests "$2" "${3:-}"
	;;
names)
	[ $# -ge 2 ] || die "usage: tests.sh names JOB [NAMES]"
	[ -z "${3:-}" ] || check_names "$2" "$3"
	select_tests "$2" "${3:-}" | cut -d' ' -f1 | paste -sd, -
	;;
check)
	[ $# -ge 3 ] || die "usage: tests.sh check JOBS NAMES"
	check_names "$2" "$3"
	;;
*) die "usage: tests.sh list [JOB] | select JOB [NAMES] | names JOB [NAMES] | check JOBS NAMES" ;;
esac
