"""The job engine: runs plans. ``start(drive, plan)`` queues one job per drive
(``engine/job.py``); the engine tracks, cancels and publishes them.

It never decides how a drive is erased — planning (``wipestation.planning``) does, and this
package never imports it. Threads, not processes or io_uring, by measurement: AES-CTR
``update_into``, the ctypes ``memcmp`` and every read/write release the GIL (2 threads = 1.75x
one on 2 cores), and a thread stuck in a hung ioctl does not stop the others. Profiled over 4
tmpfs-backed loops (issue 18): a writer thread costs 0.07 CPU-s per GiB besides its pwrite calls
(one per 4 MiB chunk, ~0.25 ms of Python), a thread waiting for the GIL got it within 0.08 ms
(median), and the writers spend ~90 % of their wall time inside pwrite: nothing per chunk is
serialised; the aggregate is bounded by the CPU the sink and the cipher need.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from wipestation.engine import resume as resume_rule
from wipestation.engine.budget import BufferBudget, default_total
from wipestation.engine.context import DriveGate, JobServices, ReportSink
from wipestation.engine.courtesy import Courtesy
from wipestation.engine.job import Job
from wipestation.engine.journal import Journal
from wipestation.engine.resume import Interrupted
from wipestation.errors import DeviceGoneError, SafetyError
from wipestation.model import Drive, JobResult, Progress
from wipestation.steps.blockio import DEFAULT_BUFFER, FdBlockIO, IOFactory, device_present
from wipestation.steps.plan import Plan

log = logging.getLogger("wipestation.engine")

CHECKPOINT_INTERVAL_S = 2.0


class Engine:
    """Starts, tracks and cancels wipe jobs; the CLI and the TUI both drive it."""

    def __init__(
        self,
        inventory: DriveGate,
        *,
        journal_dir: str | Path | Callable[[], Path],
        report_writer: ReportSink | None = None,
        max_workers: int | None = None,
        io_factory: IOFactory = FdBlockIO,
        buffer_size: int = DEFAULT_BUFFER,
        buffer_budget: int | None = None,
        sample_percent: float = 10.0,
        checkpoint_interval: float = CHECKPOINT_INTERVAL_S,
        present: Callable[[Drive], bool] = device_present,
        courtesy: Courtesy | None = None,
    ) -> None:
        self.inventory = inventory
        self.journal = Journal(journal_dir)
        self.present = present
        #: the screen holds the job threads back while it answers a key (engine/courtesy.py)
        self.courtesy = courtesy or Courtesy()
        self.services = JobServices(
            inventory=inventory,
            journal=self.journal,
            report_writer=report_writer,
            io_factory=io_factory,
            buffer_size=buffer_size,
            sample_percent=sample_percent,
            checkpoint_interval=checkpoint_interval,
            present=present,
            slots=threading.BoundedSemaphore(max_workers) if max_workers else None,
            budget=BufferBudget(buffer_budget or default_total(), buffer_size, self.running),
            courtesy=self.courtesy,
        )
        self._jobs: dict[str, Job] = {}
        self._snapshot: dict[str, Progress] = {}
        self._results: dict[str, JobResult] = {}
        self._final: dict[str, Progress] = {}  # each ended job's final state (_tick)
        self._done: set[str] = set()  # results recorded and final state published
        self._subscribers: list[Callable[[Progress], None]] = []
        self._cond = threading.Condition()

    # ---- the contract -----------------------------------------------------------------------

    def start(self, drive: Drive, plan: Plan, *, resume: bool = False) -> str:
        """Check and queue a job running ``plan``; with ``resume``, continue the drive's
        interrupted wipe from the journal (``engine/resume.py``).

        Raises:
            SafetyError: the drive is protected, gone, changed, or already being wiped.
            UnsupportedError: the journal's interrupted wipe used another method.
        """
        self.check_target(drive)
        entry = resume_rule.entry_for(self.journal, drive, plan) if resume else None
        job = Job(self.services, self, drive, plan, entry)
        if resume and entry is None:
            job.notes.append("resume requested, but no journal for this drive: started afresh")
        with self._cond:  # checked again with the registration: two starts of one drive race
            self._refuse_second_job(drive)
            self._jobs[job.job_id] = job
            self._snapshot[job.job_id] = job.tracker.current
        job.thread.start()
        return job.job_id

    def interrupted(self, drive: Drive) -> Interrupted | None:
        """The drive's interrupted wipe, if its journal holds one (what to plan to resume it)."""
        return resume_rule.interrupted(self.journal, drive)

    def stream_key(self, job_id: str) -> bytes:
        """The job's random-stream key (regenerates what it wrote; not a secret)."""
        return self._jobs[job_id].stream_key

    def cancel(self, job_id: str) -> None:
        job = self._jobs.get(job_id)
        if job is not None:
            job.cancel_event.set()

    def cancel_all(self) -> None:
        for job in list(self._jobs.values()):
            job.cancel_event.set()

    def snapshot(self) -> dict[str, Progress]:
        """Without the lock, on purpose: the screen asks every tick, and the lock's holder may be
        a wipe thread at nice 19 that a busy CPU leaves waiting for seconds (priority inversion:
        the 48-drive screen waited ~1 min for a key). Copying a dict of str keys is one C call
        under the GIL, so the copy is whole; writers still take the lock among themselves."""
        return dict(self._snapshot)

    def subscribe(self, fn: Callable[[Progress], None]) -> None:
        self._subscribers.append(fn)

    def results(self) -> dict[str, JobResult]:
        """Without the lock, as ``snapshot`` and for its reason."""
        return dict(self._results)

    def wait(self, timeout: float | None = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self._done) == len(self._jobs), timeout)

    def drive_removed(self, name: str) -> None:
        for job in list(self._jobs.values()):
            if job.drive.name != name or job.job_id in self._results:
                continue
            if self.present(job.drive):  # a udev hiccup, not a pull: never end a job on that
                log.warning("removal event for %s, but the device is still there", name)
                continue
            job.mark_removed()

    def close(self) -> None:
        self.cancel_all()
        self.wait(timeout=10)

    # ---- used by jobs -----------------------------------------------------------------------

    def publish(self, progress: Progress, *, notify: bool) -> None:
        if not notify and not progress.state.finished:
            self._tick(progress)
            return
        with self._cond:
            if progress.job_id in self._results and not progress.state.finished:
                return  # a late tick from a worker whose job already ended
            if progress.state.finished:
                self._final[progress.job_id] = progress
            self._snapshot[progress.job_id] = progress
        if notify:
            for fn in list(self._subscribers):
                try:
                    fn(progress)
                except Exception:  # noqa: BLE001 - a subscriber must never break a job
                    log.exception("progress subscriber failed")

    def _tick(self, progress: Progress) -> None:
        """A running job's bytes, stored without the lock (one dict store under the GIL). Why:
        48 drives tick ~500 times a second, and on a busy CPU their wipe threads queued on the
        lock (~18 waiting at any moment in the 48-disk VM, issue 18). A tick that lands after
        its job ended puts the job's final state back: ``_final`` is set before the result's
        state is published, under the lock."""
        job_id = progress.job_id
        if job_id in self._results:
            return
        self._snapshot[job_id] = progress
        if job_id in self._results and job_id in self._final:
            self._snapshot[job_id] = self._final[job_id]

    def record(self, result: JobResult) -> bool:
        """Store a finished job's result once; False when it was already recorded."""
        with self._cond:
            if result.job_id in self._results:
                return False
            self._results[result.job_id] = result
        return True

    def running(self) -> int:
        """Jobs started and not yet ended (what the buffer budget is shared by)."""
        return len(self._jobs) - len(self._results)  # no lock: a budget's estimate (_tick)

    def is_recorded(self, job_id: str) -> bool:
        with self._cond:
            return job_id in self._results

    def mark_done(self, job_id: str) -> None:
        """After the final state went out to subscribers: now ``wait`` may return."""
        with self._cond:
            self._done.add(job_id)
            self._cond.notify_all()

    def check_target(self, drive: Drive) -> None:
        """Raises SafetyError when ``drive`` may not be wiped now (nothing is written)."""
        try:
            self.inventory.recheck(drive)
        except DeviceGoneError as e:  # callers handle one kind of refusal before a start
            raise SafetyError(f"refusing to wipe {drive.path}: it is no longer present") from e
        with self._cond:  # other threads start jobs meanwhile (48 drives at boot)
            self._refuse_second_job(drive)

    def _refuse_second_job(self, drive: Drive) -> None:
        """Under the lock: iterating the jobs while another thread adds one raises
        "dictionary changed size" (a drive of 48 was once refused so, and never wiped)."""
        for job in self._jobs.values():
            if job.drive.identity == drive.identity and job.job_id not in self._results:
                raise SafetyError(f"{drive.path} is already being wiped (job {job.job_id})")
