"""Issue 19, mmcblk devices: an SD card on QEMU's sdhci-pci (a native SDHCI card is ``mmcblk*``,
not ``sd*``) is listed, probed from sysfs without any ``mmc`` command (an SD card has no EXT_CSD),
planned as discard + verified overwrite, and erased. Checked from the host after the guest is
gone: the card's backing file is zero from end to end and the signed record names the method.
QEMU 7.2 emulates no eMMC; the eMMC paths are tested through the tool seam (tests/policy).
"""

from __future__ import annotations

import pytest

from tests.vm.conftest import build_dir
from tests.vm.hostcheck import Reports, all_zero, pattern_traces, result_of
from tests.vm.machine import Image, Machine
from tests.vm.rack import Disk, Rack, ReportStick
from tests.vm.test_scenarios import report_stick, run_to_poweroff, unattended

pytestmark = pytest.mark.vm


def test_the_image_carries_the_mmc_binary(image: Image) -> None:
    files = (build_dir() / "base" / "current" / "base.files").read_text().split()
    assert "./usr/bin/mmc" in files
    assert not [f for f in files if "mmc-utils" in f and "/doc/" not in f and "copyright" not in f]


def test_sd_card_on_sdhci_is_discarded_then_overwritten_and_recorded(image: Image) -> None:
    card = Disk("sd", 16, "SDCARD01")  # a power of 2, as QEMU's sd-card demands
    rack = Rack(disks=(card,), report_stick=ReportStick())
    with Machine(unattended(image, "auto"), rack=rack, name="mmc-sd") as m:
        done = run_to_poweroff(m)
        assert done.groups() == ("1", "0", "1"), (done[0], m.tail())
        path = m.disk_file(card.id)
        assert pattern_traces(path) == 0, "fill pattern left on the card"
        assert all_zero(path), "the card does not read as zeros"
        reports = Reports.load(report_stick(m))
    (rec,) = reports.records.values()
    assert result_of(rec) == "PASS", rec["result"]
    drive = rec["drive"]
    assert drive["transport"] == "mmc", drive
    assert drive["capacity_bytes"] == 16 * 1024 * 1024, drive
    assert drive["model"], drive  # udev's ID_NAME: the card's CID product name
    san = rec["sanitization"]
    assert (san["method"], san["executed"], san["level"]) == (
        "auto",
        "mmc-discard-overwrite",
        "clear",
    ), san
    assert san["fallbacks"] == [], san
    assert any("interface sd" in line for line in san["decision"]), san["decision"]
    assert any(line.startswith("chose mmc-discard-overwrite") for line in san["decision"]), san
    discard, *passes = rec["steps"]
    assert (discard["kind"], discard["name"], discard["ok"]) == ("ioctl", "BLKDISCARD", True)
    assert [p["kind"] for p in passes] == ["overwrite", "overwrite"], passes
    assert rec["verification"]["observed_class"] == "zeros", rec["verification"]
    # An SD card is never sent an eMMC command, and it has no boot partitions or RPMB to report.
    notes = "\n".join(rec["notes"])
    print(f"[mmc-sd] drive {drive['model']!r} {drive['serial']!r}; notes:\n{notes}")
    assert "SD card: CSD structure" in notes, notes
    assert "smartctl" not in notes, notes  # MMC has no SMART: not asked
    assert "mmc extcsd" not in notes, notes
    assert "boot partitions" not in notes, notes
