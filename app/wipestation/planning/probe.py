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
from collections.abc import Callable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import TypeVar

from wipestation.errors import ToolError, ToolMissingError, UnsupportedError
from wipestation.model import Drive, Transport
from wipestation.planning.capabilities import Capabilities
from wipestation.tools import blkdev, hdparm, mmc, nvme, opal, sg, smartctl
from wipestation.tools.runner import Runner, run

T = TypeVar("T")

#: USB bridges whose ATA pass-through (SAT) this station trusts: "vvvv:pppp" → why.
#: Add a bridge only after its firmware commands were tested on this station.
USB_PASSTHROUGH_ALLOWLIST: Mapping[str, str] = MappingProxyType({})

MEM_SLEEP = "/sys/power/mem_sleep"
#: Read instead of MEM_SLEEP when set (the tests pin the platform's sleep states with it).
MEM_SLEEP_ENV = "WIPESTATION_MEM_SLEEP"


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
    allowlist: Mapping[str, str] | None = None,
    read_first_block: Callable[[str], bool | None] | None = None,
) -> Capabilities:
    """Ask the drive what it supports. Never raises for a missing tool or a refusing drive."""
    a = _Asker()
    allow = USB_PASSTHROUGH_ALLOWLIST if allowlist is None else allowlist
    caps = Capabilities(
        path=drive.path,
        transport=str(drive.transport),
        queue=a.ask("sysfs queue limits", lambda: blkdev.queue_limits(drive.name, sys_block)),
        usb_id=drive.usb_id,
        usb_passthrough=allow.get(drive.usb_id, "") if drive.usb_id else "",
        mem_sleep_deep=_deep_sleep(mem_sleep or os.environ.get(MEM_SLEEP_ENV, MEM_SLEEP)),
    )
    caps = _ask_interface(drive, caps, a, runner, sys_block)
    if drive.transport not in (Transport.LOOP, Transport.VIRTIO, Transport.MMC):  # no SMART
        smart = a.ask(
            "smartctl", lambda: smartctl.summary(drive.path, caps.transport, runner=runner)
        )
        caps = replace(caps, smart=smart)
    caps = replace(caps, tcg=_ask_tcg(drive, caps, runner))
    if caps.tcg is not None and (caps.tcg.ssc or caps.tcg.locking):
        a.notes.append(caps.tcg.describe())
    readable = (read_first_block or _first_block_readable)(drive.path)
    if readable is False and drive.size_bytes > 0:
        a.notes.append(_unreadable_note(caps))
    return replace(
        caps,
        opal_locked=_locked(caps.tcg, readable),
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
            hpa=a.ask("hdparm -N", lambda: hdparm.hpa(dev, runner=runner)) if ata else None,
            dco=a.ask("hdparm --dco-identify", lambda: hdparm.dco(dev, runner=runner))
            if ata
            else None,
        )
    if t == Transport.MMC:
        return _ask_mmc(drive, caps, a, runner, sys_block)
    if t in (Transport.SAS, Transport.SCSI):
        return replace(
            caps,
            scsi_opcodes=a.ask("sg_opcodes", lambda: sg.opcodes(dev, runner=runner)),
            readcap=a.ask("sg_readcap -l", lambda: sg.readcap(dev, runner=runner)),
        )
    return caps


def _ask_mmc(
    drive: Drive, caps: Capabilities, a: _Asker, runner: Runner, sys_block: str
) -> Capabilities:
    """sysfs first: only a card that says it is an eMMC ("MMC") is asked for its EXT_CSD (an SD
    card reads CMD8 as SEND_IF_COND, and an unknown card is asked nothing)."""
    card = a.ask("mmc sysfs", lambda: mmc.card(drive.name, sys_block))
    if card is None or not card.emmc:
        return replace(caps, mmc_card=card)
    ext = a.ask("mmc extcsd read", lambda: mmc.extcsd(drive.path, runner=runner))
    return replace(caps, mmc_card=card, ext_csd=ext)


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


def _ask_tcg(drive: Drive, caps: Capabilities, runner: Runner) -> opal.Discovery | None:
    """TCG Level 0 Discovery where the interface carries it (NVMe: OACS bit 0 says Security
    Send/Receive). A drive that refuses the command, or a missing tool, is "no answer": None."""
    t, dev = drive.transport, drive.path
    try:
        if t == Transport.NVME and caps.nvme is not None and caps.nvme.oacs & 1:
            return opal.discover_nvme(nvme.controller_of(dev), runner=runner)
        if t == Transport.SATA and caps.ata is not None:
            return opal.discover_ata(dev, runner=runner)
        if t in (Transport.SAS, Transport.SCSI):
            return opal.discover_scsi(dev, runner=runner)
    except (ToolError, OSError):
        return None
    return None


def _locked(tcg: opal.Discovery | None, readable: bool | None) -> bool | None:
    """A locked SED: what its discovery says; the LBA 0 heuristic only where it said nothing."""
    if tcg is not None and tcg.locked is not None:
        return tcg.locked
    return None if readable is None else not readable


def _unreadable_note(caps: Capabilities) -> str:
    """Why LBA 0 may refuse reads: a locked ATA drive says so itself; else a locked SED."""
    sec = caps.ata.security if caps.ata else None
    if sec is not None and sec.locked:
        return "LBA 0 cannot be read: ATA security is locked (user or master password set)"
    if caps.tcg is not None and caps.tcg.locked is not None:
        return f"LBA 0 cannot be read ({'a locked' if caps.tcg.locked else 'not a locked'} SED)"
    return "LBA 0 cannot be read: the drive may be a locked TCG Opal SED"


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
