"""Issue 21: the stick boots with UEFI Secure Boot enforced, through Debian's signed chain.

Debian's Secure Boot OVMF (``OVMF_CODE_4M.secboot.fd``, Microsoft's keys enrolled in a copy of
``OVMF_VARS_4M.ms.fd``, q35 with SMM) boots the stick: shim (Microsoft UEFI CA) → Debian's
signed GRUB → Debian's signed kernel, which runs locked down. A probe run before the station
checks what the station needs under lockdown (signed modules loaded on demand, the RTC alarm,
SG_IO and NVMe admin passthrough, SMBIOS), then the station wipes one disk unattended and its
record, read from the report stick on the host, says ``boot.secure_boot: true``. The negative
control: the same firmware refuses a stick whose ``BOOTX64.EFI`` is an unsigned GRUB.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.vm import cpio
from tests.vm.hostcheck import Reports, Stick, pattern_traces, result_of
from tests.vm.machine import Boot, Image, Machine
from tests.vm.rack import Disk, Rack, ReportStick
from tests.vm.test_scenarios import STICK_TOML  # the protection scenario's unattended stick

pytestmark = pytest.mark.vm

READY = r"WIPESTATION READY \S+ station=\S+ tty=ttyS0 uptime=([\d.]+)s ([^\r\n]*)\r?\n"
#: Generous: TCG on a shared 2-core machine; SMM and a 69 MiB initrd read through the emulated
#: USB stick by GRUB make this the slowest boot (about 60 s when the machine is idle).
BOOT_TIMEOUT = 600
#: Runs before the station (which waits for it): what the station relies on, under lockdown.
PROBE_UNIT = """[Unit]
DefaultDependencies=no
After=systemd-udev-trigger.service sys-firmware-efi-efivars.mount
Before=wipestation@ttyS0.service wipestation@tty1.service
[Service]
Type=oneshot
ExecStart=/bin/sh /usr/local/bin/sb-probe
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS2
"""
PROBE = r"""udevadm settle
for i in $(seq 100); do
  [ -e /dev/nvme0 ] && ls /dev/disk/by-id/ | grep -q KEEP0001 && break
  sleep 0.2
