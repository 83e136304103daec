"""status.json says where the station's time comes from, once the boot's clock is settled."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

from wipestation import sntp
from wipestation.reports.record import StationInfo
from wipestation.reports.station_status import HostFacts, build_status
from wipestation.timesync import BootClock, ClockOutcome, Seams

STEPPED = ClockOutcome("ntp", "10.0.2.2:123", 612.5, True, 2, "2026-12-06T23:20:00+00:00")
NOW = datetime(2026, 12, 6, 23, 21, tzinfo=UTC)


def test_the_status_names_the_clock_source() -> None:
    status = build_status(
        StationInfo("bay-3"), HostFacts(clock=STEPPED), [], {}, {}, "running", NOW
    )
    assert json.loads(status.body())["clock"] == STEPPED.to_json()


def test_no_clock_while_it_is_being_set_then_its_outcome(tmp_path: Path) -> None:
    release = threading.Event()

    def held(server: sntp.Server) -> sntp.Answer:
        release.wait(10)
        return sntp.Answer(server, 0.25, 0.001, 3)

    clock = BootClock(tmp_path / "clock.json")
    assert clock.settled() is not None  # not started here: the file's, else the system clock
    clock.start(["10.0.0.1"], Seams(query=held, step=lambda s: None))
    assert clock.settled() is None
    release.set()
    outcome = clock.outcome(timeout=10)
    assert clock.settled() == outcome
    assert (outcome.source, outcome.server, outcome.stepped) == ("ntp", "10.0.0.1", False)
