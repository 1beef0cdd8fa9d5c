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

#include <linux/debugfs.h>
#include <linux/kvm_host.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>

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

/*
 * What serves the VM's pio zones, for the administrator: "undecided" before
 * its first pio zone, "kvm" for KVM's own code, else the provider's module
 * ("built-in" for a provider built into the kernel).
 */
static int kvm_coalesced_pio_show(struct seq_file *m, void *unused)
{
	struct kvm *kvm = m->private;
	const struct kvm_coalesced_pio_ops *ops;

	guard(mutex)(&kvm->slots_lock);
	ops = kvm->coalesced_pio_ops;
	if (!kvm->coalesced_pio_chosen)
		seq_puts(m, "undecided\n");
	else if (!ops)
		seq_puts(m, "kvm\n");
	else
		seq_printf(m, "%s\n", ops->owner ? module_name(ops->owner) : "built-in");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kvm_coalesced_pio);

/* The VM's debugfs file "coalesced_pio", removed with its directory. */
void kvm_coalesced_pio_create_debugfs(struct kvm *kvm)
{
	debugfs_create_file("coalesced_pio", 0444, kvm->debugfs_dentry, kvm,
			    &kvm_coalesced_pio_fops);
}
