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
from collections.abc import Callable
from dataclasses import dataclass

from wipestation.errors import DeviceGoneError, ToolFailedError, UnsupportedError

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


def _read_int(path: str, default: int = 0) -> int:
    try:
        with open(path, encoding="ascii") as f:
            return int(f.read().strip() or default)
    except (OSError, ValueError):
        return default


def queue_limits(name: str, sys_block: str = "/sys/class/block") -> QueueLimits:
    q = os.path.join(sys_block, name, "queue")
    return QueueLimits(
        discard_max_bytes=_read_int(os.path.join(q, "discard_max_bytes")),
        discard_granularity=_read_int(os.path.join(q, "discard_granularity")),
        write_zeroes_max_bytes=_read_int(os.path.join(q, "write_zeroes_max_bytes")),
        logical_block_size=_read_int(os.path.join(q, "logical_block_size"), 512),
        rotational=_read_int(os.path.join(q, "rotational")) == 1,
    )


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
