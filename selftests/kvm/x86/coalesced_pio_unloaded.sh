#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run coalesced_pio_module_test's without_module case with
# kvm_coalesced_pio unloaded, then load the module again.
#   coalesced_pio_unloaded.sh [MODULE.ko]   (default /lib/modules/kvm_coalesced_pio.ko)
# Every VM of the earlier tests is gone, so the module must unload.

ko=${1:-/lib/modules/kvm_coalesced_pio.ko}
test=$(dirname "$0")/coalesced_pio_module_test

if [ ! -d /sys/module/kvm_coalesced_pio ]; then
	exec "$test" -t without_module
fi
if ! rmmod kvm_coalesced_pio; then
	echo "# cannot unload kvm_coalesced_pio: refcnt $(cat /sys/module/kvm_coalesced_pio/refcnt 2>/dev/null), no VM should be left"
	exit 1
fi
"$test" -t without_module
rc=$?
if ! insmod "$ko"; then
	echo "# cannot load $ko again"
	rc=1
fi
exit $rc
