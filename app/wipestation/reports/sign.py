"""Tamper evidence: signatures over the canonical record, and their verification.

Two kinds of station key sign records, and every signature block says which
(``algorithm``) and how the key is kept (``key_protection``), so an auditor can weigh it:

- ``tpm``: ECDSA P-256 (``ECDSA-P256-SHA256``), created inside the station's TPM 2.0 and never
  exportable; the TPM signs (``tools/tpm2.py``).
- ``file``: Ed25519, a key file on the station's boot stick (``reports/keystore.py``) — never on
  the report stick that travels to the office.
- ``ephemeral``: Ed25519, a key file in RAM, made anew at every boot (a station with neither a
  TPM nor a boot stick to keep it on): no enrolled identity can name it after a power-off.

Verification is strict on purpose: a record file must be *exactly* the bytes the station wrote
(any byte changed, even whitespace, is a failure), and every field of the signature block
except the signature value is itself covered by the signature. A valid signature proves
integrity only; *origin* needs a trust anchor the verifier got elsewhere (``reports/trust.py``):
a key carried beside the records proves nothing, since whoever carries them can carry a key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from wipestation.errors import ReportError
from wipestation.reports.readrecord import parse_object
from wipestation.reports.record import Record, now_iso, record_hash, serialize
from wipestation.tools import tpm2

ED25519 = "Ed25519"
ECDSA_P256 = "ECDSA-P256-SHA256"
ALGORITHM = ED25519  # the file key's algorithm
#: algorithm → length of its raw public key (Ed25519: 32 bytes; P-256: uncompressed point)
PUBLIC_LENGTH = {ED25519: 32, ECDSA_P256: 65}
PROTECTIONS = ("tpm", "file", "ephemeral")


def fingerprint_of(public_raw: bytes) -> str:
    """128 bits of SHA-256 of the raw public key, as 8 groups of 4 hex digits."""
    h = hashlib.sha256(public_raw).hexdigest()[:32]
    return ":".join(h[i : i + 4] for i in range(0, 32, 4))


def signed_bytes(record: Record) -> bytes:
    """The record plus its signature block minus the signature value, canonical."""
    sig = {k: v for k, v in record["signature"].items() if k != "value"}
    body = {**{k: v for k, v in record.items() if k != "signature"}, "signature": sig}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def raw_of_public(key: object) -> tuple[str, bytes]:
    """(algorithm, raw public bytes) of an Ed25519 or P-256 public key object."""
    if isinstance(key, Ed25519PublicKey):
        return ED25519, key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        point = key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return ECDSA_P256, point
    raise ReportError("not an Ed25519 or ECDSA P-256 public key")


def public_from_pem(pem: bytes) -> tuple[str, bytes]:
    """(algorithm, raw public bytes) of a PEM public key; ReportError when it is not one."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as e:
        raise ReportError("not a PEM public key") from e
    return raw_of_public(key)


def pem_of(algorithm: str, raw: bytes) -> bytes:
    key: Ed25519PublicKey | ec.EllipticCurvePublicKey
    if algorithm == ED25519:
        key = Ed25519PublicKey.from_public_bytes(raw)
    else:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class StationSigner(Protocol):
    """What the writer and the identity command need of a station key, wherever it lives."""

    @property
    def algorithm(self) -> str: ...
    @property
    def protection(self) -> str: ...
    @property
    def public_raw(self) -> bytes: ...
    @property
    def fingerprint(self) -> str: ...
    def sign_bytes(self, data: bytes) -> bytes: ...
    def sign(self, record: Record, signed_at: str | None = None) -> Record: ...


def sign_record(signer: StationSigner, record: Record, signed_at: str | None = None) -> Record:
    """A copy of ``record`` with ``signer``'s signature block."""
    body = {k: v for k, v in record.items() if k != "signature"}
    sig = {
        "algorithm": signer.algorithm,
        "key_protection": signer.protection,
        "public_key": base64.b64encode(signer.public_raw).decode(),
        "key_fingerprint": signer.fingerprint,
        "record_sha256": record_hash(body),
        "signed_at": signed_at or now_iso(),
    }
    out = {**body, "signature": sig}
    sig["value"] = base64.b64encode(signer.sign_bytes(signed_bytes(out))).decode()
    return out


