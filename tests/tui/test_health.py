"""The table's health word and the details view's health lines come from the planner's one
source (``caps.health``: SMART overall-health, the NVMe Critical Warning bits), on real smartctl
captures (tests/fixtures/smartctl/PROVENANCE.md).

No real capture of an NVMe drive with its media-read-only bit set was found (as in
tests/policy/test_health.py): the READ-ONLY cases set bit 3 of the real Samsung 970 EVO capture's
``critical_warning`` (the only change).
"""

from __future__ import annotations

import asyncio

import pytest
from wipestation.model import Drive, Transport
from wipestation.planning.capabilities import Capabilities
from wipestation.tools import smartctl
from wipestation.tui import format as fmt
from wipestation.tui.app import WipestationApp
from wipestation.tui.health import health_lines, health_word
from wipestation.tui.station import Row
from wipestation.tui.widgets.drive_table import row_cells

from tests.policy.test_health import FAILED_WD, SAMSUNG_NVME, samsung_with_warning
from tests.tools.fakes import fixture
from tests.tui.conftest import FIXED_CLOCK, METHODS, rack
from tests.tui.fakes import FakeEngine, FakePlanner, make_drive, services

HGST = "smartctl/ata-hdd-hgst-hus724020ale640.json"
LOOP = "smartctl/loop-unable-to-detect.json"
SIZE = (160, 40)


def caps_of(smart: smartctl.SmartSummary | None, transport: str = "nvme") -> Capabilities:
    return Capabilities(path="/dev/x", transport=transport, smart=smart)


def real(rel: str) -> smartctl.SmartSummary:
    return smartctl.parse(fixture(rel))


@pytest.mark.parametrize(
    ("smart", "word"),
    [
        (lambda: samsung_with_warning(0x08), "READ-ONLY"),  # media read-only
        (lambda: samsung_with_warning(0x0C), "READ-ONLY"),  # read-only beats degraded
        (lambda: samsung_with_warning(0x04), "FAILING"),  # reliability degraded, SMART passed
        (lambda: real(FAILED_WD), "FAILING"),  # SMART FAILED (and 535 reallocated: not WARN)
        (lambda: real(SAMSUNG_NVME), "WARN"),  # healthy, but 7 media errors
        (lambda: real(HGST), "OK"),
        (lambda: real(LOOP), "?"),  # smartctl could not run: never "OK"
        (lambda: None, "n/a"),
    ],
)
def test_the_word_is_the_planners_health(smart, word) -> None:
    assert health_word(caps_of(smart())) == word


def test_the_details_state_the_health_reasons() -> None:
    drv = make_drive("nvme0n1", transport=Transport.NVME)
    lines = health_lines(drv, caps_of(samsung_with_warning(0x08)))
    assert lines[1] == "health: READ-ONLY"
    assert "  NVMe critical warning: media placed in read-only mode" in lines
    failed = health_lines(drv, caps_of(real(FAILED_WD), "sata"))
    assert failed[1:3] == ["health: FAILING", "  SMART overall-health self-assessment: FAILED"]
    assert "SMART: self-assessment FAILED" in failed
    assert "  reallocated sectors: 535" in failed
    unknown = health_lines(drv, caps_of(real(LOOP), "loop"))
    assert unknown[1:3] == ["health: ?", "  no SMART health report from the drive"]


def health_cell(row: Row) -> tuple[str, str]:
    cells = dict(zip((c.key for c in fmt.FULL), row_cells(row, fmt.FULL, True), strict=True))
    return cells["health"][0].strip(), cells["health"][1]


@pytest.mark.parametrize(
    ("word", "style"),
    [
        ("READ-ONLY", "bold white on red"),
        ("FAILING", "bold red"),
        ("WARN", "yellow"),
        ("OK", ""),
        ("n/a", ""),
        ("?", ""),
    ],
)
def test_the_table_cell_holds_the_whole_word_in_its_colour(word: str, style: str) -> None:
    row = Row(drive=make_drive("nvme0n1", transport=Transport.NVME), health=word)
    assert health_cell(row) == (word, style)


def test_a_protected_rows_health_stays_grey() -> None:
    boot = make_drive("sda", protected=("holds / (the running system)",))
    assert health_cell(Row(drive=boot, health="FAILING")) == ("FAILING", "bright_black")


class HealthPlanner(FakePlanner):
    """Answers each drive's probe with a real capture's SMART summary."""

    def __init__(self, smart: dict[str, smartctl.SmartSummary | None]) -> None:
        super().__init__()
        self.smart = smart

    def capabilities(self, drive: Drive) -> Capabilities:
        return caps_of(self.smart.get(drive.name), str(drive.transport))


def test_the_screen_shows_read_only_and_failing_and_the_details_say_why() -> None:
    planner = HealthPlanner(
        {"sdb": real(FAILED_WD), "sdc": real(HGST), "nvme0n1": samsung_with_warning(0x08)}
    )
    engine = FakeEngine()
    app = WipestationApp(
        services=services(engine, rack(), planner=planner),
        methods=METHODS,
        clock=lambda: FIXED_CLOCK,
        ascii_only=True,
    )

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            for _ in range(50):  # the probe runs in a worker thread
                await pilot.pause(0.05)
                if app.station.rows["nvme0n1"].health != "-":
                    break
            rows = app.station.rows
            words = [rows[n].health for n in ("sdb", "sdc", "nvme0n1")]
            assert words == ["FAILING", "OK", "READ-ONLY"]
            table = app.drives_screen.query_one("DriveTable")
            line = table.render_line(1 + list(rows).index("nvme0n1")).text
            assert " READ-ONLY " in line
            await pilot.press(*["down"] * list(rows).index("nvme0n1"), "d")
            await pilot.pause()
            body = str(app.screen.query_one("#details-body").render())
            assert "health: READ-ONLY" in body
            assert "NVMe critical warning: media placed in read-only mode" in body

    asyncio.run(scenario())
