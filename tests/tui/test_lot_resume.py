"""A station that boots again in the middle of a lot (Pilot): the App reads the lot's earlier
records from the report target in a worker, and the lot screen counts them; a record on the
stick signed with another key counts for nothing and is reported."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from wipestation.reports.sign import Signer

from tests.custody.helpers import record, save
from tests.reports.factory import drive, job
from tests.tui.test_lot_screen import writer_in
from tests.tui.test_pilot import SIZE
from tests.tui.test_scanner import lot_config, said


async def until(pilot, ok, tries: int = 100) -> None:
    """The worker reads the report dir on its thread: wait for what it posts back."""
    for _ in range(tries):
        if ok():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out")


def test_records_of_an_earlier_boot_count_on_the_lot_screen(make_app, tmp_path: Path) -> None:
    earlier = writer_in(tmp_path)  # the same station key and report dir, an earlier boot
    never = drive(serial="ZZ-NEVER-SEEN", identity="ZZ-NEVER-SEEN", name="sdx")
    assert earlier.write(replace(job(drive=never), job_id="old"))
    stranger = drive(serial="OLD-STRANGER", identity="OLD-STRANGER", name="sdy")
    assert earlier.write(replace(job(drive=stranger), job_id="older"))
    earlier.close()
    forged = record(Signer.generate(), "S3Z9NB0K999999", lot_id="LOT-7")
    save(tmp_path / "out/reports/2026-11-27", "forged", forged)

    app, _, _ = make_app(config=lot_config(tmp_path), writer=writer_in(tmp_path))

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "resumed" in said(app))
            assert "Lot LOT-7 resumed: 2 earlier record(s), 1 not signed by this station" in said(
                app
            )
            await pilot.press("o")
            await pilot.pause()
            body = str(app.screen.query_one("#lot-body").render())
            assert "1 passed" in body
            assert "Not seen yet (2):" in body  # 3 before the earlier boot's record counted
            assert "ZZ-NEVER-SEEN" not in body
            assert "S3Z9NB0K999999" in body  # the forged PASS leaves its entry open
            assert "Not on the manifest (3):" in body  # the rack's two, and the earlier one
            assert "earlier  S/N OLD-STRANGER" in body

    asyncio.run(scenario())


def test_an_unattended_screen_closes_its_lot_before_it_powers_off(
    make_app, tmp_path: Path, monkeypatch
) -> None:
    """The screen's unattended mode ends as the conveyor's does: the lot record and its PDF are
    on the report target before the station powers off (the manifest's entries are all open)."""
    import json

    monkeypatch.setattr("wipestation.tui.app.POWEROFF_QUIET_S", 0.0)
    config = replace(lot_config(tmp_path), unattended=True, poweroff=True)
    app, _, _ = make_app(drives=[], config=config, writer=writer_in(tmp_path))

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            for _ in range(200):
                app.tick()
                await pilot.pause(0.05)
                if not app.is_running:
                    return

    asyncio.run(scenario())
    assert app.return_value == "poweroff"
    (lot,) = (tmp_path / "out" / "lots").glob("*.json")
    doc = json.loads(lot.read_bytes())
    assert (doc["lot_id"], doc["status"]) == ("LOT-7", "INCOMPLETE")
    assert lot.with_suffix(".pdf").exists()
