"""Resuming a lot from the report stick: what earlier boots of this station left there.

A station switched off in the middle of a lot (end of shift, a conveyor's batch, a power cut)
leaves its signed drive and destruction records on the report target (``reports/YYYY-MM-DD/``,
``ReportWriter``) and, once a lot is closed, the lot record under ``lots/``. Started again, it
reads them here:

- ``prior_records``: the records of one lot that count for it — each one's signature verified
  against the station's own key (by fingerprint: never a key found on the stick, which anyone
  holding it can replace). A record that fails is skipped and counted (``read_prior``), never
  trusted: a forged PASS on the stick does not close a manifest entry.
- ``open_lots``: the lots a start-of-shift screen offers to resume: records on the target and no
  lot record closed after the last of them. This is an *offer*, read without verifying (the
  counts that matter come from ``prior_records`` once a lot is chosen).

Both read the target once, when asked (at start, or when a report stick arrives): never per
refresh. ``prior_from`` does it through the report writer, under its delivery lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wipestation.custody.records import (
    DRIVE_SCHEMAS,
    FoundRecord,
    RecordShapeError,
    from_record,
    moment,
)
from wipestation.errors import ReportError
from wipestation.reports.readrecord import read_object
from wipestation.reports.writer import REPORTS_DIR

if TYPE_CHECKING:  # verifying loads OpenSSL's bindings: only when records are read
    from wipestation.custody.sources import Rejected
    from wipestation.reports.sign import StationSigner
    from wipestation.reports.writer import ReportWriter

LOT_DIR = "lots"  # where a closed lot's record and PDF go on the report target
LOT_SCHEMA = "wipestation.lot/1"


@dataclass(frozen=True)
class OpenLot:
    """A lot with records on the target and no lot record closed after them."""

    lot_id: str
    customer: str
    records: int  # drive and destruction records of the lot on the target
    last: str  # when the newest of them was made (RFC 3339)


@dataclass(frozen=True)
class Prior:
    """A lot's records found on the target: the verified ones, and those that failed."""

    records: tuple[FoundRecord, ...] = ()
    rejected: tuple[Rejected, ...] = ()


def _files(root: Path, sub: str) -> list[Path]:
    from wipestation.custody.sources import record_files  # see TYPE_CHECKING above

    directory = root / sub
    return record_files(directory) if directory.is_dir() else []


def _claimed(path: Path) -> dict[str, Any] | None:
    """The file's JSON object as it claims to be (not verified), or None for no JSON object."""
    try:
        return read_object(path)
    except ReportError:
        return None


def read_prior(root: Path, lot_id: str, trusted_fingerprint: str) -> Prior:
    """Every drive/destruction record of ``lot_id`` under ``root``, verified against the one
    trusted key; a record claiming the lot whose signature fails is rejected (with the reason).

    Raises:
        SourceError: the target's reports directory cannot be read.
    """
    from wipestation.custody.sources import Rejected, check_file  # see TYPE_CHECKING above

    if not lot_id or not trusted_fingerprint:
        return Prior()
    records: list[FoundRecord] = []
    rejected: list[Rejected] = []
    for path in _files(root, REPORTS_DIR):
        claimed = _claimed(path)
        if claimed is None or claimed.get("schema") not in DRIVE_SCHEMAS:
            continue
        if claimed.get("lot_id") != lot_id:
            continue  # another lot's: not this lot's business, trusted or not
        found = check_file(path, (trusted_fingerprint,))
        if isinstance(found, FoundRecord):
            records.append(found)
        elif isinstance(found, Rejected):
            rejected.append(found)
    return Prior(tuple(records), tuple(rejected))


def prior_records(root: Path, lot_id: str, trusted_fingerprint: str) -> list[FoundRecord]:
    """The records of ``lot_id`` on the report target ``root`` that this station signed
    (``trusted_fingerprint``: its key's); the others are skipped (see ``read_prior``)."""
    return list(read_prior(root, lot_id, trusted_fingerprint).records)


def _closed_at(root: Path) -> dict[str, str]:
    """Lot id → when its latest lot record on the target closed it."""
    out: dict[str, str] = {}
    for path in _files(root, LOT_DIR):
        doc = _claimed(path)
        if doc is None or doc.get("schema") != LOT_SCHEMA:
            continue
        lot, closed = doc.get("lot_id"), doc.get("closed_at")
        if not (isinstance(lot, str) and isinstance(closed, str) and lot):
            continue
        if lot not in out or moment(closed) > moment(out[lot]):
            out[lot] = closed
    return out


def open_lots(root: Path) -> list[OpenLot]:
    """The lots on the report target ``root`` with records and no lot record closed after the
    last of them, newest first (unverified: an offer to resume, see the module docstring).

    Raises:
        SourceError: the target cannot be read.
    """
    by_lot: dict[str, list[FoundRecord]] = {}
    for path in _files(root, REPORTS_DIR):
        doc = _claimed(path)
        if doc is None:
            continue
        try:
            rec = from_record(doc, str(path))
        except RecordShapeError:
            continue
        if rec.lot_id:
            by_lot.setdefault(rec.lot_id, []).append(rec)
    closed = _closed_at(root)
    out = []
    for lot_id, recs in by_lot.items():
        recs.sort(key=lambda r: moment(r.when))
        last = recs[-1].when
        if lot_id in closed and moment(closed[lot_id]) >= moment(last):
            continue
        customer = next((r.customer for r in reversed(recs) if r.customer), "")
        out.append(OpenLot(lot_id, customer, len(recs), last))
    return sorted(out, key=lambda o: moment(o.last), reverse=True)


def prior_from(writer: ReportWriter, lot_id: str) -> Prior:
    """``read_prior`` on the writer's report target, trusting the station's own key.

    Under the writer's delivery lock (a stick is mounted for the moment): call it from a worker
    thread or at start, never from a screen's event loop.

    Raises:
        TargetUnavailableError: no report target now (absent, read-only, full ...).
        SourceError: the target cannot be read.
    """
    found: list[Prior] = []

    def read(root: Path, signer: StationSigner) -> list[Path]:
        found.append(read_prior(root, lot_id, signer.fingerprint))
        return []

    writer.write_signed(read)
    return found[0] if found else Prior()


def describe(prior: Prior) -> str:
    """One line for an operator or a log."""
    text = f"{len(prior.records)} earlier record(s)"
    if prior.rejected:
        text += f", {len(prior.rejected)} not signed by this station (not counted)"
    return text
