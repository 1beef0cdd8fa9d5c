// SPDX-License-Identifier: GPL-2.0-only
/*
 * Coalesced PIO provided by a module
 *
 * KVM serves the pio zones of KVM_REGISTER_COALESCED_MMIO in
 * coalesced_mmio.c.  A module may register a provider (see
 * include/kvm/coalesced_pio.h) that serves them instead, for the VMs that
 * choose it: a VM chooses at its first pio zone, and only a registered
 * provider whose module can be pinned is chosen.  Nothing here loads a
 * module, sleeps for one or retries: without a provider, KVM's own code
 * serves pio zones, as it always did.
 */

#include <kvm/coalesced_pio.h>
#include <kvm/iodev.h>

#include <linux/kvm_host.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/mutex.h>

#include "coalesced_mmio.h"

/* Protects kvm_coalesced_pio_provider. */
static DEFINE_MUTEX(kvm_coalesced_pio_lock);
static const struct kvm_coalesced_pio_ops *kvm_coalesced_pio_provider;

int kvm_coalesced_pio_register_provider(const struct kvm_coalesced_pio_ops *ops)
{
	guard(mutex)(&kvm_coalesced_pio_lock);
	if (kvm_coalesced_pio_provider)
		return -EBUSY;
	kvm_coalesced_pio_provider = ops;
	return 0;
}
EXPORT_SYMBOL_FOR_KVM_COALESCED_PIO(kvm_coalesced_pio_register_provider);

void kvm_coalesced_pio_unregister_provider(const struct kvm_coalesced_pio_ops *ops)
{
	guard(mutex)(&kvm_coalesced_pio_lock);
	if (!WARN_ON_ONCE(kvm_coalesced_pio_provider != ops))
		kvm_coalesced_pio_provider = NULL;
}
EXPORT_SYMBOL_FOR_KVM_COALESCED_PIO(kvm_coalesced_pio_unregister_provider);

/*
 * The provider that serves the pio zones of @kvm, or NULL for KVM's own
 * code.  The first call for a VM chooses: the registered provider, if there
 * is one and its module is not going away, with a reference on the module
 * that the VM keeps until kvm_coalesced_pio_destroy_vm().
 */
static const struct kvm_coalesced_pio_ops *kvm_coalesced_pio_choose(struct kvm *kvm)
{
	const struct kvm_coalesced_pio_ops *ops;

	lockdep_assert_held(&kvm->slots_lock);
	if (kvm->coalesced_pio_chosen)
		return kvm->coalesced_pio_ops;

	scoped_guard(mutex, &kvm_coalesced_pio_lock) {
		ops = kvm_coalesced_pio_provider;
		if (ops && !try_module_get(ops->owner))
			ops = NULL;
	}
	kvm->coalesced_pio_ops = ops;
	kvm->coalesced_pio_chosen = true;
	return ops;
}

bool kvm_coalesced_pio_register(struct kvm *kvm,
				const struct kvm_coalesced_mmio_zone *zone,
				int *r)
{
	const struct kvm_coalesced_pio_ops *ops;

	guard(mutex)(&kvm->slots_lock);
	ops = kvm_coalesced_pio_choose(kvm);
	if (!ops)
		return false;
	*r = ops->register_zone(kvm, zone);
	return true;
}

bool kvm_coalesced_pio_unregister(struct kvm *kvm,
				  const struct kvm_coalesced_mmio_zone *zone,
				  int *r)
{
	guard(mutex)(&kvm->slots_lock);
	/* Unregistering does not choose: without zones, nothing matches. */
	if (!kvm->coalesced_pio_ops)
		return false;
	*r = kvm->coalesced_pio_ops->unregister_zone(kvm, zone);
	return true;
}

/*
 * Called by kvm_destroy_vm() after it has destroyed the VM's I/O buses: no
 * device of the provider is left and no callback of the provider can run
 * for the VM, so its module may go once destroy_vm() returns.
 */
void kvm_coalesced_pio_destroy_vm(struct kvm *kvm)
{
	const struct kvm_coalesced_pio_ops *ops = kvm->coalesced_pio_ops;

	if (!ops)
		return;

	ops->destroy_vm(kvm);
	kvm->coalesced_pio_ops = NULL;
	module_put(ops->owner);
}
