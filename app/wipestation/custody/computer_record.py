"""The computer certificate (``"schema": "wipestation.computer/1"``, ``computer.schema.json``
beside this file): one signed record per computer wiped in computer mode.

Why: the asset a customer lists is the computer (its service tag), and an auditor wants one
paper per asset saying every internal drive of it was sanitized. This record names the computer
(its SMBIOS ``host`` block), how the station booted (``boot.secure_boot``), and each internal
drive with the drive record that proves it, linked by the sha256 of that record's JSON bytes
(the file on the stick, the store's key) and its signed ``record_sha256``. It is COMPLETE only
when every internal drive's last record passed; otherwise INCOMPLETE, naming which did not.
Signed exactly like a drive or lot record (``reports.sign``); the PDF is drawn from it alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from wipestation import __version__
from wipestation.discovery.identity import safe_filename
from wipestation.reports.atomic import mkdirs_durable, write_atomic
from wipestation.reports.record import Record, StationInfo, now_iso, serialize
from wipestation.reports.writer import free_stem

COMPUTER_SCHEMA = "wipestation.computer/1"
COMPUTER_DIR = "computers"  # where the certificate and its PDF go on the report target
NOT_WIPED = "NOT WIPED"  # an internal drive with no record: it was never erased here


@dataclass(frozen=True)
class InternalDrive:
    """One drive the certificate must account for, as discovery saw it."""

    identity: str
    serial: str
    model: str
    capacity_bytes: int


def json_sha256(record: Record) -> str:
    """The sha256 of the record's file bytes (``serialize``: what the stick and the store hold)."""
    return hashlib.sha256(serialize(record)).hexdigest()


def last_records(records: Iterable[Record]) -> dict[str, Record]:
    """Drive identity -> its last drive record (a drive wiped twice: the later one counts)."""
    out: dict[str, Record] = {}
    for r in records:
        drive = r.get("drive")
        if isinstance(drive, dict) and "signature" in r and "result" in r:
            out[str(drive.get("identity", ""))] = r
    return out


def drive_row(drive: InternalDrive, record: Record | None) -> dict[str, Any]:
    """One internal drive: what the record says of it, or NOT WIPED without one."""
    if record is None:
        return {
            "identity": drive.identity, "serial": drive.serial, "model": drive.model,
            "capacity_bytes": drive.capacity_bytes, "report_id": None, "json_sha256": None,
            "record_sha256": None, "method": "", "nist_level": "",
            "verification": {"mode": "none", "passed": None}, "result": NOT_WIPED,
        }  # fmt: skip
    d, z, v = record["drive"], record["sanitization"], record["verification"]
    return {
        "identity": drive.identity,
        "serial": d["serial"],
        "model": d["model"],
        "capacity_bytes": d["capacity_bytes"],
        "report_id": record["report_id"],
        "json_sha256": json_sha256(record),
        "record_sha256": record["signature"]["record_sha256"],
        "method": z.get("executed") or z["method"],
        "nist_level": z.get("level") or "",
        "verification": {"mode": v["mode"], "passed": v.get("passed")},
        "result": record["result"]["status"],
    }


def not_passed(rows: list[dict[str, Any]]) -> list[str]:
    """How a person names each internal drive that did not pass: 'S/N X: FAIL'."""
    return [
        f"{'S/N ' + r['serial'] if r['serial'] else r['identity']}: {r['result']}"
        for r in rows
        if r["result"] != "PASS"
    ]


def build_computer_record(
    drives: list[InternalDrive],
    records: Iterable[Record],
    station: StationInfo,
    *,
    host: dict[str, Any] | None,
    boot: dict[str, Any],
    power: dict[str, Any] | None = None,
    created_at: str | None = None,
) -> Record:
    """The unsigned computer record over the internal drives' (signed) drive records."""
    last = last_records(records)
    rows = [drive_row(d, last.get(d.identity)) for d in drives]
    missing = not_passed(rows) if rows else ["no internal drive was found"]
    return {
        "schema": COMPUTER_SCHEMA,
        "created_at": created_at or now_iso(),
        "software": {"name": "wipestation", "version": __version__},
        "station": {"id": station.station_id, "location": station.location},
        "operator": station.operator,
        "customer": station.customer,
        "lot_id": station.lot_id,
        "host": host,
        "boot": boot,
        "power": power,
        "status": "INCOMPLETE" if missing else "COMPLETE",
        "not_passed": missing,
        "drives": rows,
    }


def load_schema() -> dict[str, Any]:
    text = resources.files("wipestation.custody").joinpath("computer.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def stem_of(signed: Record) -> str:
    """``computer-<serial>``: the computer's serial names its files, else its UUID."""
    host = signed.get("host") or {}
    return f"computer-{safe_filename(host.get('serial') or host.get('uuid') or 'unknown')}"


def write_computer(out_dir: Path, signed: Record, paper: str = "A4") -> list[Path]:
    """The signed certificate and its PDF in ``out_dir`` (JSON first in the list, as lots);
    an earlier certificate is never replaced. The JSON is written last: it means "done"."""
    from wipestation.custody import computer_pdf  # reportlab, only when a PDF is due

    mkdirs_durable(out_dir)
    stem = free_stem(out_dir, stem_of(signed))
    pdf = write_atomic(out_dir / f"{stem}.pdf", computer_pdf.render_computer_pdf(signed, paper))
    return [write_atomic(out_dir / f"{stem}.json", serialize(signed)), pdf]
