"""Who a drive is: transport, model, serial, WWN and the identity that names its reports.

Pure functions of the udev/sysfs dict from ``udev.py``. The serial chain follows what real udev
reports (see tests/fixtures/udev): SCSI puts the WWN in ID_SERIAL_SHORT when one exists, so
ID_SCSI_SERIAL wins there; virtio-blk has only ID_SERIAL; NVMe has no ID_BUS.
"""

from __future__ import annotations

import hashlib
import re

from wipestation.model import IdentitySource, Transport

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def decode_udev(value: str) -> str:
    r"""Undo udev's ``\xNN`` escaping (ID_MODEL_ENC, ID_VENDOR_ENC)."""
    raw = re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), value)
    try:
        return raw.encode("latin-1").decode("utf-8").strip()
    except UnicodeError:
        return raw.strip()


def transport_of(p: dict[str, str]) -> Transport:
    name = p.get("DEVNAME", "").rsplit("/", 1)[-1]
    bus = p.get("ID_BUS", "")
    id_path = p.get("ID_PATH", "")
    devpath = p.get("DEVPATH", "")
    if name.startswith("loop"):
        return Transport.LOOP
    if bus == "usb" or "-usb-" in id_path or "/usb" in devpath:
        return Transport.USB
    if name.startswith("nvme"):
        return Transport.NVME
    if name.startswith("mmcblk"):
        return Transport.MMC
    if name.startswith("vd"):
        return Transport.VIRTIO
    if bus == "ata" or "-ata-" in id_path:
        return Transport.SATA
    if "-sas-" in id_path or "/end_device-" in devpath:
        return Transport.SAS
    if bus == "scsi" or name.startswith("sd"):
        return Transport.SCSI
    return Transport.OTHER


def serial_of(p: dict[str, str], transport: Transport) -> str:
    candidates = [
        p.get("ID_SCSI_SERIAL", "") if transport in (Transport.SCSI, Transport.SAS) else "",
        p.get("ID_SERIAL_SHORT", ""),
        p.get("ID_USB_SERIAL_SHORT", ""),
        p.get("sysfs:device/serial", ""),
        p.get("sysfs:serial", ""),
        p.get("ID_SERIAL", "") if transport == Transport.VIRTIO else "",
    ]
    for c in candidates:
        c = c.strip()
        if c:
            return c
    return ""


def model_of(p: dict[str, str]) -> str:
    if p.get("ID_MODEL_ENC"):
        return decode_udev(p["ID_MODEL_ENC"])
    return (p.get("sysfs:device/model") or p.get("ID_MODEL", "").replace("_", " ")).strip()


def vendor_of(p: dict[str, str]) -> str:
    if p.get("ID_VENDOR_ENC"):
        return decode_udev(p["ID_VENDOR_ENC"])
    return (p.get("sysfs:device/vendor") or p.get("ID_VENDOR", "")).strip()


def wwn_of(p: dict[str, str]) -> str:
    return (p.get("ID_WWN_WITH_EXTENSION") or p.get("ID_WWN") or "").strip()


def identity_of(
    serial: str, wwn: str, model: str, size: int, p: dict[str, str]
) -> tuple[str, IdentitySource]:
    """Serial, else WWN, else model + size + physical path (ID_PATH or loop backing file)."""
    if serial:
        return serial, IdentitySource.SERIAL
    if wwn:
        return wwn, IdentitySource.WWN
    where = p.get("ID_PATH") or p.get("sysfs:loop/backing_file") or p.get("DEVNAME", "")
    return f"{model or 'disk'}@{where}#{size}", IdentitySource.PATH


def safe_filename(identity: str) -> str:
    """A file name any FAT stick accepts; a short hash keeps distinct identities distinct."""
    cleaned = _SAFE.sub("_", identity).strip("._") or "unknown"
    if cleaned != identity or len(cleaned) > 100:
        cleaned = f"{cleaned[:80]}-{hashlib.sha256(identity.encode()).hexdigest()[:8]}"
    return cleaned
