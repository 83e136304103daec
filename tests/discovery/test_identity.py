"""Identity and transport from udev properties captured on real machines and in QEMU guests."""

from __future__ import annotations

import json

import pytest
from wipestation.discovery.identity import safe_filename
from wipestation.discovery.inventory import disambiguate, drive_from_properties, is_target_node
from wipestation.model import IdentitySource, Transport

from tests.discovery.udev_dump import FIXTURES, load

QEMU = json.loads((FIXTURES / "qemu-7.2-guest.json").read_text())


def test_real_nvme_and_usb_stick_laptop() -> None:
    # HP EliteBook 835 G10 (checkbox HP_ELITEBOOK_835_13_INCH_G10): WD SN740 NVMe + USB stick.
    recs = load("nvme-wd-sn740-plus-usb-disk.txt")
    nvme, usb = drive_from_properties(recs["nvme0n1"]), drive_from_properties(recs["sda"])
    assert (nvme.transport, nvme.serial, nvme.model) == (
        Transport.NVME,
        "225051442012",
        "WD PC SN740 SDDQNQD-256G-1006",
    )
    assert nvme.wwn == "eui.e8238fa6bf530001001b444a48b7d52c"
    assert nvme.identity_source == IdentitySource.SERIAL
    assert usb.transport == Transport.USB
    assert usb.model == "USB DISK 3.0"  # decoded from ID_MODEL_ENC, padding stripped
    assert usb.usb_id == "13fe:6700"


def test_real_sata_ssds_are_sata_with_their_serials() -> None:
    # NVIDIA DGX Station (checkbox NVIDIA_DGX_STATION): 4x Samsung MZ7LM SATA SSDs.
    drives = [drive_from_properties(r) for r in load("sata-ssd-samsung-mz7lm-x4.txt").values()]
    assert len(drives) == 4
    assert {d.transport for d in drives} == {Transport.SATA}
    assert len({d.serial for d in drives}) == 4
    assert all(d.model.startswith("SAMSUNG MZ7LM") for d in drives)


def test_card_reader_luns_sharing_a_serial_are_disambiguated_and_flagged() -> None:
    # Dell Vostro 270 (checkbox DELL_VOSTRO_270): a multi-LUN USB card reader, one serial.
    recs = load("sata-hdd-wd-plus-usb-card-reader-luns.txt")
    drives = disambiguate([drive_from_properties(r) for r in recs.values()])
    readers = [d for d in drives if d.serial == "058F63626420"]
    assert len(readers) == 4
    assert all(d.identity_duplicate for d in readers)
    assert len({d.identity for d in readers}) == 4
    hdds = [d for d in drives if d.transport == Transport.SATA]
    assert [d.identity_duplicate for d in hdds] == [False, False]


def test_server_nvme_and_bmc_virtual_usb() -> None:
    # Samsung + KIOXIA server (checkbox DISK_SAMSUNG_KIOXIA), BMC virtual SD card over USB.
    recs = load("nvme-samsung-kioxia-server-plus-bmc-virtual-usb.txt")
    drives = [drive_from_properties(r) for r in recs.values()]
    by_transport = {d.transport for d in drives}
    assert Transport.NVME in by_transport
    assert Transport.USB in by_transport
    assert any(d.serial == "AAAABBBBCCCC3" and d.transport == Transport.USB for d in drives)


@pytest.mark.parametrize(
    ("case", "transport", "serial", "source"),
    [
        ("nvme", Transport.NVME, "NVME0001", IdentitySource.SERIAL),
        ("sata", Transport.SATA, "SATA0001", IdentitySource.SERIAL),
        # With a WWN, QEMU's scsi-hd puts the WWN in ID_SERIAL_SHORT: the real serial wins.
        ("scsi_with_wwn", Transport.SCSI, "VSCSI0001", IdentitySource.SERIAL),
        ("scsi_megasas", Transport.SCSI, "MEGA0001", IdentitySource.SERIAL),
        # virtio-blk sets no ID_SERIAL_SHORT.
        ("virtio", Transport.VIRTIO, "VBLK0001", IdentitySource.SERIAL),
        ("usb", Transport.USB, "USB0001", IdentitySource.SERIAL),
        ("scsi_debug", Transport.SCSI, "18000", IdentitySource.SERIAL),
    ],
)
def test_qemu_guest_devices(case: str, transport: Transport, serial: str, source) -> None:
    d = drive_from_properties(QEMU[case])
    assert (d.transport, d.serial, d.identity, d.identity_source) == (
        transport,
        serial,
        serial,
        source,
    )


def test_no_serial_falls_back_to_wwn_then_path() -> None:
    p = dict(QEMU["sata"], ID_SERIAL_SHORT="", ID_SERIAL="")
    assert drive_from_properties(p).identity_source == IdentitySource.WWN
    p["ID_WWN"] = ""
    d = drive_from_properties(p)
    assert d.identity_source == IdentitySource.PATH
    assert "pci-0000:00:05.0-ata-1.0" in d.identity


@pytest.mark.parametrize(
    "serial", ["WD-WCATR 9570872", "A/B/../../etc", "../../x", "Ünïcødé序列", " ", "a" * 300]
)
def test_safe_filename_is_safe_and_distinct(serial: str) -> None:
    name = safe_filename(serial)
    assert name
    assert len(name) <= 100
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in name)
    assert not name.startswith(".")
    assert safe_filename(serial + "x") != name


def test_non_targets_are_not_listed() -> None:
    for name in ("ram0", "zram0", "sr0", "dm-0", "md127", "fd0", "mmcblk0boot0"):
        assert not is_target_node({"DEVNAME": f"/dev/{name}", "sysfs:size": "1000"}), name
    assert not is_target_node({"DEVNAME": "/dev/loop3", "sysfs:size": "0"})  # detached loop
    assert not is_target_node({"DEVNAME": "/dev/sdz", "ID_CDROM": "1", "sysfs:size": "8"})
    assert is_target_node({"DEVNAME": "/dev/sda", "sysfs:size": "2048"})
