"""Tamper evidence: Ed25519 signatures over the canonical record, and their verification.

The station key is created on first use and kept on the report medium (``wipestation-keys/``), so
the stick that carries the certificates also carries the means to check them; its fingerprint is
printed on every certificate, which is what an auditor compares. Verification is strict on
purpose: a record file must be *exactly* the bytes the station wrote (any byte changed, even
whitespace, is a failure), and every field of the signature block except the signature value is
itself covered by the signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from wipestation.discovery.identity import safe_filename
from wipestation.errors import ReportError
from wipestation.reports.atomic import mkdirs_durable, write_atomic
from wipestation.reports.record import Record, now_iso, record_hash, serialize

KEY_DIR = "wipestation-keys"
ALGORITHM = "Ed25519"


def fingerprint_of(public_raw: bytes) -> str:
    """128 bits of SHA-256 of the raw public key, as 8 groups of 4 hex digits."""
    h = hashlib.sha256(public_raw).hexdigest()[:32]
    return ":".join(h[i : i + 4] for i in range(0, 32, 4))


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def signed_bytes(record: Record) -> bytes:
    """The record plus its signature block minus the signature value, canonical."""
    sig = {k: v for k, v in record["signature"].items() if k != "value"}
    body = {**{k: v for k, v in record.items() if k != "signature"}, "signature": sig}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Signer:
    """A station's Ed25519 key pair."""

    private_key: Ed25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        return _raw_public(self.private_key.public_key())

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.public_raw)

    @classmethod
    def generate(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, key_dir: str | Path, station_id: str) -> Signer:
        """The station's key from ``key_dir``, created (and written durably) on first use."""
        key_dir = Path(key_dir)
        path = key_dir / f"{safe_filename(station_id)}.ed25519.pem"
        if path.exists():
            try:
                key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            except (ValueError, OSError) as e:
                raise ReportError(f"station key {path} is unreadable ({e})") from e
            if not isinstance(key, Ed25519PrivateKey):
                raise ReportError(f"station key {path} is not an Ed25519 key")
            return cls(key)
        signer = cls.generate()
        signer._save(key_dir, path)
        return signer

    def _save(self, key_dir: Path, path: Path) -> None:
        mkdirs_durable(key_dir)
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_atomic(path, pem, mode=0o600)
        pub = self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        write_atomic(path.with_name(path.name.replace(".pem", ".pub.pem")), pub)
        write_atomic(
            path.with_name(path.name.replace(".pem", ".fingerprint")),
            f"{self.fingerprint}\n".encode(),
        )

    def sign(self, record: Record, signed_at: str | None = None) -> Record:
        """A copy of ``record`` with its signature block."""
        body = {k: v for k, v in record.items() if k != "signature"}
        sig = {
            "algorithm": ALGORITHM,
            "public_key": base64.b64encode(self.public_raw).decode(),
            "key_fingerprint": self.fingerprint,
            "record_sha256": record_hash(body),
            "signed_at": signed_at or now_iso(),
        }
        out = {**body, "signature": sig}
        sig["value"] = base64.b64encode(self.private_key.sign(signed_bytes(out))).decode()
        return out


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str
    fingerprint: str = ""
    record: Record | None = field(default=None, repr=False)


def _b64(text: object, what: str) -> bytes:
    """Strict base64: the text must be the one canonical encoding of what it decodes to."""
    if not isinstance(text, str):
        raise ReportError(f"{what} is missing")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ReportError(f"{what} is not valid base64") from e
    if base64.b64encode(raw).decode() != text:
        raise ReportError(f"{what} is not in canonical base64 form")
    return raw


def _check_block(record: Record) -> tuple[bytes, bytes]:
    sig = record.get("signature")
    if not isinstance(sig, dict):
        raise ReportError("the record carries no signature")
    if sig.get("algorithm") != ALGORITHM:
        raise ReportError(f"unknown signature algorithm {sig.get('algorithm')!r}")
    pub = _b64(sig.get("public_key"), "public key")
    value = _b64(sig.get("value"), "signature value")
    if len(pub) != 32:
        raise ReportError("public key has the wrong length")
    if sig.get("key_fingerprint") != fingerprint_of(pub):
        raise ReportError("key fingerprint does not match the public key")
    if sig.get("record_sha256") != record_hash(record):
        raise ReportError("record hash does not match the record content (record was changed)")
    return pub, value


def verify_record(record: Record, trusted_fingerprints: tuple[str, ...] = ()) -> Verdict:
    """Check the signature of a parsed record (and, if given, that the key is a trusted one)."""
    try:
        pub, value = _check_block(record)
    except ReportError as e:
        return Verdict(False, str(e))
    fp = fingerprint_of(pub)
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(value, signed_bytes(record))
    except InvalidSignature:
        return Verdict(False, "signature does not match the record (record was changed)", fp)
    if trusted_fingerprints and fp not in trusted_fingerprints:
        return Verdict(False, f"signed by an unknown key {fp}", fp)
    return Verdict(True, "signature valid", fp, record)


def verify_bytes(data: bytes, trusted_fingerprints: tuple[str, ...] = ()) -> Verdict:
    """Verify a record file: parseable, signed, and byte-identical to what was signed."""
    try:
        record = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        return Verdict(False, f"not UTF-8 text at byte {e.start}")
    except json.JSONDecodeError as e:
        return Verdict(False, f"not valid JSON ({e.msg} at line {e.lineno} column {e.colno})")
    if not isinstance(record, dict):
        return Verdict(False, "not a Wipestation record (top level is not an object)")
    verdict = verify_record(record, trusted_fingerprints)
    if verdict.ok and serialize(record) != data:
        at = next(
            (i for i, (a, b) in enumerate(zip(serialize(record), data, strict=False)) if a != b),
            None,
        )
        where = f"at byte {at}" if at is not None else "in length"
        return Verdict(
            False, f"file bytes differ from the signed record {where}", verdict.fingerprint
        )
    return verdict


def trusted_from_dir(key_dir: str | Path) -> tuple[str, ...]:
    """Fingerprints of every station key found in a ``wipestation-keys`` directory."""
    out: list[str] = []
    for p in sorted(Path(key_dir).glob("*.fingerprint")):
        try:
            out.append(p.read_text(encoding="ascii").strip())
        except (OSError, UnicodeDecodeError):
            continue
    return tuple(out)
