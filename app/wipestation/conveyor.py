"""Unattended ("conveyor") mode without a screen: wipe every wipeable drive, now and later.

Enabled only by explicit station configuration. It prints one machine-readable line per state
change (``JOB``/``RESULT``/``DONE``) so a serial console, a log file and the VM tests can follow
it, and it never wipes the same identity twice in one session (a drive that failed stays failed
until an operator decides).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TextIO

from wipestation.config import StationConfig
from wipestation.discovery.monitor import DriveEvent
from wipestation.errors import WipestationError
from wipestation.model import Drive, JobResult, Progress


class EngineLike(Protocol):
    def start(
        self, drive: Drive, method: str, verify: str = "sample", *, resume: bool = False
    ) -> str: ...
    def subscribe(self, fn: Callable[[Progress], None]) -> None: ...
    def results(self) -> dict[str, JobResult]: ...
    def snapshot(self) -> dict[str, Progress]: ...
    def drive_removed(self, name: str) -> None: ...


def format_progress(p: Progress) -> str:
    line = f"JOB {p.identity} {p.drive_path} {p.state} {p.method}"
    if p.phase:
        line += f" phase={p.phase.replace(' ', '_')}"
    if p.last_error:
        line += f" error={p.last_error!r}"
    return line


def format_result(r: JobResult) -> str:
    verdict = "PASS" if r.passed else "FAIL"
    return f"RESULT {r.drive.identity} {r.drive.path} {verdict} {r.state} {r.method} {r.reason}"


class Conveyor:
    """Starts a job for every wipeable drive it sees; reports each state change as a line."""

    def __init__(
        self,
        engine: EngineLike,
        method: str,
        verify: str,
        out: TextIO,
        udev_busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self.engine = engine
        self.method = method
        self.verify = verify
        self.out = out
        self.udev_busy = udev_busy
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._reported: set[str] = set()
        self._offering = 0  # drives between "seen" and "job started" (the journal may wait)
        engine.subscribe(self._on_progress)

    def say(self, line: str) -> None:
        with self._lock:
            self.out.write(line + "\n")
            self.out.flush()

    def offer(self, drive: Drive) -> str | None:
        """Start a job for ``drive`` unless it is protected or was already handled."""
        if drive.protected:
            self.say(
                f"SKIP {drive.identity} {drive.path} protected: "
                + "; ".join(drive.protected_reasons)
            )
            return None
        with self._lock:
            if drive.identity in self._seen:
                return None
            self._seen.add(drive.identity)
            self._offering += 1  # not idle until this drive's job exists (see idle)
        try:
            method, verify, resume = self._interrupted(drive) or (self.method, self.verify, False)
            job = self.engine.start(drive, method, verify, resume=resume)
        except WipestationError as e:
            self.say(f"SKIP {drive.identity} {drive.path} cannot start: {e}")
            return None
        finally:
            with self._lock:
                self._offering -= 1
        how = " resume" if resume else ""
        self.say(f"START {drive.identity} {drive.path} {method} job={job}{how}")
        return job

    def _interrupted(self, drive: Drive) -> tuple[str, str, bool] | None:
        """An interrupted wipe of this drive in the journal is resumed with its own method."""
        journal = getattr(self.engine, "journal", None)
        entry = journal.load(drive.identity) if journal is not None else None
        if entry is None or entry.size_bytes != drive.size_bytes:
            return None
        return entry.method, entry.verify, True

    def on_drive_event(self, ev: DriveEvent) -> None:
        if ev.action == "added" and ev.drive is not None:
            self.offer(ev.drive)
        elif ev.action == "changed" and ev.drive is not None and not ev.drive.protected:
            self.offer(ev.drive)  # e.g. udev finished identifying it after start-up
        elif ev.action == "removed":
            self.engine.drive_removed(ev.name)
            self.say(f"REMOVED {ev.drive.identity if ev.drive else ev.name} /dev/{ev.name}")

    def _on_progress(self, p: Progress) -> None:
        self.say(format_progress(p))
        if p.state.finished:
            self._report_finished()

    def _report_finished(self) -> None:
        for job_id, result in self.engine.results().items():
            with self._lock:
                if job_id in self._reported:
                    continue
                self._reported.add(job_id)
            self.say(format_result(result))

    def idle(self) -> bool:
        """True when every started job has finished and been reported, no drive is on its way to
        a job (the journal's first use waits for a report stick), and udev is not still reading
        devices (at boot the station starts first: drives are still arriving)."""
        with self._lock:
            offering = self._offering
        if offering or self.udev_busy():
            return False
        snap = self.engine.snapshot()
        return all(p.state.finished for p in snap.values()) and len(self._reported) >= len(snap)

    def wait_idle(self, settle_s: float = 3.0, poll_s: float = 0.5) -> None:
        """Block until idle for ``settle_s`` (late hotplug arrivals restart the wait)."""
        quiet_since: float | None = None
        while True:
            self._report_finished()
            if self.idle():
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= settle_s:
                    return
            else:
                quiet_since = None
            time.sleep(poll_s)

    def summary(self) -> tuple[int, int]:
        results = self.engine.results().values()
        passed = sum(1 for r in results if r.passed)
        return passed, len(results) - passed


def run_headless(
    cfg: StationConfig,
    out: TextIO,
    *,
    parts: dict[str, Any] | None = None,
    power_off: Callable[[], None] | None = None,
) -> int:
    """Unattended mode on a plain terminal; with ``cfg.poweroff``, power off when all is saved.

    Never powers off while a finished record is still waiting for a report target: the
    operator is told to plug one in, and the station waits.
    """
    from wipestation.assembly import build_station

    parts = parts or build_station(cfg)
    engine, writer = parts["engine"], parts["report_writer"]
    conv = Conveyor(engine, cfg.method, cfg.verify, out, parts.get("udev_busy") or (lambda: False))
    parts["watcher"].subscribe(conv.on_drive_event)
    conv.say(f"CONVEYOR method={cfg.method} verify={cfg.verify} poweroff={int(cfg.poweroff)}")
    for drive in parts["inventory"].drives():
        conv.offer(drive)
    while True:
        conv.wait_idle()
        passed, failed = conv.summary()
        if not cfg.poweroff:
            conv.say(f"IDLE passed={passed} failed={failed}; plug in the next drives")
            _wait_for_work(conv)
            continue
        _wait_for_reports(conv, writer)
        conv.say(f"DONE passed={passed} failed={failed} reports={writer.status.delivered}")
        parts["watcher"].stop()
        engine.close()
        writer.close()
        (power_off or _power_off)()
        return 0 if failed == 0 else 1


def _wait_for_work(conv: Conveyor, poll_s: float = 1.0) -> None:
    while conv.idle():
        time.sleep(poll_s)


def _wait_for_reports(conv: Conveyor, writer: Any, poll_s: float = 2.0) -> None:
    """Until every finished record is on a report target (a stick may be plugged in later)."""
    told = ""
    while True:
        writer.wait_idle(timeout=30)
        if not writer.status.pending:
            return
        if writer.status.message != told:
            told = writer.status.message
            conv.say(f"WAITING {told}")
        time.sleep(poll_s)
        writer.kick()


def _power_off() -> None:
    from wipestation.tools import runner

    runner.run(["systemctl", "poweroff"], timeout=30, check=False)
