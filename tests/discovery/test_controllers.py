"""RAID logical volumes and BMC virtual media are told apart from drives (real udev captures), and
RAID-class controllers are read from a sysfs tree laid out as the kernel lays it out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from wipestation.cli.list_cmd import format_table
from wipestation.cli.probe_cmd import format_text
from wipestation.discovery import controllers
from wipestation.discovery.controllers import HOST_DRIVER, presentation
from wipestation.discovery.inventory import drive_from_properties
from wipestation.planning.capabilities import Capabilities
from wipestation.planning.medium import Medium, medium_of

from tests.discovery.udev_dump import FIXTURES, load

PERC = "perc-h755n-vd-and-jbod-nvme.txt"
LSI_IR = "lsi-ir-logical-volume.txt"


def perc(name: str, driver: str | None = "megaraid_sas") -> dict[str, str]:
    """The capture's record; ``driver``: what perccli says drives the controller (PROVENANCE)."""
    p = dict(load(PERC)[name])
    if driver is not None:
        p[HOST_DRIVER] = driver
    return p


def test_a_perc_virtual_disk_is_a_volume_of_its_megaraid_controller() -> None:
    d = drive_from_properties(perc("sda"))
    assert (d.volume, d.bmc_media) == (True, False)
    assert d.controller == "MegaRAID controller at 0000:c1:00.0"
    assert medium_of(d) == Medium.VOLUME
    why = controllers.not_a_drive(d)
    assert "logical volume of MegaRAID controller at 0000:c1:00.0" in why
    assert "HBA/JBOD mode" in why
    assert "plain port" in why


def test_a_volume_is_known_by_its_name_even_when_the_host_driver_is_unreadable() -> None:
    d = drive_from_properties(perc("sda", driver=None))
    assert d.volume
    assert d.controller == ""
    assert "a RAID controller" in controllers.not_a_drive(d)


def test_a_jbod_nvme_passed_through_a_perc_is_a_drive_behind_that_controller() -> None:
    # PERC 11 puts its JBOD drives on SCSI channel 2 (0:2:8:0), one of megaraid_sas' LD
    # channels: the drive's own vendor ("NVMe") and model say it is the drive itself.
    d = drive_from_properties(perc("sdc"))
    assert (d.volume, d.bmc_media) == (False, False)
    assert d.controller == "MegaRAID controller at 0000:01:00.0"
    assert d.serial == "S6CSNA0R902415"
    assert controllers.not_a_drive(d) == ""


def test_a_volume_on_a_logical_channel_is_a_volume_whatever_its_inquiry_says() -> None:
    # QEMU's megasas presents its logical drives with the backing disk's INQUIRY: the channel is
    # all that tells them apart (tests/vm/test_controllers.py sees it on the real kernel).
    p = perc("sdc")
    p["ID_VENDOR"], p["ID_VENDOR_ENC"], p["ID_MODEL_ENC"] = "QEMU", "QEMU", "QEMU HARDDISK"
    assert presentation(p).volume
    p["DEVPATH"] = p["DEVPATH"].replace(":2:8:0", ":0:8:0")
    assert not presentation(p).volume


def test_the_bmc_virtual_sd_card_is_bmc_media_and_nothing_else_in_the_captures_is() -> None:
    bmc_file = "nvme-samsung-kioxia-server-plus-bmc-virtual-usb.txt"
    bmc = drive_from_properties(load(bmc_file)["sda"])  # AMI "Virtual SD0", USB 046b:ff31
    assert (bmc.bmc_media, bmc.volume) == (True, False)
    assert medium_of(bmc) == Medium.BMC_MEDIA
    assert "BMC virtual media" in controllers.not_a_drive(bmc)
    others = [
        drive_from_properties(record)
        for f in sorted(FIXTURES.glob("*.txt"))
        for name, record in load(f.name).items()
        if f.name not in (PERC, LSI_IR) and (f.name, name) != (bmc_file, "sda")
    ]
    assert len(others) > 10  # NVMe, SATA, USB sticks, card-reader LUNs: all plain drives
    assert [d.name for d in others if d.volume or d.bmc_media or d.controller] == []


