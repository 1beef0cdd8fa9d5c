// SPDX-License-Identifier: GPL-2.0
/*
 * Coalesced PIO demo: the two guest workloads the feature was made for, run
 * first with every port write exiting to userspace, then with the index and
 * address ports registered as coalesced PIO zones.
 *
 *  - RTC system tick: OUT 0x70 (CMOS index), IN 0x71 (CMOS data);
 *  - PCI config scan: OUTL 0xcf8 (config address), INL 0xcfc (config data).
 *
 * Userspace emulates both devices like QEMU does: before it emulates an
 * access to the data port it drains the coalesced ring, replaying every
 * queued index/address write.  The guest checks every value it reads, so a
 * lost, duplicated or reordered coalesced write fails the run.  It times each
 * access with rdtsc and the host prints the 2018 patch's table.
 *
 *   coalesced_pio_demo        the last column is TSC cycles per access
 *   coalesced_pio_demo -i     the same, labelled instructions per access:
 *                             the test VM runs under QEMU's -icount
 *                             shift=0, whose TSC counts the instructions
 *                             the emulated CPU executes (make run)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hardening.h"

#define RTC_ACCESSES	2000
#define PCI_ACCESSES	2048

/* The values the emulated devices return; the guest checks each read. */
static inline u8 cmos_value(u8 index)
{
	return (u8)(index * 7 + 3);
}

static inline u32 pci_value(u32 addr)
{
	u32 dev = (addr >> 11) & 0x1f, fn = (addr >> 8) & 7, reg = addr & 0xfc;

	if (dev >= 4 || fn)
		return 0xffffffff;
	return reg ? (addr ^ 0x5a5a5a5a) : (0x1000 + dev) << 16 | 0x1af4;
}

enum { STAGE_RTC = 1, STAGE_PCI = 2 };

static void guest_code(void)
{
	/* The registers a tick handler reads: seconds, minutes, hours, status. */
	static const u8 rtc_regs[] = { 0x00, 0x02, 0x04, 0x0a, 0x0b, 0x0c };
	u64 out_cycles, in_cycles, t0, t1, t2;
	u32 i, addr, v32;
	u8 reg, v8;

	for (;;) {
		out_cycles = 0;
		in_cycles = 0;
		for (i = 0; i < RTC_ACCESSES; i++) {
			reg = rtc_regs[i % sizeof(rtc_regs)] | (i & 0x80);
			t0 = rdtsc();
			guest_outb(RTC_INDEX_PORT, reg);
			t1 = rdtsc();
			v8 = guest_inb(RTC_DATA_PORT);
			t2 = rdtsc();
			GUEST_ASSERT_EQ(v8, cmos_value(reg));
			out_cycles += t1 - t0;
			in_cycles += t2 - t1;
		}
		GUEST_SYNC3(STAGE_RTC, out_cycles, in_cycles);

		out_cycles = 0;
		in_cycles = 0;
		for (i = 0; i < PCI_ACCESSES; i++) {
			/* bus 0, every device and function, registers 0 and 8 */
			addr = 0x80000000 | (i >> 1) << 8 | (i & 1) << 3;
			t0 = rdtsc();
			guest_outl(PCI_ADDR_PORT, addr);
			t1 = rdtsc();
			v32 = guest_inl(PCI_DATA_PORT);
			t2 = rdtsc();
			GUEST_ASSERT_EQ(v32, pci_value(addr));
			out_cycles += t1 - t0;
			in_cycles += t2 - t1;
		}
		GUEST_SYNC3(STAGE_PCI, out_cycles, in_cycles);
	}
}

struct port_stats {
	u16 port;
	u64 exits;
	u64 coalesced;
};

struct vmm {
	struct kvm_vcpu *vcpu;
	struct kvm_coalesced_mmio_ring *ring;
	struct kvm_coalesced_mmio *queued;	/* what drain() took off the ring */
	u8 rtc_index;
	u32 pci_addr;
	struct port_stats ports[4];
};

static struct port_stats *stats(struct vmm *m, u16 port)
{
	int i;

	for (i = 0; i < 4; i++)
		if (m->ports[i].port == port)
			return &m->ports[i];
	TEST_FAIL("unexpected port 0x%x", port);
	return NULL;
}

static void device_write(struct vmm *m, u16 port, u32 val)
{
	if (port == RTC_INDEX_PORT)
		m->rtc_index = val;
	else if (port == PCI_ADDR_PORT)
		m->pci_addr = val;
	else
		TEST_FAIL("write to port 0x%x", port);
}

/*
 * Replay the ring as QEMU's kvm_flush_coalesced_mmio_buffer() does: every
 * queued write reaches its device, in order, before the access that needs it.
 */
static void drain(struct vmm *m)
{
	struct kvm_coalesced_mmio *e = m->queued;
	u32 i, n = ring_drain(m->ring, e, ring_max());

	for (i = 0; i < n; i++) {
		TEST_ASSERT(e[i].pio == 1, "MMIO entry in the ring");
		device_write(m, e[i].phys_addr, entry_data(&e[i]));
		stats(m, e[i].phys_addr)->coalesced++;
	}
}

