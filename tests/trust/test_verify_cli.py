"""Origin needs a trust anchor given explicitly; without one only integrity is claimed."""

from __future__ import annotations

from pathlib import Path

import pytest
from wipestation.cli import run as cli_run
from wipestation.reports.identity import write_identity
from wipestation.reports.keystore import file_signer
from wipestation.reports.record import serialize
from wipestation.reports.sign import Signer

from tests.reports.escpos_decode import decode
from tests.reports.factory import STATION
from tests.trust.helpers import load, write_records


@pytest.fixture
def record(tmp_path: Path) -> Path:
    return write_records(tmp_path / "stick", tmp_path / "keys", 1)[0]


def test_without_an_anchor_only_integrity_is_claimed(
    record: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_run(["verify-report", str(record)]) == 0
    out = capsys.readouterr()
    assert "origin not checked" in out.out
    assert "integrity checked only" in out.err
    assert cli_run(["verify-report", "--origin", str(record)]) == 2
    assert "--origin" in capsys.readouterr().err


def test_trust_by_identity_file_pem_or_fingerprint(
    tmp_path: Path, record: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signer = file_signer(tmp_path / "keys", STATION.station_id)  # the key the writer used
    identity = write_identity(tmp_path / "enrol", signer, STATION.station_id)
    pem = next((tmp_path / "keys").glob("*.pub.pem"))
    for anchor in (["--trust", str(identity)], ["--trust", str(pem)],
                   ["--fingerprint", signer.fingerprint.upper()]):  # fmt: skip
        assert cli_run(["verify-report", "--origin", *anchor, str(record)]) == 0, anchor
        assert "signed by trusted key" in capsys.readouterr().out
    stranger = write_identity(tmp_path / "other", Signer.generate(), "bench-1")
    assert cli_run(["verify-report", "--trust", str(stranger), str(record)]) == 1
    assert "unknown key" in capsys.readouterr().err
    # An identity file is itself verifiable; a bad trust file is one error line.
    assert cli_run(["verify-report", str(identity)]) == 0
    junk = tmp_path / "junk.pem"
    junk.write_text("-----BEGIN PUBLIC KEY-----\nnope\n")
    assert cli_run(["verify-report", "--trust", str(junk), str(record)]) == 2
    assert f"trust file {junk}" in capsys.readouterr().err


def test_keys_beside_the_records_are_never_trusted(record: Path) -> None:
    with pytest.raises(SystemExit):  # --keys DIR (trust what the stick carries) is gone
        cli_run(["verify-report", "--keys", str(record.parent), str(record)])


def test_print_label_refuses_an_unverified_record_unless_told(
    tmp_path: Path, record: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lp = tmp_path / "lp0"
    lp.write_bytes(b"")
    rec = load(record)
    rec["drive"]["serial"] = "FORGED-1"
    forged = tmp_path / "forged.json"
    forged.write_bytes(serialize(rec))
    assert cli_run(["print-label", str(forged), "--printer", f"escpos:{lp}"]) == 1
    assert "signature does not verify" in capsys.readouterr().err
    assert lp.read_bytes() == b""
    assert cli_run(["print-label", str(forged), "--unsigned-ok", "--printer", f"escpos:{lp}"]) == 0
    label = decode(lp.read_bytes())
    assert label.lines[0] == "UNVERIFIED"
    assert "UNVERIFIED PASS (claimed)" in label.flat
    assert b"|UNVERIFIED|" in label.qr_stored
    lp.write_bytes(b"")
    assert cli_run(["print-label", str(record), "--printer", f"escpos:{lp}"]) == 0
    assert "UNVERIFIED" not in decode(lp.read_bytes()).text
