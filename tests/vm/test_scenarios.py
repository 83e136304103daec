"""Issue 8: end-to-end scenarios. The real image boots in QEMU with a virtual rack; every result
is checked from the host after the guest is gone: backing files scanned in full for the fill
pattern, sticks read with mtools, records validated against the schema and their signatures
verified with the key on the stick. Nothing the guest says about itself is taken as proof —
the console lines are only used to know when to look.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.vm.hostcheck import BOOT_FAT, Reports, Stick, pattern_traces, result_of
from tests.vm.machine import Boot, Image, Machine, file_sha256
from tests.vm.rack import Disk, Rack, ReportStick

pytestmark = pytest.mark.vm

READY = r"WIPESTATION READY \S+ station=\S+ tty=ttyS0"
BOOT_TIMEOUT = 240
HEADLESS = "wipestation.console=ttyS0 wipestation.ui=headless wipestation.auto=1"
#: A sentinel the technician's report stick already carries: it must survive byte for byte.
OLD_FILE = ("/notes.txt", b"last week's notes, not to be touched\n")
RESULT = r"^RESULT (\S+) (\S+) (PASS|FAIL) (\S+) (\S+) ?(.*)$"


def unattended(
    image: Image,
    method: str,
    *extra: str,
    poweroff: bool = True,
    stick: bool = False,
    **kw: object,
) -> Boot:
    """Kernel options for an unattended run; ``stick`` also attaches (a copy of) the boot stick,
    named on the command line as GRUB names it."""
    opts = [
        HEADLESS,
        f"wipestation.method={method}",
        "wipestation.verify=full",
        f"wipestation.poweroff={int(poweroff)}",
        *extra,
    ]
    if stick:
        opts.append(f"wipestation.boot=PARTUUID={image.partuuid}")
    return Boot.kernel(image, " ".join(opts), attach_stick=stick, **kw)  # type: ignore[arg-type]


def results(m: Machine) -> dict[str, tuple[str, str, str]]:
    """identity → (PASS/FAIL, state, reason) from the console's RESULT lines."""
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", m.console_text()).replace("\r", "")
    return {g[0]: (g[2], g[3], g[5]) for g in re.findall(RESULT, text, re.MULTILINE)}


def run_to_poweroff(m: Machine, timeout: float = 600) -> re.Match[str]:
    t0 = time.monotonic()
    m.wait_for_console_text(READY, BOOT_TIMEOUT)
    print(f"[{m.name}] READY after {m.seconds_since_start():.0f} s")
    done = m.wait_for_console_text(r"^DONE passed=(\d+) failed=(\d+) reports=(\d+)", timeout)
    m.wait_exit(120)
    print(f"[{m.name}] {done[0]!r} after {time.monotonic() - t0:.0f} s")
    return done


def assert_erased(m: Machine, disk: Disk) -> None:
    traces = pattern_traces(m.disk_file(disk.id))
    assert traces == 0, f"{disk.serial}: {traces} traces of the fill pattern left on the host file"


def assert_untouched(m: Machine, disk: Disk, size_mib: int | None = None) -> None:
    path = m.disk_file(disk.id)
    expected = (size_mib or disk.size_mib) * 1024 * 1024 // 16
    assert pattern_traces(path) == expected, f"{disk.serial} was written to"


def report_stick(m: Machine) -> Stick:
    assert m.prepared.report_stick is not None
    return Stick(m.prepared.report_stick)


def assert_only_new_report_files(stick: Stick) -> None:
    """The stick's old file is intact; everything else is the station's own (reports, its key,
    its wipe journal)."""
    files = stick.files()
    assert stick.read(OLD_FILE[0]) == OLD_FILE[1]
    own = ("/reports/", "/wipestation-keys/", "/.wipestation/")
    strays = [p for p in files if p != OLD_FILE[0] and not p.startswith(own)]
    assert not strays, f"unexpected files on the report stick: {strays}"


def assert_boot_stick_unchanged(m: Machine) -> None:
    stick = m.dir / "boot-stick.img"
    assert m.stick_sha256_before, "no boot stick was attached"
    assert file_sha256(stick) == m.stick_sha256_before, "the boot stick was modified"
    assert Stick(stick, BOOT_FAT).files(), "the boot stick's FAT is unreadable"


# ---- 1. the mixed rack, unattended --------------------------------------------------------

MIXED = Rack(
    disks=(
        Disk("nvme", 16, "NVME0001"),
        Disk("nvme", 24, "NVME0002"),
        Disk("sata", 16, "SATA0001", model="FakeSSD-ATA", wwn="0x5000c500aabbcc01"),
        Disk("sata", 20, "SATA0002", model="FakeHDD-ATA"),
        Disk("scsi", 16, "SCSI0001", model="FakeSAS", wwn="0x5000c500aabbcc03"),
        Disk("scsi", 24, "SCSI0002"),
        Disk("virtio", 20, "VBLK0001"),
        Disk("usb", 16, "USB0001"),
    ),
    report_stick=ReportStick(files=(OLD_FILE,)),
)


def test_1_mixed_rack_unattended(image: Image) -> None:
    boot = unattended(image, "overwrite-zero", stick=True)
    with Machine(boot, rack=MIXED, name="s1-mixed") as m:
        done = run_to_poweroff(m)
        assert done.groups() == (str(len(MIXED.disks)), "0", str(len(MIXED.disks))), done[0]
        for disk in MIXED.disks:
            assert_erased(m, disk)
        assert_boot_stick_unchanged(m)
        stick = report_stick(m)
        assert_only_new_report_files(stick)
        reports = Reports.load(stick)
        assert sorted(reports.records) == sorted(d.serial for d in MIXED.disks)
        for disk in MIXED.disks:
            rec = reports.check_drive(disk)
            assert result_of(rec) == "PASS", rec["result"]
            assert rec["verification"]["mode"] == "full"
            assert rec["verification"]["passed"]
        on_console = results(m)
        assert {s: r[0] for s, r in on_console.items()} == {d.serial: "PASS" for d in MIXED.disks}
