"""Disks hidden behind controllers: RAID-class controllers, the logical volumes they present, and
BMC virtual media.

Why: a RAID controller shows the system one "volume" where there are eight disks (or nothing at
all), and a BMC's remote-console floppy/CD/USB looks like a USB disk. Neither is a physical drive
the station can certify. Discovery marks them (``presentation``) so that ``auto`` never plans an
erase for them and the unattended modes never start one, and says which controller hides how
many disks and what the operator should do (``notices``).

Pure functions of the udev/sysfs dict (``presentation``) and of a sysfs tree (``scan``), so both
are tested against real captures and a sysfs tree built like the kernel's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from wipestation.model import Drive

#: What to do about a controller that hides its disks.
ADVICE = "switch the controller to HBA/JBOD mode, or move the disks to a plain port"

#: Intel VMD is no RAID card: the firmware setup owns it, and there is no HBA mode to switch to.
VMD_ADVICE = (
    "disable VMD (Intel Volume Management Device) in the firmware setup, or set the storage "
    "mode to AHCI; NVMe drives behind VMD are not visible to the station"
)

#: Intel VMD's PCI ids (the kernel's drivers/pci/controller/vmd.c ``vmd_ids``): a VMD is named
#: as one even when no ``vmd`` driver is bound to it.
VMD_PCI_IDS = frozenset(
    f"8086:{d}"
    for d in ("201d", "28c0", "467f", "4c3d", "a77f", "7d0b", "ad0b", "9a0b", "b60b", "b06f")
)

#: Drivers whose controllers present logical volumes (the Linux module names, as
#: ``/sys/class/scsi_host/hostN/proc_name`` and ``/sys/bus/pci/devices/X/driver`` say them).
LABELS = {
    "megaraid_sas": "MegaRAID",
    "mpt3sas": "LSI SAS",
    "mpt2sas": "LSI SAS",
    "hpsa": "HPE Smart Array",
    "smartpqi": "Smart Array (smartpqi)",
    "aacraid": "Adaptec RAID",
    "vmd": "Intel VMD",
    "ahci": "Intel RST (RAID mode)",
}

#: SCSI host drivers whose disks may be logical volumes (``presentation``).
VOLUME_HOSTS = frozenset({"megaraid_sas", "mpt3sas", "mpt2sas", "hpsa", "smartpqi", "aacraid"})

#: PCI controllers listed for themselves (an mpt3sas is a plain HBA unless it presents a volume:
#: ``Controller.raid_class``).
RAID_DRIVERS = frozenset({"megaraid_sas", "hpsa", "smartpqi", "aacraid", "vmd"})

#: PCI class 01 (mass storage), subclass 04 (RAID), any programming interface.
RAID_CLASS = "0x0104"

#: SCSI vendor/model words of a logical volume: PERC and MegaRAID virtual disks ("PERC H755N
#: Front", "MR9361-8i"), HPE/Microchip "LOGICAL VOLUME", LSI IR "Logical Volume", "Virtual Disk",
#: Intel RST "Raid 1 Volume".
_VOLUME_WORDS = re.compile(
    r"\bPERC\b|\bMR9\d{3}|MegaRAID|LOGICAL VOLUME|Virtual Disk|\bRAID|\bVolume\b", re.IGNORECASE
)

#: SCSI channels a driver puts its logical volumes on (megaraid_sas: 2 and 3, its LD channels;
#: mpt2sas/mpt3sas: RAID_CHANNEL 1; aacraid: container channel 0 -- its pass-through disks sit
#: on channel 1 and up).
_VOLUME_CHANNELS = {
    "megaraid_sas": frozenset({2, 3}),
    "mpt3sas": frozenset({1}),
    "mpt2sas": frozenset({1}),
    "aacraid": frozenset({0}),
}

#: A pass-through disk identifies itself (a PERC 11 JBOD NVMe sits on channel 2 as "NVMe").
_PASSTHROUGH_VENDORS = frozenset({"ATA", "NVMe"})

#: USB vendors and model words of BMC virtual media (AMI MegaRAC: "Virtual SD0", "Virtual
#: Floppy", "Virtual CDROM"; iDRAC; iLO; ATEN/Supermicro; Lenovo IMM).
_BMC_USB_IDS = frozenset({"046b", "0557"})  # American Megatrends, ATEN
_BMC_WORDS = re.compile(r"\bVirtual\b|\biDRAC\b|\biLO\b|\bIMM\d?\b|\bMegaRAC\b", re.IGNORECASE)

_HCTL = re.compile(r"/host(\d+)/(?:.*/)?(\d+):(\d+):(\d+):(\d+)/block/")
_PCI = re.compile(r"^[0-9a-f]{4,}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$")
_SCSI_DEVICE = re.compile(r"^\d+:\d+:\d+:\d+$")

#: Keys this module adds to a disk's udev dict (``host_attrs``).
HOST_DRIVER = "sysfs:scsi_host/proc_name"


@dataclass(frozen=True)
class Presentation:
    """What discovery says a block device is, beyond its transport."""

    #: "MegaRAID controller at 0000:03:00.0": the RAID-class controller it sits behind, or ''
    controller: str = ""
    #: a logical volume the controller presents, not one physical drive
    volume: bool = False
    #: virtual media of a BMC (remote console), not a drive in this machine
    bmc_media: bool = False


@dataclass(frozen=True)
class Controller:
    """A RAID-class PCI controller as sysfs shows it."""

    address: str
    driver: str  # '' when no driver is bound: the disks behind it are invisible
    pci_class: str
    #: block devices below it (volumes and pass-through disks alike)
    visible: int = 0
    #: SCSI disks it reports that have no block device (members of its volumes), where readable
    hidden: int = 0
    #: a RAID controller by its PCI class or driver (else an HBA whose driver can present
    #: volumes, such as an mpt3sas in IR mode: named only when it does)
    raid_class: bool = True
    #: "vendor:device" in hex, as sysfs gives them ("8086:9a0b"); '' when unreadable
    pci_id: str = ""

    @property
    def kind(self) -> str:
        """The driver's name, or ``vmd`` for an Intel VMD by its PCI id with no driver bound."""
        return "vmd" if self.pci_id in VMD_PCI_IDS else self.driver

    @property
    def label(self) -> str:
        return label_of(self.kind, self.address)

    @property
    def advice(self) -> str:
        return VMD_ADVICE if self.kind == "vmd" else ADVICE

    def to_json(self, volumes: int = 0) -> dict[str, object]:
        """This controller for ``wipestation list --json-object``: its sysfs facts, its label,
        the logical volumes it presents among the drives, and the line the operator is shown
        ('' when it hides nothing)."""
        return {
            **asdict(self),
            "label": self.label,
            "volumes": volumes,
            "notice": notice(self, volumes),
        }


