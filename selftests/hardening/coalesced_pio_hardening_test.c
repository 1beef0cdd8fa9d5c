// SPDX-License-Identifier: GPL-2.0-only
/*
 * Coalesced PIO against a hostile userspace: two vCPUs write a coalesced
 * zone while two host threads write into the ring's first and last.
 *
 * Phase 1: random values, in and out of range, into both.  The ring's
 * contents are then meaningless, but each write exits at most once, in
 * order, the vCPUs finish, and the kernel writes nothing outside the ring
 * page (KASAN in the test guest catches that).
 * Phase 2: out-of-range values into first only.  first then never matches,
 * so the ring never looks full: no write exits, last advances by exactly
 * the number of writes (modulo the ring's size), and the newest entries are
 * distinct writes of the burst.
 * Phase 3: a reset ring works again, every write coalesced in order.
 */
#include <pthread.h>
#include <sched.h>

#include "hardening.h"
#include "kvm_test_harness.h"

#define NR_VCPUS	2
#define NR_WRITES	3000	/* per vCPU, in phase 1 */
#define NR_FIRST	1000	/* per vCPU, in phase 2 */
#define NR_AFTER	10	/* per vCPU, in phase 3 */
#define TAMPER_SEED	0x5eed2026u
#define TAMPER_ITERS	100000	/* per tampering thread and phase, at most */

/* A write's data: vCPU id, sequence number. */
#define TAG(id, seq)	((u32)(id) << 24 | (u32)(seq))
#define TAG_ID(tag)	((tag) >> 24)
#define TAG_SEQ(tag)	((tag) & 0xffffff)

struct vcpu_state {
	struct kvm_vcpu *vcpu;
	pthread_t thread;
	u32 phase;
	u32 exits;
	int last_seq;			/* last sequence number that exited */
	u8 exited[NR_WRITES];		/* exits seen per sequence number */
};

struct tamper_state {
	pthread_t thread;
	struct kvm_coalesced_mmio_ring *ring;
	bool first_only;		/* phase 2: out-of-range first only */
	u32 seed;
	u32 iters;			/* writes done */
	u32 out_of_range;		/* of which >= max */
};

static struct vcpu_state vcpus[NR_VCPUS];
static bool stop_tampering;

static void guest_tagged_writes(u32 id)
{
	u32 seq;

	for (seq = 0; seq < NR_WRITES; seq++)
		guest_outl(PCI_ADDR_PORT, TAG(id, seq));
	GUEST_SYNC(0);
	for (seq = 0; seq < NR_FIRST; seq++)
		guest_outl(PCI_ADDR_PORT, TAG(id, NR_WRITES + seq));
	GUEST_SYNC(1);
	for (seq = 0; seq < NR_AFTER; seq++)
		guest_outl(PCI_ADDR_PORT, TAG(id, NR_WRITES + NR_FIRST + seq));
	GUEST_SYNC(2);
	GUEST_DONE();
}

/*
 * Run one vCPU through the tagged writes of its phase.  In phase 1 record
 * each write that exits: once at most, and in order.  In phase 2 none may.
 */
static void *vcpu_thread(void *arg)
{
	struct vcpu_state *s = arg;
	struct kvm_run *run = s->vcpu->run;
	u32 id = s->vcpu->id, tag, seq;

	for (;;) {
		vcpu_run(s->vcpu);
		if (run->exit_reason != KVM_EXIT_IO || run->io.port != PCI_ADDR_PORT)
			break;
		TEST_ASSERT(run->io.direction == KVM_EXIT_IO_OUT &&
			    run->io.size == 4 && run->io.count == 1,
			    "vCPU %u: bad exit: dir %u size %u count %u", id,
			    run->io.direction, run->io.size, run->io.count);
		tag = *(u32 *)((void *)run + run->io.data_offset);
		seq = TAG_SEQ(tag);
		TEST_ASSERT(s->phase == 0,
			    "vCPU %u: write 0x%x exited though first never matched", id, tag);
		TEST_ASSERT(TAG_ID(tag) == id && seq < NR_WRITES,
			    "vCPU %u: exit with foreign data 0x%x", id, tag);
		TEST_ASSERT(!s->exited[seq],
			    "vCPU %u: write %u exited twice", id, seq);
		TEST_ASSERT((int)seq > s->last_seq,
			    "vCPU %u: write %u exited after write %d", id, seq,
			    s->last_seq);
		s->exited[seq]++;
		s->last_seq = seq;
		s->exits++;
	}
	vcpu_expect_sync(s->vcpu, s->phase);
	return NULL;
}

