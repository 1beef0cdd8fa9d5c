// SPDX-License-Identifier: GPL-2.0

//! The coalesced I/O ring of a VM.
//!
//! Writes to coalesced MMIO and PIO zones are appended to a ring in a page that userspace maps
//! through every vCPU file (at `KVM_COALESCED_MMIO_PAGE_OFFSET`) and replays later. KVM appends at
//! `last`, userspace consumes from `first`, and one entry always stays free so that a full ring
//! can be told from an empty one. Userspace may write `first` and `last` at any time.
//!
//! C header: [`include/uapi/linux/kvm.h`](srctree/include/uapi/linux/kvm.h)

use super::{
    iodev::WriteData,
    Kvm, //
};
use crate::{
    bindings,
    sync::{
        barrier,
        SpinLock, //
    }, //
};
use core::{
    marker::PhantomData,
    ptr, //
};

/// The number of entries of a ring (`KVM_COALESCED_MMIO_MAX`); at most `MAX - 1` are in use.
// CAST: Checked by the assertion below.
pub const MAX: u32 = bindings::KVM_COALESCED_MMIO_MAX as u32;

crate::static_assert!(bindings::KVM_COALESCED_MMIO_MAX <= u32::MAX as usize);

/// The number of data bytes an entry holds: those of any write ([`MAX_WRITE_LEN`]).
///
/// [`MAX_WRITE_LEN`]: super::iodev::MAX_WRITE_LEN
pub const DATA_LEN: usize = 8;

crate::static_assert!(super::iodev::MAX_WRITE_LEN == DATA_LEN);
// `append` writes an entry's data as one `u64`.
crate::static_assert!(size_of::<u64>() == DATA_LEN);
crate::static_assert!(
    core::mem::offset_of!(bindings::kvm_coalesced_mmio, data) % align_of::<u64>() == 0
);
crate::static_assert!(align_of::<bindings::kvm_coalesced_mmio>() >= align_of::<u64>());

/// Why [`CoalescedRing::append`] did not append.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendError {
    /// The ring is full: `(last + 1) % MAX == first`.
    Full,
    /// Userspace set `last` out of range (`last >= MAX`).
    BadIndex,
}

/// A coalesced I/O ring and the lock that serialises the kernel's writers.
///
/// # Invariants
///
/// - `ring` points to a `struct kvm_coalesced_mmio_ring` with room for [`MAX`] entries, aligned
///   and valid for reads and writes during `'a`, which userspace may read and write at any time.
/// - Kernel code writes to the ring only with `lock` held.
pub struct CoalescedRing<'a> {
    ring: *mut bindings::kvm_coalesced_mmio_ring,
    lock: &'a SpinLock<()>,
    _p: PhantomData<&'a bindings::kvm_coalesced_mmio_ring>,
}

