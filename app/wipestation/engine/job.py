"""One drive's job: its worker thread runs the plan (and fallbacks), verifies, and reports.

A job ends in exactly one of passed / failed / cancelled / removed, and only a verified plan
passes. The worker records every step; a crash inside it fails only this job. A removed drive's
job is ended within ``REMOVAL_GRACE_S`` even if its worker stays blocked in the kernel.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from types import TracebackType

from wipestation.engine import records
from wipestation.engine.context import JobContext, JobServices, JobSink, ProgressTracker
from wipestation.engine.journal import JournalEntry
from wipestation.engine.verify import Verifier, VerifyRequest, take_fingerprint
from wipestation.errors import (
    DeviceGoneError,
    SafetyError,
    ToolError,
    UnsupportedError,
    WipestationError,
)
from wipestation.model import (
    ByteRange,
    Drive,
    IdentitySource,
    JobResult,
    JobState,
    StepRecord,
    VerifyResult,
    now_iso,
)
from wipestation.steps.blockio import BlockIO, is_gone
from wipestation.steps.patterns import new_stream_key
from wipestation.steps.plan import CancelledError, Expect, Plan, Step, StepKind

log = logging.getLogger("wipestation.engine")

#: A wipe is background work. When the CPU is saturated (48 drives on 2 QEMU TCG vCPUs) the
#: screen, udev and the other processes go first; with CPU to spare the wipes lose nothing.
#: Measured (issue 18): a help key against 48 busy worker threads, 18.9 s at nice 0, 5.5 s
#: at 10, 1.1 s at 19 (bench/tui_keys.py).
WORKER_NICE = 19


def lower_priority() -> None:
    """This thread, and the helper threads it starts (Linux: they inherit it), at
    ``WORKER_NICE``; a process already nicer stays as it is."""
    tid = threading.get_native_id()
    with contextlib.suppress(OSError):
        if os.getpriority(os.PRIO_PROCESS, tid) < WORKER_NICE:
            os.setpriority(os.PRIO_PROCESS, tid, WORKER_NICE)


REMOVAL_GRACE_S = 3.0


class PlanFailedError(WipestationError):
    """A plan's steps or verification did not succeed (fallback may follow)."""

    def __init__(self, message: str, verification: VerifyResult | None = None) -> None:
        self.verification = verification
        super().__init__(message)


class StepFailedError(PlanFailedError):
    """A step raised or returned a failed record; ``record`` is already in the job's steps."""

    def __init__(self, record: StepRecord) -> None:
        self.record = record
        super().__init__(f"{record.name} failed: {record.error or 'see the step record'}")


