// SPDX-License-Identifier: GPL-2.0-only
/*
 * Coalesced PIO (KVM_REGISTER_COALESCED_MMIO with a pio zone) as userspace
 * uses it: what the guest's port writes do and what the shared ring holds,
 * for the RTC and PCI patterns, a full ring at every start index, MMIO and
 * PIO together, unregistering, and the registration errors.  Part of the
 * project's hardening suite, beside the series' coalesced_pio_test.
 *
 * Every case runs one vCPU.  Userspace consumes the ring as QEMU does: read
 * last, read the entry at first, advance first.
 */
#include "hardening.h"
#include "kvm_test_harness.h"

#define PCI_CFG_ADDR	0x80001800u	/* bus 0, device 3, function 0, reg 0 */
#define PCI_CFG_ID	0x12378086u

static struct kvm_coalesced_mmio entries[1024];

FIXTURE(cpio) {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct kvm_coalesced_mmio_ring *ring;
	u32 max;
};

FIXTURE_SETUP(cpio)
{
	self->vm = vm_create_with_one_vcpu(&self->vcpu, NULL);
	self->ring = ring_map(self->vcpu);
	self->max = ring_max();
	TEST_ASSERT(self->max > 2 && self->max < ARRAY_SIZE(entries),
		    "ring of %u entries", self->max);
	TEST_ASSERT_EQ(ring_count(self->ring), 0);
}

FIXTURE_TEARDOWN(cpio)
{
	ring_unmap(self->ring);
	kvm_vm_free(self->vm);
}

/* Run the vCPU and require an 8-byte MMIO write exit. */
static void vcpu_run_expect_mmio_write(struct kvm_vcpu *vcpu, u64 gpa, u64 data)
{
	struct kvm_run *run = vcpu->run;
	struct ucall uc;

	vcpu_run(vcpu);
	if (get_ucall(vcpu, &uc) == UCALL_ABORT)
		REPORT_GUEST_ASSERT(uc);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_MMIO);
	TEST_ASSERT(run->mmio.is_write && run->mmio.phys_addr == gpa &&
		    run->mmio.len == 8 && *(u64 *)run->mmio.data == data,
		    "wanted MMIO write 0x%llx = 0x%llx, got %s 0x%llx len %u = 0x%llx",
		    (unsigned long long)gpa, (unsigned long long)data,
		    run->mmio.is_write ? "write" : "read",
		    (unsigned long long)run->mmio.phys_addr, run->mmio.len,
		    (unsigned long long)*(u64 *)run->mmio.data);
}

static void guest_rtc(void)
{
	u32 round, i;

	/* A CMOS read as a guest OS does it: index write, data read. */
	guest_outb(RTC_INDEX_PORT, 0x0a);
	GUEST_ASSERT_EQ(guest_inb(RTC_DATA_PORT), 0x26);
	GUEST_SYNC(0);

	/* Runs of index writes, each ended by a data read. */
	for (round = 1; round <= 4; round++) {
		for (i = 0; i < 100; i++)
			guest_outb(RTC_INDEX_PORT, (u8)(round * 100 + i));
		GUEST_ASSERT_EQ(guest_inb(RTC_DATA_PORT), round);
		GUEST_SYNC(round);
	}

	/* The data port is outside the zone. */
	guest_outb(RTC_DATA_PORT, 0x55);
	GUEST_DONE();
}

/*
 * RTC index port 0x70 as QEMU registers it: the index write is coalesced,
 * the data read exits, and the ring, drained at every exit, is reused
 * (401 entries go through a ring of 170).
 */
