"""What a job works with: its collaborators (``JobServices``), where it reports (``JobSink``),
what a running step sees (``JobContext``), and the progress arithmetic (bytes done, pass k/n,
MB/s over a sliding window, ETA).

Why narrow seams: a job never reaches into the ``Engine``; it gets one typed services object and
reports through a sink, so the engine, the job and the step context import in one direction.
Hot progress goes into the engine's snapshot only (throttled); subscribers hear about state
changes and errors, never every tick, so a slow subscriber cannot slow a wipe.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from wipestation.engine.budget import BufferBudget
from wipestation.engine.courtesy import Courtesy
from wipestation.engine.journal import Journal
from wipestation.model import Drive, JobResult, JobState, Progress
from wipestation.steps.blockio import BlockIO, IOFactory

log = logging.getLogger("wipestation.engine")

RATE_WINDOW_S = 5.0
PUBLISH_EVERY_S = 0.1


class DriveGate(Protocol):
    """The inventory as the engine uses it: re-check protection, open for writing, re-read."""

    def recheck(self, planned: Drive) -> Drive: ...

    def open_for_wipe(self, planned: Drive, *, direct: bool = True) -> int: ...

    def get(self, path_or_name: str) -> Drive | None: ...


class ReportSink(Protocol):
    """Where a finished job's result goes (the report writer)."""

    def write(self, result: JobResult) -> Sequence[Path | str]: ...


class JobSink(Protocol):
    """Where a job reports (the engine): progress, its result once, and that it is done."""

    def publish(self, progress: Progress, *, notify: bool) -> None: ...

    def record(self, result: JobResult) -> bool: ...

    def is_recorded(self, job_id: str) -> bool: ...

    def mark_done(self, job_id: str) -> None: ...


@dataclass(frozen=True)
class JobServices:
    """Everything a job uses besides its drive and plan, built once by the engine."""

    inventory: DriveGate
    journal: Journal
    report_writer: ReportSink | None
    io_factory: IOFactory
    buffer_size: int
    sample_percent: float
    checkpoint_interval: float
    present: Callable[[Drive], bool]
    slots: threading.BoundedSemaphore | None = None
    #: sizes each pass's buffers by how many jobs run (engine/budget.py); None: ``buffer_size``
    budget: BufferBudget | None = None
    #: the screen's hold on the job threads while it answers a key (engine/courtesy.py)
    courtesy: Courtesy | None = None

    def pass_buffer(self) -> int:
        """The buffer size for a pass starting now."""
        return self.budget.size() if self.budget else self.buffer_size

    def step_aside(self, cancel: threading.Event) -> None:
        """Between chunks and phases: wait while the screen holds the jobs back."""
        if self.courtesy is not None:
            self.courtesy.pause(cancel)


class RateMeter:
    """Throughput over the last few seconds, from (time, bytes) samples."""

    def __init__(self, window: float = RATE_WINDOW_S) -> None:
        self.window = window
        self.samples: deque[tuple[float, int]] = deque()

    def reset(self) -> None:
        self.samples.clear()

    def add(self, t: float, done: int) -> float:
        self.samples.append((t, done))
        while len(self.samples) > 2 and t - self.samples[0][0] > self.window:
            self.samples.popleft()
        t0, d0 = self.samples[0]
        return (done - d0) / (t - t0) if t > t0 else 0.0


