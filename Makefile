# SPDX-License-Identifier: GPL-2.0
#
# kvm-coalesced-pio: coalesced PIO for KVM as a Rust module.
#
#   make run                set up, build, boot the test VM, run the demo
#   make check              set up, build, boot the test VM, run the tests
#   make check T=a,b        run only the named guest tests
#   make shell              boot the test VM to a shell
#   make modules KDIR=...   build kvm_coalesced_pio.ko against a kernel tree
#                           (its O= directory) that has the series applied;
#                           KMAKE_VARS="LLVM=1 ..." for that tree's toolchain
#   make kdir               build the workbench kernel, print its KDIR
#   make bench [P=..] [R=n] Rust vs upstream C vs the in-kernel floor: two
#                           kernels without debug options, -icount guests,
#                           tables, ratios, CSV and PNG (Documentation/
#                           benchmark.md); P= points, R= repetitions
#
# The kernel build (and every other build product) lives in the cache,
# $(KCP_CACHE) (default ~/.cache/kvm-coalesced-pio), never in this tree.

TOOLS := $(CURDIR)/tools

# The toolchain variables every kernel make gets: by default Debian's rustc,
# the pinned bindgen and LLVM=-19 (tools/lib.sh).  For a kernel built with
# another toolchain, pass its own, e.g. KMAKE_VARS="LLVM=1".
KMAKE_VARS ?= $(shell . $(TOOLS)/versions.mk; . $(TOOLS)/lib.sh; kmake_vars)

.PHONY: all run check shell kdir bench modules clean test-tools

all: modules

run:
	$(TOOLS)/workbench.sh run

check: test-tools
	$(TOOLS)/workbench.sh check $(T)

shell:
	$(TOOLS)/workbench.sh shell

kdir:
	@$(TOOLS)/workbench.sh kdir | tail -1

bench:
	$(TOOLS)/bench.sh $(if $(P),-p $(P)) $(if $(R),-r $(R))

# The host-side tools' own tests (recorded guest logs).
test-tools:
	python3 -m unittest discover -s $(TOOLS)/tests -q

ifeq ($(KDIR),)
modules:
	$(MAKE) KDIR=$$($(TOOLS)/workbench.sh kdir | tail -1) modules
else
modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(KMAKE_VARS) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(KMAKE_VARS) clean
endif
