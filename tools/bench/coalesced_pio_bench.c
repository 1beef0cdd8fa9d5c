// SPDX-License-Identifier: GPL-2.0
/*
 * Coalesced PIO benchmark (make bench): what a port write costs the guest,
 * measured with rdtsc in a one-vCPU VM of the KVM selftest framework.
 *
 * Points (each in a VM of its own, on the same kernel):
 *   OUT 0x70 (outb) and OUTL 0xcf8 (outl), each
 *     exit       no zone: every write exits to userspace (KVM_EXIT_IO)
 *     coalesced  the port is a coalesced PIO zone: KVM appends it to the ring
 *     ioeventfd  the floor: an ioeventfd on the same port and width, a write
 *                KVM completes in the kernel, same bus lookup, no ring
 *   OUT 0x4d0    the in-kernel PIC's ELCR (kvm-unit-tests' outl_to_kernel),
 *                another in-kernel write, for reference
 *   what a guest feels: OUT 0x70 then IN 0x71, OUTL 0xcf8 then INL 0xcfc,
 *     without and with the zone; userspace drains the ring before it
 *     emulates the data port, as QEMU does
 *   OUTL 0xcf8, alone and then INL 0xcfc, through an exact-width zone
 *     {0xcf8, 4, 1 | KVM_COALESCED_PIO_EXACT} (zone "exact"), the zone QEMU
 *     registers for the PCI host where KVM offers it; where KVM does not
 *     (KVM_CAP_COALESCED_PIO_EXACT 0), these points print "skipped"
 *   loop         the timing loop alone (rdtsc and loop overhead)
 *   missN        a miss in KVM's I/O bus lookup: OUTB to a port that none of
 *                N devices on the port I/O bus contains, so the write exits
 *                to userspace, for N = 10, 100, 1000; the devices are
 *                ioeventfds and coalesced zones, two ports each, in turn:
 *                disjoint (zone "disjoint"), or with one more zone nested
 *                in the first device, which makes the bus's ranges overlap
 *                (zone "overlap")
 *
 * The guest times bursts of BURST accesses, rdtsc before and after each
 * burst, and reports the burst's cycles with GUEST_SYNC; userspace drains
 * the ring there, outside the timed code, so that the ring (170 entries)
 * never fills in a burst and every coalesced write is a ring append.  A
 * repetition is BURSTS bursts (10,000 accesses by default); every point
 * runs REPS repetitions.  Output, one line per repetition:
 *
 *   kcp-bench point=<name> port=0x<port> width=<bytes> zone=<how> rep=<i>
 *             accesses=<n> cycles=<sum> exits=<n> coalesced=<n>
 *
 *   kcp-bench point=<name> port=0x<port> width=<bytes> zone=exact skipped=<why>
 *
 * exits counts the KVM_EXIT_IO of the measured port(s), coalesced the ring
 * entries drained; the program checks that each point took the path it is
 * named after (no exit on a coalesced or ioeventfd write, one per write
 * without a zone) and that every value the guest reads is right.
 *
 * Usage: coalesced_pio_bench [-r REPS] [-b BURSTS] [-n BURST] [-p POINT,...]
 * where POINT is a name (out70) or a name and zone (out70/coalesced), and
 * ':' separates them as well as ','.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/utsname.h>

#include "hardening.h"

#define ELCR_PORT	0x4d0

enum mode { LOOP, OUTB, OUTL, PAIR_B, PAIR_L };
enum zone { NONE, COALESCED, EXACT, IOEVENTFD, IN_KERNEL, DISJOINT, OVERLAP };

static const char * const zone_names[] = {
	[NONE] = "exit", [COALESCED] = "coalesced", [EXACT] = "exact",
	[IOEVENTFD] = "ioeventfd", [IN_KERNEL] = "pic",
	[DISJOINT] = "disjoint", [OVERLAP] = "overlap",
};

/* The miss points: N devices from MISS_BASE on, 4 ports apart, 2 wide. */
#define MISS_BASE	0x1000
#define MISS_PORT(n)	(MISS_BASE + 4 * ((n) / 2) + 2)

struct point {
	const char *name;
	enum mode mode;
	u16 port;	/* the port written */
	u16 in_port;	/* PAIR_*: the data port read after it */
	enum zone zone;
	u32 ndev;	/* the miss points: devices on the bus */
};

