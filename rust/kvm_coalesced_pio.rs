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
//!
//! Unlike the C code, the module refuses zones that the bus lookup could miss or that can never
//! match a write: empty zones and zones reaching past port 0xffff (`EINVAL`), and zones that
//! overlap one of the VM's pio zones (`EEXIST`). The bus finds a device by binary search over
//! ranges sorted by address, which only works while no range contains another: beside an empty
//! or a nested zone, a write inside a registered zone could exit although the ring has room.

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

/// The counters of the writes of a VM that exited although they were inside a zone, shared by
/// its zones and updated without a lock in vCPU context. The coalesced writes are counted per
/// zone, so that the hot path updates a single counter.
struct Stats {
    ring_full: Atomic<u64>,
    bad_index: Atomic<u64>,
}

/// The number of I/O ports: a zone lies inside `[0, PORTS)`.
const PORTS: u64 = 0x1_0000;

/// A pio zone: the ports `[addr, addr + size)`.
///
/// # Invariants
///
/// `size > 0` and `addr + size <= PORTS`.
struct PioZone {
    addr: u64,
    size: u32,
    /// The writes appended to the ring for this zone.
    coalesced: Atomic<u64>,
    stats: Arc<Stats>,
}

impl PioZone {
    /// The end of the zone, which cannot wrap by the type invariants.
    fn end(&self) -> u64 {
        self.addr + u64::from(self.size)
    }

    /// Whether `[addr, addr + len)` lies inside the zone, as `coalesced_mmio_in_range()` in C:
    /// an access that wraps is never inside.
    fn contains(&self, addr: u64, len: u64) -> bool {
        let Some(end) = addr.checked_add(len) else {
            return false;
        };
        addr >= self.addr && end <= self.end()
    }

    /// Whether the zone shares a port with `[addr, end)`.
    fn overlaps(&self, addr: u64, end: u64) -> bool {
        addr < self.end() && self.addr < end
    }
}

impl IoDeviceOps for PioZone {
    // Always inline into the device's C callback, which only forwards here: this is the
    // coalesced write itself, once per guest access (`make bench` counts its instructions).
    #[inline(always)]
    fn write(&self, kvm: &Kvm, addr: u64, data: &[u8]) -> Result {
        if !self.contains(addr, data.len() as u64) {
            return Err(EOPNOTSUPP);
        }

        // On error KVM exits to userspace with the write: nothing is lost.
        match kvm.coalesced_ring().append(addr, data, true) {
            Ok(()) => {
                self.coalesced.add(1, Relaxed);
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

/// The zones of a VM.
struct Zones {
    /// The zones registered on the VM's port I/O bus.
    list: KVec<Arc<IoDevice<PioZone>>>,
    /// The writes coalesced into zones that are gone.
    retired: u64,
}

impl Zones {
    /// Forgets a zone that is off the bus, keeping its count.
    fn retire(&mut self, dev: &PioZone) {
        self.retired += dev.coalesced.load(Relaxed);
    }
}

/// The state of a VM.
#[pin_data]
struct VmState {
    /// Changed under `kvm->slots_lock` (and this mutex); device destructors do not touch it.
    #[pin]
    zones: Mutex<Zones>,
    stats: Arc<Stats>,
}

struct CoalescedPio;

#[vtable]
impl coalesced_pio::Provider for CoalescedPio {
    type VmData = Pin<KBox<VmState>>;

    fn new_vm(_kvm: &Kvm) -> Result<Self::VmData> {
        let stats = Arc::new(
            Stats {
                ring_full: Atomic::new(0),
                bad_index: Atomic::new(0),
            },
            GFP_KERNEL_ACCOUNT,
        )?;
        KBox::pin_init(
            pin_init!(VmState {
                zones <- new_mutex!(Zones {
                    list: KVec::new(),
                    retired: 0,
                }),
                stats,
            }),
            GFP_KERNEL_ACCOUNT,
        )
    }

    fn register_zone(kvm: &SlotsLocked<'_>, vm: Pin<&VmState>, zone: Zone) -> Result {
        // Refuse what the bus lookup could miss (see the module's documentation).
        if zone.size == 0 || zone.addr >= PORTS || PORTS - zone.addr < u64::from(zone.size) {
            return Err(EINVAL);
        }
        let end = zone.addr + u64::from(zone.size);

        let mut zones = vm.zones.lock();
        let zones = &mut zones.list;
        if zones.iter().any(|z| z.overlaps(zone.addr, end)) {
            return Err(EEXIST);
        }

        // INVARIANT: checked above.
        let dev = IoDevice::new(
            PioZone {
                addr: zone.addr,
                size: zone.size,
                coalesced: Atomic::new(0),
                stats: vm.stats.clone(),
            },
            GFP_KERNEL_ACCOUNT,
        )?;
        zones.push(dev.clone(), GFP_KERNEL_ACCOUNT)?;
        // The size is at most `PORTS`, so it fits the `int` length of the bus.
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
        while i < zones.list.len() {
            if !zones.list[i].contains(zone.addr, u64::from(zone.size)) {
                i += 1;
                continue;
            }
            let dev = zones.list.remove(i)?;
            // Either way the device is off the bus and no vCPU writes to it any more.
            let res = kvm.io_bus_unregister_dev(Bus::Pio, &dev);
            zones.retire(&dev);
            if res.is_err() {
                // KVM could not shrink the bus and destroyed it with every device on it: no zone
                // is left on the bus. Our references keep the zones' memory valid until here.
                for dev in core::mem::take(&mut zones.list) {
                    zones.retire(&dev);
                }
                break;
            }
        }

        // As in C: from userspace's view the zones are unregistered, whatever happened.
        Ok(())
    }

    fn show(m: &SeqFile, vm: Pin<&VmState>) -> Result {
        let zones = vm.zones.lock();
        let coalesced = zones
            .list
            .iter()
            .fold(zones.retired, |n, z| n + z.coalesced.load(Relaxed));
        seq_print!(m, "zones {}\n", zones.list.len());
        seq_print!(m, "coalesced {}\n", coalesced);
        seq_print!(m, "ring_full {}\n", vm.stats.ring_full.load(Relaxed));
        seq_print!(m, "bad_index {}\n", vm.stats.bad_index.load(Relaxed));
        for z in zones.list.iter() {
            let coalesced = z.coalesced.load(Relaxed);
            seq_print!(m, "zone@{:#x}+{} {}\n", z.addr, z.size, coalesced);
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
