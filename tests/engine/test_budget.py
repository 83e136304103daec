"""Issue 18: the running jobs' buffers stay within a station-wide budget."""

from __future__ import annotations

from pathlib import Path

from wipestation.engine.budget import PER_JOB, SMALLEST, BufferBudget, default_total

MiB = 1024 * 1024


def test_one_job_gets_the_largest_buffer_and_many_share_the_budget() -> None:
    running = [1]
    budget = BufferBudget(256 * MiB, 4 * MiB, lambda: running[0])
    assert budget.size() == 4 * MiB
    for jobs in (2, 8, 12, 13, 24, 48, 96):
        running[0] = jobs
        size = budget.size()
        assert SMALLEST <= size <= 4 * MiB
        assert size & (size - 1) == 0  # a power of two: whole sectors, aligned chunks
        assert jobs * PER_JOB * size <= 256 * MiB or size == SMALLEST
        assert size == 4 * MiB or jobs * PER_JOB * size * 2 > 256 * MiB  # the largest that fits
    running[0] = 48
    assert budget.size() == SMALLEST  # 48 x 5 x 1 MiB = 240 MiB


def test_no_job_running_counts_as_one_and_a_small_largest_is_kept() -> None:
    assert BufferBudget(64 * MiB, 4 * MiB, lambda: 0).size() == 4 * MiB
    assert BufferBudget(64 * MiB, 64 * 1024, lambda: 500).size() == 64 * 1024


def test_the_default_budget_is_a_quarter_of_memory_within_bounds(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:        2000000 kB\nMemFree: 1 kB\n")
    assert default_total(str(meminfo)) == 2000000 * 1024 // 4
    meminfo.write_text("MemTotal:        200000 kB\n")
    assert default_total(str(meminfo)) == 64 * MiB
    meminfo.write_text("MemTotal:        64000000 kB\n")
    assert default_total(str(meminfo)) == 1024 * MiB
    meminfo.write_text("garbage\n")
    assert default_total(str(meminfo)) == 512 * MiB


def test_a_pass_takes_its_buffer_size_from_the_budget(make_loop, make_engine) -> None:
    """Wired through the real engine: one job and a 10 MiB budget → 2 MiB chunks (5 buffers
    of 2 MiB fit, of 4 MiB do not); the step's command says so, and the drive is erased."""
    from wipestation.model import JobState

    from tests.engine.conftest import drive_of, read_all

    dev = make_loop(8 * MiB, b"payroll 2019 ")
    engine = make_engine(buffer_size=4 * MiB, buffer_budget=10 * MiB)
    job = engine.start(drive_of(dev), "overwrite-random", "full")
    assert engine.wait(timeout=120)
    result = engine.results()[job]
    assert result.state == JobState.PASSED, result.reason
    (step,) = [s for s in result.steps if s.command.startswith("pwrite")]
    assert "bs=2097152 " in step.command
    assert b"payroll 2019 " not in read_all(dev)
