"""Issue 18: the wipes yield the CPU to the screen — a job's thread, and every helper thread it
starts, runs at ``WORKER_NICE``; the caller's thread keeps its priority."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

from wipestation.engine.job import WORKER_NICE
from wipestation.model import JobState
from wipestation.steps.plan import Expect, Expectation, Plan

from tests.engine.conftest import MiB, drive_of, register_plan
from tests.engine.steps import record


def nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@dataclass(frozen=True)
class NiceProbe:
    """Records the priority of the thread it runs in and of a thread it starts."""

    seen: list[int] = field(default_factory=list)
    name: str = "nice probe"
    kind: str = "firmware"

    def run(self, ctx):
        self.seen.append(nice())
        helper = threading.Thread(target=lambda: self.seen.append(nice()))
        helper.start()
        helper.join()
        return record(self.name)


def test_a_job_and_its_helper_threads_run_at_the_workers_priority(make_loop, make_engine) -> None:
    probe = NiceProbe()
    register_plan(
        "t-nice",
        lambda v: Plan("t-nice", "clear", "test", (probe,), Expectation(Expect.CHANGED), "none"),
    )
    before = nice()
    engine = make_engine()
    job = engine.start(drive_of(make_loop(4 * MiB, b"x")), "t-nice", "none")
    assert engine.wait(timeout=120)
    assert engine.results()[job].state == JobState.PASSED, engine.results()[job].reason
    assert probe.seen == [max(before, WORKER_NICE)] * 2
    assert nice() == before
