"""Values that cross module boundaries: drives, job states, progress. Dataclasses only, no I/O."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from wipestation.tools.smartctl import SmartSummary

#: How much of the medium is read back after a plan: nothing, a seeded sample, every byte.
VerifyMode = Literal["none", "sample", "full"]
VERIFY_MODES: tuple[VerifyMode, ...] = ("none", "sample", "full")


def verify_mode(text: str, default: VerifyMode = "full") -> VerifyMode:
    """``text`` as a verify mode; ``default`` (the strictest) when it is none of them."""
    for mode in VERIFY_MODES:
        if mode == text:
            return mode
    return default


def now_iso() -> str:
    """Local time with its offset, as every step, job and record states it."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


class Transport(StrEnum):
    NVME = "nvme"
    SATA = "sata"
    SAS = "sas"
    SCSI = "scsi"
    USB = "usb"
    VIRTIO = "virtio"
    MMC = "mmc"
    LOOP = "loop"
    OTHER = "other"


class Attachment(StrEnum):
    """Whether a drive is inside this computer (discovery/attachment.py)."""

    INTERNAL = "internal"
    EXTERNAL = "external"
    UNKNOWN = "unknown"


class IdentitySource(StrEnum):
    """Where a drive's report identity came from, strongest first."""

    SERIAL = "serial"
    WWN = "wwn"
    #: No serial and no WWN: model, size and the physical path (ID_PATH or, for loop devices,
    #: the backing file). Stable while the drive stays in the same bay.
    PATH = "path"


@dataclass(frozen=True)
class Drive:
    """A whole-disk block device as the inventory saw it."""

    path: str
    name: str
    transport: Transport
    model: str
    serial: str
    wwn: str
    firmware: str
    size_bytes: int
    logical_block_size: int
    physical_block_size: int
    rotational: bool
    removable: bool
    read_only: bool
    identity: str
    identity_source: IdentitySource
    #: Where the serial was read and what each source said (``identity.read_serial``).
    serial_sources: tuple[tuple[str, str], ...] = ()
    #: Why the serial's sources disagree ("" when they agree).
    serial_disagreement: str = ""
    #: The serial is a placeholder ("To Be Filled By O.E.M.", all X): the identity is not it.
    serial_placeholder: bool = False
    protected: bool = False
    protected_reasons: tuple[str, ...] = ()
    vendor: str = ""
    devnum: tuple[int, int] = (0, 0)
    devpath: str = ""
    id_path: str = ""
    #: "vvvv:pppp" of the USB bridge a disk sits behind, empty for native disks.
    usb_id: str = ""
    #: Set when another drive reported the same serial (bridges, card readers): the identity
    #: was then made unique with the physical path.
    identity_duplicate: bool = False
    #: Backing file of a loop device.
    backing_file: str = ""
    #: The RAID-class controller this disk sits behind ("MegaRAID controller at 0000:03:00.0"),
    #: '' for none (discovery/controllers.py).
    controller: str = ""
    #: A logical volume the controller presents, not one physical drive: never certified as one.
    volume: bool = False
    #: Virtual media of a BMC (remote-console floppy/CD/USB), not a drive in this machine.
    bmc_media: bool = False
    #: RAID metadata blkid found on the disk (udev ID_FS_TYPE "isw_raid_member", ...): a member
    #: of a firmware/software RAID set, wipeable, and the operator is told; '' for none.
    raid_member: str = ""
    #: Inside this computer or plugged in from outside, and what showed it (attachment.py).
    attachment: Attachment = Attachment.UNKNOWN
    attachment_why: str = ""

    @property
    def zero_size_scsi(self) -> bool:
        """A fixed SAS/SCSI disk Linux shows as 0 bytes: formatted with 520/528-byte sectors
        (from an array). Its plan decides — a reformat to 512 first, or a refusal — not the
        listing (a removable one is an empty reader)."""
        fixed_scsi = self.transport in (Transport.SAS, Transport.SCSI) and not self.removable
        return self.size_bytes <= 0 and fixed_scsi

    @property
    def wipeable(self) -> bool:
        has_size = self.size_bytes > 0 or self.zero_size_scsi
        return not self.protected and not self.read_only and has_size

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "name": self.name,
            "transport": str(self.transport),
            "vendor": self.vendor,
            "model": self.model,
            "serial": self.serial,
            "wwn": self.wwn,
            "firmware": self.firmware,
            "size_bytes": self.size_bytes,
            "logical_block_size": self.logical_block_size,
            "physical_block_size": self.physical_block_size,
            "rotational": self.rotational,
            "removable": self.removable,
            "read_only": self.read_only,
            "identity": self.identity,
            "identity_source": str(self.identity_source),
            "identity_duplicate": self.identity_duplicate,
            "serial_sources": [list(s) for s in self.serial_sources],
            "serial_disagreement": self.serial_disagreement,
            "serial_placeholder": self.serial_placeholder,
            "usb_id": self.usb_id,
            "id_path": self.id_path,
            "backing_file": self.backing_file,
            "controller": self.controller,
            "volume": self.volume,
            "bmc_media": self.bmc_media,
            "raid_member": self.raid_member,
            "attachment": str(self.attachment),
            "attachment_why": self.attachment_why,
            "protected": self.protected,
            "protected_reasons": list(self.protected_reasons),
        }


