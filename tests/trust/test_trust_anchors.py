"""One reader of trust anchors (``reports/trust.py``) for ``verify-report`` and ``lot reconcile``:
fingerprint lists, PEM keys, identity JSON variants; private keys and unsound files refused."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from wipestation.cli import run as cli_run
from wipestation.errors import ReportError
from wipestation.reports.identity import build_identity
from wipestation.reports.record import serialize
from wipestation.reports.sign import Signer
from wipestation.reports.trust import (
    TrustError,
    fingerprint_of_file,
    fingerprints_of_file,
    load_trust,
)

from tests.trust.helpers import load, write_records


def test_a_fingerprint_list_file_with_comments(tmp_path: Path) -> None:
    a, b = Signer.generate(), Signer.generate()
    f = tmp_path / "stations.txt"
    f.write_text(f"\ufeff# bench 1\n{a.fingerprint.upper()}\n\n  {b.fingerprint}  \n")
    assert fingerprints_of_file(f) == (a.fingerprint, b.fingerprint)
    assert load_trust([f, f]).fingerprints == (a.fingerprint, b.fingerprint)
    with pytest.raises(TrustError, match="names 2 keys, not one"):
        fingerprint_of_file(f)


def test_verify_report_trusts_a_fingerprint_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = write_records(tmp_path / "stick", tmp_path / "keys", 1)[0]
    fp = load(record)["signature"]["key_fingerprint"]
    (tmp_path / "fp.txt").write_text(f"# the station\n{fp}\n")
    assert (
        cli_run(["verify-report", "--origin", "--trust", str(tmp_path / "fp.txt"), str(record)])
        == 0
    )
    assert "signed by trusted key" in capsys.readouterr().out


def test_identity_json_variants_name_the_key(tmp_path: Path) -> None:
    s = Signer.generate()
    raw = base64.b64encode(s.public_raw).decode()
    variants = {
        "identity.json": serialize(build_identity(s, "bench-1")),
        "raw.json": json.dumps({"public_key": raw}).encode(),
        "fp.json": json.dumps({"key_fingerprint": s.fingerprint}).encode(),
    }
    for name, data in variants.items():
        (tmp_path / name).write_bytes(data)
        assert fingerprint_of_file(tmp_path / name) == s.fingerprint, name


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("private", "a private key is not a trust anchor"),
        ("short-key", "not an Ed25519 or ECDSA P-256 key"),
        ("foreign-fingerprint", "not signed by the key it names"),
        ("changed", "not signed by the key it names"),
        ("binary", "not a key, fingerprint or identity file"),
        ("empty", "no fingerprint in the file"),
    ],
)
def test_unsound_trust_files_are_refused_by_name(tmp_path: Path, content: str, words: str) -> None:
    s = Signer.generate()
    identity = build_identity(s, "bench-1")
    data = {
        "private": s.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        "short-key": json.dumps({"public_key": base64.b64encode(b"x" * 16).decode()}).encode(),
        "foreign-fingerprint": serialize(
            s.sign({**identity, "key": {"fingerprint": Signer.generate().fingerprint}})
        ),
        "changed": serialize({**identity, "station": {"id": "someone else"}}),
        "binary": b"\xff\xfe\x00junk",
        "empty": b"# nothing here\n",
    }[content]
    f = tmp_path / "anchor"
    f.write_bytes(data)
    with pytest.raises(ReportError) as e:
        load_trust([f])
    assert words in str(e.value)
    assert str(f) in str(e.value)
