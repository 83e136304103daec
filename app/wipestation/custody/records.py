"""A verified drive or destruction record, reduced to what custody needs (typed, one place).

Reconciliation reads records written by any station version; every field is read defensively
here, so the matching code works on typed values only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wipestation.errors import WipestationError

REPORT_SCHEMA = "wipestation.report/1"
DESTROY_SCHEMA = "wipestation.destroy/1"
#: Schemas that are evidence about drives; other ``wipestation.*`` files (lot records, station
#: identities) are not, and are passed over.
DRIVE_SCHEMAS = (REPORT_SCHEMA, DESTROY_SCHEMA)

PASS, FAIL, DESTROYED, MISSING = "PASS", "FAIL", "DESTROYED", "MISSING"


class RecordShapeError(WipestationError):
    """A signed record lacks what a drive record must carry."""


@dataclass(frozen=True)
class FoundRecord:
    """One signature-verified record about one drive."""

    file: str
    kind: str  # "wipe" | "destroy"
    outcome: str  # PASS | FAIL | DESTROYED
    serial: str
    asset_tag: str
    model: str
    size_bytes: int | None
    identity: str
    when: str  # when the wipe ended / the drive was destroyed (RFC 3339)
    station: str
    operator: str
    customer: str
    location: str
    lot_id: str
    record_sha256: str
    key_fingerprint: str
    report_id: str
    #: the station's record chain (None/"" where the record predates chains)
    sequence: int | None = None
    previous_sha256: str = ""
    file_sha256: str = ""
    #: how the signing key is kept: ``tpm`` | ``file`` | ``ephemeral`` (made at one boot)
    key_protection: str = "file"

    @property
    def done(self) -> bool:
        return self.outcome in (PASS, DESTROYED)

    @property
    def label(self) -> str:
        return self.serial or (f"asset tag {self.asset_tag}" if self.asset_tag else self.identity)


def _text(obj: Any, *keys: str) -> str:
    for k in keys:
        obj = obj.get(k) if isinstance(obj, dict) else None
    return obj.strip() if isinstance(obj, str) else ""


def _chain(record: dict[str, Any]) -> tuple[int | None, str]:
    """``sequence``/``previous_sha256`` at the top level or in a ``chain`` object."""
    for where in (record, record.get("chain")):
        if isinstance(where, dict) and isinstance(where.get("sequence"), int):
            prev = where.get("previous_sha256")
            return int(where["sequence"]), prev if isinstance(prev, str) else ""
    return None, ""


def from_record(record: dict[str, Any], file: str, file_sha256: str = "") -> FoundRecord:
    """The typed view of a verified record; raises RecordShapeError for one that is not."""
    schema = record.get("schema")
    drive = record.get("drive")
    if schema not in DRIVE_SCHEMAS or not isinstance(drive, dict):
        raise RecordShapeError(f"not a drive or destruction record (schema {schema!r})")
    size = drive.get("capacity_bytes")
    if schema == DESTROY_SCHEMA:
        kind, outcome = "destroy", DESTROYED
        when = _text(record, "destruction", "destroyed_at") or _text(record, "created_at")
    else:
        status = _text(record, "result", "status")
        if status not in (PASS, FAIL):
            raise RecordShapeError(f"result status {status!r} is neither PASS nor FAIL")
        kind, outcome = "wipe", status
        when = _text(record, "sanitization", "ended_at") or _text(record, "created_at")
    sequence, previous = _chain(record)
    return FoundRecord(
        file=file,
        kind=kind,
        outcome=outcome,
        serial=_text(drive, "serial"),
        asset_tag=_text(record, "asset_tag"),
        model=_text(drive, "model"),
        size_bytes=size if isinstance(size, int) and size > 0 else None,
        identity=_text(drive, "identity"),
        when=when,
        station=_text(record, "station", "id"),
        operator=_text(record, "operator"),
        customer=_text(record, "customer"),
        location=_text(record, "station", "location"),
        lot_id=_text(record, "lot_id"),
        record_sha256=_text(record, "signature", "record_sha256"),
        key_fingerprint=_text(record, "signature", "key_fingerprint"),
        report_id=_text(record, "report_id"),
        sequence=sequence,
        previous_sha256=previous,
        file_sha256=file_sha256,
        key_protection=_text(record, "signature", "key_protection") or "file",
    )


def moment(ts: str) -> tuple[int, float, str]:
    """A sort key for record times across time zones; unparseable times sort first."""
    try:
        parsed = datetime.fromisoformat(ts)
    except ValueError:
        return (0, 0.0, ts)
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()
    return (1, parsed.timestamp(), ts)
