"""Unattended mode (the ``Autopilot``) through its headless face, the conveyor: starts each
wipeable drive once, resumes what the journal holds, skips protected ones, reports results."""

from __future__ import annotations

import io
import time
from dataclasses import replace

from wipestation.assembly import wire_removals
from wipestation.config import StationConfig
from wipestation.conveyor import Conveyor
from wipestation.discovery.inventory import NOT_IDENTIFIED, drive_from_properties
from wipestation.discovery.monitor import DriveEvent
from wipestation.engine.resume import Interrupted
from wipestation.errors import UnsupportedError
from wipestation.model import JobResult, JobState, Progress
from wipestation.services import Services
from wipestation.unattended import ATTEMPTS, RETRY_S, Refused

from tests.discovery.test_identity import QEMU
from tests.tui.fakes import FakePlanner, FakeWatcher


class FakeEngine:
    """Finishes every job at once with a fixed verdict (the real engine is tested elsewhere)."""

    def __init__(self, refuse: set[str] = frozenset()) -> None:
        self.subscribers = []
        self.started: list[str] = []
        self.removed: list[str] = []
        self._results: dict[str, JobResult] = {}
        self._snap: dict[str, Progress] = {}
        self.refuse = refuse
        self.resumed: list[bool] = []
        self.interrupted_wipes: dict[str, Interrupted] = {}

    def subscribe(self, fn) -> None:
        self.subscribers.append(fn)

    def start(self, drive, plan, *, resume=False) -> str:
        method = plan.asked_for
        if drive.identity in self.refuse:
            raise UnsupportedError(f"{method} is not supported by {drive.model}")
        job = f"job{len(self.started)}"
        self.resumed.append(resume)
        self.started.append(drive.identity)
        p = Progress(job, drive.path, drive.identity, JobState.PASSED, method=method)
        self._snap[job] = p
        self._results[job] = JobResult(
            job, drive, method, "clear", "test", JobState.PASSED, "verified", "t0", "t1"
        )
        for fn in self.subscribers:
            fn(p)
        return job

    def results(self):
        return dict(self._results)

    def snapshot(self):
        return dict(self._snap)

    def drive_removed(self, name: str) -> None:
        self.removed.append(name)

    def interrupted(self, drive):
        return self.interrupted_wipes.get(drive.identity)

    def check_target(self, drive) -> None:
        return None


def qemu(kind: str):
    """A drive as udev describes it in QEMU, with a capacity (the captured properties have none)."""
    return replace(drive_from_properties(QEMU[kind]), size_bytes=16 << 20)


def conveyor(engine: FakeEngine, method: str, verify: str, out, udev_busy=None) -> Conveyor:
    cfg = StationConfig(station="t", unattended=True, method=method, verify=verify)
    services = Services(cfg, None, FakePlanner(), engine, udev_busy=udev_busy or (lambda: False))
    return Conveyor(services, out)  # type: ignore[arg-type]


def test_each_identity_is_wiped_once_and_results_are_printed() -> None:
    out = io.StringIO()
    engine = FakeEngine()
    conv = conveyor(engine, "overwrite-zero", "full", out)
    sata = qemu("sata")
    started = conv.autopilot.offer(sata)
    assert started is not None
    assert started.job_id == "job0"
    assert conv.autopilot.offer(sata) is None  # seen already this session
    conv.on_drive_event(DriveEvent("added", "vda", qemu("virtio")))
    assert engine.started == ["SATA0001", "VBLK0001"]
    text = out.getvalue()
    assert "START SATA0001 /dev/sda overwrite-zero job=job0" in text
    assert "RESULT SATA0001 /dev/sda PASS passed overwrite-zero verified" in text
    assert conv.idle()
    assert conv.autopilot.summary() == (2, 0)
    assert engine.resumed == [False, False]  # nothing in the journal: a fresh start


