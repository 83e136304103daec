"""Tamper evidence: a signed record verifies, and changing any byte of its file is caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from wipestation.cli import run as cli_run
from wipestation.reports.keystore import file_signer
from wipestation.reports.record import build_record, serialize
from wipestation.reports.sign import Signer, verify_bytes, verify_record

from tests.reports.factory import STATION, job, validate


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.generate()


@pytest.fixture
def signed_bytes(signer: Signer) -> bytes:
    return serialize(validate(signer.sign(build_record(job(), STATION))))


def test_untouched_record_verifies(signer: Signer, signed_bytes: bytes) -> None:
    v = verify_bytes(signed_bytes)
    assert v.ok, v.reason
    assert v.fingerprint == signer.fingerprint
    assert verify_bytes(signed_bytes, (signer.fingerprint,)).ok


def test_every_single_byte_change_is_detected(signed_bytes: bytes) -> None:
    accepted = []
    for i in range(len(signed_bytes)):
        tampered = bytearray(signed_bytes)
        tampered[i] ^= 0x01
        if verify_bytes(bytes(tampered)).ok:
            accepted.append(i)
    assert accepted == []


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("operator", "Mallory", "record hash does not match"),
        ("signature.signed_at", "2020-01-01T00:00:00+00:00", "signature does not match"),
        ("signature.key_fingerprint", "0000:0000:0000:0000:0000:0000:0000:0000", "fingerprint"),
    ],
)
def test_semantic_edits_say_why(signed_bytes: bytes, field: str, value: str, reason: str) -> None:
    rec = json.loads(signed_bytes)
    target = rec
    *parents, leaf = field.split(".")
    for p in parents:
        target = target[p]
    target[leaf] = value
    v = verify_bytes(serialize(rec))
    assert not v.ok
    assert reason in v.reason


def test_resigned_by_another_key_fails_against_the_trusted_fingerprint(
    signer: Signer, signed_bytes: bytes
) -> None:
    rec = json.loads(signed_bytes)
    forged = Signer.generate().sign({**rec, "operator": "Mallory"})
    assert verify_record(forged).ok  # self-consistent ...
    v = verify_record(forged, (signer.fingerprint,))
    assert not v.ok  # ... but not by this station
    assert "unknown key" in v.reason


def test_whitespace_only_change_is_detected(signed_bytes: bytes) -> None:
    v = verify_bytes(signed_bytes.replace(b'\n  "asset_tag"', b'\n   "asset_tag"', 1))
    assert not v.ok
    assert "differ" in v.reason or "JSON" in v.reason


def test_station_key_is_created_once_and_reused(tmp_path: Path) -> None:
    key_dir = tmp_path / "keys"
    first = file_signer(key_dir, "bench-2")
    again = file_signer(key_dir, "bench-2")
    assert first.fingerprint == again.fingerprint
    pem = key_dir / "bench-2.ed25519.pem"
    assert pem.stat().st_mode & 0o077 == 0
    assert file_signer(key_dir, "other").fingerprint != first.fingerprint


def test_cli_verify_report_exit_codes(
    tmp_path: Path, signer: Signer, signed_bytes: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.json"
    good.write_bytes(signed_bytes)
    bad = tmp_path / "bad.json"
    bad.write_bytes(signed_bytes.replace(b'"PASS"', b'"FAIL"', 1))
    assert cli_run(["verify-report", str(good)]) == 0
    assert signer.fingerprint in capsys.readouterr().out
    assert cli_run(["verify-report", str(bad)]) == 1
    assert "FAILED" in capsys.readouterr().err
    other = Signer.generate().fingerprint
    assert cli_run(["verify-report", "--fingerprint", other, str(good)]) == 1
    assert "unknown key" in capsys.readouterr().err
