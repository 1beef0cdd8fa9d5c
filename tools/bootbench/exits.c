// SPDX-License-Identifier: GPL-2.0
/*
 * LD_PRELOAD library of make boot-bench: what a QEMU process asked of KVM,
 * counted from QEMU's side of the ioctl.
 *
 * - every return of KVM_RUN (an exit to userspace), by exit reason, and
 *   for KVM_EXIT_IO by port and direction;
 * - the ring entries KVM appended during each KVM_RUN (the coalesced
 *   writes QEMU replays), by port for pio entries: the entries between the
 *   ring's "last" before the call and after it;
 * - the moment the guest's /init wrote to the marker port 0xe9
 *   (tools/bootbench/init.c), and the moment QEMU exits: the test VM's
 *   CLOCK_MONOTONIC (from this library's constructor) and QEMU's CPU time
 *   (CLOCK_PROCESS_CPUTIME_ID, every thread, from exec).  Under QEMU's
 *   -icount shift=0 one nanosecond is one executed instruction, so the CPU
 *   time is what the test VM executed for this QEMU: its own code, KVM's
 *   and the nested guest's;
 * - at exit, KVM's statistics of the VM (its debugfs directory).
 *
 * One vCPU (the ring is read from the vCPU's mmap).  The report goes to
 * $KCP_EXITS_OUT, one "kcp-exits KEY... VALUE" a line.  Built by
 * tools/mkbootbench.sh against the C library of QEMU's binary.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <inttypes.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#define MARK_PORT 0xe9
#define MAX_FDS 1024
#define RING_MAX ((4096 - sizeof(struct kvm_coalesced_mmio_ring)) / \
		  sizeof(struct kvm_coalesced_mmio))

static int (*real_ioctl)(int, unsigned long, ...);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);

static int vm_fd = -1;
static char is_vcpu[MAX_FDS];
static struct kvm_run *runs[MAX_FDS];
static long ring_page = 1;	/* KVM_CAP_COALESCED_MMIO's answer on x86 */

static uint64_t reasons[64];
static uint64_t io[65536][2];	/* [port][KVM_EXIT_IO_IN, _OUT] */
static uint64_t ring_pio[65536];
static uint64_t ring_mmio;
static uint64_t returns;
static uint64_t mono_start;
static uint64_t mono_mark, cpu_mark;
static int marked;

static uint64_t ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

__attribute__((constructor)) static void start(void)
{
	mono_start = ns(CLOCK_MONOTONIC);
	real_ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	real_mmap = (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap");
}

static struct kvm_coalesced_mmio_ring *ring_of(int fd)
{
	if (!runs[fd] || ring_page <= 0)
		return NULL;
	return (void *)((char *)runs[fd] + ring_page * getpagesize());
}

static void count_ring(struct kvm_coalesced_mmio_ring *ring, uint32_t from, uint32_t to)
{
	for (; from != to && from < RING_MAX; from = (from + 1) % RING_MAX) {
		struct kvm_coalesced_mmio *e = &ring->coalesced_mmio[from];

		if (e->pio)
			ring_pio[e->phys_addr & 0xffff]++;
		else
			ring_mmio++;
	}
}

static void count_exit(struct kvm_run *run)
{
	returns++;
	reasons[run->exit_reason < 64 ? run->exit_reason : 63]++;
	if (run->exit_reason != KVM_EXIT_IO)
		return;
	io[run->io.port][run->io.direction == KVM_EXIT_IO_OUT]++;
	if (run->io.port == MARK_PORT && run->io.direction == KVM_EXIT_IO_OUT && !marked) {
		mono_mark = ns(CLOCK_MONOTONIC) - mono_start;
		cpu_mark = ns(CLOCK_PROCESS_CPUTIME_ID);
		marked = 1;
	}
}

int ioctl(int fd, unsigned long req, ...)
{
	struct kvm_coalesced_mmio_ring *ring = NULL;
	uint32_t last = 0;
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (req == KVM_RUN && fd >= 0 && fd < MAX_FDS && runs[fd]) {
		ring = ring_of(fd);
		if (ring)
			last = __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE);
	}
	ret = real_ioctl(fd, req, arg);
	if (req == KVM_RUN && fd >= 0 && fd < MAX_FDS && runs[fd]) {
		if (ring)
			count_ring(ring, last, __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE));
		count_exit(runs[fd]);
	} else if (req == KVM_CREATE_VM && ret >= 0) {
		vm_fd = ret;
	} else if (req == KVM_CREATE_VCPU && ret >= 0 && ret < MAX_FDS) {
		is_vcpu[ret] = 1;
	} else if (req == KVM_CHECK_EXTENSION && (unsigned long)arg == KVM_CAP_COALESCED_MMIO &&
		   ret > 0) {
		ring_page = ret;
	}
	return ret;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = real_mmap(addr, len, prot, flags, fd, off);

	if (p != MAP_FAILED && fd >= 0 && fd < MAX_FDS && is_vcpu[fd] && off == 0)
		runs[fd] = p;
	return p;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
	__attribute__((alias("mmap")));

