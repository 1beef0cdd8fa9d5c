// SPDX-License-Identifier: GPL-2.0
/*
 * A VM with one vCPU in real mode, driven from the shell, for the guest's
 * tests of where coalesced PIO comes from (tools/guest/module-test and
 * others).
 *
 * kvm-vm          read commands from stdin, one per line, and answer each
 *                 with one line on stdout:
 *   zone PORT [SIZE]    register a coalesced PIO zone: "zone: OK" or
 *                       "zone: <error>"
 *   unzone PORT [SIZE]  unregister: "unzone: OK" or "unzone: <error>"
 *   out PORT VALUE      run the guest to OUTB VALUE to PORT and halt:
 *                       "out: coalesced" (the write is the one new entry
 *                       of the ring, which is then consumed), "out: exit"
 *                       (it exited to userspace, and the ring has nothing
 *                       new), else "out: wrong: <what happened>"
 *   ping                "pong", to wait for the VM
 *                 The VM lives until stdin ends.
 * kvm-vm --churn STOPFILE
 *                 until STOPFILE exists: create a VM, register a pio zone
 *                 at 0x70, OUTB to 0x70 (which must be coalesced), close
 *                 the VM; print how many VMs, and fail on any error
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

struct vm {
	int kvm, fd, vcpu;
	unsigned char *mem;
	struct kvm_run *run;
	struct kvm_coalesced_mmio_ring *ring;
	unsigned int max;
};

static void die(const char *what)
{
	fprintf(stderr, "kvm-vm: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void vm_create(struct vm *vm, int kvm)
{
	struct kvm_userspace_memory_region slot = { .memory_size = 0x1000 };
	struct kvm_sregs sregs;
	int run_size, off;

	vm->kvm = kvm;
	vm->fd = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		die("KVM_CREATE_VM");
	vm->mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (vm->mem == MAP_FAILED)
		die("mmap guest memory");
	slot.userspace_addr = (unsigned long)vm->mem;
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &slot))
		die("KVM_SET_USER_MEMORY_REGION");
	vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu < 0)
		die("KVM_CREATE_VCPU");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	off = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
	if (run_size <= 0 || off <= 0)
		die("KVM_GET_VCPU_MMAP_SIZE or KVM_CAP_COALESCED_MMIO");
	vm->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu, 0);
	vm->ring = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE, MAP_SHARED,
			vm->vcpu, (off_t)off * getpagesize());
	if (vm->run == MAP_FAILED || vm->ring == MAP_FAILED)
		die("mmap the vCPU");
	vm->max = (getpagesize() - sizeof(*vm->ring)) / sizeof(vm->ring->coalesced_mmio[0]);
	if (ioctl(vm->vcpu, KVM_GET_SREGS, &sregs))
		die("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs))
		die("KVM_SET_SREGS");
}

static void vm_destroy(struct vm *vm)
{
	munmap(vm->ring, getpagesize());
	munmap(vm->run, ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0));
	munmap(vm->mem, 0x1000);
	close(vm->vcpu);
	close(vm->fd);
}

static int vm_zone(struct vm *vm, unsigned long req, unsigned long port,
		   unsigned long size)
{
	struct kvm_coalesced_mmio_zone zone = {
		.addr = port, .size = size, .pio = 1,
	};

	return ioctl(vm->fd, req, &zone) ? errno : 0;
}

/*
 * Run "mov dx, PORT; mov al, VALUE; out dx, al; hlt" from 0 in real mode
 * until it halts.  Returns "coalesced", "exit", or what went wrong in @buf.
 */
