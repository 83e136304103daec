"""The station screen driven by keys (Pilot), asserting on messages and on the model.

Each test is a sync test running ``asyncio.run(scenario())``: pytest-asyncio is not a dependency.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from textual.message import Message
from textual.pilot import Pilot
from wipestation.config import StationConfig
from wipestation.model import JobState
from wipestation.tui.app import WipestationApp
from wipestation.tui.messages import DriveAdded, DriveRemoved, JobChanged
from wipestation.tui.screens.confirm import ConfirmWipeScreen

from tests.tui.conftest import rack
from tests.tui.fakes import (
    GB,
    FakeEngine,
    FakePlanner,
    FakeWatcher,
    FakeWriter,
    make_drive,
    services,
)

SIZE = (120, 40)


async def started(app: WipestationApp, pilot: Pilot) -> None:
    """Let the start worker hand the drives to the engine and its messages arrive."""
    await app.workers.wait_for_complete()
    await pilot.pause()


def type_text(text: str) -> list[str]:
    return ["space" if c == " " else c for c in text]


def test_list_and_selection(make_app) -> None:
    app, engine, _ = make_app()

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert list(app.station.rows) == ["sda", "sdb", "sdc", "nvme0n1"]
            assert app.drives_screen.table.row_count == 4
            await pilot.press("down", "space", "down", "space")  # sdb, sdc
            assert [r.name for r in app.station.selected()] == ["sdb", "sdc"]
            await pilot.press("space")  # deselect sdc
            assert [r.name for r in app.station.selected()] == ["sdb"]
            await pilot.press("a")  # with a selection: clears it
            assert app.station.selected() == []
            await pilot.press("a")  # select all wipeable: never the protected sda
            assert [r.name for r in app.station.selected()] == ["sdb", "sdc", "nvme0n1"]

    asyncio.run(scenario())
    assert engine.started == []


def test_protected_drive_not_selectable(make_app) -> None:
    app, engine, _ = make_app()

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.drives_screen.table.highlighted_name == "sda"
            await pilot.press("space")
            assert app.station.selected() == []
            assert "cannot be selected" in str(app.drives_screen.query_one("#message").render())
            await pilot.press("w")  # nothing selected: nothing to confirm
            assert not isinstance(app.screen, ConfirmWipeScreen)

    asyncio.run(scenario())
    assert engine.started == []


@pytest.mark.slow
def test_confirmation_refuses_wrong_phrase_then_starts(make_app) -> None:
    app, engine, _ = make_app()
    seen: list[Message] = []

    async def scenario() -> None:
        async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
            await pilot.pause()
            await pilot.press("down", "space", "down", "space", "w")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmWipeScreen)
            await pilot.press(*type_text("WIPE 3"), "enter")  # two drives, not three
            await pilot.pause()
            assert isinstance(app.screen, ConfirmWipeScreen)
            assert engine.started == []
            await pilot.press(*type_text("yes"), "enter")
            assert engine.started == []
            await pilot.press(*type_text("wipe 2"), "enter")  # case does not matter
            await started(app, pilot)
            assert not isinstance(app.screen, ConfirmWipeScreen)
            assert engine.started == [
                ("sdb", "nist-clear", "sample"),
                ("sdc", "nist-clear", "sample"),
            ]
            assert app.station.rows["sdb"].state == "queued"
            engine.advance(engine.job_of("sdb"), state=JobState.PASSED)
            await pilot.pause()
            assert app.station.rows["sdb"].state == "PASS"

    asyncio.run(scenario())
    assert any(isinstance(m, JobChanged) and m.progress.state == JobState.PASSED for m in seen)


def test_escape_in_confirmation_starts_nothing(make_app) -> None:
    app, engine, _ = make_app()

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("a", "w")
            await pilot.pause()
            await pilot.press(*type_text("WIPE"), "escape")
            await pilot.pause()
            assert not isinstance(app.screen, ConfirmWipeScreen)

    asyncio.run(scenario())
    assert engine.started == []


def test_refused_start_is_shown_not_raised(make_app) -> None:
    engine = FakeEngine(refuse={"nvme0n1": "nist-clear is not supported on nvme drives"})
    app, _, _ = make_app(engine=engine)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.start_wipe(("sdb", "nvme0n1"), "nist-clear")
            await started(app, pilot)
            await pilot.pause()
            assert app.station.rows["nvme0n1"].state == "REFUSED"
            assert "not supported on nvme" in str(app.drives_screen.query_one("#message").render())
            assert app.station.rows["sdb"].state == "queued"

    asyncio.run(scenario())
    assert [s[0] for s in engine.started] == ["sdb"]


def test_drive_removed_during_job(make_app) -> None:
    app, engine, watcher = make_app()
    seen: list[Message] = []

    async def scenario() -> None:
        async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
            await pilot.pause()
            app.start_wipe(("sdc",), "nist-clear")
            await started(app, pilot)
            engine.advance(engine.job_of("sdc"), notify=True, state=JobState.ERASING)
            await pilot.pause()
            assert app.station.rows["sdc"].busy
            watcher.emit("removed", app.station.rows["sdc"].drive)  # as from the udev thread
            await pilot.pause()
            row = app.station.rows["sdc"]  # the row stays so the operator sees what happened
            assert row.state == "REMOVED"
            assert not row.busy
            assert app.station.counts().running == 0
            watcher.emit("removed", app.station.rows["sdb"].drive)  # an idle drive just goes
            await pilot.pause()
            assert "sdb" not in app.station.rows

    asyncio.run(scenario())
    assert engine.removed == ["sdc", "sdb"]
    assert [m.name for m in seen if isinstance(m, DriveRemoved)] == ["sdc", "sdb"]


def test_hotplug_add_in_unattended_mode_wipes_it(make_app) -> None:
    config = StationConfig(station="conveyor", unattended=True, method="nist-clear")
    app, engine, watcher = make_app(
        drives=[make_drive("sda", protected=("boot medium",))], config=config
    )
    seen: list[Message] = []
    new = make_drive("sdd", "ZA1NEW", 2000 * GB)
    guarded = make_drive("sde", "USBSTICK", 8 * GB, protected=("report stick",))

    async def scenario() -> None:
        async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
            await pilot.pause()
            assert engine.started == []  # the protected boot drive is never started
            banner = str(app.drives_screen.query_one("#banner").render())
            assert "UNATTENDED" in banner
            watcher.emit("added", new)
            watcher.emit("added", guarded)
            await pilot.pause()
            assert engine.started == [("sdd", "nist-clear", "sample")]
            assert app.station.rows["sdd"].state == "queued"
            assert app.station.rows["sde"].state == "PROTECTED"
            watcher.emit("removed", new)
            watcher.emit("added", new)  # the same drive again: not wiped twice
            await pilot.pause()
            assert len(engine.started) == 1

    asyncio.run(scenario())
    assert [m.drive.name for m in seen if isinstance(m, DriveAdded)] == ["sdd", "sde", "sdd"]


def test_cancel_asks_then_cancels(make_app) -> None:
    app, engine, _ = make_app()

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.start_wipe(("sdb",), "nist-clear")
            await started(app, pilot)
            await pilot.press("down", "c")
            await pilot.pause()
            await pilot.press("n")
            assert engine.cancelled == []
            await pilot.press("c", "y")
            await pilot.pause()
            assert engine.cancelled == [engine.job_of("sdb")]

    asyncio.run(scenario())


def test_restarted_ui_reattaches_running_jobs(make_app) -> None:
    """A new App on the same engine (after a UI crash) shows the jobs that kept running."""
    engine = FakeEngine()
    for d in rack()[1:3]:  # sdb, sdc
        engine.start_method(d, "nist-clear")
    engine.start_method(make_drive("sdx"), "nist-clear")  # a drive no longer present: not shown
    engine.advance(engine.job_of("sdb"), state=JobState.ERASING, bytes_done=GB, bytes_total=4 * GB)
    engine.advance(engine.job_of("sdc"), state=JobState.PASSED)
    app, _, _ = make_app(engine=engine)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.station.rows["sdb"].state == "erasing"
            assert app.station.rows["sdc"].state == "PASS"
            assert app.station.counts().running == 1
            assert "sdx" not in app.station.rows
            await pilot.press("a")
            assert [r.name for r in app.station.selected()] == ["nvme0n1"]

    asyncio.run(scenario())


def test_details_and_help_and_method(make_app) -> None:
    app, engine, _ = make_app()

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("down", "d")
            await pilot.pause()
            body = str(app.screen.query_one("#details-body").render())
            assert "WD-WCC4N1234567" in body
            assert "Health" in body
            await pilot.press("escape", "m")
            await pilot.pause()
            await pilot.press("down", "enter")
            await pilot.pause()
            assert app.method == "nvme-sanitize"
            await pilot.press("question_mark")
            await pilot.pause()
            assert type(app.screen).__name__ == "HelpScreen"

    asyncio.run(scenario())


def test_changed_drive_becoming_protected_is_deselected(make_app) -> None:
    app, _, watcher = make_app()

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.station.toggle("sdb")
            now_mounted = replace(
                app.station.rows["sdb"].drive, protected=True, protected_reasons=("mounted",)
            )
            watcher.emit("changed", now_mounted)
            await pilot.pause()
            assert app.station.selected() == []
            assert app.station.rows["sdb"].state == "PROTECTED"

    asyncio.run(scenario())


def test_power_off_asks_and_cancels_running_wipes(make_app) -> None:
    app, engine, _ = make_app()

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.start_wipe(("sdb",), "nist-clear")
            await started(app, pilot)
            await pilot.press("p")
            await pilot.pause()
            assert "wipe(s) are still running" in str(app.screen.query_one("#ask-body").render())
            await pilot.press("n")
            await pilot.pause()
            assert engine.cancelled == []
            await pilot.press("p", "y")
            await pilot.pause()

    asyncio.run(scenario())
    assert app.return_value == "poweroff"
    assert engine.cancelled == [engine.job_of("sdb")]


def test_quit_with_running_wipes_asks_first(make_app) -> None:
    app, engine, _ = make_app()

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.start_wipe(("sdb",), "nist-clear")
            await started(app, pilot)
            await pilot.press("ctrl+q")
            await pilot.pause()
            assert type(app.screen).__name__ == "AskScreen"
            await pilot.press("n")
            await pilot.pause()
            assert app.is_running
            assert engine.cancelled == []

    asyncio.run(scenario())


def test_header_shows_report_target_and_label_is_reprinted(make_app) -> None:
    writer = FakeWriter(target="absent", pending=2)
    app, engine, _ = make_app(writer=writer)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            header = str(app.drives_screen.status.render())
            assert "NO REPORT STICK" in header
            assert "2 pending" in header
            await pilot.press("down", "l")  # sdb has no finished wipe yet
            assert writer.printer.queued == []
            assert "no label" in str(app.drives_screen.message.render())
            app.start_wipe(("sdb",), "nist-clear")
            await started(app, pilot)
            job = engine.job_of("sdb")
            engine.advance(job, state=JobState.PASSED)
            writer.delivered.append({"job_id": job, "drive": {"serial": "WD-WCC4N1234567"}})
            await pilot.pause()
            await pilot.press("l")
            assert writer.printer.queued == [writer.delivered[0]]

    asyncio.run(scenario())


def test_table_scrolls_to_keep_the_cursor_visible(make_app) -> None:
    drives = [make_drive(f"sd{chr(97 + i // 26)}{chr(97 + i % 26)}") for i in range(48)]
    app, _, _ = make_app(drives=drives)

    async def scenario() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            table = app.drives_screen.table
            assert table.row_count == 48
            await pilot.press("end")
            assert table.highlighted_name == "sdbv"
            assert table.top == 48 - table.visible_rows
            await pilot.press("pageup", "home")
            assert (table.highlighted_name, table.top) == ("sdaa", 0)
            await pilot.press("pagedown")
            assert table.cursor == table.visible_rows

    asyncio.run(scenario())


def test_unattended_poweroff_waits_for_every_job(make_app, monkeypatch) -> None:
    monkeypatch.setattr("wipestation.tui.app.POWEROFF_QUIET_S", 0.0)
    config = StationConfig(station="conveyor", unattended=True, poweroff=True, method="nist-clear")
    reading = [False]
    app, engine, _ = make_app(
        drives=[make_drive("sdb", "ZA1", 2000 * GB), make_drive("sdc", "ZA2", 1000 * GB)],
        config=config,
        udev_busy=lambda: reading[0],
    )

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert [s[0] for s in engine.started] == ["sdb", "sdc"]
            engine.advance(engine.job_of("sdb"), notify=True, state=JobState.PASSED)
            app.tick()
            await pilot.pause()
            assert app.is_running  # one drive is still being wiped: no power-off yet
            engine.advance(engine.job_of("sdc"), notify=True, state=JobState.PASSED)
            reading[0] = True  # udev still reading devices: more may be arriving
            for _ in range(2):
                app.tick()
                await pilot.pause()
            assert app.is_running
            reading[0] = False
            app.tick()
            await pilot.pause()
            app.tick()
            await pilot.pause()

    asyncio.run(scenario())
    assert app.return_value == "poweroff"


def test_the_first_list_comes_from_the_watcher_when_it_has_one() -> None:
    """The watcher listed the drives when it started and followed udev since: the screen does
    not ask udev again (the inventory here would list a stale, different rack)."""
    from tests.tui.conftest import METHODS

    current = rack()
    stale = [make_drive("sdz", "GONE-0001", 8 * GB)]
    watcher = FakeWatcher({d.name: d for d in reversed(current)})
    app = WipestationApp(
        services=services(FakeEngine(), stale, watcher=watcher), methods=METHODS, ascii_only=True
    )

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            # in the inventory's order (sdX before nvmeXnY), whatever the watcher's order
            assert list(app.station.rows) == ["sda", "sdb", "sdc", "nvme0n1"]

    asyncio.run(scenario())


def test_probes_wait_for_the_first_frame_and_follow_identification() -> None:
    """Health probes (a tool run per drive) start once the screen is up, never for a protected
    drive, and for a drive as soon as udev has identified it (protected → wipeable)."""
    from wipestation.discovery.inventory import NOT_IDENTIFIED

    from tests.tui.conftest import METHODS

    probed: list[str] = []
    late = make_drive("sdd", "LATE-0001", 100 * GB, protected=(NOT_IDENTIFIED,))
    watcher = FakeWatcher()
    planner = FakePlanner(probed)
    app = WipestationApp(
        services=services(FakeEngine(), [*rack(), late], watcher=watcher, planner=planner),
        methods=METHODS,
        ascii_only=True,
    )

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            assert sorted(probed) == ["nvme0n1", "sdb", "sdc"]  # not sda (boot) nor sdd
            watcher.emit("changed", replace(late, protected=False, protected_reasons=()))
            await pilot.pause()
            await app.workers.wait_for_complete()
            assert sorted(probed) == ["nvme0n1", "sdb", "sdc", "sdd"]

    asyncio.run(scenario())


def test_an_empty_list_says_looking_while_udev_reads_then_none_found() -> None:
    """The station starts before udev: at that moment "no drives" means "none found yet"."""
    from tests.tui.conftest import METHODS

    reading = [True]
    app = WipestationApp(
        services=services(FakeEngine(), [], watcher=FakeWatcher(), udev_busy=lambda: reading[0]),
        methods=METHODS,
        ascii_only=True,
    )

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert "Looking for drives" in str(app.drives_screen.hint.render())
            reading[0] = False
            app.refresh_view()
            await pilot.pause()
            assert "No drives found" in str(app.drives_screen.hint.render())

    asyncio.run(scenario())
