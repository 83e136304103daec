"""Computer mode on the screen: the banner names this computer (a real Dell's SMBIOS), its
internal drives are selected as they appear, an external (USB) disk and a drive of unknown
attachment are listed but never selected, and unattended computer mode wipes only the internal
drives, also those that appear later."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from wipestation.config import StationConfig
from wipestation.model import Attachment, Drive, Transport

from tests.tui.fakes import GB, make_drive
from tests.tui.test_host_header import DELL, dell_writer

SIZE = (120, 40)


def computer_drives() -> list[Drive]:
    nvme = make_drive("nvme0n1", "S4EWNX0N987654", 512 * GB, transport=Transport.NVME)
    return [
        replace(nvme, attachment=Attachment.INTERNAL),
        replace(make_drive("sda", "WD-SATA-01"), attachment=Attachment.INTERNAL),
        replace(make_drive("sdb", "USB-DISK-9", transport=Transport.USB),
                attachment=Attachment.EXTERNAL, attachment_why="on a USB bridge"),
        make_drive("sdc", "UNPLACED-1"),  # attachment unknown: never guessed internal
        replace(make_drive("sdd", "STICK", protected=("the boot stick",)),
                attachment=Attachment.INTERNAL),
    ]  # fmt: skip


def computer(unattended: bool = False) -> StationConfig:
    return StationConfig(station="bay-3", method="auto", mode="computer", unattended=unattended)


def run(app, later: list[Drive] | None = None, watcher=None) -> tuple[list[str], str]:
    async def scenario() -> tuple[list[str], str]:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            for d in later or []:
                watcher.emit("added", d)
                await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            banner = str(app.drives_screen.query_one("#banner").render())
            return [r.name for r in app.station.selected()], banner

    return asyncio.run(scenario())


def test_computer_mode_selects_the_internal_drives_and_names_the_computer(
    make_app, tmp_path: Path
) -> None:
    app, engine, _ = make_app(
        drives=computer_drives(), config=computer(), writer=dell_writer(tmp_path)
    )
    selected, banner = run(app)
    assert sorted(selected) == ["nvme0n1", "sda"]
    assert f"COMPUTER: {DELL}: internal drives selected" in banner
    assert "UNATTENDED" not in banner
    assert engine.started == []  # selected, not started: the operator presses w


def test_a_station_selects_nothing_by_itself(make_app) -> None:
    config = StationConfig(station="bay-3", method="auto")
    app, _, _ = make_app(drives=computer_drives(), config=config)
    selected, banner = run(app)
    assert selected == []
    assert "COMPUTER" not in banner


def test_a_drive_plugged_in_later_is_selected_only_when_internal(make_app) -> None:
    app, _, watcher = make_app(drives=computer_drives()[:1], config=computer())
    sata2 = replace(make_drive("sde", "SATA-LATE"), attachment=Attachment.INTERNAL)
    usb2 = replace(make_drive("sdf", "USB-LATE", transport=Transport.USB),
                   attachment=Attachment.EXTERNAL)  # fmt: skip
    selected, _ = run(app, later=[sata2, usb2], watcher=watcher)
    assert sorted(selected) == ["nvme0n1", "sde"]


def test_unattended_computer_mode_wipes_only_the_internal_drives(make_app) -> None:
    app, engine, watcher = make_app(drives=computer_drives(), config=computer(unattended=True))
    usb2 = replace(make_drive("sdf", "USB-LATE", transport=Transport.USB),
                   attachment=Attachment.EXTERNAL)  # fmt: skip
    _, banner = run(app, later=[usb2], watcher=watcher)
    assert sorted(s[0] for s in engine.started) == ["nvme0n1", "sda"]
    assert {s[1] for s in engine.started} == {"auto"}
    assert "UNATTENDED: this computer's internal drives are wiped with auto" in banner
