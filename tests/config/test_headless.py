"""Headless unattended mode on real loop devices: wipes, reports, resumes, then "powers off"."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from wipestation.config import StationConfig
from wipestation.conveyor import run_headless
from wipestation.discovery.inventory import Inventory
from wipestation.engine.jobs import Engine
from wipestation.engine.journal import Journal
from wipestation.planning.planner import Planner
from wipestation.reports.writer import ReportWriter
from wipestation.services import Services

from tests.engine.conftest import drive_of, read_all
from tests.engine.test_methods_loop import stream_bytes
from tests.engine.test_resume import kill_mid_wipe

MiB = 1024 * 1024
PATTERN = b"WIPEME-PATTERN!\n"


class OnlyThese:
    """The station's drive list, limited to this test's loop devices (other tests run too)."""

    def __init__(self, paths: list[str]) -> None:
        self.paths, self.inner = paths, Inventory()

    def drives(self):
        return [d for d in self.inner.drives() if d.path in self.paths]


class NoHotplug:
    def subscribe(self, fn) -> None:
        self.fn = fn

    def stop(self) -> None:
        pass


def services_for(cfg: StationConfig, paths: list[str], report_dir: Path) -> Services:
    writer = ReportWriter(report_dir)
    engine = Engine(Inventory(), journal_dir=report_dir / ".journal", report_writer=writer)
    planner = Planner()
    return Services(cfg, OnlyThese(paths), planner, engine, NoHotplug(), writer)  # type: ignore[arg-type]


@pytest.mark.slow
def test_wipes_everything_reports_then_powers_off(make_loop, tmp_path: Path) -> None:
    devs = [make_loop(8 * MiB, PATTERN), make_loop(4 * MiB, PATTERN)]
    cfg = StationConfig(
        unattended=True,
        method="overwrite-zero",
        verify="full",
        poweroff=True,
        report_dir=str(tmp_path),
    )
    out, powered = io.StringIO(), []
    rc = run_headless(
        services_for(cfg, devs, tmp_path), out, power_off=lambda: powered.append(True)
    )
    text = out.getvalue()
    assert rc == 0, text
    assert powered == [True]
    assert text.count("RESULT ") == 2
    assert "DONE passed=2 failed=0 reports=2" in text
    for dev in devs:
        with open(dev, "rb") as f:
            data = f.read()
        assert data.count(0) == len(data), f"{dev} not zeroed"
    records = [json.loads(p.read_text()) for p in tmp_path.glob("reports/*/*.json")]
    assert len(records) == 2
    assert {r["result"]["status"] for r in records} == {"PASS"}


@pytest.mark.slow
def test_interrupted_wipe_in_the_journal_is_resumed(make_loop, tmp_path: Path) -> None:
    """The conveyor resumes a journaled wipe with its own method, whatever the station's is."""
    size = 16 * MiB + 512
    dev = make_loop(size, b"precious ")
    journal_dir = tmp_path / ".journal"
    kill_mid_wipe(dev, journal_dir, tmp_path / "stalled", "overwrite-random")
    entry = Journal(journal_dir).load(drive_of(dev).identity)
    assert entry is not None

    cfg = StationConfig(
        unattended=True,
        method="overwrite-zero",
        verify="full",
        poweroff=True,
        report_dir=str(tmp_path),
    )
    out = io.StringIO()
    services = services_for(cfg, [dev], tmp_path)
    assert run_headless(services, out, power_off=lambda: None) == 0
    assert "overwrite-random job=" in out.getvalue()
    assert " resume" in out.getvalue()
    assert read_all(dev) == stream_bytes(bytes.fromhex(entry.stream_key), size)
    record = json.loads(next(tmp_path.glob("reports/*/*.json")).read_text())
    assert record["result"]["status"] == "PASS"
    assert "resumed" in json.dumps(record).lower()
