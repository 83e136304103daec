"""The station is built on a thread while the screen loads; its failures reach the caller."""

from __future__ import annotations

import threading

import pytest
from wipestation.cli import tui_cmd
from wipestation.config import StationConfig
from wipestation.errors import WipestationError

CFG = StationConfig(station="t")


def test_the_station_is_built_on_another_thread(monkeypatch) -> None:
    where = []

    def build(cfg: StationConfig) -> dict:
        where.append(threading.current_thread().name)
        return {"engine": cfg.station}

    monkeypatch.setattr(tui_cmd, "build_station", build)
    assert tui_cmd.Building(CFG).result() == {"engine": "t"}
    assert where == ["station-build"]


def test_an_os_error_becomes_one_clear_line(monkeypatch) -> None:
    def build(cfg: StationConfig) -> dict:
        raise PermissionError(13, "Permission denied", "/run/wipestation/spool")

    monkeypatch.setattr(tui_cmd, "build_station", build)
    with pytest.raises(WipestationError, match="cannot start the station: .*Permission denied"):
        tui_cmd.Building(CFG).result()


def test_other_failures_are_not_disguised(monkeypatch) -> None:
    def build(cfg: StationConfig) -> dict:
        raise WipestationError("no udev")

    monkeypatch.setattr(tui_cmd, "build_station", build)
    with pytest.raises(WipestationError, match="^no udev$"):
        tui_cmd.Building(CFG).result()
