"""Start of shift (Pilot): a station with a lot asks who works it; a typed name or a scanned badge
signs in, and every record from then on names that operator."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
from wipestation.config import StationConfig
from wipestation.model import JobState
from wipestation.reports.sign import verify_bytes
from wipestation.tui.screens.lot_open import LotOpenScreen
from wipestation.tui.screens.signin import SignInScreen

from tests.tui.test_lot_screen import writer_in
from tests.tui.test_pilot import SIZE, started
from tests.tui.test_scanner import lot_config, said


@pytest.mark.slow
def test_a_scanned_badge_signs_in_and_names_the_operator_on_the_record(
    make_app, tmp_path: Path
) -> None:
    writer = writer_in(tmp_path)
    writer.station = replace(writer.station, operator="")
    app, engine, _ = make_app(config=replace(lot_config(tmp_path), operator=""), writer=writer)
    records: list[Path] = []

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, SignInScreen)
            await pilot.press(*"BADGE-0042", "enter")  # a scanner typing into the box
            await pilot.pause()
            assert isinstance(app.screen, LotOpenScreen)  # then the lot (test_lot_open.py)
            await pilot.press("escape")  # keeps the configured one
            await pilot.pause()
            assert app.screen is app.drives_screen
            assert "Signed in: BADGE-0042" in said(app)
            app.start_wipe(("sdb",), "nist-clear")
            await started(app, pilot)
            job = engine.job_of("sdb")
            engine.advance(job, state=JobState.PASSED)
            records.extend(writer.write(engine.results()[job]))
            # a shift change: i, a typed name
            await pilot.press("i")
            await pilot.pause()
            await pilot.press(*"Ana", "space", *"Lee", "enter")
            await pilot.pause()

    asyncio.run(scenario())
    writer.close()
    rec = verify_bytes(records[0].read_bytes()).record
    assert rec is not None
    assert rec["operator"] == "BADGE-0042"
    assert app.lot.operators == ["BADGE-0042", "Ana Lee"]
    assert writer.station.operator == "Ana Lee"


def test_no_sign_in_without_a_lot_or_on_an_unattended_station(make_app, tmp_path: Path) -> None:
    for cfg in (
        StationConfig(station="bay-3", method="nist-clear"),
        replace(lot_config(tmp_path), operator="", unattended=True),
    ):
        app, _, _ = make_app(config=cfg)

        async def scenario() -> None:
            async with app.run_test(size=SIZE) as pilot:  # noqa: B023 - run at once
                await pilot.pause()
                assert not isinstance(app.screen, SignInScreen)  # noqa: B023

        asyncio.run(scenario())


def test_escape_skips_signing_in(make_app, tmp_path: Path) -> None:
    app, _, _ = make_app(config=replace(lot_config(tmp_path), operator=""))

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is app.drives_screen
            assert app.lot.operators == []

    asyncio.run(scenario())
