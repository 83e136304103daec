"""Barcode scanners are keyboards: which key presses are a scanned code, and which are commands.

A scanner ("keyboard wedge") types a code as a burst of key presses ending in Enter.
``ScanBuffer`` tells a code from the screen's one-key commands:

- a *code* is a run of at least ``SCAN_MIN`` printable characters typed with no other action in
  between, ended by Enter; shorter runs and any other key (arrows, Escape ...) drop the run;
- a key the screen does not bind always goes into the run (so a code typed by hand works);
- a key the screen binds (a, w, c, d, space ...) acts at once and drops the run — unless it
  arrives within ``BURST_S`` of the previous character of a run: then a scanner is typing
  (a scanner types a character every few milliseconds, a person every ~100 ms or more) and it
  is part of the code. Known limit: a code whose *first* character is a bound key acts on it;
  codes are compared without case, so labels and hand-typed codes in capitals always work.

What a code means (a drive, a manifest entry, an asset tag) is the lot desk's business
(``custody.desk.LotDesk.scan``), shared with every front end.
"""

from __future__ import annotations

SCAN_MIN = 3
BURST_S = 0.05


class ScanBuffer:
    """Key presses → codes (see the module docstring for the rule)."""

    def __init__(self) -> None:
        self._chars: list[str] = []
        self._last = float("-inf")

    def take(self, char: str, *, bound: bool, now: float) -> bool:
        """Whether ``char`` is part of a code (the screen swallows it); False: let it act."""
        in_burst = bool(self._chars) and now - self._last <= BURST_S
        if bound and not in_burst:
            self.clear()
            return False
        self._chars.append(char)
        self._last = now
        return True

    def enter(self) -> str:
        """The code Enter completes, or '' (then Enter keeps its usual meaning)."""
        code = "".join(self._chars).strip()
        self.clear()
        return code if len(code) >= SCAN_MIN else ""

    def clear(self) -> None:
        self._chars.clear()

    @property
    def pending(self) -> str:
        return "".join(self._chars)
