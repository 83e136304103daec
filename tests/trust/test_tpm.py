"""With a TPM 2.0 (a real software TPM here) the station key never exists as a file."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from wipestation.cli import run as cli_run
from wipestation.reports.keystore import KeyHome
from wipestation.reports.record import serialize
from wipestation.reports.sign import ECDSA_P256, Signer, TpmSigner, verify_bytes
from wipestation.reports.trust import load_trust
from wipestation.tools import tpm2

from tests.reports.factory import validate
from tests.trust.helpers import load, write_records


def test_argv_builders_name_the_tpm_and_the_persistent_handle() -> None:
    argv = tpm2.build_sign_argv("device:/dev/tpmrm0", Path("d"), Path("s"))
    assert argv[:3] == ["tpm2_sign", "-T", "device:/dev/tpmrm0"]
    assert "0x81015753" in argv
    assert argv[argv.index("-s") : argv.index("-s") + 2] == ["-s", "ecdsa"]
    assert tpm2.station_tcti(Path("/nonexistent/tpmrm0")) in (None, tpm2.station_tcti())


def test_records_are_signed_by_the_tpm_and_verify(station_tpm: str, tmp_path: Path) -> None:
    keys = tmp_path / "boot-stick" / "wipestation-keys"
    paths = write_records(tmp_path / "report-stick", KeyHome.directory(keys, station_tpm), 2)
    signer = TpmSigner.open(station_tpm)
    for p in paths:
        v = verify_bytes(p.read_bytes(), (signer.fingerprint,))
        assert v.ok, v.reason
        assert v.protection == "tpm"
        rec = validate(load(p))
        assert rec["signature"]["algorithm"] == ECDSA_P256
    # The same TPM key after a "reboot": one identity.
    again = write_records(tmp_path / "other-stick", KeyHome.directory(keys, station_tpm), 1, 5)
    assert verify_bytes(again[0].read_bytes(), (signer.fingerprint,)).ok


def _private_key_files(root: Path) -> list[Path]:
    found = []
    for p in root.rglob("*"):
        if p.is_file() and (b"PRIVATE KEY" in p.read_bytes() or p.suffix in (".priv", ".ctx")):
            found.append(p)
    return found


def test_no_private_key_on_either_stick_and_forgeries_fail(
    station_tpm: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    boot, reports = tmp_path / "boot-stick", tmp_path / "report-stick"
    keys = boot / "wipestation-keys"
    (real,) = write_records(reports, KeyHome.directory(keys, station_tpm), 1)
    assert cli_run(["station", "identity", "--key-dir", str(keys), "--out", str(tmp_path / "enrol"),
                    "--station-id", "bench-1"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "key protection: tpm" in out
    assert "BEGIN PUBLIC KEY" in out
    assert _private_key_files(boot) == []
    assert _private_key_files(reports) == []
    (identity,) = (tmp_path / "enrol").glob("*.identity.json")
    trusted = load_trust([identity]).fingerprints

    # An insider with both sticks: every key there is public. The best forgery is a fresh key
    # (or one planted beside the records), re-signing a changed record.
    planted = Ed25519PrivateKey.generate()
    (reports / "wipestation-keys").mkdir()
    (reports / "wipestation-keys" / "bench-1.ed25519.pem").write_bytes(
        planted.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    rec = load(real)
    rec["drive"]["serial"] = "NEVER-ATTACHED"
    forged = tmp_path / "forged.json"
    forged.write_bytes(serialize(Signer(planted).sign(rec)))
    assert verify_bytes(forged.read_bytes()).ok  # self-consistent ...
    assert not verify_bytes(forged.read_bytes(), trusted).ok  # ... but not this station
    assert cli_run(["verify-report", "--trust", str(identity), str(forged), str(real)]) == 1
    err = capsys.readouterr()
    assert "unknown key" in err.err
    assert f"{real}: OK" in err.out
    # Claiming "tpm" for a file key is refused outright.
    sig = {**json.loads(forged.read_bytes())["signature"], "key_protection": "tpm"}
    bad = {**json.loads(forged.read_bytes()), "signature": sig}
    assert "does not fit" in verify_bytes(serialize(bad)).reason


def test_the_tpm_key_is_an_ecdsa_p256_key_the_tpm_will_not_export(station_tpm: str) -> None:
    pem = tpm2.load_or_create_key(station_tpm)
    assert pem == tpm2.public_pem(station_tpm)  # created once, then found
    sig = tpm2.sign_digest(station_tpm, b"\x01" * 32)
    assert sig[0] == 0x30
    with pytest.raises(tpm2.TpmError):
        tpm2.sign_digest(station_tpm, b"short")
    signer = TpmSigner.open(station_tpm)
    assert len(base64.b64decode(signer.sign({"x": 1})["signature"]["public_key"])) == 65


def test_a_missing_tpm_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(tpm2.TpmError, match="TPM"):
        tpm2.public_pem("swtpm:host=127.0.0.1,port=1")
