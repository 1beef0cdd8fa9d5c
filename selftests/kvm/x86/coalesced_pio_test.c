// SPDX-License-Identifier: GPL-2.0-only
/*
 * What coalesced PIO adds to coalesced_io_test: exact-width zones, zones
 * that are empty, nest or overlap, a ring whose indices userspace has
 * corrupted, and string I/O that fills the ring.  Each test says what
 * served its VM's pio zones (the VM's debugfs file coalesced_pio: KVM's
 * own code, or a provider).  Userspace consumes the ring as QEMU does:
 * read last, read the entry at first, advance first.
 */
#include <kvm_util.h>
#include <processor.h>

#include "kvm_test_harness.h"
#include "ucall_common.h"

#define PCI_ADDR_PORT	0xcf8
#define PCI_CFG_ADDR	0x80001800u	/* bus 0, device 3, function 0, reg 0 */

static struct kvm_coalesced_mmio entries[256];

static void guest_outb(u16 port, u8 val)
{
	__asm__ __volatile__("outb %%al, %%dx" : : "d"(port), "a"(val));
}

static void guest_outw(u16 port, u16 val)
{
	__asm__ __volatile__("outw %%ax, %%dx" : : "d"(port), "a"(val));
}

FIXTURE(cpio) {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct kvm_coalesced_mmio_ring *ring;
	u32 max;
};

FIXTURE_SETUP(cpio)
{
	self->vm = vm_create_with_one_vcpu(&self->vcpu, NULL);
	self->ring = (void *)self->vcpu->run +
		     kvm_check_cap(KVM_CAP_COALESCED_MMIO) * getpagesize();
	self->max = (getpagesize() - sizeof(*self->ring)) /
		    sizeof(struct kvm_coalesced_mmio);
	TEST_ASSERT(self->max < ARRAY_SIZE(entries), "ring of %u entries", self->max);
}

FIXTURE_TEARDOWN(cpio)
{
	char path[64], what[64] = "unknown: no debugfs";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/coalesced_pio",
		 getpid(), self->vm->fd);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(what, sizeof(what), f))
			strcpy(what, "unknown\n");
		fclose(f);
	}
	ksft_print_msg("pio zones served by: %s%s", what, f ? "" : "\n");
	kvm_vm_free(self->vm);
}

/* Hand every published entry back, copying it to entries[]; how many. */
static u32 ring_drain(struct kvm_coalesced_mmio_ring *ring, u32 max)
{
	u32 first = READ_ONCE(ring->first), n = 0;

	while (first != READ_ONCE(ring->last)) {
		TEST_ASSERT(first < max && n < max, "ring first %u, %u entries", first, n);
		entries[n++] = ring->coalesced_mmio[first];
		first = (first + 1) % max;
		WRITE_ONCE(ring->first, first);
	}
	return n;
}

static void check_entry(u32 i, u16 port, u32 len, u32 data)
{
	struct kvm_coalesced_mmio *e = &entries[i];
	u32 got = 0;

	memcpy(&got, e->data, len);
	TEST_ASSERT(e->phys_addr == port && e->len == len && e->pio == 1 && got == data,
		    "entry %u: wanted %u-byte port 0x%x = 0x%x, got %u-byte %s 0x%llx = 0x%x",
		    i, len, port, data, e->len, e->pio ? "port" : "MMIO",
		    e->phys_addr, got);
}

/* Run the vCPU and require a single OUT of @size bytes of @data to @port. */
static void vcpu_run_expect_out(struct kvm_vcpu *vcpu, u16 port, u8 size, u32 data)
{
	struct kvm_run *run = vcpu->run;
	u32 got = 0;

	vcpu_run(vcpu);
	TEST_ASSERT(run->exit_reason == KVM_EXIT_IO &&
		    run->io.direction == KVM_EXIT_IO_OUT && run->io.port == port &&
		    run->io.size == size && run->io.count == 1,
		    "wanted a %u-byte OUT to 0x%x, got exit %u (%s) on port 0x%x, size %u",
		    size, port, run->exit_reason, exit_reason_str(run->exit_reason),
		    run->io.port, run->io.size);
	memcpy(&got, (void *)run + run->io.data_offset, size);
	TEST_ASSERT(got == data, "OUT to 0x%x: wanted 0x%x, got 0x%x", port, data, got);
}

