"""Wipe threads step aside while the station screen answers a key (issue 18).

Why: the screen and every job thread share one interpreter. Python's GIL knows no priority
(the wipe threads' nice 19 does not reach it): with 48 jobs each taking the GIL between its
reads and writes, the screen waited behind all of them for every slice of its own work, and a
key took 13-24 s to be answered in the 48-disk VM. So a key raises a short hold; a job thread
meets it at its next chunk or phase boundary (``pause``) and waits there, GIL released, until
the hold ends or the job is cancelled. What a key costs the wipes: at most ``HOLD_S`` each.
Nothing is left half done: a pause happens between whole chunks, before any checkpoint claim.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: How long a key holds the job threads back: the screen's answer to one key, with room.
HOLD_S = 1.5
#: The longest one pause lasts, however often keys come (a held-down key, a scanner's burst).
LONGEST_PAUSE_S = 3.0


class Courtesy:
    """A deadline the job threads wait for; set by the screen's thread, read by the jobs' (one
    float, written by one thread: no lock on the jobs' per-chunk path)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._until = 0.0
        self._started = 0.0  # when the current run of holds began
        self._rest_until = 0.0  # after a run that lasted LONGEST_PAUSE_S: the jobs' turn

    def hold(self, seconds: float = HOLD_S) -> None:
        """Hold the jobs back for ``seconds`` from now. Why the bound: a run of holds (keys
        one after another, a stuck key) lasts at most ``LONGEST_PAUSE_S``; then the jobs run
        as long again before a key can hold them, so no keyboard can stop a wipe."""
        now = self.clock()
        if now >= self._until:  # a new run of holds
            if now < self._rest_until:
                return
            self._started = now
        cap = self._started + LONGEST_PAUSE_S
        self._until = min(now + seconds, cap)
        if self._until >= cap:
            self._rest_until = cap + LONGEST_PAUSE_S

    def release(self) -> None:
        self._until = 0.0

    def remaining(self) -> float:
        return max(0.0, self._until - self.clock())

    def pause(self, cancel: threading.Event | None = None) -> None:
        """Wait while a hold lasts; a cancel ends the wait at once (a cancel still lands
        within a second)."""
        delay = self.remaining()
        if delay <= 0:
            return
        if cancel is None:
            time.sleep(delay)
        else:
            cancel.wait(delay)