TEST_F(cpio, rtc)
{
	struct kvm_vcpu *vcpu = self->vcpu;
	u32 round, i, n;

	vcpu_arch_set_entry_point(vcpu, guest_rtc);
	kvm_vm_register_coalesced_io(self->vm, RTC_INDEX_PORT, 1, true);

	/* OUT 0x70 makes no exit: the first exit is the IN from 0x71. */
	vcpu_run_expect_io(vcpu, KVM_EXIT_IO_IN, RTC_DATA_PORT, 1, 0x26);
	n = ring_drain(self->ring, entries, self->max);
	TEST_ASSERT_EQ(n, 1);
	check_pio_entry(&entries[0], RTC_INDEX_PORT, 1, 0x0a, "RTC index", 0);
	vcpu_run_expect_sync(vcpu, 0);

	for (round = 1; round <= 4; round++) {
		vcpu_run_expect_io(vcpu, KVM_EXIT_IO_IN, RTC_DATA_PORT, 1, round);
		TEST_ASSERT_EQ(ring_count(self->ring), 100);
		n = ring_drain(self->ring, entries, self->max);
		TEST_ASSERT_EQ(n, 100);
		for (i = 0; i < n; i++)
			check_pio_entry(&entries[i], RTC_INDEX_PORT, 1,
					(u8)(round * 100 + i), "RTC index run", i);
		TEST_ASSERT_EQ(READ_ONCE(self->ring->first), (1 + round * 100) % self->max);
		vcpu_run_expect_sync(vcpu, round);
	}

	vcpu_run_expect_io(vcpu, KVM_EXIT_IO_OUT, RTC_DATA_PORT, 1, 0x55);
	TEST_ASSERT_EQ(ring_count(self->ring), 0);
	vcpu_run_expect_done(vcpu);

}

static void guest_pci(void)
{
	/* A config read: address write, data read. */
	guest_outl(PCI_ADDR_PORT, PCI_CFG_ADDR);
	GUEST_ASSERT_EQ(guest_inl(PCI_DATA_PORT), PCI_CFG_ID);
	GUEST_SYNC(0);

	/* Byte and word writes inside the zone. */
	guest_outb(PCI_ADDR_PORT, 0x11);
	guest_outb(PCI_ADDR_PORT + 1, 0x22);
	guest_outb(PCI_ADDR_PORT + 2, 0x33);
	guest_outb(PCI_ADDR_PORT + 3, 0x44);
	guest_outw(PCI_ADDR_PORT, 0x5566);
	guest_outw(PCI_ADDR_PORT + 2, 0x7788);
	GUEST_SYNC(1);

	/* Writes that straddle an end of the zone, or miss it. */
	guest_outw(PCI_ADDR_PORT + 3, 0x99aa);
	guest_outl(PCI_ADDR_PORT + 2, 0xbbccddee);
	guest_outw(PCI_ADDR_PORT - 1, 0xff00);
	guest_outl(PCI_DATA_PORT, 0x01020304);

	/* Reads inside the zone. */
	GUEST_ASSERT_EQ(guest_inl(PCI_ADDR_PORT), PCI_CFG_ADDR);
	GUEST_ASSERT_EQ(guest_inb(PCI_ADDR_PORT + 1), 0x18);
	GUEST_SYNC(2);
	GUEST_DONE();
}

/*
 * PCI configuration address port 0xcf8 as QEMU registers it (4 bytes):
 * every write that lies inside the zone is coalesced with its own length,
 * a write that straddles either end of the zone exits, and so does every
 * read.
 */
TEST_F(cpio, pci)
{
	struct kvm_vcpu *vcpu = self->vcpu;
	u32 n;

	vcpu_arch_set_entry_point(vcpu, guest_pci);
	kvm_vm_register_coalesced_io(self->vm, PCI_ADDR_PORT, 4, true);

	vcpu_run_expect_io(vcpu, KVM_EXIT_IO_IN, PCI_DATA_PORT, 4, PCI_CFG_ID);
	n = ring_drain(self->ring, entries, self->max);
	TEST_ASSERT_EQ(n, 1);
	check_pio_entry(&entries[0], PCI_ADDR_PORT, 4, PCI_CFG_ADDR, "PCI address", 0);
	vcpu_run_expect_sync(vcpu, 0);

	vcpu_run_expect_sync(vcpu, 1);
	n = ring_drain(self->ring, entries, self->max);
	TEST_ASSERT_EQ(n, 6);
	check_pio_entry(&entries[0], PCI_ADDR_PORT, 1, 0x11, "outb", 0);
	check_pio_entry(&entries[1], PCI_ADDR_PORT + 1, 1, 0x22, "outb", 1);
	check_pio_entry(&entries[2], PCI_ADDR_PORT + 2, 1, 0x33, "outb", 2);
	check_pio_entry(&entries[3], PCI_ADDR_PORT + 3, 1, 0x44, "outb", 3);
	check_pio_entry(&entries[4], PCI_ADDR_PORT, 2, 0x5566, "outw", 4);
	check_pio_entry(&entries[5], PCI_ADDR_PORT + 2, 2, 0x7788, "outw", 5);

	vcpu_run_expect_io(vcpu, KVM_EXIT_IO_OUT, PCI_ADDR_PORT + 3, 2, 0x99aa);
	vcpu_run_expect_io(vcpu, KVM_EXIT_IO_OUT, PCI_ADDR_PORT + 2, 4, 0xbbccddee);
	vcpu_run_expect_io(vcpu, KVM_EXIT_IO_OUT, PCI_ADDR_PORT - 1, 2, 0xff00);
	vcpu_run_expect_io(vcpu, KVM_EXIT_IO_OUT, PCI_DATA_PORT, 4, 0x01020304);
	vcpu_run_expect_io(vcpu, KVM_EXIT_IO_IN, PCI_ADDR_PORT, 4, PCI_CFG_ADDR);
	vcpu_run_expect_io(vcpu, KVM_EXIT_IO_IN, PCI_ADDR_PORT + 1, 1, 0x18);
	vcpu_run_expect_sync(vcpu, 2);
	TEST_ASSERT_EQ(ring_count(self->ring), 0);
	vcpu_run_expect_done(vcpu);

}

