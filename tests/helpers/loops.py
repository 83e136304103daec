"""Real loop devices backed by sparse files, for tests and the benchmark. Always cleaned up."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

UDEVD = "/lib/systemd/systemd-udevd"


def udev_running() -> bool:
    return subprocess.run(["pgrep", "-x", "systemd-udevd"], capture_output=True).returncode == 0


def start_udevd() -> bool:
    """Start udevd if it is not running; returns True when this call started it."""
    if udev_running():
        return False
    subprocess.run([UDEVD, "--daemon", "--resolve-names=never"], check=True, capture_output=True)
    subprocess.run(["udevadm", "trigger", "--action=add", "--subsystem-match=block"], check=False)
    settle()
    return True


def stop_udevd(timeout: float = 10) -> None:
    """Stop udevd and wait until it is gone: a next run that still saw it exiting would take
    it for running, not start one, and then miss every event."""
    subprocess.run(["pkill", "-x", "systemd-udevd"], check=False)
    deadline = time.monotonic() + timeout
    while udev_running() and time.monotonic() < deadline:
        time.sleep(0.05)


@contextlib.contextmanager
def udev_for_the_run() -> Iterator[None]:
    """udevd running for the duration: the station refuses a drive udev has not identified
    (a machine without udevd, as CI's, would see every loop device protected). Stopped again
    only if this started it."""
    started = start_udevd()
    try:
        yield
    finally:
        if started:
            stop_udevd()


def settle(timeout: int = 10) -> None:
    subprocess.run(["udevadm", "settle", f"--timeout={timeout}"], check=False)


def fill(path: str | Path, pattern: bytes, size: int) -> None:
    """Fill ``path`` (file or device) with ``pattern`` repeated, up to ``size`` bytes."""
    chunk = (pattern * (1024 * 1024 // len(pattern) + 1))[: 1024 * 1024]
    with open(path, "r+b" if os.path.exists(path) else "wb") as f:
        written = 0
        while written < size:
            n = min(len(chunk), size - written)
            f.write(chunk[:n])
            written += n
        f.flush()
        os.fsync(f.fileno())


def attach(
    backing: str | Path, *, direct_io: bool = True, partscan: bool = False, sector_size: int = 0
) -> str:
    """``sector_size`` 4096 makes a 4Kn disk (logical and physical block size 4096)."""
    argv = ["losetup", "--find", "--show"]
    if partscan:
        argv.append("--partscan")
    if sector_size:
        argv.append(f"--sector-size={sector_size}")
    if direct_io:
        argv.append("--direct-io=on")
    out = subprocess.run([*argv, str(backing)], check=True, capture_output=True, text=True)
    dev = out.stdout.strip()
    settle()
    return dev


def detach(dev: str) -> None:
    for _ in range(20):
        if subprocess.run(["losetup", "-d", dev], capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    settle()


@contextlib.contextmanager
def loop_device(
    backing: str | Path,
    size: int,
    pattern: bytes | None = None,
    *,
    direct_io: bool = True,
    partscan: bool = False,
    sector_size: int = 0,
) -> Iterator[str]:
    """A loop device over a sparse file of ``size`` bytes, optionally pre-filled."""
    with open(backing, "wb") as f:
        f.truncate(size)
    if pattern:
        fill(backing, pattern, size)
    dev = attach(backing, direct_io=direct_io, partscan=partscan, sector_size=sector_size)
    try:
        yield dev
    finally:
        detach(dev)
