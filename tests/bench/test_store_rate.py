"""``make bench``'s store figure runs end to end on a few records: its own SeaweedFS, the real
uploader, every object created and then found already there (the figures are printed, never
asserted: only what they count is)."""

from __future__ import annotations

import re

import pytest

from bench import store_rate


def test_a_few_records_are_delivered_then_found_already_there(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert store_rate.main(["--records", "3"]) == 0
    out = capsys.readouterr().out
    assert "3 signed records" in out
    assert re.search(r"new records \(created 6\) +[\d.]+ records/s .* 6 PUTs", out), out
    assert re.search(r"offered again \(already 6\) +[\d.]+ records/s .* 6 PUTs", out), out


def test_no_records_is_refused_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert store_rate.main(["--records", "0"]) == 2
    assert capsys.readouterr().err == "store_rate: --records wants a positive number\n"
