"""Shared fixtures: udev running for the whole session, and real loop devices that clean up."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from tests.helpers import loops

MiB = 1024 * 1024


@pytest.fixture(scope="session")
def udev() -> Iterator[None]:
    """udev must run for pyudev to see properties; stop it again only if we started it."""
    with loops.udev_for_the_run():
        yield


@pytest.fixture
def make_loop(udev: None, tmp_path) -> Iterator[Callable[..., str]]:
    """``make_loop(size=16*MiB, pattern=b"...")`` → "/dev/loopN", detached after the test
    (``sector_size=4096``: a 4Kn disk)."""
    stack = ExitStack()
    counter = iter(range(1000))

    def make(
        size: int = 16 * MiB,
        pattern: bytes | None = None,
        direct_io: bool = True,
        partscan: bool = False,
        sector_size: int = 0,
    ) -> str:
        backing = tmp_path / f"disk{next(counter)}.img"
        return stack.enter_context(
            loops.loop_device(
                backing, size, pattern, direct_io=direct_io, partscan=partscan,
                sector_size=sector_size,
            )
        )  # fmt: skip

    with stack:
        yield make


def pytest_configure(config: pytest.Config) -> None:
    if os.geteuid() != 0:
        raise pytest.UsageError("the tests need root (loop devices, udev, mounts)")


@pytest.fixture(autouse=True)
def _password_attempts_in_tmp(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The station's count of ATA password attempts (steps/attempts.py) lives in /run for a
    boot; a test's attempts go to its own file, so runs never count each other's."""
    monkeypatch.setenv("WIPESTATION_ATTEMPTS_FILE", str(tmp_path / "password-attempts.json"))
