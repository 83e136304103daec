"""The engine's contract with its front ends: events, snapshots, report failures, import hygiene."""

from __future__ import annotations

import subprocess
import sys

from wipestation.engine.context import RateMeter
from wipestation.model import JobState

from tests.engine.conftest import MiB, drive_of, read_all


class BrokenWriter:
    def write(self, result):
        raise OSError(30, "Read-only file system")


def test_report_failure_keeps_the_result(make_loop, make_engine):
    dev = make_loop(4 * MiB, b"x")
    engine = make_engine(report_writer=BrokenWriter())
    job = engine.start(drive_of(dev), "overwrite-zero", "full")
    assert engine.wait(timeout=60)
    result = engine.results()[job]
    assert result.state == JobState.PASSED
    assert any("report not written" in n for n in result.notes)
    assert read_all(dev) == bytes(4 * MiB)


def test_events_carry_states_and_passes(make_loop, make_engine):
    dev = make_loop(4 * MiB, b"x")
    engine = make_engine(buffer_size=MiB)
    seen = []
    engine.subscribe(seen.append)
    job = engine.start(drive_of(dev), "dod-5220.22-m", "sample")
    assert engine.wait(timeout=60)
    states = [p.state for p in seen]
    order = [JobState.PROBING, JobState.ERASING, JobState.VERIFYING, JobState.REPORTING]
    assert [s for s in states if s in order] == order
    assert states[-1] == JobState.PASSED
    erasing = next(p for p in seen if p.state == JobState.ERASING)
    assert erasing.pass_count == 3
    final = engine.snapshot()[job]
    assert final.state == JobState.PASSED
    assert final.method == "dod-5220.22-m"


def test_rate_meter_uses_a_sliding_window():
    meter = RateMeter(window=5.0)
    assert meter.add(0.0, 0) == 0.0
    assert meter.add(1.0, 100) == 100.0
    meter.add(10.0, 1000)
    assert meter.add(11.0, 1200) == (1200 - 1000) / (11.0 - 10.0)  # old samples dropped


def test_engine_and_cli_never_import_textual():
    code = (
        "import sys, wipestation.engine.jobs, wipestation.methods, wipestation.cli.wipe_cmd, "
        "wipestation.cli.methods_cmd; print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
