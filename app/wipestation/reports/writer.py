"""Interim minimal report writer, replaced by the full signed JSON + PDF writer (reports issue).

Contract kept by the full version: ``ReportWriter(report_dir).write(result) -> list[Path]``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from wipestation.discovery.identity import safe_filename
from wipestation.model import JobResult


class ReportWriter:
    def __init__(self, report_dir: str | Path | None) -> None:
        self.report_dir = Path(report_dir) if report_dir else None

    def write(self, result: JobResult) -> list[Path]:
        if self.report_dir is None:
            return []
        self.report_dir.mkdir(parents=True, exist_ok=True)
        path = self.report_dir / f"{safe_filename(result.drive.identity)}.json"
        record = dataclasses.asdict(result)
        record["result"] = "PASS" if result.passed else "FAIL"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
        os.replace(tmp, path)
        return [path]