def test_the_host_driver_is_read_from_the_disks_scsi_host(tmp_path: Path) -> None:
    host = tmp_path / "class/scsi_host/host12"
    host.mkdir(parents=True)
    (host / "proc_name").write_text("megaraid_sas\n")
    devpath = perc("sda")["DEVPATH"]
    assert controllers.host_attrs(devpath, str(tmp_path)) == {HOST_DRIVER: "megaraid_sas"}
    assert controllers.host_attrs("/devices/virtual/block/loop0", str(tmp_path)) == {}
    assert controllers.host_attrs(devpath.replace("host12", "host9"), str(tmp_path)) == {}


# ---- a sysfs tree: /sys/bus/pci/devices links to /sys/devices, as the kernel lays it out --------


def pci(sys: Path, address: str, pci_class: str, driver: str = "") -> Path:
    real = sys / "devices/pci0000:00/0000:00:02.0" / address
    real.mkdir(parents=True)
    (real / "class").write_text(pci_class + "\n")
    if driver:
        drv = sys / "bus/pci/drivers" / driver
        drv.mkdir(parents=True, exist_ok=True)
        (real / "driver").symlink_to(os.path.relpath(drv, real))
    link = sys / "bus/pci/devices" / address
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(os.path.relpath(real, link.parent))
    return real


def scsi_disk(sys: Path, ctrl: Path, hctl: str, block: str = "") -> None:
    h, c, t, _ = hctl.split(":")
    dev = ctrl / f"host{h}" / f"target{h}:{c}:{t}" / hctl
    dev.mkdir(parents=True)
    (dev / "type").write_text("0\n")
    if block:
        (dev / "block" / block).mkdir(parents=True)
        link = sys / "class/block" / block
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(dev / "block" / block, link.parent))


def test_a_megaraid_controller_with_no_disks_is_shown(tmp_path: Path) -> None:
    pci(tmp_path, "0000:03:00.0", "0x010400", "megaraid_sas")
    pci(tmp_path, "0000:00:1f.2", "0x010601", "ahci")  # a plain SATA controller: not listed
    found = controllers.scan(str(tmp_path))
    assert [(c.address, c.driver, c.visible, c.hidden) for c in found] == [
        ("0000:03:00.0", "megaraid_sas", 0, 0)
    ]
    assert controllers.hidden_disks([], str(tmp_path)) == [
        "MegaRAID controller at 0000:03:00.0: no disks visible: switch the controller to "
        "HBA/JBOD mode, or move the disks to a plain port"
    ]


def test_a_controller_says_how_many_disks_its_volume_hides(tmp_path: Path) -> None:
    ctrl = pci(tmp_path, "0000:c1:00.0", "0x010400", "megaraid_sas")
    scsi_disk(tmp_path, ctrl, "12:3:111:0", block="sda")  # the volume
    for target in range(3):  # members the driver reports without a block device
        scsi_disk(tmp_path, ctrl, f"12:0:{target}:0")
    volume = drive_from_properties(perc("sda"))
    [c] = controllers.scan(str(tmp_path))
    assert (c.visible, c.hidden) == (1, 3)
    assert controllers.hidden_disks([volume], str(tmp_path)) == [
        "MegaRAID controller at 0000:c1:00.0: 1 logical volume(s), hides 3 disk(s): switch the "
        "controller to HBA/JBOD mode, or move the disks to a plain port"
    ]


def test_a_controller_whose_disks_are_all_drives_says_nothing(tmp_path: Path) -> None:
    ctrl = pci(tmp_path, "0000:01:00.0", "0x010400", "megaraid_sas")
    scsi_disk(tmp_path, ctrl, "0:2:8:0", block="sdc")
    jbod = drive_from_properties(perc("sdc"))
    assert controllers.hidden_disks([jbod], str(tmp_path)) == []


def test_a_raid_controller_without_a_driver_hides_everything(tmp_path: Path) -> None:
    pci(tmp_path, "0000:00:0e.0", "0x010400")  # e.g. Intel VMD with no vmd module
    assert controllers.hidden_disks([], str(tmp_path)) == [
        "RAID controller at 0000:00:0e.0: no driver loaded, the disks behind it are not visible"
    ]


def test_no_sysfs_means_no_controllers(tmp_path: Path) -> None:
    assert controllers.scan(str(tmp_path / "missing")) == []


