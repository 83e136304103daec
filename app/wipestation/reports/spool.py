"""Finished records that no target has accepted yet: in memory, and mirrored on tmpfs.

The memory copy survives a full or missing stick; the tmpfs copy (``/run/wipestation/spool``)
also survives a crash or restart of the app within the same boot. A record leaves the spool only
after a target has durably taken it. Spool failures are reported, never fatal: memory still holds
the record.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from wipestation.discovery.identity import safe_filename
from wipestation.reports.atomic import mkdirs_durable, write_atomic
from wipestation.reports.record import SCHEMA_ID, Record, serialize

log = logging.getLogger(__name__)


class Spool:
    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory else None
        self._records: dict[str, Record] = {}
        self._lock = threading.Lock()
        self.last_error = ""
        self._load()

    def _path(self, report_id: str) -> Path:
        assert self.directory is not None
        return self.directory / f"{safe_filename(report_id)}.json"

    def _load(self) -> None:
        if self.directory is None or not self.directory.is_dir():
            return
        for p in sorted(self.directory.glob("*.json")):
            try:
                rec = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                log.warning("spool file %s unreadable: %s", p, e)
                continue
            if isinstance(rec, dict) and rec.get("schema") == SCHEMA_ID:
                self._records[rec["report_id"]] = rec

    def add(self, record: Record) -> None:
        with self._lock:
            self._records[record["report_id"]] = record
        if self.directory is None:
            return
        try:
            mkdirs_durable(self.directory)
            write_atomic(self._path(record["report_id"]), serialize(record))
        except OSError as e:
            self.last_error = f"spool {self.directory}: {e.strerror}; record kept in memory only"
            log.warning("%s", self.last_error)

    def remove(self, report_id: str) -> None:
        with self._lock:
            self._records.pop(report_id, None)
        if self.directory is not None:
            try:
                self._path(report_id).unlink(missing_ok=True)
            except OSError as e:
                log.warning("spool %s: %s", self.directory, e)

    def pending(self) -> list[Record]:
        """Oldest first."""
        with self._lock:
            return sorted(self._records.values(), key=lambda r: r["created_at"])

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)
