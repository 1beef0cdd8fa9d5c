// SPDX-License-Identifier: GPL-2.0
/*
 * The nested guest of the nested-qemu test: a multiboot (v1) kernel that
 * QEMU loads with -kernel after SeaBIOS ran.  On COM1 it reports
 *
 *   rtc YYYY-MM-DD hh:mm:ss wday W regb BB epoch E writes N [ok|bad ...]
 *   pci BB:DD.F VVVV:DDDD CCCCCC         (one line per function found)
 *   pci functions N writes N
 *   probe conf1 C conf2 C bytes N
 *   window io N rtc N pci N bytes N
 *   pm base 0xNNNN
 *   done
 *
 * where "writes" counts the OUTs to 0x70 (rtc) and OUTLs to 0xcf8 (pci)
 * this payload made, and "bytes" the byte writes to 0xcf8-0xcfb of Linux's
 * configuration mechanism probe.  Its RTC read and PCI scan (with their lines) run
 * between two marker writes to unassigned memory, MMIO exits; "window"
 * counts the port accesses between them.  Then the payload waits for a
 * byte on COM1: on 'r' it resets through the reset control register at
 * 0xcf9 (PIIX3 RCR, ICH9 RST_CNT), which QEMU must do before the payload
 * runs another instruction (with -no-reboot QEMU then exits, status 0);
 * on any other byte it powers off through the PM1a control register of
 * the PIIX4 PM (pc) or the ICH9 LPC's ACPI block (q35), ACPI S5: QEMU
 * exits with status 0.
 *
 * Every RTC field access is OUT 0x70 then IN 0x71, every config space
 * access OUTL 0xcf8 then INL 0xcfc, as real firmware and kernels do.
 */

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;

/* Entry: the multiboot header, a stack, then main(). */
__asm__(".section .multiboot, \"a\"\n"
	".balign 4\n"
	".long 0x1badb002, 0, -0x1badb002\n"
	".text\n"
	".globl _start\n"
	"_start:\n"
	"	cli\n"
	"	mov $stack_top, %esp\n"
	"	call main\n"
	"1:	hlt\n"
	"	jmp 1b\n");

static u8 stack[8192] __attribute__((aligned(16), used));
__asm__(".globl stack_top\n"
	".set stack_top, stack + 8192\n");

/* Port accesses made: every one reaches QEMU (no in-kernel device here). */
static u32 io_count;

