/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the project's hardening suite for coalesced PIO (not
 * part of the series), the demo and the benchmark: guest port I/O, and the
 * coalesced ring as userspace sees it.
 */
#ifndef KCP_HARDENING_H
#define KCP_HARDENING_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <asm/barrier.h>

#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"

#define RTC_INDEX_PORT	0x70
#define RTC_DATA_PORT	0x71
#define PCI_ADDR_PORT	0xcf8
#define PCI_DATA_PORT	0xcfc

/* Arbitrary, outside every memslot, identity mapped by the tests using it. */
#define MMIO_ZONE_GPA	(4ull << 30)

/* The ring layout is ABI: a 32-bit first and last, then 24-byte entries. */
kvm_static_assert(sizeof(struct kvm_coalesced_mmio_ring) == 8);
kvm_static_assert(sizeof(struct kvm_coalesced_mmio) == 24);

/* Guest side.  processor.h has outl() and inw() only. */
static inline void guest_outb(u16 port, u8 val)
{
	__asm__ __volatile__("outb %%al, %%dx" : : "d"(port), "a"(val));
}

static inline void guest_outw(u16 port, u16 val)
{
	__asm__ __volatile__("outw %%ax, %%dx" : : "d"(port), "a"(val));
}

static inline void guest_outl(u16 port, u32 val)
{
	outl(port, val);
}

static inline u8 guest_inb(u16 port)
{
	u8 val;

	__asm__ __volatile__("inb %%dx, %%al" : "=a"(val) : "d"(port));
	return val;
}

static inline u32 guest_inl(u16 port)
{
	u32 val;

	__asm__ __volatile__("inl %%dx, %%eax" : "=a"(val) : "d"(port));
	return val;
}

/* Host side. */

/* xorshift32: random numbers reproducible from a printed seed. */
static inline u32 xorshift32(u32 *state)
{
	u32 x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

/*
 * Without coalesced PIO every case would skip, so skip the whole binary
 * once, saying why.  Call from main().
 */
static inline void require_coalesced_pio(void)
{
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_COALESCED_MMIO));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_COALESCED_PIO));
}

/* KVM_COALESCED_MMIO_MAX of the kernel, computed from the page size. */
static inline u32 ring_max(void)
{
	return (getpagesize() - sizeof(struct kvm_coalesced_mmio_ring)) /
	       sizeof(struct kvm_coalesced_mmio);
}

/*
 * Map the VM's ring through a vCPU fd at the page offset that
 * KVM_CAP_COALESCED_MMIO reports (KVM_COALESCED_MMIO_PAGE_OFFSET).
 */
static inline struct kvm_coalesced_mmio_ring *ring_map(struct kvm_vcpu *vcpu)
{
	int offset = kvm_check_cap(KVM_CAP_COALESCED_MMIO);
	void *ring;

	TEST_ASSERT_EQ(offset, KVM_COALESCED_MMIO_PAGE_OFFSET);
	ring = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE, MAP_SHARED,
		    vcpu->fd, (off_t)offset * getpagesize());
	TEST_ASSERT(ring != MAP_FAILED, "mmap of the coalesced ring: %s",
		    strerror(errno));
	return ring;
}

static inline void ring_unmap(struct kvm_coalesced_mmio_ring *ring)
{
	TEST_ASSERT(!munmap(ring, getpagesize()), "munmap: %s", strerror(errno));
}

/* Entries between first and last, without consuming them. */
static inline u32 ring_count(struct kvm_coalesced_mmio_ring *ring)
{
	u32 max = ring_max();
	u32 first = READ_ONCE(ring->first), last = READ_ONCE(ring->last);

	TEST_ASSERT(first < max && last < max,
		    "ring indices out of range: first %u, last %u, max %u",
		    first, last, max);
	return (last + max - first) % max;
}

/* Move an empty ring to @start, as upstream's coalesced_io_test does. */
static inline void ring_reset(struct kvm_coalesced_mmio_ring *ring, u32 start)
{
	WRITE_ONCE(ring->first, start);
	WRITE_ONCE(ring->last, start);
}

