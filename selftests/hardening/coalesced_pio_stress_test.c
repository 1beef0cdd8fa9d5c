// SPDX-License-Identifier: GPL-2.0-only
/*
 * Coalesced PIO under concurrent zone changes, VM churn and failed
 * allocations.  Every case is bounded by operation counts and prints what it
 * did; the seeds are fixed and printed.
 *
 * random_zones: four vCPUs write tagged OUTLs over 64 ports while two threads
 * register and unregister random zones there (overlapping, nested, empty,
 * duplicate, and zones past port 0xffff and past 2^64 elsewhere) and a third
 * creates and closes VMs that use pio zones.  Each zone thread owns half of
 * the ports and keeps a model of its zones; every ioctl succeeds, and every
 * write is seen exactly once, in the ring or as an exit.
 *
 * failed_allocations: every allocation that registering or unregistering a
 * zone makes is failed in turn, through /proc/thread-self/fail-nth with
 * failslab or fail_page_alloc (so only the test's thread is affected),
 * including the bus shrink inside kvm_io_bus_unregister_dev() whose failure
 * makes KVM drop the whole port I/O bus (CVE-2021-47060/47061 were bugs in
 * that path).  Each failure gives a clean errno, leaves the zones as the test
 * expects, and the VM keeps running with no write lost.  Leaks are found by
 * the kmemleak scan the test guest runs after the tests.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>

#include "hardening.h"
#include "kvm_test_harness.h"

struct zone {
	u64 addr;
	u32 size;
};

static bool zone_contains(const struct zone *z, u64 addr, u32 size)
{
	return addr >= z->addr && addr + size <= z->addr + z->size;
}

/* Whether a @size-byte write to @port lies inside one of @nr zones. */
static bool zones_take(const struct zone *zones, u32 nr, u64 port, u32 size)
{
	u32 i;

	for (i = 0; i < nr; i++)
		if (zone_contains(&zones[i], port, size))
			return true;
	return false;
}

/* random_zones */
#define STRESS_SEED	0xc0a1e5ceu
#define NR_VCPUS	4
#define NR_WRITES	2500	/* per vCPU */
#define MIN_ZONE_OPS	600	/* per zone thread: then they stop with the vCPUs */
#define MAX_ZONE_OPS	20000
#define MAX_CHURN_VMS	300
#define WINDOW		0x5000	/* the ports written: [WINDOW, WINDOW + 0x40) */
#define HALF		0x20	/* owned by each zone thread */
#define MAX_ZONES	96	/* per zone thread; past that it unregisters */

#define TAG(id, seq)	((u32)(id) << 24 | (u32)(seq))
#define TAG_ID(tag)	((tag) >> 24)
#define TAG_SEQ(tag)	((tag) & 0xffffff)

/* The port of a vCPU's write: 4-aligned, spread over both halves. */
static inline u16 stress_port(u32 id, u32 seq)
{
	return WINDOW + 4 * ((seq * 7 + id * 5) % (2 * HALF / 4));
}

static void guest_stress(u32 id)
{
	u32 seq;

	for (seq = 0; seq < NR_WRITES; seq++)
		outl(stress_port(id, seq), TAG(id, seq));
	GUEST_DONE();
}

/* Written by one thread each (a vCPU's, or the drainer), read after join. */
static u8 exited[NR_VCPUS][NR_WRITES];
static u8 coalesced[NR_VCPUS][NR_WRITES];
static bool stop_drain, stop_churn, stop_zones;

struct vcpu_thread {
	struct kvm_vcpu *vcpu;
	pthread_t thread;
	u32 exits;
};

static void *vcpu_thread(void *arg)
{
	struct vcpu_thread *t = arg;
	struct kvm_run *run = t->vcpu->run;
	u32 id = t->vcpu->id, tag, seq;
	int last = -1;

	for (;;) {
		vcpu_run(t->vcpu);
		if (run->exit_reason != KVM_EXIT_IO ||
		    run->io.port < WINDOW || run->io.port >= WINDOW + 2 * HALF)
			break;
		TEST_ASSERT(run->io.direction == KVM_EXIT_IO_OUT &&
			    run->io.size == 4 && run->io.count == 1,
			    "vCPU %u: bad exit on 0x%x: dir %u size %u count %u",
			    id, run->io.port, run->io.direction, run->io.size,
			    run->io.count);
		tag = *(u32 *)((void *)run + run->io.data_offset);
		seq = TAG_SEQ(tag);
		TEST_ASSERT(TAG_ID(tag) == id && seq < NR_WRITES &&
			    run->io.port == stress_port(id, seq),
			    "vCPU %u: exit on 0x%x with foreign data 0x%x", id,
			    run->io.port, tag);
		TEST_ASSERT((int)seq > last, "vCPU %u: write %u exited after write %d",
			    id, seq, last);
		exited[id][seq]++;
		last = seq;
		t->exits++;
	}
	vcpu_expect_done(t->vcpu);
	return NULL;
}

