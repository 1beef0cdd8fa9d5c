// SPDX-License-Identifier: GPL-2.0-only
/*
 * Coalesced PIO provided by a module
 *
 * With CONFIG_KVM_COALESCED_PIO_PROVIDER, the pio zones of
 * KVM_REGISTER_COALESCED_MMIO go to a provider module (see
 * include/kvm/coalesced_pio.h) instead of the C implementation in
 * coalesced_mmio.c, which keeps the MMIO zones.
 */

#include <kvm/coalesced_pio.h>
#include <kvm/iodev.h>

#include <linux/delay.h>
#include <linux/kmod.h>
#include <linux/kvm_host.h>
#include <linux/module.h>
#include <linux/mutex.h>

#include "coalesced_mmio.h"

/* The module alias that a provider declares. */
#define KVM_COALESCED_PIO_MODULE "kvm-coalesced-pio"

/* Protects kvm_coalesced_pio_provider and kvm_coalesced_pio_seen. */
static DEFINE_MUTEX(kvm_coalesced_pio_lock);
static const struct kvm_coalesced_pio_ops *kvm_coalesced_pio_provider;
/* A provider has registered since boot: its module exists. */
static bool kvm_coalesced_pio_seen;

int kvm_coalesced_pio_register_provider(const struct kvm_coalesced_pio_ops *ops)
{
	guard(mutex)(&kvm_coalesced_pio_lock);
	if (kvm_coalesced_pio_provider)
		return -EBUSY;
	kvm_coalesced_pio_provider = ops;
	kvm_coalesced_pio_seen = true;
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
 * Returns the provider with a reference on its module, or NULL; *seen
 * tells whether a provider has registered since boot.
 */
static const struct kvm_coalesced_pio_ops *kvm_coalesced_pio_try_get(bool *seen)
{
	const struct kvm_coalesced_pio_ops *ops;

	guard(mutex)(&kvm_coalesced_pio_lock);
	*seen = kvm_coalesced_pio_seen;
	ops = kvm_coalesced_pio_provider;
	if (ops && !try_module_get(ops->owner))
		return NULL;
	return ops;
}

/*
 * Returns the provider with a reference on its module, after loading the
 * provider's module if there is no provider, or NULL.  May sleep: call it
 * without locks held.
 *
 * While the provider's module is being unloaded, it refuses references
 * and loading it again fails (or, with some modprobe implementations,
 * does nothing) until the unload has finished, which takes a moment.  If
 * a provider has registered before, so that its module exists, retry for
 * a while instead of losing the feature to an rmmod that happens to run
 * at the same time.
 */
static const struct kvm_coalesced_pio_ops *kvm_coalesced_pio_get(void)
{
	const struct kvm_coalesced_pio_ops *ops;
	bool seen;
	int tries;

	for (tries = 0; tries < 10; tries++) {
		if (tries)
			msleep(20);
		ops = kvm_coalesced_pio_try_get(&seen);
		if (ops)
			return ops;
		if (request_module(KVM_COALESCED_PIO_MODULE) && !seen)
			return NULL;
		ops = kvm_coalesced_pio_try_get(&seen);
		if (ops)
			return ops;
	}
	return NULL;
}

/*
 * KVM_CAP_COALESCED_PIO: whether pio zones can be registered, that is,
 * whether there is a provider, or its module can be loaded.
 */
bool kvm_coalesced_pio_supported(void)
{
	const struct kvm_coalesced_pio_ops *ops = kvm_coalesced_pio_get();

	if (!ops)
		return false;
	module_put(ops->owner);
	return true;
}

int kvm_coalesced_pio_register(struct kvm *kvm,
			       struct kvm_coalesced_mmio_zone *zone)
{
	const struct kvm_coalesced_pio_ops *ops = NULL;

	/* Loading the provider may sleep a while: not under slots_lock. */
	if (!READ_ONCE(kvm->coalesced_pio_ops)) {
		ops = kvm_coalesced_pio_get();
		if (!ops)
			return -EINVAL;
	}

	guard(mutex)(&kvm->slots_lock);
	if (!kvm->coalesced_pio_ops) {
		/* The VM keeps the reference until kvm_destroy_vm(). */
		WRITE_ONCE(kvm->coalesced_pio_ops, ops);
	} else if (ops) {
		/* Another thread won the race to the VM's first zone. */
		module_put(ops->owner);
	}
	return kvm->coalesced_pio_ops->register_zone(kvm, zone);
}

int kvm_coalesced_pio_unregister(struct kvm *kvm,
				 struct kvm_coalesced_mmio_zone *zone)
{
	guard(mutex)(&kvm->slots_lock);
	/* As in coalesced_mmio.c, nothing matched is not an error. */
	if (!kvm->coalesced_pio_ops)
		return 0;
	return kvm->coalesced_pio_ops->unregister_zone(kvm, zone);
}

/*
 * Called by kvm_destroy_vm() after it has removed the VM's debugfs
 * directory and destroyed its I/O buses: no device of the provider is left
 * and no callback of the provider can run for the VM, so its module may go
 * once destroy_vm() returns.
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
