"""The only module that imports pyudev: turns udev devices into plain dicts.

Why dicts: everything downstream (identity, transport, protection) is a pure function of these
dicts, so it is tested against property dumps captured from real hardware and from QEMU.
Keys are udev property names; sysfs attributes are added as ``sysfs:<attr>``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pyudev
from pyudev._ctypeslib import utils as _pyudev_utils  # pinned: the name its loader calls

from wipestation.discovery import controllers

#: one device's udev properties (and the sysfs attributes read alongside)
Props = dict[str, str]

#: sysfs attributes (relative to the block device's sys path) copied into the dict when present.
SYSFS_ATTRS = (
    "size",
    "ro",
    "removable",
    "queue/logical_block_size",
    "queue/physical_block_size",
    "queue/rotational",
    "queue/discard_max_bytes",
    "queue/write_zeroes_max_bytes",
    "device/model",
    "device/vendor",
    "device/serial",
    "device/firmware_rev",
    "device/rev",
    "device/type",
    "serial",
    "wwid",
    "loop/backing_file",
)

#: Attributes holding a serial, also kept as bytes (``sysfs-hex:<attr>``, hex): udev escapes
#: serials and text decoding would lose a non-UTF-8 byte (``identity.read_serial`` reads these).
SERIAL_ATTRS = ("device/serial", "serial", "device/vpd_pg80")


#: Set in a device's dict when udev has not finished with it (see ``device_to_dict``).
NOT_INITIALIZED = "WIPESTATION_UDEV_NOT_INITIALIZED"


def still_reading(run_udev: Path = Path("/run/udev")) -> bool:
    """Early in a boot: udev has not read any device yet, or has events queued. The station
    starts before udev does, so "no drives" then means "none found *yet*"."""
    return not _has_entry(run_udev / "data") or (run_udev / "queue").exists()


def _has_entry(directory: Path) -> bool:
    """Whether ``directory`` holds anything, without listing it all: the screen asks on every
    redraw, and udev's database holds an entry per device (hundreds on a full rack)."""
    try:
        with os.scandir(directory) as entries:
            return next(entries, None) is not None
    except OSError:
        return False


_local = threading.local()


class LibudevLookup:
    """pyudev finds libudev with ctypes' ``find_library`` for every Context it makes: an
    ``ldconfig -p`` child for each new thread (48 wipe threads forked the station 48 times as
    their wipes began, issue 18). The answer cannot change while the station runs: it is looked
    up once, here, on the importing thread."""

    def __init__(self, find: Callable[[str], str | None]) -> None:
        self.find, self.udev = find, find("udev")

    def __call__(self, name: str) -> str | None:
        return self.udev if name == "udev" else self.find(name)


_pyudev_utils.find_library = LibudevLookup(_pyudev_utils.find_library)


def context() -> pyudev.Context:
    """This thread's libudev context, made once: making one runs ctypes' ``find_library``
    (an ``ldconfig -p`` child, ~8 ms here, far more under QEMU TCG) and a libudev context
    must not be shared between threads. Enumerations through it still read the live state."""
    ctx: pyudev.Context | None = getattr(_local, "ctx", None)
    if ctx is None:
        ctx = _local.ctx = pyudev.Context()
    return ctx


