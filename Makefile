# SPDX-License-Identifier: GPL-2.0
#
# kvm-coalesced-pio: coalesced PIO for KVM as a Rust module.
#
# usage:
#   make run                set up, build, boot the test VM, run the main job
#   make check              set up, build, boot the test VM, run the tests
#   make check T=a,b        run only the named tests (make list-tests)
#   make check-pristine     the selftests against the unpatched tree, whose
#                           KVM has upstream's C coalesced PIO [T=a,b]
#   make check-qemu         build QEMU patched for exact-width zones
#                           (tools/qemu/) and run QEMU as the VMM, Debian's
#                           and the patched one, pc and q35 [T=a,b]
#   make list-tests         the tests (tools/tests.list)
#   make shell              boot the test VM to a shell
#   make modules KDIR=...   build kvm_coalesced_pio.ko against a kernel tree
#                           (its O= directory) that has the series applied;
#                           KMAKE_VARS="LLVM=1 ..." for that tree's toolchain
#   make kdir               build the workbench kernel, print its KDIR
#   make bench [P=..] [R=n] Rust vs upstream C vs the in-kernel floor: two
#                           kernels without debug options, -icount guests,
#                           tables, ratios, CSV and PNG (Documentation/
#                           benchmark.md); P= points, R= repetitions
#   make series-check       build the tree after each patch of the series
#                           (incremental), then make rustdoc (warning-free)
#   make matrix [C=a,b]     build-only: x86_64 KVM=m/y, RUST=n, no provider,
#                           and arm64, riscv64, loongarch64, s390 (LLVM, W=1;
#                           tools/matrix/, Documentation/build-matrix.md)
#   make mutants [M=a,b]    break the series on purpose (tools/mutants.list)
#                           and run make check's tests against each mutant
#   make setup              only install the toolchain (tools/setup.sh)
#   make test-qemu          build the test VM's QEMU (every target but bench
#                           builds it first), the fix of SVM event injection
#                           (tools/qemu-tcg/), print its path (design.md)
#   make test-tools         the workbench's own tests (tools/tests/)
#   make check-debian       prove the set-up: make check in a new Debian 12
#                           root (debootstrap; as root; 30-60 minutes)
#
# The kernel build (and every other build product) lives in the cache,
# $(KCP_CACHE) (default ~/.cache/kvm-coalesced-pio), never in this tree.

TOOLS := $(CURDIR)/tools
comma := ,

# The toolchain variables every kernel make gets: by default Debian's rustc,
# the pinned bindgen and LLVM=-19 (tools/lib.sh).  For a kernel built with
# another toolchain, pass its own, e.g. KMAKE_VARS="LLVM=1".
KMAKE_VARS ?= $(shell . $(TOOLS)/versions.mk; . $(TOOLS)/lib.sh; kmake_vars)

# The workbench's scripts run make themselves (the kernel's among them),
# and must not inherit this make's command line through MAKEFLAGS: the
# kernel's Makefile would read C=, M= or T= of `make matrix C=...` or
# `make mutants M=...` as its own (C=: the checker, M=: an external module).
WB := env -u MAKEFLAGS -u MFLAGS

.DEFAULT_GOAL := help
.PHONY: help run check check-pristine check-qemu list-tests shell kdir bench modules \
	clean setup test-tools check-debian series-check matrix mutants test-qemu

help:
	@sed -n '/^# usage:/,/^#$$/{/^#$$/d;s/^# \{0,1\}//;p}' $(firstword $(MAKEFILE_LIST))

run:
	$(WB) $(TOOLS)/workbench.sh run

# Set-up, then the workbench's own tests, then the build and the guest:
# tools/workbench.sh does all of it, in that order.
check:
	$(WB) $(TOOLS)/workbench.sh check $(T)

check-pristine:
	$(WB) $(TOOLS)/workbench.sh pristine $(T)

check-qemu:
	$(WB) $(TOOLS)/workbench.sh qemu $(T)

list-tests:
	@$(TOOLS)/tests.sh list

shell:
	$(WB) $(TOOLS)/workbench.sh shell

# The KDIR alone on stdout; the build's progress on stderr.
kdir:
	@$(WB) $(TOOLS)/workbench.sh kdir

series-check:
	$(WB) $(TOOLS)/series-check.sh

matrix:
	$(WB) $(TOOLS)/matrix.sh $(subst $(comma), ,$(C))

mutants:
	$(WB) $(TOOLS)/mutants.sh $(subst $(comma), ,$(M))

bench:
	$(WB) $(TOOLS)/bench.sh $(if $(P),-p $(P)) $(if $(R),-r $(R))

test-qemu:
	@$(WB) $(TOOLS)/setup.sh --check --qemu >/dev/null 2>&1 || $(WB) $(TOOLS)/setup.sh --qemu >&2
	@$(WB) $(TOOLS)/build-qemu.sh --tcg | tail -1 | sed 's,$$,/qemu-system-x86_64,'

setup:
	$(WB) $(TOOLS)/setup.sh

# The host-side tools' own tests (recorded guest logs, the test registry).
test-tools:
	@[ -x /usr/bin/python3 ] || { echo "error: no /usr/bin/python3: run make setup (or apt-get install python3)" >&2; exit 1; }
	/usr/bin/python3 -m unittest discover -s $(TOOLS)/tests -q

check-debian:
	$(WB) $(TOOLS)/debootstrap-check.sh

ifeq ($(KDIR),)
modules:
	@kdir=$$($(WB) $(TOOLS)/workbench.sh kdir) && $(MAKE) --no-print-directory KDIR="$$kdir" modules
else
# Refuse, in one line, a tree the module cannot build against: not built,
# without the series, or built with another compiler than KMAKE_VARS names.
modules:
	@$(TOOLS)/check-kdir.sh "$(KDIR)" "$(KMAKE_VARS)"
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(KMAKE_VARS) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(KMAKE_VARS) clean
endif
