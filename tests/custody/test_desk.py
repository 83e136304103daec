"""The lot desk alone (plain Python, no Textual), and the writer putting scans on records."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from wipestation.custody.desk import drive_states, lot_line, open_desk
from wipestation.reports.sign import verify_bytes
from wipestation.reports.writer import ReportWriter

from tests.reports.factory import drive, job


def test_scanned_tags_and_label_notes_reach_the_record(tmp_path: Path) -> None:
    writer = ReportWriter(tmp_path / "out", spool_dir=tmp_path / "spool", pdf_enabled=False)
    desk, problem = open_desk("", writer)
    assert problem == ""
    d = drive()
    assert "label checked" in desk.scan(d.serial.lower(), [d], None).text  # case does not matter
    desk.scan("AT-77", [d], d)
    desk.notes.setdefault(d.identity, []).append("label serial X1, firmware serial Y2")
    written = writer.write(job())
    writer.close()
    rec = verify_bytes(written[0].read_bytes()).record
    assert rec is not None
    assert rec["asset_tag"] == "AT-77"
    assert "label serial X1, firmware serial Y2" in rec["notes"]


def test_an_unreadable_manifest_is_one_line_not_a_crash(tmp_path: Path) -> None:
    bad = tmp_path / "m.csv"
    bad.write_text("colour,weight\nred,3\n", encoding="utf-8")
    desk, problem = open_desk(str(bad), None)
    assert desk.manifest is None
    assert problem.startswith("manifest not loaded: ")
    assert "m.csv" in problem
    assert "\n" not in problem


def test_the_last_wipe_of_a_drive_counts_and_unlisted_drives_are_counted(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    d = drive()
    manifest.write_text(f"serial\n{d.serial}\nOTHER-1\n", encoding="utf-8")
    desk, _ = open_desk(str(manifest), None)
    first = replace(job(passed=False), job_id="a", ended_at="2026-01-01T10:00:00+00:00")
    again = replace(job(), job_id="b", ended_at="2026-01-01T11:00:00+00:00")
    stranger = replace(d, serial="NOT-LISTED", identity="NOT-LISTED", name="sdz")
    states = drive_states([(stranger, True)], {"b": again, "a": first})
    counts = desk.counts(states)
    assert (counts.expected, counts.passed, counts.failed, counts.not_seen) == (2, 1, 0, 1)
    assert counts.unlisted == 1
    assert [e.serial for e in desk.not_seen(states)] == ["OTHER-1"]


def test_earlier_records_count_and_this_session_comes_after_them(tmp_path: Path) -> None:
    """A lot resumed from the stick: a drive wiped on an earlier boot is no longer 'not seen',
    a failed one wiped again now counts as passed, a destroyed one stays destroyed, and an
    earlier drive that is not on the manifest is counted as such."""
    from wipestation.custody.destroy import Destruction, build_destruction_record
    from wipestation.custody.records import from_record
    from wipestation.reports.sign import Signer

    from tests.custody.helpers import record
    from tests.reports.factory import STATION

    signer = Signer.generate()
    manifest = tmp_path / "m.csv"
    manifest.write_text("serial\nA-1\nB-2\nC-3\nD-4\n", encoding="utf-8")
    desk, _ = open_desk(str(manifest), None)
    gone = Destruction(serial="C-3", method="shredded", destroyed_by="Ana", lot_id="L1")
    earlier = [
        record(signer, "A-1", ended_at="2026-11-27T09:00:00+00:00"),
        record(signer, "B-2", passed=False, ended_at="2026-11-27T09:10:00+00:00"),
        signer.sign(build_destruction_record(gone, STATION)),
        record(signer, "ZZ-9", ended_at="2026-11-27T09:20:00+00:00"),
    ]
    desk.prior = [from_record(r, f"{i}.json") for i, r in enumerate(earlier)]
    counts = desk.counts([])
    assert (counts.expected, counts.passed, counts.failed, counts.destroyed) == (4, 1, 1, 1)
    assert (counts.not_seen, counts.unlisted) == (1, 1)
    assert [e.serial for e in desk.not_seen([])] == ["D-4"]

    b = replace(drive(), serial="B-2", identity="B-2", name="sdb")
    again = replace(job(drive=b), job_id="b", ended_at="2026-11-28T10:00:00+00:00")
    counts = desk.counts(drive_states([], {"b": again}))
    assert (counts.passed, counts.failed, counts.destroyed) == (2, 0, 1)
    assert "2 passed, 0 failed, 1 destroyed" in lot_line("L1", desk, counts)
