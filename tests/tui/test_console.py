"""The console promise: on TERM=linux / vt220 every screen is plain ASCII and fits 80x24.

Reads the rendered screen from Textual's SVG export (its text nodes), so it checks what the
operator would see, including Textual's own widgets (footer, toasts, inputs, scrollbars).
"""

from __future__ import annotations

import asyncio
import html
import re

import pytest
from wipestation.model import JobState
from wipestation.tui.format import ascii_terminal, bar, eta_cell, fit, progress_cell

from tests.tui.test_pilot import started

_TEXT = re.compile(r"<text [^>]*>(.*?)</text>")


def screen_text(svg: str) -> str:
    return "".join(html.unescape(t) for t in _TEXT.findall(svg)).replace("\xa0", " ")


def non_ascii(text: str) -> set[str]:
    return {c for c in text if ord(c) > 126}


@pytest.mark.slow
def test_every_screen_is_ascii_at_80x24(make_app) -> None:
    app, engine, _ = make_app(ascii_only=True)
    shots: dict[str, str] = {}

    async def scenario() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.start_wipe(("sdb", "sdc"), "nist-clear")
            await started(app, pilot)
            engine.advance(
                engine.job_of("sdb"), state=JobState.ERASING, bytes_done=5, bytes_total=9
            )
            engine.advance(engine.job_of("sdc"), state=JobState.FAILED, last_error="I/O error")
            await pilot.pause(0.5)
            shots["main"] = app.export_screenshot()
            for name, keys in (
                ("confirm", ["a", "w", "x", "enter"]),
                ("method", ["m"]),
                ("help", ["question_mark"]),
                ("details", ["down", "d"]),
                ("summary", ["s"]),
                ("poweroff", ["p"]),
            ):
                await pilot.press(*keys)
                await pilot.pause()
                shots[name] = app.export_screenshot()
                await pilot.press("escape")
                await pilot.pause()

    asyncio.run(scenario())
    assert {k: non_ascii(screen_text(v)) for k, v in shots.items()} == dict.fromkeys(shots, set())
    assert "FAIL" in screen_text(shots["main"])
    assert "not 'WIPE 1'" in screen_text(shots["confirm"])  # only nvme0n1 is still fresh


def test_ascii_is_chosen_for_console_terminals() -> None:
    assert ascii_terminal("linux")
    assert ascii_terminal("vt220")
    assert ascii_terminal("vt100")
    assert not ascii_terminal("xterm-256color")


def test_cells_are_exactly_their_width() -> None:
    assert fit("WD-WCC4N1234567-LONG", 15) == "WD-WCC4N123456~"
    assert fit("sda", 6) == "sda   "
    assert bar(0.5, 10, ascii_only=True) == "#####-----"
    assert len(bar(0.33, 17, ascii_only=False)) == 17
    assert progress_cell(1.0, 11, ascii_only=True) == "###### 100%"
    assert eta_cell(3720) == "1h02m"
    assert eta_cell(59) == " 0m59s"
    assert eta_cell(None) == ""
