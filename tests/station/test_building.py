"""The station is built on a thread while the screen loads; its failures reach the caller."""

from __future__ import annotations

import threading

import pytest
from wipestation import assembly, supervisor
from wipestation.config import StationConfig
from wipestation.errors import WipestationError

CFG = StationConfig(station="t")


def test_the_station_is_built_on_another_thread(monkeypatch) -> None:
    where = []

    def build(cfg: StationConfig) -> str:
        where.append(threading.current_thread().name)
        return f"services of {cfg.station}"

    monkeypatch.setattr(assembly, "build_services", build)
    assert supervisor.Building(CFG).result() == "services of t"
    assert where == ["station-build"]


def test_an_os_error_becomes_one_clear_line(monkeypatch) -> None:
    def build(cfg: StationConfig) -> str:
        raise PermissionError(13, "Permission denied", "/run/wipestation/spool")

    monkeypatch.setattr(assembly, "build_services", build)
    with pytest.raises(WipestationError, match="cannot start the station: .*Permission denied"):
        supervisor.Building(CFG).result()


def test_other_failures_are_not_disguised(monkeypatch) -> None:
    def build(cfg: StationConfig) -> str:
        raise WipestationError("no udev")

    monkeypatch.setattr(assembly, "build_services", build)
    with pytest.raises(WipestationError, match="^no udev$"):
        supervisor.Building(CFG).result()
