"""The screen names the computer (SMBIOS) in its header and where each drive sits.

The computer is a real one (a Dell OptiPlex 7010's published SMBIOS, tests/fixtures/dmi); the
header keeps its two lines on an 80x24 console, the name cut with an ellipsis there.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from wipestation.discovery.host import read_host
from wipestation.model import Attachment
from wipestation.reports.writer import ReportWriter
from wipestation.tui.screens.drives import DrivesScreen, hint_for
from wipestation.tui.station import Row

from tests.discovery.dmi_dumps import machine_files, write_tree
from tests.tui.fakes import make_drive
from tests.tui.test_snapshots import busy_engine, mixed_rack

DELL = "Dell Inc. OptiPlex 7010, S/N 5Q4Q7Y1"


def dell_writer(tmp_path: Path) -> ReportWriter:
    host = read_host(write_tree(machine_files("dell-optiplex-7010"), tmp_path / "dmi"))
    return ReportWriter(None, host=host, pdf_enabled=False)


def header_of(make_app, tmp_path: Path, size: tuple[int, int]) -> tuple[str, int]:
    app, _, _ = make_app(writer=dell_writer(tmp_path))

    async def scenario() -> tuple[str, int]:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, DrivesScreen)
            lines = [
                ln.text for ln in screen.status.render_lines(screen.status.region.reset_offset)
            ]
            return "\n".join(lines), screen.status.size.height

    return asyncio.run(scenario())


def test_the_header_names_the_computer(make_app, tmp_path: Path) -> None:
    text, height = header_of(make_app, tmp_path, (160, 50))
    assert DELL in text.splitlines()[0]
    assert height == 2


def test_on_an_80_column_console_the_header_keeps_two_lines(make_app, tmp_path: Path) -> None:
    text, height = header_of(make_app, tmp_path, (80, 24))
    first, second = text.splitlines()
    assert height == 2
    assert "WIPESTATION" in first
    assert first.rstrip().endswith("…")
    assert "reports:" in second  # the second line stays the report line, not the name's tail


def test_the_hint_says_where_the_drive_sits() -> None:
    nvme = replace(make_drive("nvme0n1"), attachment=Attachment.INTERNAL)
    usb = replace(make_drive("sdf"), attachment=Attachment.EXTERNAL)
    assert "[internal]" in hint_for(Row(nvme), "auto")
    assert "[external]" in hint_for(Row(usb), "auto")
    assert "[" not in hint_for(Row(make_drive("sdg")), "auto")  # unknown: nothing claimed


def test_main_view_with_the_computer_80x24(snap_compare, make_app, tmp_path: Path) -> None:
    drives = mixed_rack()
    app, _, _ = make_app(drives=drives, engine=busy_engine(drives), writer=dell_writer(tmp_path))
    assert snap_compare(app, terminal_size=(80, 24), press=["down"])


def test_main_view_with_the_computer_160x50(snap_compare, make_app, tmp_path: Path) -> None:
    drives = mixed_rack()
    drives[0] = replace(drives[0], attachment=Attachment.INTERNAL)
    app, _, _ = make_app(
        drives=drives, engine=busy_engine(drives), writer=dell_writer(tmp_path), ascii_only=False
    )
    assert snap_compare(app, terminal_size=(160, 50))