def read_sysfs(sys_path: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for attr in SYSFS_ATTRS:
        try:
            with open(os.path.join(sys_path, attr), encoding="utf-8", errors="replace") as f:
                out[f"sysfs:{attr}"] = f.read().strip()
        except OSError:
            continue
    return out


def read_serial_bytes(sys_path: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for attr in SERIAL_ATTRS:
        try:
            with open(os.path.join(sys_path, attr), "rb") as f:
                out[f"sysfs-hex:{attr}"] = f.read(4096).hex()
        except OSError:
            continue
    return out


def usb_serial(dev: pyudev.Device) -> dict[str, str]:
    """The USB device's own ``serial`` (iSerial; what usb_id escapes into ID_SERIAL_SHORT)."""
    usb = dev.find_parent("usb", "usb_device")
    raw = usb.attributes.get("serial") if usb is not None else None
    return {"sysfs-hex:usb/serial": raw.hex()} if isinstance(raw, bytes) else {}


def pci_removable(dev: pyudev.Device) -> dict[str, str]:
    """The nearest PCI device's ``removable`` ("removable" below a Thunderbolt / USB4
    external-facing port, "fixed", "unknown"; Linux 5.12+): discovery/attachment.py reads it."""
    pci = dev.find_parent("pci")
    raw = pci.attributes.get("removable") if pci is not None else None
    if not isinstance(raw, bytes):
        return {}
    return {"sysfs:pci/removable": raw.decode("ascii", errors="replace").strip()}


def properties_of(dev: pyudev.Device) -> dict[str, str]:
    """udev's properties, flagged when udev has not finished with the device: still in its
    queue (early boot) or never seen, it has no identity, partition UUID or label yet."""
    props = {k: str(v) for k, v in dev.properties.items()}
    if not dev.is_initialized:
        props[NOT_INITIALIZED] = "1"
    return props


def device_to_dict(dev: pyudev.Device) -> dict[str, str]:
    props = properties_of(dev)
    props.update(read_sysfs(dev.sys_path))
    props.update(read_serial_bytes(dev.sys_path) | usb_serial(dev) | pci_removable(dev))
    props.update(controllers.host_attrs(props.get("DEVPATH", "")))  # a RAID volume's host
    props["SYS_PATH"] = dev.sys_path
    return props


def partitions_of(ctx: pyudev.Context, dev: pyudev.Device) -> list[dict[str, str]]:
    return [
        properties_of(p)
        for p in ctx.list_devices(subsystem="block", DEVTYPE="partition", parent=dev)
        if p != dev
    ]


def iter_disks(ctx: pyudev.Context | None = None) -> Iterator[tuple[Props, list[Props]]]:
    """Yield (disk properties, partition properties) for every block device of DEVTYPE disk
    that has media (size > 0: unattached loop devices and empty readers are never targets).

    One enumeration of the block subsystem, partitions matched to their disk by sysfs path: a
    second enumeration per disk cost half a second of a station's start-up under QEMU TCG."""
    ctx = ctx or context()
    disks: list[pyudev.Device] = []
    parts: dict[str, list[dict[str, str]]] = {}
    for dev in ctx.list_devices(subsystem="block"):
        if dev.device_type == "partition":
            parent = os.path.dirname(dev.sys_path)
            parts.setdefault(parent, []).append(properties_of(dev))
        elif dev.device_type == "disk" and has_media(dev.sys_path):
            disks.append(dev)
    for dev in disks:
        yield device_to_dict(dev), parts.get(dev.sys_path, [])


def has_media(sys_path: str) -> bool:
    """False only when sysfs says the size is 0 (an unreadable size is left to the caller), and
    the disk is not a fixed SCSI disk: one of those at 0 bytes is a drive Linux cannot read
    (520/528-byte sectors from an array, or left mid-format), listed so the station says so."""
    try:
        with open(os.path.join(sys_path, "size"), encoding="ascii") as f:
            return f.read().strip() != "0" or fixed_scsi_disk(read_sysfs(sys_path))
    except (OSError, ValueError):
        return True


def fixed_scsi_disk(p: Props) -> bool:
    """SCSI peripheral type 0 (direct access) and not removable: never an empty card reader."""
    return p.get("sysfs:device/type") == "0" and p.get("sysfs:removable") == "0"


def disk_by_name(name: str, ctx: pyudev.Context | None = None) -> tuple[Props, list[Props]] | None:
    ctx = ctx or context()
    try:
        dev = pyudev.Devices.from_name(ctx, "block", name)
    except pyudev.DeviceNotFoundByNameError:
        return None
    if dev.device_type != "disk":
        return None
    return device_to_dict(dev), partitions_of(ctx, dev)


def all_filesystem_labels(ctx: pyudev.Context | None = None) -> list[dict[str, str]]:
    """Properties of every block device that carries a filesystem (for boot/report stick lookup)."""
    ctx = ctx or context()
    return [
        {k: str(v) for k, v in d.properties.items()}
        for d in ctx.list_devices(subsystem="block")
        if d.properties.get("ID_FS_TYPE")
    ]
