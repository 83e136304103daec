"""What a job records beyond its successful steps: failed steps, why a fallback ran, the size
after a prepare step, unreadable ranges found by verification. Real loop devices; faults through the
engine's BlockIO seam (the host kernel cannot make a read error, see test_io_faults.py)."""

from __future__ import annotations

import errno
import os
import subprocess
from dataclasses import dataclass

import pytest
from wipestation.engine import records
from wipestation.model import JobState, StepRecord, now_iso
from wipestation.planning.capabilities import Capabilities
from wipestation.planning.policy import hidden_areas
from wipestation.steps.blockio import FdBlockIO
from wipestation.steps.overwrite import OverwriteStep
from wipestation.steps.patterns import ZEROS
from wipestation.steps.plan import Expect, Expectation, Plan
from wipestation.tools.hdparm import DcoState, HpaState

from tests.engine.conftest import MiB, drive_of, read_all, register_plan
from tests.engine.steps import NoopStep, RefusedStep
from tests.helpers.loops import settle

SIZE = 8 * MiB
ORIGINAL = b"payroll 2019 "


def plan(steps, expect, verify, fallback=None, name="test", level="purge") -> Plan:
    return Plan(name, level, f"test {level}", tuple(steps), expect, verify, fallback)


def zero_fallback(verify: str = "full") -> Plan:
    return plan(
        [OverwriteStep(ZEROS)], Expectation(Expect.ZEROS), verify, name="zeros", level="clear"
    )


def run_one(make_loop, make_engine, method: str, verify: str, **engine_kw):
    dev = make_loop(SIZE, ORIGINAL)
    engine = make_engine(buffer_size=MiB, **engine_kw)
    job = engine.start(drive_of(dev), method, verify)
    assert engine.wait(timeout=120)
    return dev, engine.results()[job]


# ---- 1. a step that raises is still a step record, and the fallback says which and why ----------


def test_a_refused_step_is_recorded_as_failed_and_named_in_the_fallback(make_loop, make_engine):
    register_plan(
        "t-refused-fb",
        lambda v: plan(
            [RefusedStep()], Expectation(Expect.CHANGED), v, zero_fallback(), "sanitize"
        ),
    )
    dev, result = run_one(make_loop, make_engine, "t-refused-fb", "sample")
    assert result.state == JobState.PASSED, result.reason
    failed, overwrite = result.steps
    assert (failed.name, failed.kind, failed.ok) == ("nvme sanitize", "firmware", False)
    assert "0x4001" in failed.error
    assert failed.command == "nvme sanitize"
    assert failed.exit_status == 1
    assert failed.started_at
    assert failed.ended_at
    assert overwrite.ok
    assert result.fallbacks == (
        "sanitize: nvme sanitize failed: nvme failed with exit status 1: "
        "Invalid Command Opcode (0x4001); fallback → zeros",
    )
    assert result.level == "clear"  # the fallback's level, not the refused plan's
    assert read_all(dev) == bytes(SIZE)


def test_a_failed_step_without_fallback_is_recorded(make_loop, make_engine):
    register_plan("t-refused-only", lambda v: plan([RefusedStep()], Expectation(Expect.CHANGED), v))
    _, result = run_one(make_loop, make_engine, "t-refused-only", "sample")
    assert result.state == JobState.FAILED
    assert [(s.name, s.ok) for s in result.steps] == [("nvme sanitize", False)]
    assert "nvme sanitize failed" in result.reason
    assert result.level == "none"


def test_a_verification_fallback_names_the_step_that_did_not_erase(make_loop, make_engine):
    register_plan(
        "t-noop-fb",
        lambda v: plan([NoopStep()], Expectation(Expect.CHANGED), v, zero_fallback(), "format"),
    )
    _, result = run_one(make_loop, make_engine, "t-noop-fb", "sample")
    assert result.state == JobState.PASSED, result.reason
    (line,) = result.fallbacks
    assert line.startswith("format: false success did not erase: verification failed (")
    assert line.endswith("; fallback → zeros")


def test_a_password_never_reaches_the_command_of_a_failed_step():
    from wipestation.errors import ToolFailedError

    err = ToolFailedError(
        ["/usr/sbin/hdparm", "--security-erase", "Wipestation", "/dev/sdz"], 0, "aborted"
    )
    rec = records.failed_step("ATA security erase", "firmware", now_iso(), err, [])
    assert rec.command == "hdparm --security-erase **** /dev/sdz"
    assert "Wipestation" not in rec.command
    assert rec.error.startswith("hdparm failed with exit status 0: aborted")


# ---- 3. after a prepare step the drive is read again --------------------------------------------