@dataclass(frozen=True)
class Signer:
    """A station's Ed25519 key pair, kept in a file (``key_protection: "file"``, or
    ``"ephemeral"`` when the file is in RAM: ``reports/keystore.py``)."""

    private_key: Ed25519PrivateKey
    algorithm: str = ED25519
    protection: str = "file"

    @property
    def public_raw(self) -> bytes:
        return raw_of_public(self.private_key.public_key())[1]

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.public_raw)

    @property
    def public_pem(self) -> bytes:
        return pem_of(self.algorithm, self.public_raw)

    @classmethod
    def generate(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: bytes, where: str) -> Signer:
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as e:
            raise ReportError(f"station key {where} is unreadable ({e})") from e
        if not isinstance(key, Ed25519PrivateKey):
            raise ReportError(f"station key {where} is not an Ed25519 key")
        return cls(key)

    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def sign_bytes(self, data: bytes) -> bytes:
        return self.private_key.sign(data)

    def sign(self, record: Record, signed_at: str | None = None) -> Record:
        """A copy of ``record`` with its signature block."""
        return sign_record(self, record, signed_at)


@dataclass(frozen=True)
class TpmSigner:
    """The station's ECDSA P-256 key inside its TPM (``key_protection: "tpm"``)."""

    tcti: str
    public_raw: bytes
    handle: int = tpm2.HANDLE
    algorithm: str = ECDSA_P256
    protection: str = "tpm"

    @classmethod
    def open(cls, tcti: str, handle: int = tpm2.HANDLE) -> TpmSigner:
        """The TPM's station key, created there on first use. Raises TpmError."""
        algorithm, raw = public_from_pem(tpm2.load_or_create_key(tcti, handle))
        if algorithm != ECDSA_P256:
            raise ReportError(f"the TPM key at 0x{handle:08x} is not an ECDSA P-256 key")
        return cls(tcti, raw, handle)

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.public_raw)

    @property
    def public_pem(self) -> bytes:
        return pem_of(self.algorithm, self.public_raw)

    def sign_bytes(self, data: bytes) -> bytes:
        return tpm2.sign_digest(self.tcti, hashlib.sha256(data).digest(), self.handle)

    def sign(self, record: Record, signed_at: str | None = None) -> Record:
        return sign_record(self, record, signed_at)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str
    fingerprint: str = ""
    record: Record | None = field(default=None, repr=False)
    protection: str = ""


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


def _check_block(record: Record) -> tuple[str, bytes, bytes]:
    sig = record.get("signature")
    if not isinstance(sig, dict):
        raise ReportError("the record carries no signature")
    algorithm = sig.get("algorithm")
    if not isinstance(algorithm, str) or algorithm not in PUBLIC_LENGTH:
        raise ReportError(f"unknown signature algorithm {str(algorithm)[:40]!r}")
    protection = sig.get("key_protection", "file")
    if protection not in PROTECTIONS or (protection == "tpm" and algorithm != ECDSA_P256):
        raise ReportError(f"key protection {str(protection)[:20]!r} does not fit {algorithm}")
    pub = _b64(sig.get("public_key"), "public key")
    value = _b64(sig.get("value"), "signature value")
    if len(pub) != PUBLIC_LENGTH[algorithm]:
        raise ReportError("public key has the wrong length")
    if sig.get("key_fingerprint") != fingerprint_of(pub):
        raise ReportError("key fingerprint does not match the public key")
    if sig.get("record_sha256") != record_hash(record):
        raise ReportError("record hash does not match the record content (record was changed)")
    return algorithm, pub, value


def _signature_valid(algorithm: str, pub: bytes, value: bytes, data: bytes) -> bool:
    try:
        if algorithm == ED25519:
            Ed25519PublicKey.from_public_bytes(pub).verify(value, data)
        else:
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), pub)
            key.verify(value, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_record(record: Record, trusted_fingerprints: tuple[str, ...] = ()) -> Verdict:
    """Check the signature of a parsed record (and, if given, that the key is a trusted one)."""
    try:
        algorithm, pub, value = _check_block(record)
    except ReportError as e:
        return Verdict(False, str(e))
    fp = fingerprint_of(pub)
    protection = str(record["signature"].get("key_protection", "file"))
    if not _signature_valid(algorithm, pub, value, signed_bytes(record)):
        return Verdict(False, "signature does not match the record (record was changed)", fp)
    if trusted_fingerprints and fp not in trusted_fingerprints:
        return Verdict(False, f"signed by an unknown key {fp}", fp)
    return Verdict(True, "signature valid", fp, record, protection)


def verify_bytes(data: bytes, trusted_fingerprints: tuple[str, ...] = ()) -> Verdict:
    """Verify a record file: parseable, signed, and byte-identical to what was signed."""
    try:
        record = parse_object(data)
    except ReportError as e:
        return Verdict(False, str(e))
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
