// SPDX-License-Identifier: GPL-2.0
/*
 * An experiment, not run by the workbench (Documentation/real-qemu.md,
 * "A kernel without exact zones, simulated"): an LD_PRELOAD library that
 * makes the patched QEMU believe the kernel offers
 * KVM_CAP_COALESCED_PIO_EXACT, logs its pio zone (un)registrations to
 * stderr and passes them on without the exact flag, as plain zones (the
 * current kernel rejects pio values other than 0 and 1).  It shows what
 * QEMU registers with the capability, and what a plain 0xcf8+4 zone does
 * to the 0xcf9 reset.  Built on the host with
 *   gcc -shared -fPIC -O2 -Wall -o shim.so plain-zone-shim.c
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

int ioctl(int fd, unsigned long req, ...)
{
	static int (*real)(int, unsigned long, ...);
	struct kvm_coalesced_mmio_zone *z, copy;
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!real)
		real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	if (req == KVM_CHECK_EXTENSION && (unsigned long)arg == 252)
		return 1;
	if (req == KVM_REGISTER_COALESCED_MMIO || req == KVM_UNREGISTER_COALESCED_MMIO) {
		z = arg;
		if (z->pio) {
			fprintf(stderr, "shim: %s 0x%llx+%u pio %u\n",
				req == KVM_REGISTER_COALESCED_MMIO ? "register" : "unregister",
				(unsigned long long)z->addr, z->size, z->pio);
			copy = *z;
			copy.pio &= 1;
			return real(fd, req, &copy);
		}
	}
	return real(fd, req, arg);
}