static const struct point points[] = {
	{ "loop",           LOOP,   0,             0,             NONE },
	{ "out70",          OUTB,   RTC_INDEX_PORT, 0,            NONE },
	{ "out70",          OUTB,   RTC_INDEX_PORT, 0,            COALESCED },
	{ "out70",          OUTB,   RTC_INDEX_PORT, 0,            IOEVENTFD },
	{ "out4d0",         OUTB,   ELCR_PORT,     0,             IN_KERNEL },
	{ "outlcf8",        OUTL,   PCI_ADDR_PORT, 0,             NONE },
	{ "outlcf8",        OUTL,   PCI_ADDR_PORT, 0,             COALESCED },
	{ "outlcf8",        OUTL,   PCI_ADDR_PORT, 0,             EXACT },
	{ "outlcf8",        OUTL,   PCI_ADDR_PORT, 0,             IOEVENTFD },
	{ "rtc70+71",       PAIR_B, RTC_INDEX_PORT, RTC_DATA_PORT, NONE },
	{ "rtc70+71",       PAIR_B, RTC_INDEX_PORT, RTC_DATA_PORT, COALESCED },
	{ "pcicf8+cfc",     PAIR_L, PCI_ADDR_PORT, PCI_DATA_PORT, NONE },
	{ "pcicf8+cfc",     PAIR_L, PCI_ADDR_PORT, PCI_DATA_PORT, COALESCED },
	{ "pcicf8+cfc",     PAIR_L, PCI_ADDR_PORT, PCI_DATA_PORT, EXACT },
	{ "miss10",         OUTB,   MISS_PORT(10), 0,             DISJOINT, 10 },
	{ "miss10",         OUTB,   MISS_PORT(10), 0,             OVERLAP, 10 },
	{ "miss100",        OUTB,   MISS_PORT(100), 0,            DISJOINT, 100 },
	{ "miss100",        OUTB,   MISS_PORT(100), 0,            OVERLAP, 100 },
	{ "miss1000",       OUTB,   MISS_PORT(1000), 0,           DISJOINT, 1000 },
	{ "miss1000",       OUTB,   MISS_PORT(1000), 0,           OVERLAP, 1000 },
};

/* What the guest runs; written by the host before the vCPU first runs. */
struct params {
	u32 mode;
	u16 port;
	u16 in_port;
	u32 burst;
	u32 bursts;
	u32 reps;
};

static struct params params;

/* The values the emulated devices return; the guest checks each read. */
static inline u8 cmos_value(u8 index)
{
	return (u8)(index * 7 + 3);
}

static inline u32 pci_value(u32 addr)
{
	return addr ^ 0x5a5a5a5a;
}

static inline u8 write_value8(u16 port, u32 i)
{
	/* The ELCR: keep every line edge-triggered, as after reset. */
	return port == ELCR_PORT ? 0 : (u8)(i & 0x7f);
}

static u64 guest_burst(const struct params *p)
{
	u64 t0, t1;
	u32 i;

	switch (p->mode) {
	case LOOP:
		t0 = rdtsc();
		for (i = 0; i < p->burst; i++)
			__asm__ __volatile__("" : : "r"(i));
		t1 = rdtsc();
		break;
	case OUTB:
		t0 = rdtsc();
		for (i = 0; i < p->burst; i++)
			guest_outb(p->port, write_value8(p->port, i));
		t1 = rdtsc();
		break;
	case OUTL:
		t0 = rdtsc();
		for (i = 0; i < p->burst; i++)
			guest_outl(p->port, 0x80000000 | i << 2);
		t1 = rdtsc();
		break;
	case PAIR_B:
		t0 = rdtsc();
		for (i = 0; i < p->burst; i++) {
			guest_outb(p->port, (u8)(i & 0x7f));
			GUEST_ASSERT_EQ(guest_inb(p->in_port), cmos_value(i & 0x7f));
		}
		t1 = rdtsc();
		break;
	case PAIR_L:
		t0 = rdtsc();
		for (i = 0; i < p->burst; i++) {
			guest_outl(p->port, 0x80000000 | i << 2);
			GUEST_ASSERT_EQ(guest_inl(p->in_port),
					pci_value(0x80000000 | i << 2));
		}
		t1 = rdtsc();
		break;
	default:
		GUEST_FAIL("mode %u", p->mode);
		return 0;
	}
	return t1 - t0;
}

static void guest_code(void)
{
	struct params p = READ_ONCE(params);
	u32 rep, b;

	for (rep = 0; rep < p.reps; rep++)
		for (b = 0; b < p.bursts; b++)
			GUEST_SYNC2(rep, guest_burst(&p));
	GUEST_DONE();
}

/* Host side: the devices behind the ports, emulated like QEMU does. */
struct vmm {
	struct kvm_vcpu *vcpu;
	struct kvm_coalesced_mmio_ring *ring;
	struct kvm_coalesced_mmio *queued;
	u8 rtc_index;
	u32 pci_addr;
	u64 exits;
	u64 coalesced;
};