@dataclass(frozen=True)
class GrowStep:
    """Like an HPA reset: the drive shows more sectors afterwards, holding old data."""

    extra: int
    name: str = "reset HPA (test)"
    kind: str = "prepare"

    def run(self, ctx) -> StepRecord:
        with open(f"/sys/block/{ctx.drive.name}/loop/backing_file") as f:
            backing = f.read().strip()
        size = os.path.getsize(backing)
        with open(backing, "r+b") as f:
            f.truncate(size + self.extra)
        fill_tail(backing, size, self.extra)
        subprocess.run(["losetup", "-c", ctx.drive.path], check=True)
        settle()
        return StepRecord(self.name, self.kind, "losetup -c", now_iso(), now_iso(), True)


def fill_tail(path: str, offset: int, length: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write((ORIGINAL * (length // len(ORIGINAL) + 1))[:length])
        f.flush()
        os.fsync(f.fileno())


def test_after_a_prepare_step_the_new_size_is_erased_and_verified(make_loop, make_engine):
    extra = 4 * MiB
    register_plan(
        "t-grow",
        lambda v: plan([GrowStep(extra), OverwriteStep(ZEROS)], Expectation(Expect.ZEROS), v),
    )
    dev, result = run_one(make_loop, make_engine, "t-grow", "full")
    assert result.state == JobState.PASSED, result.reason
    new = SIZE + extra
    assert result.drive.size_bytes == new
    assert result.verification.bytes_total == new
    assert result.verification.bytes_checked == new
    assert result.steps[1].bytes_written == new
    assert f"size after reset HPA (test): {SIZE} → {new} bytes" in " | ".join(result.notes)
    assert read_all(dev) == bytes(new)  # the grown tail held data: it was overwritten too


def test_an_unchanged_size_is_noted_too(make_loop, make_engine):
    register_plan(
        "t-grow0", lambda v: plan([GrowStep(0), OverwriteStep(ZEROS)], Expectation(Expect.ZEROS), v)
    )
    _, result = run_one(make_loop, make_engine, "t-grow0", "sample")
    assert result.state == JobState.PASSED, result.reason
    assert f"size after reset HPA (test): unchanged, {SIZE} bytes" in result.notes


def test_hidden_area_is_left_unless_a_prepare_step_removed_it():
    caps = Capabilities(
        path="/dev/sdz",
        transport="sata",
        hpa=HpaState(current=900, native=1000, enabled=True),
        dco=DcoState(real_max=1000),
    )
    reset = StepRecord("reset HPA (max sectors → 1000)", "prepare", "hdparm", "", "", True)
    before = records.hpa_dco_of(hidden_areas(caps), [])
    assert before["hidden_before"]
    assert before["hidden_after"]
    assert before["hidden_sectors_before"] == 100
    assert records.hpa_dco_of(hidden_areas(caps), [reset])["hidden_after"] is False
    failed = StepRecord(reset.name, "prepare", "hdparm", "", "", False)
    assert records.hpa_dco_of(hidden_areas(caps), [failed])["hidden_after"] is True
    assert records.hpa_dco_of(hidden_areas(Capabilities("/dev/loop0", "loop")), []) is None


# ---- 4. a read error during verification is recorded where it happened ---------------------------


class BadReadIO(FdBlockIO):
    """Reads touching ``bad`` fail with ``err`` once the wipe has begun (a medium error)."""

    armed = False

    def __init__(self, fd, drive, bad: tuple[int, int], err: int) -> None:
        super().__init__(fd, drive)
        self.bad, self.err = bad, err

    def write_at(self, buf, offset):
        BadReadIO.armed = True  # the fingerprint before the wipe reads fine
        return super().write_at(buf, offset)

    def read_into(self, buf, offset):
        lo, n = self.bad
        if self.armed and offset < lo + n and lo < offset + len(buf):
            raise OSError(self.err, os.strerror(self.err))
        return super().read_into(buf, offset)


@pytest.mark.parametrize("err", [errno.EIO, errno.ENODATA])
@pytest.mark.parametrize("verify", ["full", "sample"])
def test_a_read_error_in_verification_records_the_range_and_fails(
    make_loop, make_engine, err, verify
):
    BadReadIO.armed = False
    bad = (512, 1024)  # inside the first MiB, which every sample reads
    _, result = run_one(
        make_loop,
        make_engine,
        "overwrite-zero",
        verify,
        io_factory=lambda fd, d: BadReadIO(fd, d, bad, err),
    )
    assert result.state == JobState.FAILED
    v = result.verification
    assert v is not None
    assert not v.passed
    assert v.mismatches == (bad,)
    assert result.bad_ranges == (bad,)
    assert v.detail.startswith(f"read error at byte 512 (+1024): {os.strerror(err)}")
    assert "read error at byte 512" in result.reason
    assert "I/O error:" not in result.reason
    assert result.level == "none"


def test_a_vanished_device_during_verification_is_removed_not_a_read_error(make_loop, make_engine):
    BadReadIO.armed = False
    _, result = run_one(
        make_loop,
        make_engine,
        "overwrite-zero",
        "full",
        io_factory=lambda fd, d: BadReadIO(fd, d, (0, SIZE), errno.ENXIO),
    )
    assert result.state == JobState.REMOVED
    assert result.bad_ranges == ()