impl<'a> CoalescedRing<'a> {
    /// Creates a ring from a raw pointer to it and the lock of its writers.
    ///
    /// # Safety
    ///
    /// - `ring` must point to a `struct kvm_coalesced_mmio_ring` with room for [`MAX`] entries,
    ///   aligned and valid for reads and writes during `'a`.
    /// - Kernel code must write to the ring only with `lock` held during `'a`.
    #[inline]
    pub unsafe fn from_raw(
        ring: *mut bindings::kvm_coalesced_mmio_ring,
        lock: &'a SpinLock<()>,
    ) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self {
            ring,
            lock,
            _p: PhantomData,
        }
    }

    /// Appends an entry for a write of `data` to `addr`; `pio` tells a port from an MMIO address.
    ///
    /// Follows the rules of the C implementation: under the lock, `last` is read once and checked
    /// (userspace may have written anything there), the entry is filled, and only then, after a
    /// write barrier, is `last` advanced to publish it.
    ///
    /// Inline: it is the whole of a coalesced write, once per guest access.
    #[inline]
    pub fn append(&self, addr: u64, data: &WriteData, pio: bool) -> Result<(), AppendError> {
        // Only the data's word is kept across the lock call.
        let word = data.to_le_u64();
        // CAST: `data.len() <= DATA_LEN` (asserted above to be `MAX_WRITE_LEN`).
        let len = data.len() as u32;

        let _guard = self.lock.lock();
        let ring = self.ring;

        // SAFETY: `ring` is valid and aligned by the type invariant. Userspace may write `last` at
        // any time: it is read once, with a volatile read, which is the kernel's `READ_ONCE()`
        // for memory shared with userspace (the LKMM defines the race), and every value of a
        // `u32` is valid; whatever it is, it is checked before it is used.
        let last = unsafe { ptr::read_volatile(&raw const (*ring).last) };
        if last >= MAX {
            return Err(AppendError::BadIndex);
        }
        let next = if last + 1 == MAX { 0 } else { last + 1 };
        // SAFETY: As above, for `first`.
        if next == unsafe { ptr::read_volatile(&raw const (*ring).first) } {
            return Err(AppendError::Full);
        }

        // SAFETY: `last < MAX`, and the ring has room for `MAX` entries by the type invariant.
        let slot = unsafe {
            (&raw mut (*ring).__bindgen_anon_1.coalesced_mmio)
                .cast::<bindings::kvm_coalesced_mmio>()
                .add(last as usize)
        };
        // SAFETY: `slot` is inside the ring, which is valid for writes by the type invariant, and
        // the lock is held, so no other kernel code writes to the ring. Every field is written
        // through a pointer aligned for its type: `slot` is aligned for an entry, and `data`,
        // `DATA_LEN` bytes at an offset aligned for `u64`, for a `u64` (asserted at the top of
        // this file). Userspace may read and write the page at any time, hence volatile writes,
        // the kernel's `WRITE_ONCE()` for shared memory as above, of each field in place as the C
        // code does.
        unsafe {
            ptr::write_volatile(&raw mut (*slot).phys_addr, addr);
            ptr::write_volatile(&raw mut (*slot).len, len);
            ptr::write_volatile(&raw mut (*slot).__bindgen_anon_1.pio, u32::from(pio));
            // One store of the data, which the volatile write of a byte array is not.
            ptr::write_volatile((&raw mut (*slot).data).cast::<u64>(), word.to_le());
        }

        // Userspace must see the entry before the new `last`.
        barrier::smp_mb(barrier::Write);

        // SAFETY: As above.
        unsafe { ptr::write_volatile(&raw mut (*ring).last, next) };

        Ok(())
    }
}

impl Kvm {
    /// Returns the coalesced I/O ring of the VM, shared by coalesced MMIO and PIO.
    #[inline]
    pub fn coalesced_ring(&self) -> CoalescedRing<'_> {
        let kvm = self.as_raw();

        // SAFETY: The VM is live by the type invariant of `Kvm`, and `kvm_create_vm()`
        // initialised `ring_lock` before anyone could see the VM.
        let lock = unsafe { SpinLock::from_raw(&raw mut (*kvm).ring_lock) };
        // SAFETY: `kvm_create_vm()` allocated the ring page (a page, so aligned, with room for
        // `MAX` entries by the definition of `KVM_COALESCED_MMIO_MAX`) before anyone could see the
        // VM, and `kvm_destroy_vm()` frees it only after it has started to tear the VM down, which
        // it has not during the borrow of `self` by the type invariant of `Kvm`. KVM writes to the
        // ring only with `ring_lock` held (`coalesced_mmio_write()`).
        unsafe { CoalescedRing::from_raw((*kvm).coalesced_mmio_ring, lock) }
    }
}

#[macros::kunit_tests(rust_kvm_coalesced_ring)]
mod tests {
    use super::*;
    use crate::{
        error::code::EINVAL,
        new_spinlock,
        page::PAGE_SIZE,
        prelude::*, //
    };

    const ENTRY_SIZE: usize = size_of::<bindings::kvm_coalesced_mmio>();
    const RING_BYTES: usize =
        size_of::<bindings::kvm_coalesced_mmio_ring>() + MAX as usize * ENTRY_SIZE;

    /// A ring page followed by a guard page that must stay zero, and a lock.
    struct TestRing {
        mem: KVec<u64>,
        ring: *mut bindings::kvm_coalesced_mmio_ring,
        lock: Pin<KBox<SpinLock<()>>>,
    }

    impl TestRing {
        fn new() -> Result<Self> {
            let mut mem = KVec::from_elem(0u64, 2 * PAGE_SIZE / size_of::<u64>(), GFP_KERNEL)?;
            let ring = mem.as_mut_ptr().cast();
            let lock = KBox::pin_init(new_spinlock!(()), GFP_KERNEL)?;
            Ok(Self { mem, ring, lock })
        }