class JobState(StrEnum):
    QUEUED = "queued"
    PROBING = "probing"
    ERASING = "erasing"
    VERIFYING = "verifying"
    REPORTING = "reporting"
    PASSED = "passed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REMOVED = "removed"

    @property
    def finished(self) -> bool:
        return self in (JobState.PASSED, JobState.FAILED, JobState.CANCELLED, JobState.REMOVED)


@dataclass(frozen=True)
class Progress:
    """One snapshot of a job, replaced (never mutated) as the job advances."""

    job_id: str
    drive_path: str
    identity: str
    state: JobState
    method: str = ""
    phase: str = ""
    pass_index: int = 0
    pass_count: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    rate_bps: float = 0.0
    eta_s: float | None = None
    last_error: str = ""
    timestamp: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        return self.bytes_done / self.bytes_total if self.bytes_total else 0.0


@dataclass(frozen=True)
class Fingerprint:
    """Hashes of a seeded sample of blocks taken before the erase: a firmware erase must change
    every one that held data. Kept in the journal (a resumed job keeps its fingerprint) and in
    the record."""

    seed: int
    block_size: int
    offsets: tuple[int, ...]
    sha256: tuple[str, ...]
    #: the block held one byte value throughout: no data to prove a change on
    uniform: tuple[bool, ...]
    algorithm: str = "sha256"

    def to_json(self) -> dict[str, object]:
        return {
            "algorithm": self.algorithm,
            "block_size": self.block_size,
            "seed": self.seed,
            "offsets": list(self.offsets),
            "sha256": list(self.sha256),
            "uniform": list(self.uniform),
        }

    @classmethod
    def from_json(cls, data: object) -> Fingerprint | None:
        """The journal's copy, or None when it is not a whole fingerprint (never half of one)."""
        try:
            assert isinstance(data, dict)
            fp = cls(
                seed=int(data["seed"]),
                block_size=int(data["block_size"]),
                offsets=tuple(int(o) for o in data["offsets"]),
                sha256=tuple(str(h) for h in data["sha256"]),
                uniform=tuple(bool(u) for u in data["uniform"]),
                algorithm=str(data.get("algorithm", "sha256")),
            )
        except (AssertionError, KeyError, TypeError, ValueError):
            return None
        same = len(fp.offsets) == len(fp.sha256) == len(fp.uniform)
        return fp if same else None


@dataclass(frozen=True)
class HiddenAreas:
    """HPA and DCO as the probe read them (sectors); ``None`` where the drive did not say."""

    hpa_current: int | None = None
    hpa_native: int | None = None
    hpa_enabled: bool | None = None
    dco_real_max: int | None = None

    @property
    def hpa_hidden(self) -> int:
        if self.hpa_current is None or self.hpa_native is None:
            return 0
        return max(0, self.hpa_native - self.hpa_current)

    @property
    def dco_hidden(self) -> int:
        if self.dco_real_max is None or self.hpa_native is None:
            return 0
        return max(0, self.dco_real_max - self.hpa_native)

    @property
    def hidden_sectors(self) -> int:
        return self.hpa_hidden + self.dco_hidden


