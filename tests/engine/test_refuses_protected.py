"""Issue 2's promise, proven on the wipe path: a mounted loop device, a loop device with a mounted
partition, an active swap and an excluded device are refused with a clear error, and not one of
their bytes changes. Real loop devices, real mkfs/mount/swapon; always undone in ``finally``."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from wipestation.errors import SafetyError

from tests.engine.conftest import MiB, drive_of, planned_engine
from tests.helpers import loops

ROOT = Path(__file__).resolve().parents[2]
SIZE = 32 * MiB


def digest(dev: str) -> str:
    with open(dev, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def wipe(dev: str, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wipestation", "wipe", dev, "--method", "overwrite-zero", "--yes",
         "--report-dir", str(tmp_path / "reports"), *extra],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


@contextlib.contextmanager
def mounted(dev: str, where: Path) -> Iterator[None]:
    where.mkdir()
    run("mount", "-o", "ro", dev, str(where))  # read-only: ext4 itself must not change the bytes
    try:
        yield
    finally:
        subprocess.run(["umount", str(where)], check=False)
        loops.settle()


@contextlib.contextmanager
def partitioned_loop(backing: Path) -> Iterator[str]:
    """A loop device with partition scanning and one ext4 partition (``<dev>p1``)."""
    with open(backing, "wb") as f:
        f.truncate(SIZE)
    subprocess.run(["sfdisk", "-q", str(backing)], input="1MiB,,L\n", text=True, check=True)
    out = subprocess.run(
        ["losetup", "--find", "--show", "--partscan", str(backing)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    dev = out.stdout.strip()
    try:
        subprocess.run(["partx", "-a", dev], check=False, capture_output=True)  # if the scan raced
        loops.settle()
        run("mkfs.ext4", "-q", "-F", f"{dev}p1")
        yield dev
    finally:
        loops.detach(dev)


def assert_refused(dev: str, tmp_path: Path, before: str, words: str, *extra: str) -> None:
    out = wipe(dev, tmp_path, *extra)
    assert out.returncode == 1
    assert "refusing" in out.stderr
    assert words in out.stderr, out.stderr
    assert digest(dev) == before


def test_mounted_loop_device_is_refused(make_loop, tmp_path):
    dev = make_loop(SIZE)
    run("mkfs.ext4", "-q", "-F", dev)
    with mounted(dev, tmp_path / "mnt"):
        before = digest(dev)
        assert_refused(dev, tmp_path, before, "mounted")
        engine = planned_engine(journal_dir=tmp_path / "j")
        with pytest.raises(SafetyError, match="mounted"):
            engine.start(drive_of(dev), "overwrite-zero")
        assert engine.results() == {}
        assert digest(dev) == before


def test_loop_device_with_a_mounted_partition_is_refused(udev, tmp_path):
    with partitioned_loop(tmp_path / "parts.img") as dev, mounted(f"{dev}p1", tmp_path / "mnt"):
        before = digest(dev)
        assert_refused(dev, tmp_path, before, f"{dev}p1")


def test_active_swap_is_refused(make_loop, tmp_path):
    dev = make_loop(SIZE)
    run("mkswap", "-q", dev)
    run("swapon", dev)
    try:
        before = digest(dev)
        assert_refused(dev, tmp_path, before, "swap")
    finally:
        subprocess.run(["swapoff", dev], check=False)


def test_excluded_device_is_refused(make_loop, tmp_path):
    dev = make_loop(SIZE, b"excluded ")
    before = digest(dev)
    assert_refused(dev, tmp_path, before, "excluded", "--exclude", dev)
