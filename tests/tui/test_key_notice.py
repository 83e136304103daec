"""A station signing with a key made at this boot (netboot, no TPM, no boot stick: its key
directory is in RAM) says so on screen, in the banner under the header, in warning colours; a
station whose key is kept on a stick or a disk says nothing. The key directories here are a real
tmpfs and a real disk directory (``keystore.planned_protection`` reads the mount table)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from wipestation.reports.keystore import EPHEMERAL_NOTICE, KeyHome, StationKey
from wipestation.reports.record import StationInfo
from wipestation.reports.writer import ReportWriter

from tests.helpers.tmpfs import mounted_tmpfs
from tests.tui.fakes import FakeWriter
from tests.tui.test_snapshots import busy_engine, mixed_rack


@pytest.fixture
def ram_keys(tmp_path: Path) -> Iterator[Path]:
    with mounted_tmpfs(tmp_path / "ram") as where:
        yield where / "keys"


def writer(report_dir: Path, keys: Path) -> ReportWriter:
    station = StationInfo("bay-3")
    return ReportWriter(report_dir, station=station, key_home=keys, pdf_enabled=False)


def banner_of(make_app, w: object) -> tuple[str, bool]:
    """The banner's text and whether it is shown, with the station's writer ``w``."""
    app, _, _ = make_app(writer=w)

    async def scenario() -> tuple[str, bool]:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            banner = app.drives_screen.query_one("#banner")
            return str(banner.render()), banner.display and "hidden" not in banner.classes

    return asyncio.run(scenario())


def test_a_key_in_ram_is_said_in_the_banner(make_app, ram_keys: Path, tmp_path: Path) -> None:
    text, shown = banner_of(make_app, writer(tmp_path / "out", ram_keys))
    assert shown
    assert " ".join(text.split()) == EPHEMERAL_NOTICE
    assert "made at this boot (no TPM, no boot stick)" in EPHEMERAL_NOTICE
    assert "--accept-ephemeral" in EPHEMERAL_NOTICE


def test_a_key_on_disk_is_not(make_app, tmp_path: Path) -> None:
    text, shown = banner_of(make_app, writer(tmp_path / "out", tmp_path / "keys"))
    assert not shown
    assert "boot" not in text


class KeyedWriter(FakeWriter):
    """The screen's test writer (a fixed header) with a real station key home."""

    def __init__(self, keys: Path) -> None:
        super().__init__()
        self._key = StationKey(KeyHome.directory(keys), "bay-3")

    def station_key(self) -> StationKey:
        return self._key


def test_main_view_80x24_console_with_a_key_in_ram(snap_compare, make_app, ram_keys) -> None:
    drives = mixed_rack()
    app, _, _ = make_app(
        drives=drives, engine=busy_engine(drives), ascii_only=True, writer=KeyedWriter(ram_keys)
    )
    assert snap_compare(app, terminal_size=(80, 24))