/*
 * Consume every published entry the way QEMU does: read @last, read the
 * entry at @first, then hand the slot back by advancing @first.  Safe to run
 * while vCPUs append (KVM publishes @last after smp_wmb()); there must be
 * a single consumer.  Copies at most @nr_out entries to @out.
 */
static inline u32 ring_drain(struct kvm_coalesced_mmio_ring *ring,
			     struct kvm_coalesced_mmio *out, u32 nr_out)
{
	u32 max = ring_max();
	u32 first = READ_ONCE(ring->first);
	u32 last, n = 0;

	TEST_ASSERT(first < max, "ring first %u out of range (max %u)", first, max);
	for (;;) {
		last = READ_ONCE(ring->last);
		TEST_ASSERT(last < max, "ring last %u out of range (max %u)", last, max);
		if (first == last)
			break;
		/* Pairs with KVM's smp_wmb() between the entry and @last. */
		smp_rmb();
		TEST_ASSERT(n < nr_out,
			    "ring holds more entries than the %u expected", nr_out);
		memcpy(&out[n++], (void *)&ring->coalesced_mmio[first],
		       sizeof(*out));
		/* Finish reading the entry before the slot is handed back. */
		smp_mb();
		first = (first + 1) % max;
		WRITE_ONCE(ring->first, first);
	}
	return n;
}

/* The first @len bytes of an entry's data, as a number (x86 is little-endian). */
static inline u64 entry_data(const struct kvm_coalesced_mmio *e)
{
	u64 val = 0;

	memcpy(&val, e->data, e->len < 8 ? e->len : 8);
	return val;
}

static inline void __check_entry(const struct kvm_coalesced_mmio *e,
				 u64 addr, u32 len, u32 pio, u64 data,
				 const char *what, u32 nr)
{
	TEST_ASSERT(e->phys_addr == addr && e->len == len && e->pio == pio &&
		    entry_data(e) == data,
		    "%s, entry %u: wanted %u-byte %s 0x%llx = 0x%llx, got %u-byte %s (pio %u) 0x%llx = 0x%llx",
		    what, nr, len, pio ? "PIO" : "MMIO",
		    (unsigned long long)addr, (unsigned long long)data,
		    e->len, e->pio ? "PIO" : "MMIO", e->pio,
		    (unsigned long long)e->phys_addr,
		    (unsigned long long)entry_data(e));
}

#define check_pio_entry(e, port, len, data, what, nr) \
	__check_entry(e, port, len, 1, data, what, nr)
#define check_mmio_entry(e, gpa, len, data, what, nr) \
	__check_entry(e, gpa, len, 0, data, what, nr)

/*
 * Run the vCPU and require a single-element port I/O exit.  For OUT, the
 * data must be @data; for IN, @data is what the guest will read.
 */
static inline void vcpu_run_expect_io(struct kvm_vcpu *vcpu, u8 direction,
				      u16 port, u8 size, u32 data)
{
	struct kvm_run *run = vcpu->run;
	struct ucall uc;
	void *io_data;

	vcpu_run(vcpu);
	if (get_ucall(vcpu, &uc) == UCALL_ABORT)
		REPORT_GUEST_ASSERT(uc);

	TEST_ASSERT(run->exit_reason == KVM_EXIT_IO &&
		    run->io.direction == direction && run->io.port == port &&
		    run->io.size == size && run->io.count == 1,
		    "wanted a %u-byte %s exit on port 0x%x, got exit %u (%s): %s port 0x%x size %u count %u",
		    size, direction == KVM_EXIT_IO_OUT ? "OUT" : "IN", port,
		    run->exit_reason, exit_reason_str(run->exit_reason),
		    run->io.direction == KVM_EXIT_IO_OUT ? "OUT" : "IN",
		    run->io.port, run->io.size, run->io.count);

	io_data = (void *)run + run->io.data_offset;
	if (direction == KVM_EXIT_IO_OUT)
		TEST_ASSERT(!memcmp(io_data, &data, size),
			    "OUT 0x%x: wanted data 0x%x, got 0x%x", port, data,
			    *(u32 *)io_data & (size == 4 ? ~0u : (1u << (8 * size)) - 1));
	else
		memcpy(io_data, &data, size);
}

