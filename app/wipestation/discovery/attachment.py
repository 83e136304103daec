"""Whether a drive is inside this computer or plugged into it from outside.

Why: booted on a computer to erase its own drives, the station must tell the computer's drives
(its NVMe, SATA and SAS disks, its eMMC) from the customer's USB stick or a Thunderbolt dock's
disk, which belong to nobody's certificate for this computer. A pure function of what
discovery already read (udev's properties and sysfs); it only says what those show, and a bus
it cannot place is unknown, never guessed internal.

What makes a drive external: a USB transport (a USB bridge, an SD/MMC reader on USB), a PCI
device the kernel marks ``removable`` (it sits below an external-facing port: Thunderbolt /
USB4, since Linux 5.12), an SD card (an MMC ``device/type`` of ``SD``), or a removable medium
(sysfs ``removable``: card readers, optical). A SAS shelf on an HBA's external port is not told
apart from a bay inside: both are the HBA's.
"""

from __future__ import annotations

from wipestation.model import Attachment, Transport

#: Buses that are inside the computer when none of the external signs above is present.
INTERNAL_BUSES = frozenset(
    (Transport.NVME, Transport.SATA, Transport.SAS, Transport.SCSI, Transport.VIRTIO)
)

#: The key ``udev.py`` stores the nearest PCI device's ``removable`` attribute under.
PCI_REMOVABLE = "sysfs:pci/removable"


def attachment_of(p: dict[str, str], transport: Transport) -> tuple[Attachment, str]:
    """(internal / external / unknown, why) for one udev/sysfs dict."""
    outside = external_sign(p, transport)
    if outside:
        return Attachment.EXTERNAL, outside
    if transport == Transport.MMC:
        return _mmc(p.get("sysfs:device/type", ""))
    if transport in INTERNAL_BUSES:
        return Attachment.INTERNAL, f"{transport} on this computer's own bus"
    if transport == Transport.LOOP:
        return Attachment.UNKNOWN, "a loop device (a file), not a drive"
    return Attachment.UNKNOWN, "its bus does not say where it sits"


def external_sign(p: dict[str, str], transport: Transport) -> str:
    """Why the drive is outside the computer, or '' when nothing says so."""
    if transport == Transport.USB:
        return "on a USB bridge"
    if p.get(PCI_REMOVABLE) == "removable":
        return "behind a Thunderbolt / USB4 (external) port"
    if p.get("sysfs:removable") == "1":
        return "a removable medium"
    return ""


def _mmc(card_type: str) -> tuple[Attachment, str]:
    """eMMC is soldered in; an SD card is a removable medium; anything else is unknown."""
    if card_type == "MMC":
        return Attachment.INTERNAL, "eMMC on this computer's own bus"
    if card_type == "SD":
        return Attachment.EXTERNAL, "an SD card (a removable medium)"
    return Attachment.UNKNOWN, f"an MMC device of type {card_type or 'unknown'}"
