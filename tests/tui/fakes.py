"""Deterministic stand-ins for the engine, the inventory and the hotplug watcher.

Same public shape as ``engine.jobs.Engine`` / ``Inventory`` / ``DriveWatcher``; progress is
moved by the test (``advance``), never by a clock, so snapshots and assertions are stable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from types import SimpleNamespace

from wipestation.assembly import wire_removals
from wipestation.config import StationConfig
from wipestation.discovery.monitor import DriveEvent
from wipestation.engine.courtesy import Courtesy
from wipestation.engine.resume import Interrupted
from wipestation.errors import UnsupportedError
from wipestation.model import (
    Drive,
    IdentitySource,
    JobResult,
    JobState,
    Progress,
    Transport,
    VerifyMode,
)
from wipestation.planning.capabilities import Capabilities
from wipestation.services import Services
from wipestation.steps.plan import Expect, Expectation, Plan

GB = 1000**3


def make_drive(
    name: str,
    serial: str = "",
    size: int = 500 * GB,
    *,
    transport: Transport = Transport.SATA,
    model: str = "ACME HDD 500",
    protected: tuple[str, ...] = (),
) -> Drive:
    serial = serial or f"SN-{name.upper()}"
    return Drive(
        path=f"/dev/{name}",
        name=name,
        transport=transport,
        model=model,
        serial=serial,
        wwn="",
        firmware="1.0",
        size_bytes=size,
        logical_block_size=512,
        physical_block_size=4096,
        rotational=True,
        removable=False,
        read_only=False,
        identity=serial,
        identity_source=IdentitySource.SERIAL,
        protected=bool(protected),
        protected_reasons=protected,
    )


class FakePlanner:
    """Plans with no steps: the screen only needs a plan's names, level and reasons."""

    def __init__(self, probed: list[str] | None = None) -> None:
        self.probed = probed if probed is not None else []
        self.secrets: dict[str, object] = {}

    def plan(self, drive: Drive, method: str, verify: VerifyMode) -> Plan:
        return Plan(
            method, "clear", "test", (), Expectation(Expect.NOTHING), verify, requested=method
        )

    def capabilities(self, drive: Drive) -> Capabilities:
        self.probed.append(drive.name)
        return Capabilities(path=drive.path, transport=str(drive.transport))

    def give_secret(self, identity: str, secret: object) -> None:
        self.secrets[identity] = secret


def services(
    engine: FakeEngine,
    drives: list[Drive],
    config: StationConfig | None = None,
    *,
    watcher: FakeWatcher | None = None,
    writer: object = None,
    planner: object = None,
    udev_busy: Callable[[], bool] | None = None,
) -> Services:
    """The station's services over fakes (the real ``Services`` class, fake collaborators),
    wired as ``assembly`` wires the real ones."""
    if watcher is not None:
        wire_removals(watcher, engine)  # type: ignore[arg-type]
    return Services(
        config=config or StationConfig(station="bay-3", method="nist-clear"),
        inventory=FakeInventory(drives),
        planner=planner or FakePlanner(),  # type: ignore[arg-type]
        engine=engine,  # type: ignore[arg-type]
        watcher=watcher,  # type: ignore[arg-type]
        reports=writer,  # type: ignore[arg-type]
        udev_busy=udev_busy or (lambda: False),
    )


class FakeInventory:
    def __init__(self, drives: list[Drive]) -> None:
        self._drives = list(drives)

    def drives(self) -> list[Drive]:
        return list(self._drives)


class FakeWatcher:
    def __init__(self, known: dict[str, Drive] | None = None) -> None:
        self.subscribers: list[Callable[[DriveEvent], None]] = []
        self._known = dict(known or {})

    def subscribe(self, fn: Callable[[DriveEvent], None]) -> None:
        self.subscribers.append(fn)

    def known(self) -> dict[str, Drive]:
        return dict(self._known)

    def emit(self, action: str, drive: Drive) -> None:
        for fn in self.subscribers:
            fn(DriveEvent(action, drive.name, drive))


