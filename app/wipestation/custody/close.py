"""Closing a station's lot: its signed records reconciled against its manifest.

Plain Python, shared by the screen and the headless conveyor. The records that count are the
lot's *prior* records (``LotDesk.prior``: what earlier boots of this station left on the report
target, verified against its key by ``custody.resume``) and the ones this station delivered in
this session (``ReportWriter.delivered``, each signed when it was made); the same record read
both ways is one (``custody.lot.unique``). A drive wiped twice lists every record and its last
outcome counts (``custody.lot.reconcile``). The lot record (``wipestation.lot/1``) is signed
with the station's key and written with its PDF to the report target's ``lots/`` directory (and
uploaded to the floor's store when there is one; with a store and no report target, the lot
record is kept in RAM and goes to the store only). A lot
closed at a station says what this station saw; several stations' records are joined with
``wipestation lot reconcile`` at the office.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wipestation.config import StationConfig
from wipestation.custody.desk import LotDesk
from wipestation.custody.records import (
    DESTROYED,
    FAIL,
    PASS,
    FoundRecord,
    RecordShapeError,
    from_record,
)
from wipestation.custody.resume import LOT_DIR
from wipestation.reports.record import Record, now_iso
from wipestation.reports.writer import ReportWriter

if TYPE_CHECKING:  # signing loads OpenSSL's bindings: only when a lot is closed
    from wipestation.custody.lot import Reconciliation
    from wipestation.reports.sign import StationSigner


@dataclass(frozen=True)
class LotIdentity:
    """Who the lot is: what its record names besides the drives."""

    lot_id: str
    customer: str = ""
    operators: tuple[str, ...] = ()
    station: str = ""


@dataclass(frozen=True)
class LotClosed:
    status: str  # COMPLETE | INCOMPLETE
    open_entries: tuple[str, ...]  # how a person names each entry with no PASS or destruction
    paths: tuple[Path, ...]  # the lot record (JSON) and its PDF
    lot_id: str = ""
    expected: int = 0
    passed: int = 0
    failed: int = 0
    destroyed: int = 0
    #: a short name (serial, else asset tag) of each open entry, for a machine-readable line
    missing: tuple[str, ...] = ()

    def message(self) -> str:
        head = f"Lot closed {self.status}: {self.paths[0].name}" if self.paths else "Lot closed"
        if not self.open_entries:
            return head
        shown = ", ".join(self.open_entries[:5])
        more = f" and {len(self.open_entries) - 5} more" if len(self.open_entries) > 5 else ""
        return f"{head}; missing {shown}{more}"

    def line(self) -> str:
        """``LOT <id> COMPLETE|INCOMPLETE expected=N passed=N failed=N destroyed=N
        missing=<a,b,...> record=<file name>`` (the conveyor's serial-console line)."""
        record = self.paths[0].name if self.paths else "-"
        return (
            f"LOT {token(self.lot_id) or '-'} {self.status} expected={self.expected}"
            f" passed={self.passed} failed={self.failed} destroyed={self.destroyed}"
            f" missing={','.join(self.missing)} record={record}"
        )


def token(text: str) -> str:
    """One word of a machine-readable line: no blanks, no commas."""
    return "_".join(text.replace(",", "_").split())


def found_records(records: Iterable[Record]) -> list[FoundRecord]:
    out = []
    for r in records:
        try:
            out.append(from_record(r, f"{r.get('report_id', '')}.json"))
        except RecordShapeError:
            continue  # not a drive or destruction record: nothing for the lot
    return out


def summary(rec: Reconciliation, paths: Iterable[Path]) -> LotClosed:
    """The counts of a reconciliation; without a manifest, those of the drives it saw."""
    from wipestation.custody.lot import last_by_drive  # loaded with the lot (close_lot)

    if rec.lot.manifest is not None:
        outcomes = [e.outcome for e in rec.entries]
    else:
        outcomes = [r.outcome for r in last_by_drive(u.record for u in rec.unexpected).values()]
    return LotClosed(
        status=rec.status,
        open_entries=tuple(e.entry.label for e in rec.not_done),
        paths=tuple(paths),
        lot_id=rec.lot.lot_id,
        expected=len(rec.entries),
        passed=outcomes.count(PASS),
        failed=outcomes.count(FAIL),
        destroyed=outcomes.count(DESTROYED),
        missing=tuple(token(e.entry.serial or e.entry.asset_tag) for e in rec.not_done),
    )


def close_lot(writer: ReportWriter, desk: LotDesk, lot: LotIdentity) -> LotClosed:
    """Write the lot record + PDF to the writer's report target.

    Raises:
        TargetUnavailableError: no report target, or it cannot be written now.
        OSError: the target failed while writing.
    """
    # signing and reportlab: loaded when a lot is closed, never at the station's start-up
    from wipestation.custody.lot import Lot, reconcile
    from wipestation.custody.lot_record import build_lot_record, write_lot

    writer.flush()  # records still waiting go first, so the lot counts them
    identity = Lot(
        lot_id=lot.lot_id,
        customer=lot.customer,
        operators=tuple(desk.operators) or lot.operators,
        stations=(lot.station,) if lot.station else (),
        manifest=desk.manifest,
    )
    records = [*desk.prior, *found_records(list(writer.delivered))]
    rec = reconcile(identity, records, closed_at=now_iso())

    def write(root: Path, signer: StationSigner) -> list[Path]:
        signed = signer.sign(build_lot_record(rec, (signer.fingerprint,)))
        return write_lot(root / LOT_DIR, signed, writer.paper)

    return summary(rec, writer.write_signed(write, share=True))


def identity_of(cfg: StationConfig) -> LotIdentity:
    """The configured lot's identity (``wipestation.lot=``, customer, operator, station)."""
    return LotIdentity(
        lot_id=cfg.lot,
        customer=cfg.customer,
        operators=(cfg.operator,) if cfg.operator else (),
        station=cfg.station,
    )
