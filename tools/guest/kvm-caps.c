// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-caps                print the KVM capabilities that matter for
 *                         coalesced I/O, as /dev/kvm and a VM see them
 * kvm-caps CAP            print one capability's value (system), e.g.
 *                         "kvm-caps COALESCED_PIO"
 * kvm-caps --queries N    ask /dev/kvm and a VM N times each for
 *                         KVM_CAP_COALESCED_PIO and
 *                         KVM_CAP_COALESCED_PIO_EXACT; print how many
 *                         answers were 1 and fail unless all were
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
	{ "COALESCED_PIO_EXACT", KVM_CAP_COALESCED_PIO_EXACT },
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

static int queries(unsigned long n)
{
	static const int qcaps[] = { KVM_CAP_COALESCED_PIO, KVM_CAP_COALESCED_PIO_EXACT };
	int kvm = open_kvm(), vm = create_vm(kvm), fd, r;
	unsigned long i, ones = 0, total = 0;
	unsigned int c;

	for (i = 0; i < n; i++) {
		for (c = 0; c < 2; c++) {
			for (fd = 0; fd < 2; fd++) {
				r = ioctl(fd ? vm : kvm, KVM_CHECK_EXTENSION, qcaps[c]);
				total++;
				if (r == 1)
					ones++;
			}
		}
	}
	printf("queries: %lu, %lu of them answered 1\n", total, ones);
	close(vm);
	close(kvm);
	return ones == total ? 0 : 1;
}

int main(int argc, char **argv)
{
	unsigned int i;
	int kvm, vm;

	if (argc == 3 && !strcmp(argv[1], "--queries"))
		return queries(strtoul(argv[2], NULL, 0));

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