/* Write first or last until told to stop (or bounded). */
static void *tamper_thread(void *arg)
{
	struct tamper_state *t = arg;
	u32 max = ring_max(), r, val;

	while (t->iters < TAMPER_ITERS &&
	       !__atomic_load_n(&stop_tampering, __ATOMIC_ACQUIRE)) {
		r = xorshift32(&t->seed);
		switch (t->first_only ? r % 4 : r % 8) {
		case 0:
			val = max;
			break;
		case 1:
			val = max + 1 + (r >> 8) % 64;
			break;
		case 2:
			val = 0xffffffffu;
			break;
		case 3:
			val = xorshift32(&t->seed) | (t->first_only ? 0x80000000u : 0);
			break;
		default:
			val = (r >> 8) % max;
			break;
		}
		if (val >= max)
			t->out_of_range++;
		if (t->first_only || r & 0x80000000u)
			WRITE_ONCE(t->ring->first, val);
		else
			WRITE_ONCE(t->ring->last, val);
		__atomic_store_n(&t->iters, t->iters + 1, __ATOMIC_RELEASE);
		usleep(5);
	}
	return NULL;
}

/* Run a phase of the vCPUs while two threads tamper with the ring. */
static void run_tampered(struct kvm_coalesced_mmio_ring *ring, u32 phase)
{
	struct tamper_state tamper[2] = {};
	u32 id, i;
	int r;

	__atomic_store_n(&stop_tampering, false, __ATOMIC_RELEASE);
	for (i = 0; i < ARRAY_SIZE(tamper); i++) {
		tamper[i].ring = ring;
		tamper[i].first_only = phase == 1;
		tamper[i].seed = TAMPER_SEED + phase + i * 0x9e3779b9u;
		r = pthread_create(&tamper[i].thread, NULL, tamper_thread, &tamper[i]);
		TEST_ASSERT(!r, "pthread_create: %s", strerror(r));
	}
	/* Let the vCPUs start only once both threads are tampering. */
	for (i = 0; i < ARRAY_SIZE(tamper); i++)
		while (!__atomic_load_n(&tamper[i].iters, __ATOMIC_ACQUIRE))
			sched_yield();
	for (id = 0; id < NR_VCPUS; id++) {
		vcpus[id].phase = phase;
		r = pthread_create(&vcpus[id].thread, NULL, vcpu_thread, &vcpus[id]);
		TEST_ASSERT(!r, "pthread_create: %s", strerror(r));
	}
	for (id = 0; id < NR_VCPUS; id++) {
		r = pthread_join(vcpus[id].thread, NULL);
		TEST_ASSERT(!r, "pthread_join: %s", strerror(r));
	}
	__atomic_store_n(&stop_tampering, true, __ATOMIC_RELEASE);
	for (i = 0; i < ARRAY_SIZE(tamper); i++) {
		r = pthread_join(tamper[i].thread, NULL);
		TEST_ASSERT(!r, "pthread_join: %s", strerror(r));
		printf("# phase %u, tampering thread %u: %u writes to %s, %u of them >= max (%u)\n",
		       phase + 1, i, tamper[i].iters, phase ? "first" : "first/last",
		       tamper[i].out_of_range, ring_max());
	}
}

FIXTURE(hardening) {};

FIXTURE_SETUP(hardening) {}

FIXTURE_TEARDOWN(hardening) {}

