// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the Debian guest that make boot-bench boots: it marks that
 * userspace has started with one byte written to port 0xe9 (no device
 * there with -nodefaults, so the write exits to QEMU, where
 * tools/bootbench/exits.c sees it), then powers the guest off (ACPI S5).
 * The byte goes through /dev/port, so the kernel makes the OUT: under
 * nested SVM in QEMU's TCG, an OUT from user mode after ioperm() raised
 * #GP.  No C library: four system calls.
 */
#define SYS_pwrite64	18
#define SYS_open	2
#define SYS_reboot	169
#define O_WRONLY	1
#define MARK_PORT	0xe9
#define REBOOT_MAGIC1	0xfee1deadUL
#define REBOOT_MAGIC2	672274793UL
#define REBOOT_POWER_OFF 0x4321fedcUL

static long syscall3(long nr, long a, long b, long c)
{
	long ret;

	asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c)
		     : "rcx", "r11", "memory");
	return ret;
}

static long syscall4(long nr, long a, long b, long c, long d)
{
	register long r10 asm("r10") = d;
	long ret;

	asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
		     : "rcx", "r11", "memory");
	return ret;
}

void _start(void);

__attribute__((noreturn)) void _start(void)
{
	static const char mark = 'K';
	long fd = syscall3(SYS_open, (long)"/dev/port", O_WRONLY, 0);

	if (fd >= 0)
		syscall4(SYS_pwrite64, fd, (long)&mark, 1, MARK_PORT);
	for (;;)
		syscall4(SYS_reboot, REBOOT_MAGIC1, REBOOT_MAGIC2, REBOOT_POWER_OFF, 0);
}
