"""Where reports go: a report stick, the boot stick's FAT partition, or a directory.

A report stick is any FAT/exFAT partition labelled ``WIPEREPORTS``; failing that, the boot stick's
own FAT partition (label ``WIPESTATION``). The station mounts it only for the moment it writes and
unmounts it again, so the operator may pull it whenever no write is in progress. Every refusal
becomes a ``TargetUnavailableError`` with a state (absent / full / read-only / error) and one line
for the operator; the writer keeps the records until a target accepts them. Nothing here ever
writes to a device: only mount, files, sync and umount. (Protection of these sticks from wiping
lives in discovery/safety.py.)
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from wipestation import paths
from wipestation.discovery.safety import BOOT_LABEL, REPORT_LABEL
from wipestation.errors import ReportError, ToolError
from wipestation.reports.atomic import syncfs
from wipestation.tools import mount, runner

#: Mounting, keeping and unmounting sticks, one at a time in the process: the journal's session
#: mount (``keep_mounted``) must never adopt a writer's moment-long mount about to be unmounted.
_MOUNTING = threading.RLock()
#: Space a delivery needs at least (one record + certificate + summary, with room to spare).
MIN_FREE_BYTES = 2 * 1024 * 1024
FAT_TYPES = ("vfat", "exfat", "msdos")


class TargetState(StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    FULL = "full"
    READ_ONLY = "read-only"
    ERROR = "error"


class TargetUnavailableError(ReportError):
    """No writable report target right now; ``state`` says why, the message says what to do."""

    def __init__(self, state: TargetState, message: str) -> None:
        self.state = state
        super().__init__(message)


def state_of_oserror(e: OSError) -> TargetState:
    if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return TargetState.FULL
    if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return TargetState.READ_ONLY
    return TargetState.ERROR


def check_writable(root: Path, what: str) -> None:
    """Raise unless ``root`` takes new files and has room for a delivery."""
    try:
        st = os.statvfs(root)
    except OSError as e:
        raise TargetUnavailableError(state_of_oserror(e), f"{what}: {e.strerror}") from e
    if st.f_flag & os.ST_RDONLY or not os.access(root, os.W_OK):
        raise TargetUnavailableError(
            TargetState.READ_ONLY, f"{what} is read-only: replace it or remove its write protection"
        )
    if st.f_bavail * st.f_frsize < MIN_FREE_BYTES:
        raise TargetUnavailableError(
            TargetState.FULL, f"{what} is full: free some space or plug in another report stick"
        )


class ReportTarget(Protocol):
    description: str

    def open(self) -> contextlib.AbstractContextManager[Path]:
        """The target's root directory, writable, for the duration of the block."""
        ...


@dataclass
class DirectoryTarget:
    """A directory given on the command line (``--report-dir``)."""

    path: Path

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self.description = f"directory {self.path}"

    @contextlib.contextmanager
    def open(self) -> Iterator[Path]:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise TargetUnavailableError(
                state_of_oserror(e), f"{self.description}: {e.strerror}"
            ) from e
        check_writable(self.path, self.description)
        yield self.path


@dataclass(frozen=True)
class Partition:
    device: str
    label: str
    fstype: str


def parse_blkid_export(text: str) -> list[Partition]:
    """``blkid -o export`` (blank-line separated KEY=value blocks) → partitions."""
    out: list[Partition] = []
    for block in text.strip().split("\n\n"):
        kv = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if kv.get("DEVNAME"):
            out.append(Partition(kv["DEVNAME"], kv.get("LABEL", ""), kv.get("TYPE", "")))
    return out


def probe_partitions() -> list[Partition]:
    """Every filesystem the kernel can see, probed directly (no stale blkid cache, no udev)."""
    try:
        done = runner.run(["blkid", "-c", "/dev/null", "-o", "export"], timeout=30, check=False)
    except ToolError:
        return []
    return parse_blkid_export(done.stdout)