struct drain_thread {
	pthread_t thread;
	struct kvm_coalesced_mmio_ring *ring;
	u32 entries;
};

static u32 drain_once(struct drain_thread *t)
{
	static struct kvm_coalesced_mmio buf[4096 / 24];
	u32 n, i, tag, id, seq;

	n = ring_drain(t->ring, buf, ring_max());
	for (i = 0; i < n; i++) {
		tag = (u32)entry_data(&buf[i]);
		id = TAG_ID(tag);
		seq = TAG_SEQ(tag);
		TEST_ASSERT(buf[i].pio == 1 && buf[i].len == 4 &&
			    id < NR_VCPUS && seq < NR_WRITES &&
			    buf[i].phys_addr == stress_port(id, seq),
			    "bad ring entry: pio %u len %u port 0x%llx data 0x%x",
			    buf[i].pio, buf[i].len,
			    (unsigned long long)buf[i].phys_addr, tag);
		TEST_ASSERT(!coalesced[id][seq], "write %u of vCPU %u in the ring twice",
			    seq, id);
		coalesced[id][seq]++;
	}
	t->entries += n;
	return n;
}

static void *drain_thread(void *arg)
{
	struct drain_thread *t = arg;

	while (!__atomic_load_n(&stop_drain, __ATOMIC_ACQUIRE))
		if (!drain_once(t))
			usleep(20);
	drain_once(t);
	return NULL;
}

struct zone_thread {
	pthread_t thread;
	struct kvm_vm *vm;
	u64 base;		/* of the half this thread owns */
	u32 seed;
	struct zone zones[MAX_ZONES];	/* what the thread expects */
	u32 nr;
	u32 ok, overlapping, empty, far, unreg, removed;
};

/* An ioctl that must succeed, as it does in KVM for any pio zone. */
static void zone_op(struct zone_thread *t, bool reg, u64 addr, u32 size)
{
	int r = reg ? __register_zone(t->vm, addr, size, 1) :
		      __unregister_zone(t->vm, addr, size, 1);
	u32 i;

	TEST_ASSERT(!r, "%sregister 0x%llx+0x%x: %s", reg ? "" : "un",
		    (unsigned long long)addr, size, strerror(errno));
	if (reg) {
		TEST_ASSERT(t->nr < MAX_ZONES, "more zones than the model holds");
		t->zones[t->nr++] = (struct zone){ addr, size };
		t->ok++;
		return;
	}
	t->unreg++;
	for (i = 0; i < t->nr;) {
		if (zone_contains(&t->zones[i], addr, size)) {
			t->zones[i] = t->zones[--t->nr];
			t->removed++;
		} else {
			i++;
		}
	}
}

/* Register a zone in our half, counting what kind of zone it is. */
static void zone_add(struct zone_thread *t, u64 addr, u32 size)
{
	u32 i;

	if (!size)
		t->empty++;
	for (i = 0; i < t->nr; i++) {
		if (addr < t->zones[i].addr + t->zones[i].size &&
		    t->zones[i].addr < addr + size) {
			t->overlapping++;
			break;
		}
	}
	zone_op(t, true, addr, size);
}

/*
 * A zone no write of the test reaches: registered, then unregistered by its
 * own range, which removes it and nothing of ours.
 */
static void zone_far(struct zone_thread *t, u64 addr, u32 size)
{
	int r = __register_zone(t->vm, addr, size, 1);

	TEST_ASSERT(!r, "register 0x%llx+0x%x: %s", (unsigned long long)addr,
		    size, strerror(errno));
	r = __unregister_zone(t->vm, addr, size, 1);
	TEST_ASSERT(!r, "unregister 0x%llx+0x%x: %s", (unsigned long long)addr,
		    size, strerror(errno));
	t->far++;
}

