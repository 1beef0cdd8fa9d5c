#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Pack the test initramfs with the kernel's own gen_init_cpio:
#   mkinitramfs.sh OUT_DIR STAGE_DIR OUTPUT
# STAGE_DIR holds lib/modules/*.ko and tests/ (binaries, scripts, list);
# busybox, /init and the device nodes are added here.

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1 stage=$2 output=$3

list=$(mktemp)
trap 'rm -f "$list"' EXIT
{
	for d in /bin /dev /proc /sys /tmp /lib /lib/modules /tests /root; do
		echo "dir $d 755 0 0"
	done
	echo "nod /dev/console 600 0 0 c 5 1"
	echo "nod /dev/null 666 0 0 c 1 3"
	echo "file /bin/busybox /bin/busybox 755 0 0"
	echo "slink /bin/sh busybox 777 0 0"
	echo "file /init $here/guest/init 755 0 0"
	(cd "$stage" && find . -mindepth 1 | sort) | while read -r f; do
		f=${f#.}
		case "$f" in /lib | /lib/modules | /tests) continue ;; esac
		if [ -d "$stage$f" ]; then
			echo "dir $f 755 0 0"
		else
			echo "file $f $stage$f $(stat -c %a "$stage$f") 0 0"
		fi
	done
} >"$list"
# One timestamp for every entry, and none in the gzip header: the same
# files give the same archive, so that the guest unpacks the same bytes
# each run (make run's figures under -icount repeat only then).
"$out/usr/gen_init_cpio" -t 0 "$list" | gzip -1 -n >"$output.tmp"
mv "$output.tmp" "$output"
