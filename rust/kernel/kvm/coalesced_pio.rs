// SPDX-License-Identifier: GPL-2.0

//! Coalesced PIO providers.
//!
//! KVM serves coalesced PIO zones (`KVM_REGISTER_COALESCED_MMIO` with `pio` set) itself. A module
//! may register a provider that serves them instead for new VMs: each VM chooses at its first pio
//! zone between the provider registered then and KVM's own code, and keeps its choice. A VM that
//! chooses the provider holds a reference on the provider's module until the VM is destroyed;
//! KVM checks the arguments and calls the provider with `kvm->slots_lock` held. The provider
//! registers [devices](super::iodev) on the VM's port I/O bus that append guest writes to the
//! VM's [coalesced ring](super::ring).
//!
//! A provider implements [`Provider`] and declares its module with
//! [`module_kvm_coalesced_pio_provider!`](crate::module_kvm_coalesced_pio_provider), which
//! registers it while the module is loaded.
//!
//! C header: [`include/kvm/coalesced_pio.h`](srctree/include/kvm/coalesced_pio.h)

use super::{
    Kvm,
    SlotsLocked, //
};
use crate::{
    bindings,
    error::{
        from_result,
        to_result, //
    },
    ffi::{
        c_int,
        c_void, //
    },
    module::this_module,
    prelude::*,
    types::ForeignOwnable, //
};
use core::{
    marker::PhantomData,
    ptr, //
};

/// A coalesced PIO zone as userspace registers it: the ports `[addr, addr + size)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zone {
    /// The first port.
    pub addr: u64,
    /// The number of ports.
    pub size: u32,
    /// Whether only the writes of the whole zone, `size` bytes at `addr`, are coalesced
    /// (`KVM_COALESCED_PIO_EXACT`). KVM has checked that `size` is then 1, 2 or 4 when registering;
    /// unregistering removes only the zones whose `exact` is the same.
    pub exact: bool,
}

impl Zone {
    /// Reads a zone that KVM passes to a provider.
    ///
    /// # Safety
    ///
    /// `zone` must be valid for reads.
    #[inline]
    unsafe fn from_raw(zone: *const bindings::kvm_coalesced_mmio_zone) -> Self {
        // SAFETY: The caller guarantees that `zone` is valid for reads.
        let zone = unsafe { &*zone };
        // SAFETY: Both members of the union, `pad` and `pio`, are `u32`: either can be read.
        let pio = unsafe { zone.__bindgen_anon_1.pio };
        Self {
            addr: zone.addr,
            size: zone.size,
            exact: pio & bindings::KVM_COALESCED_PIO_EXACT != 0,
        }
    }
}

/// A provider of coalesced PIO.
///
/// Every callback runs in process context and may sleep. KVM calls [`Provider::register_zone`]
/// and [`Provider::unregister_zone`] with `kvm->slots_lock` held, so they may change the VM's
/// buses, and they get the VM's state mutably: `slots_lock` serialises them. The first call for a
/// VM creates the VM's state with [`Provider::new_vm`]; the state is dropped when the VM is
/// destroyed, after every bus of the VM (and so every device of the provider) is gone.
///
/// The in-tree provider, [`virt/kvm/kvm_coalesced_pio.rs`](srctree/virt/kvm/kvm_coalesced_pio.rs),
/// shows a whole one.
#[vtable]
pub trait Provider {
    /// The state of one VM, kept in `kvm->coalesced_pio_data`.
    ///
    /// Only one callback at a time uses it, but not always on the thread that created it (it is
    /// dropped where the VM is destroyed), hence `Send`.
    type VmData: ForeignOwnable + Send + 'static;

    /// Creates the state of a VM, on the VM's first call to [`Provider::register_zone`].
    fn new_vm(kvm: &Kvm) -> Result<Self::VmData>;

    /// Registers the pio zone `zone` on the VM.
    fn register_zone(
        kvm: &SlotsLocked<'_>,
        data: <Self::VmData as ForeignOwnable>::BorrowedMut<'_>,
        zone: Zone,
    ) -> Result;

    /// Removes every pio zone of the VM that contains `zone`.
    ///
    /// As in the C implementation, succeeds also when nothing matched.
    fn unregister_zone(
        kvm: &SlotsLocked<'_>,
        data: <Self::VmData as ForeignOwnable>::BorrowedMut<'_>,
        zone: Zone,
    ) -> Result;
}

/// The C operations of provider `T`.
struct Adapter<T: Provider>(PhantomData<T>);

