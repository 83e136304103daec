"""Trust anchors for reconciliation: the station keys an auditor chose to trust, and nothing else.

Keys found beside the records prove nothing (whoever holds the stick can put one there), so a
record counts only when it is signed by a key given here explicitly. A ``--trust`` file may hold:

- a fingerprint line, as printed on certificates and in ``wipestation-keys/*.fingerprint``
  (``xxxx:xxxx:xxxx:xxxx:xxxx:xxxx:xxxx:xxxx``; several lines, ``#`` comments allowed);
- a PEM public key (Ed25519 file key, or a TPM's ECDSA P-256 key);
- a station identity file (``wipestation.identity/1``: ``key.public_key_pem``, self-signed,
  the signature checked), or a JSON object with ``public_key`` (base64 of the raw key) or
  ``key_fingerprint``; a key decides the fingerprint (computed here, never copied).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from wipestation.errors import WipestationError
from wipestation.reports.sign import fingerprint_of, verify_record

FINGERPRINT = re.compile(r"[0-9a-f]{4}(?::[0-9a-f]{4}){7}")
MAX_TRUST_FILE = 64 * 1024


class TrustError(WipestationError):
    """A trust file or fingerprint that cannot be used; the message names it."""


def normal_fingerprint(text: str, where: str) -> str:
    fp = text.strip().lower()
    if not FINGERPRINT.fullmatch(fp):
        raise TrustError(
            f"{where}: {text.strip()!r} is not a key fingerprint (xxxx:xxxx:... 8 groups)"
        )
    return fp


def fingerprints_from_file(path: str | Path) -> tuple[str, ...]:
    p = Path(path)
    try:
        with p.open("rb") as f:
            data = f.read(MAX_TRUST_FILE + 1)
    except OSError as e:
        raise TrustError(f"{p}: cannot read ({e.strerror or e})") from e
    if len(data) > MAX_TRUST_FILE:
        raise TrustError(f"{p}: too large for a key or fingerprint file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise TrustError(f"{p}: not a key, fingerprint or identity file (binary)") from e
    if text.lstrip().startswith("{"):
        return _from_identity(text, p)
    if "PRIVATE KEY-----" in text:
        raise TrustError(f"{p}: a private key is not a trust anchor; give its public key")
    if "-----BEGIN PUBLIC KEY-----" in text:
        return (_from_pem(data, p),)
    lines = [ln.strip() for ln in text.splitlines()]
    fps = tuple(normal_fingerprint(ln, str(p)) for ln in lines if ln and not ln.startswith("#"))
    if not fps:
        raise TrustError(f"{p}: no fingerprint in the file")
    return fps


def _from_pem(data: bytes, p: Path) -> str:
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as e:
        raise TrustError(f"{p}: unreadable public key ({e})") from e
    if isinstance(key, Ed25519PublicKey):  # a file key
        return fingerprint_of(
            key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):  # TPM
        point = key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return fingerprint_of(point)
    raise TrustError(f"{p}: not an Ed25519 or ECDSA P-256 station key")


def _from_identity(text: str, p: Path) -> tuple[str, ...]:
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise TrustError(f"{p}: not valid JSON") from e
    if not isinstance(doc, dict):
        raise TrustError(f"{p}: not a station identity")
    nested = doc.get("key")
    if isinstance(nested, dict) and isinstance(nested.get("public_key_pem"), str):
        return (_from_identity_pem(doc, nested["public_key_pem"], p),)
    key = doc.get("public_key")
    if isinstance(key, str):
        try:
            raw = base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError) as e:
            raise TrustError(f"{p}: public_key is not base64") from e
        return (fingerprint_of(raw),)
    for name in ("key_fingerprint", "fingerprint"):
        if isinstance(doc.get(name), str):
            return (normal_fingerprint(doc[name], str(p)),)
    raise TrustError(f"{p}: no public_key or key_fingerprint in the identity")


def _from_identity_pem(doc: dict[str, object], pem: str, p: Path) -> str:
    """A ``wipestation.identity/1`` file (``wipestation station identity``): its key, and its
    self-signature checked, so a damaged identity is refused rather than trusted."""
    fp = _from_pem(pem.encode(), p)
    if "signature" in doc and not verify_record(dict(doc), (fp,)).ok:
        raise TrustError(f"{p}: the identity is not signed by the key it names")
    return fp


def trusted_fingerprints(files: list[str], fingerprints: list[str]) -> tuple[str, ...]:
    """Every trusted fingerprint from ``--trust`` files and ``--fingerprint`` values."""
    out: list[str] = [normal_fingerprint(fp, "--fingerprint") for fp in fingerprints]
    for f in files:
        out.extend(fingerprints_from_file(f))
    return tuple(dict.fromkeys(out))
