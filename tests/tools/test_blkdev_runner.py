"""Block ioctls on real loop devices, and the runner's simulator directory override."""

from __future__ import annotations

import errno
import os
import struct
from pathlib import Path

import pytest
from wipestation.errors import UnsupportedError
from wipestation.tools import blkdev, runner

MiB = 1024 * 1024
SIM_DIR = Path(__file__).resolve().parent.parent / "sim"


def read_dev(dev: str) -> bytes:
    fd = os.open(dev, os.O_RDONLY)
    try:
        return os.pread(fd, os.lseek(fd, 0, os.SEEK_END), 0)
    finally:
        os.close(fd)


@pytest.mark.parametrize("request_", [blkdev.BLKZEROOUT, blkdev.BLKDISCARD])
def test_ioctl_zeroes_a_loop_device(make_loop, request_):
    dev = make_loop(4 * MiB, b"customer data 7 ")
    fd = os.open(dev, os.O_RDWR)
    seen: list[tuple[int, int]] = []
    try:
        covered = blkdev.issue(
            fd, request_, blkdev.device_size(fd), lambda d, t: seen.append((d, t))
        )
    finally:
        os.close(fd)
    assert covered == 4 * MiB
    assert seen[-1] == (4 * MiB, 4 * MiB)
    assert read_dev(dev) == bytes(4 * MiB)


def test_queue_limits_of_a_loop_device(make_loop):
    dev = make_loop(4 * MiB)
    q = blkdev.queue_limits(os.path.basename(dev))
    assert q.logical_block_size == 512
    assert q.rotational  # the loop driver reports rotational=1
    assert q.write_zeroes
    assert q.discard  # loop devices punch holes in their backing file


def test_secure_discard_on_loop_is_unsupported(make_loop):
    dev = make_loop(4 * MiB)
    fd = os.open(dev, os.O_RDWR)
    try:
        with pytest.raises(UnsupportedError, match="BLKSECDISCARD"):
            blkdev.issue(fd, blkdev.BLKSECDISCARD, 4 * MiB)
    finally:
        os.close(fd)


def test_range_argument_layout():
    assert struct.unpack("=QQ", blkdev.range_arg(4096, 1 << 33)) == (4096, 1 << 33)
    err = blkdev._ioctl_error("BLKZEROOUT", OSError(errno.ENODEV, "No such device"), 8192)
    assert "device gone" in str(err)


def test_runner_searches_the_tool_dir_override_first(monkeypatch):
    monkeypatch.setenv(runner.TOOL_DIR_ENV, str(SIM_DIR))
    assert runner.which("hdparm") == str(SIM_DIR / "hdparm")
    monkeypatch.delenv(runner.TOOL_DIR_ENV)
    assert runner.which("hdparm") == "/usr/sbin/hdparm"
