"""What a drive reported about itself: the probe's answers as one typed value.

``None`` means "not asked" or "the drive did not say"; planning never reads a permissive answer
into a ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wipestation.tools import blkdev, hdparm, mmc, nvme, opal, sg, smartctl


@dataclass(frozen=True)
class Capabilities:
    """Everything the policy needs; ``None`` means "not asked" or "the drive did not say"."""

    path: str
    transport: str
    nvme: nvme.IdCtrl | None = None
    #: block devices of every namespace on the drive's NVMe controller (sanitize erases them all)
    namespaces: tuple[str, ...] = ()
    ata: hdparm.AtaIdentify | None = None
    hpa: hdparm.HpaState | None = None
    dco: hdparm.DcoState | None = None
    scsi_opcodes: sg.Opcodes | None = None
    readcap: sg.ReadCap | None = None
    queue: blkdev.QueueLimits | None = None
    smart: smartctl.SmartSummary | None = None
    #: mmcblk devices: what sysfs says (card type, SD registers, boot partitions, RPMB)
    mmc_card: mmc.MmcCard | None = None
    #: eMMC only: ``mmc extcsd read`` (SD cards have no EXT_CSD)
    ext_csd: mmc.ExtCsd | None = None
    usb_id: str = ""
    usb_passthrough: str = ""  # allow-list reason when the bridge is trusted, else ""
    #: TCG Opal: True when the drive refuses reads of LBA 0 while claiming capacity (locked SED).
    opal_locked: bool | None = None
    #: TCG Level 0 Discovery (SSC, locking); None: not asked or the drive did not answer
    tcg: opal.Discovery | None = None
    mem_sleep_deep: bool = False
    availability_errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ata_frozen(self) -> bool:
        """Frozen, or a Security section whose frozen line was unreadable (unknown is frozen)."""
        sec = self.ata.security if self.ata else None
        return sec is not None and sec.frozen is not False

    @property
    def health(self) -> smartctl.Health:
        """The drive's own health report (unknown when smartctl gave none)."""
        return smartctl.health_of(self.smart)

    @property
    def nonstandard_sectors(self) -> bool:
        return bool(self.readcap and self.readcap.nonstandard_sectors)

    def to_json(self) -> dict[str, object]:
        def js(v: object) -> object:
            return v.to_json() if hasattr(v, "to_json") else (v.__dict__ if v else None)

        scsi = self.scsi_opcodes
        return {
            "path": self.path,
            "transport": self.transport,
            "nvme": js(self.nvme),
            "namespaces": list(self.namespaces),
            "ata": js(self.ata),
            "hpa": None
            if self.hpa is None
            else {**js_dict(self.hpa), "hidden": self.hpa.hidden_sectors},
            "dco": js(self.dco),
            "scsi": None
            if scsi is None
            else {
                "sanitize_overwrite": scsi.sanitize_overwrite,
                "sanitize_block": scsi.sanitize_block,
                "sanitize_crypto": scsi.sanitize_crypto,
                "format_unit": scsi.format_unit,
            },
            "readcap": js(self.readcap),
            "nonstandard_sectors": self.nonstandard_sectors,
            "queue": js(self.queue),
            "smart": js(self.smart),
            "health": self.health.to_json(),
            "mmc_card": js(self.mmc_card),
            "ext_csd": js(self.ext_csd),
            "usb_id": self.usb_id,
            "usb_passthrough": self.usb_passthrough,
            "opal_locked": self.opal_locked,
            "tcg": js(self.tcg),
            "mem_sleep_deep": self.mem_sleep_deep,
            "availability_errors": list(self.availability_errors),
            "notes": list(self.notes),
        }


def js_dict(value: object) -> dict[str, object]:
    return dict(vars(value))