static void vcpu_run_expect_sync(struct kvm_vcpu *vcpu, u64 stage)
{
	struct ucall uc;

	vcpu_run(vcpu);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		TEST_ASSERT(uc.args[1] == stage, "wanted GUEST_SYNC(%lu), got %lu",
			    stage, uc.args[1]);
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	default:
		TEST_FAIL("wanted GUEST_SYNC(%lu), got exit %u (%s), port 0x%x",
			  stage, vcpu->run->exit_reason,
			  exit_reason_str(vcpu->run->exit_reason), vcpu->run->io.port);
	}
}

static void guest_exact(void)
{
	outl(PCI_ADDR_PORT, PCI_CFG_ADDR);
	guest_outb(PCI_ADDR_PORT + 1, 0x06);	/* a reset on PIIX and ICH9 */
	guest_outw(PCI_ADDR_PORT, 0x1234);
	guest_outw(PCI_ADDR_PORT + 2, 0x5678);
	outl(PCI_ADDR_PORT, PCI_CFG_ADDR + 4);
	GUEST_SYNC(0);
	outl(PCI_ADDR_PORT, PCI_CFG_ADDR + 8);
	guest_outw(PCI_ADDR_PORT + 2, 0x9abc);
	GUEST_SYNC(1);
	outl(PCI_ADDR_PORT, PCI_CFG_ADDR + 12);
	guest_outb(PCI_ADDR_PORT + 1, 0x02);
	GUEST_SYNC(2);
}

/*
 * Of the writes to an exact zone {0xcf8, 4}, only the 4-byte ones at 0xcf8
 * are coalesced; an OUTB 0xcf9 (the reset control register of PIIX and
 * ICH9) and narrower writes go on as if the zone were not there, in order
 * with the ring: to userspace, or to a plain zone that contains them.
 * Unregistering matches the flag: removing the plain zone {0xcfa, 2}, as
 * QEMU does when the flat range that holds it goes, or a plain zone of the
 * exact zone's range, leaves the exact zone in place.
 */
TEST_F(cpio, exact)
{
	const u32 exact = KVM_COALESCED_PIO | KVM_COALESCED_PIO_EXACT;
	struct kvm_vcpu *vcpu = self->vcpu;
	u32 n;

	if (!kvm_has_cap(KVM_CAP_COALESCED_PIO_EXACT))
		SKIP(return, "KVM_CAP_COALESCED_PIO_EXACT is 0");
	kvm_vm_register_coalesced_io(self->vm, PCI_ADDR_PORT, 4, exact);
	kvm_vm_register_coalesced_io(self->vm, PCI_ADDR_PORT + 2, 2, KVM_COALESCED_PIO);
	vcpu_arch_set_entry_point(vcpu, guest_exact);

	vcpu_run_expect_out(vcpu, PCI_ADDR_PORT + 1, 1, 0x06);
	/* The OUTL before the reset is in the ring, ahead of it. */
	TEST_ASSERT_EQ(ring_drain(self->ring, self->max), 1);
	check_entry(0, PCI_ADDR_PORT, 4, PCI_CFG_ADDR);
	vcpu_run_expect_out(vcpu, PCI_ADDR_PORT, 2, 0x1234);
	vcpu_run_expect_sync(vcpu, 0);
	/* The plain zone inside the exact one took the OUTW to 0xcfa. */
	n = ring_drain(self->ring, self->max);
	TEST_ASSERT_EQ(n, 2);
	check_entry(0, PCI_ADDR_PORT + 2, 2, 0x5678);
	check_entry(1, PCI_ADDR_PORT, 4, PCI_CFG_ADDR + 4);

	kvm_vm_unregister_coalesced_io(self->vm, PCI_ADDR_PORT + 2, 2, KVM_COALESCED_PIO);
	kvm_vm_unregister_coalesced_io(self->vm, PCI_ADDR_PORT, 4, KVM_COALESCED_PIO);
	vcpu_run_expect_out(vcpu, PCI_ADDR_PORT + 2, 2, 0x9abc);
	vcpu_run_expect_sync(vcpu, 1);
	TEST_ASSERT_EQ(ring_drain(self->ring, self->max), 1);
	check_entry(0, PCI_ADDR_PORT, 4, PCI_CFG_ADDR + 8);

	kvm_vm_unregister_coalesced_io(self->vm, PCI_ADDR_PORT, 4, exact);
	vcpu_run_expect_out(vcpu, PCI_ADDR_PORT, 4, PCI_CFG_ADDR + 12);
	vcpu_run_expect_out(vcpu, PCI_ADDR_PORT + 1, 1, 0x02);
	vcpu_run_expect_sync(vcpu, 2);
	TEST_ASSERT_EQ(ring_drain(self->ring, self->max), 0);
}

