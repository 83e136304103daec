"""A failed drive recorded as physically destroyed (Pilot): who, when, how, in a signed
``wipestation.destroy/1`` record that closes its manifest entry."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
from wipestation.custody.records import from_record
from wipestation.model import JobState
from wipestation.reports.sign import verify_bytes
from wipestation.tui.screens.destroy import DestroyScreen

from tests.tui.test_lot_screen import writer_in
from tests.tui.test_pilot import SIZE, started
from tests.tui.test_scanner import lot_config, said


@pytest.mark.slow
def test_a_failed_drive_destroyed_gets_a_signed_record_and_closes_its_entry(
    make_app, tmp_path: Path
) -> None:
    writer = writer_in(tmp_path)
    app, engine, _ = make_app(config=lot_config(tmp_path), writer=writer)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.start_wipe(("sdb",), "nist-clear")
            await started(app, pilot)
            engine.advance(engine.job_of("sdb"), state=JobState.FAILED, last_error="bad sectors")
            await pilot.pause()
            assert "1 failed" in str(app.drives_screen.lot.render())
            await pilot.press("down")  # sda → sdb
            await pilot.press("x")
            await pilot.pause()
            assert isinstance(app.screen, DestroyScreen)
            await pilot.press("9", "enter")  # not a method: asked again
            await pilot.pause()
            assert "Not a method" in str(app.screen.query_one("#destroy-error").render())
            await pilot.press("1", "enter")  # 1 = shredded
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.screen is app.drives_screen
            assert "/dev/sdb recorded as shredded" in said(app)
            line = str(app.drives_screen.lot.render())
            assert "0 failed, 1 destroyed" in line
            await pilot.press("o", "c")
            await pilot.pause()
            assert "WD-WCC4N1234567" not in str(app.screen.query_one("#ask-body").render())
            await pilot.press("y")
            await app.workers.wait_for_complete()
            await pilot.pause()

    asyncio.run(scenario())
    writer.close()
    (path,) = (tmp_path / "out").rglob("destroyed-*.json")
    assert not list((tmp_path / "out").rglob("destroyed-*.pdf"))  # a wipe certificate it is not
    rec = verify_bytes(path.read_bytes()).record
    assert rec is not None
    assert rec["schema"] == "wipestation.destroy/1"
    assert rec["destruction"]["method"] == "shredded"
    assert rec["destruction"]["destroyed_by"] == "Kim"
    assert (rec["drive"]["serial"], rec["asset_tag"], rec["lot_id"]) == (
        "WD-WCC4N1234567",
        "",
        "LOT-7",
    )
    assert rec["chain"]["sequence"] >= 1  # in the station's record chain, like a wipe
    found = from_record(rec, path.name)
    assert (found.kind, found.outcome) == ("destroy", "DESTROYED")
    lot = verify_bytes((tmp_path / "out" / "lots" / "lot-LOT-7.json").read_bytes()).record
    assert lot is not None
    outcomes = {e["serial"]: e["outcome"] for e in lot["entries"]}
    assert outcomes["WD-WCC4N1234567"] == "DESTROYED"


def test_no_destruction_without_someone_signed_in(make_app, tmp_path: Path) -> None:
    cfg = replace(lot_config(tmp_path), operator="")
    app, _, _ = make_app(config=cfg, writer=writer_in(tmp_path))

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("escape")  # skip signing in
            await pilot.press("down", "x")
            await pilot.pause()
            assert app.screen is app.drives_screen
            assert "Sign in first (i)" in said(app)

    asyncio.run(scenario())


@pytest.mark.slow
def test_a_locked_drive_destroyed_without_its_password_says_why_on_the_record(
    make_app, tmp_path: Path
) -> None:
    writer = writer_in(tmp_path)
    app, _, _ = make_app(config=lot_config(tmp_path), writer=writer)
    refusal = (
        "/dev/sdb: locked: needs the user or master password, else destroy; auto was not planned"
    )

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.station.refused_start("sdb", refusal)  # what the planner answered (policy tests)
            await pilot.press("down", "x")
            await pilot.pause()
            await pilot.press("1", "enter")
            await app.workers.wait_for_complete()
            await pilot.pause()

    asyncio.run(scenario())
    writer.close()
    (path,) = (tmp_path / "out").rglob("destroyed-*.json")
    rec = verify_bytes(path.read_bytes()).record
    assert rec is not None
    assert refusal in rec["destruction"]["note"]