static void device_write(struct vmm *m, u16 port, u32 val)
{
	if (port == RTC_INDEX_PORT)
		m->rtc_index = val;
	else if (port == PCI_ADDR_PORT)
		m->pci_addr = val;
	else if (port < MISS_BASE || port >= MISS_PORT(1000) + 4)
		TEST_FAIL("write to port 0x%x", port);
}

/* QEMU's kvm_flush_coalesced_mmio_buffer(): replay the ring, in order. */
static void drain(struct vmm *m)
{
	struct kvm_coalesced_mmio *e = m->queued;
	u32 i, n = ring_drain(m->ring, e, ring_max());

	for (i = 0; i < n; i++) {
		TEST_ASSERT(e[i].pio == 1, "MMIO entry in the ring");
		device_write(m, e[i].phys_addr, entry_data(&e[i]));
	}
	m->coalesced += n;
}

static void handle_io(struct vmm *m)
{
	struct kvm_run *run = m->vcpu->run;
	void *data = (void *)run + run->io.data_offset;
	u16 port = run->io.port;

	TEST_ASSERT_EQ(run->io.count, 1);
	m->exits++;
	if (run->io.direction == KVM_EXIT_IO_OUT) {
		device_write(m, port, run->io.size == 1 ? *(u8 *)data : *(u32 *)data);
		return;
	}
	drain(m);
	if (port == RTC_DATA_PORT)
		*(u8 *)data = cmos_value(m->rtc_index);
	else if (port == PCI_DATA_PORT)
		*(u32 *)data = pci_value(m->pci_addr);
	else
		TEST_FAIL("read from port 0x%x", port);
}

static void add_ioeventfd(struct kvm_vm *vm, u16 port, u32 len);

/*
 * The bus of a miss point: @n devices, ioeventfds and coalesced zones in
 * turn, and with @overlap a zone nested in the first.
 */
static void add_miss_devices(struct kvm_vm *vm, u32 n, bool overlap)
{
	u32 i;

	for (i = 0; i < n; i++) {
		if (i & 1)
			add_ioeventfd(vm, MISS_BASE + 4 * i, 2);
		else
			kvm_vm_register_coalesced_io(vm, MISS_BASE + 4 * i, 2, true);
	}
	if (overlap)
		kvm_vm_register_coalesced_io(vm, MISS_BASE, 1, true);
}

static void add_ioeventfd(struct kvm_vm *vm, u16 port, u32 len)
{
	struct kvm_ioeventfd ioev = {
		.addr = port,
		.len = len,
		.fd = eventfd(0, EFD_CLOEXEC),
		.flags = KVM_IOEVENTFD_FLAG_PIO,
	};

	TEST_ASSERT(ioev.fd >= 0, "eventfd: %s", strerror(errno));
	vm_ioctl(vm, KVM_IOEVENTFD, &ioev);
	/* KVM keeps its own reference on the eventfd. */
	close(ioev.fd);
}

