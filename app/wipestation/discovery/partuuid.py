"""The boot stick's partition by its MBR PARTUUID, found without udev.

Why: the kernel lists a partition in sysfs and makes its node in devtmpfs as soon as it has read
the partition table, while udev's ``/dev/disk/by-partuuid`` links come only once udev has started
and worked through its coldplug. Under QEMU the stick's partition was there 4 s before its link,
and the station's screen waits for the stick's settings (issue 18). An MBR PARTUUID is the disk
signature (4 bytes at offset 440 of sector 0) and the partition number: ``1a2b3c4d-01``.

Reads sector 0 of the disks that have a partition of that number, each once per disk sequence
number; never writes. A read may hang on a failing drive, so the search runs in a thread of its
own (``PartitionScan``), beside udev's links, never in the way of the boot.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

MBR_PARTUUID = re.compile(r"([0-9a-f]{8})-([0-9a-f]{2})")
SECTOR = 512
#: How often a search that has not found the partition looks again.
SCAN_EVERY_S = 0.1


def mbr_signature(sector: bytes) -> str | None:
    """The disk signature of an MBR sector as PARTUUIDs spell it; None without a boot mark."""
    if len(sector) < SECTOR or sector[510:512] != b"\x55\xaa":
        return None
    return f"{int.from_bytes(sector[440:444], 'little'):08x}"


def read_sector0(node: Path) -> bytes:
    with open(node, "rb", buffering=0) as f:
        return f.read(SECTOR)


class PartitionFinder:
    """``find()``: the partition's device node now, or None; remembers each disk's signature."""

    def __init__(
        self,
        partuuid: str,
        sys_block: Path = Path("/sys/class/block"),
        dev: Path = Path("/dev"),
        read: Callable[[Path], bytes] = read_sector0,
    ) -> None:
        self.match = MBR_PARTUUID.fullmatch(partuuid.lower())
        self.sys_block, self.dev, self.read = sys_block, dev, read
        self._signatures: dict[tuple[str, str], str | None] = {}

    def find(self) -> Path | None:
        if self.match is None:  # a GPT partition's UUID: udev's link alone finds it
            return None
        signature, number = self.match[1], int(self.match[2], 16)
        for part in sorted(self.sys_block.glob("*/partition")):
            node = self._node_if(part.parent, number, signature)
            if node is not None:
                return node
        return None

    def _node_if(self, part: Path, number: int, signature: str) -> Path | None:
        """``part``'s device node if it is partition ``number`` of a disk with ``signature``."""
        try:
            if int((part / "partition").read_text()) != number:
                return None
            disk = part.resolve().parent.name
            if self._signature(disk) != signature:
                return None
        except (OSError, ValueError):  # gone meanwhile, or unreadable: not this one
            return None
        node = self.dev / part.name
        return node if node.exists() else None

    def _signature(self, disk: str) -> str | None:
        """Read once per disk and medium (a failing read is not retried until a new medium)."""
        key = (disk, self._diskseq(disk))
        if key not in self._signatures:
            try:
                self._signatures[key] = mbr_signature(self.read(self.dev / disk))
            except OSError:
                self._signatures[key] = None
        return self._signatures[key]

    def _diskseq(self, disk: str) -> str:
        """The kernel's number for this medium in this slot (Linux 5.15+; else one key)."""
        try:
            return (self.sys_block / disk / "diskseq").read_text().strip()
        except OSError:
            return ""


class PartitionScan:
    """``PartitionFinder`` in a daemon thread until it finds the partition or is stopped."""

    def __init__(self, finder: PartitionFinder) -> None:
        self.finder = finder
        self.found: Path | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stick-scan", daemon=True)

    def start(self) -> PartitionScan:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            found = self.finder.find()
            if found is not None:
                self.found = found
                return
            self._stop.wait(SCAN_EVERY_S)