/*
 * pio is 0, KVM_COALESCED_PIO, or that and KVM_COALESCED_PIO_EXACT; an
 * exact zone must be 1, 2 or 4 bytes wide, or it could never match.
 * Anything else is EINVAL and registers nothing.
 */
TEST_F(cpio, exact_errors)
{
	const u32 exact = KVM_COALESCED_PIO | KVM_COALESCED_PIO_EXACT;
	const u32 bad_flags[] = { KVM_COALESCED_PIO_EXACT, 4, exact | 4, 0x80000001u };
	const u32 bad_size[] = { 0, 3, 5, 8, 0x10000 };
	struct kvm_vm *vm = self->vm;
	u32 i;
	int r;

	if (!kvm_has_cap(KVM_CAP_COALESCED_PIO_EXACT))
		SKIP(return, "KVM_CAP_COALESCED_PIO_EXACT is 0");
	for (i = 0; i < ARRAY_SIZE(bad_flags); i++) {
		r = __kvm_vm_register_coalesced_io(vm, PCI_ADDR_PORT, 4, bad_flags[i]);
		TEST_ASSERT(r == -1 && errno == EINVAL, "register, pio 0x%x: %d (%s)",
			    bad_flags[i], r, strerror(errno));
		r = __kvm_vm_unregister_coalesced_io(vm, PCI_ADDR_PORT, 4, bad_flags[i]);
		TEST_ASSERT(r == -1 && errno == EINVAL, "unregister, pio 0x%x: %d (%s)",
			    bad_flags[i], r, strerror(errno));
	}
	for (i = 0; i < ARRAY_SIZE(bad_size); i++) {
		r = __kvm_vm_register_coalesced_io(vm, PCI_ADDR_PORT, bad_size[i], exact);
		TEST_ASSERT(r == -1 && errno == EINVAL, "exact zone of %u bytes: %d (%s)",
			    bad_size[i], r, strerror(errno));
	}
	for (i = 1; i <= 4; i *= 2)
		TEST_ASSERT_EQ(__kvm_vm_register_coalesced_io(vm, 0x3000 + 8 * i, i, exact), 0);

	/* Nothing was registered at 0xcf8: an OUTL there exits. */
	vcpu_arch_set_entry_point(self->vcpu, guest_exact);
	vcpu_run_expect_out(self->vcpu, PCI_ADDR_PORT, 4, PCI_CFG_ADDR);
	TEST_ASSERT_EQ(ring_drain(self->ring, self->max), 0);
}

#define RTC_INDEX_PORT	0x70

/* The number of writes of each round of guest_index_writes(). */
static u32 index_writes = 1;

static void guest_index_writes(void)
{
	u32 round, i;

	for (round = 0;; round++) {
		for (i = 0; i < READ_ONCE(index_writes); i++)
			guest_outb(RTC_INDEX_PORT, (u8)(round + i));
		GUEST_SYNC(round);
	}
}