static void guest_ring_full(u32 max)
{
	u32 round, i;

	for (round = 0;; round++) {
		/* One slot always stays empty: write number max exits. */
		for (i = 0; i < max; i++)
			guest_outl(PCI_ADDR_PORT, round << 16 | i);
		GUEST_SYNC(round);
	}
}

/*
 * With max - 1 entries queued the next write exits as a plain KVM_EXIT_IO
 * carrying the write, and the ring keeps one slot empty.  Repeated for every
 * start index, so that every wrap-around position is covered.
 */
TEST_F_TIMEOUT(cpio, ring_full, 300)
{
	struct kvm_coalesced_mmio_ring *ring = self->ring;
	struct kvm_vcpu *vcpu = self->vcpu;
	u32 max = self->max;
	u32 start, i, n;

	vcpu_arch_set_entry_point(vcpu, guest_ring_full);
	vcpu_args_set(vcpu, 1, max);
	kvm_vm_register_coalesced_io(self->vm, PCI_ADDR_PORT, 4, true);

	for (start = 0; start < max; start++) {
		ring_reset(ring, start);

		vcpu_run_expect_io(vcpu, KVM_EXIT_IO_OUT, PCI_ADDR_PORT, 4,
				   start << 16 | (max - 1));
		TEST_ASSERT(READ_ONCE(ring->first) == start &&
			    READ_ONCE(ring->last) == (start + max - 1) % max,
			    "start %u: wanted a full ring (first %u, last %u), got first %u, last %u",
			    start, start, (start + max - 1) % max,
			    READ_ONCE(ring->first), READ_ONCE(ring->last));

		/* The ucall exits without touching the ring. */
		vcpu_run_expect_sync(vcpu, start);
		TEST_ASSERT_EQ(ring_count(ring), max - 1);

		n = ring_drain(ring, entries, max);
		TEST_ASSERT_EQ(n, max - 1);
		for (i = 0; i < n; i++)
			check_pio_entry(&entries[i], PCI_ADDR_PORT, 4,
					start << 16 | i, "full ring", i);
	}

}

static void guest_mixed(u64 *mmio, u32 max)
{
	u32 i;

	for (i = 0; i < 150; i++) {
		if (i % 3 == 0)
			WRITE_ONCE(*mmio, MMIO_ZONE_GPA + i);
		else if (i % 3 == 1)
			guest_outb(RTC_INDEX_PORT, i);
		else
			guest_outl(PCI_ADDR_PORT, 0x80000000u | i);
	}
	GUEST_SYNC(0);

	/* MMIO entries fill the ring: the next PIO write exits... */
	for (i = 0; i < max - 1; i++)
		WRITE_ONCE(*mmio, i);
	guest_outb(RTC_INDEX_PORT, 0xaa);
	GUEST_SYNC(1);

	/* ... and PIO entries fill it for the next MMIO write. */
	for (i = 0; i < max - 1; i++)
		guest_outb(RTC_INDEX_PORT, i);
	WRITE_ONCE(*mmio, 0xbb);
	GUEST_SYNC(2);
	GUEST_DONE();
}

