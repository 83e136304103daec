"""Engine fixtures: an engine over the real inventory with a temp journal, and read-back helpers."""

from __future__ import annotations

import dataclasses
import json
import mmap
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from wipestation.config import StationConfig
from wipestation.discovery.inventory import Inventory
from wipestation.engine.jobs import Engine
from wipestation.model import Drive, JobResult, VerifyMode
from wipestation.planning.planner import Planner
from wipestation.services import Services
from wipestation.steps.plan import Plan

MiB = 1024 * 1024


class RecordingWriter:
    """Stands in for the reports package: keeps each result and writes a JSON record."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.results: list[JobResult] = []

    def write(self, result: JobResult) -> list[Path]:
        self.results.append(result)
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{result.job_id}.json"
        path.write_text(json.dumps(dataclasses.asdict(result), default=str), encoding="utf-8")
        return [path]


#: Plans a test builds itself, by the method name it starts them with (``register_plan``).
CUSTOM_PLANS: dict[str, Callable[[VerifyMode], Plan]] = {}


class PlannedEngine:
    """The real ``Engine``, started the way every front end starts it (``Services.start``:
    plan by method name with the real planner, then run) — or with a plan the test built."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.services = Services(StationConfig(station="test"), Inventory(), Planner(), engine)
        engine.subscribe(self.services.planner.on_progress)  # as assembly wires it

    def start(
        self, drive: Drive, method: str, verify: VerifyMode = "sample", *, resume: bool = False
    ) -> str:
        if method in CUSTOM_PLANS:
            plan = replace(CUSTOM_PLANS[method](verify), requested=method)
            return self.engine.start(drive, plan, resume=resume)
        return self.services.start(drive, method, verify, resume=resume).job_id

    def check(self, drive: Drive, method: str, verify: VerifyMode = "sample") -> str:
        return self.services.check(drive, method, verify)

    def __getattr__(self, name: str) -> object:
        return getattr(self.engine, name)


def planned_engine(**kw: object) -> PlannedEngine:
    return PlannedEngine(Engine(Inventory(), **kw))  # type: ignore[arg-type]


@pytest.fixture
def make_engine(tmp_path: Path) -> Iterator[Callable[..., PlannedEngine]]:
    engines: list[PlannedEngine] = []

    def make(**kw: object) -> PlannedEngine:
        kw.setdefault("report_writer", RecordingWriter(tmp_path / "reports"))
        eng = planned_engine(journal_dir=tmp_path / "journal", **kw)
        engines.append(eng)
        return eng

    yield make
    for eng in engines:
        eng.close()


def drive_of(dev: str) -> Drive:
    drive = Inventory().get(dev)
    assert drive is not None, f"{dev} not in the inventory"
    return drive


def read_all(dev: str) -> bytes:
    """The whole device, read with O_DIRECT (never the page cache)."""
    fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
    size = os.lseek(fd, 0, os.SEEK_END)
    buf = mmap.mmap(-1, MiB)
    out = bytearray()
    try:
        off = 0
        while off < size:
            n = os.preadv(fd, [buf], off)
            assert n > 0
            out += buf[:n]
            off += n
    finally:
        os.close(fd)
        buf.close()
    return bytes(out)


def write_at(dev: str, offset: int, data: bytes) -> None:
    fd = os.open(dev, os.O_WRONLY)
    try:
        os.pwrite(fd, data, offset)
        os.fsync(fd)
    finally:
        os.close(fd)


@pytest.fixture(autouse=True)
def _forget_test_plans() -> Iterator[None]:
    """Throw-away plans must not leak into other tests."""
    yield
    CUSTOM_PLANS.clear()


def register_plan(name: str, make_plan: Callable[[VerifyMode], Plan]) -> None:
    """A throw-away method whose plan the test builds (steps the engine must run)."""
    CUSTOM_PLANS[name] = make_plan