def test_wipestation_list_says_a_volume_is_not_a_drive() -> None:
    volume, jbod = drive_from_properties(perc("sda")), drive_from_properties(perc("sdc"))
    table = format_table([volume, jbod]).splitlines()
    assert table[1].endswith(
        "NOT A DRIVE: logical volume of MegaRAID controller at 0000:c1:00.0, not a physical "
        "drive: switch the controller to HBA/JBOD mode, or move the disks to a plain port"
    )
    assert table[2].endswith("wipeable")


def test_wipestation_probe_prints_the_refusal_and_the_controllers() -> None:
    volume = drive_from_properties(perc("sda"))
    out = {
        "drive": volume.to_json(),
        "medium": str(medium_of(volume)),
        "capabilities": Capabilities(path=volume.path, transport="scsi").to_json(),
        "plan": None,
        "refused": "auto plans nothing for /dev/sda: logical volume of ...",
        "not_a_drive": controllers.not_a_drive(volume),
        "controllers": ["MegaRAID controller at 0000:03:00.0: no disks visible: ..."],
    }
    text = format_text(out).splitlines()
    assert text[0] == "/dev/sda: scsi, medium volume"
    [not_a_drive] = [t for t in text if t.startswith("  NOT A DRIVE: ")]
    assert not_a_drive.startswith("  NOT A DRIVE: logical volume of MegaRAID controller")
    assert "  CONTROLLER MegaRAID controller at 0000:03:00.0: no disks visible: ..." in text
    assert text[-1] == "  refused: auto plans nothing for /dev/sda: logical volume of ..."


def test_an_lsi_hba_is_named_only_when_it_presents_a_volume(tmp_path: Path) -> None:
    # An mpt3sas (PCI class 0x0107, SAS) in IT mode is a plain HBA; in IR mode its volumes sit
    # on RAID_CHANNEL 1 and its member disks are SCSI devices without a block device.
    ctrl = pci(tmp_path, "0000:05:00.0", "0x010700", "mpt3sas")
    empty = pci(tmp_path, "0000:06:00.0", "0x010700", "mpt3sas")
    scsi_disk(tmp_path, ctrl, "2:1:0:0", block="sdf")
    scsi_disk(tmp_path, ctrl, "2:0:0:0")
    scsi_disk(tmp_path, ctrl, "2:0:1:0")
    p = perc("sda", driver="mpt3sas")  # a volume's record, moved behind the mpt3sas
    p["DEVPATH"] = (
        "/devices/pci0000:00/0000:00:02.0/0000:05:00.0/host2/target2:1:0/2:1:0:0/block/sdf"
    )
    volume = drive_from_properties(p)
    assert volume.volume
    assert volume.controller == "LSI SAS controller at 0000:05:00.0"
    assert empty.name == "0000:06:00.0"
    assert controllers.hidden_disks([volume], str(tmp_path)) == [
        "LSI SAS controller at 0000:05:00.0: 1 logical volume(s), hides 2 disk(s): switch the "
        "controller to HBA/JBOD mode, or move the disks to a plain port"
    ]
    assert controllers.hidden_disks([], str(tmp_path)) == []  # no volume: an HBA says nothing


def test_an_lsi_integrated_raid_logical_volume_is_a_volume() -> None:
    d = drive_from_properties(load(LSI_IR)["sda"])
    assert (d.volume, d.bmc_media, d.model) == (True, False, "Logical Volume")
    assert controllers.not_a_drive(d).startswith("logical volume of a RAID controller")


# ---- Intel VMD: its own advice, not a RAID card's ------------------------------------------------


def test_an_intel_vmd_that_shows_no_disks_gets_vmds_advice(tmp_path: Path) -> None:
    pci(tmp_path, "0000:00:0e.0", "0x010400", "vmd")
    pci(tmp_path, "0000:03:00.0", "0x010400", "megaraid_sas")
    assert controllers.hidden_disks([], str(tmp_path)) == [
        "Intel VMD controller at 0000:00:0e.0: no disks visible: disable VMD (Intel Volume "
        "Management Device) in the firmware setup, or set the storage mode to AHCI; NVMe drives "
        "behind VMD are not visible to the station",
        "MegaRAID controller at 0000:03:00.0: no disks visible: switch the controller to "
        "HBA/JBOD mode, or move the disks to a plain port",
    ]