impl<T: Provider> Adapter<T> {
    const OPS: bindings::kvm_coalesced_pio_ops = bindings::kvm_coalesced_pio_ops {
        owner: this_module::<T::OwnerModule>().as_ptr(),
        register_zone: Some(Self::register_zone),
        unregister_zone: Some(Self::unregister_zone),
        destroy_vm: Some(Self::destroy_vm),
    };

    /// Makes the proof that `slots_lock` is held, for a callback of the provider.
    ///
    /// # Safety
    ///
    /// `kvm` must be a VM for which KVM calls the provider, with `slots_lock` held during `'a`.
    #[inline]
    unsafe fn slots_locked<'a>(kvm: *mut bindings::kvm) -> SlotsLocked<'a> {
        // SAFETY: KVM calls the provider from an ioctl of the VM, so the VM is live during the
        // call, and with `slots_lock` held, by the contract of `struct kvm_coalesced_pio_ops`.
        // The devices that `T` registers have their code in the provider's module,
        // `T::OwnerModule`, or in crates built into `vmlinux` (such as this one), which is never
        // unloaded; a VM that KVM calls the provider for took a reference on that module before
        // the first call, and keeps it until `kvm_destroy_vm()` has destroyed the VM's buses.
        unsafe { SlotsLocked::assume_locked(Kvm::from_raw(kvm)) }
    }