/*
 * One VM with an MMIO zone (KVM's C code) and two PIO zones (the module):
 * both append to the one ring, in the guest's order, each entry with the
 * right pio flag, and each sees the ring filled by the other.
 */
TEST_F(cpio, mmio_and_pio)
{
	struct kvm_vcpu *vcpu = self->vcpu;
	u32 max = self->max;
	u32 i, n;

	vcpu_arch_set_entry_point(vcpu, guest_mixed);
	virt_map(self->vm, MMIO_ZONE_GPA, MMIO_ZONE_GPA, 1);
	vcpu_args_set(vcpu, 2, MMIO_ZONE_GPA, max);
	kvm_vm_register_coalesced_io(self->vm, MMIO_ZONE_GPA, 8, false);
	kvm_vm_register_coalesced_io(self->vm, RTC_INDEX_PORT, 1, true);
	kvm_vm_register_coalesced_io(self->vm, PCI_ADDR_PORT, 4, true);

	vcpu_run_expect_sync(vcpu, 0);
	n = ring_drain(self->ring, entries, max);
	TEST_ASSERT_EQ(n, 150);
	for (i = 0; i < n; i++) {
		if (i % 3 == 0)
			check_mmio_entry(&entries[i], MMIO_ZONE_GPA, 8,
					 MMIO_ZONE_GPA + i, "interleaved", i);
		else if (i % 3 == 1)
			check_pio_entry(&entries[i], RTC_INDEX_PORT, 1, i,
					"interleaved", i);
		else
			check_pio_entry(&entries[i], PCI_ADDR_PORT, 4,
					0x80000000u | i, "interleaved", i);
	}

	vcpu_run_expect_io(vcpu, KVM_EXIT_IO_OUT, RTC_INDEX_PORT, 1, 0xaa);
	n = ring_drain(self->ring, entries, max);
	TEST_ASSERT_EQ(n, max - 1);
	for (i = 0; i < n; i++)
		check_mmio_entry(&entries[i], MMIO_ZONE_GPA, 8, i, "MMIO-full ring", i);
	vcpu_run_expect_sync(vcpu, 1);

	vcpu_run_expect_mmio_write(vcpu, MMIO_ZONE_GPA, 0xbb);
	n = ring_drain(self->ring, entries, max);
	TEST_ASSERT_EQ(n, max - 1);
	for (i = 0; i < n; i++)
		check_pio_entry(&entries[i], RTC_INDEX_PORT, 1, (u8)i, "PIO-full ring", i);
	vcpu_run_expect_sync(vcpu, 2);
	vcpu_run_expect_done(vcpu);

}

static void guest_write_all(u64 *mmio)
{
	u32 round;

	for (round = 0;; round++) {
		guest_outl(PCI_ADDR_PORT, round);
		guest_outb(RTC_INDEX_PORT, round);
		WRITE_ONCE(*mmio, round);
		GUEST_SYNC(round);
	}
}

/*
 * One round of guest_write_all(): each of the three writes is either
 * coalesced or exits, as the zones registered at that point say.
 */
static void write_round(struct kvm_vcpu *vcpu, struct kvm_coalesced_mmio_ring *ring,
			u32 max, u32 round, bool pci, bool rtc, bool mmio)
{
	u32 n, i = 0;

	if (!pci)
		vcpu_run_expect_io(vcpu, KVM_EXIT_IO_OUT, PCI_ADDR_PORT, 4, round);
	if (!rtc)
		vcpu_run_expect_io(vcpu, KVM_EXIT_IO_OUT, RTC_INDEX_PORT, 1, (u8)round);
	if (!mmio)
		vcpu_run_expect_mmio_write(vcpu, MMIO_ZONE_GPA, round);
	vcpu_run_expect_sync(vcpu, round);

	n = ring_drain(ring, entries, max);
	TEST_ASSERT(n == pci + rtc + mmio, "round %u: %u entries, wanted %u",
		    round, n, pci + rtc + mmio);
	if (pci)
		check_pio_entry(&entries[i++], PCI_ADDR_PORT, 4, round, "PCI", round);
	if (rtc)
		check_pio_entry(&entries[i++], RTC_INDEX_PORT, 1, (u8)round, "RTC", round);
	if (mmio)
		check_mmio_entry(&entries[i++], MMIO_ZONE_GPA, 8, round, "MMIO", round);
}

