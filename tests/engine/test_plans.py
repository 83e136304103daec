"""Plans the engine did not write itself: firmware-like steps, fallbacks, CHANGED, corruption."""

from __future__ import annotations

import pytest
from wipestation.model import JobState
from wipestation.steps.overwrite import OverwriteStep
from wipestation.steps.patterns import ZEROS
from wipestation.steps.plan import Expect, Expectation, Plan

from tests.engine.conftest import MiB, drive_of, read_all, register_plan
from tests.engine.steps import ClaimProbeStep, NoopStep, RandomizeStep, RefusedStep, WriteStep

SIZE = 8 * MiB
ORIGINAL = b"secret ledger 42 "


def plan(steps, expect, verify, fallback=None, name="test") -> Plan:
    return Plan(name, "purge", "test", tuple(steps), expect, verify, fallback)


def run_one(make_loop, make_engine, method: str, verify: str):
    dev = make_loop(SIZE, ORIGINAL)
    engine = make_engine(buffer_size=MiB)
    job = engine.start(drive_of(dev), method, verify)
    assert engine.wait(timeout=120)
    return dev, engine.results()[job]


@pytest.mark.parametrize(
    ("offset", "verify"), [(3 * MiB + 4096, "full"), (SIZE - 1024, "sample"), (512, "sample")]
)
def test_verification_catches_a_corrupted_region(make_loop, make_engine, offset, verify):
    corrupt = WriteStep(offset, b"\x42" * 1024)
    register_plan(
        "t-corrupt", lambda v: plan([OverwriteStep(ZEROS), corrupt], Expectation(Expect.ZEROS), v)
    )
    dev, result = run_one(make_loop, make_engine, "t-corrupt", verify)
    assert result.state == JobState.FAILED
    assert result.verification is not None
    assert not result.verification.passed
    assert result.verification.mismatches == ((offset, 1024),)
    assert "verification failed" in result.reason
    assert read_all(dev)[offset : offset + 1024] == b"\x42" * 1024


def test_changed_passes_when_the_medium_changed(make_loop, make_engine):
    register_plan("t-crypto", lambda v: plan([RandomizeStep()], Expectation(Expect.CHANGED), v))
    dev, result = run_one(make_loop, make_engine, "t-crypto", "sample")
    assert result.state == JobState.PASSED, result.reason
    assert result.verification.observed_class == "random-looking"
    assert ORIGINAL not in read_all(dev)


def test_drive_is_held_exclusively_while_a_firmware_step_runs(make_loop, make_engine):
    seen: list[str] = []
    step = ClaimProbeStep(seen=seen)
    register_plan("t-claim", lambda v: plan([step], Expectation(Expect.NOTHING), v))
    run_one(make_loop, make_engine, "t-claim", "none")
    assert seen == ["Device or resource busy", "tool open ok"]


def test_changed_fails_after_a_false_success(make_loop, make_engine):
    register_plan("t-noop", lambda v: plan([NoopStep()], Expectation(Expect.CHANGED), v))
    dev, result = run_one(make_loop, make_engine, "t-noop", "sample")
    assert result.state == JobState.FAILED
    assert "unchanged" in result.verification.detail
    assert result.verification.mismatches  # where the old data still sits
    assert read_all(dev).startswith(ORIGINAL)


def test_refused_firmware_step_runs_the_fallback(make_loop, make_engine):
    fallback = plan([OverwriteStep(ZEROS)], Expectation(Expect.ZEROS), "full", name="overwrite")
    register_plan(
        "t-fallback",
        lambda v: plan([RefusedStep()], Expectation(Expect.CHANGED), v, fallback, "sanitize"),
    )
    dev, result = run_one(make_loop, make_engine, "t-fallback", "sample")
    assert result.state == JobState.PASSED, result.reason
    assert len(result.fallbacks) == 1
    assert "0x4001" in result.fallbacks[0]
    assert read_all(dev) == bytes(SIZE)


def test_failed_verification_runs_the_fallback(make_loop, make_engine):
    fallback = plan([OverwriteStep(ZEROS)], Expectation(Expect.ZEROS), "full", name="overwrite")
    register_plan(
        "t-fallback2",
        lambda v: plan([NoopStep()], Expectation(Expect.CHANGED), v, fallback, "format"),
    )
    dev, result = run_one(make_loop, make_engine, "t-fallback2", "sample")
    assert result.state == JobState.PASSED, result.reason
    assert "verification failed" in result.fallbacks[0]
    assert read_all(dev) == bytes(SIZE)


def test_refused_step_without_fallback_fails(make_loop, make_engine):
    register_plan("t-refused", lambda v: plan([RefusedStep()], Expectation(Expect.CHANGED), v))
    dev, result = run_one(make_loop, make_engine, "t-refused", "sample")
    assert result.state == JobState.FAILED
    assert "0x4001" in result.reason
    assert read_all(dev).startswith(ORIGINAL)
