"""The screen lists a RAID logical volume and a BMC's virtual media (real udev captures) as what
they are, never selects them with "all", and says why on the row and in the hint."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from wipestation.model import Drive
from wipestation.tui import format as fmt
from wipestation.tui.screens.drives import hint_for
from wipestation.tui.widgets.drive_table import row_cells

from tests.discovery.test_controllers import pci
from tests.policy.test_controllers import bmc_sd, perc_volume
from tests.tui.conftest import rack

SIZE = (120, 40)


def with_volume_and_bmc() -> list[Drive]:
    volume, bmc = perc_volume(), bmc_sd()  # both are sda in their captures
    return [*rack(), renamed(volume, "sdx"), renamed(bmc, "sdy")]


def renamed(d: Drive, name: str) -> Drive:
    return replace(d, name=name, path=f"/dev/{name}")


def test_all_never_selects_a_volume_or_bmc_media_and_the_rows_say_what_they_are(make_app) -> None:
    app, _, _ = make_app(drives=with_volume_and_bmc())

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            rows = app.station.rows
            assert (rows["sdx"].state, rows["sdy"].state) == ("VOLUME", "BMC MEDIA")
            await pilot.press("a")
            assert [r.name for r in app.station.selected()] == ["sdb", "sdc", "nvme0n1"]
            # ... but Space chooses one on purpose
            names = list(app.station.rows)
            await pilot.press(*["down"] * names.index("sdx"), "space")
            assert "sdx" in [r.name for r in app.station.selected()]
            assert app.drives_screen.controllers.display is False  # this host has no RAID HBA

    asyncio.run(scenario())


def test_the_row_and_the_hint_say_why_it_is_not_a_drive(make_app) -> None:
    app, _, _ = make_app(drives=with_volume_and_bmc())
    app.station.load(with_volume_and_bmc())  # what the App does on mount
    row = app.station.rows["sdx"]
    columns = fmt.layout_for(200)
    cells = dict(zip((c.key for c in columns), row_cells(row, columns, True), strict=True))
    assert cells["state"][0].strip() == "VOLUME"
    assert cells["progress"][0].startswith("logical volume of")  # fitted: the hint has it all
    hint = hint_for(row, "auto")
    assert "logical volume of MegaRAID controller at 0000:c1:00.0" in hint
    assert "HBA/JBOD mode" in hint
    assert hint.endswith("(Space + w to wipe it on purpose)")


def test_the_screen_names_the_controller_that_hides_disks(make_app, tmp_path) -> None:
    # A MegaRAID with nothing visible, in a sysfs tree laid out as the kernel's.
    pci(tmp_path, "0000:03:00.0", "0x010400", "megaraid_sas")
    app, _, _ = make_app(drives=with_volume_and_bmc())
    app.drives_screen.sys_root = str(tmp_path)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()  # the screen reads sysfs in a worker
            await pilot.pause()
            shown = app.drives_screen.controllers
            assert shown.display is True
            assert str(shown.render()) == (
                "MegaRAID controller at 0000:03:00.0: no disks visible: switch the controller "
                "to HBA/JBOD mode, or move the disks to a plain port"
            )

    asyncio.run(scenario())
