"""Issue 21: every record says how the station was booted (``boot.secure_boot``), read from the
firmware's SecureBoot variable (secureboot.py); the schema takes all three answers."""

from __future__ import annotations

import jsonschema
import pytest
from wipestation import secureboot
from wipestation.reports.record import build_record

from tests.reports.factory import STATION, job, validate
from tests.station.test_secureboot import OVMF_ENFORCED, OVMF_OFF


def test_record_carries_this_boots_secure_boot_state() -> None:
    rec = validate(build_record(job(), STATION))
    assert rec["boot"] == secureboot.this_boot().to_json()
    assert rec["boot"]["secure_boot"] is secureboot.read_state().enforced


@pytest.mark.parametrize(
    "state",
    [
        secureboot.parse_variable(OVMF_ENFORCED),
        secureboot.parse_variable(OVMF_OFF),
        secureboot.parse_variable(b"\x06"),  # unknown: null
    ],
)
def test_schema_takes_enforced_off_and_unknown(state: secureboot.SecureBoot) -> None:
    rec = build_record(job(), STATION)
    rec["boot"] = state.to_json()
    validate(rec)


def test_schema_refuses_a_boot_block_without_its_answer() -> None:
    rec = build_record(job(), STATION)
    rec["boot"] = {"detail": "no answer"}
    with pytest.raises(jsonschema.ValidationError):
        validate(rec)
    rec["boot"] = {"secure_boot": "unknown", "detail": "a string is not an answer"}
    with pytest.raises(jsonschema.ValidationError):
        validate(rec)
