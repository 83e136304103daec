"""Hostile record files: one clear line each, and the files after them are still checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from wipestation.cli import run as cli_run
from wipestation.reports.readrecord import MAX_BYTES, nesting_depth

from tests.trust.helpers import write_records


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return write_records(tmp_path / "stick", tmp_path / "keys", 1)[0]


def _deep(path: Path, levels: int = 1000) -> Path:
    path.write_bytes(b'{"a":' * levels + b"1" + b"}" * levels)
    return path


def test_deep_and_huge_records_do_not_stop_verify_report(
    tmp_path: Path, good: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = _deep(tmp_path / "deep.json")
    huge = tmp_path / "huge.json"
    with huge.open("wb") as f:
        f.write(b'{"pad":"' + b"x" * (50 * 1024 * 1024) + b'"}')
    assert cli_run(["verify-report", str(deep), str(huge), str(good)]) == 1
    out = capsys.readouterr()
    lines = out.err.splitlines()
    assert f"{deep}: FAILED: nested deeper than 64 levels: not a Wipestation record" in lines
    assert any(ln.startswith(f"{huge}: FAILED: larger than 1024 KiB") for ln in lines)
    assert "Traceback" not in out.err
    assert f"{good}: OK" in out.out  # the file after them was still checked


def test_deep_and_huge_records_are_one_line_for_print_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = _deep(tmp_path / "deep.json")
    huge = tmp_path / "huge.json"
    huge.write_bytes(b" " * (MAX_BYTES + 1))
    for f in (deep, huge):
        for extra in ([], ["--unsigned-ok"]):
            assert cli_run(["print-label", str(f), "--output", "-", *extra]) == 1
            err = capsys.readouterr().err
            assert len(err.strip().splitlines()) == 1
            assert "Traceback" not in err
            assert str(f) in err


def test_brackets_inside_strings_are_not_nesting() -> None:
    assert nesting_depth(b'{"a": "[[[[{{{{\\"[[["}') == 1
    assert nesting_depth(b"[[[]],[]]") == 3


def test_chain_dir_reports_a_bad_file_and_checks_the_rest(
    tmp_path: Path, good: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _deep(good.parent / "deep.json")
    assert cli_run(["verify-report", "--chain", str(tmp_path / "stick")]) == 1
    out = capsys.readouterr()
    assert "deep.json: FAILED: nested deeper" in out.err
    assert f"{good}: OK" in out.out
    assert "chain OK: 1 record(s)" in out.out
