"""Trust anchors: the only keys whose records count as coming from a station.

Given explicitly, never found beside the records: whoever carries a stick can put any key on
it. ``verify-report`` and ``lot reconcile`` read them here, one way. A trust file may hold:

- fingerprint lines, as printed on certificates and on the station's screen
  (``xxxx:xxxx:xxxx:xxxx:xxxx:xxxx:xxxx:xxxx``; several lines, ``#`` comments allowed);
- a PEM public key (Ed25519 file key, or a TPM's ECDSA P-256 key) — never a private key;
- a station identity file (``wipestation.identity/1``, its self-signature checked by
  ``reports/identity.py``), or a JSON object with ``public_key`` (base64 of the raw key) or
  ``key_fingerprint``; a key decides the fingerprint (computed here, never copied).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wipestation.errors import ReportError
from wipestation.reports.identity import SCHEMA_ID, check_identity
from wipestation.reports.readrecord import parse_object, read_capped
from wipestation.reports.sign import PUBLIC_LENGTH, fingerprint_of, public_from_pem

FINGERPRINT = re.compile(r"[0-9a-f]{4}(:[0-9a-f]{4}){7}")
#: a key, an identity or a list of fingerprints is a few hundred bytes; anything larger is not one
MAX_TRUST_FILE = 64 * 1024


class TrustError(ReportError):
    """A trust file or fingerprint that cannot be used; the message names it."""


@dataclass(frozen=True)
class TrustAnchors:
    fingerprints: tuple[str, ...] = ()

    @property
    def given(self) -> bool:
        return bool(self.fingerprints)


def parse_fingerprint(text: str) -> str:
    fp = text.strip().lower()
    if not FINGERPRINT.fullmatch(fp):
        raise TrustError(
            f"{text.strip()[:60]!r} is not a key fingerprint (8 groups of 4 hex digits: xxxx:…)"
        )
    return fp


def fingerprints_of_file(path: Path) -> tuple[str, ...]:
    """Every key fingerprint a trust file names (see the module docstring for what it may be)."""
    try:
        data = read_capped(path, MAX_TRUST_FILE)
        text = data.decode("utf-8-sig")
        if "PRIVATE KEY-----" in text:
            raise TrustError("a private key is not a trust anchor; give its public key")
        if text.lstrip().startswith("-----BEGIN"):
            return (fingerprint_of(public_from_pem(data)[1]),)
        if text.lstrip().startswith("{"):
            return (_from_json(text.encode()),)
        return _from_lines(text)
    except UnicodeDecodeError as e:
        raise TrustError(f"trust file {path}: not a key, fingerprint or identity file") from e
    except ReportError as e:
        raise TrustError(f"trust file {path}: {e}") from e


def fingerprint_of_file(path: Path) -> str:
    """The one key fingerprint a trust file names (an identity, a public key, one line)."""
    fps = fingerprints_of_file(path)
    if len(fps) != 1:
        raise TrustError(f"trust file {path}: names {len(fps)} keys, not one")
    return fps[0]


def _from_lines(text: str) -> tuple[str, ...]:
    lines = (ln.strip() for ln in text.splitlines())
    fps = tuple(parse_fingerprint(ln) for ln in lines if ln and not ln.startswith("#"))
    if not fps:
        raise TrustError("no fingerprint in the file")
    return fps


def _from_json(data: bytes) -> str:
    """A station identity (self-signature checked), or a bare ``public_key``/fingerprint."""
    doc = parse_object(data)
    if doc.get("schema") == SCHEMA_ID or "key" in doc:
        return check_identity(doc)
    key = doc.get("public_key")
    if isinstance(key, str):
        try:
            raw = base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError) as e:
            raise TrustError("public_key is not base64") from e
        if len(raw) not in PUBLIC_LENGTH.values():
            raise TrustError("public_key is not an Ed25519 or ECDSA P-256 key")
        return fingerprint_of(raw)
    for name in ("key_fingerprint", "fingerprint"):
        if isinstance(doc.get(name), str):
            return parse_fingerprint(doc[name])
    raise TrustError("no public_key or key_fingerprint in the identity")


def load_trust(files: Sequence[Path] = (), fingerprints: Sequence[str] = ()) -> TrustAnchors:
    """Every anchor given; TrustError (naming the file or value) for one that is not sound."""
    fps: list[str] = []
    for value in fingerprints:
        try:
            fps.append(parse_fingerprint(value))
        except TrustError as e:
            raise TrustError(f"--fingerprint: {e}") from e
    for p in files:
        fps += fingerprints_of_file(Path(p))
    return TrustAnchors(tuple(dict.fromkeys(fps)))
