"""Computer mode on the screen: the banner names this computer (a real Dell's SMBIOS), its
internal drives are selected as they appear, an external (USB) disk and a drive of unknown
attachment are listed but never selected, and unattended computer mode wipes only the internal
drives, also those that appear later."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

from wipestation.config import StationConfig
from wipestation.discovery.host import read_host
from wipestation.model import Attachment, Drive, JobState, Transport
from wipestation.reports.record import StationInfo
from wipestation.reports.writer import ReportWriter

from tests.discovery.dmi_dumps import machine_files, write_tree
from tests.tui.fakes import GB, make_drive
from tests.tui.test_host_header import DELL, dell_writer
from tests.tui.test_pilot import started, type_text

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


def stick_writer(tmp_path: Path) -> ReportWriter:
    host = read_host(write_tree(machine_files("dell-optiplex-7010"), tmp_path / "dmi"))
    return ReportWriter(tmp_path / "stick", station=StationInfo(station_id="bay-3"),
                        key_home=tmp_path / "keys", spool_dir=None, pdf_enabled=False,
                        host=host)  # fmt: skip


def finish_all(app, engine, writer: ReportWriter) -> None:
    """Every started job passes, and its record is delivered as the real engine's would be."""
    for name, *_ in engine.started:
        job_id = engine.job_of(name)
        engine.advance(job_id, notify=True, state=JobState.PASSED)
        writer.write(engine.results()[job_id])


def certificates(tmp_path: Path) -> list[dict]:
    return [json.loads(p.read_bytes()) for p in (tmp_path / "stick/computers").glob("*.json")]


def test_unattended_computer_mode_powers_off_once_the_certificate_is_written(
    make_app, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr("wipestation.tui.app.POWEROFF_QUIET_S", 0.0)
    writer = stick_writer(tmp_path)
    drives = computer_drives()[:4]  # no protected internal disk: that one would be NOT WIPED
    app, engine, _ = make_app(drives=drives, config=computer(True), writer=writer)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert sorted(s[0] for s in engine.started) == ["nvme0n1", "sda"]
            finish_all(app, engine, writer)
            for _ in range(50):  # ticks until the worker wrote it and the App exits
                if not app.is_running:
                    break
                app.tick()
                await pilot.pause(0.1)

    asyncio.run(scenario())
    assert app.return_value == "poweroff"
    [cert] = certificates(tmp_path)
    assert cert["status"] == "COMPLETE"
    assert cert["host"]["serial"] == "5Q4Q7Y1"
    assert {d["serial"]: d["result"] for d in cert["drives"]} == {
        "S4EWNX0N987654": "PASS", "WD-SATA-01": "PASS",
    }  # fmt: skip


def test_an_operators_computer_mode_writes_the_certificate_and_stays_up(
    make_app, tmp_path: Path
) -> None:
    writer = stick_writer(tmp_path)
    drives = computer_drives()[:3]  # NVMe + SATA internal, the USB disk
    app, engine, _ = make_app(drives=drives, config=computer(), writer=writer)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("w")
            await pilot.pause()
            await pilot.press(*type_text("WIPE 2"), "enter")  # the preselected internal two
            await started(app, pilot)
            assert sorted(s[0] for s in engine.started) == ["nvme0n1", "sda"]
            app.tick()
            await app.workers.wait_for_complete()
            assert certificates(tmp_path) == []  # not before the drives have ended
            finish_all(app, engine, writer)
            for _ in range(30):
                app.tick()
                await app.workers.wait_for_complete()
                await pilot.pause()
                if app.computer_line:
                    break
            assert app.is_running

    asyncio.run(scenario())
    assert app.computer_line.startswith("COMPUTER 5Q4Q7Y1 COMPLETE drives=2 not_passed= record=")
    [cert] = certificates(tmp_path)
    assert sorted(d["serial"] for d in cert["drives"]) == ["S4EWNX0N987654", "WD-SATA-01"]
