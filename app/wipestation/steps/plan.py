"""The plan vocabulary: a method made concrete for one drive, the steps to run, and what the
medium must read afterwards.

Why a module of its own: planning (``wipestation.planning``) builds plans and the engine
(``wipestation.engine``) runs them; neither owns the words they share, so both depend on this
module and never on each other. A step is anything with read-only ``name``/``kind`` and
``run(ctx) -> StepRecord``: an overwrite pass (``steps/overwrite.py``), a firmware command
(``steps/firmware.py``) or a block ioctl. Steps never trust an exit code for the result: the
engine verifies ``expect`` afterwards, and only verification makes a job PASS.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from wipestation.errors import WipestationError
from wipestation.model import Drive, DriveFacts, StepRecord, VerifyMode

if TYPE_CHECKING:
    from wipestation.steps.blockio import BlockIO


class Expect(StrEnum):
    """What the whole medium must read back as after the plan's steps."""

    ZEROS = "zeros"
    ONES = "ones"
    BYTE = "byte"  # a constant byte (Expectation.byte)
    STREAM = "stream"  # the job's keyed random stream (regenerated for verification)
    CHANGED = "changed"  # firmware erase with a vendor/crypto result: no sample may match the
    #                      pre-erase fingerprint, and the result class is recorded
    NOTHING = "nothing"  # no expectation (verify=none only)


@dataclass(frozen=True)
class Expectation:
    kind: Expect
    byte: int = 0

    def describe(self) -> str:
        if self.kind == Expect.BYTE:
            return f"byte 0x{self.byte:02x}"
        return {"stream": "random stream", "changed": "differs from pre-erase fingerprint"}.get(
            self.kind.value, self.kind.value
        )


class CancelledError(WipestationError):
    """The operator cancelled the job (or its drive was reported removed)."""


class StepKind(StrEnum):
    """What kind of work a step does; the engine treats each kind differently."""

    OVERWRITE = "overwrite"  # writes every LBA itself (counted as a pass, resumable)
    FIRMWARE = "firmware"  # a drive command; the drive is held with O_EXCL while it runs
    IOCTL = "ioctl"  # a block-layer ioctl over the whole device
    PREPARE = "prepare"  # changes the drive (HPA, sector size): the engine re-reads it after


class StepContext(Protocol):
    """What a running step may use. The engine provides it; steps never open devices themselves."""

    @property
    def drive(self) -> Drive: ...

    @property
    def cancel(self) -> threading.Event: ...

    def open_for_write(self, direct: bool = True) -> int:
        """A read-write fd, after the protection/identity re-check (Inventory.open_for_wipe)."""
        ...

    def progress(self, done: int, total: int, phase: str = "") -> None: ...

    def log(self, line: str) -> None: ...


class OverwriteContext(StepContext, Protocol):
    """What an overwrite pass needs beyond ``StepContext``: stream, resume point, checkpoints."""

    @property
    def stream_key(self) -> bytes: ...

    @property
    def buffer_size(self) -> int: ...

    @property
    def start_offset(self) -> int: ...

    def open_io(self) -> BlockIO: ...

    def advance(self, offset: int, size: int) -> None: ...

    def error(self, message: str) -> None: ...

    def checkpoint_due(self) -> bool: ...

    def checkpoint(self, offset: int) -> None: ...


class Step(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> StepKind: ...

    def run(self, ctx: OverwriteContext) -> StepRecord:
        """Do the step (the engine hands every step the whole context; most use only the
        ``StepContext`` part). Raises DeviceGoneError, ToolError or UnsupportedError on failure."""
        ...


@dataclass(frozen=True)
class Plan:
    """An ordered list of steps plus the proof the engine must obtain afterwards."""

    method: str
    level: str  # "clear" | "purge"
    standard: str  # e.g. "NIST SP 800-88 Rev. 1 Table A-8 (stricter than IEEE 2883 reading)"
    steps: tuple[Step, ...]
    expect: Expectation
    verify: VerifyMode = "sample"
    #: Run when a step fails, times out, is unsupported, or verification finds data left behind.
    fallback: Plan | None = None
    #: Why the policy chose this plan (each decision, for the report).
    reasons: tuple[str, ...] = ()
    #: The method the operator asked for (``auto``); ``method`` is what it became.
    requested: str = ""
    #: What the probe found, for the record (medium, health, hidden areas).
    facts: DriveFacts | None = None

    @property
    def asked_for(self) -> str:
        return self.requested or self.method
