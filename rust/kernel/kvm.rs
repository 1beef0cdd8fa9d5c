// SPDX-License-Identifier: GPL-2.0

//! Kernel-based Virtual Machine (KVM).
//!
//! Lets a module add devices to the I/O buses of a VM (`iodev`), append to its coalesced I/O ring
//! (`ring`) and provide coalesced PIO (`coalesced_pio`).
//!
//! C header: [`include/linux/kvm_host.h`](srctree/include/linux/kvm_host.h)
//!
//! Compiled with `CONFIG_KVM_COALESCED_PIO_PROVIDER`, which a provider of coalesced PIO selects.
//! KVM may then be a module (`CONFIG_KVM=m`) while this crate is part of `vmlinux`, which must not
//! call into `kvm.ko`. Everything here that calls a function of `kvm.ko` is therefore generic or
//! `#[inline]`, so that it is only compiled into the module that uses it. A function that broke
//! this rule would leave an undefined symbol in `vmlinux` and fail its link with `CONFIG_KVM=m`.

use crate::{
    bindings,
    types::Opaque, //
};
use core::ops::Deref;

pub mod coalesced_pio;
pub mod iodev;
pub mod ring;

/// A virtual machine.
///
/// Wraps the C `struct kvm`. A `&Kvm` is only handed out for the duration of a KVM callback or
/// of a reference on the VM, so it is neither [`Send`] nor [`Sync`].
///
/// # Invariants
///
/// The VM is live: `kvm_destroy_vm()` has not started to tear it down, so `struct kvm`, its I/O
/// buses and its coalesced ring page are valid.
#[repr(transparent)]
pub struct Kvm(Opaque<bindings::kvm>);

impl Kvm {
    /// Creates a reference to a VM from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a VM that stays live (see the type invariants) during `'a`: for
    /// example, the caller runs in an ioctl of the VM or of one of its vCPUs, or holds a reference
    /// on the VM (`kvm_get_kvm()`). Each of these keeps `users_count` above zero, so
    /// `kvm_destroy_vm()` cannot start.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::kvm) -> &'a Self {
        // INVARIANT: The caller guarantees that the VM is live during `'a`.
        // SAFETY: `Kvm` is a transparent wrapper of `struct kvm`, and the caller guarantees that
        // `ptr` is valid during `'a`.
        unsafe { &*ptr.cast() }
    }

    /// Returns a raw pointer to the C `struct kvm`.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::kvm {
        self.0.get()
    }
}

/// A [`Kvm`] whose `slots_lock` is held.
///
/// KVM changes the I/O buses of a VM only with `kvm->slots_lock` held: functions that change them
/// take this type as the proof that it is.
///
/// # Invariants
///
/// - The current thread holds the VM's `slots_lock` during `'a`.
/// - The code of every device registered through it (the module that instantiates the device's
///   type, or `vmlinux`) stays loaded until the device is off the VM's buses.
pub struct SlotsLocked<'a>(&'a Kvm);

impl<'a> SlotsLocked<'a> {
    /// Creates the proof that `kvm->slots_lock` is held.
    ///
    /// # Safety
    ///
    /// - The current thread must hold `kvm->slots_lock` during `'a`.
    /// - The module of every [`iodev::IoDeviceOps`] type that is registered through the result
    ///   (whose code the device's callbacks run) must stay loaded until that device is
    ///   unregistered or the VM's buses are destroyed. KVM guarantees this for the provider of
    ///   coalesced PIO, whose callbacks make this proof.
    #[inline]
    pub unsafe fn assume_locked(kvm: &'a Kvm) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self(kvm)
    }
}

impl Deref for SlotsLocked<'_> {
    type Target = Kvm;

    #[inline]
    fn deref(&self) -> &Kvm {
        self.0
    }
}
