// SPDX-License-Identifier: GPL-2.0

//! Coalesced PIO for KVM.
//!
//! A guest write to a port inside a coalesced PIO zone is appended to the VM's coalesced I/O ring
//! instead of exiting to userspace, which replays it later (QEMU does so for the RTC index port
//! 0x70 and the PCI address port 0xcf8). This is the `pio = 1` half of
//! `KVM_REGISTER_COALESCED_MMIO`, behaving as KVM's former C implementation did.
//!
//! Every zone is an I/O device on the VM's port I/O bus. The bus and the VM's zone list each hold
//! a reference on the device, so a zone stays valid as long as the list has it, even after KVM
//! destroyed the bus.

use kernel::{
    kvm::{
        coalesced_pio::{self, Zone},
        iodev::{Bus, IoDevice, IoDeviceOps},
        ring::AppendError,
        Kvm, SlotsLocked,
    },
    new_mutex,
    prelude::*,
    seq_file::SeqFile,
    seq_print,
    sync::{
        atomic::{Atomic, Relaxed},
        Arc, Mutex,
    },
};

module! {
    type: CoalescedPioModule,
    name: "kvm_coalesced_pio",
    authors: ["kvm-coalesced-pio developers"],
    description: "Coalesced PIO for KVM",
    license: "GPL",
}

/// The counters of a VM, shared by its zones and updated without a lock in vCPU context.
struct Stats {
    coalesced: Atomic<u64>,
    ring_full: Atomic<u64>,
    bad_index: Atomic<u64>,
}

/// A pio zone: the ports `[addr, addr + size)`.
struct PioZone {
    addr: u64,
    size: u32,
    /// The writes coalesced into this zone.
    coalesced: Atomic<u64>,
    stats: Arc<Stats>,
}

impl PioZone {
    /// Whether `[addr, addr + len)` lies inside the zone, as `coalesced_mmio_in_range()` in C:
    /// an access that wraps is never inside, and the end of the zone wraps as a `u64`.
    fn contains(&self, addr: u64, len: u64) -> bool {
        let Some(end) = addr.checked_add(len) else {
            return false;
        };
        addr >= self.addr && end <= self.addr.wrapping_add(u64::from(self.size))
    }
}

impl IoDeviceOps for PioZone {
    fn write(&self, kvm: &Kvm, addr: u64, data: &[u8]) -> Result {
        if !self.contains(addr, data.len() as u64) {
            return Err(EOPNOTSUPP);
        }

        // On error KVM exits to userspace with the write: nothing is lost.
        match kvm.coalesced_ring().append(addr, data, true) {
            Ok(()) => {
                self.coalesced.add(1, Relaxed);
                self.stats.coalesced.add(1, Relaxed);
                Ok(())
            }
            Err(AppendError::Full) => {
                self.stats.ring_full.add(1, Relaxed);
                Err(EOPNOTSUPP)
            }
            Err(AppendError::BadIndex) => {
                self.stats.bad_index.add(1, Relaxed);
                Err(EOPNOTSUPP)
            }
            Err(AppendError::TooLong) => Err(EOPNOTSUPP),
        }
    }
}

/// The state of a VM.
#[pin_data]
struct VmState {
    /// The zones registered on the VM's port I/O bus. Changed under `kvm->slots_lock` (and this
    /// mutex); device destructors do not touch it.
    #[pin]
    zones: Mutex<KVec<Arc<IoDevice<PioZone>>>>,
    stats: Arc<Stats>,
}

struct CoalescedPio;

#[vtable]
impl coalesced_pio::Provider for CoalescedPio {
    type VmData = Pin<KBox<VmState>>;

    fn new_vm(_kvm: &Kvm) -> Result<Self::VmData> {
        let stats = Arc::new(
            Stats {
                coalesced: Atomic::new(0),
                ring_full: Atomic::new(0),
                bad_index: Atomic::new(0),
            },
            GFP_KERNEL_ACCOUNT,
        )?;
        KBox::pin_init(
            pin_init!(VmState {
                zones <- new_mutex!(KVec::new()),
                stats,
            }),
            GFP_KERNEL_ACCOUNT,
        )
    }

    fn register_zone(kvm: &SlotsLocked<'_>, vm: Pin<&VmState>, zone: Zone) -> Result {
        let dev = IoDevice::new(
            PioZone {
                addr: zone.addr,
                size: zone.size,
                coalesced: Atomic::new(0),
                stats: vm.stats.clone(),
            },
            GFP_KERNEL_ACCOUNT,
        )?;

        let mut zones = vm.zones.lock();
        zones.push(dev.clone(), GFP_KERNEL_ACCOUNT)?;
        // KVM's C code passed the size to the `int` length of the bus as is: so do we.
        if let Err(e) = kvm.io_bus_register_dev(Bus::Pio, zone.addr, zone.size as i32, dev) {
            zones.pop();
            return Err(e);
        }
        Ok(())
    }

    fn unregister_zone(kvm: &SlotsLocked<'_>, vm: Pin<&VmState>, zone: Zone) -> Result {
        // The C code checked containment with the size as an `int` length: a negative one
        // contains nothing.
        if i32::try_from(zone.size).is_err() {
            return Ok(());
        }

        let mut zones = vm.zones.lock();
        let mut i = 0;
        while i < zones.len() {
            if !zones[i].contains(zone.addr, u64::from(zone.size)) {
                i += 1;
                continue;
            }
            let dev = zones.remove(i)?;
            if kvm.io_bus_unregister_dev(Bus::Pio, &dev).is_err() {
                // KVM could not shrink the bus and destroyed it with every device on it: no zone
                // is left on the bus. Our references keep the zones' memory valid until here.
                zones.clear();
                break;
            }
        }

        // As in C: from userspace's view the zones are unregistered, whatever happened.
        Ok(())
    }

    fn show(m: &SeqFile, vm: Pin<&VmState>) -> Result {
        let zones = vm.zones.lock();
        seq_print!(m, "zones {}\n", zones.len());
        seq_print!(m, "coalesced {}\n", vm.stats.coalesced.load(Relaxed));
        seq_print!(m, "ring_full {}\n", vm.stats.ring_full.load(Relaxed));
        seq_print!(m, "bad_index {}\n", vm.stats.bad_index.load(Relaxed));
        for zone in zones.iter() {
            let count = zone.coalesced.load(Relaxed);
            seq_print!(m, "zone@0x{:x}+{} {}\n", zone.addr, zone.size, count);
        }
        Ok(())
    }
}

struct CoalescedPioModule {
    _registration: coalesced_pio::Registration<CoalescedPio>,
}

impl kernel::Module for CoalescedPioModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Self {
            _registration: coalesced_pio::Registration::new()?,
        })
    }
}
