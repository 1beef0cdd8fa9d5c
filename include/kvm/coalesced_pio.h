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
 * @unregister_zone: remove every pio zone of @kvm that contains @zone and
 *	is exact if and only if @zone is; return 0 also when nothing matched.
 * @destroy_vm: free the provider's state of @kvm (kvm->coalesced_pio_data).
 *
 * KVM implements the pio zones of KVM_REGISTER_COALESCED_MMIO itself, in
 * coalesced_mmio.c.  A module may register these ops to serve them
 * instead, for the VMs that choose it: each VM chooses at its first pio
 * zone between the provider registered then, if any, and KVM's own code,
 * and keeps that choice until it is destroyed.  Userspace sees the same
 * ioctls, errors and ring entries either way, but for the bytes of an
 * entry's data past its len, which userspace must not read: KVM's own
 * code leaves them as they were, a provider may write anything there.
 *
 * A VM that chooses the provider takes a reference on @owner before the
 * first call, and keeps it until kvm_destroy_vm() has called @destroy_vm,
 * whatever the calls return.  So @owner cannot be unloaded while a VM uses
 * it, and no callback of a provider that unregisters in its module's exit
 * runs after the module is gone.  The reference is taken while the module
 * may still be initialising: a provider registers as the last step of its
 * module's init, which must not fail after that.  The VM's debugfs file
 * coalesced_pio says what serves it.
 *
 * KVM calls @register_zone and @unregister_zone with kvm->slots_lock held,
 * from an ioctl of the VM, so the provider may call
 * kvm_io_bus_register_dev() and kvm_io_bus_unregister_dev() from them; it
 * gets zones that KVM has checked as it checks its own.  A zone's device
 * appends guest writes to the ring it shares with coalesced MMIO, under
 * kvm->ring_lock.  kvm_destroy_vm() calls @destroy_vm exactly once, after
 * it has destroyed every I/O bus of the VM, so the destructors of the
 * provider's devices have run and no other callback of the provider runs
 * for the VM any more.
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
