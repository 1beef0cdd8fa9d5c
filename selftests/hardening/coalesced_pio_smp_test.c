// SPDX-License-Identifier: GPL-2.0-only
/*
 * Several vCPUs write the same coalesced PIO zone at once.  Every write must
 * end up either in the ring exactly once or in an exit to userspace, never
 * lost and never both or twice, and each vCPU's entries keep its order.
 *
 * Round 0: nobody drains while the vCPUs run, so exactly max - 1 writes are
 * coalesced and every other one exits.  Round 1: the main thread drains
 * concurrently, as QEMU's I/O thread may.
 */
#include <pthread.h>
#include <sched.h>

#include "hardening.h"
#include "kvm_test_harness.h"

#define NR_VCPUS	4
#define NR_WRITES	600	/* per vCPU and round, < 0x10000 */
#define NR_ROUNDS	2

/* A write's data: vCPU id, round, sequence number. */
#define TAG(id, round, seq)	((u32)(id) << 24 | (u32)(round) << 16 | (seq))
#define TAG_ID(tag)		((tag) >> 24)
#define TAG_ROUND(tag)		(((tag) >> 16) & 0xff)
#define TAG_SEQ(tag)		((tag) & 0xffff)

struct vcpu_state {
	struct kvm_vcpu *vcpu;
	pthread_t thread;
	u32 round;
	u32 exits;
	u8 exited[NR_WRITES];	/* exits seen per sequence number */
};

static struct vcpu_state vcpus[NR_VCPUS];
static u8 in_ring[NR_VCPUS][NR_WRITES];	/* ring entries per write */
static int last_seq[NR_VCPUS];		/* last sequence number in the ring */
static u32 ring_entries;		/* entries drained in this round */
static int nr_running;

static void guest_code(u32 id)
{
	u32 round, seq;

	for (round = 0;; round++) {
		for (seq = 0; seq < NR_WRITES; seq++)
			guest_outl(PCI_ADDR_PORT, TAG(id, round, seq));
		GUEST_SYNC(round);
	}
}

/* Run one vCPU through a round, recording each write that exits. */
static void *vcpu_thread(void *arg)
{
	struct vcpu_state *s = arg;
	struct kvm_run *run = s->vcpu->run;
	struct ucall uc;
	u32 tag;

	for (;;) {
		vcpu_run(s->vcpu);
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == PCI_ADDR_PORT) {
			TEST_ASSERT(run->io.direction == KVM_EXIT_IO_OUT &&
				    run->io.size == 4 && run->io.count == 1,
				    "vCPU %u: bad exit: dir %u size %u count %u",
				    s->vcpu->id, run->io.direction, run->io.size,
				    run->io.count);
			tag = *(u32 *)((void *)run + run->io.data_offset);
			TEST_ASSERT(TAG_ID(tag) == s->vcpu->id &&
				    TAG_ROUND(tag) == s->round &&
				    TAG_SEQ(tag) < NR_WRITES,
				    "vCPU %u round %u: exit with foreign data 0x%x",
				    s->vcpu->id, s->round, tag);
			s->exited[TAG_SEQ(tag)]++;
			s->exits++;
			continue;
		}

		switch (get_ucall(s->vcpu, &uc)) {
		case UCALL_SYNC:
			TEST_ASSERT_EQ(uc.args[1], s->round);
			__atomic_sub_fetch(&nr_running, 1, __ATOMIC_RELEASE);
			return NULL;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			break;
		default:
			report_shutdown(s->vcpu);
			TEST_FAIL("vCPU %u: unexpected exit %u (%s)", s->vcpu->id,
				  run->exit_reason, exit_reason_str(run->exit_reason));
		}
	}
}

/* The single consumer: check and count every entry, in ring order. */
static u32 drain(struct kvm_coalesced_mmio_ring *ring, u32 round)
{
	static struct kvm_coalesced_mmio buf[1024];
	u32 n, i, tag, id, seq;

	n = ring_drain(ring, buf, ARRAY_SIZE(buf));
	for (i = 0; i < n; i++) {
		TEST_ASSERT(buf[i].phys_addr == PCI_ADDR_PORT && buf[i].len == 4 &&
			    buf[i].pio == 1,
			    "entry: wanted 4-byte PIO 0x%x, got %u-byte %s 0x%llx",
			    PCI_ADDR_PORT, buf[i].len, buf[i].pio ? "PIO" : "MMIO",
			    (unsigned long long)buf[i].phys_addr);
		tag = entry_data(&buf[i]);
		id = TAG_ID(tag);
		seq = TAG_SEQ(tag);
		TEST_ASSERT(id < NR_VCPUS && TAG_ROUND(tag) == round && seq < NR_WRITES,
			    "round %u: entry with foreign data 0x%x", round, tag);
		TEST_ASSERT((int)seq > last_seq[id],
			    "vCPU %u: entry %u after entry %d", id, seq, last_seq[id]);
		last_seq[id] = seq;
		in_ring[id][seq]++;
	}
	ring_entries += n;
	return n;
}

