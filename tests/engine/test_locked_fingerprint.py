"""A drive that refused every read before its erase (a locked SED, a locked ATA drive) and reads
after it: the change check passes on what it can say — the blocks read now — and says that no
data was seen to change, never that the data changed or was uniform."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass

from wipestation.engine.verify import changed_detail
from wipestation.model import JobState
from wipestation.steps.blockio import FdBlockIO
from wipestation.steps.plan import Expect, Expectation, Plan

from tests.engine.conftest import MiB, drive_of, register_plan
from tests.engine.steps import record

LOCKED = {"on": True}


class LockedIO(FdBlockIO):
    """Reads fail with EIO while the drive is locked, as a locked drive answers them."""

    def read_into(self, buf, offset):
        if LOCKED["on"]:
            raise OSError(errno.EIO, "locked")
        return super().read_into(buf, offset)


@dataclass(frozen=True)
class UnlockingErase:
    """Stands in for a PSID revert: the drive is readable afterwards, its old data gone."""

    name: str = "psid revert (stand-in)"
    kind: str = "firmware"

    def run(self, ctx):
        LOCKED["on"] = False
        fd = ctx.open_for_write(direct=False)
        try:
            size = ctx.drive.size_bytes
            for off in range(0, size, MiB):
                os.pwrite(fd, os.urandom(min(MiB, size - off)), off)
            os.fsync(fd)
        finally:
            os.close(fd)
        return record(self.name)


def test_a_drive_unreadable_before_the_erase_is_not_reported_as_changed(make_loop, make_engine):
    LOCKED["on"] = True
    register_plan(
        "t-unlocking",
        lambda v: Plan(
            "t-unlocking", "purge", "test", (UnlockingErase(),), Expectation(Expect.CHANGED), v
        ),
    )
    engine = make_engine(io_factory=LockedIO)
    job = engine.start(drive_of(make_loop(8 * MiB, b"payroll ")), "t-unlocking", "sample")
    assert engine.wait(timeout=120)
    result = engine.results()[job]
    assert result.state == JobState.PASSED, result.reason
    detail = result.verification.detail if result.verification else ""
    assert "unreadable before the erase" in detail
    assert "no data was seen to change" in detail
    assert "data-bearing fingerprint blocks changed" not in detail


def test_the_change_detail_says_only_what_was_seen() -> None:
    assert changed_detail(3, 0) == "all 3 data-bearing fingerprint blocks changed"
    assert "2 fingerprint blocks unreadable before" in changed_detail(3, 2)
    assert "no data was seen to change" in changed_detail(0, 4)
    assert "uniform" in changed_detail(0, 0)
