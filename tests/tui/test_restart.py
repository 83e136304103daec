"""A crash of the screen never stops the wipes: the supervisor logs it and restarts the App on
the same services, which reattaches the running jobs. Run headless, with fakes."""

from __future__ import annotations

from pathlib import Path

import pytest
from wipestation import paths, supervisor
from wipestation.config import StationConfig
from wipestation.model import JobState
from wipestation.tui.app import WipestationApp

from tests.tui.conftest import METHODS, rack
from tests.tui.fakes import FakeEngine, services


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
    monkeypatch.setattr(paths, "CRASH_LOG", tmp_path / "tui-crash.log")
    monkeypatch.setattr(supervisor, "RESTART_PAUSE_S", 0)
    monkeypatch.setattr(paths, "STATION_LOG", tmp_path / "station.log")
    engine = FakeEngine()
    drives = rack()
    job = engine.start_method(drives[1], "nist-clear")
    engine.advance(job, state=JobState.ERASING, bytes_done=1, bytes_total=2)
    cfg = StationConfig(station="t")
    CrashOnce.runs = []

    result = supervisor.run_station(
        cfg,
        services=services(engine, drives, cfg),
        app_class=CrashOnce,
        headless=True,
        extra={"methods": METHODS},
    )

    assert result is None  # the screen asked for neither a power-off nor a restart
    assert len(CrashOnce.runs) == 2
    assert CrashOnce.runs[1]["sdb"] == "erasing"  # the job survived and was reattached
    assert "a bug in the screen" in (tmp_path / "tui-crash.log").read_text()
    assert engine.cancelled == [job]  # only by the final, clean shutdown (engine.close)