static void *zone_thread(void *arg)
{
	struct zone_thread *t = arg;
	u64 addr, end = t->base + HALF;
	u32 op, r, size;
	struct zone *z;

	for (op = 0; op < MAX_ZONE_OPS; op++) {
		if (op >= MIN_ZONE_OPS && __atomic_load_n(&stop_zones, __ATOMIC_ACQUIRE))
			break;
		r = xorshift32(&t->seed);
		addr = t->base + (r >> 8) % HALF;
		size = (r >> 16) % 9;
		if (addr + size > end)
			size = end - addr;
		z = t->nr ? &t->zones[(r >> 24) % t->nr] : NULL;

		switch (t->nr == MAX_ZONES ? 9 : r % 13) {
		case 0 ... 3:	/* anywhere in our half: new, overlapping or empty */
			zone_add(t, addr, size);
			break;
		case 4:		/* where OUTLs are written, fitting them */
			addr &= ~3ull;
			size = addr + 8 <= end && (r & 0x100) ? 8 : 4;
			zone_add(t, addr, size);
			break;
		case 5:		/* a duplicate, or one nested in it */
			if (z && (r & 0x100))
				zone_add(t, z->addr, z->size);
			else if (z && z->size > 1)
				zone_add(t, z->addr + 1, z->size - 1);
			else
				zone_add(t, addr, 0);
			break;
		case 6:		/* past port 0xffff */
			zone_far(t, 0xfff0 + (r >> 8) % 16, 0x11 + (r >> 16) % 64);
			break;
		case 7:		/* past 2^64 */
			zone_far(t, ~0ull - (r >> 8) % 16, 0x11 + (r >> 16) % 64);
			break;
		case 8:		/* far beyond the port space */
			zone_far(t, (u64)xorshift32(&t->seed) << 20, 1 + size);
			break;
		case 9 ... 10:	/* one of ours */
			if (z)
				zone_op(t, false, z->addr, z->size);
			break;
		default:	/* a range in our half; the other thread's border is not */
			if (!size && addr == t->base)
				addr++;
			zone_op(t, false, addr, size);
			break;
		}
		if (!(op % 64))
			sched_yield();
	}
	return NULL;
}

struct churn_thread {
	pthread_t thread;
	u32 seed;
	u32 vms, zones;
};

/* Create a VM, give it pio zones, close it; until told to stop (bounded). */
static void *churn_thread(void *arg)
{
	struct churn_thread *t = arg;
	int kvm_fd = open_kvm_dev_path_or_exit();
	int vm_fd, r;
	u32 n, i;

	while (t->vms < MAX_CHURN_VMS &&
	       !__atomic_load_n(&stop_churn, __ATOMIC_ACQUIRE)) {
		vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
		TEST_ASSERT(vm_fd >= 0, "KVM_CREATE_VM: %s", strerror(errno));
		n = xorshift32(&t->seed) % 4;
		for (i = 0; i < n; i++) {
			struct kvm_coalesced_mmio_zone zone = {
				.addr = 0x100 + 8 * i, .size = 4, .pio = 1,
			};

			r = ioctl(vm_fd, KVM_REGISTER_COALESCED_MMIO, &zone);
			TEST_ASSERT(!r, "churn VM: register: %s", strerror(errno));
			t->zones++;
		}
		close(vm_fd);
		t->vms++;
	}
	close(kvm_fd);
	return NULL;
}

FIXTURE(stress) {};

FIXTURE_SETUP(stress) {}

FIXTURE_TEARDOWN(stress) {}

