"""Records made the way a station makes them, for the trust tests."""

from __future__ import annotations

import json
from pathlib import Path

from wipestation.reports.keystore import KeyHome
from wipestation.reports.record import Record
from wipestation.reports.writer import ReportWriter

from tests.reports.factory import STATION, drive, job


def write_records(report_dir: Path, key_home: KeyHome | Path, n: int, first: int = 0) -> list[Path]:
    """``n`` records of distinct drives through one writer; their JSON paths."""
    writer = ReportWriter(report_dir, station=STATION, key_home=key_home, pdf_enabled=False)
    out = []
    for i in range(first, first + n):
        result = job(drive=drive(serial=f"SER{i}", identity=f"SER{i}"), job_id=f"j{i}")
        out.append(writer.write(result)[0])
    writer.close()
    return out


def load(path: Path) -> Record:
    record: Record = json.loads(path.read_bytes())
    return record
