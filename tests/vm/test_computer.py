"""Issue 21, VM scenario (2): computer mode on the asset itself. QEMU gives the guest the SMBIOS
of a computer (``-smbios type=1`` manufacturer/product/serial/UUID, ``type=3`` chassis), two
internal disks (NVMe, and SATA on AHCI) and one USB disk; booted with ``wipestation.mode=computer
wipestation.auto=1`` the station wipes the two internal disks by itself, never the USB disk,
writes the computer certificate to the report stick and powers off. Everything is checked from
the host after the guest is gone: both internal backing files hold no trace of the fill pattern,
the USB disk's file is byte for byte what it was, and the certificate on the stick is
schema-valid, signed by the station's published key, names the SMBIOS serial and links both
drive records by the sha256 of their files.
"""

from __future__ import annotations

import hashlib
import json

import jsonschema
import pytest
from wipestation.custody.computer_record import load_schema
from wipestation.reports import sign

from tests.vm.hostcheck import Reports, Stick, pattern_traces, published_identities
from tests.vm.machine import Boot, Image, Machine
from tests.vm.rack import PATTERN, Disk, Rack, ReportStick

pytestmark = pytest.mark.vm

SERIAL = "WS-SN-0042"
UUID = "5c1b3f0e-8d2a-4c61-9b7e-1f2a3b4c5d6e"
#: As in tests/fixtures/dmi/qemu-7.2-q35-smbios (captured in this QEMU with these options).
SMBIOS = (
    "-smbios", "type=1,manufacturer=Wipestation Test Lab,product=Asset PC 9000,version=Rev A,"
    f"serial={SERIAL},uuid={UUID},sku=SKU-77,family=Test Family",
    "-smbios", "type=3,manufacturer=Wipestation Test Lab,serial=CHS-0042",
)  # fmt: skip
NVME = Disk("nvme", 32, "INTNVME01")
SATA = Disk("sata", 32, "INTSATA01", model="Internal-SATA")
USB = Disk("usb", 16, "USBDISK01")
RACK = Rack(disks=(NVME, SATA, USB), report_stick=ReportStick())
OPTIONS = (
    "wipestation.console=ttyS0 wipestation.ui=headless wipestation.mode=computer "
    "wipestation.auto=1 wipestation.verify=full"
)
COMPUTER = (
    rf"^COMPUTER {SERIAL} (COMPLETE|INCOMPLETE) drives=(\d+) not_passed=(\S*) record=(\S+?)\r?$"
)


class Asset(Machine):
    """The guest as a computer with its own SMBIOS identity."""

    def command(self) -> list[str]:
        return [*super().command(), *SMBIOS]


def test_computer_mode_wipes_the_internal_drives_and_certifies_the_computer(image: Image):
    boot = Boot.kernel(image, f"{OPTIONS} wipestation.boot=PARTUUID={image.partuuid}",
                       attach_stick=True)  # fmt: skip
    with Asset(boot, rack=RACK, name="computer") as m:
        m.wait_for_console_text(r"WIPESTATION READY \S+ station=\S+ tty=ttyS0", 300)
        m.wait_for_console_text(r"SKIP USBDISK01 \S+ external", 300, from_start=True)
        line = m.wait_for_console_text(COMPUTER, 1500)
        done = m.wait_for_console_text(r"^DONE passed=(\d+) failed=(\d+) reports=(\d+)", 300)
        m.wait_exit(180)
        assert line.group(1, 2, 3) == ("COMPLETE", "2", ""), line[0]
        assert done.group(1, 2) == ("2", "0"), done[0]  # the two internal drives, nothing else

        for disk in (NVME, SATA):
            traces = pattern_traces(m.disk_file(disk.id))
            assert traces == 0, f"{disk.serial}: {traces} traces of the fill pattern left"
        usb = m.disk_file(USB.id).read_bytes()
        assert usb == PATTERN * (USB.size_mib * 1024 * 1024 // len(PATTERN)), "USB disk written"

        assert m.prepared.report_stick is not None
        stick = Stick(m.prepared.report_stick)
        reports = Reports.load(stick)  # drive records: schema, signature, chain
        assert sorted(reports.records) == ["INTNVME01", "INTSATA01"]
        files = stick.files()
        [cert_path] = [p for p in files if p.startswith("/computers/") and p.endswith(".json")]
        assert f"/computers/{line.group(4)}" == cert_path
        assert cert_path.removesuffix(".json") + ".pdf" in files
        body = stick.read(cert_path)
        verdict = sign.verify_bytes(body, published_identities(stick, files))
        assert verdict.ok, verdict.reason
        cert = json.loads(body)
        jsonschema.validate(cert, load_schema(), cls=jsonschema.Draft202012Validator)
        assert (cert["status"], cert["not_passed"]) == ("COMPLETE", [])
        assert cert["host"]["serial"] == SERIAL
        assert cert["host"]["uuid"] == UUID
        assert cert["host"]["manufacturer"] == "Wipestation Test Lab"
        assert cert["boot"]["secure_boot"] is False  # a SeaBIOS boot
        linked = {d["serial"]: d["json_sha256"] for d in cert["drives"]}
        on_stick = {
            s: hashlib.sha256(stick.read(reports.json_paths[s])).hexdigest()
            for s in reports.records
        }
        assert linked == on_stick
        assert all(d["result"] == "PASS" for d in cert["drives"])