        fn ring(&mut self) -> CoalescedRing<'_> {
            // SAFETY: `mem` is two pages of `u64`, so aligned for the ring, valid while `self` is
            // mutably borrowed, during which it is only written through the ring, with `lock`
            // held.
            unsafe { CoalescedRing::from_raw(self.ring, &self.lock) }
        }

        fn set(&mut self, first: u32, last: u32) {
            // SAFETY: `ring` points into `mem`.
            unsafe {
                ptr::write_volatile(&raw mut (*self.ring).first, first);
                ptr::write_volatile(&raw mut (*self.ring).last, last);
            }
        }

        fn last(&self) -> u32 {
            // SAFETY: `ring` points into `mem`.
            unsafe { ptr::read_volatile(&raw const (*self.ring).last) }
        }

        /// Returns entry `i` as `(phys_addr, len, pio, data)`.
        fn entry(&self, i: u32) -> (u64, u32, u32, [u8; DATA_LEN]) {
            // Callers pass `i < MAX`; the modulo keeps the read inside the ring regardless.
            let i = i % MAX;
            // SAFETY: `i < MAX`, and the ring page has room for `MAX` entries.
            let e = unsafe {
                ptr::read_volatile(
                    (&raw const (*self.ring).__bindgen_anon_1.coalesced_mmio)
                        .cast::<bindings::kvm_coalesced_mmio>()
                        .add(i as usize),
                )
            };
            // SAFETY: Both members of the union are `u32`.
            let pio = unsafe { e.__bindgen_anon_1.pio };
            (e.phys_addr, e.len, pio, e.data)
        }

        /// Returns a copy of the ring page and of the guard page.
        fn snapshot(&self) -> Result<KVec<u64>> {
            let mut copy = KVec::with_capacity(self.mem.len(), GFP_KERNEL)?;
            for i in 0..self.mem.len() {
                // SAFETY: `i` is inside `mem`; the ring is written through raw pointers only.
                let word = unsafe { ptr::read_volatile(self.mem.as_ptr().add(i)) };
                copy.push(word, GFP_KERNEL)?;
            }
            Ok(copy)
        }