class FakeEngine:
    """Jobs advance only when the test says so; ``refuse`` makes ``start`` raise."""

    def __init__(self, refuse: dict[str, str] | None = None) -> None:
        self.refuse = refuse or {}
        self.started: list[tuple[str, str, str]] = []  # (drive name, method, verify)
        self.cancelled: list[str] = []
        self.removed: list[str] = []
        self.resumed: list[bool] = []
        #: identity → interrupted wipe, as the journal would tell it
        self.interrupted_wipes: dict[str, Interrupted] = {}
        self._snap: dict[str, Progress] = {}
        self._results: dict[str, JobResult] = {}
        self._drives: dict[str, Drive] = {}
        self._subs: list[Callable[[Progress], None]] = []
        self.courtesy = Courtesy()  # the real one: the screen holds it on every key

    def start(self, drive: Drive, plan: Plan, *, resume: bool = False) -> str:
        if drive.name in self.refuse:
            raise UnsupportedError(self.refuse[drive.name])
        method, verify = plan.asked_for, plan.verify
        self.resumed.append(resume)
        job_id = f"{drive.name}-job{len(self.started)}"
        self.started.append((drive.name, method, verify))
        self._drives[job_id] = drive
        self._snap[job_id] = Progress(job_id, drive.path, drive.identity, JobState.QUEUED, method)
        return job_id

    def start_method(self, drive: Drive, method: str, verify: VerifyMode = "sample") -> str:
        """A job started elsewhere (before a screen restart, by another front end)."""
        return self.start(drive, FakePlanner().plan(drive, method, verify))

    def interrupted(self, drive: Drive) -> Interrupted | None:
        return self.interrupted_wipes.get(drive.identity)

    def check_target(self, drive: Drive) -> None:
        return None

    def job_of(self, name: str) -> str:
        return next(j for j, d in reversed(self._drives.items()) if d.name == name)

    def advance(self, job_id: str, notify: bool = False, **changes: object) -> Progress:
        p = replace(self._snap[job_id], **changes)
        self._snap[job_id] = p
        if p.state.finished:
            self._results[job_id] = self._result(job_id, p)
        if notify or p.state.finished:
            for fn in list(self._subs):
                fn(p)
        return p

    def _result(self, job_id: str, p: Progress) -> JobResult:
        return JobResult(
            job_id=job_id,
            drive=self._drives[job_id],
            method=p.method,
            level="clear" if p.state == JobState.PASSED else "none",
            standard="NIST SP 800-88 Rev. 1",
            state=p.state,
            reason=p.last_error or "verified (sample): zeros",
            started_at="2026-01-01T10:00:00+00:00",
            ended_at="2026-01-01T11:00:00+00:00",
        )

    def cancel(self, job_id: str) -> None:
        self.cancelled.append(job_id)

    def cancel_all(self) -> None:
        self.cancelled.extend(j for j, p in self._snap.items() if not p.state.finished)

    def snapshot(self) -> dict[str, Progress]:
        return dict(self._snap)

    def subscribe(self, fn: Callable[[Progress], None]) -> None:
        self._subs.append(fn)

    def results(self) -> dict[str, JobResult]:
        return dict(self._results)

    def wait(self, timeout: float | None = None) -> bool:
        return all(p.state.finished for p in self._snap.values())

    def drive_removed(self, name: str) -> None:
        self.removed.append(name)
        for job_id, d in self._drives.items():
            if d.name == name and not self._snap[job_id].state.finished:
                self.advance(job_id, state=JobState.REMOVED, last_error="drive removed")

    def close(self) -> None:
        self.cancel_all()


class FakePrinter:
    def __init__(self) -> None:
        self.queued: list[dict] = []

    def submit(self, record: dict) -> None:
        self.queued.append(record)


class FakeSpool:
    def pending(self) -> list[dict]:
        return []


class FakeWriter:
    """The report writer as the screen sees it: a status, a printer, this session's records."""

    def __init__(self, target: str = "absent", pending: int = 0, printer: bool = True) -> None:
        self.printer = FakePrinter() if printer else None
        self.delivered: list[dict] = []
        self.spool = FakeSpool()
        self._target, self._pending = target, pending

    @property
    def status(self) -> SimpleNamespace:
        return SimpleNamespace(
            target=self._target,
            target_detail="no report stick" if self._target == "absent" else "/media/reports",
            pending=self._pending,
            delivered=len(self.delivered),
            printer="idle" if self.printer else "none",
            last_error="",
        )