static void handle_io(struct vmm *m)
{
	struct kvm_run *run = m->vcpu->run;
	void *data = (void *)run + run->io.data_offset;
	u16 port = run->io.port;

	TEST_ASSERT_EQ(run->io.count, 1);
	stats(m, port)->exits++;
	if (run->io.direction == KVM_EXIT_IO_OUT) {
		device_write(m, port, run->io.size == 1 ? *(u8 *)data : *(u32 *)data);
		return;
	}
	/* A data port read: apply the queued index/address writes first. */
	drain(m);
	if (port == RTC_DATA_PORT)
		*(u8 *)data = cmos_value(m->rtc_index);
	else if (port == PCI_DATA_PORT)
		*(u32 *)data = pci_value(m->pci_addr);
	else
		TEST_FAIL("read from port 0x%x", port);
}

/* Run until the guest reports @stage; return its cycle sums. */
static void run_stage(struct vmm *m, u64 stage, u64 *out_cycles, u64 *in_cycles)
{
	struct ucall uc;

	for (;;) {
		vcpu_run(m->vcpu);
		switch (get_ucall(m->vcpu, &uc)) {
		case UCALL_NONE:
			TEST_ASSERT_KVM_EXIT_REASON(m->vcpu, KVM_EXIT_IO);
			handle_io(m);
			continue;
		case UCALL_SYNC:
			TEST_ASSERT_EQ(uc.args[0], stage);
			*out_cycles = uc.args[1];
			*in_cycles = uc.args[2];
			drain(m);
			return;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
		default:
			report_shutdown(m->vcpu);
			TEST_FAIL("unexpected exit %s",
				  exit_reason_str(m->vcpu->run->exit_reason));
		}
	}
}

static void report(struct vmm *m, const char *zones, const char *workload,
		   u16 out_port, u16 in_port, u64 accesses, u64 oc, u64 ic)
{
	struct port_stats *o = stats(m, out_port), *i = stats(m, in_port);

	printf("%-10s %-8s OUT 0x%-4x %8lu %8lu %9lu %12.0f\n", workload, zones,
	       out_port, accesses, o->exits, o->coalesced, (double)oc / accesses);
	printf("%-10s %-8s IN  0x%-4x %8lu %8lu %9lu %12.0f\n", workload, zones,
	       in_port, accesses, i->exits, i->coalesced, (double)ic / accesses);
}

static void run_workloads(bool coalesce)
{
	struct vmm m = {
		.ports = {
			{ RTC_INDEX_PORT }, { RTC_DATA_PORT },
			{ PCI_ADDR_PORT }, { PCI_DATA_PORT },
		},
	};
	const char *zones = coalesce ? "0x70+cf8" : "none";
	struct kvm_vm *vm;
	u64 oc, ic;

	vm = vm_create_with_one_vcpu(&m.vcpu, guest_code);
	m.ring = ring_map(m.vcpu);
	m.queued = calloc(ring_max(), sizeof(*m.queued));
	TEST_ASSERT(m.queued, "calloc");
	if (coalesce) {
		/* What QEMU registers: the RTC index port, the PCI address. */
		kvm_vm_register_coalesced_io(vm, RTC_INDEX_PORT, 1, true);
		kvm_vm_register_coalesced_io(vm, PCI_ADDR_PORT, 4, true);
	}

	run_stage(&m, STAGE_RTC, &oc, &ic);
	report(&m, zones, "RTC tick", RTC_INDEX_PORT, RTC_DATA_PORT, RTC_ACCESSES, oc, ic);
	run_stage(&m, STAGE_PCI, &oc, &ic);
	report(&m, zones, "PCI scan", PCI_ADDR_PORT, PCI_DATA_PORT, PCI_ACCESSES, oc, ic);

	/* Every write reached the device: as an exit or through the ring. */
	TEST_ASSERT_EQ(stats(&m, RTC_INDEX_PORT)->exits + stats(&m, RTC_INDEX_PORT)->coalesced,
		       RTC_ACCESSES);
	TEST_ASSERT_EQ(stats(&m, PCI_ADDR_PORT)->exits + stats(&m, PCI_ADDR_PORT)->coalesced,
		       PCI_ACCESSES);
	free(m.queued);
	/* The mapping holds the VM: without this it outlives kvm_vm_free(). */
	ring_unmap(m.ring);
	kvm_vm_free(vm);
}

int main(int argc, char *argv[])
{
	const char *unit = "cycles/acc";
	int opt;

	while ((opt = getopt(argc, argv, "i")) != -1) {
		switch (opt) {
		case 'i':
			unit = "instr/acc";
			break;
		default:
			fprintf(stderr, "usage: %s [-i]\n", argv[0]);
			return 1;
		}
	}
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_COALESCED_MMIO));

	printf("%-10s %-8s %-10s %8s %8s %9s %12s\n", "workload", "zones",
	       "port", "accesses", "exits", "coalesced", unit);
	run_workloads(false);
	if (!kvm_has_cap(KVM_CAP_COALESCED_PIO)) {
		printf("KVM_CAP_COALESCED_PIO is 0: is kvm_coalesced_pio.ko loaded?\n");
		return KSFT_SKIP;
	}
	run_workloads(true);
	return 0;
}