TEST_F_TIMEOUT(stress, random_zones, 400)
{
	struct kvm_vcpu *vcpu_list[NR_VCPUS];
	struct vcpu_thread vcpus[NR_VCPUS] = {};
	struct zone_thread zt[2] = {};
	struct drain_thread drain = {};
	struct churn_thread churn = { .seed = STRESS_SEED ^ 0xc4u };
	u32 id, seq, i, n, exits = 0, lost = 0, twice = 0;
	struct kvm_vm *vm;
	int r;

	vm = vm_create_with_vcpus(NR_VCPUS, guest_stress, vcpu_list);
	drain.ring = ring_map(vcpu_list[0]);
	printf("# seed 0x%x: %u vCPUs x %u OUTL over ports 0x%x-0x%x\n",
	       STRESS_SEED, NR_VCPUS, NR_WRITES, WINDOW, WINDOW + 2 * HALF - 1);
	printf("# 2 threads make %u-%u zone ioctls each, 1 churns <= %u VMs, until the vCPUs end\n",
	       MIN_ZONE_OPS, MAX_ZONE_OPS, MAX_CHURN_VMS);

	r = pthread_create(&drain.thread, NULL, drain_thread, &drain);
	TEST_ASSERT(!r, "pthread_create: %s", strerror(r));
	r = pthread_create(&churn.thread, NULL, churn_thread, &churn);
	TEST_ASSERT(!r, "pthread_create: %s", strerror(r));
	for (i = 0; i < 2; i++) {
		zt[i].vm = vm;
		zt[i].base = WINDOW + i * HALF;
		zt[i].seed = STRESS_SEED + i * 0x9e3779b9u;
		r = pthread_create(&zt[i].thread, NULL, zone_thread, &zt[i]);
		TEST_ASSERT(!r, "pthread_create: %s", strerror(r));
	}
	for (id = 0; id < NR_VCPUS; id++) {
		TEST_ASSERT_EQ(vcpu_list[id]->id, id);
		vcpus[id].vcpu = vcpu_list[id];
		vcpu_args_set(vcpu_list[id], 1, id);
		r = pthread_create(&vcpus[id].thread, NULL, vcpu_thread, &vcpus[id]);
		TEST_ASSERT(!r, "pthread_create: %s", strerror(r));
	}

	for (id = 0; id < NR_VCPUS; id++) {
		r = pthread_join(vcpus[id].thread, NULL);
		TEST_ASSERT(!r, "pthread_join: %s", strerror(r));
		exits += vcpus[id].exits;
	}
	__atomic_store_n(&stop_zones, true, __ATOMIC_RELEASE);
	for (i = 0; i < 2; i++) {
		r = pthread_join(zt[i].thread, NULL);
		TEST_ASSERT(!r, "pthread_join: %s", strerror(r));
	}
	__atomic_store_n(&stop_churn, true, __ATOMIC_RELEASE);
	__atomic_store_n(&stop_drain, true, __ATOMIC_RELEASE);
	r = pthread_join(churn.thread, NULL);
	TEST_ASSERT(!r, "pthread_join: %s", strerror(r));
	r = pthread_join(drain.thread, NULL);
	TEST_ASSERT(!r, "pthread_join: %s", strerror(r));

	for (i = 0; i < 2; i++) {
		printf("# zone thread %u, ports 0x%llx-0x%llx: %u registered\n", i,
		       (unsigned long long)zt[i].base,
		       (unsigned long long)zt[i].base + HALF - 1, zt[i].ok);
		printf("# zone thread %u: %u overlapping, %u empty, %u far away and gone at once\n",
		       i, zt[i].overlapping, zt[i].empty, zt[i].far);
		printf("# zone thread %u: %u unregisters took %u zones, %u left\n",
		       i, zt[i].unreg, zt[i].removed, zt[i].nr);
	}
	printf("# churn: %u VMs created and closed, %u pio zones registered in them\n",
	       churn.vms, churn.zones);

	for (id = 0; id < NR_VCPUS; id++) {
		for (seq = 0; seq < NR_WRITES; seq++) {
			n = exited[id][seq] + coalesced[id][seq];
			lost += !n;
			twice += n > 1;
		}
	}
	printf("# %u writes: %u coalesced, %u exited, %u lost, %u seen twice\n",
	       NR_VCPUS * NR_WRITES, drain.entries, exits, lost, twice);
	TEST_ASSERT(!lost && !twice, "%u writes lost, %u seen twice", lost, twice);
	TEST_ASSERT(drain.entries && exits,
		    "the stress did not mix coalesced and exiting writes");
	for (i = 0; i < 2; i++)
		TEST_ASSERT(zt[i].ok && zt[i].overlapping && zt[i].empty &&
			    zt[i].far && zt[i].removed,
			    "zone thread %u missed a kind of operation", i);
	TEST_ASSERT(churn.vms > 0, "no VM churned");

	ring_unmap(drain.ring);
	kvm_vm_free(vm);
}

