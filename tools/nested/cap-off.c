// SPDX-License-Identifier: GPL-2.0
/*
 * LD_PRELOAD library for the nested-qemu test's "off" run: QEMU sees
 * KVM_CAP_COALESCED_PIO and KVM_CAP_COALESCED_PIO_EXACT as 0, as on a kernel
 * without coalesced PIO, so it registers no pio zone and every port write
 * exits to it.  Every other ioctl goes to the kernel unchanged.  Built by
 * tools/mknested.sh against the C library that QEMU's binary uses.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

/* The system's headers may predate exact-width zones. */
#ifndef KVM_CAP_COALESCED_PIO_EXACT
#define KVM_CAP_COALESCED_PIO_EXACT 252
#endif

int ioctl(int fd, unsigned long req, ...)
{
	static int (*real)(int, unsigned long, ...);
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!real)
		real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	if (req == KVM_CHECK_EXTENSION &&
	    ((unsigned long)arg == KVM_CAP_COALESCED_PIO ||
	     (unsigned long)arg == KVM_CAP_COALESCED_PIO_EXACT))
		return 0;
	return real(fd, req, arg);
}
