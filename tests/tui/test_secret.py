"""The unlock dialog (Pilot): a PSID or an ATA password typed or scanned, masked, checked."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from textual.app import App
from textual.widgets import Input, Static
from wipestation.planning.capabilities import Capabilities
from wipestation.steps.secret import Secret, SecretKind
from wipestation.tui.screens.secret import SecretScreen

from tests.policy.test_locked import crucial_m4_locked
from tests.tui.test_pilot import SIZE
from tests.tui.test_scanner import said

PSID = "0123456789ABCDEF0123456789ABCDEF"


class Host(App[None]):
    def __init__(self, screen: SecretScreen) -> None:
        super().__init__()
        self.dialog, self.answers = screen, []

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.answers.append)


def run(screen: SecretScreen, *keys: str) -> tuple[Host, list[str]]:
    host, seen = Host(screen), []

    async def scenario() -> None:
        async with host.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            seen.append(f"masked={screen.query_one(Input).password}")
            for key in keys:
                await pilot.press(key)
                if key == "enter":
                    await pilot.pause()
                    if host.screen is screen:
                        seen.append(str(screen.query_one("#problem", Static).render()))
                        seen.append(screen.query_one(Input).value)
            await pilot.pause()

    asyncio.run(scenario())
    return host, seen


def sed_dialog() -> SecretScreen:
    return SecretScreen("/dev/nvme0n1", "locked SED (TCG Opal 2)", (SecretKind.PSID,))


def test_a_scanned_psid_with_dashes_is_accepted_and_never_shown():
    label = "0123-4567-89ab-cdef-0123-4567-89AB-CDEF"
    host, _ = run(sed_dialog(), *label, "enter")
    assert host.answers == [Secret(SecretKind.PSID, PSID)]
    assert host.answers[0].value == PSID


def test_a_short_psid_is_said_and_the_dialog_stays():
    screen = sed_dialog()
    host, seen = run(screen, *"0123", "enter", "escape")
    assert "Not accepted: a PSID is 32 letters and digits" in seen[1]
    assert seen[2] == ""  # the rejected entry is cleared
    assert host.answers == [None]  # then Esc cancels


def test_the_password_box_masks_and_f2_switches_to_the_master_password():
    screen = SecretScreen("/dev/sda", "locked: needs the user or master password",
                          (SecretKind.USER, SecretKind.MASTER))  # fmt: skip
    host, seen = run(screen, "f2", *"EINS", "enter")
    assert seen[0] == "masked=True"
    assert host.answers == [Secret(SecretKind.MASTER, "EINS")]
    assert "EINS" not in repr(host.answers[0])


def test_k_on_a_drive_asks_its_secret_and_hands_it_to_the_planner(make_app) -> None:
    app, _, _ = make_app()
    seen: list[str] = []

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.drives_screen.highlight("nvme0n1")
            await pilot.press("k")
            await pilot.pause()
            assert isinstance(app.screen, SecretScreen)
            seen.append(str(app.screen.query_one("#prompt", Static).render()))
            await pilot.press(*PSID.lower(), "enter")
            await pilot.pause()
            assert app.screen is app.drives_screen
            seen.append(said(app))

    asyncio.run(scenario())
    planner = app.services.planner
    assert planner.secrets == {"S4EWNX0N987654": Secret(SecretKind.PSID, PSID)}  # type: ignore[attr-defined]
    assert "the PSID from the drive's label" in seen[0]  # an unprobed drive is offered a PSID first
    assert seen[1] == "/dev/nvme0n1: psid given; w wipes with it"
    assert PSID not in seen[1]


def test_a_locked_drive_says_so_in_the_hint_before_anything_is_tried(make_app) -> None:
    app, _, _ = make_app()
    hints: list[str] = []

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            row = app.station.row_of("sdb")
            assert row is not None
            row.caps = replace(
                Capabilities(path="/dev/sdb", transport="sata"), ata=crucial_m4_locked()
            )
            app.drives_screen.highlight("sdb")
            await pilot.pause()
            hints.append(str(app.drives_screen.hint.render()))

    asyncio.run(scenario())
    assert "locked: needs the user or master password, else destroy" in hints[0]
    assert hints[0].endswith("(k: give it)")
