"""The screen's unattended mode is the shared ``Autopilot``: it resumes an interrupted wipe from
the journal with its own method, and a boot stick that arrives late restarts the station (at
once when nothing runs, after the running wipes otherwise — never by cancelling them)."""

from __future__ import annotations

import asyncio

import pytest
from wipestation.config import StationConfig
from wipestation.engine.job import WORKER_NICE
from wipestation.engine.resume import Interrupted
from wipestation.model import JobState
from wipestation.tui import RESTART
from wipestation.unattended import RETRY_S

from tests.engine.test_priority import nice
from tests.tui.fakes import GB, FakeEngine, make_drive

SIZE = (120, 40)


def test_the_screen_resumes_an_interrupted_wipe_with_its_own_method(make_app) -> None:
    config = StationConfig(station="conveyor", unattended=True, method="nist-clear")
    cut, fresh = make_drive("sdb", "CUT0001", 2000 * GB), make_drive("sdc", "NEW0001", 1000 * GB)
    app, engine, _ = make_app(drives=[cut, fresh], config=config)
    engine.interrupted_wipes[cut.identity] = Interrupted("overwrite-random", "full", 1 << 30, 0)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()

    asyncio.run(scenario())
    assert sorted(engine.started) == [
        ("sdb", "overwrite-random", "full"),  # the journal's method and verification
        ("sdc", "nist-clear", "sample"),  # the station's
    ]
    by_drive = dict(zip([s[0] for s in engine.started], engine.resumed, strict=True))
    assert by_drive == {"sdb": True, "sdc": False}


def test_a_late_boot_stick_restarts_an_idle_station(make_app) -> None:
    arrived = [False]
    app, engine, _ = make_app(stick_arrived=lambda: arrived[0])

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.tick()
            assert app.is_running  # no stick yet
            arrived[0] = True
            app.tick()
            await pilot.pause()

    asyncio.run(scenario())
    assert app.return_value == RESTART
    assert engine.cancelled == []


def test_a_late_boot_stick_waits_for_the_running_wipes(make_app) -> None:
    arrived = [False]
    app, engine, _ = make_app(stick_arrived=lambda: arrived[0])

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            job = engine.start_method(app.station.rows["sdb"].drive, "nist-clear")
            engine.advance(job, notify=True, state=JobState.ERASING)
            await pilot.pause()
            arrived[0] = True
            app.tick()
            await pilot.pause()
            assert app.is_running  # a wipe runs: never cancelled for new settings
            assert "apply after a restart" in str(app.drives_screen.message.render())
            engine.advance(job, notify=True, state=JobState.PASSED)
            await pilot.pause()
            app.tick()
            await pilot.pause()

    asyncio.run(scenario())
    assert app.return_value == RESTART
    assert engine.cancelled == []


class NiceEngine(FakeEngine):
    """Records the priority of the thread that starts each job (the start loop's)."""

    def __init__(self) -> None:
        super().__init__()
        self.nices: list[int] = []

    def start(self, drive, plan, *, resume=False):  # type: ignore[no-untyped-def]
        self.nices.append(nice())
        return super().start(drive, plan, resume=resume)


@pytest.mark.parametrize("unattended", [True, False])
def test_the_start_loops_plan_at_the_wipes_priority_and_the_screen_keeps_its_own(
    make_app, unattended: bool
) -> None:
    """Issue 18: planning probes each drive with tools; the start loops (the autopilot's and
    the operator's) and so their tools run at WORKER_NICE, never at the screen's priority."""
    config = StationConfig(station="s", unattended=unattended, method="nist-clear")
    engine = NiceEngine()
    app, _, _ = make_app(drives=[make_drive("sdb", "NICE0001", GB)], config=config, engine=engine)
    screen_nice: list[int] = []

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            screen_nice.append(nice())
            if not unattended:
                app.start_wipe(("sdb",), "overwrite-zero")
                await app.workers.wait_for_complete()

    asyncio.run(scenario())
    assert engine.nices == [WORKER_NICE]
    assert screen_nice[0] < WORKER_NICE  # the screen's own thread kept its priority


class OnceFaultyEngine(FakeEngine):
    """Its first start fails by a fault, as a race in the engine once did."""

    def __init__(self) -> None:
        super().__init__()
        self.faulted = False

    def start(self, drive, plan, *, resume=False):  # type: ignore[no-untyped-def]
        if not self.faulted:
            self.faulted = True
            raise RuntimeError("dictionary changed size during iteration")
        return super().start(drive, plan, resume=resume)


def test_a_start_that_faults_shows_refused_and_is_tried_again(make_app) -> None:
    """The row of a drive whose start failed says REFUSED and why (it said "idle" and the
    station powered off with the drive untouched); the autopilot tries it again."""
    config = StationConfig(station="s", unattended=True, method="nist-clear")
    engine, now = OnceFaultyEngine(), [0.0]
    app, _, _ = make_app(drives=[make_drive("sdb", "RACE0001", GB)], config=config, engine=engine)
    app.autopilot.clock = lambda: now[0]
    seen: list[str] = []

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            seen.append(app.station.row_of("sdb").state)  # type: ignore[union-attr]
            seen.append(app.station.row_of("sdb").refused)  # type: ignore[union-attr]
            app.tick()
            await app.workers.wait_for_complete()
            assert engine.started == []  # not due yet
            now[0] += RETRY_S
            app.tick()
            await app.workers.wait_for_complete()
            await pilot.pause()

    asyncio.run(scenario())
    assert seen[0] == "REFUSED"
    assert "RuntimeError: dictionary changed size" in seen[1]
    assert "trying again in 10 s" in seen[1]
    assert engine.started == [("sdb", "nist-clear", "sample")]
