/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef __KVM_COALESCED_PIO_H__
#define __KVM_COALESCED_PIO_H__

#include <linux/kvm.h>

struct kvm;
struct module;

/**
 * struct kvm_coalesced_pio_ops - a provider of coalesced PIO zones
 * @owner: the module implementing the ops.
 * @register_zone: add the pio zone @zone to @kvm.
 * @unregister_zone: remove every pio zone of @kvm that contains @zone;
 *	return 0 also when nothing matched.
 * @destroy_vm: free the provider's state of @kvm (kvm->coalesced_pio_data).
 *
 * With CONFIG_KVM_COALESCED_PIO_PROVIDER, KVM leaves the zones that
 * userspace registers with KVM_REGISTER_COALESCED_MMIO and pio = 1 to a
 * provider, a module that registers these ops.  KVM loads the module with
 * request_module("kvm-coalesced-pio") if there is no provider when it needs
 * one.
 *
 * KVM calls @register_zone and @unregister_zone with kvm->slots_lock held,
 * so the provider may call kvm_io_bus_register_dev() and
 * kvm_io_bus_unregister_dev() from them.  A zone's device appends guest
 * writes to the ring it shares with coalesced MMIO, under kvm->ring_lock,
 * and counts them in the VM's statistics under that lock:
 * coalesced_pio_writes for the writes appended, coalesced_pio_ring_full
 * and coalesced_pio_bad_index for the writes inside a zone that exit to
 * userspace because the ring is full or because userspace has set the
 * ring's last index out of range.
 *
 * The first time KVM calls the provider for a VM, the VM takes a reference
 * on @owner and keeps it whatever the call returns; the VM uses that
 * provider from then on.  For every such VM, kvm_destroy_vm() calls
 * @destroy_vm exactly once, after it has removed the VM's debugfs
 * directory and destroyed every I/O bus of the VM, so the destructors of
 * the provider's devices have run and no other callback of the provider
 * runs for the VM any more; only then does it drop the reference.
 */
struct kvm_coalesced_pio_ops {
	struct module *owner;
	int (*register_zone)(struct kvm *kvm,
			     const struct kvm_coalesced_mmio_zone *zone);
	int (*unregister_zone)(struct kvm *kvm,
			       const struct kvm_coalesced_mmio_zone *zone);
	void (*destroy_vm)(struct kvm *kvm);
};

int kvm_coalesced_pio_register_provider(const struct kvm_coalesced_pio_ops *ops);
void kvm_coalesced_pio_unregister_provider(const struct kvm_coalesced_pio_ops *ops);

#endif /* __KVM_COALESCED_PIO_H__ */
