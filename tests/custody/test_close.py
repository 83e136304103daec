"""Closing a station's lot across boots: the records an earlier boot left on the report target
(verified against this station's key) count with this session's; a drive wiped twice lists both
records and the last one counts; a record signed with another key counts for nothing."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from wipestation.custody.close import LotIdentity, close_lot
from wipestation.custody.desk import open_desk
from wipestation.custody.lot_record import load_schema
from wipestation.custody.resume import prior_from
from wipestation.reports.record import StationInfo
from wipestation.reports.sign import Signer
from wipestation.reports.writer import ReportWriter

from tests.custody.helpers import record, save
from tests.reports.factory import drive, job

STATION = StationInfo(station_id="bay-3", customer="ACME", operator="Ana", lot_id="L1")


def boot(tmp_path: Path, n: int) -> ReportWriter:
    """The station's writer for one boot: the same key home and report stick every time."""
    return ReportWriter(
        tmp_path / "stick",
        station=STATION,
        key_home=tmp_path / "keys",
        spool_dir=tmp_path / f"spool-{n}",
        pdf_enabled=False,
    )


def wiped(serial: str, passed: bool, ended_at: str):
    d = drive(serial=serial, identity=serial)
    return replace(job(passed, drive=d), job_id=f"{serial}-{ended_at}", ended_at=ended_at)


@pytest.mark.slow
def test_a_lot_closed_on_the_second_boot_counts_the_first(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("serial;model\nA-1;\nB-2;\nC-3;\n", encoding="utf-8")
    first = boot(tmp_path, 1)
    first.write(wiped("A-1", False, "2026-11-27T09:00:00+00:00"))
    first.write(wiped("B-2", True, "2026-11-27T09:05:00+00:00"))
    first.close()
    # someone else's key on the stick, claiming the third drive of the lot
    save(tmp_path / "stick/reports/2026-11-27", "C-3", record(Signer.generate(), "C-3"))

    second = boot(tmp_path, 2)
    desk, problem = open_desk(str(manifest), second)
    assert problem == ""
    prior = prior_from(second, "L1")
    assert sorted(r.serial for r in prior.records) == ["A-1", "B-2"]
    assert [Path(r.file).name for r in prior.rejected] == ["C-3.json"]
    desk.prior = list(prior.records)
    assert desk.counts([]).failed == 1
    second.write(wiped("A-1", True, "2026-11-28T10:00:00+00:00"))  # wiped again: it passes

    closed = close_lot(second, desk, LotIdentity("L1", "ACME", ("Ana",), "bay-3"))
    assert closed.status == "INCOMPLETE"
    assert (closed.expected, closed.passed, closed.failed, closed.missing) == (3, 2, 0, ("C-3",))
    assert closed.line().startswith("LOT L1 INCOMPLETE expected=3 passed=2 failed=0 destroyed=0")
    assert f"missing=C-3 record={closed.paths[0].name}" in closed.line()
    lot = json.loads(closed.paths[0].read_bytes())
    jsonschema.validate(lot, load_schema())
    a = next(e for e in lot["entries"] if e["serial"] == "A-1")
    assert [r["outcome"] for r in a["records"]] == ["FAIL", "PASS"]  # every record listed
    assert a["outcome"] == "PASS"  # the last one counts
    assert lot["stations"] == ["bay-3"]
    assert (tmp_path / "stick/lots" / closed.paths[1].name).exists()  # the PDF beside it


def test_a_lot_without_a_target_is_not_written(tmp_path: Path) -> None:
    from wipestation.reports.target import TargetUnavailableError

    writer = ReportWriter(station=STATION, key_home=tmp_path / "keys", spool_dir=tmp_path / "s")
    desk, _ = open_desk("", writer)
    with pytest.raises(TargetUnavailableError, match="no report target"):
        close_lot(writer, desk, LotIdentity("L1"))


@pytest.mark.slow
def test_a_lot_without_a_manifest_counts_each_drive_once_by_its_last_record(tmp_path) -> None:
    writer = boot(tmp_path, 1)
    writer.write(wiped("A-1", False, "2026-11-27T09:00:00+00:00"))
    writer.write(wiped("A-1", True, "2026-11-27T10:00:00+00:00"))
    writer.write(wiped("B-2", True, "2026-11-27T09:30:00+00:00"))
    desk, _ = open_desk("", writer)
    closed = close_lot(writer, desk, LotIdentity("L1", station="bay-3"))
    assert (closed.status, closed.expected, closed.passed, closed.failed) == ("COMPLETE", 0, 2, 0)
    assert closed.line().startswith("LOT L1 COMPLETE expected=0 passed=2 failed=0 destroyed=0 ")
    assert " missing= record=lot-L1.json" in closed.line()
