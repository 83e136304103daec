# Wipestation — every target works on a fresh clone of a Debian/Ubuntu machine, as root.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
PYTEST    := $(PY) -m pytest
RUFF      := $(VENV)/bin/ruff
ACCEL     ?= tcg
BUILD     := build

# Debian packages the project needs on the host (tools the app drives, the image build, QEMU).
# dnsmasq-base: dnsmasq's binary without its service, for `dnsmasq --test` of build/netboot's config.
# ipxe-qemu: the NICs' PXE ROMs (iPXE) the network-boot VM test boots from (tests/vm/test_pxe.py).
APT_PACKAGES := util-linux udev kmod hdparm nvme-cli sg3-utils smartmontools e2fsprogs \
	dosfstools mtools fdisk python3 python3-venv python3-dev gcc \
	qemu-system-x86 qemu-utils ovmf mmdebstrap zstd lz4 cpio xz-utils debian-archive-keyring \
	grub-pc-bin grub-efi-amd64-bin grub-common poppler-utils nwipe socat \
	fonts-dejavu-core fonts-droid-fallback fusefat genimage swtpm tpm2-tools mmc-utils \
	dnsmasq-base ipxe-qemu

.PHONY: help deps apt venv tools check lint typecheck format test bench bench-boot bench-keys image netboot demo usb snapshot-update clean \
	buildroot-check buildroot-image

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

deps: apt venv tools  ## install apt packages, the pinned .venv and the test tools (idempotent)

apt:  ## install missing Debian packages (root)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "apt: installing $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# chronyd: the real NTP server the clock tests ask (tests/timesync). Unpacked from its .deb, never
# installed: the package conflicts with systemd-timesyncd (apt would remove it) and its postinst
# starts a service that sets this machine's clock. The tests run it with -x (clock left alone).
CHRONYD := $(BUILD)/tools/chrony/usr/sbin/chronyd
tools: $(CHRONYD)  ## unpack test-only binaries (chronyd) into build/tools, nothing installed

$(CHRONYD):
	mkdir -p $(BUILD)/tools && cd $(BUILD)/tools && rm -rf chrony chrony_*.deb && \
	{ apt-get download -q chrony 2>/dev/null || { apt-get update -qq && apt-get download -q chrony; }; } && \
	dpkg-deb -x chrony_*.deb chrony && rm -f chrony_*.deb

venv: $(VENV)/.stamp  ## create .venv with pinned dependencies and the package (editable)

$(VENV)/.stamp: pyproject.toml requirements.lock requirements-dev.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.lock -r requirements-dev.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $@

lint: venv  ## ruff lint + format check
	$(RUFF) check .
	$(RUFF) format --check .

typecheck: venv  ## mypy over app/wipestation ([tool.mypy] in pyproject.toml)
	$(PY) -m mypy

format: venv  ## apply ruff format and fixes
	$(RUFF) format .
	$(RUFF) check --fix .

check: lint typecheck  ## fast loop: lint + typecheck + everything but the VM and slow tests
	$(PYTEST) -m "not vm and not slow" -q

test: deps  ## everything: lint, typecheck, unit, TUI, loop-device and VM tests (builds the image)
	$(MAKE) lint
	$(MAKE) typecheck
	$(MAKE) image
	$(PYTEST) -q

bench: deps  ## throughput ratios against dd and nwipe on loop devices (prints, never asserts)
	$(PY) bench/bench.py
	$(PY) bench/fixedcost.py
	@echo "boot times: make bench-boot (QEMU, ~5 min)"

bench-boot: deps image  ## power-on to station screen under QEMU, 8-disk rack (prints, never asserts)
	$(PY) bench/boottime.py

bench-keys: deps image  ## the screen's key echo in the 48-disk VM, by phase of the wipes (~8 min; prints)
	$(PY) bench/vm_keys.py

snapshot-update: venv  ## re-record the TUI snapshot tests
	$(PYTEST) tests/tui --snapshot-update -q

image: deps  ## build/wipestation.img + kernel/initramfs layers (rebuilds only what changed)
	@if [ -x image/build.sh ]; then image/build.sh $(BUILD); else echo "image/build.sh not present yet"; fi

netboot:  ## build/netboot/: make image's kernel + initrd, an iPXE script, dnsmasq/HTTP examples (no root)
	python3 netboot/netboot.py --build $(BUILD) $(NETBOOT_ARGS)

demo: image  ## boot the image in QEMU with a virtual rack; the TUI appears here
	$(PY) -m tests.vm.demo --accel $(ACCEL) --build $(BUILD)

usb: image  ## write the image to a real stick: make usb DEV=/dev/sdX
	$(PY) -m wipestation.usbwrite $(BUILD)/wipestation.img $(DEV)

clean:  ## remove build outputs (keeps the cached base layer unless CLEAN_BASE=1)
	rm -rf $(BUILD)/demo $(BUILD)/app $(BUILD)/*.img
	[ "$(CLEAN_BASE)" != 1 ] || rm -rf $(BUILD)

# --- Buildroot (from-source image; buildroot-config/ is a BR2_EXTERNAL tree) ---
BUILDROOT ?=
BR_OUT    := $(BUILD)/buildroot

buildroot-check:  ## validate buildroot-config/ offline: make buildroot-check BUILDROOT=/path/to/buildroot
	@test -n "$(BUILDROOT)" || { echo "usage: make buildroot-check BUILDROOT=/path/to/buildroot"; exit 2; }
	buildroot-config/check.sh "$(BUILDROOT)"

buildroot-image:  ## from-source image (downloads sources, hours): make buildroot-image BUILDROOT=/path
	@test -n "$(BUILDROOT)" || { echo "usage: make buildroot-image BUILDROOT=/path/to/buildroot"; exit 2; }
	$(MAKE) -C "$(BUILDROOT)" O="$(abspath $(BR_OUT))" BR2_EXTERNAL="$(CURDIR)/buildroot-config" \
		wipestation_x86_64_defconfig
	$(MAKE) -C "$(BUILDROOT)" O="$(abspath $(BR_OUT))"
	@echo "buildroot-image: $(BR_OUT)/images/wipestation.img"
