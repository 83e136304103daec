"""Issue 18: ``Planner.prefetch`` probes N drives at once, and the checks that follow ask no
drive twice."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import replace

import pytest
from wipestation.model import Drive
from wipestation.planning.capabilities import Capabilities
from wipestation.planning.planner import Planner

from tests.reports.factory import drive

N = 4


def drives(n: int = N) -> list[Drive]:
    return [
        drive(
            path=f"/dev/sd{chr(98 + i)}",
            name=f"sd{chr(98 + i)}",
            serial=f"SER{i}",
            identity=f"SER{i}",
            devnum=(8, 16 * (i + 1)),
        )
        for i in range(n)
    ]


def test_prefetch_probes_every_drive_at_once_then_answers_from_the_cache() -> None:
    together = threading.Barrier(N)  # passes only when N probes run at the same time
    asked: list[str] = []

    def prober(d: Drive) -> Capabilities:
        asked.append(d.identity)
        together.wait(timeout=30)
        return Capabilities(path=d.path, transport=str(d.transport))

    planner = Planner(prober)
    planner.prefetch(drives())
    assert sorted(asked) == [f"SER{i}" for i in range(N)]
    assert not together.broken
    for d in drives():  # the checks that follow: no second probe
        assert planner.capabilities(d).path == d.path
    assert len(asked) == N


def test_prefetch_of_one_drive_or_a_failing_probe_leaves_it_to_the_check() -> None:
    asked: list[str] = []

    def prober(d: Drive) -> Capabilities:
        asked.append(d.identity)
        if d.identity == "SER1":
            raise RuntimeError("probe crashed")
        return Capabilities(path=d.path, transport=str(d.transport))

    planner = Planner(prober)
    planner.prefetch(drives(1))
    assert asked == []  # one drive: nothing to overlap, probed by its check
    planner.prefetch([*drives(2), replace(drives(1)[0])])  # a drive named twice: probed once
    assert sorted(asked) == ["SER0", "SER1"]
    with pytest.raises(RuntimeError, match="probe crashed"):  # not cached: asked again
        planner.capabilities(drives(2)[1])
    assert sorted(asked) == ["SER0", "SER1", "SER1"]


def waiting_in(thread: threading.Thread, function: str, timeout: float = 30) -> bool:
    """Whether ``thread`` reaches ``function`` (seen on its stack) within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = sys._current_frames().get(thread.ident or 0)
        while frame is not None:
            if frame.f_code.co_name == function:
                return True
            frame = frame.f_back
        time.sleep(0.01)
    return False


def test_a_drive_asked_twice_at_once_is_probed_once() -> None:
    """The screen's health probe and a start of the same drive: one tool run, one answer."""
    inside, release = threading.Event(), threading.Event()
    asked: list[str] = []

    def prober(d: Drive) -> Capabilities:
        asked.append(d.identity)
        inside.set()
        assert release.wait(timeout=30)
        return Capabilities(path=d.path, transport=str(d.transport))

    planner = Planner(prober)
    one = drives(1)[0]
    answers: list[Capabilities] = []
    first = threading.Thread(target=lambda: answers.append(planner.capabilities(one)))
    first.start()
    assert inside.wait(timeout=30)
    second = threading.Thread(target=lambda: answers.append(planner.capabilities(one)))
    second.start()
    assert waiting_in(second, "answer")  # it waits for the probe under way, runs none itself
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert asked == ["SER0"]
    assert len(answers) == 2
    assert answers[0] is answers[1]


def test_a_probe_that_fails_under_way_leaves_its_waiter_to_probe_itself() -> None:
    inside, release = threading.Event(), threading.Event()
    asked: list[str] = []

    def prober(d: Drive) -> Capabilities:
        asked.append(d.identity)
        if len(asked) == 1:
            inside.set()
            assert release.wait(timeout=30)
            raise RuntimeError("probe crashed")
        return Capabilities(path=d.path, transport=str(d.transport))

    planner = Planner(prober)
    one = drives(1)[0]
    errors: list[BaseException] = []
    answers: list[Capabilities] = []

    def crashing() -> None:
        try:
            planner.capabilities(one)
        except RuntimeError as e:
            errors.append(e)

    first = threading.Thread(target=crashing)
    first.start()
    assert inside.wait(timeout=30)
    second = threading.Thread(target=lambda: answers.append(planner.capabilities(one)))
    second.start()
    assert waiting_in(second, "answer")
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert [str(e) for e in errors] == ["probe crashed"]
    assert [a.path for a in answers] == [one.path]
    assert asked == ["SER0", "SER0"]  # the failure was not handed on, nor cached
