// SPDX-License-Identifier: GPL-2.0-only
/*
 * Coalesced PIO and the presence of kvm_coalesced_pio.ko.
 *
 * without_module: with no provider KVM_CAP_COALESCED_PIO reads 0 and pio
 * zones are refused with EINVAL, while coalesced MMIO works as before.
 * Skipped while the module is loaded (run_unloaded.sh unloads it first).
 *
 * module_reference: a VM pins the module from its first pio zone until the
 * VM is destroyed, and not before.  Skipped without the module.
 */
#include "coalesced_pio.h"
#include "kvm_test_harness.h"

#define MODULE_REFCNT	"/sys/module/kvm_coalesced_pio/refcnt"

static void guest_mmio(u64 *mmio)
{
	WRITE_ONCE(*mmio, 0x1234);
	GUEST_SYNC(0);
	GUEST_DONE();
}

TEST(without_module)
{
	struct kvm_coalesced_mmio_ring *ring;
	struct kvm_coalesced_mmio entry;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	int r;

	if (kvm_check_cap(KVM_CAP_COALESCED_PIO))
		SKIP(return, "KVM_CAP_COALESCED_PIO is 1: kvm_coalesced_pio.ko is loaded");

	vm = vm_create_with_one_vcpu(&vcpu, guest_mmio);
	TEST_ASSERT_EQ(vm_check_cap(vm, KVM_CAP_COALESCED_PIO), 0);

	r = __register_zone(vm, RTC_INDEX_PORT, 1, 1);
	TEST_ASSERT(r == -1 && errno == EINVAL,
		    "pio zone without the module: wanted EINVAL, got %d (%s)",
		    r, strerror(errno));
	r = __unregister_zone(vm, RTC_INDEX_PORT, 1, 1);
	TEST_ASSERT(r == -1 && errno == EINVAL,
		    "pio unregister without the module: wanted EINVAL, got %d (%s)",
		    r, strerror(errno));
	r = __register_zone(vm, RTC_INDEX_PORT, 1, 2);
	TEST_ASSERT(r == -1 && errno == EINVAL,
		    "pio = 2: wanted EINVAL, got %d (%s)", r, strerror(errno));
	if (cpio_debugfs_available())
		TEST_ASSERT(!cpio_debugfs_exists(vm),
			    "coalesced_pio debugfs file without the module");

	/* Coalesced MMIO does not depend on the module. */
	ring = ring_map(vcpu);
	virt_map(vm, MMIO_ZONE_GPA, MMIO_ZONE_GPA, 1);
	vcpu_args_set(vcpu, 1, MMIO_ZONE_GPA);
	kvm_vm_register_coalesced_io(vm, MMIO_ZONE_GPA, 8, false);
	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_EQ(ring_drain(ring, &entry, 1), 1);
	check_mmio_entry(&entry, MMIO_ZONE_GPA, 8, 0x1234, "MMIO without the module", 0);
	kvm_vm_unregister_coalesced_io(vm, MMIO_ZONE_GPA, 8, false);
	vcpu_run_expect_done(vcpu);

	ring_unmap(ring);
	kvm_vm_free(vm);
}

static long module_refcnt(void)
{
	long refcnt;
	FILE *f;

	f = fopen(MODULE_REFCNT, "r");
	TEST_ASSERT(f, "%s: %s", MODULE_REFCNT, strerror(errno));
	TEST_ASSERT_EQ(fscanf(f, "%ld", &refcnt), 1);
	fclose(f);
	return refcnt;
}

TEST(module_reference)
{
	struct kvm_vm *vm;
	long base;

	if (!kvm_check_cap(KVM_CAP_COALESCED_PIO))
		SKIP(return, "KVM_CAP_COALESCED_PIO is 0: kvm_coalesced_pio.ko is not loaded");
	if (access(MODULE_REFCNT, R_OK))
		SKIP(return, "%s: %s (built in, or no CONFIG_MODULE_UNLOAD)",
		     MODULE_REFCNT, strerror(errno));

	base = module_refcnt();
	vm = vm_create_barebones();
	kvm_vm_register_coalesced_io(vm, MMIO_ZONE_GPA, 8, false);
	TEST_ASSERT(module_refcnt() == base,
		    "a VM without pio zones holds the module: refcnt %ld, was %ld",
		    module_refcnt(), base);

	/* One reference per VM, from its first pio zone on. */
	kvm_vm_register_coalesced_io(vm, RTC_INDEX_PORT, 1, true);
	TEST_ASSERT_EQ(module_refcnt(), base + 1);
	kvm_vm_register_coalesced_io(vm, PCI_ADDR_PORT, 4, true);
	TEST_ASSERT_EQ(module_refcnt(), base + 1);

	/* Kept after the last zone is gone, until the VM is destroyed. */
	kvm_vm_unregister_coalesced_io(vm, RTC_INDEX_PORT, 1, true);
	kvm_vm_unregister_coalesced_io(vm, PCI_ADDR_PORT, 4, true);
	check_counters(vm, 0, 0, 0, 0);
	TEST_ASSERT_EQ(module_refcnt(), base + 1);

	kvm_vm_free(vm);
	TEST_ASSERT_EQ(module_refcnt(), base);
}

TEST_HARNESS_MAIN