/* failed_allocations */
#define FAILSLAB	"/sys/kernel/debug/failslab"
#define FAIL_PAGE	"/sys/kernel/debug/fail_page_alloc"
#define FI_MAX_NTH	200
#define FI_PORT		0x6000	/* the guest writes FI_PORT .. FI_PORT + 7 */
#define FI_PORTS	8
#define BIG_ZONES	400	/* enough for a bus beyond kmalloc's largest cache */
#define BIG_BASE	0x7000
#define FI_PROBE	0x6f00

static void guest_fi(void)
{
	u32 round, i;

	for (round = 0;; round++) {
		for (i = 0; i < FI_PORTS; i++)
			guest_outb(FI_PORT + i, (u8)(round * FI_PORTS + i));
		GUEST_SYNC(round);
	}
}

static void write_knob(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	TEST_ASSERT(fd >= 0, "open %s: %s", path, strerror(errno));
	TEST_ASSERT(write(fd, val, strlen(val)) == (ssize_t)strlen(val),
		    "write %s to %s: %s", val, path, strerror(errno));
	close(fd);
}

static void read_knob(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	TEST_ASSERT(fd >= 0, "open %s: %s", path, strerror(errno));
	n = read(fd, buf, len - 1);
	TEST_ASSERT(n > 0, "read %s: %s", path, strerror(errno));
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	close(fd);
}

/*
 * The fault attributes: only fail-nth may fail anything (probability 0,
 * task-filter on), quietly, and for GFP_KERNEL too.  @attr picks whether
 * failslab's or fail_page_alloc's sites count for fail-nth.
 */
static const char *const knob_names[] = {
	FAILSLAB "/probability", FAILSLAB "/task-filter", FAILSLAB "/verbose",
	FAILSLAB "/ignore-gfp-wait",
	FAIL_PAGE "/probability", FAIL_PAGE "/task-filter", FAIL_PAGE "/verbose",
	FAIL_PAGE "/ignore-gfp-wait", FAIL_PAGE "/ignore-gfp-highmem",
	FAIL_PAGE "/min-order",
};

static const char *const knob_values[2][ARRAY_SIZE(knob_names)] = {
	{ "0", "Y", "0", "N", "0", "Y", "0", "Y", "N", "0" },	/* failslab */
	{ "0", "Y", "0", "Y", "0", "Y", "0", "N", "N", "0" },	/* fail_page_alloc */
};

static char knob_saved[ARRAY_SIZE(knob_names)][32];

/* Put the fault attributes back, also when an assertion ends the test. */
static void restore_knobs(void)
{
	u32 i;

	for (i = 0; i < ARRAY_SIZE(knob_names); i++)
		if (knob_saved[i][0])
			write_knob(knob_names[i], knob_saved[i]);
}

static void set_knobs(u32 pass)
{
	u32 i;

	for (i = 0; i < ARRAY_SIZE(knob_names); i++)
		write_knob(knob_names[i], knob_values[pass][i]);
}

struct fi_vm {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct kvm_coalesced_mmio_ring *ring;
	struct zone zones[FI_PORTS];
	u32 nr;
	u32 extra;		/* zones outside the ports the guest writes */
	u32 round;
	bool bus_gone;
};

static void fi_vm_create(struct fi_vm *v)
{
	memset(v, 0, sizeof(*v));
	v->vm = vm_create_with_one_vcpu(&v->vcpu, guest_fi);
	v->ring = ring_map(v->vcpu);
}

static void fi_vm_free(struct fi_vm *v)
{
	ring_unmap(v->ring);
	kvm_vm_free(v->vm);
}

static void fi_add(struct fi_vm *v, u64 addr, u32 size)
{
	kvm_vm_register_coalesced_io(v->vm, addr, size, true);
	v->zones[v->nr++] = (struct zone){ addr, size };
}

/*
 * One round of guest_fi(): each write inside an expected zone is in the
 * ring, in order, and every other one exits, once.  Then the zone count.
 */
