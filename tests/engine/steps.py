"""Stand-in steps for plans the engine must run without knowing them (firmware, corruption)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from wipestation.errors import ToolFailedError
from wipestation.model import StepRecord, now_iso


def record(name: str, ok: bool = True) -> StepRecord:
    return StepRecord(name, "firmware", name, now_iso(), now_iso(), ok)


@dataclass(frozen=True)
class WriteStep:
    """Writes ``data`` at ``offset`` through the context (what a buggy or partial erase leaves)."""

    offset: int
    data: bytes
    name: str = "write"
    kind: str = "ioctl"

    def run(self, ctx) -> StepRecord:
        fd = ctx.open_for_write(direct=False)
        try:
            os.pwrite(fd, self.data, self.offset)
            os.fsync(fd)
        finally:
            os.close(fd)
        return record(self.name)


@dataclass(frozen=True)
class RandomizeStep:
    """Like a crypto erase: the whole medium reads back as unrelated random data."""

    name: str = "fake crypto erase"
    kind: str = "firmware"

    def run(self, ctx) -> StepRecord:
        fd = ctx.open_for_write(direct=False)
        try:
            size = ctx.drive.size_bytes
            for off in range(0, size, 1 << 20):
                os.pwrite(fd, os.urandom(min(1 << 20, size - off)), off)
                ctx.progress(off, size, "sanitize")
            os.fsync(fd)
        finally:
            os.close(fd)
        return record(self.name)


@dataclass(frozen=True)
class NoopStep:
    """A firmware command that exits 0 and does nothing (the false successes in qemu.md)."""

    name: str = "false success"
    kind: str = "firmware"

    def run(self, ctx) -> StepRecord:
        return record(self.name)


@dataclass(frozen=True)
class RefusedStep:
    name: str = "nvme sanitize"
    kind: str = "firmware"

    def run(self, ctx) -> StepRecord:
        raise ToolFailedError(["nvme", "sanitize"], 1, "Invalid Command Opcode (0x4001)")


@dataclass
class ClaimProbeStep:
    """Tries to claim the drive the way a mount would while the "firmware" runs; a real tool's
    plain open must still work."""

    name: str = "claim probe"
    kind: str = "firmware"
    seen: list[str] | None = None

    def run(self, ctx) -> StepRecord:
        seen = self.seen if self.seen is not None else []
        try:
            os.close(os.open(ctx.drive.path, os.O_RDONLY | os.O_EXCL))
            seen.append("claimable")
        except OSError as e:
            seen.append(os.strerror(e.errno))
        os.close(os.open(ctx.drive.path, os.O_RDONLY))  # what nvme-cli/hdparm do
        seen.append("tool open ok")
        return record(self.name)
