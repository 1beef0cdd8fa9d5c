// SPDX-License-Identifier: GPL-2.0-only
/*
 * Coalesced PIO against a hostile or unusual userspace and guest.
 *
 * ring_tampering: two vCPUs write a coalesced zone while two host threads
 * write random and out-of-range values into the ring's first and last.  The
 * ring's contents are then meaningless, but no write may be lost or
 * duplicated: each one either exits (once) or is counted as coalesced, and
 * the kernel must not write outside the ring page (KASAN in the test guest
 * catches that).  Afterwards a reset ring works again.
 *
 * rep_outs: a REP OUTS (byte, word, dword) longer than the ring.  KVM's
 * instruction emulator hands OUTS to the I/O bus one element at a time, so
 * the elements that fit are coalesced in order and every other one exits
 * once, in order: nothing is dropped when the ring fills mid-instruction.
 */
#include <pthread.h>
#include <sched.h>

#include "coalesced_pio.h"
#include "kvm_test_harness.h"

/* ring_tampering */
#define NR_VCPUS	2
#define NR_WRITES	3000	/* per vCPU */
#define NR_AFTER	10	/* per vCPU, once the ring is sane again */
#define TAMPER_SEED	0x5eed2026u
#define TAMPER_ITERS	100000	/* per tampering thread, at most */

/* A write's data: vCPU id, sequence number. */
#define TAG(id, seq)	((u32)(id) << 24 | (u32)(seq))
#define TAG_ID(tag)	((tag) >> 24)
#define TAG_SEQ(tag)	((tag) & 0xffffff)

struct vcpu_state {
	struct kvm_vcpu *vcpu;
	pthread_t thread;
	u32 exits;
	int last_seq;			/* last sequence number that exited */
	u8 exited[NR_WRITES];		/* exits seen per sequence number */
};

struct tamper_state {
	pthread_t thread;
	struct kvm_coalesced_mmio_ring *ring;
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

	for (seq = 0; seq < NR_AFTER; seq++)
		guest_outl(PCI_ADDR_PORT, TAG(id, NR_WRITES + seq));
	GUEST_SYNC(1);
	GUEST_DONE();
}

/* Run one vCPU through its tagged writes, recording each one that exits. */
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
	vcpu_expect_sync(s->vcpu, 0);
	return NULL;
}

/* Write first or last, in range or not, until told to stop (or bounded). */
static void *tamper_thread(void *arg)
{
	struct tamper_state *t = arg;
	u32 max = ring_max(), r, val;

	while (t->iters < TAMPER_ITERS &&
	       !__atomic_load_n(&stop_tampering, __ATOMIC_ACQUIRE)) {
		r = xorshift32(&t->seed);
		switch (r % 8) {
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
			val = xorshift32(&t->seed);
			break;
		default:
			val = (r >> 8) % max;
			break;
		}
		if (val >= max)
			t->out_of_range++;
		if (r & 0x80000000u)
			WRITE_ONCE(t->ring->first, val);
		else
			WRITE_ONCE(t->ring->last, val);
		__atomic_store_n(&t->iters, t->iters + 1, __ATOMIC_RELEASE);
		usleep(5);
	}
	return NULL;
}

FIXTURE(hardening) {};

FIXTURE_SETUP(hardening) {}

FIXTURE_TEARDOWN(hardening) {}

/*
 * Random and out-of-range first/last while two vCPUs write the zone: every
 * write exits at most once, exits + coalesced = writes, and bad_index shows
 * that the tampering hit.  A reset ring then coalesces again.
 */