static void run_round(struct kvm_coalesced_mmio_ring *ring, u32 round,
		      bool concurrent_drain, u64 *coalesced, u64 *exits)
{
	u32 id, seq, round_exits = 0;
	int r;

	TEST_ASSERT_EQ(ring_count(ring), 0);
	memset(in_ring, 0, sizeof(in_ring));
	for (id = 0; id < NR_VCPUS; id++)
		last_seq[id] = -1;
	ring_entries = 0;

	nr_running = NR_VCPUS;
	for (id = 0; id < NR_VCPUS; id++) {
		vcpus[id].round = round;
		vcpus[id].exits = 0;
		memset(vcpus[id].exited, 0, sizeof(vcpus[id].exited));
		r = pthread_create(&vcpus[id].thread, NULL, vcpu_thread, &vcpus[id]);
		TEST_ASSERT(!r, "pthread_create: %s", strerror(r));
	}

	while (concurrent_drain && __atomic_load_n(&nr_running, __ATOMIC_ACQUIRE)) {
		if (!drain(ring, round))
			sched_yield();
	}

	for (id = 0; id < NR_VCPUS; id++) {
		r = pthread_join(vcpus[id].thread, NULL);
		TEST_ASSERT(!r, "pthread_join: %s", strerror(r));
		round_exits += vcpus[id].exits;
	}
	drain(ring, round);

	for (id = 0; id < NR_VCPUS; id++)
		for (seq = 0; seq < NR_WRITES; seq++)
			TEST_ASSERT(in_ring[id][seq] + vcpus[id].exited[seq] == 1,
				    "round %u, vCPU %u, write %u: %u ring entries, %u exits",
				    round, id, seq, in_ring[id][seq], vcpus[id].exited[seq]);
	TEST_ASSERT_EQ(ring_entries + round_exits, NR_VCPUS * NR_WRITES);

	if (!concurrent_drain)
		TEST_ASSERT(ring_entries == ring_max() - 1,
			    "undrained ring took %u entries, wanted %u",
			    ring_entries, ring_max() - 1);

	printf("# round %u (%s drain): %u coalesced, %u exits\n", round,
	       concurrent_drain ? "concurrent" : "no", ring_entries, round_exits);
	*coalesced += ring_entries;
	*exits += round_exits;
}

FIXTURE(smp) {};

FIXTURE_SETUP(smp) {}

FIXTURE_TEARDOWN(smp) {}

TEST_F_TIMEOUT(smp, concurrent_writers, 240)
{
	struct kvm_vcpu *vcpu_list[NR_VCPUS];
	struct kvm_coalesced_mmio_ring *ring;
	u64 coalesced = 0, exits = 0;
	struct kvm_vm *vm;
	u32 id, round;

	vm = vm_create_with_vcpus(NR_VCPUS, guest_code, vcpu_list);
	for (id = 0; id < NR_VCPUS; id++) {
		TEST_ASSERT_EQ(vcpu_list[id]->id, id);
		vcpus[id].vcpu = vcpu_list[id];
		vcpu_args_set(vcpu_list[id], 1, id);
	}
	ring = ring_map(vcpu_list[0]);
	kvm_vm_register_coalesced_io(vm, PCI_ADDR_PORT, 4, true);

	for (round = 0; round < NR_ROUNDS; round++)
		run_round(ring, round, round & 1, &coalesced, &exits);
	printf("# %u rounds: %llu writes coalesced, %llu exited\n", NR_ROUNDS,
	       (unsigned long long)coalesced, (unsigned long long)exits);

	ring_unmap(ring);
	kvm_vm_free(vm);
}

int main(int argc, char *argv[])
{
	require_coalesced_pio();

	return test_harness_run(argc, argv);
}
