// SPDX-License-Identifier: GPL-2.0
/*
 * Print the KVM capabilities that matter for coalesced I/O, as the system
 * (/dev/kvm) and a VM see them.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

static const struct {
	const char *name;
	int cap;
} caps[] = {
	{ "KVM_CAP_COALESCED_MMIO", KVM_CAP_COALESCED_MMIO },
	{ "KVM_CAP_COALESCED_PIO", KVM_CAP_COALESCED_PIO },
	{ "KVM_CAP_IOEVENTFD", KVM_CAP_IOEVENTFD },
	{ "KVM_CAP_NR_VCPUS", KVM_CAP_NR_VCPUS },
	{ "KVM_CAP_MAX_VCPUS", KVM_CAP_MAX_VCPUS },
};

int main(void)
{
	int kvm, vm;
	unsigned int i;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("open /dev/kvm");
		return 1;
	}
	printf("KVM_GET_API_VERSION %d\n", ioctl(kvm, KVM_GET_API_VERSION, 0));
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		perror("KVM_CREATE_VM");
		return 1;
	}
	printf("%-24s %8s %8s\n", "capability", "system", "vm");
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		printf("%-24s %8d %8d\n", caps[i].name,
		       ioctl(kvm, KVM_CHECK_EXTENSION, caps[i].cap),
		       ioctl(vm, KVM_CHECK_EXTENSION, caps[i].cap));
	close(vm);
	close(kvm);
	return 0;
}
