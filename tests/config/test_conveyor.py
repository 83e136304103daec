"""The headless conveyor: starts each wipeable drive once, skips protected ones, reports results."""

from __future__ import annotations

import io
import time
from dataclasses import replace

from wipestation.conveyor import Conveyor
from wipestation.discovery.inventory import NOT_IDENTIFIED, drive_from_properties
from wipestation.discovery.monitor import DriveEvent
from wipestation.errors import UnsupportedError
from wipestation.model import JobResult, JobState, Progress

from tests.discovery.test_identity import QEMU


class FakeEngine:
    """Finishes every job at once with a fixed verdict (the real engine is tested elsewhere)."""

    def __init__(self, refuse: set[str] = frozenset()) -> None:
        self.subscribers = []
        self.started: list[str] = []
        self.removed: list[str] = []
        self._results: dict[str, JobResult] = {}
        self._snap: dict[str, Progress] = {}
        self.refuse = refuse

    def subscribe(self, fn) -> None:
        self.subscribers.append(fn)

    def start(self, drive, method, verify="sample", *, resume=False) -> str:
        if drive.identity in self.refuse:
            raise UnsupportedError(f"{method} is not supported by {drive.model}")
        job = f"job{len(self.started)}"
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


def test_each_identity_is_wiped_once_and_results_are_printed() -> None:
    out = io.StringIO()
    engine = FakeEngine()
    conv = Conveyor(engine, "overwrite-zero", "full", out)
    sata = drive_from_properties(QEMU["sata"])
    assert conv.offer(sata) == "job0"
    assert conv.offer(sata) is None  # seen already this session
    conv.on_drive_event(DriveEvent("added", "vda", drive_from_properties(QEMU["virtio"])))
    assert engine.started == ["SATA0001", "VBLK0001"]
    text = out.getvalue()
    assert "START SATA0001 /dev/sda overwrite-zero job=job0" in text
    assert "RESULT SATA0001 /dev/sda PASS passed overwrite-zero verified" in text
    assert conv.idle()
    assert conv.summary() == (2, 0)


def test_protected_and_unsupported_drives_are_skipped_with_a_reason() -> None:
    out = io.StringIO()
    engine = FakeEngine(refuse={"NVME0001"})
    conv = Conveyor(engine, "nvme-sanitize-crypto", "sample", out)
    boot = replace(
        drive_from_properties(QEMU["usb"]),
        protected=True,
        protected_reasons=("Wipestation boot stick (label WIPESTATION)",),
    )
    assert conv.offer(boot) is None
    assert conv.offer(drive_from_properties(QEMU["nvme"])) is None
    assert engine.started == []
    text = out.getvalue()
    assert "SKIP USB0001 /dev/sdd protected: Wipestation boot stick" in text
    assert "SKIP NVME0001 /dev/nvme0n1 cannot start: nvme-sanitize-crypto is not supported" in text


def test_removal_is_passed_to_the_engine() -> None:
    engine = FakeEngine()
    conv = Conveyor(engine, "overwrite-zero", "sample", io.StringIO())
    conv.on_drive_event(DriveEvent("removed", "sdb", drive_from_properties(QEMU["scsi_megasas"])))
    assert engine.removed == ["sdb"]


def test_a_drive_udev_identifies_after_start_up_is_wiped_when_it_changes() -> None:
    """At boot udev may still be reading a drive: it is protected until the change event."""
    out = io.StringIO()
    engine = FakeEngine()
    conv = Conveyor(engine, "overwrite-zero", "full", out)
    sata = drive_from_properties(QEMU["sata"])
    early = replace(sata, protected=True, protected_reasons=(NOT_IDENTIFIED,))
    assert conv.offer(early) is None
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
    conv = Conveyor(FakeEngine(), "overwrite-zero", "full", io.StringIO(), lambda: reading[0])
    assert not conv.idle()
    reading[0] = False
    assert conv.idle()


def test_not_idle_while_a_drive_waits_for_its_journal() -> None:
    """The journal's first use can wait seconds for a report stick: the drive is on its way to
    a job meanwhile, and the rack is not done."""
    import threading

    release = threading.Event()

    class SlowJournal:
        def load(self, identity: str) -> None:
            release.wait(10)

    engine = FakeEngine()
    engine.journal = SlowJournal()  # type: ignore[attr-defined]
    conv = Conveyor(engine, "overwrite-zero", "full", io.StringIO())
    offer = threading.Thread(target=conv.offer, args=(drive_from_properties(QEMU["sata"]),))
    offer.start()
    try:
        deadline = time.monotonic() + 5
        while not conv._offering and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not conv.idle()
    finally:
        release.set()
        offer.join(5)
    assert engine.started == [drive_from_properties(QEMU["sata"]).identity]
    assert conv.idle()
