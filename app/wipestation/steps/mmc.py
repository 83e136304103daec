"""Plan steps that ask an eMMC to erase itself through mmc-utils: CMD38 erases and SANITIZE.

Why separate from ``firmware.py``: the MMC commands go through the block device's MMC_IOC_CMD
ioctl (``mmc``), have no progress to poll and no status log to read back; what proves them is the
engine's verification afterwards, as for every firmware step. A sanitize only purges what is
already unmapped, so the catalogue puts an erase or trim of the whole user area before it.
"""

from __future__ import annotations

from dataclasses import dataclass

from wipestation.model import StepRecord, now_iso
from wipestation.steps.firmware import _Tooling, step_record
from wipestation.steps.plan import StepContext, StepKind
from wipestation.tools import mmc


@dataclass(frozen=True)
class MmcEraseStep(_Tooling):
    """``mmc erase <kind> <first> <last> <dev>`` over the user area's sectors."""

    dev: str = ""
    erase: mmc.EraseKind = mmc.EraseKind.SECURE_ERASE
    first: int = 0
    last: int = 0
    kind: StepKind = StepKind.FIRMWARE

    @property
    def name(self) -> str:
        return f"eMMC {mmc.ERASE_WORDS[self.erase].lower()} (CMD38)"

    def run(self, ctx: StepContext) -> StepRecord:
        started = now_iso()
        argv = mmc.build_erase_argv(self.dev, self.erase, self.first, self.last)
        ctx.log(" ".join(argv))
        ctx.progress(0, 1, self.name)
        done = mmc.erase(self.dev, self.erase, self.first, self.last, runner=self.runner)
        ctx.progress(1, 1, self.name)
        return step_record(self.name, self.kind, argv, started, done)


@dataclass(frozen=True)
class MmcSanitizeStep(_Tooling):
    """``mmc sanitize <dev>``: EXT_CSD SANITIZE_START; the card purges its unmapped blocks."""

    dev: str = ""
    kind: StepKind = StepKind.FIRMWARE
    name: str = "eMMC sanitize (EXT_CSD SANITIZE_START)"

    def run(self, ctx: StepContext) -> StepRecord:
        started = now_iso()
        argv = mmc.build_sanitize_argv(self.dev)
        ctx.log(" ".join(argv))
        ctx.progress(0, 1, "sanitize")
        done = mmc.sanitize(self.dev, runner=self.runner)
        ctx.progress(1, 1, "sanitize")
        return step_record(self.name, self.kind, argv, started, done)
