// SPDX-License-Identifier: GPL-2.0
/*
 * The I/O bus lookup of patch 1, on the host: tools/bus-lookup/check.py
 * compiles this file with the functions of a kernel tree's
 * virt/kvm/kvm_main.c from kvm_io_bus_cmp() to the end of
 * kvm_io_bus_set_tree() included in the middle (KVM_MAIN_EXTRACT), and
 * runs it: random buses, built and shrunk the way kvm_io_bus_register_dev()
 * and kvm_io_bus_unregister_dev() do, of ranges that are disjoint, nested,
 * overlapping, empty, with a negative length or a wrapping end; for every
 * access over them, the devices that the lookup offers it to (bsearch, then
 * the tree on a bus with overlaps) must be exactly those whose range
 * contains it by kvm_io_bus_cmp(), each once.
 *
 *   harness [ROUNDS [SEED]]
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t gpa_t;
typedef uint32_t u32;
struct kvm_io_device { int id; };
struct kvm_vcpu;
struct kvm_io_range { gpa_t addr; int len; struct kvm_io_device *dev; };
struct kvm_io_bus {
	int dev_count;
	int ioeventfd_count;
	gpa_t *tree;
	int rcu;
	struct kvm_io_range range[];
};

#define ENOENT		2
#define EOPNOTSUPP	95
#define GFP_KERNEL_ACCOUNT 0
#define max(a, b)	((a) > (b) ? (a) : (b))
#define min(a, b)	((a) < (b) ? (a) : (b))
#define unlikely(x)	(x)
#define noinline
#define struct_size_t(T, m, n)	(sizeof(T) + (n) * sizeof(((T *)0)->m[0]))
#define size_add(a, b)	((a) + (b))
#define array_size(a, b) ((size_t)(a) * (b))
#define kmalloc(s, f)	malloc(s)

static unsigned long roundup_pow_of_two(unsigned long n)
{
	unsigned long p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static unsigned long ffz(unsigned long x)
{
	unsigned long i = 0;

	while (x & 1) {
		x >>= 1;
		i++;
	}
	return i;
}

/* lib/bsearch.c */
static void *kbsearch(const void *key, const void *base, size_t num, size_t size,
		      int (*cmp)(const void *key, const void *elt))
{
	const char *pivot;
	int result;

	while (num > 0) {
		pivot = (const char *)base + (num >> 1) * size;
		result = cmp(key, pivot);
		if (result == 0)
			return (void *)pivot;
		if (result > 0) {
			base = pivot + size;
			num--;
		}
		num >>= 1;
	}
	return NULL;
}
#define bsearch kbsearch

static int kvm_iodevice_write(struct kvm_vcpu *v, struct kvm_io_device *d,
			      gpa_t a, int l, const void *val)
{
	return 1;
}

static int kvm_iodevice_read(struct kvm_vcpu *v, struct kvm_io_device *d,
			     gpa_t a, int l, void *val)
{
	return 1;
}

#include KVM_MAIN_EXTRACT

static uint32_t seed = 12345;

static uint32_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 17;
	seed ^= seed << 5;
	return seed;
}

static unsigned long checks, with_tree, offered_by_tree;

static void fail(struct kvm_io_bus *bus, gpa_t a, int l, const char *what)
{
	int i;

	printf("FAIL: access 0x%llx+%d: %s; the bus%s:\n", (unsigned long long)a, l, what,
	       bus->tree ? " (with a tree)" : "");
	for (i = 0; i < bus->dev_count; i++)
		printf("  [%d] 0x%llx+%d\n", i, (unsigned long long)bus->range[i].addr,
		       bus->range[i].len);
	exit(1);
}

/* What the lookup offers an access to must be what contains it. */
static void check(struct kvm_io_bus *bus, gpa_t a, int l)
{
	struct kvm_io_range key = { a, l, NULL };
	int n = bus->dev_count, i, first, idx, lo, hi, want = 0, got = 0;
	char *seen = calloc(n + 1, 1);

	for (i = 0; i < n; i++)
		want += !kvm_io_bus_cmp(&key, &bus->range[i]);
	first = kvm_io_bus_get_first_dev(bus, a, l);
	for (idx = first; idx >= 0 && idx < n && !kvm_io_bus_cmp(&key, &bus->range[idx]); idx++) {
		seen[idx]++;
		got++;
	}
	if (bus->tree) {
		kvm_io_bus_bounds(bus, a, &lo, &hi);
		for (i = kvm_io_bus_next_dev(bus, &key, -1, lo, hi); i < n;
		     i = kvm_io_bus_next_dev(bus, &key, i, lo, hi)) {
			if (i >= first && i < idx)
				continue;
			if (kvm_io_bus_cmp(&key, &bus->range[i]))
				fail(bus, a, l, "offered to a device that does not contain it");
			if (seen[i]++)
				fail(bus, a, l, "offered twice to a device");
			got++;
			offered_by_tree++;
		}
	}
	if (got != want)
		fail(bus, a, l, "not offered to every device that contains it");
	free(seen);
	checks++;
}

