"""The lot screen (Pilot): the entries not seen yet, and closing the lot onto the report target."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from wipestation.custody.lot_record import load_schema
from wipestation.model import JobState
from wipestation.reports.record import StationInfo
from wipestation.reports.sign import verify_bytes
from wipestation.reports.writer import ReportWriter
from wipestation.tui.screens.ask import AskScreen
from wipestation.tui.screens.lot import LotScreen

from tests.tui.test_pilot import SIZE, started
from tests.tui.test_scanner import NVME_SERIAL, SERIAL_SDC, lot_config, said, scan


def writer_in(tmp_path: Path) -> ReportWriter:
    """The station's writer as ``from_config`` builds it for lot LOT-7, into a directory."""
    station = StationInfo("bay-3", operator="Kim", customer="ACME", lot_id="LOT-7")
    return ReportWriter(
        tmp_path / "out", station=station, key_home=tmp_path / "keys", spool_dir=tmp_path / "sp"
    )


def test_the_lot_screen_lists_the_entries_not_seen_yet(make_app, tmp_path: Path) -> None:
    app, _, _ = make_app(config=lot_config(tmp_path))

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("o")
            await pilot.pause()
            assert isinstance(app.screen, LotScreen)
            body = str(app.screen.query_one("#lot-body").render())
            assert "Not seen yet (3):" in body
            assert "line 3  S/N S3Z9NB0K999999  tag CUST-002" in body
            assert "line 4  S/N ZZ-NEVER-SEEN  tag CUST-003" in body
            assert "line 5  S/N -  tag CUST-004  Samsung 980" in body
            assert "WD-WCC4N1234567" not in body.split("Not on the manifest")[0]
            assert "Not on the manifest (2):" in body
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is app.drives_screen

    asyncio.run(scenario())


@pytest.mark.slow
def test_closing_an_incomplete_lot_names_the_missing_entry(make_app, tmp_path: Path) -> None:
    writer = writer_in(tmp_path)
    cfg = replace(lot_config(tmp_path), customer="ACME", operator="Kim")
    app, engine, _ = make_app(config=cfg, writer=writer)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await scan(pilot, NVME_SERIAL)
            await scan(pilot, "CUST-004")  # the NVMe drive is manifest line 5, by its tag
            await scan(pilot, SERIAL_SDC)
            await scan(pilot, "CUST-002")  # line 3's serial is not sdc's: the entry stays open
            app.start_wipe(("sdb", "sdc", "nvme0n1"), "nist-clear")
            await started(app, pilot)
            for name in ("sdb", "sdc", "nvme0n1"):
                job = engine.job_of(name)
                engine.advance(job, state=JobState.PASSED)
                writer.write(engine.results()[job])  # what the real engine does at the end
            await pilot.pause()
            await pilot.press("o")
            await pilot.pause()
            await pilot.press("c")
            await pilot.pause()
            assert isinstance(app.screen, AskScreen)
            question = str(app.screen.query_one("#ask-body").render())
            assert "INCOMPLETE: 2 entries without a PASS or destruction" in question
            assert "S3Z9NB0K999999" in question
            assert "ZZ-NEVER-SEEN" in question
            await pilot.press("y")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.screen is app.drives_screen
            assert "Lot closed INCOMPLETE" in said(app)
            assert "missing S3Z9NB0K999999, ZZ-NEVER-SEEN" in said(app)

    asyncio.run(scenario())
    writer.close()
    lot_json = sorted((tmp_path / "out" / "lots").glob("lot-*.json"))
    assert [p.name for p in lot_json] == ["lot-LOT-7.json"]
    assert (tmp_path / "out" / "lots" / "lot-LOT-7.pdf").read_bytes().startswith(b"%PDF")
    signed = verify_bytes(lot_json[0].read_bytes()).record
    assert signed is not None
    assert (signed["status"], signed["customer"], signed["operators"]) == (
        "INCOMPLETE",
        "ACME",
        ["Kim"],
    )
    outcomes = {e["serial"]: (e["outcome"], e["asset_tag"]) for e in signed["entries"]}
    assert outcomes["WD-WCC4N1234567"][0] == "PASS"
    assert outcomes[""] == ("PASS", "CUST-004")  # matched by the scanned asset tag
    assert outcomes["S3Z9NB0K999999"][0] != "PASS"
    assert outcomes["ZZ-NEVER-SEEN"][0] != "PASS"
    # sdc's record carries both serials, and is listed as not on the manifest
    (sdc,) = [u for u in signed["unexpected"] if u["serial"] == "S3Z9NB0K123456"]
    assert sdc["asset_tag"] == "CUST-002"
    jsonschema.validate(json.loads(lot_json[0].read_text()), load_schema())


def test_closing_without_a_report_target_says_so(make_app, tmp_path: Path) -> None:
    app, _, _ = make_app(config=lot_config(tmp_path), writer=ReportWriter(None))

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("o", "c", "y")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert "Lot not closed: no report target configured" in said(app)

    asyncio.run(scenario())