def test_protected_and_unsupported_drives_are_skipped_with_a_reason() -> None:
    out = io.StringIO()
    engine = FakeEngine(refuse={"NVME0001"})
    conv = conveyor(engine, "nvme-sanitize-crypto", "sample", out)
    boot = replace(
        qemu("usb"),
        protected=True,
        protected_reasons=("Wipestation boot stick (label WIPESTATION)",),
    )
    assert conv.autopilot.offer(boot) is None
    assert conv.autopilot.offer(qemu("nvme")) == Refused(
        "cannot start: nvme-sanitize-crypto is not supported by QEMU NVMe Ctrl"
    )
    assert conv.autopilot.due() == []  # a decision is not tried again
    assert engine.started == []
    text = out.getvalue()
    assert "SKIP USB0001 /dev/sdd protected: Wipestation boot stick" in text
    assert "SKIP NVME0001 /dev/nvme0n1 cannot start: nvme-sanitize-crypto is not supported" in text


class FaultyEngine(FakeEngine):
    """Its first ``faults`` starts fail as a race once did ("dictionary changed size")."""

    def __init__(self, faults: int) -> None:
        super().__init__()
        self.faults = faults

    def start(self, drive, plan, *, resume=False) -> str:
        if self.faults:
            self.faults -= 1
            raise RuntimeError("dictionary changed size during iteration")
        return super().start(drive, plan, resume=resume)


def faulty_conveyor(faults: int) -> tuple[Conveyor, FaultyEngine, io.StringIO, list[float]]:
    now, out = [100.0], io.StringIO()
    engine = FaultyEngine(faults)
    conv = conveyor(engine, "overwrite-zero", "full", out)
    conv.autopilot.clock = lambda: now[0]
    return conv, engine, out, now


def test_a_start_that_fails_by_a_fault_is_tried_again_and_holds_the_power_off() -> None:
    conv, engine, out, now = faulty_conveyor(faults=1)
    sata = qemu("sata")
    first = conv.autopilot.offer(sata)
    assert isinstance(first, Refused)
    assert first.again
    assert "RuntimeError: dictionary changed size" in first.reason
    assert "RETRY SATA0001 /dev/sda in 10 s (attempt 1 of 3): RuntimeError" in out.getvalue()
    assert not conv.idle()  # not done (no power-off) while a try is still due
    assert conv.autopilot.due() == []  # not yet
    now[0] += RETRY_S
    assert conv.autopilot.due() == [sata]
    assert not conv.idle()  # due, but not yet taken by an offer
    started = conv.autopilot.offer(sata)
    assert not isinstance(started, Refused)
    assert started is not None
    assert engine.started == ["SATA0001"]
    assert conv.idle()
    assert conv.autopilot.offer(sata) is None  # started once: never again this session


def test_a_drive_that_faults_at_every_attempt_is_refused_in_the_end() -> None:
    conv, engine, out, now = faulty_conveyor(faults=ATTEMPTS)
    sata = qemu("sata")
    for _ in range(ATTEMPTS - 1):
        assert conv.autopilot.offer(sata).again  # type: ignore[union-attr]
        now[0] += RETRY_S
        assert conv.autopilot.due() == [sata]
    last = conv.autopilot.offer(sata)
    assert last == Refused(
        f"cannot start after {ATTEMPTS} attempts: "
        "RuntimeError: dictionary changed size during iteration"
    )
    assert f"SKIP SATA0001 /dev/sda cannot start after {ATTEMPTS} attempts" in out.getvalue()
    now[0] += RETRY_S
    assert conv.autopilot.due() == []
    assert engine.started == []
    assert conv.idle()  # refused: the station may end (the SKIP line says why)


def test_the_conveyor_tries_a_faulted_start_again_while_it_waits() -> None:
    conv, engine, _, now = faulty_conveyor(faults=1)
    conv._recount = False  # no inventory here: no RAID controllers to count
    conv.offer(qemu("sata"))
    assert engine.started == []
    now[0] += RETRY_S
    conv.wait_idle(settle_s=0, poll_s=0)
    assert engine.started == ["SATA0001"]


def test_removal_reaches_the_engine_and_the_log() -> None:
    engine, watcher, out = FakeEngine(), FakeWatcher(), io.StringIO()
    wire_removals(watcher, engine)  # type: ignore[arg-type]  # as assembly wires every station
    conv = conveyor(engine, "overwrite-zero", "sample", out)
    watcher.subscribe(conv.on_drive_event)
    gone = qemu("scsi_megasas")
    watcher.emit("removed", gone)
    assert engine.removed == [gone.name]
    assert f"REMOVED MEGA0001 /dev/{gone.name}" in out.getvalue()


