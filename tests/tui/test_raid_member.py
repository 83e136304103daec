"""On screen, an Intel RST member disk (a real udev record) is marked RAID SET on its row, its
progress cell and details say what erasing it does, and it can still be chosen and wiped."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from wipestation.discovery.inventory import drive_from_properties
from wipestation.model import Drive
from wipestation.tui import format as fmt
from wipestation.tui.screens.drives import hint_for
from wipestation.tui.station import Row
from wipestation.tui.widgets.drive_table import row_cells

from tests.discovery.test_raid_members import ISW_NOTICE, member
from tests.tui.conftest import rack
from tests.tui.fakes import GB

SIZE = (160, 40)


def with_member() -> list[Drive]:
    d = drive_from_properties(member())  # udev's record has no sysfs size: the disk's 300 GB
    return [*rack(), replace(d, name="sdx", path="/dev/sdx", size_bytes=300 * GB)]


def test_the_row_says_raid_set_and_the_details_say_why(make_app) -> None:
    app, engine, _ = make_app(drives=with_member())

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            row = app.station.rows["sdx"]
            assert row.state == "RAID SET"
            cells = dict(
                zip((c.key for c in fmt.FULL), row_cells(row, fmt.FULL, True), strict=True)
            )
            assert cells["state"][0].strip() == "RAID SET"
            assert cells["progress"][0].startswith("member of a RAID set")
            names = list(app.station.rows)
            await pilot.press(*["down"] * names.index("sdx"), "d")
            await pilot.pause()
            body = str(app.screen.query_one("#details-body").render())
            assert f"RAID SET   {ISW_NOTICE}" in body
            await pilot.press("escape", "space")  # still a drive: it can be chosen
            await pilot.pause()
            assert "sdx" in [r.name for r in app.station.selected()]

    asyncio.run(scenario())


def test_the_hint_line_says_what_erasing_a_member_does() -> None:
    d = with_member()[-1]
    hint = hint_for(Row(d), "auto")
    assert hint.endswith(f"-  {ISW_NOTICE}"), hint
