"""Engine fixtures: an engine over the real inventory with a temp journal, and read-back helpers."""

from __future__ import annotations

import dataclasses
import json
import mmap
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from wipestation import methods
from wipestation.discovery.inventory import Inventory
from wipestation.engine.jobs import Engine
from wipestation.model import Drive, JobResult

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


@pytest.fixture
def make_engine(tmp_path: Path) -> Iterator[Callable[..., Engine]]:
    engines: list[Engine] = []

    def make(**kw: object) -> Engine:
        kw.setdefault("report_writer", RecordingWriter(tmp_path / "reports"))
        eng = Engine(Inventory(), journal_dir=tmp_path / "journal", **kw)  # type: ignore[arg-type]
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
def _forget_test_methods():
    """Throw-away methods must not leak into other tests' method lists."""
    before = {m.name for m in methods.all_methods()}
    yield
    for m in methods.all_methods():
        if m.name not in before:
            methods.unregister(m.name)


def register_plan(name: str, make_plan) -> None:
    """Register a throw-away method whose plan the test builds (steps the engine must run)."""
    methods.register(
        methods.Method(
            name=name,
            title=name,
            description="test plan",
            levels={"ssd": "purge"},
            standard="test",
            passes=0,
            transports=methods.ALL_TRANSPORTS,
            builder=lambda drive, verify: make_plan(verify),
        )
    )
