"""Progress ticks are stored without the engine's lock (issue 18: 48 drives' wipe threads
queued on it); a tick that lands after its job ended never hides the job's final state."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from wipestation.discovery.inventory import Inventory
from wipestation.engine.jobs import Engine
from wipestation.model import JobResult, JobState, Progress, Transport

from tests.policy.drives import drive


def engine(tmp_path: Path) -> Engine:
    return Engine(Inventory(), journal_dir=tmp_path)


def tick(job_id: str, done: int) -> Progress:
    return Progress(job_id, "/dev/x", "X", JobState.ERASING, bytes_done=done, bytes_total=100)


def result(job_id: str) -> JobResult:
    return JobResult(
        job_id, drive(Transport.SATA), "zero", "clear", "", JobState.PASSED, "ok", "", ""
    )


def test_a_tick_shows_and_a_late_tick_never_hides_the_final_state(tmp_path: Path) -> None:
    e = engine(tmp_path)
    e.publish(tick("j1", 10), notify=False)
    assert e.snapshot()["j1"].bytes_done == 10
    final = replace(tick("j1", 100), state=JobState.PASSED)
    assert e.record(result("j1"))
    e.publish(final, notify=True)
    e.publish(tick("j1", 50), notify=False)  # the worker's last tick, after the end
    assert e.snapshot()["j1"] == final


def test_a_tick_racing_the_end_is_put_back(tmp_path: Path) -> None:
    """The interleaving the lock used to prevent: the job ends (result, final state) just after
    the tick checked for a result and before it stored; its re-check puts the final back."""
    e = engine(tmp_path)
    final = replace(tick("j1", 100), state=JobState.PASSED)

    class EndsDuringTheCheck(dict):
        ended = False

        def __contains__(self, key: object) -> bool:
            if not self.ended:
                self.ended = True
                e._results = {}  # the other thread: record, then publish the final state
                e.record(result("j1"))
                e.publish(final, notify=True)
                return False
            return super().__contains__(key)

    e._results = EndsDuringTheCheck()
    e.publish(tick("j1", 60), notify=False)
    assert e.snapshot()["j1"] == final


def test_ticks_from_many_threads_end_in_each_jobs_last(tmp_path: Path) -> None:
    e = engine(tmp_path)

    def run(n: int) -> None:
        for done in range(1, 2001):
            e.publish(tick(f"j{n}", done), notify=False)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {p.bytes_done for p in e.snapshot().values()} == {2000}
    assert len(e.snapshot()) == 16
