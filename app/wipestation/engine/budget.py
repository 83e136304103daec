"""A station-wide cap on the I/O buffers its running jobs hold.

Why: a job double-buffers — an overwrite pass holds up to 3 buffers, a verification 5 — at 4 MiB
each, ~20 MiB a drive: ~1 GiB with 48 drives verifying at once, more than a small station has
(it also holds the whole image in RAM). Each pass asks for its buffer size as it starts: the
largest while every running job fits in the budget at that size, halved until they do, never
below ``SMALLEST``. A pass keeps its size to its end, so the bound is
``max(budget, jobs x PER_JOB x SMALLEST)`` plus what passes begun with fewer jobs running hold.
"""

from __future__ import annotations

from collections.abc import Callable

MiB = 1024 * 1024
#: buffers one job may hold at once (a verification: 2 slots x 2 views + its pattern)
PER_JOB = 5
#: still a whole number of 4096-byte sectors, and large enough for a drive's sequential speed
SMALLEST = 1 * MiB


def default_total(meminfo: str = "/proc/meminfo") -> int:
    """A quarter of the station's memory, between 64 MiB and 1 GiB (512 MiB when unreadable).

    Why not less: big chunks are also what keeps the interpreter free — each chunk costs
    ~0.25 ms of Python whatever its size, so 48 drives at 200 MB/s in 1 MiB chunks would need
    more than one interpreter's time. A station with 4 GiB keeps 4 MiB chunks for 48 drives; a
    2 GiB one gets 2 MiB."""
    try:
        with open(meminfo, encoding="ascii") as f:
            kib = next(int(ln.split()[1]) for ln in f if ln.startswith("MemTotal:"))
    except (OSError, StopIteration, ValueError, IndexError):
        return 512 * MiB
    return min(1024 * MiB, max(64 * MiB, kib * 1024 // 4))


class BufferBudget:
    """``size()``: the buffer size for a pass starting now."""

    def __init__(self, total: int, largest: int, running: Callable[[], int]) -> None:
        self.total, self.largest, self.running = total, largest, running

    def size(self) -> int:
        jobs = max(1, self.running())
        size = self.largest
        while size > SMALLEST and jobs * PER_JOB * size > self.total:
            size //= 2
        return max(size, min(SMALLEST, self.largest))
