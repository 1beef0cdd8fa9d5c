// SPDX-License-Identifier: GPL-2.0

//! A deliberately misbehaving coalesced PIO provider, for the tests only.
//!
//! Written in safe Rust, it breaks the provider contract the way a buggy provider could: its
//! `register_zone` puts a device on the VM's port I/O bus and then fails. KVM must still keep the
//! module loaded while the VM lives (`rmmod` is refused), the device must keep working (the next
//! guest write to the zone is appended to the ring), and tearing the VM down must run the
//! device's destructor while the module is still there. It is named `kvm_coalesced_pio` because
//! KVM exports what a provider needs to that module only; the workbench loads it in place of the
//! real provider (`tools/guest/faulty-provider`).

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
    prelude::*, //
};

/// A device that appends every write in its range to the ring.
struct StrayZone;

impl IoDeviceOps for StrayZone {
    fn write(&self, kvm: &Kvm, addr: u64, data: &WriteData) -> Result {
        kvm.coalesced_ring()
            .append(addr, data, true)
            .map_err(|_| EOPNOTSUPP)
    }
}

struct FaultyProvider;

#[vtable]
impl Provider for FaultyProvider {
    type VmData = KBox<()>;

    fn new_vm(_kvm: &Kvm) -> Result<Self::VmData> {
        Ok(KBox::new((), GFP_KERNEL)?)
    }

    /// Registers a device for the zone, keeps no reference to it, and fails.
    fn register_zone(kvm: &SlotsLocked<'_>, _vm: &mut (), zone: Zone) -> Result {
        let dev = IoDevice::new(StrayZone, GFP_KERNEL)?;
        // CAST: As in C, the bus takes the size as an `int`.
        kvm.io_bus_register_dev(Bus::Pio, zone.addr, zone.size as i32, dev)?;
        Err(EIO)
    }

    fn unregister_zone(_kvm: &SlotsLocked<'_>, _vm: &mut (), _zone: Zone) -> Result {
        Ok(())
    }
}

kernel::module_kvm_coalesced_pio_provider! {
    type: FaultyProvider,
    authors: ["kvm-coalesced-pio developers"],
    description: "A misbehaving coalesced PIO provider, for tests",
    license: "GPL",
}