static struct kvm_io_bus *insert(struct kvm_io_bus *bus, gpa_t addr, int len)
{
	struct kvm_io_range range = { addr, len, NULL };
	struct kvm_io_bus *nb;
	bool tree;
	int i;

	for (i = 0; i < bus->dev_count; i++)
		if (kvm_io_range_before(&range, &bus->range[i]))
			break;
	tree = bus->tree ||
	       (i > 0 && kvm_io_range_overlap(&bus->range[i - 1], &range)) ||
	       (i < bus->dev_count && kvm_io_range_overlap(&range, &bus->range[i]));
	nb = kvm_io_bus_alloc(bus->dev_count + 1, tree);
	memcpy(nb, bus, sizeof(*bus) + i * sizeof(struct kvm_io_range));
	nb->dev_count++;
	nb->range[i] = range;
	memcpy(nb->range + i + 1, bus->range + i,
	       (bus->dev_count - i) * sizeof(struct kvm_io_range));
	kvm_io_bus_set_tree(nb, tree);
	free(bus);
	return nb;
}

static struct kvm_io_bus *remove_dev(struct kvm_io_bus *bus, int i)
{
	struct kvm_io_bus *nb = kvm_io_bus_alloc(bus->dev_count - 1, bus->tree);

	memcpy(nb, bus, sizeof(*bus) + i * sizeof(struct kvm_io_range));
	nb->dev_count--;
	memcpy(nb->range + i, bus->range + i + 1,
	       (nb->dev_count - i) * sizeof(struct kvm_io_range));
	kvm_io_bus_set_tree(nb, bus->tree && kvm_io_bus_overlaps(nb));
	free(bus);
	return nb;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 2000, r, k, i, l, n, span, mode, t, len;
	gpa_t a;

	if (argc > 2)
		seed = strtoul(argv[2], NULL, 0);
	for (r = 0; r < rounds; r++) {
		struct kvm_io_bus *bus = calloc(1, sizeof(*bus));

		n = rnd() % 40;
		span = 8 + rnd() % 64;
		mode = rnd() % 3;	/* 0: disjoint-ish, else anything */
		for (k = 0; k < n; k++) {
			a = rnd() % span;
			if (mode == 0) {
				a = a / 8 * 8;
				len = 4;
			} else {
				t = rnd() % 10;
				len = t == 0 ? 0 : t == 1 ? -(int)(rnd() % 3) : 1 + rnd() % 12;
			}
			if (rnd() % 50 == 0)
				a = ~0ull - rnd() % 4;
			bus = insert(bus, a, len);
			if (bus->dev_count > 1 && rnd() % 5 == 0)
				bus = remove_dev(bus, rnd() % bus->dev_count);
			for (i = 1; i < bus->dev_count; i++)
				if (kvm_io_range_before(&bus->range[i], &bus->range[i - 1]))
					fail(bus, 0, 0, "the bus is not sorted by address and length");
			if (!bus->tree && kvm_io_bus_overlaps(bus))
				fail(bus, 0, 0, "overlapping ranges but no tree");
			with_tree += !!bus->tree;
			/* Every access of a width KVM makes, none whose end wraps. */
			for (a = 0; a < (gpa_t)span + 4; a++)
				for (l = 0; l <= 8; l++)
					if (l <= 4 || l == 8)
						check(bus, a, l);
			check(bus, ~0ull - 1, 1);
			check(bus, ~0ull - 3, 2);
			check(bus, ~0ull, 0);
		}
		free(bus);
	}
	printf("bus lookup: %lu accesses checked against a brute force, %lu of the buses with a tree, %lu devices found by the tree\n",
	       checks, with_tree, offered_by_tree);
	return 0;
}
