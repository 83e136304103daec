"""``wipestation print-label FILE.json``: print (or reprint) a drive label from a record.

The printer comes from ``--printer`` or the station configuration (``wipestation.printer``).
Unlike the station's background queue this prints once and says whether it worked. A record
whose signature does not verify (integrity; see ``verify-report``) gets no label: a label is
what a drive is trusted by on the shelf. ``--unsigned-ok`` prints one anyway, headed
UNVERIFIED (also in its QR code) instead of PASS/FAIL.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wipestation import config
from wipestation.errors import ReportError
from wipestation.reports.printer import PrinterSpec, build_label, open_port, print_once
from wipestation.reports.readrecord import parse_object, read_capped
from wipestation.reports.record import SCHEMA_ID, Record

UNVERIFIED = "UNVERIFIED"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE.json", help="the drive's record")
    p.add_argument("--printer", metavar="SPEC", help="escpos:/dev/ttyS1[:9600] or zpl:/dev/usb/lp0")
    p.add_argument(
        "--output",
        metavar="FILE",
        help="write the printer bytes to FILE instead of printing ('-' for stdout)",
    )
    p.add_argument(
        "--unsigned-ok",
        action="store_true",
        help="print a record whose signature does not verify, marked UNVERIFIED",
    )


def mark_unverified(record: Record) -> Record:
    """A display copy whose headline (and QR status) says UNVERIFIED; the outcome it claims
    moves to the result line."""
    result = record["result"]
    claimed = f"{result.get('status', '?')} (claimed) {result.get('erasure_status', '')}".strip()
    return {**record, "result": {**result, "status": UNVERIFIED, "erasure_status": claimed}}


def _check_shape(path: Path, record: Record) -> None:
    if record.get("schema") != SCHEMA_ID or not all(
        isinstance(record.get(k), dict) for k in ("drive", "result", "sanitization", "station")
    ):
        raise ReportError(f"{path}: not a Wipestation drive record ({SCHEMA_ID})")


def load_record(path: Path, unsigned_ok: bool = False) -> Record:
    """The record to label; ReportError when it is unreadable, or unsigned and not allowed."""
    from wipestation.reports.sign import verify_bytes  # OpenSSL: only when it runs

    try:
        data = read_capped(path)
        verdict = verify_bytes(data)
        if verdict.ok and verdict.record is not None:
            record = verdict.record
        elif not unsigned_ok:
            raise ReportError(
                f"signature does not verify ({verdict.reason}): no label printed "
                "(--unsigned-ok prints one marked UNVERIFIED)"
            )
        else:
            record = parse_object(data)
    except ReportError as e:
        raise ReportError(f"{path}: {e}") from e
    _check_shape(path, record)
    return record if verdict.ok else mark_unverified(record)


def run(args: argparse.Namespace) -> int:
    path = Path(args.file)
    spec_text = args.printer or config.load().printer
    if not spec_text and not args.output:
        raise ReportError("no printer: pass --printer escpos:/dev/ttyS1 or set wipestation.printer")
    spec = PrinterSpec.parse(spec_text or "escpos:-")
    record = load_record(path, args.unsigned_ok)
    try:
        data = build_label(spec.language, record)
    except (KeyError, TypeError, AttributeError) as e:
        raise ReportError(f"{path}: not a complete Wipestation record (missing {e})") from e
    if args.output:
        if args.output == "-":
            sys.stdout.buffer.write(data)
        else:
            Path(args.output).write_bytes(data)
        return 0
    print_once(spec, record, open_port)
    print(f"label for {record['drive']['serial'] or record['drive']['identity']} sent to {spec}")
    return 0
