"""Only the image's station unit sets the clock, from the controlling terminal; never a
``wipestation station`` run by hand on a host."""

from __future__ import annotations

import pytest
from wipestation import station, timesync
from wipestation.config import StationConfig

UNIT = {"WIPESTATION_TTY": "ttyS0"}


class Started(list[tuple[str, ...]]):
    def start(self, configured: tuple[str, ...]) -> None:
        self.append(tuple(configured))


@pytest.mark.parametrize(
    ("env", "tty", "console", "started"),
    [
        (UNIT, "ttyS0", "ttyS0", True),  # the controlling terminal of a booted station
        (UNIT, "tty1", "ttyS0", False),  # the other terminal only shows the log
        ({}, "ttyS0", "ttyS0", False),  # by hand on a host: its clock is not ours
    ],
)
def test_who_sets_the_clock(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], tty: str, console: str, started: bool
) -> None:
    seen = Started()
    monkeypatch.setattr(timesync, "BOOT", seen)
    cfg = StationConfig(console=console, ntp=("10.0.0.1",))
    assert station.start_clock(cfg, tty, env) is started
    assert seen == ([("10.0.0.1",)] if started else [])
    assert station.on_station(env) is bool(env)