static void fi_check(struct fi_vm *v, const char *what)
{
	struct kvm_coalesced_mmio out[FI_PORTS];
	u32 i, n, want = 0;
	u8 data;

	for (i = 0; i < FI_PORTS; i++) {
		data = v->round * FI_PORTS + i;
		if (zones_take(v->zones, v->nr, FI_PORT + i, 1))
			want++;
		else
			vcpu_run_expect_io(v->vcpu, KVM_EXIT_IO_OUT, FI_PORT + i, 1, data);
	}
	vcpu_run_expect_sync(v->vcpu, v->round);
	n = ring_drain(v->ring, out, ARRAY_SIZE(out));
	TEST_ASSERT(n == want, "%s: %u entries in the ring, wanted %u", what, n, want);
	for (i = 0, n = 0; i < FI_PORTS; i++)
		if (zones_take(v->zones, v->nr, FI_PORT + i, 1))
			check_pio_entry(&out[n++], FI_PORT + i, 1,
					(u8)(v->round * FI_PORTS + i), what, i);
	v->round++;
}

enum fi_case {
	FI_FIRST,	/* the VM's first pio zone: per-VM state */
	FI_MORE,	/* a third zone */
	FI_UNREG,	/* one zone of three: one bus shrink */
	FI_UNREG2,	/* two adjacent zones at once: two bus shrinks */
	FI_BIG_REG,	/* a zone on a bus too large for kmalloc's caches */
	FI_BIG_UNREG,
	NR_FI_CASES
};

static const char *const fi_names[] = {
	"register first zone", "register third zone", "unregister one zone",
	"unregister two zones", "register on a 400-zone bus",
	"unregister on a 400-zone bus",
};

static void fi_setup(struct fi_vm *v, enum fi_case c)
{
	u32 i;

	if (c == FI_BIG_REG || c == FI_BIG_UNREG) {
		for (i = 0; i < BIG_ZONES; i++)
			kvm_vm_register_coalesced_io(v->vm, BIG_BASE + i, 1, true);
		v->extra = BIG_ZONES;
	}
	if (c != FI_FIRST) {
		fi_add(v, FI_PORT, 1);
		fi_add(v, FI_PORT + 1, 2);
	}
	if (c == FI_UNREG || c == FI_UNREG2 || c == FI_BIG_UNREG)
		fi_add(v, FI_PORT + 3, 1);
}

/*
 * The ioctl under test, with fail-nth armed; its result is checked here.
 * Returns the ioctl's result.
 */
static int fi_op(struct fi_vm *v, enum fi_case c, int nth_fd, u32 nth,
		 bool *injected)
{
	u64 addr = c == FI_UNREG2 ? FI_PORT + 3 : FI_PORT + 1;
	u32 size = c == FI_UNREG2 ? 0 : 2, i;
	char buf[16];
	int r, e;

	snprintf(buf, sizeof(buf), "%u", nth);
	TEST_ASSERT(pwrite(nth_fd, buf, strlen(buf), 0) == (ssize_t)strlen(buf),
		    "arm fail-nth: %s", strerror(errno));
	switch (c) {
	case FI_FIRST:
	case FI_MORE:
	case FI_BIG_REG:
		r = __register_zone(v->vm, FI_PORT + 4, 2, 1);
		break;
	default:
		r = __unregister_zone(v->vm, addr, size, 1);
		break;
	}
	e = errno;
	memset(buf, 0, sizeof(buf));
	TEST_ASSERT(pread(nth_fd, buf, sizeof(buf) - 1, 0) > 0,
		    "read fail-nth: %s", strerror(errno));
	*injected = !strtoul(buf, NULL, 10);
	TEST_ASSERT(pwrite(nth_fd, "0", 1, 0) == 1, "disarm fail-nth: %s",
		    strerror(errno));

	if (c == FI_FIRST || c == FI_MORE || c == FI_BIG_REG) {
		TEST_ASSERT(!r || (*injected && e == ENOMEM),
			    "%s, fail-nth %u: got %d (%s)", fi_names[c], nth, r,
			    r ? strerror(e) : "success");
		if (!r)
			v->zones[v->nr++] = (struct zone){ FI_PORT + 4, 2 };
		return r;
	}

	/* Unregistering returns 0, also when KVM dropped the whole bus. */
	TEST_ASSERT(!r, "%s, fail-nth %u: got %d (%s)", fi_names[c], nth, r,
		    strerror(e));
	for (i = 0; i < v->nr;) {
		if (zone_contains(&v->zones[i], addr, size))
			v->zones[i] = v->zones[--v->nr];
		else
			i++;
	}

	/*
	 * If a bus shrink failed, KVM dropped the port I/O bus with every
	 * device on it: no zone is left, and without a bus no zone can be
	 * registered (ENOMEM).  A probe zone, outside the ports the guest
	 * writes, tells; fi_check() then proves that no zone is left.
	 */
	r = __register_zone(v->vm, FI_PROBE, 1, 1);
	if (r) {
		TEST_ASSERT(errno == ENOMEM, "%s, fail-nth %u: probe zone: %s",
			    fi_names[c], nth, strerror(errno));
		TEST_ASSERT(*injected, "%s: the bus is gone without a fault", fi_names[c]);
		v->bus_gone = true;
		v->nr = 0;
		v->extra = 0;
	} else {
		TEST_ASSERT_EQ(__unregister_zone(v->vm, FI_PROBE, 1, 1), 0);
	}
	return 0;
}

