"""A record says where its times come from: the ``clock`` block and the certificate's line; and
it waits for the boot's clock before it takes any time."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from wipestation import sntp, timesync
from wipestation.reports.sign import verify_bytes
from wipestation.reports.writer import ReportWriter
from wipestation.timesync import BootClock, ClockOutcome, Seams

from tests.reports.factory import job, validate
from tests.timesync.chrony import Chrony

STEPPED = ClockOutcome("ntp", "10.0.2.2:123", 189216000.25, True, 2, "2026-12-06T23:20:00+00:00")


def written(writer: ReportWriter) -> tuple[dict, Path]:
    json_path, pdf_path = writer.write(job())
    writer.close()
    verified = verify_bytes(json_path.read_bytes())
    assert verified.record is not None
    return validate(verified.record), pdf_path


def test_the_record_and_its_certificate_name_the_ntp_server_and_the_step(tmp_path: Path) -> None:
    writer = ReportWriter(tmp_path / "out", key_home=tmp_path / "keys")
    writer.clock = lambda: STEPPED
    record, pdf = written(writer)
    assert record["clock"] == {
        "source": "ntp", "server": "10.0.2.2:123", "offset_s": 189216000.25, "stepped": True,
        "stratum": 2, "at": "2026-12-06T23:20:00+00:00", "problem": "",
    }  # fmt: skip
    line = "NTP 10.0.2.2:123 (clock stepped +189216000.250 s at boot)"
    assert record["station"]["time_source"] == line
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "NTP 10.0.2.2:123" in text


def test_without_a_station_boot_the_record_says_system_clock(tmp_path: Path) -> None:
    record, _ = written(ReportWriter(tmp_path / "out", key_home=tmp_path / "keys"))
    assert record["clock"]["source"] == "system"
    assert record["station"]["time_source"] == "system clock"


def test_the_rtc_and_why_when_no_server_answered(tmp_path: Path) -> None:
    writer = ReportWriter(tmp_path / "out", key_home=tmp_path / "keys")
    writer.clock = lambda: timesync.rtc("no NTP server answered: 10.0.0.1: no answer in 2 s")
    record, _ = written(writer)
    assert record["clock"]["source"] == "rtc"
    assert not record["clock"]["stepped"]
    assert record["clock"]["problem"] == "no NTP server answered: 10.0.0.1: no answer in 2 s"


def test_a_record_waits_for_the_clock_being_set(chrony: Chrony, tmp_path: Path) -> None:
    def slow(server: sntp.Server) -> sntp.Answer:
        time.sleep(1.5)  # the network coming up
        return sntp.query(server, 2.0, clock=lambda: time.time() - 7200)

    steps: list[float] = []
    clock = BootClock(tmp_path / "clock.json")
    clock.start([f"127.0.0.1:{chrony.port}"], Seams(query=slow, step=steps.append))
    writer = ReportWriter(tmp_path / "out", key_home=tmp_path / "keys")
    writer.clock = clock.outcome
    start = time.monotonic()
    record, _ = written(writer)
    assert time.monotonic() - start >= 1.4
    assert record["clock"]["source"] == "ntp"
    assert record["clock"]["stepped"]
    assert steps
    assert abs(steps[0] - 7200) < 1
