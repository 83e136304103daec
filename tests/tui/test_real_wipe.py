"""End to end through the screen: two real loop devices, the real engine and report writer.

The App sees only the test's loop devices (a filtered inventory), while the engine re-checks
each one with the real ``Inventory`` before writing, exactly as on the station.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from textual.message import Message
from wipestation.config import StationConfig
from wipestation.discovery.inventory import Inventory
from wipestation.engine.jobs import Engine
from wipestation.model import Drive, JobState
from wipestation.planning.planner import Planner
from wipestation.reports.writer import ReportWriter
from wipestation.services import Services
from wipestation.tui.app import WipestationApp
from wipestation.tui.messages import JobChanged

from tests.tui.test_pilot import type_text

MiB = 1024 * 1024
GIVE_UP_S = 120  # a guard against a hung job, not a speed requirement


class OnlyThese:
    """The real inventory, narrowed to the devices this test created."""

    def __init__(self, inventory: Inventory, paths: list[str]) -> None:
        self.inventory = inventory
        self.names = {os.path.basename(p) for p in paths}

    def drives(self) -> list[Drive]:
        return [d for d in self.inventory.drives() if d.name in self.names]


@pytest.mark.slow
def test_full_wipe_of_two_loop_devices_reaches_pass(make_loop, tmp_path: Path) -> None:
    devs = [make_loop(8 * MiB, b"secret A "), make_loop(8 * MiB + 4096, b"secret B ")]
    inventory = Inventory()
    writer = ReportWriter(tmp_path / "reports")
    engine = Engine(inventory, journal_dir=tmp_path / "journal", report_writer=writer)
    config = StationConfig(station="test-bay", method="overwrite-zero", verify="full")
    services = Services(config, OnlyThese(inventory, devs), Planner(), engine, reports=writer)
    app = WipestationApp(services=services, ascii_only=True)
    seen: list[Message] = []

    async def scenario() -> None:
        async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
            await pilot.pause()
            assert len(app.station.rows) == 2
            await pilot.press("a", "w")
            await pilot.pause()
            await pilot.press(*type_text("WIPE 2"), "enter")
            waited = 0.0
            while len(engine.results()) < 2 and waited < GIVE_UP_S:
                await pilot.pause(0.2)
                waited += 0.2
            await pilot.pause(0.5)  # one more tick after the last result
            why = [r.reason for r in engine.results().values()]
            assert [r.state for r in app.station.rows.values()] == ["PASS", "PASS"], why
            assert app.station.counts().passed == 2
            assert writer._pool is not None  # the certificates came from a renderer process
            await pilot.press("d")  # details of the first drive: the plan and the report file
            await app.workers.wait_for_complete()
            await pilot.pause(1.2)
            body = str(app.screen.query_one("#details-body").render())
            assert "plan: overwrite-zero" in body
            assert "report     /" in body or "report     saved to" in body

    try:
        asyncio.run(scenario())
    finally:
        engine.close()
        writer.close()
    results = list(engine.results().values())
    assert [r.state for r in results] == [JobState.PASSED, JobState.PASSED]
    for dev in devs:
        with open(dev, "rb") as f:
            assert f.read(64 * 1024) == bytes(64 * 1024)
    records = sorted((tmp_path / "reports" / "reports").rglob("*.json"))
    assert len(records) == 2  # one signed record per drive (the journal lives elsewhere)
    # besides them only the station's public identity, never a key
    others = {
        p.relative_to(tmp_path / "reports").parts[0] for p in (tmp_path / "reports").rglob("*")
    }
    assert others == {"reports", "wipestation-identity"}, others
    assert not [p for p in (tmp_path / "reports").rglob("*") if "PRIVATE KEY" in _text(p)]
    assert {p.with_suffix(".pdf").is_file() for p in records} == {True}
    passed = [m for m in seen if isinstance(m, JobChanged) and m.progress.state == JobState.PASSED]
    assert len(passed) == 2


def _text(path: Path) -> str:
    return path.read_text(errors="replace") if path.is_file() else ""