    /// # Safety
    ///
    /// KVM calls this from an ioctl of a VM, with `kvm->slots_lock` held, and a valid `zone`.
    unsafe extern "C" fn register_zone(
        kvm: *mut bindings::kvm,
        zone: *const bindings::kvm_coalesced_mmio_zone,
    ) -> c_int {
        // SAFETY: Guaranteed by the caller.
        let kvm = unsafe { Self::slots_locked(kvm) };
        // SAFETY: The caller guarantees that `zone` is valid for reads.
        let zone = unsafe { Zone::from_raw(zone) };

        from_result(|| {
            let mut data = kvm.coalesced_pio_data();
            if data.is_null() {
                data = T::new_vm(&kvm)?.into_foreign();
                kvm.set_coalesced_pio_data(data);
            }
            // SAFETY: `data` comes from `into_foreign()`, and `from_foreign()` is only called in
            // `destroy_vm()`, which cannot run while KVM calls the provider for the VM. Only the
            // provider's callbacks borrow it, with `slots_lock` held, so this borrow is the only
            // one.
            let data = unsafe { T::VmData::borrow_mut(data) };
            T::register_zone(&kvm, data, zone)?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// KVM calls this from an ioctl of a VM, with `kvm->slots_lock` held, and a valid `zone`.
    unsafe extern "C" fn unregister_zone(
        kvm: *mut bindings::kvm,
        zone: *const bindings::kvm_coalesced_mmio_zone,
    ) -> c_int {
        // SAFETY: Guaranteed by the caller.
        let kvm = unsafe { Self::slots_locked(kvm) };
        // SAFETY: The caller guarantees that `zone` is valid for reads.
        let zone = unsafe { Zone::from_raw(zone) };

        let data = kvm.coalesced_pio_data();
        if data.is_null() {
            // No state, so no zone: nothing matched.
            return 0;
        }
        from_result(|| {
            // SAFETY: As in `register_zone()`.
            let data = unsafe { T::VmData::borrow_mut(data) };
            T::unregister_zone(&kvm, data, zone)?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// KVM calls this once per VM for which it called the provider, from `kvm_destroy_vm()`, after
    /// it has destroyed the VM's I/O buses.
    unsafe extern "C" fn destroy_vm(kvm: *mut bindings::kvm) {
        // SAFETY: `struct kvm` is valid until `kvm_destroy_vm()` returns. No other thread can
        // access `coalesced_pio_data`: the VM has no user left, so no ioctl calls the provider,
        // and the buses are destroyed, so no device of the provider runs.
        let data = unsafe { ptr::replace(&raw mut (*kvm).coalesced_pio_data, ptr::null_mut()) };
        // SAFETY: `data` is null or comes from `into_foreign()`, and no borrow of it is left.
        drop(unsafe { T::VmData::try_from_foreign(data) });
    }
}

impl SlotsLocked<'_> {
    /// Returns the provider's state of the VM, `kvm->coalesced_pio_data`.
    #[inline]
    fn coalesced_pio_data(&self) -> *mut c_void {
        // SAFETY: The VM is live. Only this adapter accesses `coalesced_pio_data`: from the
        // provider's callbacks, with `slots_lock` held, which it is, and in `destroy_vm()`, which
        // cannot run while the VM is live.
        unsafe { (*self.as_raw()).coalesced_pio_data }
    }

    /// Sets the provider's state of the VM.
    #[inline]
    fn set_coalesced_pio_data(&self, data: *mut c_void) {
        // SAFETY: As in `coalesced_pio_data()`.
        unsafe { (*self.as_raw()).coalesced_pio_data = data };
    }
}

/// The registration of `T` as the coalesced PIO provider; dropping it unregisters `T`.
///
/// VMs that chose the provider keep its module loaded, so they keep using it; a VM that makes its
/// choice after the registration is dropped gets KVM's own code.
///
/// # Invariants
///
/// `ops` is registered with KVM as the provider, and its callbacks are those of `Adapter<T>`.
pub struct Registration<T: Provider> {
    ops: &'static bindings::kvm_coalesced_pio_ops,
    _p: PhantomData<T>,
}

// SAFETY: The registration only holds a reference to a constant table, which nothing writes
// (the raw module pointer in it is only read, by KVM), so it may be dropped on any thread.
unsafe impl<T: Provider> Send for Registration<T> {}

// SAFETY: The registration has no methods that take `&self`.
unsafe impl<T: Provider> Sync for Registration<T> {}

impl<T: Provider> Registration<T> {
    /// Registers `T` as the coalesced PIO provider.
    ///
    /// Fails with [`EBUSY`] if there is a provider already.
    ///
    /// # Safety
    ///
    /// The registration must be dropped before the module `T::OwnerModule` is unloaded:
    /// KVM reads the table, which lives in that module, while the provider is registered. A
    /// field of the module's type, as [`module_kvm_coalesced_pio_provider!`] makes it, is dropped
    /// in time.
    ///
    /// [`module_kvm_coalesced_pio_provider!`]: crate::module_kvm_coalesced_pio_provider
    #[inline]
    pub unsafe fn new() -> Result<Self> {
        // The address identifies the provider when it unregisters: take it once.
        let ops: &'static bindings::kvm_coalesced_pio_ops = &Adapter::<T>::OPS;

        // SAFETY: The caller guarantees that `ops`, in the module `T::OwnerModule`, lives until
        // the registration is dropped. Its callbacks are sound for every VM that KVM calls them
        // for, under the contract of `struct kvm_coalesced_pio_ops`: see `Adapter<T>`.
        to_result(unsafe { bindings::kvm_coalesced_pio_register_provider(ops) })?;

        // INVARIANT: `ops` was registered above, and is the table of `Adapter<T>`.
        Ok(Self {
            ops,
            _p: PhantomData,
        })
    }
}

impl<T: Provider> Drop for Registration<T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: `ops` is registered by the type invariant.
        unsafe { bindings::kvm_coalesced_pio_unregister_provider(self.ops) };
    }
}

/// Declares a kernel module that provides coalesced PIO with `type`, a [`Provider`].
///
/// The module registers the provider when it is loaded and unregisters it when it is unloaded.
/// It is named `kvm_coalesced_pio`, the only module to which KVM exports what a provider needs;
/// the other fields are those of [`module!`](crate::prelude::module). The in-tree provider,
/// [`virt/kvm/kvm_coalesced_pio.rs`](srctree/virt/kvm/kvm_coalesced_pio.rs), is declared with it.
#[macro_export]
macro_rules! module_kvm_coalesced_pio_provider {
    (
        type: $type:ty,
        authors: [$($author:literal),* $(,)?],
        description: $description:literal,
        license: $license:literal $(,)?
    ) => {
        struct KvmCoalescedPioModule {
            _registration: $crate::kvm::coalesced_pio::Registration<$type>,
        }

        $crate::prelude::module! {
            type: KvmCoalescedPioModule,
            name: "kvm_coalesced_pio",
            authors: [$($author),*],
            description: $description,
            license: $license,
        }

        impl $crate::Module for KvmCoalescedPioModule {
            fn init(_module: &'static $crate::ThisModule) -> $crate::error::Result<Self> {
                Ok(Self {
                    // SAFETY: The `THIS_MODULE` of `$type`'s `OwnerModule` is that of the module
                    // declared above: `#[vtable]` makes `OwnerModule` `crate::LocalModule`, the
                    // type that `module!` declares, and safe code can make no other `ThisModule`
                    // (only `unsafe` `ThisModule::from_ptr()` makes one). The registration is a
                    // field of the module's type, which `module!` drops when the module is
                    // unloaded, before the module's memory is freed.
                    _registration: unsafe {
                        $crate::kvm::coalesced_pio::Registration::<$type>::new()
                    }?,
                })
            }
        }
    };
}