static void run_point(const struct point *pt, struct params *p)
{
	u32 width = pt->mode == OUTL || pt->mode == PAIR_L ? 4 : 1;
	bool coalescing = pt->zone == COALESCED || pt->zone == EXACT;
	u32 rep = 0, bursts = 0;
	u64 accesses = (u64)p->burst * p->bursts, cycles = 0;
	struct vmm m = {};
	struct kvm_vm *vm;
	struct ucall uc;

	if (pt->zone == EXACT && !kvm_has_cap(KVM_CAP_COALESCED_PIO_EXACT)) {
		printf("kcp-bench point=%s port=0x%x width=%u zone=%s skipped=no-KVM_CAP_COALESCED_PIO_EXACT\n",
		       pt->name, pt->port, width, zone_names[pt->zone]);
		fflush(stdout);
		return;
	}
	vm = vm_create_with_one_vcpu(&m.vcpu, guest_code);
	m.ring = ring_map(m.vcpu);
	m.queued = calloc(ring_max(), sizeof(*m.queued));
	TEST_ASSERT(m.queued, "calloc");
	if (pt->zone == COALESCED)
		kvm_vm_register_coalesced_io(vm, pt->port, width, true);
	else if (pt->zone == EXACT)
		TEST_ASSERT_EQ(__register_zone(vm, pt->port, width,
					       1 | KVM_COALESCED_PIO_EXACT), 0);
	else if (pt->zone == IOEVENTFD)
		add_ioeventfd(vm, pt->port, width);
	else if (pt->zone == DISJOINT || pt->zone == OVERLAP)
		add_miss_devices(vm, pt->ndev, pt->zone == OVERLAP);

	p->mode = pt->mode;
	p->port = pt->port;
	p->in_port = pt->in_port;
	params = *p;
	sync_global_to_guest(vm, params);

	for (;;) {
		vcpu_run(m.vcpu);
		switch (get_ucall(m.vcpu, &uc)) {
		case UCALL_NONE:
			TEST_ASSERT_KVM_EXIT_REASON(m.vcpu, KVM_EXIT_IO);
			handle_io(&m);
			continue;
		case UCALL_SYNC:
			TEST_ASSERT_EQ(uc.args[0], rep);
			cycles += uc.args[1];
			drain(&m);
			if (++bursts < p->bursts)
				continue;
			break;
		case UCALL_DONE:
			TEST_ASSERT_EQ(rep, p->reps);
			free(m.queued);
			ring_unmap(m.ring);
			kvm_vm_free(vm);
			return;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
		default:
			TEST_FAIL("unexpected exit %s",
				  exit_reason_str(m.vcpu->run->exit_reason));
		}

		/* A repetition is complete: did every write go where it should? */
		if (pt->ndev)
			TEST_ASSERT(m.exits == accesses, "%s/%s: %lu exits for %lu misses",
				    pt->name, zone_names[pt->zone], (unsigned long)m.exits,
				    (unsigned long)accesses);
		else if (pt->mode == LOOP || pt->zone != NONE)
			TEST_ASSERT(m.exits == (pt->in_port ? accesses : 0),
				    "%s/%s: %lu exits, wanted %lu", pt->name,
				    zone_names[pt->zone], (unsigned long)m.exits,
				    (unsigned long)(pt->in_port ? accesses : 0));
		else
			TEST_ASSERT(m.exits == (pt->in_port ? 2 : 1) * accesses,
				    "%s/exit: %lu exits for %lu accesses", pt->name,
				    (unsigned long)m.exits, (unsigned long)accesses);
		TEST_ASSERT(m.coalesced == (coalescing ? accesses : 0),
			    "%s/%s: %lu ring entries for %lu accesses", pt->name,
			    zone_names[pt->zone], (unsigned long)m.coalesced,
			    (unsigned long)accesses);
		printf("kcp-bench point=%s port=0x%x width=%u zone=%s rep=%u accesses=%lu cycles=%lu exits=%lu coalesced=%lu\n",
		       pt->name, pt->port, width, zone_names[pt->zone], rep,
		       (unsigned long)accesses, (unsigned long)cycles,
		       (unsigned long)m.exits, (unsigned long)m.coalesced);
		fflush(stdout);
		rep++;
		bursts = 0;
		cycles = 0;
		m.exits = 0;
		m.coalesced = 0;
	}
}

static bool selected(const char *list, const struct point *pt)
{
	char name[64];
	const char *s;
	size_t len;

	if (!list)
		return true;
	snprintf(name, sizeof(name), "%s/%s", pt->name, zone_names[pt->zone]);
	for (s = list; *s; s += len + !!s[len]) {
		len = strcspn(s, ",:");
		if ((len == strlen(pt->name) && !strncmp(s, pt->name, len)) ||
		    (len == strlen(name) && !strncmp(s, name, len)))
			return true;
	}
	return false;
}

int main(int argc, char *argv[])
{
	struct params p = { .burst = 100, .bursts = 100, .reps = 5 };
	const char *only = NULL;
	struct utsname u;
	size_t i;
	int opt;

	while ((opt = getopt(argc, argv, "r:b:n:p:")) != -1) {
		switch (opt) {
		case 'r': p.reps = atoi(optarg); break;
		case 'b': p.bursts = atoi(optarg); break;
		case 'n': p.burst = atoi(optarg); break;
		case 'p': only = optarg; break;
		default:
			fprintf(stderr, "usage: %s [-r REPS] [-b BURSTS] [-n BURST] [-p POINT,...]\n",
				argv[0]);
			return 1;
		}
	}
	TEST_ASSERT(p.reps && p.bursts && p.burst, "zero repetitions or accesses");
	/* A burst must fit in the ring: no write may find it full. */
	TEST_ASSERT(p.burst < ring_max(), "burst %u does not fit the ring (%u)",
		    p.burst, ring_max() - 1);

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_COALESCED_MMIO));
	__TEST_REQUIRE(kvm_has_cap(KVM_CAP_COALESCED_PIO),
		       "KVM_CAP_COALESCED_PIO is 0: is kvm_coalesced_pio.ko loaded?");
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_IOEVENTFD));

	uname(&u);
	printf("kcp-bench kernel=%s reps=%u accesses=%u burst=%u\n", u.release,
	       p.reps, p.burst * p.bursts, p.burst);
	fflush(stdout);
	for (i = 0; i < ARRAY_SIZE(points); i++)
		if (selected(only, &points[i]))
			run_point(&points[i], &p);
	printf("kcp-bench done\n");
	return 0;
}
