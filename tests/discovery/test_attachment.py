"""Which drives are inside this computer: decided from real udev records (tests/fixtures/udev).

Real machines: an NVMe drive beside a USB disk, SATA disks beside a USB card reader's LUNs, a
server's NVMe drives beside a BMC's virtual USB media, a Raspberry Pi's USB stick, PERC disks.
Where no capture of a case exists (a Thunderbolt NVMe drive, an SD card in a native reader), the
test takes a real record and adds the one attribute the kernel would add, and says so.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from wipestation.discovery import udev
from wipestation.discovery.attachment import PCI_REMOVABLE, attachment_of
from wipestation.discovery.identity import transport_of
from wipestation.discovery.inventory import drive_from_properties
from wipestation.model import Attachment, Transport

from tests.discovery.udev_dump import load

INTERNAL, EXTERNAL, UNKNOWN = Attachment.INTERNAL, Attachment.EXTERNAL, Attachment.UNKNOWN


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("nvme-wd-sn740-plus-usb-disk.txt", {"nvme0n1": INTERNAL, "sda": EXTERNAL}),
        ("nvme-micron-7300-plus-usb-kingston.txt", {"nvme0n1": INTERNAL, "sda": EXTERNAL}),
        (
            "sata-hdd-wd-plus-usb-card-reader-luns.txt",
            {"sda": INTERNAL, "sdb": INTERNAL} | {f"sd{c}": EXTERNAL for c in "cdefg"},
        ),
        ("sata-ssd-samsung-mz7lm-x4.txt", {f"sd{c}": INTERNAL for c in "abcd"}),
        ("usb-stick-kioxia-transmemory-rpi.txt", {"sda": EXTERNAL}),
        ("perc-h755n-vd-and-jbod-nvme.txt", {"sda": INTERNAL, "sdc": INTERNAL}),
        ("isw-raid-member-wd3000hlfs.txt", {"sda": INTERNAL}),
    ],
)
def test_real_machines(fixture: str, expected: dict[str, Attachment]) -> None:
    drives = {name: drive_from_properties(p) for name, p in load(fixture).items()}
    assert {name: d.attachment for name, d in drives.items()} == expected


def test_a_server_with_a_bmc_virtual_usb_disk() -> None:
    drives = load("nvme-samsung-kioxia-server-plus-bmc-virtual-usb.txt")
    seen = {name: drive_from_properties(p) for name, p in drives.items()}
    assert seen["sda"].attachment == EXTERNAL
    assert seen["sda"].attachment_why == "on a USB bridge"
    assert {seen[n].attachment for n in seen if n.startswith("nvme")} == {INTERNAL}


def test_the_why_is_kept_on_the_drive_and_in_its_json() -> None:
    nvme = drive_from_properties(load("nvme-wd-sn740-plus-usb-disk.txt")["nvme0n1"])
    assert nvme.attachment_why == "nvme on this computer's own bus"
    assert nvme.to_json()["attachment"] == "internal"


def test_nvme_below_a_thunderbolt_port_is_external() -> None:
    """A real NVMe record plus the ``removable`` attribute Linux (5.12+) gives a PCI device
    below an external-facing (Thunderbolt / USB4) port: no capture of one exists here."""
    p = load("nvme-wd-sn740-plus-usb-disk.txt")["nvme0n1"] | {PCI_REMOVABLE: "removable"}
    assert attachment_of(p, Transport.NVME) == (
        EXTERNAL,
        "behind a Thunderbolt / USB4 (external) port",
    )


def test_a_removable_medium_is_external() -> None:
    p = load("sata-ssd-samsung-mz7lm-x4.txt")["sda"] | {"sysfs:removable": "1"}
    assert attachment_of(p, Transport.SATA) == (EXTERNAL, "a removable medium")


@pytest.mark.parametrize(
    ("card", "expected"),
    [("MMC", INTERNAL), ("SD", EXTERNAL), ("SDIO", UNKNOWN), ("", UNKNOWN)],
)
def test_mmc_cards_by_their_kernel_type(card: str, expected: Attachment) -> None:
    """mmcblk on a native host: eMMC (``device/type`` MMC) is soldered in, an SD card is not."""
    p = {"DEVNAME": "/dev/mmcblk0", "sysfs:device/type": card}
    assert transport_of(p) == Transport.MMC
    assert attachment_of(p, Transport.MMC)[0] == expected


def test_an_sd_reader_on_usb_is_external_whatever_the_card() -> None:
    p = load("sata-hdd-wd-plus-usb-card-reader-luns.txt")["sdd"]
    assert attachment_of(p, transport_of(p))[0] == EXTERNAL


def test_a_bus_it_cannot_place_is_unknown() -> None:
    assert attachment_of({"DEVNAME": "/dev/xyz0"}, Transport.OTHER)[0] == UNKNOWN


def test_a_real_loop_device_is_no_drive_of_this_computer(make_loop: Callable[..., str]) -> None:
    path = make_loop()
    found = udev.disk_by_name(path.rsplit("/", 1)[-1])
    assert found is not None
    drive = drive_from_properties(found[0])
    assert (drive.attachment, drive.attachment_why) == (
        UNKNOWN,
        "a loop device (a file), not a drive",
    )


def test_wipestation_list_says_where_each_drive_sits() -> None:
    from wipestation.cli.list_cmd import format_table

    recs = load("nvme-wd-sn740-plus-usb-disk.txt")
    table = format_table([drive_from_properties(recs[n]) for n in ("nvme0n1", "sda")]).splitlines()
    assert table[0].split()[:3] == ["DEVICE", "TRANSPORT", "WHERE"]
    assert table[1].split()[:3] == ["/dev/nvme0n1", "nvme", "internal"]
    assert table[2].split()[:3] == ["/dev/sda", "usb", "external"]
