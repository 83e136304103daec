"""Barcode scanners on the drives screen (Pilot): a scanner is a keyboard typing a burst + Enter.

Each test is a sync test running ``asyncio.run(scenario())``, like test_pilot.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.pilot import Pilot
from wipestation.config import StationConfig
from wipestation.model import JobState
from wipestation.tui.app import WipestationApp
from wipestation.tui.screens.help import HELP

from tests.tui.test_pilot import SIZE, started

SERIAL_SDC = "S3Z9NB0K123456"  # the rack's Samsung SSD (conftest.rack)
NVME_SERIAL = "S4EWNX0N987654"
MANIFEST = (
    "Serial;Asset Tag;Model\n"
    "WD-WCC4N1234567;CUST-001;WDC WD10EZEX\n"  # the rack's sdb, matched by serial
    "S3Z9NB0K999999;CUST-002;Samsung SSD 860\n"  # its label serial differs from sdc's firmware
    "ZZ-NEVER-SEEN;CUST-003;\n"
    ";CUST-004;Samsung 980\n"  # no serial given: the rack's NVMe drive, linked by its tag
)


def lot_config(tmp_path: Path) -> StationConfig:
    path = tmp_path / "manifest.csv"
    path.write_text(MANIFEST, encoding="utf-8")
    return StationConfig(
        station="bay-3", method="nist-clear", lot="LOT-7", manifest=str(path), operator="Kim"
    )


async def scan(pilot: Pilot, code: str) -> None:
    """What a USB scanner does: the code's characters, then Enter."""
    await pilot.press(*["minus" if c == "-" else c for c in code], "enter")
    await pilot.pause()


def said(app: WipestationApp) -> str:
    return str(app.drives_screen.message.render())


def test_a_scanned_serial_selects_the_drive_and_the_next_code_is_its_asset_tag(make_app) -> None:
    app, _, _ = make_app()

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.drives_screen.table.highlighted_name == "sda"
            await scan(pilot, SERIAL_SDC)
            assert app.drives_screen.table.highlighted_name == "sdc"
            assert "label checked" in said(app)
            assert app.lot.custody[SERIAL_SDC].label_checked
            assert app.screen is app.drives_screen
            await scan(pilot, "AT-0042")
            assert app.lot.asset_tags == {SERIAL_SDC: "AT-0042"}
            assert "asset tag AT-0042" in said(app)
            assert "tag AT-0042" in str(app.drives_screen.hint.render())
            # Enter alone still opens the highlighted drive's details
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is not app.drives_screen

    asyncio.run(scenario())


@pytest.mark.slow
def test_a_code_typed_by_hand_works_like_a_scan(make_app) -> None:
    app, _, _ = make_app()

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            for c in "S4EWNX0N987654":  # the NVMe drive's serial, a key at a time
                await pilot.press(c)
                await pilot.pause(0.06)
            await pilot.press("enter")
            await pilot.pause()
            assert app.drives_screen.table.highlighted_name == "nvme0n1"

    asyncio.run(scenario())


def test_a_scan_that_matches_nothing_says_so(make_app) -> None:
    app, _, _ = make_app()

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()  # the cursor is on the protected system drive
            await scan(pilot, "NOPE-4711")
            assert "matches no drive and no manifest entry" in said(app)
            assert app.lot.asset_tags == {}
            assert app.drives_screen.table.highlighted_name == "sda"

    asyncio.run(scenario())


def test_a_single_bound_key_still_acts_at_once(make_app) -> None:
    app, _, _ = make_app()

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("1", "2")  # too short for a code, then a command key
            await pilot.pause(0.1)
            await pilot.press("a")
            await pilot.pause()
            assert [r.name for r in app.station.selected()] == ["sdb", "sdc", "nvme0n1"]

    asyncio.run(scenario())


def test_a_manifest_tag_links_the_drive_and_a_differing_label_serial_is_kept(
    make_app, tmp_path: Path
) -> None:
    app, _, _ = make_app(config=lot_config(tmp_path))

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await scan(pilot, SERIAL_SDC)
            await scan(pilot, "CUST-002")
            custody = app.lot.custody[SERIAL_SDC]
            assert custody.entry is not None
            assert custody.entry.line == 3
            assert custody.label_serial == "S3Z9NB0K999999"
            assert app.lot.asset_tags[SERIAL_SDC] == "CUST-002"
            assert app.lot.notes[SERIAL_SDC] == [
                "label serial S3Z9NB0K999999, firmware serial S3Z9NB0K123456"
            ]
            assert "label S/N S3Z9NB0K999999 is not the drive's S/N" in said(app)
            assert "LABEL S/N S3Z9NB0K999999" in str(app.drives_screen.hint.render())
            # as at the office (custody.lot.match): no match until someone resolves it
            assert app.lot.entry_of(app.station.rows["sdc"].drive) is None

    asyncio.run(scenario())


def test_the_lot_line_counts_the_manifest(make_app, tmp_path: Path) -> None:
    app, engine, _ = make_app(config=lot_config(tmp_path))

    def lot_line() -> str:
        return str(app.drives_screen.lot.render())

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            # sdb is on the manifest by serial; sdc and the NVMe drive are not (yet)
            assert "4 expected, 0 passed, 0 failed, 0 in progress, 3 not seen yet, " in lot_line()
            assert "2 not on the manifest" in lot_line()
            await scan(pilot, NVME_SERIAL)
            await scan(pilot, "CUST-004")
            assert "2 not seen yet, 1 not on the manifest" in lot_line()
            app.start_wipe(("sdb",), "nist-clear")
            await started(app, pilot)
            await pilot.pause()
            assert "1 in progress" in lot_line()
            engine.advance(engine.job_of("sdb"), state=JobState.PASSED)
            await pilot.pause()
            assert "1 passed, 0 failed, 0 in progress" in lot_line()

    asyncio.run(scenario())


def test_the_help_names_the_lot_keys_and_the_scanner() -> None:
    lines = HELP.splitlines()
    for key in ("o", "i", "x"):
        assert any(line.startswith(f"{key}   ") for line in lines), key
    assert "Barcode scanner" in HELP