TEST_F_TIMEOUT(hardening, ring_tampering, 300)
{
	static struct kvm_coalesced_mmio entries[NR_VCPUS * NR_AFTER + 1];
	struct kvm_vcpu *vcpu_list[NR_VCPUS];
	struct kvm_coalesced_mmio_ring *ring;
	u32 id, i, n, exits = 0, max = ring_max(), slot, tag;
	int newest[NR_VCPUS];
	u8 seen[NR_VCPUS][NR_FIRST] = {};
	struct kvm_vm *vm;

	vm = vm_create_with_vcpus(NR_VCPUS, guest_tagged_writes, vcpu_list);
	for (id = 0; id < NR_VCPUS; id++) {
		TEST_ASSERT_EQ(vcpu_list[id]->id, id);
		vcpus[id].vcpu = vcpu_list[id];
		vcpus[id].last_seq = -1;
		vcpu_args_set(vcpu_list[id], 1, id);
	}
	ring = ring_map(vcpu_list[0]);
	kvm_vm_register_coalesced_io(vm, PCI_ADDR_PORT, 4, true);

	printf("# %u vCPUs x %u + %u + %u OUTL 0x%x; 2 threads tamper (seed 0x%x, <= %u writes)\n",
	       NR_VCPUS, NR_WRITES, NR_FIRST, NR_AFTER, PCI_ADDR_PORT, TAMPER_SEED,
	       TAMPER_ITERS);

	/* Phase 1: anything, anywhere. */
	run_tampered(ring, 0);
	for (id = 0; id < NR_VCPUS; id++) {
		printf("# phase 1, vCPU %u: %u writes, %u exited, at most once each and in order\n",
		       id, NR_WRITES, vcpus[id].exits);
		exits += vcpus[id].exits;
	}
	TEST_ASSERT(exits > 0 && exits < NR_VCPUS * NR_WRITES,
		    "phase 1: %u of %u writes exited: the tampering never hit, or always",
		    exits, NR_VCPUS * NR_WRITES);

	/* Phase 2: first out of range only, so nothing exits. */
	WRITE_ONCE(ring->last, 0);
	WRITE_ONCE(ring->first, 0xffffffffu);
	run_tampered(ring, 1);
	TEST_ASSERT_EQ(READ_ONCE(ring->last), NR_VCPUS * NR_FIRST % max);
	/* The newest max entries, newest first: distinct, each vCPU's in order. */
	for (id = 0; id < NR_VCPUS; id++)
		newest[id] = NR_FIRST;
	for (i = 1; i <= max; i++) {
		slot = (NR_VCPUS * NR_FIRST + max - i) % max;
		tag = *(u32 *)ring->coalesced_mmio[slot].data;
		id = TAG_ID(tag);
		TEST_ASSERT(ring->coalesced_mmio[slot].phys_addr == PCI_ADDR_PORT &&
			    id < NR_VCPUS && TAG_SEQ(tag) >= NR_WRITES &&
			    TAG_SEQ(tag) < NR_WRITES + NR_FIRST,
			    "phase 2: entry %u holds 0x%x, not a write of the phase", slot, tag);
		TEST_ASSERT(!seen[id][TAG_SEQ(tag) - NR_WRITES]++,
			    "phase 2: write 0x%x is in the ring twice", tag);
		TEST_ASSERT((int)(TAG_SEQ(tag) - NR_WRITES) < newest[id],
			    "phase 2: vCPU %u's write %u is after its write %d", id,
			    TAG_SEQ(tag) - NR_WRITES, newest[id]);
		newest[id] = TAG_SEQ(tag) - NR_WRITES;
	}
	printf("# phase 2: %u writes, none exited; last advanced by %u mod %u, the newest %u entries in order\n",
	       NR_VCPUS * NR_FIRST, NR_VCPUS * NR_FIRST, max, max);

	/* Phase 3: a sane ring works again: every write coalesced, in order. */
	ring_reset(ring, 0);
	for (id = 0; id < NR_VCPUS; id++)
		vcpu_run_expect_sync(vcpus[id].vcpu, 2);
	n = ring_drain(ring, entries, ARRAY_SIZE(entries));
	TEST_ASSERT_EQ(n, NR_VCPUS * NR_AFTER);
	for (i = 0; i < n; i++)
		check_pio_entry(&entries[i], PCI_ADDR_PORT, 4,
				TAG(i / NR_AFTER, NR_WRITES + NR_FIRST + i % NR_AFTER),
				"after tampering", i);
	printf("# phase 3: after a reset, %u writes coalesced in order\n", n);
	for (id = 0; id < NR_VCPUS; id++)
		vcpu_run_expect_done(vcpus[id].vcpu);

	ring_unmap(ring);
	kvm_vm_free(vm);
}

int main(int argc, char *argv[])
{
	require_coalesced_pio();

	return test_harness_run(argc, argv);
}
