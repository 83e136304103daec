"""The screen's hold on the job threads (engine/courtesy.py): a key makes every running job wait
at its next chunk or phase boundary; a cancel still ends the wait at once; the wipe is whole."""

from __future__ import annotations

import threading
import time

from wipestation.engine.courtesy import HOLD_S, LONGEST_PAUSE_S, Courtesy
from wipestation.model import JobState

from tests.engine.conftest import MiB, drive_of, read_all

SIZE = 6 * MiB


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_hold_lasts_its_time_and_a_run_of_holds_is_bounded():
    clock = Clock()
    c = Courtesy(clock)
    assert c.remaining() == 0
    c.hold()
    assert c.remaining() == HOLD_S
    clock.now += 1.0
    c.hold()  # a second key extends the hold ...
    assert c.remaining() == HOLD_S
    clock.now += 1.0
    c.hold()  # ... up to LONGEST_PAUSE_S after the run began
    assert clock.now + c.remaining() == 100.0 + LONGEST_PAUSE_S
    clock.now = 100.0 + LONGEST_PAUSE_S + 0.5
    c.hold()  # a stuck key: the jobs' turn now, as long as the run lasted
    assert c.remaining() == 0
    clock.now = 100.0 + 2 * LONGEST_PAUSE_S
    c.hold()
    assert c.remaining() == HOLD_S
    c.release()
    assert c.remaining() == 0


def test_short_holds_never_rest():
    clock = Clock()
    c = Courtesy(clock)
    for _ in range(20):  # a key every few seconds: each one holds
        c.hold()
        assert c.remaining() == HOLD_S
        clock.now += HOLD_S + 0.5


def test_a_cancel_ends_the_pause_at_once():
    c = Courtesy()
    c.hold(LONGEST_PAUSE_S)
    cancel = threading.Event()
    cancel.set()
    c.pause(cancel)
    assert c.remaining() > 0  # returned while the hold still lasted


class CountingCourtesy(Courtesy):
    """Holds for ever (until released) and counts the pauses of the job threads."""

    def __init__(self) -> None:
        super().__init__()
        self.pauses = 0
        self.released = threading.Event()
        self.lock = threading.Lock()

    def pause(self, cancel: threading.Event | None = None) -> None:
        with self.lock:
            self.pauses += 1
        while not self.released.is_set() and not (cancel is not None and cancel.is_set()):
            self.released.wait(0.05)


def test_a_held_job_waits_and_then_finishes_whole(make_loop, make_engine):
    dev = make_loop(SIZE, b"customer data! ")
    held = CountingCourtesy()
    engine = make_engine(buffer_size=MiB, courtesy=held)
    job = engine.start(drive_of(dev), "overwrite-zero", "full")
    assert not engine.wait(timeout=1.0)  # held at its first boundary
    assert engine.snapshot()[job].state in (JobState.QUEUED, JobState.PROBING)
    assert held.pauses >= 1
    held.released.set()
    assert engine.wait(timeout=120)
    result = engine.results()[job]
    assert result.state == JobState.PASSED, result.reason
    assert read_all(dev) == bytes(SIZE)
    # every chunk of the erase (6) and of the full verification (6) met the hold, and phases too
    assert held.pauses >= 12


def test_a_cancel_ends_a_held_job_promptly(make_loop, make_engine):
    dev = make_loop(SIZE, b"customer data! ")
    held = CountingCourtesy()
    engine = make_engine(buffer_size=MiB, courtesy=held)
    job = engine.start(drive_of(dev), "overwrite-zero", "none")
    assert not engine.wait(timeout=1.0)
    asked = time.monotonic()
    engine.cancel(job)
    assert engine.wait(timeout=60)
    assert engine.results()[job].state == JobState.CANCELLED
    assert time.monotonic() - asked < 30  # not the hour the hold would have lasted
