// SPDX-License-Identifier: GPL-2.0

//! Devices on the I/O buses of a VM.
//!
//! KVM offers a guest access that it does not handle itself to the devices on the matching bus of
//! the VM whose range contains the access, one after the other until one takes it, and exits to
//! userspace with the access if none does.
//!
//! C header: [`include/kvm/iodev.h`](srctree/include/kvm/iodev.h)

use super::{
    Kvm,
    SlotsLocked, //
};
use crate::{
    alloc::Flags,
    bindings,
    error::{
        code::EOPNOTSUPP,
        to_result, //
    },
    ffi::{
        c_int,
        c_void, //
    },
    prelude::*,
    sync::Arc,
    types::Opaque, //
};
use core::{
    ops::Deref,
    ptr, //
};

/// The most bytes that KVM passes to a device at once: port I/O is at most 4 bytes wide, and KVM
/// splits MMIO accesses into pieces of at most 8 bytes (`vcpu_mmio_write()` on x86, the data
/// abort's access size on arm64, and so on).
pub const MAX_WRITE_LEN: usize = 8;

/// The data of one guest write: at most [`MAX_WRITE_LEN`] bytes, in the order the guest wrote them
/// to memory. It dereferences to those bytes.
///
/// # Invariants
///
/// `len <= MAX_WRITE_LEN`, and the bytes of `bytes` from `len` on are zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteData {
    bytes: [u8; MAX_WRITE_LEN],
    len: usize,
}

impl WriteData {
    /// Returns the data of a write of `data`, or [`None`] if it is longer than [`MAX_WRITE_LEN`].
    #[inline]
    pub fn new(data: &[u8]) -> Option<Self> {
        let mut bytes = [0u8; MAX_WRITE_LEN];
        bytes.get_mut(..data.len())?.copy_from_slice(data);
        // INVARIANT: `data.len() <= MAX_WRITE_LEN`, or `get_mut()` failed, and the bytes past it
        // are still zero.
        Some(Self {
            bytes,
            len: data.len(),
        })
    }

    /// Returns the data zero-padded to [`MAX_WRITE_LEN`] bytes, as the little-endian `u64` whose
    /// bytes in memory they are: one store of its `to_le()` writes them, in order, on any
    /// architecture.
    #[inline]
    pub fn to_le_u64(&self) -> u64 {
        u64::from_le_bytes(self.bytes)
    }
}

impl Deref for WriteData {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        // The invariant keeps `len` in range, so this cannot panic; the compiler drops the check
        // where it knows `len`.
        &self.bytes[..self.len]
    }
}

/// An I/O bus of a VM.
///
/// Only the bus that a user needs is offered: the other buses of `enum kvm_bus` are to be added
/// with their first user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bus {
    /// The port I/O bus (`KVM_PIO_BUS`).
    Pio,
}

impl Bus {
    #[inline]
    fn as_raw(self) -> bindings::kvm_bus {
        match self {
            Bus::Pio => bindings::kvm_bus_KVM_PIO_BUS,
        }
    }
}

/// The operations of an I/O device implemented in Rust.
///
/// Devices have no `read` operation: KVM offers the guest reads in their range to the next device
/// on the bus, then to userspace. A device may stay on a bus until the VM is destroyed, hence
/// `'static`: it cannot borrow anything that could go away before.
pub trait IoDeviceOps: Send + Sync + 'static {
    /// Handles a guest write of `data` to `addr`.
    ///
    /// Called on the exit path of a vCPU, inside `kvm->srcu`: it should not sleep, since the vCPU
    /// waits for it. `data` is a copy of the bytes written, taken before the call (KVM's buffer
    /// may be memory that the guest shares). An error (by convention [`EOPNOTSUPP`]) means that
    /// the device does not take the write: KVM offers it to the next device whose range contains
    /// it, then exits to userspace with it.
    fn write(&self, kvm: &Kvm, addr: u64, data: &WriteData) -> Result;
}

/// An I/O device implemented in Rust: a C `struct kvm_io_device` and the Rust data behind it.
///
/// A bus owns one reference on the device from [`SlotsLocked::io_bus_register_dev`] until KVM
/// calls the device's destructor: when it is unregistered, or when the bus is destroyed, with the
/// VM or because KVM could not shrink it. The device's memory lives until the last [`Arc`] is
/// dropped, so whoever holds one can still pass the device to
/// [`SlotsLocked::io_bus_unregister_dev`] after the bus destroyed it.
///
/// # Invariants
///
/// - `dev` is initialised and its `ops` point to the operations of `IoDevice<T>`.
/// - Each registration of the device on a bus owns one reference on the [`Arc`] that holds it,
///   given up with [`Arc::into_raw`] by [`SlotsLocked::io_bus_register_dev`], and KVM gives it
///   back exactly once, through the destructor: when it unregisters the device, when it destroys
///   the bus because it could not shrink it, or when it destroys the VM.
#[pin_data]
pub struct IoDevice<T: IoDeviceOps> {
    #[pin]
    dev: Opaque<bindings::kvm_io_device>,
    #[pin]
    data: T,
}

