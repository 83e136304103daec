"""Trust anchors: the only keys whose records count as coming from a station.

Given explicitly, never found beside the records: identity files
(``wipestation.identity/1``), PEM public keys, or fingerprints read off a certificate or the
station's screen. Whoever carries a stick can put any key on it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wipestation.errors import ReportError
from wipestation.reports.identity import check_identity
from wipestation.reports.readrecord import parse_object, read_capped
from wipestation.reports.sign import fingerprint_of, public_from_pem

FINGERPRINT = re.compile(r"[0-9a-f]{4}(:[0-9a-f]{4}){7}")


@dataclass(frozen=True)
class TrustAnchors:
    fingerprints: tuple[str, ...] = ()

    @property
    def given(self) -> bool:
        return bool(self.fingerprints)


def fingerprint_of_file(path: Path) -> str:
    """The key fingerprint a trust file names: an identity file or a PEM public key."""
    try:
        data = read_capped(path, 64 * 1024)
        if data.lstrip().startswith(b"-----BEGIN"):
            return fingerprint_of(public_from_pem(data)[1])
        return check_identity(parse_object(data))
    except ReportError as e:
        raise ReportError(f"trust file {path}: {e}") from e


def parse_fingerprint(text: str) -> str:
    fp = text.strip().lower()
    if not FINGERPRINT.fullmatch(fp):
        raise ReportError(f"fingerprint {text[:60]!r} is not 8 groups of 4 hex digits (xxxx:…)")
    return fp


def load_trust(files: Sequence[Path] = (), fingerprints: Sequence[str] = ()) -> TrustAnchors:
    """Every anchor given; ReportError (naming the file or value) for one that is not sound."""
    fps = [parse_fingerprint(f) for f in fingerprints]
    fps += [fingerprint_of_file(Path(p)) for p in files]
    return TrustAnchors(tuple(dict.fromkeys(fps)))
