"""The one vocabulary for a drive's medium, used by planning, health and the record alike.

Why one function: NIST SP 800-88's level of a method depends on the medium, so the medium a
plan was chosen for and the one its certificate names must be the same word from the same call.
The probe's answer wins over udev's where the drive was asked (a SATA SSD behind a trusted USB
bridge is an SSD, not a USB stick). What discovery says the device *is* wins over both: a RAID
logical volume or a BMC's virtual media is no drive whose medium a method could be chosen for.
"""

from __future__ import annotations

from enum import StrEnum

from wipestation.model import Drive, Transport
from wipestation.planning.capabilities import Capabilities


class Medium(StrEnum):
    NVME = "nvme"
    SSD = "ssd"
    HDD = "hdd"
    #: USB sticks, SD cards, eMMC: flash behind a controller that was not asked
    FLASH = "flash"
    #: virtio and loop devices: no physical medium of their own to reason about
    VIRTUAL = "virtual"
    #: a RAID controller's logical volume: its disks are behind the controller, never certified
    VOLUME = "volume"
    #: a BMC's virtual floppy/CD/USB (remote console): not a drive in this machine
    BMC_MEDIA = "bmc-media"


#: What discovery says is no physical drive: no method's NIST level is defined for these.
NOT_DRIVES = frozenset({Medium.VOLUME, Medium.BMC_MEDIA})


def medium_of(drive: Drive, caps: Capabilities | None = None) -> Medium:
    """The medium of ``drive``, from what its probe said when there is one."""
    if drive.volume:
        return Medium.VOLUME
    if drive.bmc_media:
        return Medium.BMC_MEDIA
    t = drive.transport
    if t == Transport.NVME:
        return Medium.NVME
    if t in (Transport.VIRTIO, Transport.LOOP):
        return Medium.VIRTUAL
    ata = caps.ata if caps is not None else None
    rotational = drive.rotational if ata is None or ata.rotational is None else ata.rotational
    if rotational:
        return Medium.HDD
    if t == Transport.MMC or (t == Transport.USB and ata is None):
        return Medium.FLASH
    return Medium.SSD
