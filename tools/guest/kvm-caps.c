// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-caps                print the KVM capabilities that matter for
 *                         coalesced I/O, as /dev/kvm and a VM see them
 * kvm-caps CAP            print one capability's value (system), e.g.
 *                         "kvm-caps COALESCED_PIO"
 * kvm-caps --hold-pio-zone PORT [--unregister]
 *                         create a VM, register a coalesced PIO zone at PORT
 *                         (and unregister it again), print "ready" and keep
 *                         the VM until stdin closes
 * kvm-caps --churn STOPFILE
 *                         until STOPFILE exists: create a VM, register a pio
 *                         zone, unregister it, close the VM; count what
 *                         happened (a zone, or EINVAL without a provider;
 *                         any other error fails)
 * kvm-caps --out-guest PORT
 *                         create a VM whose guest writes 0x5a to PORT with
 *                         OUTB and halts, register a coalesced PIO zone at
 *                         PORT and print "register: <result>"; on a line on
 *                         stdin run the guest and print "out: coalesced"
 *                         (the write is in the ring and the guest halted) or
 *                         "out: exit" (it exited to userspace); then keep the
 *                         VM until stdin closes
 */
#include <sys/mman.h>
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

static int hold_pio_zone(unsigned long port, int unregister)
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
	if (unregister && ioctl(vm, KVM_UNREGISTER_COALESCED_MMIO, &zone)) {
		fprintf(stderr, "KVM_UNREGISTER_COALESCED_MMIO pio port %#lx: %s\n",
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

/* mov dx, PORT; mov al, 0x5a; out dx, al; hlt, in real mode at 0. */
static int out_guest(unsigned long port)
{
	unsigned char code[] = { 0xba, port & 0xff, port >> 8, 0xb0, 0x5a, 0xee, 0xf4 };
	struct kvm_coalesced_mmio_zone zone = {
		.addr = port, .size = 1, .pio = 1,
	};
	int kvm = open_kvm(), vm = create_vm(kvm), vcpu, run_size, off, r;
	struct kvm_userspace_memory_region slot = {
		.memory_size = 0x1000,
	};
	struct kvm_coalesced_mmio_ring *ring;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0, .rflags = 2 };
	struct kvm_coalesced_mmio *e;
	struct kvm_run *run;
	char line[16], c;
	void *mem;

	mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap guest memory");
		return 1;
	}
	memcpy(mem, code, sizeof(code));
	slot.userspace_addr = (unsigned long)mem;
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	off = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) || vcpu < 0 ||
	    run_size <= 0 || off <= 0) {
		perror("set up the VM");
		return 1;
	}
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	ring = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu,
		    (off_t)off * getpagesize());
	if (run == MAP_FAILED || ring == MAP_FAILED) {
		perror("mmap the vCPU");
		return 1;
	}
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs)) {
		perror("KVM_GET_SREGS");
		return 1;
	}
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) || ioctl(vcpu, KVM_SET_REGS, &regs)) {
		perror("set the vCPU's registers");
		return 1;
	}

	r = ioctl(vm, KVM_REGISTER_COALESCED_MMIO, &zone);
	printf("register: %s\n", r ? strerror(errno) : "OK");
	fflush(stdout);

	if (!fgets(line, sizeof(line), stdin))
		return 1;
	if (ioctl(vcpu, KVM_RUN, 0)) {
		perror("KVM_RUN");
		return 1;
	}
	e = &ring->coalesced_mmio[ring->first];
	if (run->exit_reason == KVM_EXIT_HLT && ring->last == ring->first + 1 &&
	    e->phys_addr == port && e->len == 1 && e->pio == 1 && e->data[0] == 0x5a)
		printf("out: coalesced\n");
	else if (run->exit_reason == KVM_EXIT_IO && run->io.port == port)
		printf("out: exit\n");
	else
		printf("out: exit reason %u, ring %u..%u\n", run->exit_reason,
		       ring->first, ring->last);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int i;
	int kvm, vm;

	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "--hold-pio-zone"))
		return hold_pio_zone(strtoul(argv[2], NULL, 0),
				     argc == 4 && !strcmp(argv[3], "--unregister"));
	if (argc == 3 && !strcmp(argv[1], "--out-guest"))
		return out_guest(strtoul(argv[2], NULL, 0));
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