static inline void outb(u16 port, u8 v)
{
	io_count++;
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(u16 port, u16 v)
{
	io_count++;
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(u16 port, u32 v)
{
	io_count++;
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 v;

	io_count++;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u32 inl(u16 port)
{
	u32 v;

	io_count++;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

#define COM1 0x3f8

static void ser_putc(char c)
{
	/* QEMU's 16550 never drops a byte written to THR: no LSR polling. */
	outb(COM1, c);
}

static void ser_puts(const char *s)
{
	while (*s)
		ser_putc(*s++);
}

static void ser_putdec(u32 v, int width)
{
	char buf[10];
	int n = 0;

	do {
		buf[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (width-- > n)
		ser_putc('0');
	while (n)
		ser_putc(buf[--n]);
}

static void ser_puthex(u32 v, int digits)
{
	while (digits--)
		ser_putc("0123456789abcdef"[(v >> (4 * digits)) & 0xf]);
}

/* ---- RTC ---- */

static u32 rtc_writes;

static u8 cmos(u8 reg)
{
	rtc_writes++;
	/* Bit 7 of the index masks NMIs, as SeaBIOS and Linux keep it. */
	outb(0x70, reg | 0x80);
	return inb(0x71);
}

struct rtc {
	u8 sec, min, hour, wday, day, mon, year, century, regb;
};

static void rtc_read(struct rtc *t)
{
	while (cmos(0x0a) & 0x80)	/* update in progress */
		;
	t->sec = cmos(0x00);
	t->min = cmos(0x02);
	t->hour = cmos(0x04);
	t->wday = cmos(0x06);
	t->day = cmos(0x07);
	t->mon = cmos(0x08);
	t->year = cmos(0x09);
	t->century = cmos(0x32);
	t->regb = cmos(0x0b);
}

static int rtc_equal(const struct rtc *a, const struct rtc *b)
{
	return a->sec == b->sec && a->min == b->min && a->hour == b->hour &&
	       a->wday == b->wday && a->day == b->day && a->mon == b->mon &&
	       a->year == b->year && a->century == b->century &&
	       a->regb == b->regb;
}

static u8 bcd(u8 v)
{
	return (v >> 4) * 10 + (v & 0xf);
}

static int bcd_valid(u8 v)
{
	return (v & 0xf) < 10 && (v >> 4) < 10;
}

static int leap(u32 y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static u32 month_days(u32 y, u32 m)
{
	static const u8 days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return days[m - 1] + (m == 2 && leap(y));
}

/* Days since 1970-01-01 of a valid date (y >= 1970). */
static u32 days_since_epoch(u32 y, u32 m, u32 d)
{
	u32 days = d - 1, i;

	for (i = 1970; i < y; i++)
		days += 365 + leap(i);
	for (i = 1; i < m; i++)
		days += month_days(y, i);
	return days;
}

/* Reads the clock; returns NULL if it is valid, else what is wrong. */
static const char *rtc_check(void)
{
	struct rtc a, b;
	u32 sec, min, hour, day, mon, year, century, days, tries = 0;
	const char *bad = 0;
	int pm = 0;

	/* Two identical reads in a row: no update happened in between. */
	rtc_read(&b);
	do {
		a = b;
		rtc_read(&b);
		if (++tries == 10)
			return "no two equal reads";
	} while (!rtc_equal(&a, &b));

	if (!(a.regb & 0x02)) {		/* 12-hour mode: bit 7 is PM */
		pm = a.hour & 0x80;
		a.hour &= 0x7f;
	}
	if (!(a.regb & 0x04)) {		/* BCD */
		if (!bcd_valid(a.sec) || !bcd_valid(a.min) ||
		    !bcd_valid(a.hour) || !bcd_valid(a.day) ||
		    !bcd_valid(a.mon) || !bcd_valid(a.year) ||
		    !bcd_valid(a.century) || !bcd_valid(a.wday))
			bad = "bad bcd";
		a.sec = bcd(a.sec);
		a.min = bcd(a.min);
		a.hour = bcd(a.hour);
		a.wday = bcd(a.wday);
		a.day = bcd(a.day);
		a.mon = bcd(a.mon);
		a.year = bcd(a.year);
		a.century = bcd(a.century);
	}
	if (!(a.regb & 0x02)) {
		if (a.hour < 1 || a.hour > 12)
			bad = "hour out of range";
		a.hour = a.hour % 12 + (pm ? 12 : 0);
	}
	sec = a.sec;
	min = a.min;
	hour = a.hour;
	day = a.day;
	mon = a.mon;
	century = a.century;
	year = century * 100 + a.year;

	ser_puts("rtc ");
	ser_putdec(year, 4);
	ser_putc('-');
	ser_putdec(mon, 2);
	ser_putc('-');
	ser_putdec(day, 2);
	ser_putc(' ');
	ser_putdec(hour, 2);
	ser_putc(':');
	ser_putdec(min, 2);
	ser_putc(':');
	ser_putdec(sec, 2);
	ser_puts(" wday ");
	ser_putdec(a.wday, 1);
	ser_puts(" regb ");
	ser_puthex(a.regb, 2);

	if (sec > 59 || min > 59 || hour > 23)
		bad = "time out of range";
	if (mon < 1 || mon > 12 || a.year > 99)
		return bad ? bad : "date out of range";
	if (century < 20 || century > 21)
		return bad ? bad : "century out of range";
	if (day < 1 || day > month_days(year, mon))
		return bad ? bad : "day out of range";
	days = days_since_epoch(year, mon, day);
	/* 1970-01-01 was a Thursday; the RTC counts Sunday as 1. */
	if (a.wday != (days + 4) % 7 + 1)
		bad = "weekday does not match the date";
	ser_puts(" epoch ");
	ser_putdec(days * 86400 + hour * 3600 + min * 60 + sec, 1);
	return bad;
}

/* ---- PCI ---- */

static u32 pci_writes;

static u32 pci_read(u32 bus, u32 dev, u32 fn, u32 reg)
{
	pci_writes++;
	outl(0xcf8, 0x80000000 | bus << 16 | dev << 11 | fn << 8 | reg);
	return inl(0xcfc);
}

/*
 * Scans bus 0, every device and function; returns the ACPI PM I/O base,
 * read from the PIIX4 PM (pc) or the ICH9 LPC bridge (q35).
 */
static u32 pci_scan(void)
{
	u32 dev, fn, id, class, found = 0, pmbase = 0;

	for (dev = 0; dev < 32; dev++) {
		for (fn = 0; fn < 8; fn++) {
			id = pci_read(0, dev, fn, 0x00);
			if ((id & 0xffff) == 0xffff)
				continue;
			class = pci_read(0, dev, fn, 0x08) >> 8;
			found++;
			ser_puts("pci 00:");
			ser_puthex(dev, 2);
			ser_putc('.');
			ser_putdec(fn, 1);
			ser_putc(' ');
			ser_puthex(id & 0xffff, 4);
			ser_putc(':');
			ser_puthex(id >> 16, 4);
			ser_putc(' ');
			ser_puthex(class, 6);
			ser_putc('\n');
			/* PIIX4 PM: PMBA at 0x40, enabled by PMREGMISC bit 0. */
			if (id == 0x71138086 &&
			    (pci_read(0, dev, fn, 0x80) & 1))
				pmbase = pci_read(0, dev, fn, 0x40) & 0xffc0;
			/* ICH9 LPC: PMBASE at 0x40, enabled by ACPI_CNTL bit 7. */
			if (id == 0x29188086 &&
			    (pci_read(0, dev, fn, 0x44) & 0x80))
				pmbase = pci_read(0, dev, fn, 0x40) & 0xff80;
		}
	}
	ser_puts("pci functions ");
	ser_putdec(found, 1);
	ser_puts(" writes ");
	ser_putdec(pci_writes, 1);
	ser_putc('\n');
	return pmbase;
}

/*
 * Linux's probe for PCI configuration mechanisms 1 and 2, as
 * pci_check_type1() and pci_check_type2() in arch/x86/pci/direct.c do it at
 * boot: byte writes to 0xcfb, 0xcf8 and 0xcfa, which QEMU's coalesced zones
 * around 0xcf9 hold, and OUTLs to 0xcf8, which they do not.  QEMU's i440FX
 * passes the mechanism 1 check; what the mechanism 2 check reads depends on
 * how QEMU widens byte accesses, and must only be the same in both runs.
 */
static u32 probe_bytes;

static void pci_probe(void)
{
	u32 tmp, conf1, conf2;

	outb(0xcfb, 0x01);
	tmp = inl(0xcf8);
	outl(0xcf8, 0x80000000);
	conf1 = inl(0xcf8) == 0x80000000;
	outl(0xcf8, tmp);
	pci_writes += 2;

	outb(0xcfb, 0x00);
	outb(0xcf8, 0x00);
	outb(0xcfa, 0x00);
	conf2 = inb(0xcf8) == 0x00 && inb(0xcfa) == 0x00;
	probe_bytes += 4;

	ser_puts("probe conf1 ");
	ser_putdec(conf1, 1);
	ser_puts(" conf2 ");
	ser_putdec(conf2, 1);
	ser_puts(" bytes ");
	ser_putdec(probe_bytes, 1);
	ser_putc('\n');
}

static void delay(void)
{
	volatile u32 i;

	for (i = 0; i < 200000; i++)
		;
}

/*
 * Reset through the reset control register at 0xcf9, as Linux's
 * BOOT_CF9_FORCE does: SYS_RST (bit 1) first, then SYS_RST | RST_CPU (bit
 * 2), on whose write PIIX3 and ICH9 reset the machine.  QEMU must reset
 * before this vCPU runs another instruction: every instruction after that
 * write is an OUT to port 0x80 (QEMU's "ioport80", an exit each) or the
 * jump between them, so QEMU's trace shows any that ran.  If the reset
 * never comes, the payload says so.
 */
static void reset_cf9(void)
{
	u32 i, n = 1000;

	ser_puts("reset\n");
	outb(0xcf9, 0x02);
	__asm__ volatile("outb %%al, %%dx\n"	/* 0xcf9 */
			 "1:	outb %%al, $0x80\n"
			 "	dec %%ecx\n"
			 "	jnz 1b\n"
			 : "+c"(n) : "a"(0x06), "d"(0xcf9) : "memory");
	for (i = 0; i < 100; i++)
		delay();
	ser_puts("reset failed\n");
}

/*
 * A write to unassigned memory in the PCI hole: an MMIO exit to QEMU (reason
 * KVM_EXIT_MMIO in QEMU's kvm_run_exit trace) that marks where the window
 * of the payload's work begins and ends.
 */
static void marker(void)
{
	*(volatile u32 *)0xe0000000 = 0;
}

void main(void);
void main(void)
{
	const char *bad;
	u32 pmbase, i, io;

	ser_puts("\nnested payload\n");
	marker();
	io_count = 0;
	bad = rtc_check();
	ser_puts(" writes ");
	ser_putdec(rtc_writes, 1);
	if (bad) {
		ser_puts(" bad: ");
		ser_puts(bad);
	} else {
		ser_puts(" ok");
	}
	ser_putc('\n');

	pmbase = pci_scan();
	pci_probe();
	io = io_count;
	marker();
	/* Between the markers: "io" port accesses, of them "rtc" OUTs to 0x70,
	 * "pci" OUTLs to 0xcf8 and "bytes" byte writes to 0xcf8-0xcfb. */
	ser_puts("window io ");
	ser_putdec(io, 1);
	ser_puts(" rtc ");
	ser_putdec(rtc_writes, 1);
	ser_puts(" pci ");
	ser_putdec(pci_writes, 1);
	ser_puts(" bytes ");
	ser_putdec(probe_bytes, 1);
	ser_puts("\npm base 0x");
	ser_puthex(pmbase, 4);
	ser_puts("\ndone\n");

	/* Wait for the host's byte (COM1 LSR bit 0: data ready). */
	while (!(inb(COM1 + 5) & 1))
		delay();
	if (inb(COM1) == 'r')
		reset_cf9();
	ser_puts("poweroff\n");
	if (pmbase)
		outw(pmbase + 4, 1 << 13);	/* PM1a_CNT: SLP_EN, SLP_TYP 0 */
	/* QEMU stops the vCPU soon after the request, not at once. */
	for (i = 0; i < 100; i++)
		delay();
	ser_puts("poweroff failed\n");
}
