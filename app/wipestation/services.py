"""What every front end works with: one typed ``Services`` object, built once by ``assembly``.

Why one object: the screen, the headless conveyor and ``wipestation wipe`` must plan and wipe
through the very same planner and engine, wired the same way, so a method name, a refusal and a
resume mean the same thing on all of them. ``start`` is the one path from "wipe this drive with
that method" to a running job: plan (``planning``), then run (``engine``); with ``resume`` the
method and verification come from the drive's interrupted wipe (``engine/resume.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from wipestation.config import StationConfig
from wipestation.discovery.monitor import DriveEvent
from wipestation.engine.courtesy import Courtesy
from wipestation.engine.resume import Interrupted
from wipestation.errors import WipestationError
from wipestation.model import Drive, JobResult, Progress, VerifyMode
from wipestation.planning.capabilities import Capabilities
from wipestation.reports.writer import ReportWriter
from wipestation.steps.plan import Plan
from wipestation.steps.secret import Secret


class EngineLike(Protocol):
    """``engine.jobs.Engine`` as the front ends use it (tests pass fakes of this shape)."""

    #: the screen's hold on the job threads while it answers a key
    courtesy: Courtesy

    def start(self, drive: Drive, plan: Plan, *, resume: bool = False) -> str: ...
    def interrupted(self, drive: Drive) -> Interrupted | None: ...
    def check_target(self, drive: Drive) -> None: ...
    def cancel(self, job_id: str) -> None: ...
    def cancel_all(self) -> None: ...
    def snapshot(self) -> dict[str, Progress]: ...
    def subscribe(self, fn: Callable[[Progress], None]) -> None: ...
    def results(self) -> dict[str, JobResult]: ...
    def drive_removed(self, name: str) -> None: ...
    def wait(self, timeout: float | None = None) -> bool: ...
    def close(self) -> None: ...


class PlannerLike(Protocol):
    """``planning.planner.Planner``: plans from a cached probe."""

    def plan(self, drive: Drive, method: str, verify: VerifyMode) -> Plan: ...
    def capabilities(self, drive: Drive) -> Capabilities: ...
    def give_secret(self, identity: str, secret: Secret | None) -> None: ...


class DriveSource(Protocol):
    """``Inventory``: the drives present now."""

    def drives(self) -> list[Drive]: ...


class WatcherLike(Protocol):
    """``DriveWatcher``: calls ``fn(DriveEvent)`` from its own thread."""

    def subscribe(self, fn: Callable[[DriveEvent], None]) -> None: ...
    def known(self) -> dict[str, Drive]: ...
    def stop(self) -> None: ...


class StatusLike(Protocol):
    """``reports.status_publisher.StatusPublisher``: the station's live status in the store."""

    def stop(self, state: str = "stopped", timeout: float = 10.0) -> bool: ...


@dataclass(frozen=True)
class Started:
    """A job the engine accepted, and how: the method it runs, and whether it resumed."""

    job_id: str
    method: str
    resumed: bool = False


@dataclass(frozen=True)
class Services:
    """The station's collaborators, shared by every front end."""

    config: StationConfig
    inventory: DriveSource
    planner: PlannerLike
    engine: EngineLike
    watcher: WatcherLike | None = None
    reports: ReportWriter | None = None
    #: True while udev is still reading devices at boot ("looking for drives", not "none")
    udev_busy: Callable[[], bool] = field(default=lambda: False, compare=False)
    #: Puts the station's status.json in the store while it runs (None without a store)
    status: StatusLike | None = field(default=None, compare=False)

    def plan(self, drive: Drive, method: str, verify: VerifyMode) -> Plan:
        """Raises UnsupportedError when the drive cannot run ``method``."""
        return self.planner.plan(drive, method, verify)

    def check(self, drive: Drive, method: str, verify: VerifyMode) -> str:
        """Why ``start`` would refuse this drive, or '' (nothing is written either way)."""
        try:
            self.plan(drive, method, verify)
            self.engine.check_target(drive)
        except WipestationError as e:
            return str(e)
        return ""

    def start(
        self, drive: Drive, method: str, verify: VerifyMode, *, resume: bool = False
    ) -> Started:
        """Plan and start a wipe; with ``resume``, the drive's interrupted wipe (its method and
        verification) when the journal holds one, else ``method`` afresh.

        Raises:
            UnsupportedError, SafetyError: refused before anything is written.
        """
        was = self.engine.interrupted(drive) if resume else None
        if was is not None:
            method, verify = was.method, was.verify
        job_id = self.engine.start(drive, self.plan(drive, method, verify), resume=resume)
        if self.reports is not None:  # certificates from now on rendered in another process:
            self.reports.warm()  # reportlab holds the GIL a screen and 48 wipes share
        return Started(job_id, method, resumed=was is not None)

    def close(self) -> None:
        """Stop watching, cancel what still runs (recorded as cancelled), flush the reports."""
        if self.watcher is not None:
            self.watcher.stop()
        self.engine.close()
        if self.status is not None:  # the last status: every job's end, the station stopped
            self.status.stop()
        if self.reports is not None:
            self.reports.close()
