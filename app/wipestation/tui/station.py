"""The screen's model: one row per drive, what is selected, and which job belongs to which drive.

Plain Python (no Textual) so the selection rules and the job bookkeeping are testable alone. It
forwards start/cancel to the engine and never decides how a drive is erased.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from wipestation import computermode
from wipestation.discovery.controllers import not_a_drive
from wipestation.errors import WipestationError
from wipestation.model import Drive, JobState, Progress, VerifyMode
from wipestation.planning.capabilities import Capabilities
from wipestation.services import Services

_LABELS = {
    JobState.PASSED: "PASS",
    JobState.FAILED: "FAIL",
    JobState.CANCELLED: "CANCELLED",
    JobState.REMOVED: "REMOVED",
}
LOG_LINES = 200


@dataclass
class Row:
    drive: Drive
    selected: bool = False
    job_id: str = ""
    progress: Progress | None = None
    present: bool = True
    refused: str = ""  # why the engine refused to start, shown until the next attempt
    starting: bool = False  # handed to the start worker, no job id yet
    health: str = "-"  # one word from the probe (health.health_word)
    caps: Capabilities | None = None  # what the probe read, for the details view

    @property
    def name(self) -> str:
        return self.drive.name

    @property
    def busy(self) -> bool:
        return self.starting or (self.progress is not None and not self.progress.state.finished)

    @property
    def state(self) -> str:
        """The label the operator sees; one word, one colour (format.STATE_STYLES)."""
        p = self.progress
        if not self.present and (p is None or not p.state.finished):
            return "REMOVED"
        if p is not None:
            return _LABELS.get(p.state, p.state.value)
        if self.starting:
            return "starting"
        if self.refused:
            return "REFUSED"
        if self.drive.protected:
            return "PROTECTED"
        if self.drive.raid_member:  # wipeable; the progress cell and details say what it holds
            return "RAID SET"
        return "VOLUME" if self.drive.volume else "BMC MEDIA" if self.drive.bmc_media else "idle"

    @property
    def why_not_wipeable(self) -> str:
        d = self.drive
        if d.protected:
            return "protected: " + "; ".join(d.protected_reasons)
        if d.read_only:
            return "the drive is read-only"
        if d.size_bytes <= 0 and not d.zero_size_scsi:
            return "the drive reports no capacity (no medium?)"
        if not self.present:
            return "the drive was removed"
        return "a wipe is already running on it" if self.busy else ""


@dataclass(frozen=True)
class Counts:
    drives: int
    running: int
    passed: int
    failed: int


@dataclass
class Station:
    services: Services
    clock: Callable[[], float] = time.time
    rows: dict[str, Row] = field(default_factory=dict)
    jobs: dict[str, str] = field(default_factory=dict)  # job id → drive name
    logs: dict[str, list[str]] = field(default_factory=dict)  # job id → lines
    _logged: dict[str, tuple] = field(default_factory=dict)  # job id → last logged change
    version: int = 0  # bumped when the set or order of rows changes

    # ---- drives -------------------------------------------------------------------------------
    def load(self, drives: Iterable[Drive]) -> None:
        for d in drives:
            self.add_drive(d)

    def add_drive(self, drive: Drive) -> Row:
        """A drive appeared (or another drive now sits at that name): a fresh, idle row."""
        old = self.rows.get(drive.name)
        if old is not None and old.drive.identity == drive.identity and old.present:
            self.change_drive(drive)  # a repeated event for the same drive keeps its job
            return old
        row = Row(drive, selected=self.preselect(drive))
        self.rows[drive.name] = row
        self.rows = dict(sorted(self.rows.items(), key=lambda kv: natural_key(kv[0])))
        self.version += 1
        return row

    def change_drive(self, drive: Drive) -> None:
        row = self.rows.get(drive.name)
        if row is None:
            self.add_drive(drive)
            return
        newly_taken = not computermode.takes(row.drive) and self.preselect(drive)
        row.drive = drive
        if not drive.wipeable:
            row.selected = False
        elif newly_taken and not row.job_id:  # e.g. udev finished identifying it
            row.selected = True

    def preselect(self, drive: Drive) -> bool:
        """Computer mode selects this computer's internal drives as they appear, never an
        external or an unplaced one (computermode.py); a station selects nothing by itself."""
        return computermode.on(self.services.config) and computermode.takes(drive)

    def remove_drive(self, name: str) -> bool:
        """Idle rows disappear; a row with a job stays so the operator sees how it ended."""
        row = self.rows.get(name)
        if row is None:
            return False
        if not row.job_id:
            del self.rows[name]
            self.version += 1
            return False
        row.present = False
        row.selected = False
        return row.busy

    def row_of(self, name: str) -> Row | None:
        return self.rows.get(name)

    # ---- selection ----------------------------------------------------------------------------
    def toggle(self, name: str) -> str:
        """Select or deselect; returns why not when the drive may not be selected."""
        row = self.rows.get(name)
        if row is None:
            return "no drive there"
        if row.selected:
            row.selected = False
            return ""
        reason = row.why_not_wipeable
        if reason:
            return f"{row.drive.path} cannot be selected: {reason}"
        row.selected = True
        return ""

    def select_all(self) -> int:
        """Every wipeable drive not wiped yet (PASS and FAIL rows need a deliberate Space)."""
        for row in self.rows.values():
            fresh = row.progress is None or row.progress.state == JobState.CANCELLED
            # a RAID volume or BMC medium is wiped only when chosen on purpose (Space)
            row.selected = fresh and not row.why_not_wipeable and not not_a_drive(row.drive)
        return len(self.selected())

    def clear_selection(self) -> None:
        for row in self.rows.values():
            row.selected = False

    def selected(self) -> list[Row]:
        return [r for r in self.rows.values() if r.selected]

    # ---- jobs ---------------------------------------------------------------------------------
    def claim(self, rows: Iterable[Row]) -> tuple[list[Row], list[str]]:
        """Rows that may be started now (marked ``starting``), and why the others may not."""
        ok, errors = [], []
        for row in rows:
            if row.why_not_wipeable:
                errors.append(f"{row.drive.path}: not started, {row.why_not_wipeable}")
                continue
            row.starting, row.selected, row.refused = True, False, ""
            ok.append(row)
        return ok, errors

    def started(self, name: str, job_id: str, method: str) -> None:
        """The engine accepted the job (reported by the start worker)."""
        row = self.rows.get(name)
        if row is None:
            return
        row.starting = False
        self.logs.setdefault(job_id, []).insert(0, f"{self._stamp()} queued with method {method}")
        if row.job_id == job_id:  # the job's first state change arrived first: keep it
            return
        row.job_id = job_id
        row.progress = Progress(job_id, row.drive.path, row.drive.identity, JobState.QUEUED, method)
        self.jobs[job_id] = name

    def refused_start(self, name: str, error: str) -> None:
        row = self.rows.get(name)
        if row is not None:
            row.starting, row.refused = False, error

    def start(self, rows: Iterable[Row], method: str, verify: VerifyMode) -> list[str]:
        """Start synchronously (tests, scripts); the App uses claim + a worker instead."""
        ok, errors = self.claim(rows)
        for row in ok:
            try:
                job = self.services.start(row.drive, method, verify)
                self.started(row.name, job.job_id, job.method)
            except (WipestationError, OSError) as e:
                self.refused_start(row.name, str(e))
                errors.append(f"{row.drive.path}: not started: {e}")
        return errors

    def cancel(self, rows: Iterable[Row]) -> int:
        n = 0
        for row in rows:
            if row.busy:
                self.services.engine.cancel(row.job_id)
                n += 1
        return n

    def apply(self, p: Progress) -> Row | None:
        """A state change from the engine: update the row and the job's log."""
        row = self._row_for_job(p)
        if row is None:
            return None
        if row.progress is None or p.timestamp >= row.progress.timestamp:
            row.progress = p  # a message can arrive after a tick already showed newer numbers
        key = (p.state, p.phase, p.last_error)
        if self._logged.get(p.job_id) != key:
            self._logged[p.job_id] = key
            self._log(p)
        return row

    def refresh(self, snapshot: dict[str, Progress]) -> None:
        """Hot counters from ``engine.snapshot()``; only rows whose current job it is."""
        for job_id, p in snapshot.items():
            name = self.jobs.get(job_id)
            row = self.rows.get(name) if name else None
            if row is not None and row.job_id == job_id:
                row.progress = p

    def adopt(self, snapshot: dict[str, Progress]) -> None:
        """After a UI restart: reconnect the engine's jobs to the rows of their drives."""
        by_path = {r.drive.path: r for r in self.rows.values()}
        for job_id, p in sorted(snapshot.items(), key=lambda kv: kv[1].timestamp):
            row = by_path.get(p.drive_path)
            if row is not None and row.drive.identity == p.identity:
                row.job_id, row.progress = job_id, p
                self.jobs[job_id] = row.name
                self.logs.setdefault(job_id, [f"{self._stamp()} reattached ({p.state.value})"])

    def _row_for_job(self, p: Progress) -> Row | None:
        name = self.jobs.get(p.job_id) or os.path.basename(p.drive_path)
        row = self.rows.get(name)
        if row is None or (row.job_id and row.job_id != p.job_id):
            return None
        if row.drive.identity != p.identity:  # a late message about the drive that was here
            return None
        if not row.job_id:  # a job started elsewhere (unattended CLI, before a UI restart)
            row.job_id = p.job_id
            self.jobs[p.job_id] = name
        return row

    def log_line(self, job_id: str, text: str) -> None:
        """A line from the engine's log; kept only for jobs this screen knows."""
        if job_id in self.jobs:
            lines = self.logs.setdefault(job_id, [])
            lines.append(f"{self._stamp()} {text}")
            del lines[:-LOG_LINES]

    def _log(self, p: Progress) -> None:
        parts = [p.state.value, p.phase]
        if p.pass_count:
            parts.append(f"pass {p.pass_index}/{p.pass_count}")
        if p.last_error:
            parts.append(f"- {p.last_error}")
        lines = self.logs.setdefault(p.job_id, [])
        lines.append(f"{self._stamp()} " + " ".join(x for x in parts if x))
        del lines[:-LOG_LINES]

    def _stamp(self) -> str:
        return time.strftime("%H:%M:%S", time.localtime(self.clock()))

    def counts(self) -> Counts:
        labels = [r.state for r in self.rows.values()]
        return Counts(
            drives=sum(1 for r in self.rows.values() if r.present),
            running=sum(1 for r in self.rows.values() if r.busy),
            passed=labels.count("PASS"),
            failed=labels.count("FAIL"),
        )


def natural_key(name: str) -> tuple:
    """sda < sdb < sdaa, nvme2n1 < nvme10n1: the order bays are labelled in."""
    return (
        len(re.sub(r"\d+", "", name)),
        *((0, int(t)) if t.isdigit() else (1, t) for t in re.split(r"(\d+)", name) if t),
    )