def label_of(driver: str, address: str) -> str:
    return f"{LABELS.get(driver, 'RAID')} controller at {address or 'an unknown address'}"


# ---- one disk: the udev/sysfs dict -> Presentation ------------------------------------------


def host_attrs(devpath: str, sys_root: str = "/sys") -> dict[str, str]:
    """The SCSI host driver of a disk (``/sys/class/scsi_host/hostN/proc_name``), or {}."""
    m = _HCTL.search(devpath + "/")
    if m is None:
        return {}
    try:
        name = Path(sys_root, "class/scsi_host", f"host{m.group(1)}", "proc_name").read_text()
    except OSError:
        return {}
    return {HOST_DRIVER: name.strip()}


def pci_address_of(devpath: str) -> str:
    """The PCI function the disk's SCSI host hangs off (the last PCI address before hostN)."""
    head = devpath.split("/host", 1)[0]
    found = [part for part in head.split("/") if _PCI.match(part)]
    return found[-1] if found else ""


def channel_of(devpath: str) -> int | None:
    m = _HCTL.search(devpath + "/")
    return int(m.group(3)) if m else None


def presentation(p: dict[str, str]) -> Presentation:
    """A logical volume, BMC virtual media, or a plain drive, from the disk's udev dict."""
    if is_bmc_media(p):
        return Presentation(bmc_media=True)
    driver = p.get(HOST_DRIVER, "")
    if driver not in VOLUME_HOSTS:
        words = _volume_words(p)
        return Presentation(volume=True) if words and p.get("ID_BUS") != "usb" else Presentation()
    devpath = p.get("DEVPATH", "")
    controller = label_of(driver, pci_address_of(devpath))
    return Presentation(controller=controller, volume=is_volume(p, driver, channel_of(devpath)))


