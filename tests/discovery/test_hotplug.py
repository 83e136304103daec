"""Hotplug proven with a real loop device attached and detached while a watcher runs."""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from wipestation.discovery.inventory import Inventory
from wipestation.discovery.monitor import DriveEvent, DriveWatcher, classify

from tests.helpers import loops

MiB = 1024 * 1024


def next_event(q: queue.Queue, name: str, action: str, timeout: float = 60) -> DriveEvent:
    """The first event for ``name`` with ``action`` (others, e.g. for other tests' loops, skip)."""
    while True:
        ev = q.get(timeout=timeout)
        if ev.name == name and ev.action == action:
            return ev


@contextlib.contextmanager
def watching() -> Iterator[tuple[DriveWatcher, queue.Queue[DriveEvent]]]:
    """A real watcher on udev, and the queue its events go to."""
    events: queue.Queue[DriveEvent] = queue.Queue()
    watcher = DriveWatcher(Inventory())
    watcher.subscribe(events.put)
    watcher.start()
    try:
        yield watcher, events
    finally:
        watcher.stop()


def test_attach_and_detach_are_seen(udev: None, tmp_path: Path) -> None:
    with watching() as (watcher, events):
        backing = tmp_path / "hot.img"
        backing.write_bytes(b"")
        backing.chmod(0o600)
        with open(backing, "r+b") as f:
            f.truncate(8 * MiB)
        dev = loops.attach(backing)
        name = dev.rsplit("/", 1)[-1]
        try:
            added = next_event(events, name, "added")
            assert added.drive is not None
            assert added.drive.size_bytes == 8 * MiB
            assert name in watcher.known()
        finally:
            loops.detach(dev)
        removed = next_event(events, name, "removed")
        assert removed.drive is not None
        assert removed.drive.path == dev
        assert name not in watcher.known()


def test_classify_reports_a_swapped_drive_as_removed_then_added() -> None:
    from dataclasses import replace

    from wipestation.discovery.inventory import drive_from_properties

    from tests.discovery.test_identity import QEMU

    a = drive_from_properties(QEMU["sata"])
    b = replace(a, identity="OTHER", serial="OTHER")
    assert [e.action for e in classify(a, b, "sda")] == ["removed", "added"]
    assert [e.action for e in classify(None, a, "sda")] == ["added"]
    assert [e.action for e in classify(a, None, "sda")] == ["removed"]
    assert classify(a, a, "sda") == []


class _Reads:
    """An inventory stand-in: hands out the drives it is given, in order, and counts reads."""

    def __init__(self, *drives: object) -> None:
        self.queue = list(drives)
        self.reads: list[str] = []

    def drives(self) -> list:
        return [self.queue.pop(0)]

    def get(self, name: str, others: object = None) -> object:
        self.reads.append(name)
        return self.queue.pop(0)


def test_a_partition_event_re_reads_its_disk_so_it_becomes_identified() -> None:
    from dataclasses import replace

    from wipestation.discovery.inventory import NOT_IDENTIFIED, drive_from_properties

    from tests.discovery.test_identity import QEMU

    ready = drive_from_properties(QEMU["sata"])
    early = replace(ready, protected=True, protected_reasons=(NOT_IDENTIFIED,))
    inventory = _Reads(early, ready)
    watcher = DriveWatcher(inventory, monitor=_NoMonitor())  # type: ignore[arg-type]
    watcher.start()
    events: list[DriveEvent] = []
    watcher.subscribe(events.append)
    watcher.stop()

    sys_disk = "/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda"
    watcher.on_device("add", "sdb1", "partition", "/sys/devices/virtual/block/sdb/sdb1")
    assert inventory.reads == []  # a partition of a disk nobody listed: its disk's event comes
    watcher.on_device("add", "sda1", "partition", f"{sys_disk}/sda1")
    assert inventory.reads == ["sda"]
    assert [(e.action, e.name) for e in events] == [("changed", "sda")]
    assert watcher.known()["sda"].protected is False


class _NoMonitor:
    """A monitor that never has an event (its fd is a pipe nobody writes)."""

    def __init__(self) -> None:
        self._r, self._w = os.pipe()

    def fileno(self) -> int:
        return self._r

    def start(self) -> None:
        pass

    def poll(self, timeout: float) -> None:
        return None


def test_a_partitioned_disk_attached_while_watching_ends_up_identified(
    udev: None, tmp_path: Path
) -> None:
    from wipestation.discovery.inventory import NOT_IDENTIFIED

    with watching() as (watcher, events):
        backing = tmp_path / "parted.img"
        with open(backing, "wb") as f:
            f.truncate(16 * MiB)
        table = "label: gpt\nstart=2048, size=8192\nstart=10240, size=8192\n"
        subprocess.run(["sfdisk", "-q", str(backing)], input=table, text=True, check=True)
        dev = loops.attach(backing, partscan=True)
        name = dev.rsplit("/", 1)[-1]
        try:
            # This host's loop driver flags partscan yet may not scan: add them explicitly.
            subprocess.run(["partx", "-a", dev], capture_output=True, check=False)
            next_event(events, name, "added")
            loops.settle()
            deadline = time.monotonic() + 10
            while NOT_IDENTIFIED in watcher.known()[name].protected_reasons:
                assert time.monotonic() < deadline, "the disk stayed 'not identified yet'"
                time.sleep(0.1)
            assert Path(f"/sys/block/{name}/{name}p2").exists()
        finally:
            loops.detach(dev)