        /// Whether nothing beyond the `MAX` entries was written.
        fn guard_intact(&self) -> bool {
            let Ok(snap) = self.snapshot() else {
                return false;
            };
            snap[RING_BYTES.div_ceil(size_of::<u64>())..]
                .iter()
                .all(|&w| w == 0)
        }
    }

    fn data_for(n: u32) -> [u8; 4] {
        n.to_le_bytes()
    }

    fn wd(bytes: &[u8]) -> Result<WriteData> {
        WriteData::new(bytes).ok_or(EINVAL)
    }

    #[test]
    fn empty_ring() -> Result {
        let mut t = TestRing::new()?;
        assert_eq!(t.ring().append(0x70, &wd(&[0x8f])?, true), Ok(()));
        assert_eq!(t.last(), 1);
        let (addr, len, pio, data) = t.entry(0);
        assert_eq!((addr, len, pio, data[0]), (0x70, 1, 1, 0x8f));

        assert_eq!(
            t.ring()
                .append(0x1000, &wd(&[1, 2, 3, 4, 5, 6, 7, 8])?, false),
            Ok(())
        );
        assert_eq!(t.last(), 2);
        assert_eq!(t.entry(1), (0x1000, 8, 0, [1, 2, 3, 4, 5, 6, 7, 8]));
        assert!(t.guard_intact());
        Ok(())
    }

    #[test]
    fn fill_then_full() -> Result {
        let mut t = TestRing::new()?;
        for i in 0..MAX - 1 {
            assert_eq!(t.ring().append(0xcf8, &wd(&data_for(i))?, true), Ok(()));
        }
        assert_eq!(t.last(), MAX - 1);
        assert_eq!(
            t.ring().append(0xcf8, &wd(&data_for(MAX))?, true),
            Err(AppendError::Full)
        );
        assert_eq!(
            t.ring().append(0x1000, &wd(&data_for(MAX))?, false),
            Err(AppendError::Full)
        );
        assert_eq!(t.last(), MAX - 1);
        for i in 0..MAX - 1 {
            let (addr, len, pio, data) = t.entry(i);
            assert_eq!((addr, len, pio), (0xcf8, 4, 1));
            assert_eq!(data[..4], data_for(i));
        }
        // The free entry was not written.
        assert_eq!(t.entry(MAX - 1), (0, 0, 0, [0; DATA_LEN]));
        assert!(t.guard_intact());
        Ok(())
    }

    #[test]
    fn wrap_around_at_every_start() -> Result {
        let mut t = TestRing::new()?;
        for start in 0..MAX {
            t.set(start, start);
            for i in 0..MAX - 1 {
                let port = (u64::from(start) << 16) | u64::from(i);
                assert_eq!(
                    t.ring().append(port, &wd(&data_for(start ^ i))?, true),
                    Ok(())
                );
            }
            assert_eq!(t.ring().append(0, &wd(&[0])?, true), Err(AppendError::Full));
            assert_eq!(t.last(), (start + MAX - 1) % MAX);
            for i in 0..MAX - 1 {
                let (addr, len, pio, data) = t.entry((start + i) % MAX);
                assert_eq!(addr, (u64::from(start) << 16) | u64::from(i));
                assert_eq!((len, pio), (4, 1));
                assert_eq!(data[..4], data_for(start ^ i));
            }
            // Userspace consumes one entry: there is room for exactly one more.
            let last = t.last();
            t.set((start + 1) % MAX, last);
            assert_eq!(t.ring().append(1, &wd(&[1])?, true), Ok(()));
            assert_eq!(t.ring().append(2, &wd(&[2])?, true), Err(AppendError::Full));
        }
        assert!(t.guard_intact());
        Ok(())
    }

    #[test]
    fn hostile_last() -> Result {
        let mut t = TestRing::new()?;
        for last in [MAX, MAX + 1, u32::MAX / 2, u32::MAX] {
            t.set(0, last);
            let before = t.snapshot()?;
            assert_eq!(
                t.ring().append(0x70, &wd(&[1])?, true),
                Err(AppendError::BadIndex)
            );
            assert_eq!(t.last(), last);
            assert!(t.snapshot()?[..] == before[..]);
        }
        assert!(t.guard_intact());
        Ok(())
    }

    #[test]
    fn hostile_first() -> Result {
        let mut t = TestRing::new()?;
        for first in [MAX, MAX + 1, u32::MAX] {
            // `first` never matches, so the ring never looks full, but every write stays inside
            // the ring: `last` keeps wrapping below `MAX`.
            t.set(first, 0);
            for i in 0..2 * MAX {
                assert_eq!(t.ring().append(0x70, &wd(&data_for(i))?, true), Ok(()));
                assert_eq!(t.last(), (i + 1) % MAX);
            }
        }
        assert!(t.guard_intact());
        Ok(())
    }

    #[test]
    fn every_width() -> Result {
        let mut t = TestRing::new()?;
        let data = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88];
        // Leave garbage in the slots first: a shorter entry must not keep it.
        for _ in 0..=DATA_LEN {
            assert_eq!(
                t.ring().append(0x70, &wd(&[0xff; DATA_LEN])?, false),
                Ok(())
            );
        }
        t.set(0, 0);
        for len in 0..=DATA_LEN {
            assert_eq!(t.ring().append(0xcf8, &wd(&data[..len])?, true), Ok(()));
            let mut want = [0u8; DATA_LEN];
            want[..len].copy_from_slice(&data[..len]);
            // CAST: `len <= DATA_LEN`.
            assert_eq!(t.entry(len as u32), (0xcf8, len as u32, 1, want));
        }
        assert!(t.guard_intact());
        Ok(())
    }

    #[test]
    fn write_data() -> Result {
        assert_eq!(WriteData::new(&[0; DATA_LEN + 1]), None);
        let data = wd(&[0x11, 0x22, 0x33])?;
        assert_eq!(*data, [0x11, 0x22, 0x33]);
        assert_eq!(data.to_le_u64(), 0x33_2211);
        assert_eq!(wd(&[])?.to_le_u64(), 0);
        let data = wd(&[1, 2, 3, 4, 5, 6, 7, 8])?;
        assert_eq!(data.to_le_u64(), 0x0807_0605_0403_0201);
        Ok(())
    }
}
