"""Write errors and surprise removal through the engine's I/O seam (the VM tests prove them for
real with QEMU blkdebug and device_del; the host kernel here has no device-mapper to fake them).
The seam wraps the real descriptor, so every other byte really goes to a loop device."""

from __future__ import annotations

import errno
import threading

import pytest
from wipestation.model import JobState
from wipestation.steps.blockio import FdBlockIO, is_gone

from tests.engine.conftest import MiB, drive_of, read_all

SIZE = 8 * MiB
ORIGINAL = b"old bytes "


class FaultyIO(FdBlockIO):
    """Writes touching ``bad`` (byte offset, length) fail with ``err``, like a medium error."""

    def __init__(self, fd, drive, bad: tuple[int, int], err: int) -> None:
        super().__init__(fd, drive)
        self.bad, self.err = bad, err

    def write_at(self, buf, offset):
        lo, n = self.bad
        if offset < lo + n and lo < offset + len(buf):
            raise OSError(self.err, errno.errorcode[self.err])
        return super().write_at(buf, offset)


class GatedIO(FdBlockIO):
    """Blocks the first write at or past ``at`` until ``gate`` opens (a hung device)."""

    def __init__(self, fd, drive, at: int, gate: threading.Event, reached: threading.Event):
        super().__init__(fd, drive)
        self.at, self.gate, self.reached = at, gate, reached

    def write_at(self, buf, offset):
        if offset >= self.at:
            self.reached.set()
            self.gate.wait()
        return super().write_at(buf, offset)


@pytest.mark.parametrize("err", [errno.EIO, errno.ENODATA])
def test_write_error_records_bad_range_and_fails(make_loop, make_engine, err):
    dev = make_loop(SIZE, ORIGINAL)
    bad = (3 * MiB + 1024, 1024)  # two 512-byte LBAs inside the fourth buffer
    engine = make_engine(buffer_size=MiB, io_factory=lambda fd, d: FaultyIO(fd, d, bad, err))
    job = engine.start(drive_of(dev), "overwrite-zero", "full")
    assert engine.wait(timeout=120)
    result = engine.results()[job]
    assert result.state == JobState.FAILED
    assert result.bad_ranges == (bad,)
    assert "unwritable" in result.reason
    data = read_all(dev)
    assert data[: bad[0]] == bytes(bad[0])  # everything around the bad LBAs was still written
    assert data[bad[0] + bad[1] :] == bytes(SIZE - bad[0] - bad[1])
    assert data[bad[0] : bad[0] + bad[1]] != bytes(bad[1])


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.ENXIO])
def test_gone_errno_makes_the_job_removed(make_loop, make_engine, err):
    dev = make_loop(SIZE, ORIGINAL)
    engine = make_engine(buffer_size=MiB, io_factory=lambda fd, d: FaultyIO(fd, d, (0, SIZE), err))
    job = engine.start(drive_of(dev), "overwrite-zero", "full")
    assert engine.wait(timeout=120)
    result = engine.results()[job]
    assert result.state == JobState.REMOVED
    assert not result.passed
    assert engine.journal.load(result.drive.identity) is not None  # kept: the drive may return


def test_eio_counts_as_removal_only_when_the_device_is_gone(make_loop):
    drive = drive_of(make_loop(SIZE))
    eio = OSError(errno.EIO, "Input/output error")
    assert is_gone(eio, drive, present=lambda d: False)
    assert not is_gone(eio, drive, present=lambda d: True)
    assert is_gone(OSError(errno.ENOSPC, "No space"), drive, present=lambda d: True)


@pytest.mark.slow
def test_removal_event_ends_a_hung_job_while_another_passes(make_loop, make_engine):
    hung, healthy = make_loop(SIZE, ORIGINAL), make_loop(SIZE, ORIGINAL)
    gate, reached = threading.Event(), threading.Event()
    hung_drive = drive_of(hung)

    def factory(fd, d):
        if d.name == hung_drive.name:
            return GatedIO(fd, d, 2 * MiB, gate, reached)
        return FdBlockIO(fd, d)

    gone = threading.Event()  # the loop device stays; the engine is told it went
    engine = make_engine(
        buffer_size=MiB,
        io_factory=factory,
        present=lambda d: not (gone.is_set() and d == hung_drive),
    )
    seen = []
    engine.subscribe(seen.append)
    a = engine.start(hung_drive, "overwrite-random", "full")
    b = engine.start(drive_of(healthy), "overwrite-zero", "full")
    assert reached.wait(timeout=60)
    engine.drive_removed(hung_drive.name)  # a udev hiccup: the device is still there
    assert engine.snapshot()[a].state == JobState.ERASING
    gone.set()
    engine.drive_removed(hung_drive.name)
    assert engine.snapshot()[a].state == JobState.REMOVED  # at once, not when the I/O returns
    try:
        assert engine.wait(timeout=60)  # the hung worker is still blocked: the grace timer ends it
        results = engine.results()
        assert results[a].state == JobState.REMOVED
        assert results[b].state == JobState.PASSED
        assert read_all(healthy) == bytes(SIZE)
        assert any(p.job_id == a and p.state == JobState.REMOVED for p in seen)
    finally:
        gate.set()


def test_cancel_one_job_the_other_passes(make_loop, make_engine):
    slow, fast = make_loop(SIZE, ORIGINAL), make_loop(SIZE, ORIGINAL)
    gate, reached = threading.Event(), threading.Event()
    slow_drive = drive_of(slow)

    def factory(fd, d):
        if d.name == slow_drive.name:
            return GatedIO(fd, d, 2 * MiB, gate, reached)
        return FdBlockIO(fd, d)

    engine = make_engine(buffer_size=MiB, io_factory=factory)
    a = engine.start(slow_drive, "overwrite-zero", "full")
    b = engine.start(drive_of(fast), "overwrite-zero", "full")
    assert reached.wait(timeout=60)
    engine.cancel(a)
    gate.set()
    assert engine.wait(timeout=60)
    results = engine.results()
    assert results[a].state == JobState.CANCELLED
    assert not results[a].passed
    assert results[b].state == JobState.PASSED
    chunk = (ORIGINAL * (MiB // len(ORIGINAL) + 1))[:MiB]  # how make_loop fills a device
    assert read_all(slow)[3 * MiB :] == chunk * 5  # it stopped: the tail still holds the old data


def test_cancel_all_stops_running_and_queued_jobs(make_loop, make_engine):
    running, queued = make_loop(SIZE, ORIGINAL), make_loop(SIZE, ORIGINAL)
    before = read_all(queued)
    gate, reached = threading.Event(), threading.Event()
    engine = make_engine(
        buffer_size=MiB,
        max_workers=1,
        io_factory=lambda fd, d: GatedIO(fd, d, MiB, gate, reached),
    )
    a = engine.start(drive_of(running), "overwrite-zero", "full")
    b = engine.start(drive_of(queued), "overwrite-zero", "full")
    assert reached.wait(timeout=60)
    assert engine.snapshot()[b].state == JobState.QUEUED  # one worker slot: b waits
    engine.cancel_all()
    gate.set()
    assert engine.wait(timeout=60)
    results = engine.results()
    assert {results[a].state, results[b].state} == {JobState.CANCELLED}
    assert read_all(queued) == before
    # the report names only a method that ran: the queued job ran none
    assert (results[a].executed, results[b].executed, results[b].steps) == (
        "overwrite-zero",
        "",
        (),
    )
