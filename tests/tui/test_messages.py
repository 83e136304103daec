"""The seam between the screens and the App: screens post requests upward, never call the App.

Driven by keys like test_pilot.py, asserting on the messages that cross the seam (``messages.py``)
and on what the App did with them. The details screen's plan is worked out in a worker thread
(planning may probe the drive) and comes back to the screen as a message.
"""

from __future__ import annotations

import asyncio
import threading

from textual.message import Message
from wipestation.engine.courtesy import HOLD_S, Courtesy
from wipestation.model import Drive, JobState, VerifyMode
from wipestation.steps.plan import Plan
from wipestation.tui.app import WipestationApp
from wipestation.tui.messages import (
    CancelRequested,
    LabelReprintRequested,
    MethodChosen,
    PlanRequested,
    PlanWorkedOut,
    PowerOffRequested,
    WipeRequested,
)
from wipestation.tui.screens.details import DetailsScreen

from tests.tui.conftest import METHODS, rack
from tests.tui.fakes import FakeEngine, FakePlanner, FakeWriter, services
from tests.tui.test_pilot import SIZE, started, type_text


class ThreadNotingPlanner(FakePlanner):
    """Notes the thread each plan is worked out on."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[str] = []

    def plan(self, drive: Drive, method: str, verify: VerifyMode) -> Plan:
        self.threads.append(threading.current_thread().name)
        return super().plan(drive, method, verify)


def of(kind: type[Message], seen: list[Message]) -> list:
    """Each message once (the hook sees a request at the screen and again at the App)."""
    return list({id(m): m for m in seen if isinstance(m, kind)}.values())


def test_wipe_method_and_cancel_are_requests_the_app_carries_out(make_app) -> None:
    app, engine, _ = make_app()
    seen: list[Message] = []

    async def scenario() -> None:
        async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
            await pilot.pause()
            await pilot.press("m")
            await pilot.pause()
            await pilot.press("down", "enter")  # nvme-sanitize
            await pilot.pause()
            assert [m.method for m in of(MethodChosen, seen)] == ["nvme-sanitize"]
            assert app.method == "nvme-sanitize"
            assert "nvme-sanitize" in str(app.drives_screen.message.render())
            await pilot.press("end", "space", "w")  # nvme0n1
            await pilot.pause()
            await pilot.press(*type_text("WIPE 1"), "enter")
            await started(app, pilot)
            assert [(m.names, m.method) for m in of(WipeRequested, seen)] == [
                (("nvme0n1",), "nvme-sanitize")
            ]
            assert engine.started == [("nvme0n1", "nvme-sanitize", "sample")]
            await pilot.press("c", "y")
            await pilot.pause()
            assert [m.names for m in of(CancelRequested, seen)] == [("nvme0n1",)]
            assert engine.cancelled == [engine.job_of("nvme0n1")]
            assert "Cancelling 1 wipe(s)" in str(app.drives_screen.message.render())

    asyncio.run(scenario())


def test_details_plan_comes_back_from_a_worker_and_label_is_asked_for_by_name() -> None:
    engine, planner, writer = FakeEngine(), ThreadNotingPlanner(), FakeWriter()
    app = WipestationApp(
        services=services(engine, rack(), planner=planner, writer=writer),
        methods=METHODS,
        ascii_only=True,
    )
    seen: list[Message] = []

    async def scenario() -> None:
        async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
            await pilot.pause()
            app.start_wipe(("sdb",), "nist-clear")
            await started(app, pilot)
            job = engine.job_of("sdb")
            engine.advance(job, state=JobState.PASSED)
            writer.delivered.append({"job_id": job, "drive": {"serial": "WD-WCC4N1234567"}})
            await pilot.pause()
            planner.threads.clear()
            await pilot.press("down", "d")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, DetailsScreen)
            assert [m.name for m in of(PlanRequested, seen)] == ["sdb"]
            assert [(m.name, m.lines[0]) for m in of(PlanWorkedOut, seen)] == [
                ("sdb", "plan: nist-clear (clear, verify sample)")
            ]
            assert planner.threads  # worked out ...
            assert threading.main_thread().name not in planner.threads  # ... off the UI thread
            body = str(app.screen.query_one("#details-body").render())
            assert "plan: nist-clear (clear, verify sample)" in body
            assert "report     saved to" in body  # the delivery the view reads from the writer
            await pilot.press("l")  # the details screen's own drive, whatever is highlighted
            await pilot.pause()
            assert [m.name for m in of(LabelReprintRequested, seen)] == ["sdb"]
            assert writer.printer is not None
            assert writer.printer.queued == [writer.delivered[0]]

    asyncio.run(scenario())


def test_power_off_is_a_request(make_app) -> None:
    app, _, _ = make_app()
    seen: list[Message] = []

    async def scenario() -> None:
        async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
            await pilot.pause()
            await pilot.press("p", "y")
            await pilot.pause()

    asyncio.run(scenario())
    assert len(of(PowerOffRequested, seen)) == 1
    assert app.return_value == "poweroff"


def test_a_key_holds_the_wipe_threads_back_while_the_screen_answers(make_app) -> None:
    """engine/courtesy.py: every key the screen receives holds the jobs for a moment."""
    app, engine, _ = make_app()
    engine.courtesy = Courtesy(clock=lambda: 0.0)  # a stopped clock: the hold stays readable
    held: list[float] = []

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            held.append(engine.courtesy.remaining())
            await pilot.press("question_mark")
            held.append(engine.courtesy.remaining())

    asyncio.run(scenario())
    assert held == [0.0, HOLD_S]