/*
 * Userspace may write anything to the ring's indices.  An out-of-range
 * last (CVE-2019-14821) makes the write exit, and KVM writes nothing into
 * the page; an out-of-range first never matches, so the ring never looks
 * full, but every entry still goes inside the ring.
 */
TEST_F(cpio, hostile_indices)
{
	const u32 bad[] = { self->max, self->max + 1, 0xffff, 0xffffffffu };
	struct kvm_coalesced_mmio_ring *ring = self->ring;
	struct kvm_vcpu *vcpu = self->vcpu;
	u32 i, round = 0, n = self->max + 10;

	vcpu_arch_set_entry_point(vcpu, guest_index_writes);
	kvm_vm_register_coalesced_io(self->vm, RTC_INDEX_PORT, 1, KVM_COALESCED_PIO);

	for (round = 0; round < ARRAY_SIZE(bad); round++) {
		WRITE_ONCE(ring->first, 0);
		WRITE_ONCE(ring->last, bad[round]);
		vcpu_run_expect_out(vcpu, RTC_INDEX_PORT, 1, round);
		TEST_ASSERT_EQ(READ_ONCE(ring->first), 0);
		TEST_ASSERT_EQ(READ_ONCE(ring->last), bad[round]);
		for (i = 0; i < self->max; i++)
			TEST_ASSERT(!ring->coalesced_mmio[i].len,
				    "last = %u: entry %u was written", bad[round], i);
		vcpu_run_expect_sync(vcpu, round);
	}

	/* A sane ring works again. */
	WRITE_ONCE(ring->first, 0);
	WRITE_ONCE(ring->last, 0);
	vcpu_run_expect_sync(vcpu, round);
	TEST_ASSERT_EQ(ring_drain(ring, self->max), 1);
	check_entry(0, RTC_INDEX_PORT, 1, (u8)round);

	/* first out of range: n > max writes, all coalesced, last wraps. */
	index_writes = n;
	sync_global_to_guest(self->vm, index_writes);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		round++;
		WRITE_ONCE(ring->first, bad[i]);
		WRITE_ONCE(ring->last, 0);
		vcpu_run_expect_sync(vcpu, round);
		TEST_ASSERT_EQ(READ_ONCE(ring->last), n % self->max);
		entries[0] = ring->coalesced_mmio[n % self->max - 1];
		check_entry(0, RTC_INDEX_PORT, 1, (u8)(round + n - 1));
	}
}

/* Random layouts of pio zones. */
#define LAYOUT_SEED	0x1a7e0075u
#define LAYOUT_BASE	0x3000	/* clear of the ucall port */
#define LAYOUT_PORTS	0x40
#define LAYOUT_ROUNDS	12
#define LAYOUT_TRIES	16	/* random zones per round */

struct layout_zone {
	u64 addr;
	u32 size;
};

