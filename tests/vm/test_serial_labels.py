"""Issue 19, identities: the serial on a record is the one on the drive's label.

QEMU gives its disks the serials a label could carry: a blank and a slash on virtio-scsi (VPD page
0x80), a leading blank on AHCI (ATA IDENTIFY, which udev's ata_id turns into ``LEAD_7_X``), a
non-ASCII letter on NVMe, and a placeholder (all ``X``) on virtio-blk. The station wipes them
unattended; from the host, each signed record and each certificate's text (pdftotext) carry the
raw serial, the sysfs and udev sources agree once udev's escaping is accounted for, the
placeholder is flagged and is not the identity, and file names on the stick stay FAT-safe.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.vm.hostcheck import Reports, result_of
from tests.vm.machine import Image, Machine
from tests.vm.rack import Disk, Rack, ReportStick
from tests.vm.test_scenarios import report_stick, results, run_to_poweroff, unattended

pytestmark = pytest.mark.vm

#: serial given to QEMU -> the serial the label shows (padding is not part of it)
SERIALS = {"AB 12/34": "AB 12/34", " LEAD 7/X": "LEAD 7/X", "ÄB 12/34": "ÄB 12/34"}
PLACEHOLDER = "XXXXXXXXXXXX"
RACK = Rack(
    disks=(
        Disk("scsi", 8, "AB 12/34", model="FakeSCSI", id="spaced-scsi"),
        Disk("sata", 8, " LEAD 7/X", model="FakeSSD-ATA", id="lead-sata"),
        Disk("nvme", 8, "ÄB 12/34", id="utf8-nvme"),
        Disk("virtio", 8, PLACEHOLDER, id="placeholder-vblk"),
    ),
    report_stick=ReportStick(),
)


def pdf_text(data: bytes, where: Path) -> str:
    where.write_bytes(data)
    out = subprocess.run(["pdftotext", str(where), "-"], capture_output=True, check=True)
    return " ".join(out.stdout.decode().split())


def test_records_and_certificates_carry_the_label_serial(image: Image, tmp_path: Path) -> None:
    with Machine(unattended(image, "overwrite-zero"), rack=RACK, name="serial-labels") as m:
        done = run_to_poweroff(m)
        assert done.groups() == ("4", "0", "4"), (done[0], m.tail())
        on_console = results(m)
        stick = report_stick(m)
        reports = Reports.load(stick)
        texts = {
            serial: pdf_text(stick.read(reports.pdf_paths[Path(path).stem][0]), tmp_path / "c.pdf")
            for serial, path in reports.json_paths.items()
        }
        files = stick.files()
    for rec in reports.records.values():
        print("serial sources:", rec["drive"]["serial_sources"])  # the guest's real values
    assert set(reports.records) == {*SERIALS.values(), PLACEHOLDER}
    assert {"AB_12/34", "LEAD_7/X", "ÄB_12/34"} <= set(on_console)  # one word per console line
    for label in SERIALS.values():
        drive = reports.records[label]["drive"]
        assert result_of(reports.records[label]) == "PASS"
        assert (drive["identity"], drive["identity_source"]) == (label, "serial"), drive
        assert drive["serial_disagreement"] == "", drive["serial_sources"]
        assert not drive["serial_placeholder"]
        assert any(s["source"].startswith("sysfs ") for s in drive["serial_sources"]), drive
        assert label in texts[label], texts[label][:400]
    ata = reports.records["LEAD 7/X"]["drive"]["serial_sources"]
    assert {"source": "udev ID_SERIAL_SHORT", "value": "LEAD_7_X"} in ata  # udev's escape
    assert {"source": "sysfs device/vpd_pg80", "value": "LEAD 7/X"} in ata
    blank = reports.records[PLACEHOLDER]["drive"]
    assert blank["serial_placeholder"], blank
    assert blank["identity_source"] == "path", blank
    assert "placeholder serial" in texts[PLACEHOLDER]
    names = [p for p in files if p.startswith("/reports/")]
    assert names
    assert not [p for p in names if " " in p or "Ä" in p or p.count("/") != 3], names
