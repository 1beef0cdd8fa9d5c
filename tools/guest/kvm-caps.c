// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-caps                print the KVM capabilities that matter for
 *                         coalesced I/O, as /dev/kvm and a VM see them
 * kvm-caps CAP            print one capability's value (system), e.g.
 *                         "kvm-caps COALESCED_PIO"
 * kvm-caps --hold-pio-zone PORT
 *                         create a VM, register a coalesced PIO zone at PORT,
 *                         print "ready" and keep the VM until stdin closes
 * kvm-caps --churn STOPFILE
 *                         until STOPFILE exists: create a VM, register a pio
 *                         zone, unregister it, close the VM; count what
 *                         happened (a zone, or EINVAL without a provider;
 *                         any other error fails)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

static const struct {
	const char *name;
	int cap;
} caps[] = {
	{ "COALESCED_MMIO", KVM_CAP_COALESCED_MMIO },
	{ "COALESCED_PIO", KVM_CAP_COALESCED_PIO },
	{ "IOEVENTFD", KVM_CAP_IOEVENTFD },
	{ "NR_VCPUS", KVM_CAP_NR_VCPUS },
	{ "MAX_VCPUS", KVM_CAP_MAX_VCPUS },
};

#define NCAPS (sizeof(caps) / sizeof(caps[0]))

static int open_kvm(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (kvm < 0) {
		perror("open /dev/kvm");
		exit(1);
	}
	return kvm;
}

static int create_vm(int kvm)
{
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);

	if (vm < 0) {
		perror("KVM_CREATE_VM");
		exit(1);
	}
	return vm;
}

static int hold_pio_zone(unsigned long port)
{
	struct kvm_coalesced_mmio_zone zone = {
		.addr = port, .size = 1, .pio = 1,
	};
	int vm = create_vm(open_kvm());
	char c;

	if (ioctl(vm, KVM_REGISTER_COALESCED_MMIO, &zone)) {
		fprintf(stderr, "KVM_REGISTER_COALESCED_MMIO pio port %#lx: %s\n",
			port, strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}

static int churn(const char *stopfile)
{
	struct kvm_coalesced_mmio_zone zone = {
		.addr = 0x70, .size = 1, .pio = 1,
	};
	unsigned long vms = 0, zones = 0, einval = 0;
	int kvm = open_kvm(), vm;

	while (access(stopfile, F_OK)) {
		vm = create_vm(kvm);
		vms++;
		if (!ioctl(vm, KVM_REGISTER_COALESCED_MMIO, &zone)) {
			zones++;
			/* Every other VM dies with its zone still registered. */
			if (vms & 1 && ioctl(vm, KVM_UNREGISTER_COALESCED_MMIO, &zone)) {
				perror("KVM_UNREGISTER_COALESCED_MMIO");
				return 1;
			}
		} else if (errno == EINVAL) {
			einval++;
		} else {
			perror("KVM_REGISTER_COALESCED_MMIO");
			return 1;
		}
		close(vm);
	}
	printf("churn: %lu VMs, %lu pio zones registered, %lu EINVAL (no provider)\n",
	       vms, zones, einval);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int i;
	int kvm, vm;

	if (argc == 3 && !strcmp(argv[1], "--hold-pio-zone"))
		return hold_pio_zone(strtoul(argv[2], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "--churn"))
		return churn(argv[2]);

	kvm = open_kvm();
	if (argc == 2) {
		for (i = 0; i < NCAPS; i++) {
			if (!strcmp(argv[1], caps[i].name)) {
				printf("%d\n", ioctl(kvm, KVM_CHECK_EXTENSION, caps[i].cap));
				return 0;
			}
		}
		fprintf(stderr, "unknown capability %s\n", argv[1]);
		return 2;
	}

	vm = create_vm(kvm);
	printf("%-24s %8s %8s\n", "KVM_CAP_", "system", "vm");
	for (i = 0; i < NCAPS; i++)
		printf("%-24s %8d %8d\n", caps[i].name,
		       ioctl(kvm, KVM_CHECK_EXTENSION, caps[i].cap),
		       ioctl(vm, KVM_CHECK_EXTENSION, caps[i].cap));
	close(vm);
	close(kvm);
	return 0;
}
