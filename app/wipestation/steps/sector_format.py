"""FORMAT UNIT to 512-byte logical blocks: the step for a SAS drive that came out of an array.

Why a step of its own: EMC, NetApp, 3PAR and IBM arrays format their drives with 520- or
528-byte sectors, and Linux shows such a drive with a size of 0 (sd: "Unsupported sector
size"), so nothing can read, write or verify it until a long FORMAT UNIT (``sg_format --format
--size=512``, FMTPINFO 0: no protection information) rewrites every block. That takes minutes
on an SSD and hours on a large HDD: progress comes from REQUEST SENSE (``sg_requests
--progress``), because during the format READ CAPACITY and TEST UNIT READY only say "not
ready". Nothing is trusted: READ CAPACITY must report 512-byte blocks afterwards, then the
kernel re-reads the disk (SCSI rescan) and the engine re-reads its size (kind ``prepare``)
before the erase that follows. A drive already at 512 bytes (the plan's fallback after a first
reformat) is left alone.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from wipestation.errors import ToolError, ToolFailedError
from wipestation.model import StepRecord, now_iso
from wipestation.steps.firmware import step_record
from wipestation.steps.plan import StepContext, StepKind
from wipestation.tools import sg
from wipestation.tools.runner import Runner, run

TARGET_BLOCK = 512
NAME = f"reformat to {TARGET_BLOCK}-byte sectors (SCSI FORMAT UNIT)"
POLL_S = 10.0
#: A 20 TB HDD formats in about a day; past this the step gives up (the drive keeps going).
MAX_WAIT_S = 48 * 3600.0
CANCEL_NOTE = (
    "cancel requested: a FORMAT UNIT cannot be stopped; the drive answers 'not ready' (or "
    "'medium format corrupted' if reset) until it is formatted again"
)


@dataclass(frozen=True)
class SectorReformatStep:
    """``sg_format --format --size=512``, polled to the end, then READ CAPACITY read back."""

    dev: str = ""
    kind: StepKind = StepKind.PREPARE
    runner: Runner = field(default=run, compare=False, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)
    poll_s: float = POLL_S
    max_wait_s: float = MAX_WAIT_S
    #: where the kernel's SCSI rescan switch lives (a test points it at a temporary tree)
    sysfs: str = "/sys"

    @property
    def name(self) -> str:
        return NAME

    def run(self, ctx: StepContext) -> StepRecord:
        started = now_iso()
        before = self._readcap()
        if before is not None and before.block_length == TARGET_BLOCK:
            note = f"already {before.describe()}: no reformat needed"
            return step_record(self.name, self.kind, [], started, None, note)
        argv = sg.build_format_argv(self.dev, TARGET_BLOCK)
        ctx.log(" ".join(argv))
        done = sg.format_unit(self.dev, TARGET_BLOCK, runner=self.runner)
        self._wait_progress(ctx)
        after = self._wait_ready()
        ctx.log(rescan(self.dev, self.sysfs))
        was = before.describe() if before else "sector format unreadable before the format"
        return step_record(self.name, self.kind, argv, started, done, f"{was} → {after.describe()}")

    def _readcap(self) -> sg.ReadCap | None:
        """READ CAPACITY(16); None while the drive cannot answer (format corrupted, not ready)."""
        try:
            return sg.readcap(self.dev, runner=self.runner)
        except ToolFailedError:
            return None

    def _polls(self) -> int:
        return max(1, int(self.max_wait_s / max(self.poll_s, 0.001)))

    def _wait_progress(self, ctx: StepContext) -> None:
        """REQUEST SENSE progress until the drive stops reporting one (the format ended)."""
        told = False
        for _ in range(self._polls()):
            frac = sg.progress(self.dev, runner=self.runner)
            if frac is None:
                ctx.progress(1000, 1000, "reformat")
                return
            ctx.progress(int(frac * 1000), 1000, "reformat")
            if ctx.cancel.is_set() and not told:
                ctx.log(CANCEL_NOTE)
                told = True
            self.sleep(self.poll_s)
        raise ToolError(f"FORMAT UNIT of {self.dev} still running after {self.max_wait_s:g} s")

    def _wait_ready(self) -> sg.ReadCap:
        """READ CAPACITY must answer, and with 512-byte blocks: the drive's own word on it."""
        for _ in range(self._polls()):
            cap = self._readcap()
            if cap is not None and cap.block_length == TARGET_BLOCK:
                return cap
            if cap is not None:
                raise ToolError(
                    f"{self.dev} still has {cap.describe()} after FORMAT UNIT: the drive "
                    "refused 512-byte sectors (some array firmware locks its format)"
                )
            self.sleep(self.poll_s)
        raise ToolError(f"{self.dev} never answered READ CAPACITY after FORMAT UNIT")


def rescan(dev: str, sysfs: str = "/sys") -> str:
    """Ask the kernel to re-read the disk's capacity (sd revalidates on a SCSI rescan).

    Why: Linux keeps a disk with an unsupported sector size at 0 bytes until it looks again;
    a fixed disk is not re-read on open.
    """
    path = os.path.join(sysfs, "class", "block", os.path.basename(dev), "device", "rescan")
    try:
        with open(path, "w", encoding="ascii") as f:
            f.write("1")
    except OSError as e:
        raise ToolError(f"could not rescan {dev} after FORMAT UNIT ({path}: {e.strerror})") from e
    return f"rescanned {dev} ({path})"