/*
 * If the guest shut down (a triple fault), say where it was: the test fails
 * anyway, and this is all that is left to find out why.
 */
static inline void report_shutdown(struct kvm_vcpu *vcpu)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (vcpu->run->exit_reason != KVM_EXIT_SHUTDOWN)
		return;
	vcpu_regs_get(vcpu, &regs);
	vcpu_sregs_get(vcpu, &sregs);
	printf("# vCPU %u shut down: rip 0x%llx rsp 0x%llx rflags 0x%llx rax 0x%llx rdx 0x%llx\n",
	       vcpu->id, regs.rip, regs.rsp, regs.rflags, regs.rax, regs.rdx);
	printf("# cr0 0x%llx cr2 0x%llx cr3 0x%llx cr4 0x%llx efer 0x%llx idt 0x%llx+%u\n",
	       sregs.cr0, sregs.cr2, sregs.cr3, sregs.cr4, sregs.efer,
	       sregs.idt.base, sregs.idt.limit);
}

/* Require the exit the vCPU has just made to be GUEST_SYNC(@stage). */
static inline void vcpu_expect_sync(struct kvm_vcpu *vcpu, u64 stage)
{
	struct ucall uc;

	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		TEST_ASSERT(uc.args[1] == stage,
			    "wanted GUEST_SYNC(%lu), got GUEST_SYNC(%lu)",
			    (unsigned long)stage, (unsigned long)uc.args[1]);
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	default:
		report_shutdown(vcpu);
		TEST_FAIL("wanted GUEST_SYNC(%lu), got exit %u (%s), port 0x%x",
			  (unsigned long)stage, vcpu->run->exit_reason,
			  exit_reason_str(vcpu->run->exit_reason),
			  vcpu->run->io.port);
	}
}

/* Run the vCPU and require GUEST_SYNC(@stage). */
static inline void vcpu_run_expect_sync(struct kvm_vcpu *vcpu, u64 stage)
{
	vcpu_run(vcpu);
	vcpu_expect_sync(vcpu, stage);
}

/* Require the exit the vCPU has just made to be GUEST_DONE. */
static inline void vcpu_expect_done(struct kvm_vcpu *vcpu)
{
	struct ucall uc;

	switch (get_ucall(vcpu, &uc)) {
	case UCALL_DONE:
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	default:
		report_shutdown(vcpu);
		TEST_FAIL("vCPU %u: wanted GUEST_DONE, got exit %u (%s), port 0x%x",
			  vcpu->id, vcpu->run->exit_reason,
			  exit_reason_str(vcpu->run->exit_reason),
			  vcpu->run->io.port);
	}
}

static inline void vcpu_run_expect_done(struct kvm_vcpu *vcpu)
{
	vcpu_run(vcpu);
	vcpu_expect_done(vcpu);
}

static inline int __coalesced_io_zone(struct kvm_vm *vm, unsigned long ioctl_nr,
				      u64 addr, u32 size, u32 pio)
{
	struct kvm_coalesced_mmio_zone zone = {
		.addr = addr,
		.size = size,
		.pio = pio,
	};

	return ioctl(vm->fd, ioctl_nr, &zone);
}

#define __register_zone(vm, addr, size, pio) \
	__coalesced_io_zone(vm, KVM_REGISTER_COALESCED_MMIO, addr, size, pio)
#define __unregister_zone(vm, addr, size, pio) \
	__coalesced_io_zone(vm, KVM_UNREGISTER_COALESCED_MMIO, addr, size, pio)

#endif /* KCP_HARDENING_H */
