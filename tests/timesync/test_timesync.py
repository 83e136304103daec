"""The station's clock at boot: the real NTP server's answer, the step computed (never applied
to this host: the step is a recorder), the boot's one outcome, and never a failure that stops."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from wipestation import sntp, timesync
from wipestation.leases import Lease
from wipestation.timesync import BootClock, ClockOutcome, Seams

from tests.timesync.chrony import Chrony, free_udp_port


class Steps(list[float]):
    """The clock steps asked for, instead of setting this machine's clock."""

    def __call__(self, offset_s: float) -> None:
        self.append(offset_s)


def behind(seconds: float) -> Callable[[sntp.Server], sntp.Answer]:
    """The real query, from a station clock ``seconds`` behind the server's."""
    return lambda server: sntp.query(server, 2.0, clock=lambda: time.time() - seconds)


def seams(
    steps: Steps,
    query: Callable[[sntp.Server], sntp.Answer] | None = None,
    found: list[Lease] | None = None,
) -> Seams:
    ask = query or behind(0)
    return Seams(query=ask, step=steps, read_leases=lambda: found or [], sleep=lambda s: None)


def test_a_clock_years_behind_is_stepped_by_the_servers_offset(chrony: Chrony) -> None:
    steps = Steps()
    six_years = 6 * 365 * 86400.0
    out = timesync.settle([f"127.0.0.1:{chrony.port}"], seams(steps, behind(six_years)))
    assert (out.source, out.server, out.stepped, out.stratum) == (
        "ntp", f"127.0.0.1:{chrony.port}", True, 8,
    )  # fmt: skip
    assert steps == [pytest.approx(six_years, abs=0.5)]
    assert out.offset_s == pytest.approx(six_years, abs=0.5)
    assert re.fullmatch(
        rf"NTP 127\.0\.0\.1:{chrony.port} \(clock stepped \+18921\d{{4}}\.\d{{3}} s at boot\)",
        out.describe(),
    )


def test_a_clock_that_is_right_is_left_alone(chrony: Chrony) -> None:
    steps = Steps()
    out = timesync.settle([f"127.0.0.1:{chrony.port}"], seams(steps))
    assert out.source == "ntp"
    assert not out.stepped
    assert abs(out.offset_s) < 1
    assert steps == []
    assert re.fullmatch(
        r"NTP 127\.0\.0\.1:\d+ \(clock within [-+]0\.\d{3} s \(not stepped\)\)", out.describe()
    )


def test_the_first_server_that_answers_wins(chrony: Chrony) -> None:
    dead = f"127.0.0.1:{free_udp_port()}"
    steps = Steps()
    out = timesync.settle([dead, f"127.0.0.1:{chrony.port}"], seams(steps, behind(120)))
    assert out.server == f"127.0.0.1:{chrony.port}"
    assert steps == [pytest.approx(120, abs=0.5)]


def test_the_leases_servers_come_after_the_configs() -> None:
    found = [Lease("2", ntp=("10.0.2.3", "10.0.0.1")), Lease("3", ntp=("10.0.0.9",))]
    assert timesync.servers(["10.0.0.1", "ntp.example:124", "bad host!"], found) == [
        sntp.Server("10.0.0.1"), sntp.Server("ntp.example", 124), sntp.Server("10.0.2.3"),
        sntp.Server("10.0.0.9"),
    ]  # fmt: skip


def test_no_server_answering_is_the_rtc_with_why_within_the_budget() -> None:
    dead = f"127.0.0.1:{free_udp_port()}"
    steps = Steps()
    start = time.monotonic()
    out = timesync.settle([dead], Seams(step=steps, read_leases=list), budget_s=1.0)
    assert time.monotonic() - start < 4
    assert (out.source, out.stepped, steps) == ("rtc", False, [])
    assert out.problem == f"no NTP server answered: {dead}: connection refused"
    assert (
        out.describe()
        == f"RTC, not set from NTP (no NTP server answered: {dead}: connection refused)"
    )


def test_no_server_anywhere_is_said_at_once_when_the_lease_names_none() -> None:
    start = time.monotonic()
    out = timesync.settle([], seams(Steps(), found=[Lease("2", dns=("10.0.2.3",))]))
    assert time.monotonic() - start < 1
    assert out.problem == "no NTP server in the station config (ntp) or the DHCP lease"


def test_no_network_at_all_waits_for_a_lease_only_so_long() -> None:
    out = timesync.settle([], seams(Steps()), network_wait_s=0.0)
    assert out.source == "rtc"
    assert "no NTP server in the station config" in out.problem


def test_the_boot_steps_once_and_every_process_reads_the_same_outcome(
    chrony: Chrony, tmp_path: Path
) -> None:
    result, steps = tmp_path / "clock.json", Steps()
    first = timesync.boot_outcome([f"127.0.0.1:{chrony.port}"], result, seams(steps, behind(90)))
    again = timesync.boot_outcome([f"127.0.0.1:{chrony.port}"], result, seams(steps, behind(999)))
    assert first == again
    assert first.stepped
    assert len(steps) == 1
    assert ClockOutcome.from_json(json.loads(result.read_text())) == first
    assert BootClock(result).outcome() == first  # a process that never started it: the file


def test_the_record_waits_for_the_boot_clock_and_a_failure_is_the_rtc(tmp_path: Path) -> None:
    def broken() -> list[Lease]:
        raise OSError("lease directory unreadable")

    clock = BootClock(tmp_path / "clock.json")
    clock.start(["127.0.0.1:9"], Seams(step=Steps(), read_leases=broken))
    out = clock.outcome(timeout=10)
    assert out.source == "rtc"
    assert "lease directory unreadable" in out.problem


def test_nothing_started_and_nothing_written_is_the_system_clock(tmp_path: Path) -> None:
    assert BootClock(tmp_path / "clock.json").outcome() == timesync.SYSTEM
    assert timesync.SYSTEM.describe() == "system clock"


@pytest.mark.parametrize(
    "data", [None, [], {"source": "ntp"}, {**timesync.SYSTEM.to_json(), "source": "gps"}]
)
def test_an_outcome_file_that_is_not_ours_is_not_believed(data: object, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a clock outcome"):
        ClockOutcome.from_json(data)
    (tmp_path / "clock.json").write_text(json.dumps(data))
    assert timesync.read_outcome(tmp_path / "clock.json") is None