/*
 * Unregistering removes every zone of the same kind that contains the given
 * range, returns 0 also when nothing matched, never touches a zone of the
 * other kind, and once a zone is gone its writes exit again.
 */
TEST_F(cpio, unregister)
{
	struct kvm_vm *vm = self->vm;

	vcpu_arch_set_entry_point(self->vcpu, guest_write_all);
	virt_map(vm, MMIO_ZONE_GPA, MMIO_ZONE_GPA, 1);
	vcpu_args_set(self->vcpu, 1, MMIO_ZONE_GPA);
	kvm_vm_register_coalesced_io(vm, PCI_ADDR_PORT, 4, true);
	kvm_vm_register_coalesced_io(vm, RTC_INDEX_PORT, 1, true);
	kvm_vm_register_coalesced_io(vm, MMIO_ZONE_GPA, 8, false);
	write_round(self->vcpu, self->ring, self->max, 0, true, true, true);

	/* Each kind's unregister leaves the other kind's zones alone. */
	TEST_ASSERT_EQ(__unregister_zone(vm, MMIO_ZONE_GPA, 8, 1), 0);
	TEST_ASSERT_EQ(__unregister_zone(vm, RTC_INDEX_PORT, 1, 0), 0);
	TEST_ASSERT_EQ(__unregister_zone(vm, PCI_ADDR_PORT, 4, 0), 0);
	write_round(self->vcpu, self->ring, self->max, 1, true, true, true);

	/* Nothing to unregister: 0, nothing changes. */
	TEST_ASSERT_EQ(__unregister_zone(vm, 0x500, 4, 1), 0);
	write_round(self->vcpu, self->ring, self->max, 2, true, true, true);

	/* A sub-range removes the zone that contains it; again: no-op. */
	TEST_ASSERT_EQ(__unregister_zone(vm, PCI_ADDR_PORT + 1, 2, 1), 0);
	TEST_ASSERT_EQ(__unregister_zone(vm, PCI_ADDR_PORT + 1, 2, 1), 0);
	write_round(self->vcpu, self->ring, self->max, 3, false, true, true);

	/* A range larger than the zone is not contained in it. */
	TEST_ASSERT_EQ(__unregister_zone(vm, RTC_INDEX_PORT, 2, 1), 0);
	write_round(self->vcpu, self->ring, self->max, 4, false, true, true);

	TEST_ASSERT_EQ(__unregister_zone(vm, RTC_INDEX_PORT, 1, 1), 0);
	write_round(self->vcpu, self->ring, self->max, 5, false, false, true);

	/*
	 * Every zone containing the range goes: an empty range at the border
	 * of two adjacent zones is in both.
	 */
	kvm_vm_register_coalesced_io(vm, PCI_ADDR_PORT - 2, 2, true);
	kvm_vm_register_coalesced_io(vm, PCI_ADDR_PORT, 4, true);
	TEST_ASSERT_EQ(__unregister_zone(vm, PCI_ADDR_PORT, 0, 1), 0);
	write_round(self->vcpu, self->ring, self->max, 6, false, false, true);

	TEST_ASSERT_EQ(__unregister_zone(vm, MMIO_ZONE_GPA, 8, 0), 0);
	write_round(self->vcpu, self->ring, self->max, 7, false, false, false);

	/* A zone registered again works again. */
	kvm_vm_register_coalesced_io(vm, RTC_INDEX_PORT, 1, true);
	write_round(self->vcpu, self->ring, self->max, 8, false, true, false);
}

/*
 * pio must be 0 or 1, or 1 | KVM_COALESCED_PIO_EXACT where KVM has it
 * (EINVAL otherwise, for both ioctls), and a refused zone changes nothing.
 * Any other pio zone is taken, as KVM's C implementation always took it:
 * empty, overlapping, reaching past port 0xffff or wrapping past 2^64; what
 * matters is which writes the zones then contain (zone_layouts).  Zones are
 * taken until the PIO bus is full (ENOSPC).
 */
static void guest_rtc_index(void)
{
	guest_outb(RTC_INDEX_PORT, 0x0f);
	GUEST_DONE();
}