done
sata=/dev/$(ls -l /dev/disk/by-id/ | sed -n 's/.*KEEP0001 -> ..\/..\/\(sd[a-z]*\)$/\1/p' | head -1)
echo PROBE-BEGIN
echo "lockdown: $(cat /sys/kernel/security/lockdown)"
var=/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c
echo "efivar: $(od -An -tx1 $var | tr -d ' \n')"
modprobe isofs && echo "modprobe isofs: ok"
echo "isofs taint: [$(cat /sys/module/isofs/taint)]"
for m in isofs nvme vfat; do echo "signer $m: $(modinfo -F signer $m)"; done
echo "kernel taint: $(cat /proc/sys/kernel/tainted)"
rtcwake -m no -s 600 >/dev/null && echo "wakealarm set: $(cat /sys/class/rtc/rtc0/wakealarm)"
rtcwake -m disable >/dev/null && echo "wakealarm cleared: [$(cat /sys/class/rtc/rtc0/wakealarm)]"
echo "power states: $(cat /sys/power/state)"
sg_inq "$sata" | grep -q 'Unit serial number: KEEP0001' && echo "SG_IO inquiry: ok"
hdparm -I "$sata" | grep -q 'Serial Number: *KEEP0001' && echo "ATA passthrough: ok"
nvme id-ctrl /dev/nvme0 | grep -q '^sn *: WIPE0001' && echo "NVMe admin passthrough: ok"
echo "dmi: $(cat /sys/class/dmi/id/sys_vendor) / $(cat /sys/class/dmi/id/product_name)"
head -c 4 /sys/firmware/dmi/tables/DMI >/dev/null && echo "DMI table: ok"
echo "dev-mem: $(dd if=/dev/mem of=/dev/null bs=1 count=1 2>&1 | grep -o 'not permitted')"
echo PROBE-END
"""
WANTS = "/etc/systemd/system/multi-user.target.wants"


def stick_with_probe(image: Image, tmp: Path) -> Image:
    """A copy of the stick whose boot/initrd.img starts with the probe's cpio (the initrd is
    not signature-checked under Secure Boot, as on a real stick)."""
    files: dict[str, str | bytes] = {
        "/etc/systemd/system/sb-probe.service": PROBE_UNIT,
        f"{WANTS}/sb-probe.service": "@symlink:../sb-probe.service",
        "/usr/local/bin/sb-probe": PROBE,
    }
    usb = tmp / "wipestation.img"
    subprocess.run(["cp", "--sparse=always", str(image.usb), str(usb)], check=True)
    shutil.copy(f"{image.usb}.partuuid", f"{usb}.partuuid")
    initrd = tmp / "initrd.img"
    mtools("mcopy", "-o", "-i", f"{usb}@@1M", "::/boot/initrd.img", str(initrd))
    initrd.write_bytes(cpio.newc(files) + initrd.read_bytes())
    mtools("mcopy", "-o", "-i", f"{usb}@@1M", str(initrd), "::/boot/initrd.img")
    return Image(image.kernel, image.initrd, usb)


def mtools(*argv: str) -> None:
    subprocess.run(argv, check=True, env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})


def probe_lines(m: Machine) -> dict[str, str]:
    out = m.wait_for_console_text(r"(?s)PROBE-BEGIN(.*)PROBE-END", BOOT_TIMEOUT, log="probe.log")
    lines = (ln.strip() for ln in out[1].splitlines())
    return dict(ln.split(": ", 1) for ln in lines if ": " in ln)


def test_stick_boots_with_secure_boot_enforced(image: Image, tmp_path: Path) -> None:
    keep, wipe = Disk("sata", 16, "KEEP0001", model="KeepMe"), Disk("nvme", 16, "WIPE0001")
    rack = Rack(disks=(keep, wipe), report_stick=ReportStick())
    stick = stick_with_probe(image, tmp_path)
    boot = Boot.usb(stick, firmware="ovmf-secboot", stick_files={"wipestation.toml": STICK_TOML})
    with Machine(boot, rack=rack, name="secureboot") as m:
        m.wait_for_console_text(r"Welcome to GRUB", BOOT_TIMEOUT)  # shim started GRUB
        probe = probe_lines(m)
        ready = m.wait_for_console_text(READY, BOOT_TIMEOUT)
        print(f"Secure Boot stick boot: READY after {m.seconds_since_start():.1f} s wall, "
              f"guest uptime {ready[1]} s (the station waited for the probe)")  # fmt: skip
        done = m.wait_for_console_text(r"^DONE passed=(\d+) failed=(\d+) reports=(\d+)", 600)
        m.wait_exit(120)
        assert done.groups() == ("1", "0", "1"), done[0]
        assert pattern_traces(m.disk_file(wipe.id)) == 0
        assert m.prepared.report_stick is not None
        record = Reports.load(Stick(m.prepared.report_stick)).check_drive(wipe)
        console = m.console_text()
    print("probe:", probe)
    assert record["boot"] == {"secure_boot": True, "detail": "firmware variable SecureBoot=1"}
    assert "Welcome to GRUB" in console
    assert "Access Denied" not in console
    assert probe["lockdown"] == "none [integrity] confidentiality"
    assert probe["efivar"] == "0600000001"  # attributes BS|RT, SecureBoot=1
    # Signed modules still load: the zstd recompression of image/slim.sh kept the signature.
    assert probe["modprobe isofs"] == "ok"
    assert probe["isofs taint"] == "[]"  # not "E" (unsigned) nor anything else
    assert int(probe["kernel taint"]) & 8192 == 0  # TAINT_UNSIGNED_MODULE ("E")
    for module in ("isofs", "nvme", "vfat"):
        assert probe[f"signer {module}"].startswith("Build time autogenerated kernel key"), probe
    assert int(probe["wakealarm set"]) > 0
    assert probe["wakealarm cleared"] == "[]"
    assert "mem" in probe["power states"].split()  # suspend to RAM (rtcwake's unfreeze) stays
    assert "disk" not in probe["power states"].split()  # hibernation is what lockdown forbids
    assert probe["SG_IO inquiry"] == probe["ATA passthrough"] == "ok"
    assert probe["NVMe admin passthrough"] == "ok"
    assert probe["dmi"] == "QEMU / Standard PC (Q35 + ICH9, 2009)"
    assert probe["DMI table"] == "ok"
    assert probe["dev-mem"] == "not permitted"  # lockdown is really in force
    assert result_of(record) == "PASS"


def unsigned_grub(dest: Path) -> Path:
    """A GRUB EFI image as mkusb.sh made before issue 21: not signed by anyone."""
    subprocess.run(
        ["grub-mkimage", "-O", "x86_64-efi", "-p", "/boot/grub", "-o", str(dest),
         "normal", "configfile", "fat", "part_msdos", "search", "echo"],
        check=True,
    )  # fmt: skip
    return dest


def test_unsigned_loader_is_refused(image: Image, tmp_path: Path) -> None:
    """The negative control: enforcement is real. The firmware refuses the stick's unsigned
    BOOTX64.EFI (EFI_SECURITY_VIOLATION, shown as Access Denied) and moves on to its next boot
    option; GRUB never starts."""
    usb = tmp_path / "wipestation.img"
    subprocess.run(["cp", "--sparse=always", str(image.usb), str(usb)], check=True)
    shutil.copy(f"{image.usb}.partuuid", f"{usb}.partuuid")
    efi = unsigned_grub(tmp_path / "unsigned.efi")
    mtools("mcopy", "-o", "-i", f"{usb}@@1M", str(efi), "::/EFI/BOOT/BOOTX64.EFI")
    boot = Boot.usb(Image(image.kernel, image.initrd, usb), firmware="ovmf-secboot")
    with Machine(boot, name="secureboot-refused") as m:
        refused = m.wait_for_console_text(
            r'BdsDxe: failed to load Boot\d+ "[^"]*USB HARDDRIVE[^"]*" from [^\r\n]*: '
            r"Access Denied",
            BOOT_TIMEOUT,
        )
        # The firmware went on to its next boot option: the stick's boot is over.
        m.wait_for_console_text(r"BdsDxe: starting Boot\d+", BOOT_TIMEOUT)
        text = m.console_text()
    print("refused:", refused[0].strip())
    assert "Welcome to GRUB" not in text
    assert not re.search(r"WIPESTATION READY", text)
