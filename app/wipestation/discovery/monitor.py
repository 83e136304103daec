"""Hotplug: a thread on a pyudev monitor turns kernel block events into drive added/removed events.

Loop devices exist before anything is attached, so "attached" arrives as a ``change`` with a size;
real disks arrive as ``add``. Both become ``added``; a vanished or emptied disk becomes ``removed``.
The engine subscribes to ``removed`` to end a job whose drive was pulled.

Partition events re-read their disk: udev finishes a disk before its partitions, so a disk read
at its own event may still be "not identified yet" (a partition could carry the boot stick's
UUID or label); the last partition's event is what makes it known, and wipeable.
"""

from __future__ import annotations

import logging
import os
import select
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pyudev

from wipestation.discovery.inventory import Inventory
from wipestation.model import Drive

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DriveEvent:
    action: str  # "added" | "removed" | "changed"
    name: str
    drive: Drive | None


Subscriber = Callable[[DriveEvent], None]


class DriveWatcher:
    """Keeps a name → Drive map current and tells subscribers what changed."""

    def __init__(self, inventory: Inventory, monitor: pyudev.Monitor | None = None) -> None:
        self.inventory = inventory
        self._monitor = monitor
        self._known: dict[str, Drive] = {}
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: written by ``stop`` so the watcher's wait ends at once (a 0.5 s poll timeout cost
        #: every one-shot ``wipestation wipe`` a quarter second on average at exit)
        self._wake_r, self._wake_w = os.pipe()

    def subscribe(self, fn: Subscriber) -> None:
        self._subscribers.append(fn)

    def known(self) -> dict[str, Drive]:
        with self._lock:
            return dict(self._known)

    def start(self) -> None:
        if self._monitor is None:
            self._monitor = pyudev.Monitor.from_netlink(pyudev.Context(), source="udev")
            self._monitor.filter_by("block")  # disks and partitions (see the module docstring)
        self._monitor.start()
        with self._lock:
            self._known = {d.name: d for d in self.inventory.drives()}
        self._thread = threading.Thread(target=self._loop, name="drive-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        os.write(self._wake_w, b"x")
        if self._thread:
            self._thread.join(timeout=2)
        if not (self._thread and self._thread.is_alive()):
            os.close(self._wake_r)
            os.close(self._wake_w)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                dev = self._next_event()
            except Exception:  # noqa: BLE001 - a broken event must not kill hotplug
                log.exception("udev monitor poll failed")
                continue
            if dev is not None:
                self.on_device(dev.action or "change", dev.sys_name, dev.device_type, dev.sys_path)

    def _next_event(self) -> pyudev.Device | None:
        """The next kernel event, or None when ``stop`` woke the wait."""
        assert self._monitor is not None
        ready, _, _ = select.select([self._monitor, self._wake_r], [], [])
        return self._monitor.poll(timeout=0) if self._monitor in ready else None

    def on_device(self, action: str, name: str, devtype: str | None, sys_path: str) -> None:
        """A disk's event re-reads the disk; a partition's re-reads the disk it belongs to."""
        if devtype != "partition":
            self.handle(action, name)
            return
        disk = os.path.basename(os.path.dirname(sys_path))
        with self._lock:
            known = disk in self._known
        if known:
            self.handle("change", disk)

    def handle(self, action: str, name: str) -> None:
        """Re-read one device after a kernel event and publish what changed."""
        drive = None if action == "remove" else self._safe_get(name)
        with self._lock:
            before = self._known.get(name)
            if drive is None:
                self._known.pop(name, None)
            else:
                self._known[name] = drive
        for event in classify(before, drive, name):
            for fn in list(self._subscribers):
                try:
                    fn(event)
                except Exception:  # noqa: BLE001 - one bad subscriber must not stop the others
                    log.exception("drive event subscriber failed")

    def _safe_get(self, name: str) -> Drive | None:
        with self._lock:
            others = list(self._known.values())
        try:
            return self.inventory.get(name, others)
        except OSError:
            return None


def classify(before: Drive | None, after: Drive | None, name: str) -> list[DriveEvent]:
    if before is None and after is not None:
        return [DriveEvent("added", name, after)]
    if before is not None and after is None:
        return [DriveEvent("removed", name, before)]
    if before is not None and after is not None and before != after:
        if before.identity != after.identity:  # another drive now sits at that name
            return [DriveEvent("removed", name, before), DriveEvent("added", name, after)]
        return [DriveEvent("changed", name, after)]
    return []
