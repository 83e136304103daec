"""Every station's records form a numbered hash chain: deleted, forked or replaced records
are named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from wipestation.cli import run as cli_run
from wipestation.reports.chain import FORK, GAP, REPLACED, UNCHAINED, check_chain
from wipestation.reports.keystore import load_chain
from wipestation.reports.sign import verify_bytes

from tests.reports.factory import validate
from tests.trust.helpers import load, write_records


def test_records_are_numbered_across_report_sticks_and_linked(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    first = write_records(tmp_path / "stick-a", keys, 2)
    second = write_records(tmp_path / "stick-b", keys, 2, first=2)  # a new stick, same station
    recs = [validate(load(p)) for p in first + second]
    assert [r["chain"]["sequence"] for r in recs] == [1, 2, 3, 4]
    assert recs[0]["chain"]["previous_sha256"] == ""
    for before, after in zip(recs, recs[1:], strict=False):
        assert after["chain"]["previous_sha256"] == before["signature"]["record_sha256"]
    assert len({r["signature"]["key_fingerprint"] for r in recs}) == 1
    assert load_chain(keys, recs[0]["signature"]["key_fingerprint"]).sequence == 4
    assert not list((tmp_path / "stick-b").rglob("*.ed25519.pem"))
    assert check_chain((str(p), r) for p, r in zip(first + second, recs, strict=True)) == []


def test_gap_fork_and_replaced_are_named(tmp_path: Path) -> None:
    paths = write_records(tmp_path / "r", tmp_path / "keys", 5)
    named = [(p.name, load(p)) for p in paths]
    (gap,) = check_chain(named[:2] + named[3:])
    assert gap.kind == GAP
    assert gap.sequences == (3,)
    assert gap.names == ("SER1.json", "SER3.json")
    assert "SER1.json" in str(gap)
    # A copy of the same record elsewhere is no fork; a different record numbered 2 is.
    assert check_chain([*named, ("copy.json", named[1][1])]) == []
    other = write_records(tmp_path / "r2", tmp_path / "keys", 1, first=9)[0]
    twin = load(other)
    twin["chain"] = named[1][1]["chain"]  # (its signature would fail; chain checks numbering)
    problems = check_chain([*named, ("twin.json", twin)])
    assert [p.kind for p in problems] == [FORK]
    assert set(problems[0].names) == {"SER1.json", "twin.json"}
    # Record 3 swapped for another record that claims its place.
    swapped = json.loads(json.dumps(named[2][1]))
    swapped["drive"]["serial"] = "SWAPPED"
    problems = check_chain([*named[:2], ("SER2.json", swapped), *named[3:]])
    assert [p.kind for p in problems] == [REPLACED]
    assert problems[0].names == ("SER2.json", "SER3.json")


def test_a_record_without_a_chain_is_named() -> None:
    (problem,) = check_chain([("old.json", {"signature": {"key_fingerprint": "x"}})])
    assert problem.kind == UNCHAINED
    assert problem.names == ("old.json",)


def test_verify_report_chain_dir_names_a_deleted_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = write_records(tmp_path / "stick", tmp_path / "keys", 4)
    stick = tmp_path / "stick"
    assert cli_run(["verify-report", "--chain", str(stick)]) == 0
    assert "chain OK: 4 record(s)" in capsys.readouterr().out
    paths[2].unlink()
    assert cli_run(["verify-report", "--chain", str(stick)]) == 1
    err = capsys.readouterr().err
    assert "gap:" in err
    assert "record(s) 3 missing" in err
    assert "SER1.json" in err
    assert verify_bytes(paths[3].read_bytes()).ok
