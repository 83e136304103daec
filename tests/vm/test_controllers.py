"""Issue 19, disks hidden behind controllers: QEMU's MegaRAID (``megasas-gen2``) with disks behind
it.

What QEMU 7.2 presents (seen in the guest, Debian 6.1 megaraid_sas): a megasas-gen2's disks are
logical drives by default (``use_jbod=off``): SCSI channel 2 (``0:2:0:0``, ``0:2:1:0``, the
driver's logical-drive channel) with the backing disk's own INQUIRY ("QEMU HARDDISK"), so only the
channel tells them from a drive. With ``use_jbod=on`` the same disk is a JBOD (system physical)
disk on channel 0 (``1:0:0:0``). QEMU answers TEST UNIT READY on both, and SYNCHRONIZE CACHE on a
JBOD disk, with HARDWARE ERROR / internal target failure: the kernel fails the JBOD disk's cache
flush with EREMOTEIO, so no wipe of it can be proven and its job fails (its record says why).

The rack has one controller of each kind and a third with nothing behind it. The station runs
unattended with ``auto`` and is checked from the host after the guest is gone: the two volumes
were skipped (their backing files still hold the fill pattern) with the controller named and the
advice given, the empty controller was reported, and the JBOD disk behind the MegaRAID was taken
as the drive it is: started, and recorded (signed, schema-valid) naming its controller.
"""

from __future__ import annotations

import re

import pytest

from tests.vm.hostcheck import Reports, result_of
from tests.vm.machine import Image, Machine
from tests.vm.rack import Disk, Rack, ReportStick
from tests.vm.test_scenarios import (
    assert_untouched,
    report_stick,
    results,
    run_to_poweroff,
    unattended,
)

pytestmark = pytest.mark.vm

VOLUMES = (Disk("megasas", 16, "MEGA0001"), Disk("megasas", 16, "MEGA0002"))
JBOD = Disk("megasas-jbod", 16, "JBOD0001")
RACK = Rack(disks=(*VOLUMES, JBOD), report_stick=ReportStick(), empty_megasas=1, spare_ports=0)
MEGARAID = r"MegaRAID controller at [0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]"
ADVICE = "switch the controller to HBA/JBOD mode, or move the disks to a plain port"


def lines(m: Machine, head: str) -> list[str]:
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", m.console_text()).replace("\r", "")
    return [line for line in text.splitlines() if line.startswith(head)]


def test_megaraid_volumes_are_skipped_and_its_controllers_reported(image: Image) -> None:
    with Machine(unattended(image, "auto"), rack=RACK, name="controllers") as m:
        done = run_to_poweroff(m)
        for line in lines(m, "CONTROLLER") + lines(m, "SKIP") + lines(m, "RESULT"):
            print(f"[{m.name}] {line}")  # what the station said, for the record
        assert done.groups() == ("0", "1", "1"), (done[0], m.tail())  # the JBOD disk: see above
        for disk in VOLUMES:
            assert_untouched(m, disk)
        skips = lines(m, "SKIP")
        controllers = lines(m, "CONTROLLER")
        on_console = results(m)
        reports = Reports.load(report_stick(m))
        record = reports.check_drive(JBOD)  # schema, signature, PDF: while the stick exists
    for disk in VOLUMES:
        said = [s for s in skips if f" {disk.serial} " in s]  # once per udev event
        assert said, skips
        for skip in said:
            assert re.search(rf"logical volume of {MEGARAID}, not a physical drive: {ADVICE}", skip)
    volume_line = [c for c in controllers if "logical volume" in c]
    assert len(volume_line) == 1, controllers
    assert re.fullmatch(
        rf"CONTROLLER {MEGARAID}: 2 logical volume\(s\), its physical disks are hidden: {ADVICE}",
        volume_line[0],
    )
    empty = [c for c in controllers if "no disks visible" in c]
    assert len(empty) == 1, controllers
    assert re.fullmatch(rf"CONTROLLER {MEGARAID}: no disks visible: {ADVICE}", empty[0])
    assert len(controllers) == 2, controllers  # the JBOD controller hides nothing
    assert set(on_console) == {JBOD.serial}, on_console
    assert on_console[JBOD.serial][0] == "FAIL", on_console
    assert "Remote I/O error" in on_console[JBOD.serial][2], on_console  # QEMU's failed flush
    assert sorted(reports.records) == [JBOD.serial]
    assert result_of(record) == "FAIL", record["result"]
    drive = record["drive"]
    assert re.fullmatch(MEGARAID, drive["controller"]), drive
    assert (drive["presented_by"], drive["media_type"]) == ("", "ssd"), drive
    assert drive["physical_path"].endswith("-scsi-0:0:0:0"), drive  # JBOD: channel 0
