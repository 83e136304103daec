"""The boot entry (``wipestation station --tty X``) skips the CLI but behaves like it."""

from __future__ import annotations

import gc

import pytest
from wipestation import __main__ as entry
from wipestation import boottimes, station
from wipestation.errors import WipestationError


@pytest.fixture(autouse=True)
def collector_back_on(monkeypatch):
    """The boot entry pauses the cycle collector until the station is up (these fakes never
    are), and may lower its own priority: neither may leak into the test run."""
    monkeypatch.setattr(boottimes, "yield_if_log_view", lambda tty: False)
    yield
    gc.enable()


def test_station_command_goes_straight_to_the_station(monkeypatch) -> None:
    seen = []
    monkeypatch.setattr(station, "run", lambda tty: seen.append(tty) or 7)
    assert entry.main(["station", "--tty", "ttyS0"]) == 7
    assert seen == ["ttyS0"]


def test_station_errors_are_one_line_not_a_traceback(monkeypatch, capsys) -> None:
    def fail(tty: str) -> int:
        raise WipestationError("cannot start the station: no /run")

    monkeypatch.setattr(station, "run", fail)
    assert entry.main(["station", "--tty", "tty1"]) == 1
    assert capsys.readouterr().err == "wipestation: error: cannot start the station: no /run\n"


def test_other_commands_still_go_through_the_cli(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        entry.main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.startswith("wipestation ")
