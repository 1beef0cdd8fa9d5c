// SPDX-License-Identifier: GPL-2.0

#include <kvm/iodev.h>

/*
 * Only static inlines of KVM's headers belong here: this file is part of
 * vmlinux while KVM may be a module, so it must not call into kvm.ko.
 */

__rust_helper void rust_helper_kvm_iodevice_init(struct kvm_io_device *dev,
						 const struct kvm_io_device_ops *ops)
{
	kvm_iodevice_init(dev, ops);
}
