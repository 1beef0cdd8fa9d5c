// SPDX-License-Identifier: GPL-2.0

//! Coalesced PIO for KVM.
//!
//! A guest write to a port inside a coalesced PIO zone is appended to the VM's coalesced I/O ring
//! instead of exiting to userspace, which replays it later (QEMU registers zones for the RTC index
//! port 0x70 and the PCI address port 0xcf8). This is the pio half of
//! `KVM_REGISTER_COALESCED_MMIO`, with the semantics of KVM's C implementation, errors and
//! exact-width zones included. While the module is loaded, the VMs that register their first pio
//! zone use it instead of KVM's C code, and keep it loaded until they are destroyed.
//!
//! Every zone is an I/O device on the VM's port I/O bus. The bus and the VM's list of zones each
//! hold a reference on the device, so a zone stays valid as long as the list has it, even after
//! KVM destroyed the bus.

use kernel::{
    kvm::{
        coalesced_pio::{
            Provider,
            Zone, //
        },
        iodev::{
            Bus,
            IoDevice,
            IoDeviceOps,
            WriteData, //
        },
        Kvm,
        SlotsLocked, //
    },
    prelude::*,
    sync::Arc, //
};

/// A pio zone: the ports `[addr, addr + size)`.
struct PioZone {
    addr: u64,
    size: u32,
    /// Only writes of the whole zone are coalesced (`KVM_COALESCED_PIO_EXACT`).
    exact: bool,
}

impl PioZone {
    /// Whether `[addr, addr + len)` lies inside the zone, as `coalesced_mmio_in_range()` decides
    /// it: an access whose end wraps is never inside, and the zone's end is computed as in C.
    #[inline]
    fn contains(&self, addr: u64, len: u64) -> bool {
        let Some(end) = addr.checked_add(len) else {
            return false;
        };
        addr >= self.addr && end <= self.addr.wrapping_add(u64::from(self.size))
    }

    /// Whether the zone takes a write of `len` bytes at `addr`: one that it contains, and for an
    /// exact zone, one of the whole zone, as `coalesced_mmio_write()` decides it.
    #[inline]
    fn takes(&self, addr: u64, len: u64) -> bool {
        self.contains(addr, len)
            && (!self.exact || (addr == self.addr && len == u64::from(self.size)))
    }
}

impl IoDeviceOps for PioZone {
    // Always inline into the device's C callback, which only forwards here: this is the
    // coalesced write itself, once per guest access.
    #[inline(always)]
    fn write(&self, kvm: &Kvm, addr: u64, data: &WriteData) -> Result {
        // CAST: A slice's length fits `u64`.
        if !self.takes(addr, data.len() as u64) {
            return Err(EOPNOTSUPP);
        }

        // If the ring is full, KVM exits to userspace with the write: nothing is lost. (Except
        // for the string OUTs of an SEV-ES guest, whose elements after a refused one KVM drops,
        // as it does for its C devices.)
        kvm.coalesced_ring()
            .append(addr, data, true)
            .map_err(|_| EOPNOTSUPP)
    }
}

/// The state of a VM: the zones registered on its port I/O bus.
struct VmState {
    zones: KVec<Arc<IoDevice<PioZone>>>,
}

struct CoalescedPio;

#[vtable]
impl Provider for CoalescedPio {
    type VmData = KBox<VmState>;

    fn new_vm(_kvm: &Kvm) -> Result<Self::VmData> {
        Ok(KBox::new(
            VmState { zones: KVec::new() },
            GFP_KERNEL_ACCOUNT,
        )?)
    }

    fn register_zone(kvm: &SlotsLocked<'_>, vm: &mut VmState, zone: Zone) -> Result {
        let dev = IoDevice::new(
            PioZone {
                addr: zone.addr,
                size: zone.size,
                exact: zone.exact,
            },
            GFP_KERNEL_ACCOUNT,
        )?;
        let zones = &mut vm.zones;
        zones.push(dev.clone(), GFP_KERNEL_ACCOUNT)?;
        // CAST: As in C, the bus takes the size as an `int`.
        if let Err(e) = kvm.io_bus_register_dev(Bus::Pio, zone.addr, zone.size as i32, dev) {
            zones.pop();
            return Err(e);
        }
        Ok(())
    }

    fn unregister_zone(kvm: &SlotsLocked<'_>, vm: &mut VmState, zone: Zone) -> Result {
        // As in C, the size is an `int` length here: a negative one contains nothing.
        if i32::try_from(zone.size).is_err() {
            return Ok(());
        }

        let zones = &mut vm.zones;
        let mut i = 0;
        while i < zones.len() {
            // As in C, only zones of the same kind, exact or not, that contain the range.
            if zones[i].exact != zone.exact || !zones[i].contains(zone.addr, u64::from(zone.size)) {
                i += 1;
                continue;
            }
            let dev = zones.remove(i)?;
            if kvm.io_bus_unregister_dev(Bus::Pio, &dev).is_err() {
                // KVM could not shrink the bus and destroyed it with every device on it: no zone
                // is left on the bus. Our references kept the devices' memory valid until now.
                zones.clear();
                break;
            }
        }

        // As in C: from userspace's view the zones are unregistered, whatever happened.
        Ok(())
    }
}

kernel::module_kvm_coalesced_pio_provider! {
    type: CoalescedPio,
    authors: ["kvm-coalesced-pio developers"],
    description: "Coalesced PIO for KVM",
    license: "GPL",
}