static const char *vm_out(struct vm *vm, unsigned int port, unsigned int value,
			  char *buf, size_t len)
{
	unsigned char code[] = { 0xba, port & 0xff, port >> 8, 0xb0, value,
				 0xee, 0xf4 };
	struct kvm_regs regs = { .rip = 0, .rflags = 2 };
	struct kvm_coalesced_mmio *e;
	unsigned int first = vm->ring->first, last, exits = 0, bad = 0;
	struct kvm_run *run = vm->run;

	memcpy(vm->mem, code, sizeof(code));
	if (ioctl(vm->vcpu, KVM_SET_REGS, &regs))
		die("KVM_SET_REGS");
	for (;;) {
		if (ioctl(vm->vcpu, KVM_RUN, 0))
			die("KVM_RUN");
		if (run->exit_reason == KVM_EXIT_HLT)
			break;
		if (run->exit_reason == KVM_EXIT_IO &&
		    run->io.direction == KVM_EXIT_IO_OUT && run->io.port == port &&
		    run->io.size == 1 && run->io.count == 1 &&
		    *((unsigned char *)run + run->io.data_offset) == value) {
			exits++;
			continue;
		}
		snprintf(buf, len, "wrong: exit reason %u, port 0x%x",
			 run->exit_reason, run->io.port);
		return buf;
	}
	last = vm->ring->last;
	if (first >= vm->max || last >= vm->max) {
		snprintf(buf, len, "wrong: ring %u..%u", first, last);
		return buf;
	}
	e = &vm->ring->coalesced_mmio[first];
	if (exits == 0 && last == (first + 1) % vm->max && e->phys_addr == port &&
	    e->len == 1 && e->pio == 1 && e->data[0] == value) {
		vm->ring->first = last;
		return "coalesced";
	}
	if (exits == 1 && last == first)
		return "exit";
	bad = (last + vm->max - first) % vm->max;
	snprintf(buf, len, "wrong: %u exits, %u new ring entries", exits, bad);
	return buf;
}

static int churn(int kvm, const char *stopfile)
{
	unsigned long vms = 0;
	char buf[64];
	const char *r;
	struct vm vm;
	int err;

	while (access(stopfile, F_OK)) {
		vm_create(&vm, kvm);
		err = vm_zone(&vm, KVM_REGISTER_COALESCED_MMIO, 0x70, 1);
		if (err) {
			fprintf(stderr, "churn: VM %lu: zone: %s\n", vms, strerror(err));
			return 1;
		}
		r = vm_out(&vm, 0x70, vms & 0xff, buf, sizeof(buf));
		if (strcmp(r, "coalesced")) {
			fprintf(stderr, "churn: VM %lu: out: %s\n", vms, r);
			return 1;
		}
		/* Every other VM dies with its zone still registered. */
		if (vms & 1) {
			err = vm_zone(&vm, KVM_UNREGISTER_COALESCED_MMIO, 0x70, 1);
			if (err) {
				fprintf(stderr, "churn: VM %lu: unzone: %s\n", vms, strerror(err));
				return 1;
			}
		}
		vm_destroy(&vm);
		vms++;
	}
	printf("churn: %lu VMs, each with its OUT to 0x70 coalesced\n", vms);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long a, b;
	char line[128], cmd[16], buf[64];
	struct vm vm;
	int kvm, n, err;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("open /dev/kvm");
	if (argc == 3 && !strcmp(argv[1], "--churn"))
		return churn(kvm, argv[2]);
	if (argc != 1) {
		fprintf(stderr, "usage: kvm-vm [--churn STOPFILE]\n");
		return 2;
	}

	setlinebuf(stdout);
	vm_create(&vm, kvm);
	while (fgets(line, sizeof(line), stdin)) {
		b = 1;
		n = sscanf(line, "%15s %li %li", cmd, &a, &b);
		if (n >= 2 && (!strcmp(cmd, "zone") || !strcmp(cmd, "unzone"))) {
			err = vm_zone(&vm, cmd[0] == 'z' ? KVM_REGISTER_COALESCED_MMIO :
				      KVM_UNREGISTER_COALESCED_MMIO, a, b);
			printf("%s: %s\n", cmd, err ? strerror(err) : "OK");
		} else if (n == 3 && !strcmp(cmd, "out")) {
			printf("out: %s\n", vm_out(&vm, a, b, buf, sizeof(buf)));
		} else if (n == 1 && !strcmp(cmd, "ping")) {
			printf("pong\n");
		} else {
			printf("error: unknown command: %s", line);
		}
	}
	vm_destroy(&vm);
	return 0;
}