def test_a_vmd_without_its_driver_is_known_by_its_pci_id(tmp_path: Path) -> None:
    real = pci(tmp_path, "0000:00:0e.0", "0x010400")  # a Tiger Lake VMD, vmd.ko not loaded
    (real / "vendor").write_text("0x8086\n")
    (real / "device").write_text("0x9a0b\n")
    [c] = controllers.scan(str(tmp_path))
    assert (c.pci_id, c.kind, c.driver) == ("8086:9a0b", "vmd", "")
    [line] = controllers.hidden_disks([], str(tmp_path))
    assert line.startswith(
        "Intel VMD controller at 0000:00:0e.0: no driver loaded, the disks behind it are not "
        "visible: disable VMD (Intel Volume Management Device) in the firmware setup"
    )
    assert "HBA/JBOD" not in line


def test_a_vmd_whose_nvme_drives_are_visible_says_nothing(tmp_path: Path) -> None:
    vmd = pci(tmp_path, "0000:00:0e.0", "0x010400", "vmd")
    nvme = vmd / "pci10000:e0/10000:e0:06.0/10000:e1:00.0/nvme/nvme0/nvme0n1"
    nvme.mkdir(parents=True)
    link = tmp_path / "class/block/nvme0n1"
    link.parent.mkdir(parents=True)
    link.symlink_to(os.path.relpath(nvme, link.parent))
    [c] = controllers.scan(str(tmp_path))
    assert c.visible == 1
    assert controllers.hidden_disks([], str(tmp_path)) == []


# ---- wipestation list --json-object: the drives as --json has them, and the controllers ----------


def test_list_json_object_carries_the_controllers_typed_from_the_dataclass(tmp_path: Path) -> None:
    from wipestation.cli.list_cmd import document

    ctrl = pci(tmp_path, "0000:c1:00.0", "0x010400", "megaraid_sas")
    scsi_disk(tmp_path, ctrl, "12:3:111:0", block="sda")
    scsi_disk(tmp_path, ctrl, "12:0:0:0")
    pci(tmp_path, "0000:03:00.0", "0x010400", "megaraid_sas")
    volume, jbod = drive_from_properties(perc("sda")), drive_from_properties(perc("sdc"))
    doc = json.loads(json.dumps(document([volume, jbod], controllers.scan(str(tmp_path)))))
    assert doc["drives"] == [volume.to_json(), jbod.to_json()]  # --json's objects, unchanged
    by_address = {c["address"]: c for c in doc["controllers"]}
    assert by_address["0000:c1:00.0"] == {
        "address": "0000:c1:00.0",
        "driver": "megaraid_sas",
        "pci_class": "0x010400",
        "visible": 1,
        "hidden": 1,
        "raid_class": True,
        "pci_id": "",
        "label": "MegaRAID controller at 0000:c1:00.0",
        "volumes": 1,
        "notice": "MegaRAID controller at 0000:c1:00.0: 1 logical volume(s), hides 1 disk(s): "
        "switch the controller to HBA/JBOD mode, or move the disks to a plain port",
    }
    empty = by_address["0000:03:00.0"]
    assert (empty["visible"], empty["volumes"]) == (0, 0)
    assert empty["notice"] in controllers.hidden_disks([volume, jbod], str(tmp_path))
    assert empty["notice"].endswith(": no disks visible: " + controllers.ADVICE)


def test_list_json_stays_an_array_and_json_object_wraps_the_same_drives() -> None:
    def listed(flag: str) -> object:
        argv = [sys.executable, "-m", "wipestation", "list", flag]
        return json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)

    array, doc = listed("--json"), listed("--json-object")
    assert isinstance(array, list)
    assert isinstance(doc, dict)
    assert sorted(doc) == ["controllers", "drives"]
    assert isinstance(doc["controllers"], list)
    assert doc["drives"]  # this host's root disk at least
    assert {tuple(d) for d in doc["drives"]} == {tuple(d) for d in array}  # the same keys
    assert all("raid_member" in d for d in array)