TEST_F_TIMEOUT(hardening, ring_tampering, 200)
{
	static struct kvm_coalesced_mmio entries[NR_VCPUS * NR_AFTER + 1];
	struct cpio_stats before = {}, after = {};
	struct tamper_state tamper[2] = {};
	struct kvm_vcpu *vcpu_list[NR_VCPUS];
	struct kvm_coalesced_mmio_ring *ring;
	u32 id, i, n, exits = 0;
	u64 coalesced, ring_full, bad_index;
	struct kvm_vm *vm;
	bool counted;
	int r;

	vm = vm_create_with_vcpus(NR_VCPUS, guest_tagged_writes, vcpu_list);
	for (id = 0; id < NR_VCPUS; id++) {
		TEST_ASSERT_EQ(vcpu_list[id]->id, id);
		vcpus[id].vcpu = vcpu_list[id];
		vcpus[id].last_seq = -1;
		vcpu_args_set(vcpu_list[id], 1, id);
	}
	ring = ring_map(vcpu_list[0]);
	kvm_vm_register_coalesced_io(vm, PCI_ADDR_PORT, 4, true);
	counted = cpio_stats_available(vm);
	if (counted)
		read_cpio_stats(vm, &before);

	printf("# %u vCPUs x %u OUTL 0x%x; %u threads tamper (seed 0x%x, <= %u writes)\n",
	       NR_VCPUS, NR_WRITES, PCI_ADDR_PORT, (u32)ARRAY_SIZE(tamper),
	       TAMPER_SEED, TAMPER_ITERS);

	for (i = 0; i < ARRAY_SIZE(tamper); i++) {
		tamper[i].ring = ring;
		tamper[i].seed = TAMPER_SEED + i * 0x9e3779b9u;
		r = pthread_create(&tamper[i].thread, NULL, tamper_thread, &tamper[i]);
		TEST_ASSERT(!r, "pthread_create: %s", strerror(r));
	}
	/* Let the vCPUs start only once both threads are tampering. */
	for (i = 0; i < ARRAY_SIZE(tamper); i++)
		while (!__atomic_load_n(&tamper[i].iters, __ATOMIC_ACQUIRE))
			sched_yield();
	for (id = 0; id < NR_VCPUS; id++) {
		r = pthread_create(&vcpus[id].thread, NULL, vcpu_thread, &vcpus[id]);
		TEST_ASSERT(!r, "pthread_create: %s", strerror(r));
	}
	for (id = 0; id < NR_VCPUS; id++) {
		r = pthread_join(vcpus[id].thread, NULL);
		TEST_ASSERT(!r, "pthread_join: %s", strerror(r));
		exits += vcpus[id].exits;
	}
	__atomic_store_n(&stop_tampering, true, __ATOMIC_RELEASE);
	for (i = 0; i < ARRAY_SIZE(tamper); i++) {
		r = pthread_join(tamper[i].thread, NULL);
		TEST_ASSERT(!r, "pthread_join: %s", strerror(r));
		printf("# tampering thread %u: %u writes to first/last, %u of them >= max (%u)\n",
		       i, tamper[i].iters, tamper[i].out_of_range, ring_max());
	}
	for (id = 0; id < NR_VCPUS; id++)
		printf("# vCPU %u: %u writes, %u exited\n", id, NR_WRITES,
		       vcpus[id].exits);

	if (counted) {
		read_cpio_stats(vm, &after);
		coalesced = after.writes - before.writes;
		ring_full = after.ring_full - before.ring_full;
		bad_index = after.bad_index - before.bad_index;
		printf("# %u writes: %u exits (ring_full %llu + bad_index %llu) + %llu coalesced\n",
		       NR_VCPUS * NR_WRITES, exits, (unsigned long long)ring_full,
		       (unsigned long long)bad_index, (unsigned long long)coalesced);
		TEST_ASSERT(exits + coalesced == NR_VCPUS * NR_WRITES,
			    "%u writes, but %u exits + %llu coalesced", NR_VCPUS * NR_WRITES,
			    exits, (unsigned long long)coalesced);
		TEST_ASSERT(ring_full + bad_index == exits,
			    "%u exits, but ring_full %llu + bad_index %llu", exits,
			    (unsigned long long)ring_full, (unsigned long long)bad_index);
		TEST_ASSERT(bad_index > 0, "the tampering never hit: bad_index %llu",
			    (unsigned long long)bad_index);
	} else {
		printf("# writes %u, exits %u; coalesced and bad_index not counted by KVM\n",
		       NR_VCPUS * NR_WRITES, exits);
	}

	/* A sane ring works again: every later write is coalesced, in order. */
	ring_reset(ring, 0);
	for (id = 0; id < NR_VCPUS; id++)
		vcpu_run_expect_sync(vcpus[id].vcpu, 1);
	n = ring_drain(ring, entries, ARRAY_SIZE(entries));
	TEST_ASSERT_EQ(n, NR_VCPUS * NR_AFTER);
	for (i = 0; i < n; i++)
		check_pio_entry(&entries[i], PCI_ADDR_PORT, 4,
				TAG(i / NR_AFTER, NR_WRITES + i % NR_AFTER),
				"after tampering", i);
	printf("# after reset: %u writes, %u coalesced in order\n",
	       NR_VCPUS * NR_AFTER, n);
	for (id = 0; id < NR_VCPUS; id++)
		vcpu_run_expect_done(vcpus[id].vcpu);
	if (counted)
		check_counters(vm, after.writes + n, after.ring_full,
			       after.bad_index);

	ring_unmap(ring);
	kvm_vm_free(vm);
}

/* rep_outs */
#define REP_EXTRA	40	/* elements beyond the ring */
#define REP_BUF_LEN	256	/* byte tags must stay distinct */

static u8 rep_buf8[REP_BUF_LEN];
static u16 rep_buf16[REP_BUF_LEN];
static u32 rep_buf32[REP_BUF_LEN];

/* Element @i of the @size-byte buffer: distinct, and not just its index. */
static inline u32 rep_tag(u32 size, u32 i)
{
	if (size == 1)
		return (u8)(0x5a ^ i);
	if (size == 2)
		return 0xa500 + i;
	return 0xc0de0000u + i;
}

