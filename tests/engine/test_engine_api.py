"""The engine's contract with its front ends: events, snapshots, report failures, import hygiene."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from wipestation.discovery.inventory import Inventory
from wipestation.engine.context import RateMeter
from wipestation.engine.jobs import Engine
from wipestation.errors import SafetyError
from wipestation.model import Drive, JobState

from tests.engine.conftest import MiB, PlannedEngine, drive_of, planned_engine, read_all


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


class MeetingInventory(Inventory):
    """The first two re-checks wait for each other: two starts of one drive, side by side.
    Later ones (a job opening its drive) wait for ``released``: no job ends before both
    starts returned (a job that ended frees its drive for another wipe)."""

    def __init__(self) -> None:
        super().__init__()
        self.meet, self.calls = threading.Barrier(2, timeout=30), 0
        self.released = threading.Event()

    def recheck(self, planned: Drive) -> Drive:
        self.calls += 1
        if self.calls <= 2:
            self.meet.wait()
        else:
            self.released.wait(30)
        return super().recheck(planned)


def test_two_starts_of_one_drive_at_once_make_one_job(make_loop, tmp_path):
    """48 drives start from several threads at boot: the check that a drive has no job yet and
    the job's registration are one step, so two starts that race never both run."""
    dev = make_loop(4 * MiB, b"x")
    inventory = MeetingInventory()
    engine = PlannedEngine(Engine(inventory, journal_dir=tmp_path / "journal"))
    outcomes: list[object] = []

    def start() -> None:
        try:
            outcomes.append(engine.start(drive_of(dev), "overwrite-zero", "full"))
        except SafetyError as e:
            outcomes.append(e)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    inventory.released.set()
    try:
        assert engine.wait(timeout=60)
    finally:
        engine.close()
    refused = [o for o in outcomes if isinstance(o, SafetyError)]
    assert len(outcomes) == 2, outcomes
    assert len(refused) == 1, outcomes
    assert "is already being wiped" in str(refused[0])
    assert len(engine.results()) == 1
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


def test_the_journal_directory_is_chosen_when_the_first_wipe_starts(make_loop, tmp_path):
    """A station starts before udev has identified the report stick: where the journal lives
    (on that stick, to survive a power cut) is decided when a wipe needs it, once."""

    chosen: list[Path] = []

    def choose() -> Path:
        chosen.append(tmp_path / "stick-journal")
        return chosen[-1]

    engine = planned_engine(journal_dir=choose, report_writer=None)
    try:
        assert chosen == []
        first = engine.start(drive_of(make_loop(2 * MiB, b"x")), "overwrite-zero", "full")
        second = engine.start(drive_of(make_loop(2 * MiB, b"y")), "overwrite-zero", "full")
        assert engine.wait(timeout=60)
        assert {engine.results()[j].state for j in (first, second)} == {JobState.PASSED}
        assert chosen == [tmp_path / "stick-journal"]
        assert engine.journal.directory == tmp_path / "stick-journal"
        assert (tmp_path / "stick-journal").is_dir()  # the jobs checkpointed there
    finally:
        engine.close()


def test_the_result_says_why_auto_chose_its_method(make_loop, make_engine):
    """An auditor reading ``auto`` on a certificate must find what it chose and why."""
    dev = make_loop(2 * MiB, b"x")
    engine = make_engine()
    job = engine.start(drive_of(dev), "auto", "full")
    assert engine.wait(timeout=60)
    result = engine.results()[job]
    assert result.state == JobState.PASSED
    assert (result.method, result.executed) == ("auto", "nist-clear")
    assert result.decision[0].startswith("auto: interface")
    assert any(d.startswith("no firmware purge available") for d in result.decision)


def test_rate_meter_uses_a_sliding_window():
    meter = RateMeter(window=5.0)
    assert meter.add(0.0, 0) == 0.0
    assert meter.add(1.0, 100) == 100.0
    meter.add(10.0, 1000)
    assert meter.add(11.0, 1200) == (1200 - 1000) / (11.0 - 10.0)  # old samples dropped


def test_engine_and_cli_never_import_textual():
    code = (
        "import sys, wipestation.engine.jobs, wipestation.planning.planner, "
        "wipestation.cli.wipe_cmd, "
        "wipestation.cli.methods_cmd; print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