// SAFETY: `dev` is written once, when the device is created, before any other thread can see it,
// and only read afterwards, by KVM; `T` is `Send`.
unsafe impl<T: IoDeviceOps> Send for IoDevice<T> {}

// SAFETY: `dev` is written once, when the device is created, before any other thread can see it,
// and only read afterwards, by KVM; `T` is `Sync`.
unsafe impl<T: IoDeviceOps> Sync for IoDevice<T> {}

impl<T: IoDeviceOps> IoDevice<T> {
    const OPS: bindings::kvm_io_device_ops = bindings::kvm_io_device_ops {
        read: None,
        write: Some(Self::write_callback),
        destructor: Some(Self::destructor_callback),
    };

    /// Creates a device whose data `data` initialises in place (a value of `T` is an initialiser
    /// too), so that the data may hold a lock or other pinned state.
    pub fn new<E>(data: impl PinInit<T, E>, flags: Flags) -> Result<Arc<Self>>
    where
        Error: From<E>,
    {
        Arc::pin_init(
            try_pin_init!(Self {
                // INVARIANT: `kvm_iodevice_init()` points `ops` to `OPS`.
                dev <- Opaque::try_ffi_init(|slot: *mut bindings::kvm_io_device| {
                    // SAFETY: `slot` is valid for writes, and the promoted constant `OPS` lives
                    // as long as the module that instantiates `IoDevice<T>`, whose code the
                    // callbacks are.
                    unsafe { bindings::kvm_iodevice_init(slot, &Self::OPS) };
                    Ok(())
                }),
                data <- data,
            }? E),
            flags,
        )
    }

    /// Returns the C device, as passed to the `kvm_io_bus_*()` functions.
    #[inline]
    fn as_raw(&self) -> *mut bindings::kvm_io_device {
        self.dev.get()
    }

    /// Recovers the device from the C device.
    ///
    /// # Safety
    ///
    /// `this` must be the `dev` field of a live `IoDevice<T>`.
    #[inline]
    unsafe fn from_raw<'a>(this: *mut bindings::kvm_io_device) -> &'a Self {
        // SAFETY: The caller guarantees that `this` is the `dev` field of a live `IoDevice<T>`.
        unsafe { &*crate::container_of!(Opaque::cast_from(this), Self, dev) }
    }

    /// Copies the `len` bytes that a guest wrote, at `val`, out of KVM's buffer.
    ///
    /// KVM's buffer may be memory that other CPUs write at the same time: for the string OUTs of
    /// an SEV-ES guest, it is in the GHCB page that the guest shares with the host. Reading it
    /// into a Rust reference would then be undefined behaviour, so it is read with volatile
    /// reads, as `READ_ONCE()` in C, one per aligned access as `memcpy()` would read it.
    ///
    /// An aligned access is read as one word and kept as the little-endian value of its bytes in
    /// memory order, whose `to_le_bytes()` are the data: the compiler then keeps the data in one
    /// register, and [`WriteData::to_le_u64`] gives that register back.
    ///
    /// # Safety
    ///
    /// `len <= MAX_WRITE_LEN`, and `val` must be valid for reads of `len` bytes.
    #[inline(always)]
    unsafe fn copy_data(val: *const u8, len: usize) -> WriteData {
        // SAFETY: The caller guarantees that `val` is valid for reads of `len` bytes, each read
        // below is aligned for its type, and every bit pattern is a valid integer. Another CPU
        // may write the buffer meanwhile: the kernel reads memory it shares with other CPUs with
        // volatile accesses, which are its `READ_ONCE()` (the LKMM defines the race, as for
        // `kernel::io`'s system memory), and each read then gives the old or the new value.
        let bytes = unsafe {
            match len {
                0 => [0; MAX_WRITE_LEN],
                1 => u64::from(ptr::read_volatile(val)).to_le_bytes(),
                2 if val.cast::<u16>().is_aligned() => {
                    u64::from(u16::from_le(ptr::read_volatile(val.cast::<u16>()))).to_le_bytes()
                }
                4 if val.cast::<u32>().is_aligned() => {
                    u64::from(u32::from_le(ptr::read_volatile(val.cast::<u32>()))).to_le_bytes()
                }
                8 if val.cast::<u64>().is_aligned() => {
                    u64::from_le(ptr::read_volatile(val.cast::<u64>())).to_le_bytes()
                }
                _ => {
                    let mut bytes = [0u8; MAX_WRITE_LEN];
                    for (i, byte) in bytes.iter_mut().enumerate().take(len) {
                        *byte = ptr::read_volatile(val.add(i));
                    }
                    bytes
                }
            }
        };
        // INVARIANT: `len <= MAX_WRITE_LEN` by the safety requirements, and each arm above left
        // the bytes from `len` on zero.
        WriteData { bytes, len }
    }