class Job:
    """One drive's run through its plan (and fallbacks) in its own daemon thread."""

    def __init__(
        self,
        services: JobServices,
        sink: JobSink,
        drive: Drive,
        plan: Plan,
        entry: JournalEntry | None,
    ) -> None:
        self.services, self.sink, self.drive, self.plan = services, sink, drive, plan
        self.method = plan.asked_for
        self.verify = plan.verify
        self.active_plan = plan
        self.job_id = f"{drive.name}-{uuid.uuid4().hex[:8]}"
        self.cancel_event = threading.Event()
        self.removed = threading.Event()
        self._finish_lock = threading.Lock()
        self.notes: list[str] = []
        self.steps: list[StepRecord] = []
        self.fallbacks: list[str] = []
        #: ranges the last verification could not read
        self.unreadable: tuple[ByteRange, ...] = ()
        self.started_at = now_iso()
        self.journal = services.journal
        self.resumed_from: dict[str, object] | None = None
        self.stream_key = bytes.fromhex(entry.stream_key) if entry else new_stream_key()
        self.entry = entry or self._new_entry()
        if entry is not None:
            self.resumed_from = {
                "offset": entry.offset,
                "pass": entry.step_index + 1,
                "at": now_iso(),
                "job_id": entry.job_id,
                "started_at": entry.started_at,
            }
            entry.resumes.append({"at": now_iso(), "offset": entry.offset, "job_id": self.job_id})
        self.tracker = ProgressTracker(self.job_id, drive, self.method, sink)
        self.thread = threading.Thread(target=self.main, name=f"wipe-{drive.name}", daemon=True)

    def _new_entry(self) -> JournalEntry:
        return JournalEntry(
            job_id=self.job_id,
            identity=self.drive.identity,
            drive_path=self.drive.path,
            size_bytes=self.drive.size_bytes,
            method=self.method,
            verify=self.verify,
            stream_key=self.stream_key.hex(),
            started_at=self.started_at,
        )

    # ---- the worker -------------------------------------------------------------------------

    def main(self) -> None:
        lower_priority()
        slots = self.services.slots
        if slots is not None:
            slots.acquire()
        try:
            state, reason, verification = self.execute()
        except Exception as e:  # noqa: BLE001 - a crashed worker fails its job, nothing else
            log.exception("job %s crashed", self.job_id)
            state, reason, verification = JobState.FAILED, f"internal error: {e!r}", None
        finally:
            if slots is not None:
                slots.release()
        try:
            self.finish(state, reason, verification)
        except Exception as e:  # noqa: BLE001 - the job must end recorded, whatever happened
            log.exception("job %s could not finish cleanly", self.job_id)
            if self.sink.record(self.build_result(JobState.FAILED, f"internal error: {e!r}", None)):
                self.tracker.state(JobState.FAILED, "done", last_error=f"internal error: {e!r}")
            self.sink.mark_done(self.job_id)

    def execute(self) -> tuple[JobState, str, VerifyResult | None]:
        try:
            self.probe()
            return JobState.PASSED, *self.run_plans()
        except CancelledError:
            if self.removed.is_set():
                return JobState.REMOVED, f"{self.drive.path} was removed during the wipe", None
            return JobState.CANCELLED, "cancelled by the operator", None
        except DeviceGoneError as e:
            return JobState.REMOVED, str(e), None
        except PlanFailedError as e:
            return JobState.FAILED, str(e), e.verification
        except (SafetyError, WipestationError) as e:
            return JobState.FAILED, str(e), None
        except OSError as e:
            if is_gone(e, self.drive):
                return JobState.REMOVED, f"{self.drive.path} disappeared ({e.strerror})", None
            return JobState.FAILED, f"I/O error: {e}", None

    def probe(self) -> None:
        self.check_cancel()
        self.tracker.state(JobState.PROBING, "probe + fingerprint")
        facts = self.plan.facts
        self.notes.extend(facts.notes if facts else ("no probe facts: no health or HPA/DCO data",))
        if self.entry.fingerprint is None:
            seed = int.from_bytes(self.stream_key[:8], "big")
            with self.read_io() as io:
                self.entry.fingerprint = take_fingerprint(io, self.drive.size_bytes, seed)
        self.journal.save(self.entry)

    def run_plans(self) -> tuple[str, VerifyResult | None]:
        plan: Plan | None = self.plan
        first = True
        while plan is not None:
            try:
                return self.run_plan(plan, resume=first)
            except (ToolError, UnsupportedError, PlanFailedError) as e:
                if plan.fallback is None:
                    if isinstance(e, PlanFailedError):
                        raise
                    raise PlanFailedError(str(e)) from e
                self.fallbacks.append(
                    records.fallback_line(plan.method, self.why_failed(e), plan.fallback.method)
                )
                self.tracker.error(f"{plan.method} failed ({e}); falling back")
                plan, first = plan.fallback, False
                self.active_plan = plan
                self.entry.step_index, self.entry.offset = 0, 0
        raise PlanFailedError("no plan")  # unreachable: the loop returns or raises

    def why_failed(self, error: WipestationError) -> str:
        """For the fallback line: which step failed and why, or what verification found."""
        if isinstance(error, StepFailedError):
            return str(error)
        done = [s.name for s in self.steps if s.ok]
        after = f"{done[-1]} did not erase: " if done else ""
        return after + records.describe_error(error)

    def context(self) -> JobContext:
        return JobContext(
            self.services,
            self.drive,
            self.tracker,
            cancel=self.cancel_event,
            stream_key=self.stream_key,
            checkpoint=self.checkpoint,
            notes=self.notes,
        )

    def run_plan(self, plan: Plan, *, resume: bool) -> tuple[str, VerifyResult | None]:
        ctx = self.context()
        overwrites = [s for s in plan.steps if s.kind == StepKind.OVERWRITE]
        self.tracker.state(JobState.ERASING, "erase", pass_index=1, pass_count=len(overwrites))
        first_step = self.entry.step_index if resume else 0
        for i, step in enumerate(plan.steps):
            if i < first_step:
                continue
            self.check_cancel()
            ctx.step_index = i
            ctx.start_offset = self.entry.offset if (resume and i == first_step) else 0
            if step in overwrites:
                self.tracker.set_pass(overwrites.index(step) + 1, len(overwrites))
            record = self.run_step(step, ctx)
            self.checkpoint(i + 1, 0)
            if record.bad_ranges:
                n = len(record.bad_ranges)
                msg = f"{n} unwritable range(s) on {self.drive.path}; not certifiable"
                raise PlanFailedError(msg)
            if not record.ok:
                raise StepFailedError(record)
            if step.kind == StepKind.PREPARE:
                self.reread_drive(ctx, record.name)
        return self.verify_plan(plan)

    def run_step(self, step: Step, ctx: JobContext) -> StepRecord:
        """Run one step and record it, also when it raises (the report shows what failed)."""
        started = now_iso()
        ctx.step_log = []
        try:
            with claimed_for_command(step, ctx):
                record = step.run(ctx)
        except (ToolError, UnsupportedError) as e:
            record = records.failed_step(step.name, step.kind, started, e, ctx.step_log)
            self.steps.append(record)
            raise StepFailedError(record) from e
        except Exception as e:  # removal, cancel, I/O: recorded, then handled by execute()
            self.steps.append(records.failed_step(step.name, step.kind, started, e, ctx.step_log))
            raise
        self.steps.append(record)
        return record

    def reread_drive(self, ctx: JobContext, after: str) -> None:
        """Read the drive again from the inventory after a prepare step.

        Why: an HPA reset or a reformat to 512-byte sectors changes the size; the following steps
        and verification must cover the drive as it is now, not as it was planned.

        Raises:
            DeviceGoneError: the drive is gone.
            SafetyError: another device (or another serial) now sits at the path.
        """
        now = self.services.inventory.get(self.drive.path)
        if now is None:
            raise DeviceGoneError(f"{self.drive.path} disappeared after {after}")
        old = self.drive
        # A path identity is built from the size, so only that kind may change here.
        identity = now.identity if old.identity_source == IdentitySource.PATH else old.identity
        if now.devnum != old.devnum or now.identity != identity:
            raise SafetyError(f"{old.path} is no longer {old.identity!r} after {after}")
        self.drive = ctx.drive = replace(
            old,
            size_bytes=now.size_bytes,
            logical_block_size=now.logical_block_size,
            physical_block_size=now.physical_block_size,
            identity=identity,
        )
        self.notes.append(records.size_note(after, old, self.drive))
        self.update_journal_identity(old.identity)

    def update_journal_identity(self, old_identity: str) -> None:
        self.entry.size_bytes = self.drive.size_bytes
        if self.drive.identity != old_identity:
            self.journal.remove(old_identity)
            self.entry.identity = self.drive.identity
        self.journal.save(self.entry)

    def verify_plan(self, plan: Plan) -> tuple[str, VerifyResult | None]:
        if self.drive.size_bytes <= 0:  # e.g. the kernel did not re-read a reformatted drive
            raise PlanFailedError(
                f"{self.drive.path} shows 0 bytes after {plan.method}: nothing was erased or "
                "verified (a drive Linux cannot read: check its sector format with sg_readcap)"
            )
        if plan.verify == "none" or plan.expect.kind == Expect.NOTHING:
            result = VerifyResult(
                "none",
                plan.expect.describe(),
                0,
                self.drive.size_bytes,
                True,
                detail="not verified (verify=none)",
            )
            return f"{plan.method} completed; not verified", result
        self.check_cancel()
        self.tracker.state(JobState.VERIFYING, "verify")
        req = VerifyRequest(
            mode=plan.verify,
            expect=plan.expect,
            size=self.drive.size_bytes,
            lbs=max(512, self.drive.logical_block_size),
            stream_key=self.stream_key,
            percent=self.services.sample_percent,
            seed=int.from_bytes(self.stream_key[8:16], "big"),
            fingerprint=self.entry.fingerprint,
            buffer_size=self.services.pass_buffer(),
        )
        with self.read_io() as io:
            verifier = Verifier(io, req, self.tracker_verify, self.cancel_event, gone=self.gone)
            result = verifier.run()
        self.unreadable = tuple(verifier.unreadable)
        if not result.passed:
            where = ", ".join(f"{o}+{n}" for o, n in result.mismatches[:5])
            msg = f"verification failed ({result.detail}; at bytes {where})"
            raise PlanFailedError(msg, result)
        return f"{plan.method} verified ({plan.verify}): {result.observed_class}", result

    def gone(self, error: OSError) -> bool:
        return is_gone(error, self.drive, self.services.present)

    def tracker_verify(self, done: int, total: int) -> None:
        self.tracker.update(done, total, "verify")
        self.services.step_aside(self.cancel_event)

    def read_io(self) -> _ReadIO:
        return _ReadIO(self)

    def check_cancel(self) -> None:
        """At each phase boundary: step aside for the screen first, then honour a cancel."""
        self.services.step_aside(self.cancel_event)
        if self.cancel_event.is_set():
            raise CancelledError("cancelled")

    def checkpoint(self, step_index: int, offset: int) -> None:
        self.entry.step_index, self.entry.offset = step_index, offset
        self.journal.save(self.entry)

    # ---- ending -----------------------------------------------------------------------------

    def mark_removed(self) -> None:
        """The DriveWatcher saw the drive go: stop, and end the job even if the worker hangs."""
        self.removed.set()
        self.cancel_event.set()
        self.tracker.state(JobState.REMOVED, "removed", last_error="drive removed")
        timer = threading.Timer(REMOVAL_GRACE_S, self._force_removed)
        timer.daemon = True
        timer.start()

    def _force_removed(self) -> None:
        if self.thread.is_alive():
            self.notes.append("worker was still blocked in I/O when the job was ended")
            self.finish(JobState.REMOVED, f"{self.drive.path} was removed during the wipe", None)

    def finish(self, state: JobState, reason: str, verification: VerifyResult | None) -> None:
        with self._finish_lock:  # the worker and the removal timer may both get here
            if not self.sink.is_recorded(self.job_id):
                self._finish(state, reason, verification)

    def _finish(self, state: JobState, reason: str, verification: VerifyResult | None) -> None:
        if self.removed.is_set() and state != JobState.PASSED:
            state = JobState.REMOVED
        self.tracker.state(JobState.REPORTING, "report")
        result = self.build_result(state, reason, verification)
        result = self.write_report(result)
        if not self.sink.record(result):
            return
        if state != JobState.REMOVED:
            self.journal.remove(self.drive.identity)  # removed drives may come back
        self.tracker.state(state, "done", last_error="" if state == JobState.PASSED else reason)
        self.sink.mark_done(self.job_id)

    def build_result(
        self, state: JobState, reason: str, verification: VerifyResult | None
    ) -> JobResult:
        plan, facts = self.active_plan, self.plan.facts
        bad = (*(r for s in self.steps for r in s.bad_ranges), *self.unreadable)
        return JobResult(
            job_id=self.job_id,
            drive=self.drive,
            method=self.method,
            level=proven_level(plan.level, state, verification),
            standard=plan.standard,
            state=state,
            reason=reason,
            started_at=self.started_at,
            ended_at=now_iso(),
            steps=tuple(self.steps),
            verification=verification,
            fallbacks=tuple(self.fallbacks),
            bad_ranges=bad,
            resumed_from=self.resumed_from,
            fingerprint=self.entry.fingerprint,
            health=facts.health if facts else None,
            hpa_dco=records.hpa_dco_of(facts.hidden, self.steps) if facts else None,
            sector_format=records.sector_format_of(facts.sector_format, self.steps)
            if facts
            else None,
            medium=facts.medium if facts else "",
            security=facts.security if facts else None,
            notes=tuple(self.notes),
            decision=self.plan.reasons,
            executed=plan.method if self.steps else "",  # nothing ran: claim no method
        )

    def write_report(self, result: JobResult) -> JobResult:
        writer = self.services.report_writer
        if writer is None:
            return result
        try:
            paths = writer.write(result)
        except Exception as e:  # noqa: BLE001 - a report failure must not lose the result
            log.exception("report for %s failed", self.job_id)
            return replace(result, notes=(*result.notes, f"report not written: {e}"))
        return replace(result, notes=(*result.notes, *(f"report: {p}" for p in paths)))


