"""Resuming a lot from the report stick: only this station's signed records of the lot count;
the lots offered for resuming are those with records and no lot record closed after them."""

from __future__ import annotations

import json
from pathlib import Path

from wipestation.custody.resume import open_lots, prior_records, read_prior
from wipestation.reports.record import serialize
from wipestation.reports.sign import Signer

from tests.custody.helpers import record, save

DAY = "reports/2026-11-27"


def stick(tmp_path: Path, station: Signer) -> Path:
    """A report target as a previous boot of ``station`` left it, and what others put there."""
    root = tmp_path / "stick"
    stranger = Signer.generate()
    save(root / DAY, "A", record(station, "A", lot_id="L1", ended_at="2026-11-27T09:00:00+00:00"))
    save(root / DAY, "B", record(station, "B", lot_id="L1", passed=False))
    save(root / DAY, "C", record(stranger, "C", lot_id="L1"))  # a genuine key, not this station's
    save(root / DAY, "D", record(station, "D", lot_id="L2"))
    forged = record(station, "E", lot_id="L1")
    forged["drive"]["serial"] = "E-FORGED"  # changed after signing
    (root / DAY / "E.json").write_bytes(serialize(forged))
    (root / DAY / "notes.json").write_text('{"hello": 1}')  # not a record at all
    return root


def test_only_the_station_s_own_records_of_the_lot_count(tmp_path: Path) -> None:
    station = Signer.generate()
    root = stick(tmp_path, station)
    found = prior_records(root, "L1", station.fingerprint)
    assert sorted(r.serial for r in found) == ["A", "B"]
    assert {r.outcome for r in found} == {"PASS", "FAIL"}
    prior = read_prior(root, "L1", station.fingerprint)
    assert sorted(Path(r.file).name for r in prior.rejected) == ["C.json", "E.json"]
    assert all(r.reason for r in prior.rejected)
    assert [r.serial for r in prior_records(root, "L2", station.fingerprint)] == ["D"]


def test_another_station_s_key_trusts_none_of_them(tmp_path: Path) -> None:
    root = stick(tmp_path, Signer.generate())
    assert prior_records(root, "L1", Signer.generate().fingerprint) == []


def test_an_empty_or_new_stick_has_no_prior_records_and_no_open_lots(tmp_path: Path) -> None:
    assert prior_records(tmp_path, "L1", Signer.generate().fingerprint) == []
    assert open_lots(tmp_path) == []


def lot_record(root: Path, lot_id: str, closed_at: str) -> None:
    (root / "lots").mkdir(parents=True, exist_ok=True)
    doc = {"schema": "wipestation.lot/1", "lot_id": lot_id, "closed_at": closed_at}
    (root / "lots" / f"lot-{lot_id}.json").write_text(json.dumps(doc))


def test_open_lots_are_those_with_records_after_their_last_closing(tmp_path: Path) -> None:
    s = Signer.generate()
    root = tmp_path / "stick"
    save(root / DAY, "A", record(s, "A", lot_id="OPEN", ended_at="2026-11-27T09:00:00+00:00"))
    save(root / DAY, "B", record(s, "B", lot_id="OPEN", ended_at="2026-11-27T10:00:00+00:00"))
    save(root / DAY, "C", record(s, "C", lot_id="DONE", ended_at="2026-11-27T08:00:00+00:00"))
    lot_record(root, "DONE", "2026-11-27T08:30:00+00:00")
    save(root / DAY, "D", record(s, "D", lot_id="AGAIN", ended_at="2026-11-27T11:00:00+01:00"))
    lot_record(root, "AGAIN", "2026-11-27T09:59:00+00:00")  # closed, then one more drive came
    lots = open_lots(root)
    assert [o.lot_id for o in lots] == ["AGAIN", "OPEN"]  # newest first
    again, opened = lots
    assert (opened.records, opened.last) == (2, "2026-11-27T10:00:00+00:00")
    assert again.records == 1
    assert opened.customer == "ACME Recycling"
