// SPDX-License-Identifier: GPL-2.0-only
/*
 * An interrupt that KVM injects is delivered once, and never while the
 * guest has interrupts off.  Not a test of the series: a test of the
 * machine that runs KVM.  QEMU's TCG emulation of SVM (up to 10.0.2 at
 * least) delivers an EVENTINJ interrupt at VMRUN and leaves its vector in
 * cs->exception_index, so that the next exit request of the CPU loop
 * delivers it a second time, wherever the guest is by then
 * (Documentation/design.md, "Known"; tools/qemu-tcg/).
 *
 * The guest takes NR_IRQS ticks of its local APIC timer, each injected by
 * KVM through EVENTINJ, and spends half its time with interrupts off: in
 * the handler, which spins before its EOI so that the window between an
 * injection and the next #VMEXIT is long, and in cli sections of its main
 * loop.  The handler counts the interrupts that interrupted a context with
 * RFLAGS.IF clear: there must be none.
 */
#include "kvm_util.h"
#include "processor.h"
#include "apic.h"
#include "kselftest.h"

#define TIMER_VECTOR	0xe0
#define NR_IRQS		2000
#define PERIOD		1000000	/* bus clock cycles (1 GHz): 1 ms */
#define SPIN		20000	/* loop passes in the handler and per section */
#define TDCR_DIV_1	0xb	/* the timer counts the bus clock undivided */

static u64 irqs;
static u64 irqs_masked;

static void spin(void)
{
	int i;

	/* no exit to KVM: a loop the compiler keeps, nothing else */
	for (i = 0; i < SPIN; i++)
		barrier();
}

static void timer_handler(struct ex_regs *regs)
{
	WRITE_ONCE(irqs, irqs + 1);
	if (!(regs->rflags & X86_EFLAGS_IF))
		WRITE_ONCE(irqs_masked, irqs_masked + 1);
	spin();
	x2apic_write_reg(APIC_EOI, 0);
}

static void guest_code(void)
{
	x2apic_enable();
	x2apic_write_reg(APIC_TDCR, TDCR_DIV_1);
	x2apic_write_reg(APIC_LVTT, APIC_LVT_TIMER_PERIODIC | TIMER_VECTOR);
	x2apic_write_reg(APIC_TMICT, PERIOD);
	while (READ_ONCE(irqs) < NR_IRQS) {
		sti();
		spin();
		cli();
		spin();
	}
	x2apic_write_reg(APIC_TMICT, 0);
	GUEST_DONE();
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	u64 n, masked;

	TEST_REQUIRE(kvm_cpu_has(X86_FEATURE_X2APIC));
	ksft_print_header();
	ksft_set_plan(1);

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	vm_install_exception_handler(vm, TIMER_VECTOR, timer_handler);

	for (;;) {
		vcpu_run(vcpu);
		TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_DONE:
			goto done;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
		default:
			TEST_FAIL("unexpected ucall %lu", uc.cmd);
		}
	}
done:
	sync_global_from_guest(vm, irqs);
	sync_global_from_guest(vm, irqs_masked);
	n = irqs;
	masked = irqs_masked;
	ksft_print_msg("%lu timer interrupts injected, %lu of them delivered with IF=0\n",
		       n, masked);
	ksft_test_result(masked == 0, "no interrupt delivered twice or with IF=0\n");
	kvm_vm_free(vm);
	ksft_finished();
}