def proven_level(level: str, state: JobState, verification: VerifyResult | None) -> str:
    """The level of the plan that passed, and only when read-back verified it: a report must
    never claim more than was done and proven (``--verify none`` proves nothing)."""
    if state != JobState.PASSED or verification is None or verification.mode == "none":
        return "none"
    return level


class _ReadIO:
    """A read-only O_DIRECT BlockIO for fingerprint and verification, closed on exit."""

    def __init__(self, job: Job) -> None:
        self.job = job

    def __enter__(self) -> BlockIO:
        fd = os.open(self.job.drive.path, os.O_RDONLY | os.O_DIRECT | os.O_CLOEXEC)
        self.io = self.job.services.io_factory(fd, self.job.drive)
        return self.io

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.io.close()


#: Steps that send commands to the drive without opening it for writing themselves.
CLAIMED_KINDS = (StepKind.FIRMWARE, StepKind.PREPARE)


@contextmanager
def claimed_for_command(step: Step, ctx: JobContext) -> Iterator[None]:
    """Re-check protection and hold the drive with O_EXCL while a firmware command runs.

    Why: the start-time check is seconds old by then (probe, fingerprint), and nothing may mount
    or claim the drive while its firmware erases it. The tools themselves open it without O_EXCL,
    so they are not blocked by this claim.
    """
    if step.kind not in CLAIMED_KINDS:
        yield
        return
    fd = ctx.open_for_write(direct=False)
    ctx.claimed_fd = fd
    try:
        yield
    finally:
        ctx.claimed_fd = None
        os.close(fd)
