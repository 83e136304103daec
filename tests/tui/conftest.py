"""Fixtures for the station-screen tests: a fixed drive rack and a deterministic App."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from wipestation.config import StationConfig
from wipestation.model import Drive, Transport
from wipestation.planning.catalogue import ALL, EVERY_MEDIUM_CLEAR, Method, MethodKind
from wipestation.planning.medium import Medium
from wipestation.steps.plan import Expect, Expectation
from wipestation.tui.app import WipestationApp

from tests.tui.fakes import GB, FakeEngine, FakeWatcher, make_drive, services

METHODS = (
    Method("nist-clear", "NIST 800-88 Clear", "", MethodKind.OVERWRITE, EVERY_MEDIUM_CLEAR,
           "test", ALL, Expectation(Expect.ZEROS)),
    Method("nvme-sanitize", "NVMe sanitize (block erase)", "", MethodKind.FIRMWARE,
           {Medium.NVME: "purge"}, "test", (Transport.NVME,), Expectation(Expect.CHANGED)),
)  # fmt: skip
FIXED_CLOCK = 1_767_261_600.0  # 2026-01-01 10:00 UTC


def rack() -> list[Drive]:
    return [
        make_drive("sda", "BOOT-0001", 64 * GB, protected=("holds / (the running system)",)),
        make_drive("sdb", "WD-WCC4N1234567", 1000 * GB, model="WDC WD10EZEX-00B"),
        make_drive("sdc", "S3Z9NB0K123456", 500 * GB, model="Samsung SSD 860"),
        make_drive(
            "nvme0n1", "S4EWNX0N987654", 1024 * GB, transport=Transport.NVME, model="Samsung 980"
        ),
    ]


@pytest.fixture
def make_app() -> Callable[..., tuple[WipestationApp, FakeEngine, FakeWatcher]]:
    def make(
        drives: list[Drive] | None = None,
        engine: FakeEngine | None = None,
        config: StationConfig | None = None,
        ascii_only: bool = True,
        writer: object = None,
        udev_busy: Callable[[], bool] | None = None,
        stick_arrived: Callable[[], bool] | None = None,
    ) -> tuple[WipestationApp, FakeEngine, FakeWatcher]:
        engine = engine or FakeEngine()
        watcher = FakeWatcher()
        app = WipestationApp(
            services=services(
                engine,
                rack() if drives is None else drives,
                config,
                watcher=watcher,
                writer=writer,
                udev_busy=udev_busy,
            ),
            methods=METHODS,
            stick_arrived=stick_arrived,
            clock=lambda: FIXED_CLOCK,
            ascii_only=ascii_only,
        )
        return app, engine, watcher

    return make
