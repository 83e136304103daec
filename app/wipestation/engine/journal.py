"""A small per-drive journal so an interrupted overwrite resumes where it was, after a crash.

It holds what is needed to continue the same job on the same drive: identity, method, the random
stream's key, the step and the last offset known to be on stable media (the engine fdatasyncs
before each checkpoint), the pre-wipe fingerprint and when the job started. Written atomically
(temp file, fsync, rename, fsync of the directory) so a power cut leaves the old or the new one.
It lives on the report medium when there is one (``<report dir>/.journal``), else in
``/var/lib/wipestation/journal``. A station decides which when its first wipe starts, not at boot:
it starts before udev has identified the report stick.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from wipestation.discovery.identity import safe_filename
from wipestation.reports.atomic import mkdirs_durable

DEFAULT_DIR = "/var/lib/wipestation/journal"
VERSION = 1


def journal_dir_for(report_dir: str | Path | None, configured: str | Path | None = None) -> Path:
    if configured:
        return Path(configured)
    if report_dir:
        return Path(report_dir) / ".journal"
    return Path(DEFAULT_DIR)


@dataclass
class JournalEntry:
    job_id: str
    identity: str
    drive_path: str
    size_bytes: int
    method: str
    verify: str
    stream_key: str  # hex
    started_at: str
    step_index: int = 0
    offset: int = 0
    updated_at: str = ""
    fingerprint: dict[str, object] | None = None
    resumes: list[dict[str, object]] = field(default_factory=list)
    version: int = VERSION


class Journal:
    """One JSON file per drive identity in ``directory``: a path, or a function called once,
    on first use (see the module docstring)."""

    def __init__(self, directory: str | Path | Callable[[], Path]) -> None:
        self._choose = directory if callable(directory) else None
        self._directory = None if callable(directory) else Path(directory)
        self._lock = threading.Lock()

    @property
    def directory(self) -> Path:
        with self._lock:
            if self._directory is None:
                assert self._choose is not None
                self._directory = Path(self._choose())
            return self._directory

    def path_for(self, identity: str) -> Path:
        return self.directory / f"{safe_filename(identity)}.json"

    def load(self, identity: str) -> JournalEntry | None:
        try:
            data = json.loads(self.path_for(identity).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if data.get("version") != VERSION or data.get("identity") != identity:
            return None
        return JournalEntry(**data)

    def entries(self) -> list[JournalEntry]:
        out = []
        for p in sorted(self.directory.glob("*.json")):
            try:
                data = json.loads(p.read_text(encoding="utf-8"))
                out.append(JournalEntry(**data))
            except (OSError, ValueError, TypeError):
                continue
        return out

    def save(self, entry: JournalEntry) -> None:
        entry.updated_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        # Each new directory's entry synced in its parent: on FAT a fresh .wipestation/journal
        # is otherwise lost with everything in it when the power goes within writeback time.
        mkdirs_durable(self.directory)
        path = self.path_for(entry.identity)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(asdict(entry), f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        # On FAT (the report stick) the renamed file's directory entry gets its size and first
        # cluster only when the file's inode is written back, which fsync on the directory does
        # not do: without this fsync a power cut leaves an empty journal and nothing resumes.
        _fsync_path(path)
        self._sync_dir()

    def remove(self, identity: str) -> None:
        try:
            self.path_for(identity).unlink()
        except FileNotFoundError:
            return
        self._sync_dir()

    def _sync_dir(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
