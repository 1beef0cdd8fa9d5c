// SPDX-License-Identifier: GPL-2.0-only
/*
 * Coalesced MMIO zones that nest, overlap or are empty, as userspace may
 * register them: every write that a zone contains must be coalesced, and
 * only those.  KVM's I/O bus finds the devices for an access by binary
 * search, which missed a zone next to a nested or empty one until commit
 * "KVM: Don't let overlapping ranges hide devices on an I/O bus".
 */
#include <linux/sizes.h>

#include <kvm_util.h>
#include <processor.h>

#include "ucall_common.h"

#define MMIO_GPA	(4ull * SZ_1G)
#define NR_WRITES	8	/* 4-byte writes at MMIO_GPA + 0, 4, ..., 28 */
#define MAX_ZONES	4

struct layout {
	const char *name;
	struct {
		u32 offset, size;
	} zones[MAX_ZONES];
};

/* Zones as offsets from MMIO_GPA; {0, 0} ends the list. */
static const struct layout layouts[] = {
	{ "disjoint",		{ { 0x00, 0x10 }, { 0x10, 0x10 } } },
	{ "nested",		{ { 0x00, 0x20 }, { 0x08, 0x04 } } },
	{ "empty inside",	{ { 0x00, 0x20 }, { 0x10, 0x00 } } },
	{ "partial overlap",	{ { 0x00, 0x10 }, { 0x08, 0x10 } } },
	{ "nested twice",	{ { 0x00, 0x20 }, { 0x04, 0x18 }, { 0x0c, 0x04 } } },
	{ "empty between",	{ { 0x00, 0x0c }, { 0x0c, 0x00 }, { 0x10, 0x10 } } },
};

static u32 nr_zones(const struct layout *l)
{
	u32 n = 1;

	while (n < MAX_ZONES && (l->zones[n].size || l->zones[n].offset))
		n++;
	return n;
}

static bool contained(const struct layout *l, u32 offset)
{
	u32 i;

	for (i = 0; i < nr_zones(l); i++)
		if (offset >= l->zones[i].offset &&
		    offset + 4 <= l->zones[i].offset + l->zones[i].size)
			return true;
	return false;
}

static void guest_code(u32 *mmio)
{
	u32 round, i;

	for (round = 0;; round++) {
		for (i = 0; i < NR_WRITES; i++)
			WRITE_ONCE(mmio[i], round << 8 | i);
		GUEST_SYNC(round);
	}
}

int main(int argc, char *argv[])
{
	struct kvm_coalesced_mmio_ring *ring;
	u32 round, i, n, first, max;
	const struct layout *l;
	struct kvm_vcpu *vcpu;
	struct kvm_run *run;
	struct kvm_vm *vm;
	struct ucall uc;

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_COALESCED_MMIO));

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	virt_map(vm, MMIO_GPA, MMIO_GPA, 1);
	vcpu_args_set(vcpu, 1, MMIO_GPA);
	run = vcpu->run;
	ring = (void *)run + kvm_check_cap(KVM_CAP_COALESCED_MMIO) * getpagesize();
	max = (getpagesize() - sizeof(*ring)) / sizeof(struct kvm_coalesced_mmio);

	ksft_print_header();
	ksft_set_plan(ARRAY_SIZE(layouts));

	for (round = 0; round < ARRAY_SIZE(layouts); round++) {
		l = &layouts[round];
		for (i = 0; i < nr_zones(l); i++)
			kvm_vm_register_coalesced_io(vm, MMIO_GPA + l->zones[i].offset,
						     l->zones[i].size, false);

		/* Every write that no zone contains exits, in guest order... */
		for (i = 0; i < NR_WRITES; i++) {
			if (contained(l, 4 * i))
				continue;
			vcpu_run(vcpu);
			TEST_ASSERT(run->exit_reason == KVM_EXIT_MMIO &&
				    run->mmio.is_write && run->mmio.len == 4 &&
				    run->mmio.phys_addr == MMIO_GPA + 4 * i &&
				    *(u32 *)run->mmio.data == (round << 8 | i),
				    "%s: wanted an exit for the write at +0x%x, got exit %u at 0x%llx",
				    l->name, 4 * i, run->exit_reason,
				    (unsigned long long)run->mmio.phys_addr);
		}
		vcpu_run(vcpu);
		TEST_ASSERT(get_ucall(vcpu, &uc) == UCALL_SYNC && uc.args[1] == round,
			    "%s: wanted GUEST_SYNC(%u), got exit %u at 0x%llx: a write a zone contains exited",
			    l->name, round, run->exit_reason,
			    (unsigned long long)run->mmio.phys_addr);

		/* ... and the others are in the ring, in guest order. */
		first = READ_ONCE(ring->first);
		for (i = 0, n = 0; i < NR_WRITES; i++) {
			struct kvm_coalesced_mmio *e = &ring->coalesced_mmio[(first + n) % max];

			if (!contained(l, 4 * i))
				continue;
			TEST_ASSERT((first + n) % max != READ_ONCE(ring->last) &&
				    e->phys_addr == MMIO_GPA + 4 * i && e->len == 4 &&
				    !e->pio && *(u32 *)e->data == (round << 8 | i),
				    "%s: entry %u is not the write at +0x%x", l->name, n, 4 * i);
			n++;
		}
		TEST_ASSERT_EQ((first + n) % max, READ_ONCE(ring->last));
		WRITE_ONCE(ring->first, (first + n) % max);

		for (i = 0; i < nr_zones(l); i++)
			kvm_vm_unregister_coalesced_io(vm, MMIO_GPA + l->zones[i].offset,
						       l->zones[i].size, false);
		ksft_test_result_pass("%s: %u writes coalesced, %u exited\n",
				      l->name, n, NR_WRITES - n);
	}

	kvm_vm_free(vm);
	ksft_finished();
}