/* rep @insn of @n elements of @buf to the PCI address port, to the end. */
#define GUEST_REP_OUTS(insn, buf, n)					\
do {									\
	const void *src = (buf);					\
	u32 cnt = (n);							\
									\
	__asm__ __volatile__("cld; rep " insn				\
			     : "+S"(src), "+c"(cnt)			\
			     : "d"(PCI_ADDR_PORT) : "memory");		\
	GUEST_ASSERT_EQ(cnt, 0);					\
} while (0)

static void guest_rep_outs(u32 n)
{
	u32 i;

	for (i = 0; i < n; i++) {
		rep_buf8[i] = rep_tag(1, i);
		rep_buf16[i] = rep_tag(2, i);
		rep_buf32[i] = rep_tag(4, i);
	}
	GUEST_SYNC(0);

	GUEST_REP_OUTS("outsb", rep_buf8, n);
	GUEST_SYNC(1);
	GUEST_REP_OUTS("outsw", rep_buf16, n);
	GUEST_SYNC(2);
	GUEST_REP_OUTS("outsl", rep_buf32, n);
	GUEST_SYNC(4);
	GUEST_DONE();
}

/*
 * REP OUTS of max + 40 elements into an empty ring starting at @start: the
 * first max - 1 elements are coalesced, in order; the others exit, each
 * once and in order, until the ucall that follows the instruction.
 */
static void rep_outs_one(struct kvm_vm *vm, struct kvm_vcpu *vcpu,
			 struct kvm_coalesced_mmio_ring *ring, u32 size,
			 u32 start, u32 n, u32 round)
{
	static struct kvm_coalesced_mmio entries[REP_BUF_LEN];
	struct kvm_run *run = vcpu->run;
	u32 max = ring_max(), next = max - 1, exits = 0, i, j, got, want;
	u8 *data;

	kvm_vm_register_coalesced_io(vm, PCI_ADDR_PORT, size, true);
	ring_reset(ring, start);

	for (;;) {
		vcpu_run(vcpu);
		if (run->exit_reason != KVM_EXIT_IO || run->io.port != PCI_ADDR_PORT)
			break;
		TEST_ASSERT(run->io.direction == KVM_EXIT_IO_OUT &&
			    run->io.size == size && run->io.count >= 1,
			    "rep outs%u: bad exit: dir %u size %u count %u", size,
			    run->io.direction, run->io.size, run->io.count);
		data = (u8 *)run + run->io.data_offset;
		for (j = 0; j < run->io.count; j++) {
			TEST_ASSERT(next < n, "rep outs%u: exit for element %u of %u",
				    size, next, n);
			got = 0;
			memcpy(&got, data + j * size, size);
			want = rep_tag(size, next);
			TEST_ASSERT(got == want,
				    "rep outs%u: exit %u, element %u: wanted 0x%x, got 0x%x",
				    size, exits, j, want, got);
			next++;
		}
		exits++;
	}
	vcpu_expect_sync(vcpu, size);

	TEST_ASSERT_EQ(READ_ONCE(ring->first), start);
	TEST_ASSERT_EQ(ring_count(ring), max - 1);
	got = ring_drain(ring, entries, ARRAY_SIZE(entries));
	TEST_ASSERT_EQ(got, max - 1);
	for (i = 0; i < got; i++)
		check_pio_entry(&entries[i], PCI_ADDR_PORT, size, rep_tag(size, i),
				"rep outs", i);
	TEST_ASSERT(next == n, "rep outs%u: exits carried elements %u..%u, wanted up to %u",
		    size, max - 1, next - 1, n - 1);
	printf("# rep outs%c x %u, ring start %u: %u coalesced, %u exits (%u elements), total %u\n",
	       size == 1 ? 'b' : size == 2 ? 'w' : 'l', n, start, got, exits,
	       n - (max - 1), got + next - (max - 1));

	check_counters(vm, (round + 1) * (max - 1), (round + 1) * (n - (max - 1)), 0);
	TEST_ASSERT_EQ(__unregister_zone(vm, PCI_ADDR_PORT, size, 1), 0);
}

TEST_F_TIMEOUT(hardening, rep_outs, 90)
{
	struct kvm_coalesced_mmio_ring *ring;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	u32 max = ring_max(), n = max + REP_EXTRA;
	const u32 start[] = { 0, max / 2, max - 7 };
	const u32 size[] = { 1, 2, 4 };
	u32 i;

	TEST_ASSERT(n <= REP_BUF_LEN, "%u elements do not fit the %u-element buffers",
		    n, REP_BUF_LEN);
	vm = vm_create_with_one_vcpu(&vcpu, guest_rep_outs);
	vcpu_args_set(vcpu, 1, n);
	ring = ring_map(vcpu);
	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_EQ(ring_count(ring), 0);

	for (i = 0; i < ARRAY_SIZE(size); i++)
		rep_outs_one(vm, vcpu, ring, size[i], start[i], n, i);
	vcpu_run_expect_done(vcpu);

	ring_unmap(ring);
	kvm_vm_free(vm);
}

int main(int argc, char *argv[])
{
	require_coalesced_pio();

	return test_harness_run(argc, argv);
}
