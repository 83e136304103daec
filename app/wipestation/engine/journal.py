"""A small per-drive journal so an interrupted overwrite resumes where it was, after a crash.

It holds what is needed to continue the same job on the same drive: identity, method, the random
stream's key, the step and the last offset known to be on stable media (the engine fdatasyncs
before each checkpoint), the pre-wipe fingerprint and when the job started. Written atomically
(temp file, fsync, rename, fsync of the directory) so a power cut leaves the old or the new one.
It lives on the report medium when there is one (``<report dir>/.journal``), else in
``/var/lib/wipestation/journal``. A station decides which when its first wipe starts, not at boot:
it starts before udev has identified the report stick. A journal in RAM looks again every few
seconds and moves to a report stick plugged in later.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from wipestation.discovery.identity import safe_filename
from wipestation.model import Fingerprint
from wipestation.reports.atomic import mkdirs_durable

log = logging.getLogger(__name__)

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
    fingerprint: Fingerprint | None = None
    resumes: list[dict[str, object]] = field(default_factory=list)
    version: int = VERSION


class Journal:
    """One JSON file per drive identity in ``directory``: a path, or a function called on first
    use (see the module docstring) and, while its answer is the RAM directory, again every
    ``recheck_s`` seconds: a report stick plugged in after the first wipe started then takes
    the journal over, with every entry written so far."""

    def __init__(
        self,
        directory: str | Path | Callable[[], Path],
        recheck_s: float = 10.0,
        ram: str | Path = DEFAULT_DIR,
    ) -> None:
        self._choose = directory if callable(directory) else None
        self._ram = Path(ram)
        self._directory = None if callable(directory) else Path(directory)
        self._recheck_s = recheck_s
        self._chosen_at = 0.0
        self._lock = threading.Lock()

    @property
    def directory(self) -> Path:
        with self._lock:
            if self._choose is None:
                assert self._directory is not None
                return self._directory
            if self._directory is None:
                self._directory, self._chosen_at = Path(self._choose()), time.monotonic()
            elif self._in_ram() and time.monotonic() - self._chosen_at >= self._recheck_s:
                self._chosen_at = time.monotonic()
                try:
                    self._move_to(Path(self._choose()))
                except Exception:  # noqa: BLE001 - a failed look must not fail a running wipe
                    log.exception("looking for a report stick for the wipe journal failed")
            return self._directory

    def _in_ram(self) -> bool:
        return self._directory == self._ram

    def _move_to(self, new: Path) -> None:
        """Copy every entry to ``new`` (durably) before switching; then drop the RAM copies."""
        old = self._directory
        if old is None or new == old:
            return
        try:
            mkdirs_durable(new)
            for src in sorted(old.glob("*.json")):
                try:
                    text = src.read_text(encoding="utf-8")
                except FileNotFoundError:  # its job just finished
                    continue
                _write_durably(new / src.name, text)
            _sync_dir(new)
        except OSError as e:
            log.warning("the wipe journal stays in RAM: cannot move it to %s: %s", new, e)
            return
        self._directory = new
        for src in old.glob("*.json"):
            src.unlink(missing_ok=True)
        log.info("wipe journal moved from %s to %s", old, new)

    def path_for(self, identity: str) -> Path:
        return self.directory / f"{safe_filename(identity)}.json"

    def load(self, identity: str) -> JournalEntry | None:
        try:
            data = json.loads(self.path_for(identity).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if data.get("version") != VERSION or data.get("identity") != identity:
            return None
        return entry_of(data)

    def entries(self) -> list[JournalEntry]:
        out = []
        for p in sorted(self.directory.glob("*.json")):
            try:
                out.append(entry_of(json.loads(p.read_text(encoding="utf-8"))))
            except (OSError, ValueError, TypeError):
                continue
        return out

    def save(self, entry: JournalEntry) -> None:
        entry.updated_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        directory = self.directory
        # Each new directory's entry synced in its parent: on FAT a fresh .wipestation/journal
        # is otherwise lost with everything in it when the power goes within writeback time.
        mkdirs_durable(directory)
        name = f"{safe_filename(entry.identity)}.json"
        _write_durably(directory / name, json.dumps(entry_json(entry)))
        _sync_dir(directory)

    def remove(self, identity: str) -> None:
        directory = self.directory
        try:
            (directory / f"{safe_filename(identity)}.json").unlink()
        except FileNotFoundError:
            return
        _sync_dir(directory)


def entry_of(data: dict[str, object]) -> JournalEntry:
    """A journal file's JSON → its entry; the fingerprint typed (dropped when not whole: a
    resumed firmware erase then has no proof of change and fails closed)."""
    fp = Fingerprint.from_json(data.pop("fingerprint", None))
    return JournalEntry(**data, fingerprint=fp)  # type: ignore[arg-type]


def entry_json(entry: JournalEntry) -> dict[str, object]:
    data = asdict(entry)
    data["fingerprint"] = entry.fingerprint.to_json() if entry.fingerprint else None
    return data


def _write_durably(path: Path, text: str) -> None:
    """Temp file, fsync, rename, fsync of the file again.

    On FAT (the report stick) the renamed file's directory entry gets its size and first
    cluster only when the file's inode is written back, which fsync on the directory does
    not do: without the second fsync a power cut leaves an empty journal and nothing resumes.
    """
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_path(path)


def _sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
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
