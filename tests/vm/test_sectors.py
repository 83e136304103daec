"""Issue 19, sector formats: 4Kn disks (QEMU ``logical_block_size=4096,physical_block_size=4096``)
on NVMe, virtio-scsi and virtio-blk, beside a 512-byte disk, wiped unattended with ``auto`` and
``--verify full``. Checked from the host after the guest is gone: each backing file holds no trace
of the fill pattern and reads as zeros end to end, and each signed record says the sector size
the erase ran with (4096), the whole capacity, and a full verification that passed.

QEMU emulates no 520/528-byte drive (nor does scsi_debug): that path is tested through the tool
seam on real captures (tests/policy/test_sector_format.py).
"""

from __future__ import annotations

import pytest

from tests.vm.hostcheck import Reports, all_zero, pattern_traces, result_of
from tests.vm.machine import Image, Machine
from tests.vm.rack import MIB, Disk, Rack, ReportStick
from tests.vm.test_scenarios import report_stick, results, run_to_poweroff, unattended

pytestmark = pytest.mark.vm

K4 = 4096
#: 4Kn disks (one per interface) and a 512-byte disk beside them, not multiples of each other.
FOUR_KN = (
    Disk("nvme", 24, "NVME4KN1", block_size=K4),
    Disk("scsi", 20, "SCSI4KN1", model="Fake4Kn", block_size=K4),
    Disk("virtio", 18, "VBLK4KN1", block_size=K4),
)
LEGACY = Disk("virtio", 16, "VBLK0512")
RACK = Rack(disks=(*FOUR_KN, LEGACY), report_stick=ReportStick())


def test_4kn_disks_are_erased_verified_and_recorded_with_their_sector_size(image: Image) -> None:
    with Machine(unattended(image, "auto"), rack=RACK, name="sectors-4kn") as m:
        done = run_to_poweroff(m)
        n = str(len(RACK.disks))
        assert done.groups() == (n, "0", n), (done[0], m.tail())
        for disk in RACK.disks:
            path = m.disk_file(disk.id)
            assert pattern_traces(path) == 0, f"{disk.serial}: fill pattern left on the host file"
            assert all_zero(path), f"{disk.serial} does not read as zeros on the host"
        on_console = results(m)
        reports = Reports.load(report_stick(m))
        # check_drive reads each PDF from the stick image: while the work directory exists
        records = {d.serial: reports.check_drive(d) for d in RACK.disks}
    assert {s: r[0] for s, r in on_console.items()} == {d.serial: "PASS" for d in RACK.disks}
    for disk in RACK.disks:
        rec = records[disk.serial]  # schema, signature, capacity = the whole disk
        assert result_of(rec) == "PASS", rec["result"]
        size = disk.block_size or 512
        drive = rec["drive"]
        assert (drive["logical_block_size"], drive["physical_block_size"]) == (size, size), drive
        ver = rec["verification"]
        assert ver["mode"] == "full", ver
        assert ver["passed"], ver
        assert ver["bytes_checked"] == ver["bytes_total"] == disk.size_mib * MIB, ver
        assert all(s["ok"] for s in rec["steps"]), rec["steps"]
