"""Hotplug proven with a real loop device attached and detached while a watcher runs."""

from __future__ import annotations

import queue
from pathlib import Path

from wipestation.discovery.inventory import Inventory
from wipestation.discovery.monitor import DriveEvent, DriveWatcher, classify

from tests.helpers import loops

MiB = 1024 * 1024


def next_event(q: queue.Queue, name: str, action: str, timeout: float = 10) -> DriveEvent:
    """The first event for ``name`` with ``action`` (others, e.g. for other tests' loops, skip)."""
    while True:
        ev = q.get(timeout=timeout)
        if ev.name == name and ev.action == action:
            return ev


def test_attach_and_detach_are_seen(udev: None, tmp_path: Path) -> None:
    events: queue.Queue[DriveEvent] = queue.Queue()
    watcher = DriveWatcher(Inventory())
    watcher.subscribe(events.put)
    watcher.start()
    try:
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
    finally:
        watcher.stop()


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