static u32 xorshift32(u32 *state)
{
	u32 x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

static void guest_layout_writes(void)
{
	u32 round, p;

	for (round = 0;; round++) {
		for (p = 0; p < LAYOUT_PORTS; p++)
			guest_outb(LAYOUT_BASE + p, (u8)(round + p));
		for (p = 0; p + 1 < LAYOUT_PORTS; p++)
			guest_outw(LAYOUT_BASE + p, (u16)(round << 8 | p));
		GUEST_SYNC(round);
	}
}

/* What guest_layout_writes() writes to port LAYOUT_BASE + @p with @len bytes. */
static u32 layout_data(u32 round, u32 p, u32 len)
{
	return len == 1 ? (u8)(round + p) : (u16)(round << 8 | p);
}

/* Whether a zone holds a @len-byte write to @port; an empty zone holds none. */
static bool layout_holds(struct layout_zone *z, u32 nr, u64 port, u32 len)
{
	u32 i;

	for (i = 0; i < nr; i++)
		if (port >= z[i].addr && port + len <= z[i].addr + z[i].size)
			return true;
	return false;
}

static void layout_add(struct kvm_vm *vm, struct layout_zone *z, u32 *nr,
		       u64 addr, u32 size)
{
	kvm_vm_register_coalesced_io(vm, addr, size, KVM_COALESCED_PIO);
	z[(*nr)++] = (struct layout_zone){ addr, size };
}

/*
 * Random layouts of zones that may be empty, overlap, nest or repeat, as
 * userspace may register them: every byte and word write that a zone holds
 * is coalesced, in guest order, and every other write exits.  This fails
 * without "KVM: Don't let overlapping ranges hide devices on an I/O bus".
 */
TEST_F(cpio, zone_layouts)
{
	struct layout_zone zones[4 * LAYOUT_TRIES];
	struct kvm_vcpu *vcpu = self->vcpu;
	u32 seed = LAYOUT_SEED, round, i, n, nr, len, r, p;
	u32 empty = 0, queued = 0, exits = 0;
	u64 port;

	vcpu_arch_set_entry_point(vcpu, guest_layout_writes);
	for (round = 0; round < LAYOUT_ROUNDS; round++) {
		for (i = 0, nr = 0; i < LAYOUT_TRIES; i++) {
			r = xorshift32(&seed);
			layout_add(self->vm, zones, &nr, LAYOUT_BASE + r % LAYOUT_PORTS,
				   (r >> 8) % 10);
			empty += !zones[nr - 1].size;
		}
		/* Inside or around every other zone: empty, nested, nesting. */
		for (i = 0; i < LAYOUT_TRIES; i += 2) {
			struct layout_zone z = zones[i];

			if (!z.size)
				continue;
			layout_add(self->vm, zones, &nr, z.addr + z.size - 1, 0);
			layout_add(self->vm, zones, &nr, z.addr + z.size - 1, 1);
			if (z.addr > LAYOUT_BASE)
				layout_add(self->vm, zones, &nr, z.addr - 1, z.size + 2);
		}

		/* Whatever no zone holds exits, in guest order... */
		for (len = 1; len <= 2; len++) {
			for (port = LAYOUT_BASE; port + len <= LAYOUT_BASE + LAYOUT_PORTS; port++) {
				p = port - LAYOUT_BASE;
				if (layout_holds(zones, nr, port, len))
					continue;
				vcpu_run_expect_out(vcpu, port, len, layout_data(round, p, len));
				exits++;
			}
		}
		vcpu_run_expect_sync(vcpu, round);

		/* ... and the rest is in the ring, in guest order. */
		n = ring_drain(self->ring, self->max);
		for (len = 1, i = 0; len <= 2; len++) {
			for (port = LAYOUT_BASE; port + len <= LAYOUT_BASE + LAYOUT_PORTS; port++) {
				p = port - LAYOUT_BASE;
				if (!layout_holds(zones, nr, port, len))
					continue;
				TEST_ASSERT(i < n, "round %u: %u entries, more writes in zones",
					    round, n);
				check_entry(i++, port, len, layout_data(round, p, len));
			}
		}
		TEST_ASSERT(i == n, "round %u: %u entries, %u writes in zones", round, n, i);
		queued += n;

		/* Unregistering each zone's own range takes them all. */
		for (i = 0; i < nr; i++)
			kvm_vm_unregister_coalesced_io(self->vm, zones[i].addr,
						       zones[i].size, KVM_COALESCED_PIO);
	}
	printf("# seed 0x%x: %u random zones (%u empty) and more; %u writes coalesced, %u exited\n",
	       LAYOUT_SEED, LAYOUT_ROUNDS * LAYOUT_TRIES, empty, queued, exits);
	TEST_ASSERT(empty && queued && exits, "a kind of zone or write was never tried");
}

/* REP OUTS longer than the ring. */
#define REP_EXTRA	40	/* elements beyond the ring */

static u8 rep_buf8[256];
static u16 rep_buf16[256];
static u32 rep_buf32[256];

/* Element @i of the @size-byte buffer: distinct, and not just its index. */
static u32 rep_tag(u32 size, u32 i)
{
	return size == 1 ? (u8)(0x5a ^ i) : size == 2 ? 0xa500 + i : 0xc0de0000u + i;
}

#define GUEST_REP_OUTS(insn, buf, n)					\
do {									\
	const void *src = (buf);					\
	u32 cnt = (n);							\
									\
	__asm__ __volatile__("cld; rep " insn				\
			     : "+S"(src), "+c"(cnt)			\
			     : "d"(PCI_ADDR_PORT) : "memory");		\
	GUEST_ASSERT_EQ(cnt, 0);					\
} while (0)

static void guest_rep_outs(u32 n)
{
	u32 i;

	for (i = 0; i < n; i++) {
		rep_buf8[i] = rep_tag(1, i);
		rep_buf16[i] = rep_tag(2, i);
		rep_buf32[i] = rep_tag(4, i);
	}
	GUEST_REP_OUTS("outsb", rep_buf8, n);
	GUEST_SYNC(1);
	GUEST_REP_OUTS("outsw", rep_buf16, n);
	GUEST_SYNC(2);
	GUEST_REP_OUTS("outsl", rep_buf32, n);
	GUEST_SYNC(4);
}

/*
 * A REP OUTS of max + 40 elements into an empty ring: KVM hands string
 * I/O to the bus one element at a time, so the first max - 1 elements are
 * coalesced, in order, and each of the others exits once, in order.
 * Nothing is dropped when the ring fills in the middle of the instruction.
 */
TEST_F(cpio, rep_outs)
{
	const u32 n = self->max + REP_EXTRA, start[] = { 0, self->max / 2, self->max - 7 };
	struct kvm_coalesced_mmio_ring *ring = self->ring;
	struct kvm_vcpu *vcpu = self->vcpu;
	struct kvm_run *run = vcpu->run;
	u32 size, i, j, next, got;

	TEST_ASSERT(n <= ARRAY_SIZE(rep_buf8), "%u elements", n);
	vcpu_arch_set_entry_point(vcpu, guest_rep_outs);
	vcpu_args_set(vcpu, 1, n);
	for (size = 1, i = 0; size <= 4; size *= 2, i++) {
		kvm_vm_register_coalesced_io(self->vm, PCI_ADDR_PORT, size, KVM_COALESCED_PIO);
		WRITE_ONCE(ring->first, start[i]);
		WRITE_ONCE(ring->last, start[i]);
		for (next = self->max - 1;; next += run->io.count) {
			vcpu_run(vcpu);
			if (run->exit_reason != KVM_EXIT_IO || run->io.port != PCI_ADDR_PORT)
				break;
			TEST_ASSERT(run->io.direction == KVM_EXIT_IO_OUT && run->io.size == size,
				    "rep outs%u: exit of size %u", size, run->io.size);
			for (j = 0; j < run->io.count; j++) {
				got = 0;
				memcpy(&got, (void *)run + run->io.data_offset + j * size, size);
				TEST_ASSERT(next + j < n && got == rep_tag(size, next + j),
					    "rep outs%u: element %u exited with 0x%x",
					    size, next + j, got);
			}
		}
		TEST_ASSERT(get_ucall(vcpu, NULL) == UCALL_SYNC && next == n,
			    "rep outs%u: %u elements exited, wanted %u", size,
			    next - (self->max - 1), n - (self->max - 1));
		TEST_ASSERT_EQ(ring_drain(ring, self->max), self->max - 1);
		for (j = 0; j < self->max - 1; j++)
			check_entry(j, PCI_ADDR_PORT, size, rep_tag(size, j));
		kvm_vm_unregister_coalesced_io(self->vm, PCI_ADDR_PORT, size, KVM_COALESCED_PIO);
	}
}

int main(int argc, char *argv[])
{
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_COALESCED_MMIO));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_COALESCED_PIO));

	return test_harness_run(argc, argv);
}
