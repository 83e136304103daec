"""Simulated firmware on real loop devices: the tools in tests/sim/ plus an engine to run plans."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from wipestation.planning.probe import MEM_SLEEP_ENV
from wipestation.tools.runner import TOOL_DIR_ENV

from tests.engine.conftest import PlannedEngine, RecordingWriter, planned_engine

SIM_DIR = Path(__file__).resolve().parent.parent / "sim"


class SimState:
    """The JSON state the simulators share: one entry per simulated device."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.write_text(json.dumps({"devices": {}, "calls": []}))

    def add(self, dev: str, **device: object) -> None:
        data = self.read()
        data["devices"][dev] = {"polls": 0, **device}
        self.path.write_text(json.dumps(data))

    def read(self) -> dict:
        return json.loads(self.path.read_text())

    def device(self, dev: str) -> dict:
        return self.read()["devices"][dev]

    def ran(self, *words: str) -> bool:
        return any(all(w in call for w in words) for call in self.read()["calls"])


@pytest.fixture
def sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimState:
    """Route every tool through tests/sim/ and give the test the simulated drives' state."""
    monkeypatch.setenv(TOOL_DIR_ENV, str(SIM_DIR))
    monkeypatch.setenv("WIPESTATION_SIM_STATE", str(tmp_path / "sim-state.json"))
    # Pin the platform: no S3 unless a test says so (never suspend the machine running tests;
    # rtcwake is simulated too).
    (tmp_path / "mem_sleep").write_text("[s2idle]\n")
    monkeypatch.setenv(MEM_SLEEP_ENV, str(tmp_path / "mem_sleep"))
    return SimState(tmp_path / "sim-state.json")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[PlannedEngine]:
    eng = planned_engine(
        journal_dir=tmp_path / "journal",
        report_writer=RecordingWriter(tmp_path / "reports"),
        buffer_size=1 << 20,
    )
    yield eng
    eng.close()


RunJob = Callable[..., object]
