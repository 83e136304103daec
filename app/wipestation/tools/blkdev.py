"""Block-layer erase ioctls (BLKDISCARD, BLKZEROOUT, BLKSECDISCARD) and sysfs queue limits.

Why ioctls and not blkdiscard(8): no tool to be missing, no busybox applet to shadow it, and the
kernel's errno is the answer (EOPNOTSUPP when the device cannot). A discard that "succeeds" may
do nothing (QEMU ``discard=ignore``), so a discard is never proof; only verification is.
The caller owns the file descriptor: it comes from ``Inventory.open_for_wipe``.
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from wipestation.errors import DeviceGoneError, ToolError, ToolFailedError, UnsupportedError

BLKDISCARD = 0x1277  # _IO(0x12, 119)
BLKSECDISCARD = 0x127D  # _IO(0x12, 125)
BLKZEROOUT = 0x127F  # _IO(0x12, 127)
IOCTL_NAMES = {BLKDISCARD: "BLKDISCARD", BLKSECDISCARD: "BLKSECDISCARD", BLKZEROOUT: "BLKZEROOUT"}
#: Bytes per ioctl, so progress and cancellation happen between chunks.
CHUNK = 256 * 1024 * 1024


@dataclass(frozen=True)
class QueueLimits:
    discard_max_bytes: int
    discard_granularity: int
    write_zeroes_max_bytes: int
    logical_block_size: int
    rotational: bool

    @property
    def discard(self) -> bool:
        return self.discard_max_bytes > 0

    @property
    def write_zeroes(self) -> bool:
        """Hardware write-zeroes offload; BLKZEROOUT works without it (the kernel writes zeros)."""
        return self.write_zeroes_max_bytes > 0


#: The sysfs queue files QueueLimits reads, with the value a kernel that lacks the file means.
QUEUE_FILES = {
    "discard_max_bytes": "0",
    "discard_granularity": "0",
    "write_zeroes_max_bytes": "0",  # before Linux 4.12
    "logical_block_size": "512",
    "rotational": "0",
}


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def parse_queue_limits(values: Mapping[str, str | None], where: str = "queue") -> QueueLimits:
    """sysfs queue file contents → QueueLimits; ``None`` = the kernel has no such file.

    Raises:
        ToolError: a file holds something other than one whole number (names the file).
    """
    if all(values.get(k) is None for k in QUEUE_FILES):
        raise ToolError(f"sysfs {where}: no queue limits (no such device, or not a block device)")
    nums = {
        k: _queue_int(values.get(k), default, f"{where}/{k}") for k, default in QUEUE_FILES.items()
    }
    if nums["rotational"] not in (0, 1) or nums["logical_block_size"] < 512:
        raise ToolError(f"sysfs {where}: implausible queue limits {nums}")
    return QueueLimits(
        discard_max_bytes=nums["discard_max_bytes"],
        discard_granularity=nums["discard_granularity"],
        write_zeroes_max_bytes=nums["write_zeroes_max_bytes"],
        logical_block_size=nums["logical_block_size"],
        rotational=nums["rotational"] == 1,
    )


def _queue_int(text: str | None, default: str, where: str) -> int:
    value = (default if text is None else text).strip()
    if not value.isascii() or not value.isdigit():
        raise ToolError(f"sysfs {where}: not a whole number ({value!r})")
    return int(value)


def queue_limits(name: str, sys_block: str = "/sys/class/block") -> QueueLimits:
    q = os.path.join(sys_block, name, "queue")
    return parse_queue_limits({k: _read_text(os.path.join(q, k)) for k in QUEUE_FILES}, q)


def range_arg(start: int, length: int) -> bytes:
    """The ``uint64_t range[2]`` argument of the block erase ioctls."""
    return struct.pack("=QQ", start, length)


def issue(
    fd: int,
    request: int,
    size: int,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> int:
    """Apply ``request`` to bytes [0, size) in chunks. Returns the bytes covered.

    Raises:
        UnsupportedError: the device does not support the operation (EOPNOTSUPP/EINVAL on chunk 0).
        DeviceGoneError: ENODEV/ENXIO/ENOSPC — the device went away.
        ToolFailedError: any other errno.
    """
    name = IOCTL_NAMES.get(request, hex(request))
    done = 0
    while done < size and not cancelled():
        n = min(CHUNK, size - done)
        try:
            fcntl.ioctl(fd, request, range_arg(done, n))
        except OSError as e:
            raise _ioctl_error(name, e, done) from e
        done += n
        if progress:
            progress(done, size)
    return done


def _ioctl_error(name: str, e: OSError, offset: int) -> Exception:
    if e.errno in (errno.EOPNOTSUPP, errno.ENOTTY) or (e.errno == errno.EINVAL and offset == 0):
        return UnsupportedError(f"{name}: the device does not support it ({e.strerror})")
    if e.errno in (errno.ENODEV, errno.ENXIO, errno.ENOSPC):
        return DeviceGoneError(f"{name} at byte {offset}: device gone ({e.strerror})")
    return ToolFailedError([name], e.errno or 1, f"at byte {offset}: {e.strerror}")


def device_size(fd: int) -> int:
    return os.lseek(fd, 0, os.SEEK_END)