static const char *reason_name(int r)
{
	switch (r) {
	case KVM_EXIT_IO: return "io";
	case KVM_EXIT_MMIO: return "mmio";
	case KVM_EXIT_HLT: return "hlt";
	case KVM_EXIT_SHUTDOWN: return "shutdown";
	case KVM_EXIT_INTR: return "intr";
	case KVM_EXIT_IRQ_WINDOW_OPEN: return "irq_window_open";
	case KVM_EXIT_SYSTEM_EVENT: return "system_event";
	case KVM_EXIT_X86_RDMSR: return "rdmsr";
	case KVM_EXIT_X86_WRMSR: return "wrmsr";
	default: return NULL;
	}
}

/* KVM's statistics of the VM: the files of its debugfs directory. */
static void kvm_stats(FILE *out)
{
	char path[128], file[400];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d", getpid(), vm_fd);
	dir = opendir(path);
	if (!dir) {
		fprintf(out, "kcp-exits error no-debugfs %s\n", path);
		return;
	}
	while ((d = readdir(dir))) {
		unsigned long long v;
		FILE *f;

		if (d->d_type != DT_REG)
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, d->d_name);
		f = fopen(file, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &v) == 1 && v)
			fprintf(out, "kcp-exits kvm %s %llu\n", d->d_name, v);
		fclose(f);
	}
	closedir(dir);
}

__attribute__((destructor)) static void report(void)
{
	uint64_t mono_end = ns(CLOCK_MONOTONIC) - mono_start;
	uint64_t cpu_end = ns(CLOCK_PROCESS_CPUTIME_ID);
	const char *name = getenv("KCP_EXITS_OUT");
	FILE *out = name ? fopen(name, "w") : stderr;
	int p, r;

	if (!out)
		return;
	if (marked) {
		fprintf(out, "kcp-exits mono init %llu\n", (unsigned long long)mono_mark);
		fprintf(out, "kcp-exits cpu init %llu\n", (unsigned long long)cpu_mark);
	}
	fprintf(out, "kcp-exits mono end %llu\n", (unsigned long long)mono_end);
	fprintf(out, "kcp-exits cpu end %llu\n", (unsigned long long)cpu_end);
	fprintf(out, "kcp-exits returns %llu\n", (unsigned long long)returns);
	for (r = 0; r < 64; r++) {
		const char *n = reason_name(r);

		if (!reasons[r])
			continue;
		if (n)
			fprintf(out, "kcp-exits reason %s %" PRIu64 "\n", n, reasons[r]);
		else
			fprintf(out, "kcp-exits reason %d %" PRIu64 "\n", r, reasons[r]);
	}
	for (p = 0; p < 65536; p++) {
		if (io[p][0])
			fprintf(out, "kcp-exits io 0x%x in %" PRIu64 "\n", p, io[p][0]);
		if (io[p][1])
			fprintf(out, "kcp-exits io 0x%x out %" PRIu64 "\n", p, io[p][1]);
		if (ring_pio[p])
			fprintf(out, "kcp-exits ring 0x%x %" PRIu64 "\n", p, ring_pio[p]);
	}
	if (ring_mmio)
		fprintf(out, "kcp-exits ring mmio %llu\n", (unsigned long long)ring_mmio);
	if (vm_fd >= 0)
		kvm_stats(out);
	if (out != stderr)
		fclose(out);
}