class JobContext:
    """Handed to ``step.run(ctx)`` (``steps.plan.OverwriteContext``); steps never open devices
    themselves."""

    def __init__(
        self,
        services: JobServices,
        drive: Drive,
        tracker: ProgressTracker,
        *,
        cancel: threading.Event,
        stream_key: bytes,
        checkpoint: Callable[[int, int], None],
        notes: list[str],
    ) -> None:
        self.services, self.tracker, self.notes = services, tracker, notes
        self.drive: Drive = drive
        self.cancel: threading.Event = cancel
        self.stream_key: bytes = stream_key
        self._checkpoint = checkpoint
        self.start_offset = 0
        self.step_index = 0
        #: what the running step logged (its commands first): the command of a step that raises
        self.step_log: list[str] = []
        #: the job's own O_EXCL claim on the drive while a firmware step runs (job.py)
        self.claimed_fd: int | None = None
        self._last_checkpoint = time.monotonic()

    @property
    def buffer_size(self) -> int:
        """Asked once per pass (a pass keeps the size it started with)."""
        return self.services.pass_buffer()

    def open_for_write(self, direct: bool = True) -> int:
        """A writable fd after the protection re-check; while the job already holds the drive
        with O_EXCL (a firmware step is running), a duplicate of that claim."""
        if self.claimed_fd is not None:
            fd = os.dup(self.claimed_fd)
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
            direct_flag = os.O_DIRECT if direct else 0
            fcntl.fcntl(fd, fcntl.F_SETFL, (flags & ~os.O_DIRECT) | direct_flag)
            return fd
        return self.services.inventory.open_for_wipe(self.drive, direct=direct)

    def open_io(self) -> BlockIO:
        return self.services.io_factory(self.open_for_write(), self.drive)

    def progress(self, done: int, total: int, phase: str = "") -> None:
        """Firmware steps report their own progress (e.g. sanitize percent) here."""
        self.tracker.update(done, total, phase or "erase")

    def advance(self, offset: int, size: int) -> None:
        self.tracker.update_pass(offset, size)
        self.services.step_aside(self.cancel)

    def log(self, line: str) -> None:
        log.info("%s: %s", self.tracker.job_id, line)
        self.step_log.append(line)
        self.notes.append(line)

    def error(self, message: str) -> None:
        self.tracker.error(message)

    def checkpoint_due(self) -> bool:
        return time.monotonic() - self._last_checkpoint >= self.services.checkpoint_interval

    def checkpoint(self, offset: int) -> None:
        self._last_checkpoint = time.monotonic()
        self._checkpoint(self.step_index, offset)


class ProgressTracker:
    """Builds the job's Progress values and hands them to the engine's snapshot."""

    def __init__(self, job_id: str, drive: Drive, method: str, sink: JobSink) -> None:
        self.job_id, self.sink = job_id, sink
        self.meter = RateMeter()
        self.current = Progress(
            job_id=job_id,
            drive_path=drive.path,
            identity=drive.identity,
            state=JobState.QUEUED,
            method=method,
            timestamp=time.time(),
        )
        self._last_publish = 0.0
        self.lock = threading.Lock()

    def state(
        self,
        state: JobState,
        phase: str = "",
        *,
        last_error: str | None = None,
        pass_index: int | None = None,
        pass_count: int | None = None,
    ) -> None:
        with self.lock:
            self.meter.reset()
            p = replace(self.current, state=state, phase=phase, timestamp=time.time())
            if not state.finished:  # a new phase counts its own bytes
                p = replace(p, bytes_done=0, bytes_total=0, rate_bps=0.0, eta_s=None)
            if last_error is not None:
                p = replace(p, last_error=last_error)
            if pass_index is not None and pass_count is not None:
                p = replace(p, pass_index=pass_index, pass_count=pass_count)
            self.current = p
        self.sink.publish(self.current, notify=True)

    def error(self, message: str) -> None:
        with self.lock:
            self.current = replace(self.current, last_error=message, timestamp=time.time())
        self.sink.publish(self.current, notify=True)

    def set_pass(self, index: int, count: int) -> None:
        with self.lock:
            self.current = replace(self.current, pass_index=index, pass_count=count)

    def update_pass(self, offset: int, size: int) -> None:
        """Overwrite progress: bytes over all passes of the plan."""
        p = self.current
        done = max(0, p.pass_index - 1) * size + offset
        self.update(done, size * max(1, p.pass_count), p.phase or "erase")

    def update(self, done: int, total: int, phase: str) -> None:
        now = time.monotonic()
        rate = self.meter.add(now, done)
        if now - self._last_publish < PUBLISH_EVERY_S and done < total:
            return
        self._last_publish = now
        eta = (total - done) / rate if rate > 0 else None
        with self.lock:
            self.current = replace(
                self.current,
                phase=phase,
                bytes_done=done,
                bytes_total=total,
                rate_bps=rate,
                eta_s=eta,
                timestamp=time.time(),
            )
        self.sink.publish(self.current, notify=False)
