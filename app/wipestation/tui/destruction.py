"""A drive recorded as physically destroyed at the station (NIST SP 800-88 Destroy).

Plain Python (no Textual). Who: the signed-in operator; when: now; how: one of
``custody.destroy.METHODS``. The record (``wipestation.destroy/1``) goes through the station's
report writer, so it is signed and numbered in the station's record chain like a wipe record,
and the lot can close complete with it.
"""

from __future__ import annotations

from pathlib import Path

from wipestation.config import StationConfig
from wipestation.custody.desk import LotDesk
from wipestation.custody.destroy import METHODS, Destruction, build_destruction_record
from wipestation.errors import WipestationError
from wipestation.model import Drive
from wipestation.reports.writer import ReportWriter


class DestructionRefusedError(WipestationError):
    """Why nothing was recorded, one line for the operator."""


def method_named(text: str) -> str:
    """A method by its number in ``METHODS`` (1-based) or its name; '' when neither."""
    t = text.strip().lower()
    if t.isdigit() and 1 <= int(t) <= len(METHODS):
        return METHODS[int(t) - 1]
    return t if t in METHODS else ""


def who(desk: LotDesk, cfg: StationConfig) -> str:
    return desk.operators[-1] if desk.operators else cfg.operator


def record_destruction(
    writer: ReportWriter,
    cfg: StationConfig,
    desk: LotDesk,
    drive: Drive,
    method: str,
    why: str = "",
) -> list[Path]:
    """Submit the destruction record; the paths written now (empty while it waits for a stick).
    ``why``: why it was not wiped (a locked drive's refusal), added to the record's note."""
    by = who(desk, cfg)
    if not by:
        raise DestructionRefusedError("sign in first (i): a destruction record names who did it")
    if method not in METHODS:
        raise DestructionRefusedError(f"unknown method {method!r} (one of {', '.join(METHODS)})")
    act = Destruction(
        serial=drive.serial,
        method=method,
        destroyed_by=by,
        model=drive.model,
        capacity_bytes=drive.size_bytes,
        identity=drive.identity,
        asset_tag=desk.asset_tags.get(drive.identity, ""),
        lot_id=cfg.lot,
        note="; ".join((*desk.notes.get(drive.identity, ()), *((why,) if why else ()))),
    )
    return writer.submit(build_destruction_record(act, writer.station))