def is_volume(p: dict[str, str], driver: str, channel: int | None) -> bool:
    """Vendor/model say so, or the driver puts it on one of its logical-volume channels."""
    if _volume_words(p):
        return True
    if _text(p, "ID_VENDOR_ENC", "ID_VENDOR", "sysfs:device/vendor") in _PASSTHROUGH_VENDORS:
        return False
    return channel is not None and channel in _VOLUME_CHANNELS.get(driver, frozenset())


def _volume_words(p: dict[str, str]) -> bool:
    vendor = _text(p, "ID_VENDOR_ENC", "ID_VENDOR", "sysfs:device/vendor")
    model = _text(p, "ID_MODEL_ENC", "ID_MODEL", "sysfs:device/model")
    return bool(_VOLUME_WORDS.search(f"{vendor} {model}"))


def is_bmc_media(p: dict[str, str]) -> bool:
    """A USB disk a BMC presents: its vendor id or its vendor/model words say so."""
    if p.get("ID_BUS") != "usb" and "/usb" not in p.get("DEVPATH", ""):
        return False
    vendor = _text(p, "ID_VENDOR_ENC", "ID_VENDOR", "sysfs:device/vendor")
    model = _text(p, "ID_MODEL_ENC", "ID_MODEL", "sysfs:device/model")
    if p.get("ID_VENDOR_ID", "").lower() in _BMC_USB_IDS and "virtual" in model.lower():
        return True
    return bool(_BMC_WORDS.search(f"{vendor} {model}"))


def _text(p: dict[str, str], *keys: str) -> str:
    """The first non-empty value, udev's ``\\x20`` escapes and ``_`` for spaces undone."""
    for key in keys:
        value = p.get(key, "")
        if value:
            value = re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), value)
            return (value if key.endswith("_ENC") else value.replace("_", " ")).strip()
    return ""


def not_a_drive(drive: Drive) -> str:
    """Why this device is no physical drive to certify ('' when it is one): ``auto`` never
    plans for it and the unattended modes never start it; a named method may still wipe it."""
    if drive.volume:
        where = drive.controller or "a RAID controller"
        return f"logical volume of {where}, not a physical drive: {ADVICE}"
    if drive.bmc_media:
        return "BMC virtual media (remote-console floppy/CD/USB), not a drive in this machine"
    return ""


# ---- the controllers: a sysfs tree -> Controller ---------------------------------------------


def scan(sys_root: str = "/sys") -> list[Controller]:
    """Every RAID-class PCI controller (class 0x0104xx, or a volume-presenting driver)."""
    base = Path(sys_root, "bus/pci/devices")
    try:
        entries = sorted(base.iterdir())
    except OSError:
        return []
    found = (_controller(e, sys_root) for e in entries)
    return [c for c in found if c is not None]


def _controller(entry: Path, sys_root: str) -> Controller | None:
    pci_class = _read(entry / "class")
    link = entry / "driver"
    driver = os.path.basename(os.readlink(link)) if link.is_symlink() else ""
    raid = pci_class.startswith(RAID_CLASS) or driver in RAID_DRIVERS
    if not raid and driver not in VOLUME_HOSTS:
        return None
    visible, hidden = _count_disks(os.path.realpath(entry), sys_root)
    return Controller(
        entry.name, driver, pci_class, visible, hidden, raid_class=raid, pci_id=_pci_id(entry)
    )


def _pci_id(entry: Path) -> str:
    vendor, device = _read(entry / "vendor"), _read(entry / "device")
    if not (vendor and device):
        return ""
    return f"{vendor.removeprefix('0x')}:{device.removeprefix('0x')}".lower()


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _count_disks(real: str, sys_root: str) -> tuple[int, int]:
    """Block devices below the controller, and SCSI disks (type 0) below it with none."""
    visible = sum(1 for d in _block_disks(sys_root) if d.startswith(real + "/"))
    hidden = 0
    for top, dirs, files in os.walk(real, followlinks=False):
        name = os.path.basename(top)
        if _SCSI_DEVICE.match(name) and "type" in files and "block" not in dirs:
            hidden += _read(Path(top, "type")) == "0"
        dirs[:] = [d for d in dirs if d not in ("power", "subsystem", "driver")]
    return visible, hidden