def mountpoint_of(device: str, mountinfo: str = "/proc/self/mountinfo") -> str:
    """Where ``device`` is mounted already, or ''."""
    try:
        rdev = os.stat(device).st_rdev
        with open(mountinfo, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return ""
    want = f"{os.major(rdev)}:{os.minor(rdev)}"
    for line in lines:
        parts = line.split()
        if len(parts) > 4 and parts[2] == want:
            return parts[4].replace("\\040", " ")
    return ""


def device_read_only(device: str) -> bool:
    name = os.path.basename(os.path.realpath(device))
    try:
        return Path(f"/sys/class/block/{name}/ro").read_text().strip() == "1"
    except OSError:
        return False


@dataclass
class StickTarget:
    """The report stick (``WIPEREPORTS``), else the boot stick's FAT partition (``WIPESTATION``)."""

    labels: tuple[str, ...] = (REPORT_LABEL, BOOT_LABEL)
    mount_root: Path = paths.MOUNT_ROOT
    #: Which devices may be used at all (tests restrict it to their own loop devices).
    device_filter: Callable[[str], bool] = lambda _dev: True
    probe: Callable[[], list[Partition]] = probe_partitions

    def __post_init__(self) -> None:
        self.mount_root = Path(self.mount_root)
        self.description = f"report stick ({' or '.join(self.labels)})"

    def candidates(self) -> list[Partition]:
        found = [
            p
            for p in self.probe()
            if p.label in self.labels and p.fstype in FAT_TYPES and self.device_filter(p.device)
        ]
        return sorted(found, key=lambda p: self.labels.index(p.label))

    @contextlib.contextmanager
    def open(self) -> Iterator[Path]:
        parts = self.candidates()
        if not parts:
            raise TargetUnavailableError(
                TargetState.ABSENT,
                "no report stick: plug in a USB stick with a FAT partition labelled "
                f"{REPORT_LABEL}",
            )
        problems: list[TargetUnavailableError] = []
        for part in parts:
            with contextlib.ExitStack() as stack:
                try:
                    root = stack.enter_context(self._mounted(part))
                    check_writable(root, f"report stick {part.device} ({part.label})")
                except TargetUnavailableError as e:
                    problems.append(e)
                    continue
                yield root
                return
        raise min(problems, key=lambda e: _SEVERITY.index(e.state))

    def keep_mounted(self, part: Partition) -> Path:
        """Mount ``part`` for the rest of the session (the engine's journal lives there)."""
        with _MOUNTING:
            existing = mountpoint_of(part.device)
            if existing:
                return Path(existing)
            where = self.mount_root / os.path.basename(part.device)
            where.mkdir(parents=True, exist_ok=True)
            self._mount(part, where)
            return where

    @contextlib.contextmanager
    def _mounted(self, part: Partition) -> Iterator[Path]:
        with _MOUNTING:
            existing = mountpoint_of(part.device)
            if existing:
                yield Path(existing)
                return
            where = self.mount_root / os.path.basename(part.device)
            where.mkdir(parents=True, exist_ok=True)
            self._mount(part, where)
            try:
                yield where
            finally:
                self._unmount(where)

    def _mount(self, part: Partition, where: Path) -> None:
        what = f"report stick {part.device} ({part.label})"
        if device_read_only(part.device):
            raise TargetUnavailableError(
                TargetState.READ_ONLY, f"{what} is write-protected: slide its lock switch off"
            )
        done = mount.mount(part.device, where, part.fstype, "noatime", read_only=False)
        if done.returncode != 0:
            with contextlib.suppress(OSError):
                where.rmdir()
            msg = runner.tail(done.stderr or done.stdout, 2)
            ro = "read-only" in msg or "write-protected" in msg
            state = TargetState.READ_ONLY if ro else TargetState.ERROR
            raise TargetUnavailableError(state, f"{what} cannot be mounted: {msg}")

    def _unmount(self, where: Path) -> None:
        with contextlib.suppress(OSError):
            syncfs(where)
        for lazy in (False, True):
            if mount.unmount(where, lazy=lazy):
                break
        with contextlib.suppress(OSError):
            where.rmdir()


#: Which refusal to show when several sticks refuse: the most actionable first.
_SEVERITY = (TargetState.FULL, TargetState.READ_ONLY, TargetState.ERROR, TargetState.ABSENT)