def test_an_interrupted_wipe_resumes_with_its_own_method() -> None:
    out, engine = io.StringIO(), FakeEngine()
    sata = qemu("sata")
    engine.interrupted_wipes[sata.identity] = Interrupted("overwrite-random", "full", 4096, 0)
    conv = conveyor(engine, "overwrite-zero", "sample", out)
    conv.autopilot.offer(sata)
    assert engine.resumed == [True]
    assert "START SATA0001 /dev/sda overwrite-random job=job0 resume" in out.getvalue()


def test_a_drive_udev_identifies_after_start_up_is_wiped_when_it_changes() -> None:
    """At boot udev may still be reading a drive: it is protected until the change event."""
    out = io.StringIO()
    engine = FakeEngine()
    conv = conveyor(engine, "overwrite-zero", "full", out)
    sata = qemu("sata")
    early = replace(sata, protected=True, protected_reasons=(NOT_IDENTIFIED,))
    assert conv.autopilot.offer(early) is None
    conv.on_drive_event(DriveEvent("changed", "sda", early))  # still protected: nothing
    assert engine.started == []
    conv.on_drive_event(DriveEvent("changed", "sda", sata))
    conv.on_drive_event(DriveEvent("changed", "sda", sata))  # once per session
    assert engine.started == ["SATA0001"]
    assert f"SKIP SATA0001 /dev/sda protected: {NOT_IDENTIFIED}" in out.getvalue()


def test_not_idle_while_udev_is_still_reading_devices() -> None:
    """At boot the station starts before udev: with no drive found *yet* it must not call the
    rack done (and power off)."""
    reading = [True]
    conv = conveyor(FakeEngine(), "overwrite-zero", "full", io.StringIO(), lambda: reading[0])
    assert not conv.idle()
    reading[0] = False
    assert conv.idle()


def test_not_idle_while_a_drive_waits_for_its_journal() -> None:
    """The journal's first use can wait seconds for a report stick: the drive is on its way to
    a job meanwhile, and the rack is not done."""
    import threading

    release = threading.Event()

    class SlowJournal(FakeEngine):
        def interrupted(self, drive) -> None:
            release.wait(10)

    engine = SlowJournal()
    conv = conveyor(engine, "overwrite-zero", "full", io.StringIO())
    sata = qemu("sata")
    offer = threading.Thread(target=conv.autopilot.offer, args=(sata,))
    offer.start()
    try:
        deadline = time.monotonic() + 5
        while not conv.autopilot._offering and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not conv.idle()
    finally:
        release.set()
        offer.join(5)
    assert engine.started == [qemu("sata").identity]
    assert conv.idle()


def test_running_jobs_report_progress_at_least_every_30_s() -> None:
    """A 20-minute verification must not look like a hang on the headless console."""
    out, engine, now = io.StringIO(), FakeEngine(), [0.0]
    cfg = StationConfig(station="t", unattended=True)
    services = Services(cfg, None, FakePlanner(), engine)  # type: ignore[arg-type]
    conv = Conveyor(services, out, clock=lambda: now[0])
    sata = qemu("sata")
    engine._snap["job9"] = Progress(
        "job9", sata.path, sata.identity, JobState.VERIFYING, "nist-clear", "verify", 2, 2,
        600 << 20, 1000 << 20, 150e6, 2.8,
    )  # fmt: skip
    conv.report_running()
    assert "PROGRESS" not in out.getvalue()  # not yet 30 s
    now[0] = 30.0
    conv.report_running()
    line = out.getvalue().strip().splitlines()[-1]
    assert line.startswith("PROGRESS SATA0001 /dev/sda verifying phase=verify pass=2/2 done=60.0%")
    assert line.endswith("eta=3s")
    now[0] = 45.0
    conv.report_running()
    assert out.getvalue().count("PROGRESS") == 1  # at most every 30 s
