"""Issue 18: ``Planner.prefetch`` probes N drives at once, and the checks that follow ask no
drive twice."""

from __future__ import annotations

import threading
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
