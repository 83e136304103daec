"""The engine's I/O seam: every byte the engine writes or reads goes through a ``BlockIO``.

Why a seam: write errors and surprise removal cannot be produced by the host kernel the unit
tests run on (no device-mapper), so tests inject a ``BlockIO`` that raises the errno a real
controller gives (qemu.md §5: NVMe ENODATA, AHCI/virtio EIO, removal ENOSPC or EIO). The real
implementation is a thin wrapper over ``pwrite``/``preadv`` on an O_DIRECT descriptor.
This module never decides policy; ``classify_error`` only names what an errno means.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import mmap
import os
from collections.abc import Callable
from typing import Protocol

from wipestation.model import Drive

MiB = 1024 * 1024
#: Chosen by measurement (bench/bench.py --buffers, see the issue note): 4 MiB reached dd's
#: throughput on disk- and tmpfs-backed loops; 8-16 MiB gained nothing and cost memory per job.
DEFAULT_BUFFER = 4 * MiB
BLKFLSBUF = 0x1261

#: errnos that mean "the device went away" when they arrive in the middle of a wipe. ENOSPC
#: inside the device's size is what the kernel returns once a pulled disk's capacity drops to 0.
GONE_ERRNOS = frozenset({errno.ENOSPC, errno.ENODEV, errno.ENXIO, errno.ESHUTDOWN})
#: errnos that mean "this region could not be written/read" (media error).
MEDIA_ERRNOS = frozenset({errno.EIO, errno.ENODATA, errno.EILSEQ, errno.EREMOTEIO})


class BlockIO(Protocol):
    """Positional I/O on one open device. Buffers are aligned for O_DIRECT."""

    def write_at(self, buf: memoryview, offset: int) -> int: ...

    def read_into(self, buf: memoryview, offset: int) -> int: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


#: Builds a BlockIO over an open descriptor; the engine's default is ``FdBlockIO``.
IOFactory = Callable[[int, Drive], BlockIO]


class FdBlockIO:
    """The real thing: pwrite/preadv on a descriptor, fdatasync plus a cache flush."""

    def __init__(self, fd: int, drive: Drive | None = None) -> None:
        self.fd = fd

    def write_at(self, buf: memoryview, offset: int) -> int:
        return os.pwrite(self.fd, buf, offset)

    def read_into(self, buf: memoryview, offset: int) -> int:
        return os.preadv(self.fd, [buf], offset)

    def flush(self) -> None:
        # fdatasync on a block device makes the kernel send a FLUSH CACHE to the drive; BLKFLSBUF
        # then drops any page-cache copy so later buffered readers see the medium.
        os.fdatasync(self.fd)
        with contextlib.suppress(OSError):
            fcntl.ioctl(self.fd, BLKFLSBUF)

    def close(self) -> None:
        os.close(self.fd)


def aligned_buffer(size: int) -> mmap.mmap:
    """Page-aligned anonymous memory (O_DIRECT needs alignment to the logical block size).

    16 KiB spare so AES-CTR ``update_into`` (which wants len + block - 1 bytes) fits.
    """
    return mmap.mmap(-1, size + 16 * 1024)


_libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
_memcmp = _libc.memcmp
_memcmp.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
_memcmp.restype = ctypes.c_int


def address_of(view: memoryview) -> int:
    """Start address of a writable buffer (an ``aligned_buffer`` view)."""
    return ctypes.addressof(ctypes.c_char.from_buffer(view))


def same_bytes(a: memoryview, b: memoryview, n: int) -> bool:
    """``a[:n] == b[:n]`` without copying either, and without holding the GIL (ctypes drops it
    around foreign calls). Measured: ``bytes ==`` after ``tobytes()`` costs two passes more."""
    if len(a) < n or len(b) < n:
        raise ValueError("buffers shorter than the compared length")
    return int(_memcmp(address_of(a), address_of(b), n)) == 0


def uniform_bytes(a: memoryview, n: int, byte: int) -> bool:
    """Is every byte of ``a[:n]`` equal to ``byte``? The buffer is compared with itself one byte
    on, so memory is streamed once (against a reference buffer it was streamed twice: measured
    0.05-0.1 CPU-s/GB more, what kept a verification read of N drives behind N ``dd``)."""
    if len(a) < n:
        raise ValueError("buffer shorter than the compared length")
    if n == 0:
        return True
    return a[0] == byte and int(_memcmp(address_of(a), address_of(a) + 1, n - 1)) == 0


def release(mem: mmap.mmap) -> None:
    """Free a buffer now if nothing still views it (an exception's traceback may; GC does it)."""
    with contextlib.suppress(BufferError):
        mem.close()


def device_present(drive: Drive, sys_block: str = "/sys/class/block") -> bool:
    """Is the same block device still there with a non-zero size?"""
    try:
        st = os.stat(drive.path)
        with open(os.path.join(sys_block, drive.name, "size"), encoding="ascii") as f:
            size = int(f.read().strip() or 0)
    except (OSError, ValueError):
        return False
    same = (os.major(st.st_rdev), os.minor(st.st_rdev)) == drive.devnum or drive.devnum == (0, 0)
    return same and size > 0


def is_gone(err: OSError, drive: Drive, present: Callable[[Drive], bool] = device_present) -> bool:
    """ENOSPC/ENODEV/ENXIO always mean removal; EIO means removal only if the device vanished."""
    if err.errno in GONE_ERRNOS:
        return True
    return err.errno in MEDIA_ERRNOS and not present(drive)
