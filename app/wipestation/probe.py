"""What a drive's hardware says it can do, asked once before a method is chosen.

Why a separate probe: the policy must decide from facts the drive reported (SANICAP, hdparm -I,
sg_opcodes, sysfs), never from the model name, and the operator must see those facts
(``wipestation probe``). The probe only reads: identify commands, logs and sysfs. A missing tool
becomes an ``availability_errors`` entry ("hdparm not found"), a tool that fails becomes a
``notes`` entry; neither is a crash. USB bridges are asked only through smartctl unless the
bridge is on the pass-through allow-list, because ATA/NVMe pass-through on unknown bridges is
unreliable and can brick drives.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from wipestation.errors import ToolError, ToolMissingError, UnsupportedError
from wipestation.model import Drive, Transport
from wipestation.tools import blkdev, hdparm, nvme, sg, smartctl
from wipestation.tools.runner import Runner, run

T = TypeVar("T")

#: USB bridges whose ATA pass-through (SAT) this station trusts: "vvvv:pppp" → why.
#: Add a bridge only after its firmware commands were tested on this station.
USB_PASSTHROUGH_ALLOWLIST: dict[str, str] = {}

MEM_SLEEP = "/sys/power/mem_sleep"
#: Read instead of MEM_SLEEP when set (the tests pin the platform's sleep states with it).
MEM_SLEEP_ENV = "WIPESTATION_MEM_SLEEP"
#: How long a probe answer is reused (``probe_cached``): long enough for check → start → the
#: job's worker, short enough that a drive swapped into the bay later is asked afresh.
PROBE_CACHE_TTL_S = 60.0


@dataclass(frozen=True)
class Capabilities:
    """Everything the policy needs; ``None`` means "not asked" or "the drive did not say"."""

    path: str
    transport: str
    medium: str  # "hdd" | "ssd" | "nvme" | "usb-flash" | "virtual"
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
    usb_id: str = ""
    usb_passthrough: str = ""  # allow-list reason when the bridge is trusted, else ""
    #: TCG Opal: True when the drive refuses reads of LBA 0 while claiming capacity (locked SED).
    opal_locked: bool | None = None
    mem_sleep_deep: bool = False
    availability_errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ata_frozen(self) -> bool:
        return bool(self.ata and self.ata.security and self.ata.security.frozen)

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
            "medium": self.medium,
            "nvme": js(self.nvme),
            "namespaces": list(self.namespaces),
            "ata": js(self.ata),
            "hpa": js(self.hpa) and {**self.hpa.__dict__, "hidden": self.hpa.hidden_sectors},
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
            "usb_id": self.usb_id,
            "usb_passthrough": self.usb_passthrough,
            "opal_locked": self.opal_locked,
            "mem_sleep_deep": self.mem_sleep_deep,
            "availability_errors": list(self.availability_errors),
            "notes": list(self.notes),
        }


def medium_of(drive: Drive, ata: hdparm.AtaIdentify | None = None) -> str:
    t = drive.transport
    if t == Transport.NVME:
        return "nvme"
    if t in (Transport.VIRTIO, Transport.LOOP):
        return "virtual"
    rotational = ata.rotational if ata and ata.rotational is not None else drive.rotational
    if t in (Transport.USB, Transport.MMC) and ata is None:  # a stick, or an unasked bridge
        return "hdd" if rotational else "usb-flash"
    return "hdd" if rotational else "ssd"


class _Asker:
    """Runs probe questions, turning missing tools and failures into records instead of raises."""

    def __init__(self) -> None:
        self.missing: list[str] = []
        self.notes: list[str] = []

    def ask(self, what: str, fn: Callable[[], T]) -> T | None:
        try:
            return fn()
        except ToolMissingError as e:
            self.missing.append(f"{what}: {e}")
        except (ToolError, UnsupportedError) as e:
            self.notes.append(f"{what}: {e}")
        except OSError as e:
            self.notes.append(f"{what}: {e.strerror or e}")
        return None


def probe(
    drive: Drive,
    *,
    runner: Runner = run,
    sys_block: str = "/sys/class/block",
    mem_sleep: str = "",
    allowlist: dict[str, str] | None = None,
    read_first_block: Callable[[str], bool | None] | None = None,
) -> Capabilities:
    """Ask the drive what it supports. Never raises for a missing tool or a refusing drive."""
    a = _Asker()
    allow = USB_PASSTHROUGH_ALLOWLIST if allowlist is None else allowlist
    caps = Capabilities(
        path=drive.path,
        transport=str(drive.transport),
        medium=medium_of(drive),
        queue=a.ask("sysfs queue limits", lambda: blkdev.queue_limits(drive.name, sys_block)),
        usb_id=drive.usb_id,
        usb_passthrough=allow.get(drive.usb_id, "") if drive.usb_id else "",
        mem_sleep_deep=_deep_sleep(mem_sleep or os.environ.get(MEM_SLEEP_ENV, MEM_SLEEP)),
    )
    caps = _ask_interface(drive, caps, a, runner, sys_block)
    if drive.transport not in (Transport.LOOP, Transport.VIRTIO):
        smart = a.ask(
            "smartctl", lambda: smartctl.summary(drive.path, caps.transport, runner=runner)
        )
        caps = replace(caps, smart=smart)
    readable = (read_first_block or _first_block_readable)(drive.path)
    if readable is False and drive.size_bytes > 0:
        a.notes.append("LBA 0 cannot be read: the drive may be a locked TCG Opal SED")
    return replace(
        caps,
        opal_locked=None if readable is None else not readable,
        availability_errors=tuple(a.missing),
        notes=tuple(a.notes),
    )


def _ask_interface(
    drive: Drive, caps: Capabilities, a: _Asker, runner: Runner, sys_block: str
) -> Capabilities:
    t, dev = drive.transport, drive.path
    if t == Transport.NVME:
        ctrl = nvme.controller_of(dev)
        return replace(
            caps,
            nvme=a.ask("nvme id-ctrl", lambda: nvme.id_ctrl(ctrl, runner=runner)),
            namespaces=namespaces_of(drive, sys_block),
        )
    if t == Transport.SATA or (t == Transport.USB and caps.usb_passthrough):
        ata = a.ask("hdparm -I", lambda: hdparm.identify(dev, runner=runner))
        return replace(
            caps,
            ata=ata,
            medium=medium_of(drive, ata),
            hpa=a.ask("hdparm -N", lambda: hdparm.hpa(dev, runner=runner)) if ata else None,
            dco=a.ask("hdparm --dco-identify", lambda: hdparm.dco(dev, runner=runner))
            if ata
            else None,
        )
    if t in (Transport.SAS, Transport.SCSI):
        return replace(
            caps,
            scsi_opcodes=a.ask("sg_opcodes", lambda: sg.opcodes(dev, runner=runner)),
            readcap=a.ask("sg_readcap -l", lambda: sg.readcap(dev, runner=runner)),
        )
    return caps


def namespaces_of(drive: Drive, sys_block: str = "/sys/class/block") -> tuple[str, ...]:
    """``/dev/nvme0n1`` → every ``/dev/nvme0nN`` the kernel shows (just the drive for others)."""
    m = re.fullmatch(r"(nvme\d+)n\d+", drive.name)
    if not m:
        return (drive.path,)
    try:
        names = os.listdir(sys_block)
    except OSError:
        return (drive.path,)
    found = sorted(n for n in names if re.fullmatch(rf"{m.group(1)}n\d+", n))
    return tuple(f"/dev/{n}" for n in found) or (drive.path,)


def _deep_sleep(path: str) -> bool:
    """S3 is offered when ``deep`` is listed in /sys/power/mem_sleep (e.g. ``s2idle [deep]``)."""
    try:
        with open(path, encoding="ascii") as f:
            return "deep" in f.read().replace("[", " ").replace("]", " ").split()
    except OSError:
        return False


def _first_block_readable(path: str) -> bool | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        os.pread(fd, 4096, 0)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


# ---- one probe per job ----------------------------------------------------------------------

CacheKey = tuple[str, tuple[int, int], str]
_cache: dict[CacheKey, tuple[float, Capabilities]] = {}
_cache_lock = threading.Lock()


def _cache_key(drive: Drive) -> CacheKey:
    return (drive.identity, drive.devnum, str(drive.transport))


def probe_cached(
    drive: Drive, *, ttl: float = PROBE_CACHE_TTL_S, clock: Callable[[], float] = time.monotonic
) -> Capabilities:
    """``probe(drive)``, reused for ``ttl`` seconds.

    Why: ``Engine.check``, ``Engine.start`` (through the plan builder) and the job's worker all
    need the same answers within seconds, and each probe runs smartctl/hdparm/nvme, which take
    seconds on a real drive and may wake it. Keyed by identity *and* device number, so another
    drive in the same bay (or the same name) is asked afresh. ``forget`` drops an entry once the
    drive has changed (a prepare step ran, a job ended).
    """
    key = _cache_key(drive)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and clock() - hit[0] < ttl:
        return hit[1]
    caps = probe(drive)
    with _cache_lock:
        _cache[key] = (clock(), caps)
    return caps


def forget(drive: Drive) -> None:
    """Drop the cached probe of ``drive``: what it reported may no longer be true."""
    with _cache_lock:
        _cache.pop(_cache_key(drive), None)
