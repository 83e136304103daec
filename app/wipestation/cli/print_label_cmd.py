"""``wipestation print-label FILE.json``: print (or reprint) a drive label from a record.

The printer comes from ``--printer`` or the station configuration (``wipestation.printer``).
Unlike the station's background queue this prints once and says whether it worked.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from wipestation import config
from wipestation.errors import ReportError
from wipestation.reports.printer import PrinterSpec, build_label, open_port, print_once
from wipestation.reports.record import Record


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE.json", help="the drive's record")
    p.add_argument("--printer", metavar="SPEC", help="escpos:/dev/ttyS1[:9600] or zpl:/dev/usb/lp0")
    p.add_argument(
        "--output",
        metavar="FILE",
        help="write the printer bytes to FILE instead of printing ('-' for stdout)",
    )


def load_record(path: Path) -> Record:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ReportError(f"{path}: not a readable record ({e})") from e
    if not isinstance(record, dict) or "drive" not in record:
        raise ReportError(f"{path}: not a Wipestation record")
    return record


def run(args: argparse.Namespace) -> int:
    record = load_record(Path(args.file))
    spec_text = args.printer or config.load().printer
    if not spec_text and not args.output:
        raise ReportError("no printer: pass --printer escpos:/dev/ttyS1 or set wipestation.printer")
    spec = PrinterSpec.parse(spec_text or "escpos:-")
    if args.output:
        data = build_label(spec.language, record)
        if args.output == "-":
            sys.stdout.buffer.write(data)
        else:
            Path(args.output).write_bytes(data)
        return 0
    print_once(spec, record, open_port)
    print(f"label for {record['drive']['serial'] or record['drive']['identity']} sent to {spec}")
    return 0
