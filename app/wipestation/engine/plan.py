"""A method made concrete for one drive: the steps to run and what the medium must read afterwards.

The policy layer (``wipestation.policy``) builds plans; the engine (``engine/jobs.py``) runs them.
A step is anything with ``run(ctx) -> StepRecord``: an overwrite pass, a firmware command
(``nvme format``, ATA sanitize, ...) or a block ioctl. Steps never trust an exit code for the
result: the engine verifies ``expect`` afterwards, and only verification makes a job PASS.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from wipestation.model import Drive, StepRecord


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


class StepContext(Protocol):
    """What a running step may use. The engine provides it; steps never open devices themselves."""

    drive: Drive
    cancel: threading.Event

    def open_for_write(self, direct: bool = True) -> int:
        """A read-write fd, after the protection/identity re-check (Inventory.open_for_wipe)."""
        ...

    def progress(self, done: int, total: int, phase: str = "") -> None: ...

    def log(self, line: str) -> None: ...


class Step(Protocol):
    name: str
    kind: str  # "overwrite" | "firmware" | "ioctl" | "prepare"

    def run(self, ctx: StepContext) -> StepRecord:
        """Do the step. Raises DeviceGoneError, ToolError or UnsupportedError on failure."""
        ...


@dataclass(frozen=True)
class Plan:
    """An ordered list of steps plus the proof the engine must obtain afterwards."""

    method: str
    level: str  # "clear" | "purge"
    standard: str  # e.g. "NIST SP 800-88 Rev. 1 Table A-8 (stricter than IEEE 2883 reading)"
    steps: tuple[Step, ...]
    expect: Expectation
    verify: str = "sample"  # "none" | "sample" | "full"
    #: Run when a step fails, times out, is unsupported, or verification finds data left behind.
    fallback: Plan | None = None
    #: Why the policy chose this plan (each decision, for the report).
    reasons: tuple[str, ...] = ()
