"""What the station screen needs from the outside world, as Protocols.

The App is built from these collaborators (engine, drive source, hotplug watcher, methods, report
status, clock), so tests pass fakes with the same shape and the real station passes the real ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from wipestation.model import Drive, JobResult, Progress


class EngineLike(Protocol):
    """The subset of ``wipestation.engine.jobs.Engine`` the UI calls."""

    def start(
        self, drive: Drive, method: str, verify: str = "sample", *, resume: bool = False
    ) -> str: ...
    def cancel(self, job_id: str) -> None: ...
    def cancel_all(self) -> None: ...
    def snapshot(self) -> dict[str, Progress]: ...
    def subscribe(self, fn: Callable[[Progress], None]) -> None: ...
    def results(self) -> dict[str, JobResult]: ...
    def drive_removed(self, name: str) -> None: ...


class DriveSource(Protocol):
    """``Inventory``: the drives present at start-up."""

    def drives(self) -> list[Drive]: ...


class WatcherLike(Protocol):
    """``DriveWatcher``: calls ``fn(DriveEvent)`` from its own thread."""

    def subscribe(self, fn: Callable[[Any], None]) -> None: ...

    def known(self) -> dict[str, Drive]:
        """The drives as of the last event (listed when the watcher started)."""
        ...


@dataclass(frozen=True)
class ReportStatus:
    """What the header says about where proof goes. ``target``: present | absent | full | off."""

    target: str = "off"
    where: str = ""
    pending: int = 0
    printer: str = "none"  # none | ready | offline | error text
    detail: str = ""


ReportStatusFn = Callable[[], ReportStatus]