@dataclass(frozen=True)
class SectorFormat:
    """The drive's own sector format from READ CAPACITY (SCSI/SAS), which Linux may not show:
    a drive formatted with 520/528-byte sectors is listed with 0 bytes."""

    logical_block_size: int
    blocks: int
    protection: str  # "no protection information", "protection type 2", ...

    @property
    def nonstandard(self) -> bool:
        return self.logical_block_size not in (512, 4096)


@dataclass(frozen=True)
class DriveFacts:
    """What the probe found that a record states: the medium its level was chosen for, the
    drive's SMART health, hidden areas, and why something could not be asked."""

    medium: str
    #: the drive's SMART summary (None: the drive or its transport gave none)
    health: SmartSummary | None = None
    hidden: HiddenAreas | None = None
    notes: tuple[str, ...] = ()
    #: READ CAPACITY's sector format (SCSI/SAS drives; None where it was not read)
    sector_format: SectorFormat | None = None
    #: ATA security, TCG Level 0 Discovery and the lock that shaped the plan (planning/locks.py)
    security: dict[str, object] | None = None


# ---- What a finished job hands to the reports (the engine ↔ reports contract) -------------------

#: A range of bad or mismatching data: (first byte offset, length in bytes).
ByteRange = tuple[int, int]


@dataclass(frozen=True)
class StepRecord:
    """One thing actually done to the drive, as it will appear in the report."""

    name: str  # "overwrite pass 1/3 (random)", "nvme format (SES=1)", "BLKZEROOUT"
    kind: str  # "overwrite" | "firmware" | "ioctl" | "prepare"
    command: str  # argv joined with spaces, or the ioctl and its arguments
    started_at: str  # ISO 8601 with time zone
    ended_at: str
    ok: bool
    exit_status: int | None = None
    output_excerpt: str = ""
    bytes_written: int = 0
    bad_ranges: tuple[ByteRange, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class VerifyResult:
    """What verification read back; a report states only what this proved."""

    mode: str  # "none" | "sample" | "full"
    expected: str  # "zeros", "ones", "byte 0x5a", "random stream", "differs from fingerprint"
    bytes_checked: int
    bytes_total: int
    passed: bool
    mismatches: tuple[ByteRange, ...] = ()
    detail: str = ""
    #: Class of what the media returns now: "zeros", "ones", "constant 0xNN", "pattern",
    #: "random-looking", "mixed".
    observed_class: str = ""

    @property
    def coverage_pct(self) -> float:
        return 100.0 * self.bytes_checked / self.bytes_total if self.bytes_total else 0.0


@dataclass(frozen=True)
class JobResult:
    """Everything a job did and proved, handed to the reports when the job ends."""

    job_id: str
    drive: Drive
    method: str
    level: str  # "clear" | "purge" | "none"
    standard: str  # which standard's reading gave ``level``
    state: JobState  # passed | failed | cancelled | removed
    reason: str  # why it passed/failed, one line for a person
    started_at: str
    ended_at: str
    steps: tuple[StepRecord, ...] = ()
    verification: VerifyResult | None = None
    fallbacks: tuple[str, ...] = ()  # "nvme sanitize refused (0x4001) → nvme format SES=1"
    bad_ranges: tuple[ByteRange, ...] = ()
    resumed_from: dict[str, object] | None = None  # {"offset": int, "pass": int, "at": iso}
    fingerprint: Fingerprint | None = None  # pre-wipe sample hashes
    health: SmartSummary | None = None  # SMART summary from the probe
    #: the medium the plan's level was chosen for (planning.medium_of)
    medium: str = ""
    hpa_dco: dict[str, object] | None = None
    #: the sector format as probed and whether it was reformatted (engine/records.py)
    sector_format: dict[str, object] | None = None
    security: dict[str, object] | None = None  # DriveFacts.security, as probed before the wipe
    notes: tuple[str, ...] = ()
    #: Why the policy chose this method for this drive (``auto``: what it chose and skipped).
    decision: tuple[str, ...] = ()
    #: The method that ran last: ``auto``'s choice, or the fallback taken ('' = none ran).
    executed: str = ""

    @property
    def passed(self) -> bool:
        return self.state == JobState.PASSED
