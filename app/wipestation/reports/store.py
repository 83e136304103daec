"""Records in an S3-compatible object store: where (``s3://BUCKET/PREFIX``), with what settings
and credentials, and under which key — a key derived from the record's content, so a retry, a
second station or a re-run can only ever land on the same key (issue 20)."""

from __future__ import annotations

import configparser
import re
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from wipestation.discovery.identity import safe_filename
from wipestation.reports.store_client import Credentials, Endpoint, StoreClient

#: Where ``wipestation store check`` puts its probe objects, under PREFIX.
CHECK_DIR = ".wipestation-check"
#: S3 bucket naming rules (lower case, 3-63 characters, no leading/trailing dot or hyphen).
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_REGION = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
SUFFIXES = ("json", "pdf")


@dataclass(frozen=True)
class StoreLocation:
    """``s3://BUCKET/PREFIX``: the bucket and the key prefix every object of the floor gets."""

    bucket: str
    prefix: str = ""

    @classmethod
    def parse(cls, text: str) -> StoreLocation:
        """Raises ValueError with the reason, in the config's words."""
        scheme, _, rest = text.strip().partition("://")
        if scheme != "s3" or not rest:
            raise ValueError(f"expected s3://BUCKET/PREFIX, got {text!r}")
        bucket, _, prefix = rest.partition("/")
        if not _BUCKET.fullmatch(bucket) or ".." in bucket:
            raise ValueError(f"{bucket!r} is not an S3 bucket name (3-63 of a-z 0-9 . -)")
        parts = [p for p in prefix.split("/") if p]
        if any(p in (".", "..") for p in parts):
            raise ValueError(f"the prefix {prefix!r} has a '.' or '..' part")
        return cls(bucket, "/".join(parts))

    def key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")


def record_key(location: StoreLocation, lot: str, identity: str, sha256: str, suffix: str) -> str:
    """``PREFIX/records/<lot or no-lot>/<identity>/<record sha256>.json|.pdf``."""
    if not _SHA256.fullmatch(sha256) or suffix not in SUFFIXES:
        raise ValueError(f"not a record's sha256 and suffix: {sha256!r} {suffix!r}")
    lot_part = safe_filename(lot) if lot else "no-lot"
    return location.key("records", lot_part, safe_filename(identity), f"{sha256}.{suffix}")


#: The lot's own papers (lot records, whichever station closed the lot) sit beside its drives'
#: records under this name instead of a drive identity (identities are model/serial/WWN based).
LOT_PART = "lot"
#: The schemas this module keys on (``custody.lot_record.LOT_SCHEMA``, ``reports.identity``'s:
#: custody sits above reports, and signing is not loaded with the settings).
LOT_SCHEMA = "wipestation.lot/1"
IDENTITY_SCHEMA = "wipestation.identity/1"
#: ``custody.computer_record.COMPUTER_SCHEMA``: one certificate per computer (computer mode).
COMPUTER_SCHEMA = "wipestation.computer/1"


def computer_record_key(
    location: StoreLocation, lot: str, computer: str, sha256: str, suffix: str
) -> str:
    """``PREFIX/records/<lot or no-lot>/computer-<serial or UUID>/<sha256>.json|.pdf``: beside
    the drive records it links, under the computer's name (``lot reconcile`` skips it by schema)."""
    return record_key(location, lot, f"computer-{computer or 'unknown'}", sha256, suffix)


def lot_record_key(location: StoreLocation, lot: str, sha256: str, suffix: str) -> str:
    """``PREFIX/records/<lot or no-lot>/lot/<sha256>.json|.pdf``: a lot record is one of the
    lot's records (``lot reconcile s3://`` lists it with them and tells it apart by schema)."""
    return record_key(location, lot, LOT_PART, sha256, suffix)


def identity_key(location: StoreLocation, station: str, fingerprint: str) -> str:
    """``PREFIX/stations/<station>/identity-<fingerprint>.json``.

    Not under ``records/``: an identity file belongs to no lot and no drive; it is the
    station's enrolment material, so it sits beside the station's ``status.json`` where an
    office looks a station up. Named by its key's fingerprint (derived from its content): a
    new key (a new boot stick, a per-boot ephemeral key) is a new object, never an overwrite
    of the old one, and the same key offered again is "already there"."""
    name = safe_filename(fingerprint.replace(":", ""))  # 32 hex digits
    return location.key("stations", safe_filename(station or "unnamed"), f"identity-{name}.json")


def parse_endpoint(text: str) -> str:
    """``http(s)://host[:port]`` without a path; raises ValueError."""
    p = urllib.parse.urlsplit(text.strip())
    try:
        port_ok = p.port is None or 0 < p.port < 65536
    except ValueError:
        port_ok = False
    if p.scheme not in ("http", "https") or not p.hostname or not port_ok:
        raise ValueError("expected http(s)://HOST[:PORT]")
    if p.path.strip("/") or p.query or p.fragment or p.username or p.password:
        raise ValueError("the endpoint is only http(s)://HOST[:PORT] (the bucket goes in store)")
    return f"{p.scheme}://{p.netloc}"


def parse_region(text: str) -> str:
    if not _REGION.fullmatch(text.strip()):
        raise ValueError(f"expected a region name such as us-east-1, got {text!r}")
    return text.strip()


def parse_retention_days(value: object) -> int:
    """Days of COMPLIANCE retention; 0 means no Object Lock retention."""
    if isinstance(value, bool) or not re.fullmatch(r"\d{1,5}", str(value).strip()):
        raise ValueError(f"expected a whole number of days (0 for none), got {value!r}")
    return int(str(value).strip())


def read_credentials(path: Path) -> Credentials:
    """An AWS shared-credentials file (``[default]`` or its only section):
    ``aws_access_key_id`` and ``aws_secret_access_key``. Raises ValueError (never the secret)."""
    ini = configparser.ConfigParser(interpolation=None)
    try:
        ini.read_string(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, configparser.Error) as e:
        raise ValueError(f"{path}: unreadable ({type(e).__name__})") from None
    names = ini.sections()
    section = "default" if "default" in names else (names[0] if len(names) == 1 else "")
    if not section:
        raise ValueError(f"{path}: expected a [default] section")
    key = ini.get(section, "aws_access_key_id", fallback="").strip()
    secret = ini.get(section, "aws_secret_access_key", fallback="").strip()
    if not key or not secret:
        raise ValueError(f"{path}: needs aws_access_key_id and aws_secret_access_key")
    return Credentials(key, secret)


@dataclass(frozen=True)
class StoreSettings:
    """Everything needed to talk to the floor's store (built by ``config.store_settings``)."""

    location: StoreLocation
    endpoint: str
    region: str
    credentials: Credentials = field(repr=False)
    ca: str = ""
    required: bool = False
    retention_days: int = 0

    def client(self, timeout: float = 20.0) -> StoreClient:
        endpoint = Endpoint(self.endpoint, self.region, self.ca)
        return StoreClient(endpoint, self.credentials, self.location.bucket, timeout)

    def retain_until(self, now: datetime) -> datetime | None:
        """The Object Lock date an upload made ``now`` carries, or None without retention."""
        return now + timedelta(days=self.retention_days) if self.retention_days else None
