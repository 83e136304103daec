"""Closing the station's lot: the session's signed records reconciled against its manifest.

Plain Python (no Textual). The records are the ones this station delivered in this session
(``ReportWriter.delivered``, each verified by its own signature when it was made); the lot record
(``wipestation.lot/1``) is signed with the station's key and written with its PDF to the report
target's ``lots/`` directory. A lot closed at the station says what this station saw; several
stations' records are joined with ``wipestation lot reconcile`` at the office.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wipestation.config import StationConfig
from wipestation.custody.desk import LotDesk
from wipestation.custody.records import FoundRecord, RecordShapeError, from_record
from wipestation.reports.record import Record, now_iso
from wipestation.reports.writer import ReportWriter

if TYPE_CHECKING:  # signing loads OpenSSL's bindings: only when a lot is closed
    from wipestation.reports.sign import StationSigner

LOT_DIR = "lots"


@dataclass(frozen=True)
class LotClosed:
    status: str  # COMPLETE | INCOMPLETE
    open_entries: tuple[str, ...]  # how a person names each entry with no PASS or destruction
    paths: tuple[Path, ...]  # the lot record (JSON) and its PDF

    def message(self) -> str:
        head = f"Lot closed {self.status}: {self.paths[0].name}" if self.paths else "Lot closed"
        if not self.open_entries:
            return head
        shown = ", ".join(self.open_entries[:5])
        more = f" and {len(self.open_entries) - 5} more" if len(self.open_entries) > 5 else ""
        return f"{head}; missing {shown}{more}"


def found_records(records: list[Record]) -> list[FoundRecord]:
    out = []
    for r in records:
        try:
            out.append(from_record(r, f"{r.get('report_id', '')}.json"))
        except RecordShapeError:
            continue  # not a drive or destruction record: nothing for the lot
    return out


def close_lot(writer: ReportWriter, cfg: StationConfig, desk: LotDesk) -> LotClosed:
    """Write the lot record + PDF; raises ``TargetUnavailableError`` without a report target."""
    # signing and reportlab: loaded when a lot is closed, never at the station's start-up
    from wipestation.custody.lot import Lot, reconcile
    from wipestation.custody.lot_record import build_lot_record, write_lot

    writer.flush()  # records still waiting go first, so the lot counts them
    lot = Lot(
        lot_id=cfg.lot,
        customer=cfg.customer,
        operators=tuple(desk.operators) or ((cfg.operator,) if cfg.operator else ()),
        stations=(cfg.station,),
        manifest=desk.manifest,
    )
    rec = reconcile(lot, found_records(list(writer.delivered)), closed_at=now_iso())

    def write(root: Path, signer: StationSigner) -> list[Path]:
        signed = signer.sign(build_lot_record(rec, (signer.fingerprint,)))
        return write_lot(root / LOT_DIR, signed, writer.paper)

    paths = writer.write_signed(write)
    return LotClosed(rec.status, tuple(e.entry.label for e in rec.not_done), tuple(paths))
