"""Fixtures for the station-screen tests: a fixed drive rack and a deterministic App."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from wipestation.config import StationConfig
from wipestation.model import Drive, Transport
from wipestation.tui.app import WipestationApp
from wipestation.tui.catalog import MethodInfo

from tests.tui.fakes import GB, FakeEngine, FakeInventory, FakeWatcher, make_drive

METHODS = (
    MethodInfo("nist-clear", "NIST 800-88 Clear", "clear"),
    MethodInfo("nvme-sanitize", "NVMe sanitize (block erase)", "purge", ("nvme",)),
)
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
    ) -> tuple[WipestationApp, FakeEngine, FakeWatcher]:
        engine = engine or FakeEngine()
        watcher = FakeWatcher()
        app = WipestationApp(
            engine=engine,
            inventory=FakeInventory(rack() if drives is None else drives),
            config=config or StationConfig(station="bay-3", method="nist-clear"),
            watcher=watcher,
            methods=METHODS,
            clock=lambda: FIXED_CLOCK,
            ascii_only=ascii_only,
        )
        return app, engine, watcher

    return make
