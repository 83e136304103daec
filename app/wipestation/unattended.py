"""Unattended mode, once: the controller both the station screen and the headless conveyor use.

Enabled only by explicit station configuration (``wipestation.auto=1``). It starts every
wipeable drive it is offered once per session (in computer mode only this computer's internal
drives: computermode.py) (never a RAID logical volume or a BMC's virtual
media: discovery/controllers.py) — an interrupted wipe in the journal resumes with
its own method, anything else gets the configured one — says why it skips a drive, and decides
when the station may power off: every started job ended, no drive on its way to a job, udev done
reading devices, and every record delivered to a report target.

A start that fails for a reason the station decided (protected, unsupported, changed: a
``WipestationError``) is refused once. One that fails by a fault (an exception nobody raised
on purpose) is tried again ``ATTEMPTS`` times, ``RETRY_S`` apart, and the station does not
power off before the last try: a drive of 48 was once refused by a race and never wiped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wipestation import computermode
from wipestation.discovery.controllers import not_a_drive
from wipestation.discovery.identity import console_word
from wipestation.discovery.monitor import DriveEvent
from wipestation.errors import WipestationError
from wipestation.model import Drive, JobResult, Progress
from wipestation.services import Services, Started

if TYPE_CHECKING:
    from wipestation.reports.writer import ReportWriter


ATTEMPTS = 3  # starts of one drive that failed by a fault, before it is refused
RETRY_S = 10.0  # between those attempts


@dataclass(frozen=True)
class Refused:
    """The autopilot tried to start the drive and could not: why, and if it tries again."""

    reason: str
    again: bool = False


class Autopilot:
    """Offers drives to the engine; ``say`` gets one line per decision
    (``START``/``SKIP``/``RETRY``)."""

    def __init__(
        self,
        services: Services,
        say: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.services, self.say, self.clock = services, say, clock
        self.method, self.verify = services.config.method, services.config.verify
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._offering = 0  # drives between "seen" and "job started" (the journal may wait)
        self._faults: dict[str, int] = {}  # identity → starts that failed by a fault
        self._again: dict[str, tuple[Drive, float]] = {}  # identity → (drive, when to retry)

    def adopt(self, snapshot: Iterable[Progress]) -> None:
        """Jobs that already ran this session (a restarted screen): never start them again."""
        with self._lock:
            self._seen.update(p.identity for p in snapshot)

    def offer(self, drive: Drive) -> Started | Refused | None:
        """Start a job for ``drive`` unless it is protected or was already handled (None)."""
        if not drive.wipeable or not_a_drive(drive):
            self.say(f"SKIP {console_word(drive.identity)} {drive.path} {skip_reason(drive)}")
            return None
        if computermode.on(self.services.config) and not computermode.takes(drive):
            self.say(
                f"SKIP {console_word(drive.identity)} {drive.path} {computermode.left_out(drive)}"
            )
            return None
        with self._lock:
            if drive.identity in self._seen:
                return None
            self._seen.add(drive.identity)
            self._again.pop(drive.identity, None)
            self._offering += 1  # not idle until this drive's job exists (see idle)
        try:
            started = self._start(drive)
        finally:
            with self._lock:
                self._offering -= 1
        return started

    def _start(self, drive: Drive) -> Started | Refused:
        s = self.services
        try:
            resume = s.engine.interrupted(drive) is not None
            started = s.start(drive, self.method, self.verify, resume=resume)
        except WipestationError as e:
            return self._refuse(drive, f"cannot start: {e}")
        except Exception as e:  # noqa: BLE001 - a fault, not a decision: tried again
            return self._fault(drive, f"{type(e).__name__}: {e}")
        how = " resume" if started.resumed else ""
        who = console_word(drive.identity)
        self.say(f"START {who} {drive.path} {started.method} job={started.job_id}{how}")
        return started

    def _refuse(self, drive: Drive, why: str) -> Refused:
        self.say(f"SKIP {console_word(drive.identity)} {drive.path} {why}")
        return Refused(why)

    def _fault(self, drive: Drive, error: str) -> Refused:
        """A start that failed by a fault: offered again after ``RETRY_S`` (``due``)."""
        with self._lock:
            tries = self._faults[drive.identity] = self._faults.get(drive.identity, 0) + 1
            if tries < ATTEMPTS:
                self._again[drive.identity] = (drive, self.clock() + RETRY_S)
        if tries >= ATTEMPTS:
            return self._refuse(drive, f"cannot start after {tries} attempts: {error}")
        who = f"{console_word(drive.identity)} {drive.path}"
        self.say(f"RETRY {who} in {RETRY_S:.0f} s (attempt {tries} of {ATTEMPTS}): {error}")
        return Refused(f"{error} (trying again in {RETRY_S:.0f} s)", again=True)

    def due(self) -> list[Drive]:
        """Drives whose failed start is due to be tried again: offer each (they stay pending,
        so the station is not idle, until that offer takes them)."""
        now = self.clock()
        with self._lock:
            ready = [d for d, when in self._again.values() if when <= now]
            self._seen.difference_update(d.identity for d in ready)
        return ready

    def on_drive_event(self, ev: DriveEvent) -> Started | Refused | None:
        """Hotplug: a new drive (or one udev finished identifying) is offered. (A pulled
        drive's job is ended by the engine, which the watcher tells directly: assembly.py.)"""
        if ev.action == "removed" or ev.drive is None:
            return None
        if ev.action == "changed" and ev.drive.protected:
            return None
        return self.offer(ev.drive)

    def idle(self) -> bool:
        """Every started job has ended, no drive is on its way to a job (or due to be tried
        again), and udev is not still reading devices (at boot the station starts first: drives
        are still arriving)."""
        with self._lock:
            offering = self._offering or len(self._again)
        if offering or self.services.udev_busy():
            return False
        return all(p.state.finished for p in self.services.engine.snapshot().values())

    def waiting_for_reports(self) -> str:
        """Why finished records are not all on a report target yet, or ''. With
        ``store_required`` the target is the object store too: the stick alone does not do."""
        writer = self.services.reports
        if writer is None:
            return ""
        status, store = writer.status, writer.status.store
        if status.pending and not in_store(writer):
            # Without a report target the store is where they go: say why it does not take them.
            to_store = store is not None and store.pending and status.target != "present"
            return store.message if to_store and store is not None else status.message
        return store.message if store is not None and store.required and store.pending else ""

    def may_power_off(self) -> bool:
        return self.idle() and not self.waiting_for_reports()

    def results(self) -> list[JobResult]:
        return list(self.services.engine.results().values())

    def summary(self) -> tuple[int, int]:
        results = self.results()
        passed = sum(1 for r in results if r.passed)
        return passed, len(results) - passed


def in_store(writer: ReportWriter) -> bool:
    """Every record waiting for a report target is already in the store: a network-booted
    station with no report stick loses nothing by powering off (issue 20: "report stick if
    present, RAM otherwise"; the store's acknowledgement is what ends the RAM copy's duty)."""
    store = writer.store
    waiting = writer.spool.pending()
    return store is not None and all(store.holds(r["report_id"]) for r in waiting)


def skip_reason(drive: Drive) -> str:
    if not_a_drive(drive):  # never wiped unattended: only an operator may choose to
        return not_a_drive(drive)
    if drive.protected:
        return "protected: " + "; ".join(drive.protected_reasons)
    if drive.read_only:
        return "read-only"
    return "no capacity (no medium?)"