TEST_F_TIMEOUT(cpio, registration_errors, 120)
{
	static const u32 bad_pio[] = { 2, 4, 5, 7, 0x80000001u, 0xffffffffu };
	static const struct {
		u64 addr;
		u32 size;
	} odd_zone[] = {
		{ 0x3000, 0 },			/* empty */
		{ RTC_INDEX_PORT, 0 },		/* empty, inside a zone */
		{ 0xffff, 2 },			/* past 0xffff */
		{ 0x10000, 1 },
		{ ~0ull - 1, 4 },		/* past 2^64 */
		{ ~0ull, 0xffffffffu },
		{ 1ull << 32, 1 },
		{ RTC_INDEX_PORT, 1 },		/* duplicate */
		{ RTC_INDEX_PORT - 1, 2 },	/* overlaps the start */
		{ PCI_ADDR_PORT + 3, 4 },	/* overlaps the end */
		{ PCI_ADDR_PORT + 1, 2 },	/* nested */
		{ PCI_ADDR_PORT - 8, 16 },	/* nesting */
	};
	struct kvm_vm *vm = self->vm;
	u32 i, ok, taken;
	int r;

	for (i = 0; i < ARRAY_SIZE(bad_pio); i++) {
		r = __register_zone(vm, RTC_INDEX_PORT, 1, bad_pio[i]);
		TEST_ASSERT(r == -1 && errno == EINVAL,
			    "register with pio = %u: wanted EINVAL, got %d (%s)",
			    bad_pio[i], r, strerror(errno));
		r = __unregister_zone(vm, RTC_INDEX_PORT, 1, bad_pio[i]);
		TEST_ASSERT(r == -1 && errno == EINVAL,
			    "unregister with pio = %u: wanted EINVAL, got %d (%s)",
			    bad_pio[i], r, strerror(errno));
	}

	/* Nothing was registered: the write exits. */
	vcpu_arch_set_entry_point(self->vcpu, guest_rtc_index);
	vcpu_run_expect_io(self->vcpu, KVM_EXIT_IO_OUT, RTC_INDEX_PORT, 1, 0x0f);
	vcpu_run_expect_done(self->vcpu);
	TEST_ASSERT_EQ(ring_count(self->ring), 0);

	TEST_ASSERT_EQ(__register_zone(vm, RTC_INDEX_PORT, 1, 1), 0);
	TEST_ASSERT_EQ(__register_zone(vm, PCI_ADDR_PORT, 4, 1), 0);
	TEST_ASSERT_EQ(__register_zone(vm, 0xffff, 1, 1), 0);	/* the last port */
	for (i = 0; i < ARRAY_SIZE(odd_zone); i++) {
		r = __register_zone(vm, odd_zone[i].addr, odd_zone[i].size, 1);
		TEST_ASSERT(!r, "zone 0x%llx+0x%x: wanted success, got %d (%s)",
			    (unsigned long long)odd_zone[i].addr, odd_zone[i].size,
			    r, strerror(errno));
	}
	taken = 3 + ARRAY_SIZE(odd_zone);

	/*
	 * Fill the PIO bus: NR_IOBUS_DEVS is 1000, KVM's own devices on the
	 * bus (PIC, PIT, ...) included.
	 */
	for (ok = 0; ok < 1000; ok++) {
		r = __register_zone(vm, 0x4000 + ok, 1, 1);
		if (r)
			break;
	}
	TEST_ASSERT(r == -1 && errno == ENOSPC,
		    "zone %u: wanted ENOSPC from a full bus, got %d (%s)",
		    ok, r, r ? strerror(errno) : "success");
	TEST_ASSERT(ok > 0 && taken + ok <= 1000,
		    "%u zones, then %u more fit on the PIO bus", taken, ok);
	printf("# %u zones fit on the PIO bus\n", taken + ok);

	/* Free every other one; the rest goes with the VM. */
	for (i = 0; i < ok; i += 2)
		TEST_ASSERT_EQ(__unregister_zone(vm, 0x4000 + i, 1, 1), 0);
	TEST_ASSERT_EQ(__register_zone(vm, 0x4000, 1, 1), 0);
}

int main(int argc, char *argv[])
{
	require_coalesced_pio();

	return test_harness_run(argc, argv);
}