def _block_disks(sys_root: str) -> list[str]:
    """Real sysfs paths of the whole-disk block devices."""
    base = Path(sys_root, "class/block")
    try:
        names = list(base.iterdir())
    except OSError:
        return []
    return [os.path.realpath(n) for n in names if not (n / "partition").exists()]


# ---- what the operator is told ----------------------------------------------------------------


def notices(controllers: list[Controller], volumes: dict[str, int]) -> list[str]:
    """One line per controller that hides disks. ``volumes``: controller label -> volumes seen."""
    lines = []
    for c in controllers:
        line = notice(c, volumes.get(c.label, 0))
        if line:
            lines.append(line)
    return lines


def notice(c: Controller, volumes: int) -> str:
    """'' when the controller hides nothing: its disks are all visible as drives."""
    if not c.raid_class and volumes == 0:
        return ""
    if not c.driver:
        vmd = f": {VMD_ADVICE}" if c.kind == "vmd" else ""
        return f"{c.label}: no driver loaded, the disks behind it are not visible{vmd}"
    if c.visible == 0:
        hides = f" ({c.hidden} disk(s) behind it)" if c.hidden else ""
        return f"{c.label}: no disks visible{hides}: {c.advice}"
    if volumes == 0:
        return ""
    hides = f"hides {c.hidden} disk(s)" if c.hidden else "its physical disks are hidden"
    return f"{c.label}: {volumes} logical volume(s), {hides}: {c.advice}"


def volumes_by_controller(drives: Iterable[Drive]) -> dict[str, int]:
    """How many logical volumes each controller (by label) presents among ``drives``."""
    out: dict[str, int] = {}
    for d in drives:
        if d.volume and d.controller:
            out[d.controller] = out.get(d.controller, 0) + 1
    return out


def hidden_disks(drives: Iterable[Drive], sys_root: str = "/sys") -> list[str]:
    """The station's lines about controllers that hide disks (drive screen, list, conveyor)."""
    return notices(scan(sys_root), volumes_by_controller(drives))


def controllers_json(found: list[Controller], drives: Iterable[Drive]) -> list[dict[str, object]]:
    """Every controller found, each with its volumes among ``drives`` and its notice."""
    volumes = volumes_by_controller(drives)
    return [c.to_json(volumes.get(c.label, 0)) for c in found]


# ---- RAID members a firmware or software RAID left on a plain disk ----------------------------

#: blkid's names (udev ``ID_FS_TYPE``) of RAID metadata on a member disk -> whose format it is.
#: Such a disk is a drive like any other (and stays wipeable), but the operator is told.
RAID_MEMBER_KINDS = {
    "isw_raid_member": "Intel RST / isw",
    "ddf_raid_member": "SNIA DDF",
    "linux_raid_member": "Linux md",
    "adaptec_raid_member": "Adaptec",
    "lsi_mega_raid_member": "LSI MegaRAID",
    "nvidia_raid_member": "NVIDIA",
    "promise_fasttrack_raid_member": "Promise FastTrak",
    "silicon_medley_raid_member": "Silicon Image",
    "via_raid_member": "VIA",
    "jmicron_raid_member": "JMicron",
    "hpt37x_raid_member": "HighPoint",
    "hpt45x_raid_member": "HighPoint",
}


def raid_member_of(p: dict[str, str]) -> str:
    """The disk's RAID-member signature as blkid names it ('' for none)."""
    fs_type = p.get("ID_FS_TYPE", "")
    return fs_type if fs_type.endswith("_raid_member") else ""


def raid_member_notice(drive: Drive) -> str:
    """What the operator is told about a RAID member disk ('' for any other)."""
    if not drive.raid_member:
        return ""
    kind = RAID_MEMBER_KINDS.get(drive.raid_member, drive.raid_member)
    return f"member of a RAID set ({kind}): erasing it destroys the set"
