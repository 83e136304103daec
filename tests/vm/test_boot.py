"""Issue 7: the image boots to the station under SeaBIOS and OVMF, from -kernel and from the
USB stick image, with the eight-disk rack attached, and protects its own boot stick."""

from __future__ import annotations

import json
import re

import pytest

from tests.vm.machine import Boot, Image, Machine
from tests.vm.rack import Disk, Rack, small_rack

pytestmark = pytest.mark.vm

#: up to the line's end: a line half written when the log is read must not match
READY = r"WIPESTATION READY (\S+) station=\S+ tty=ttyS0 uptime=([\d.]+)s ([^\r\n]*)\r?\n"
#: Generous: TCG on a shared 2-core machine (about 20-30 s when the machine is idle).
BOOT_TIMEOUT = 240


def boot_to_ready(m: Machine) -> re.Match[str]:
    match = m.wait_for_console_text(READY, BOOT_TIMEOUT)
    print(
        f"READY after {m.seconds_since_start():.1f} s wall, guest uptime {match[2]} s: {match[0]}"
    )
    return match


def test_kernel_boot_seabios_with_eight_disks(image: Image) -> None:
    with Machine(Boot.kernel(image), rack=small_rack(), name="kernel-seabios") as m:
        match = boot_to_ready(m)
        assert "no boot stick" in match[3]


def test_usb_stick_boot_seabios(image: Image) -> None:
    """BIOS boot from the stick; the stick's wipestation.toml is read (station name)."""
    toml = '[station]\nstation = "stick-configured"\n'
    boot = Boot.usb(image, stick_files={"wipestation.toml": toml})
    with Machine(boot, name="usb-seabios") as m:
        m.wait_for_console_text(r"Wipestation", 120)  # the GRUB menu on the serial console
        match = boot_to_ready(m)
        assert re.match(r"boot stick /dev/sd[a-z]+1", match[3]), match[0]
        assert "station=stick-configured" in match[0]


def test_usb_stick_boot_ovmf(image: Image) -> None:
    with Machine(Boot.usb(image, firmware="ovmf"), name="usb-ovmf") as m:
        match = boot_to_ready(m)
        assert re.match(r"boot stick /dev/sd[a-z]+1", match[3]), match[0]


WANTS = "/etc/systemd/system/multi-user.target.wants"
PROBE_UNIT = """[Unit]
After=systemd-udev-trigger.service
[Service]
Type=oneshot
ExecStart=/bin/sh /usr/local/bin/probe
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS2
"""

PROBE = """udevadm settle
# USB disks appear late (usb-storage delay_use): wait for the stick and the USB rack disk.
for i in $(seq 100); do
  [ -e /dev/disk/by-partuuid/{partuuid} ] && ls /dev/disk/by-id/ | grep -q USB0001 && break
  sleep 0.2
done
udevadm settle
echo PROBE-BEGIN
wipestation list --json
echo PROBE-END
systemctl is-active wipestation-shell || true
"""


def test_boot_stick_and_rack_seen_in_guest(image: Image) -> None:
    """The drive list inside the guest: all eight rack disks, and the stick named by
    wipestation.boot=PARTUUID=… is protected as the boot stick."""
    boot = Boot.kernel(
        image,
        f"wipestation.boot=PARTUUID={image.partuuid}",
        attach_stick=True,
        extra_files={
            "/etc/systemd/system/probe.service": PROBE_UNIT,
            f"{WANTS}/probe.service": "@symlink:../probe.service",
            "/usr/local/bin/probe": PROBE.format(partuuid=image.partuuid),
        },
    )
    rack = small_rack()
    with Machine(boot, rack=rack, name="protect") as m:
        out = m.wait_for_console_text(r"(?s)PROBE-BEGIN(.*)PROBE-END", 240, log="probe.log")
        drives = json.loads(out[1])
        # No wipestation.shell=1 on this boot: no root shell on tty2.
        shell = m.wait_for_console_text(r"PROBE-END\s+(\S+)", 30, log="probe.log")[1]
    assert shell == "inactive"
    by_serial = {d["serial"]: d for d in drives}
    for disk in rack.disks:
        assert disk.serial in by_serial, f"{disk.serial} missing from {sorted(by_serial)}"
        assert not by_serial[disk.serial]["protected"], by_serial[disk.serial]
    stick = by_serial["WIPESTATIONSTICK"]
    assert stick["protected"]
    assert any(f"partition UUID {image.partuuid}" in r for r in stick["protected_reasons"])


MEM_PROBE = """sleep 25  # the station screens on tty1 and ttyS0 are up by now
for i in $(seq 100); do
  [ "$(ls /dev/disk/by-id/ | grep -c '^usb-')" -ge 2 ] && break
  sleep 0.2
done
udevadm settle
echo PROBE-BEGIN
wipestation list --json | grep -c '"path": "/dev/'
grep -E 'MemTotal|MemAvailable' /proc/meminfo
systemctl is-active wipestation@tty1 wipestation@ttyS0 wipestation-shell
pgrep -c agetty || true
echo PROBE-END
"""


def rack_of_24() -> Rack:
    kinds = ["nvme"] * 8 + ["sata"] * 6 + ["scsi"] * 6 + ["virtio"] * 2 + ["usb"] * 2
    return Rack(disks=tuple(Disk(k, 8, f"{k.upper()}{i:04d}") for i, k in enumerate(kinds)))


def test_24_drives_in_1_gib(image: Image) -> None:
    """The issue's memory target: both station screens running, 24 drives, 1 GiB of RAM."""
    boot = Boot.kernel(
        image,
        "wipestation.shell=1",
        extra_files={
            "/etc/systemd/system/probe.service": PROBE_UNIT.replace(
                "After=systemd-udev-trigger.service", "After=wipestation@ttyS0.service"
            ),
            f"{WANTS}/probe.service": "@symlink:../probe.service",
            "/usr/local/bin/probe": MEM_PROBE,
        },
    )
    with Machine(boot, rack=rack_of_24(), name="mem24", memory_mib=1024) as m:
        boot_to_ready(m)
        out = m.wait_for_console_text(r"(?s)PROBE-BEGIN(.*)PROBE-END", 240, log="probe.log")
    lines = out[1].split()
    print("24-drive probe:", " ".join(lines))
    assert int(lines[0]) == 24
    available_kib = int(lines[lines.index("MemAvailable:") + 1])
    assert available_kib > 200 * 1024, f"only {available_kib // 1024} MiB available"
    assert lines[-4:] == ["active", "active", "active", "0"]  # + tty2 shell, and no getty
