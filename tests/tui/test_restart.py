"""A crash of the screen never stops the wipes: ``wipestation tui`` logs it and restarts the App
on the same engine, which reattaches the running jobs. Run headless, with fakes."""

from __future__ import annotations

from pathlib import Path

import pytest
from wipestation.cli import tui_cmd
from wipestation.config import StationConfig
from wipestation.model import JobState
from wipestation.tui.app import WipestationApp

from tests.tui.conftest import METHODS, rack
from tests.tui.fakes import FakeEngine, FakeInventory


class CrashOnce(WipestationApp):
    """The first instance raises in a handler (a UI bug); the next one checks and quits."""

    runs: list[dict[str, str]] = []

    async def on_mount(self) -> None:
        await super().on_mount()
        if not CrashOnce.runs:
            CrashOnce.runs.append({})
            raise RuntimeError("a bug in the screen")
        CrashOnce.runs.append({n: r.state for n, r in self.station.rows.items()})
        self.exit()


def test_ui_crash_restarts_on_the_same_engine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(tui_cmd, "CRASH_LOG", tmp_path / "tui-crash.log")
    monkeypatch.setattr(tui_cmd, "RESTART_PAUSE_S", 0)
    monkeypatch.setattr(tui_cmd, "SESSION_LOG", tmp_path / "station.log")
    engine = FakeEngine()
    drives = rack()
    job = engine.start(drives[1], "nist-clear")
    engine.advance(job, state=JobState.ERASING, bytes_done=1, bytes_total=2)
    parts = {"engine": engine, "inventory": FakeInventory(drives), "methods": METHODS}
    CrashOnce.runs = []

    code = tui_cmd.run_station(
        StationConfig(station="t"), parts=parts, app_class=CrashOnce, headless=True
    )

    assert code == 0
    assert len(CrashOnce.runs) == 2
    assert CrashOnce.runs[1]["sdb"] == "erasing"  # the job survived and was reattached
    assert "a bug in the screen" in (tmp_path / "tui-crash.log").read_text()
    assert engine.cancelled == [job]  # only by the final, clean shutdown (engine.close)