TEST_F_TIMEOUT(stress, failed_allocations, 600)
{
	u32 points[2][NR_FI_CASES] = {}, bus_gone = 0, enomem = 0, pass, nth;
	int nth_fd;
	bool injected;
	enum fi_case c;
	u32 i;
	int r;

	if (access(FAILSLAB, F_OK) || access(FAIL_PAGE, F_OK))
		SKIP(return, "no %s or %s (FAULT_INJECTION_DEBUG_FS, FAILSLAB, FAIL_PAGE_ALLOC)",
		     FAILSLAB, FAIL_PAGE);
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	TEST_ASSERT(nth_fd >= 0, "open fail-nth: %s", strerror(errno));
	for (i = 0; i < ARRAY_SIZE(knob_names); i++)
		read_knob(knob_names[i], knob_saved[i], sizeof(knob_saved[i]));
	atexit(restore_knobs);

	for (pass = 0; pass < 2; pass++) {
		set_knobs(pass);
		for (c = 0; c < NR_FI_CASES; c++) {
			for (nth = 1; nth <= FI_MAX_NTH; nth++) {
				struct fi_vm v;

				fi_vm_create(&v);
				fi_setup(&v, c);
				fi_check(&v, "before");
				r = fi_op(&v, c, nth_fd, nth, &injected);
				if (r)
					enomem++;
				if (v.bus_gone) {
					bus_gone++;
					/* No bus: no zone can be registered again. */
					TEST_ASSERT(__register_zone(v.vm, FI_PORT, 1, 1) == -1 &&
						    errno == ENOMEM,
						    "register on a dropped bus: %s",
						    strerror(errno));
				}
				/* The VM works on, with the zones it has. */
				fi_check(&v, fi_names[c]);
				if (!v.bus_gone && !zones_take(v.zones, v.nr, FI_PORT + 6, 1)) {
					fi_add(&v, FI_PORT + 6, 1);
					fi_check(&v, "a zone added afterwards");
				}
				fi_vm_free(&v);
				if (!injected)
					break;
				points[pass][c]++;
			}
			TEST_ASSERT(nth <= FI_MAX_NTH, "%s: still failing after %u faults",
				    fi_names[c], FI_MAX_NTH);
		}
	}

	restore_knobs();
	close(nth_fd);

	for (c = 0; c < NR_FI_CASES; c++)
		printf("# %-30s failslab: %3u faults  fail_page_alloc: %3u faults\n",
		       fi_names[c], points[0][c], points[1][c]);
	for (pass = 0, nth = 0; pass < 2; pass++)
		for (c = 0; c < NR_FI_CASES; c++)
			nth += points[pass][c];
	printf("# %u faults injected; %u registrations failed with ENOMEM\n",
	       nth, enomem);
	printf("# the bus was dropped %u times; the VM ran on after each\n", bus_gone);
	TEST_ASSERT(points[0][FI_FIRST] && points[0][FI_UNREG], "no fault injected");
	TEST_ASSERT(bus_gone, "no bus shrink failed: the CVE-2021-47060 path was not reached");
	TEST_ASSERT(points[1][FI_BIG_REG] || points[1][FI_BIG_UNREG],
		    "fail_page_alloc never hit the large bus");
}

int main(int argc, char *argv[])
{
	require_coalesced_pio();

	return test_harness_run(argc, argv);
}
