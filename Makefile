# SPDX-License-Identifier: GPL-2.0
#
# ap-rs: the two commands that matter are `make run` and `make check`; both
# install what is missing and build the cached test kernels first.
# (The kernel build itself reads ./Kbuild, not this file.)

ARCH ?= x86_64
SIM ?=

.PHONY: all run check shell s390 modules host-test kernel setup clean help soak fuzz bench

all: modules

help:
	@echo "make run     boot the test VM and show the simulated AP bus (and the demo)"
	@echo "make check   every test layer, both architectures; ends with 'N passed, N failed'"
	@echo "make shell   the test VM at a prompt, modules loaded (ARCH=x86_64|s390, SIM=spec)"
	@echo "make s390    cross-build the modules for s390x"
	@echo "make modules build the modules for ARCH into build/ARCH"
	@echo "             (KDIR=<kernel build dir>: against that kernel, into build/kdir; Documentation/lpar.rst)"
	@echo "make soak    the long isolation runs (host model: AP_RS_SOAK_OPS operations, default 10^7;"
	@echo "             then a VM: AP_RS_SOAK_VM_STEPS steps, default 10^5; AP_RS_SOAK_SEED for both;"
	@echo "             then a VM: every allocation failure and a storm of AP_RS_SOAK_STORM_S s, default 300)"
	@echo "make fuzz    libFuzzer on every parser, FUZZ_SECONDS each (default 60)"
	@echo "make bench   one x86_64 VM: sysfs writes against a no-op write, CRYCB commits per"
	@echo "             operation, queue resets; a table with goals met/missed (never fails on a goal)"

setup:
	@scripts/toolchain.sh >/dev/null

kernel: setup
	@scripts/kernel.sh $(ARCH)

# KDIR=<kernel build dir>: build against that kernel instead of the cached test kernel (an
# LPAR's own kernel: Documentation/lpar.rst); the modules go to build/kdir/.
modules:
ifdef KDIR
	$(MAKE) -C $(KDIR) M=$(CURDIR) MO=$(CURDIR)/build/kdir modules
else
	@scripts/modules.sh $(ARCH)
endif

s390:
	@scripts/modules.sh s390

run:
	@scripts/run.sh

check:
	@scripts/check.sh

shell:
	@tests/vm/run.sh --arch $(ARCH) --shell $(if $(SIM),--sim "$(SIM)")

host-test:
	@cargo test --workspace

soak:
	@PATH=$$HOME/.cargo/bin:$$PATH cargo test --release -p vfio_ap --test isolation -- \
		--ignored --nocapture soak 2>&1 | grep -E '^isolation soak|panicked|FAILED|test result'
	@scripts/soak_vm.sh
	@scripts/soak_faults.sh


fuzz:
	@scripts/fuzz.sh

bench:
	@scripts/bench.sh

clean:
	rm -rf build target
