"""The scan rule alone: which key presses are a barcode and which are the screen's commands."""

from __future__ import annotations

from wipestation.tui.scan import BURST_S, ScanBuffer


def feed(buf: ScanBuffer, text: str, start: float, step: float) -> list[bool]:
    return [buf.take(c, bound=c in "acdlmpsw ", now=start + i * step) for i, c in enumerate(text)]


def test_a_bound_key_inside_a_burst_is_part_of_the_code() -> None:
    buf = ScanBuffer()
    assert feed(buf, "AT-dw9", 0.0, 0.005) == [True] * 6  # a scanner: 5 ms a character
    assert buf.enter() == "AT-dw9"


def test_a_bound_key_typed_slowly_acts_and_drops_the_run() -> None:
    buf = ScanBuffer()
    assert feed(buf, "12", 0.0, 0.2) == [True, True]  # unbound: kept, however slow
    assert not buf.take("w", bound=True, now=0.2 + 2 * BURST_S + 0.01)
    assert buf.pending == ""
    assert buf.enter() == ""  # Enter then keeps its own meaning


def test_a_short_run_is_no_code() -> None:
    buf = ScanBuffer()
    feed(buf, "AB", 0.0, 0.001)
    assert buf.enter() == ""
    feed(buf, "ABC", 1.0, 0.001)
    assert buf.enter() == "ABC"