    /// # Safety
    ///
    /// KVM calls this for a device on a bus of the VM of `vcpu`, while the vCPU runs, with `len`
    /// bytes readable at `val`.
    unsafe extern "C" fn write_callback(
        vcpu: *mut bindings::kvm_vcpu,
        this: *mut bindings::kvm_io_device,
        addr: bindings::gpa_t,
        len: c_int,
        val: *const c_void,
    ) -> c_int {
        let len = match usize::try_from(len) {
            Ok(len) if len <= MAX_WRITE_LEN => len,
            // Negative, or longer than KVM ever passes: not for a device written in Rust.
            _ => return EOPNOTSUPP.to_errno(),
        };
        // SAFETY: `OPS` is private and only `IoDevice::<T>::new()` installs it, so `this` is the
        // `dev` field of an `IoDevice<T>`. It is live: KVM calls this for devices on the bus
        // inside `kvm->srcu`, and waits for that before it calls the destructor, which may drop
        // the last reference.
        let dev = unsafe { Self::from_raw(this) };
        // SAFETY: KVM passes the vCPU whose exit it handles, which is valid during the call, and
        // its `kvm` is set when the vCPU is created and never written again. The vCPU runs, so its
        // file is open and holds a reference on the VM, which is therefore live.
        let kvm = unsafe { Kvm::from_raw((*vcpu).kvm) };
        // SAFETY: `len <= MAX_WRITE_LEN`, and KVM passes `len` readable bytes at `val` (none for a
        // write of nothing, to `KVM_FAST_MMIO_BUS`, which reads nothing).
        let data = unsafe { Self::copy_data(val.cast::<u8>(), len) };

        match dev.data.write(kvm, addr, &data) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// KVM calls this once per registration of `this`, after removing it from the bus and
    /// waiting for `kvm->srcu`.
    unsafe extern "C" fn destructor_callback(this: *mut bindings::kvm_io_device) {
        // SAFETY: As in `write_callback()`, `this` is the `dev` field of an `IoDevice<T>`, which
        // the bus keeps alive. `io_bus_register_dev()` computed `this` from the pointer that
        // `Arc::into_raw()` returned for this registration, so `dev` is that pointer, and no
        // reference is made that could outlive the device.
        let dev = unsafe { crate::container_of!(Opaque::cast_from(this), Self, dev) };
        // SAFETY: The bus owns the reference that `io_bus_register_dev()` leaked with
        // `Arc::into_raw()` for this registration, `dev` is the pointer it returned, and KVM calls
        // the destructor once per registration: take the reference back.
        drop(unsafe { Arc::from_raw(dev) });
    }
}

impl<T: IoDeviceOps> Deref for IoDevice<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.data
    }
}

impl SlotsLocked<'_> {
    /// Registers `dev` on `bus` of the VM for the range `[addr, addr + len)`, which KVM takes as
    /// the writes that start at `addr` when `len` is zero.
    ///
    /// The bus takes over the reference `dev`. Ranges on a bus may overlap: KVM offers an access
    /// to every device whose range contains it until one takes it. Fails with [`ENOMEM`] or, when
    /// the bus is full, [`ENOSPC`].
    #[inline]
    pub fn io_bus_register_dev<T: IoDeviceOps>(
        &self,
        bus: Bus,
        addr: u64,
        len: i32,
        dev: Arc<IoDevice<T>>,
    ) -> Result {
        let dev = Arc::into_raw(dev);
        // The C device, computed from the pointer that the destructor gives back to
        // `Arc::from_raw()`.
        // SAFETY: `dev` points to an `IoDevice<T>`, which the reference leaked above keeps alive.
        let raw = Opaque::cast_into(unsafe { &raw const (*dev).dev });

        // SAFETY: `slots_lock` is held by the type invariant. `raw` is an initialised device that
        // stays valid while the bus owns the reference leaked above, and the module of `T` stays
        // loaded while the device is on the bus, by the type invariant.
        let ret = unsafe {
            bindings::kvm_io_bus_register_dev(self.as_raw(), bus.as_raw(), addr, len, raw)
        };
        if ret != 0 {
            // SAFETY: The bus did not take the reference leaked above.
            drop(unsafe { Arc::from_raw(dev) });
        }
        to_result(ret)
    }

    /// Unregisters `dev` from `bus` of the VM.
    ///
    /// Returns `Ok(())` when the bus released the device, also when `dev` was not on the bus.
    /// Fails with [`ENOMEM`] when KVM could not shrink the bus: KVM then destroyed the whole bus
    /// with every device on it (their destructors ran), and the VM has no such bus any more
    /// (registering on it fails with [`ENOMEM`]).
    #[inline]
    pub fn io_bus_unregister_dev<T: IoDeviceOps>(&self, bus: Bus, dev: &IoDevice<T>) -> Result {
        // SAFETY: `slots_lock` is held by the type invariant. KVM only compares `dev` with the
        // devices on the bus before it calls the destructor of the one that matches, and `dev`
        // stays allocated during the call because the caller holds a reference to it.
        to_result(unsafe {
            bindings::kvm_io_bus_unregister_dev(self.as_raw(), bus.as_raw(), dev.as_raw())
        })
    }
}
