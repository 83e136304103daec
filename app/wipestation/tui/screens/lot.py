"""The lot at a glance: its counts, the manifest entries not seen yet, the drives not on it.

``c`` closes the lot (after a yes/no question that names what is missing): the screen is
dismissed with True, and the drives screen asks the App to write the signed lot record and its
PDF to the report target (``LotCloseRequested``). ``o`` opens another lot or resumes one left
open on the stick (``lot_open.py``); the App applies it (``LotOpened``) and the drives screen shows
its line. An unattended station's lot is its configuration's.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from wipestation.custody.desk import DriveState, drive_states, lot_line
from wipestation.custody.manifest import ManifestEntry
from wipestation.tui.lot_sources import LotOpening
from wipestation.tui.messages import LotOpened
from wipestation.tui.screens.ask import AskScreen
from wipestation.tui.screens.lot_open import LotOpenScreen
from wipestation.tui.view import StationView

DONE = ("PASS", "DESTROYED")  # what closes an entry (custody.lot: a PASS or a destruction)


def session_drives(view: StationView) -> list[DriveState]:
    rows = [r for r in view.station.rows.values() if not r.drive.protected]
    return drive_states(((r.drive, r.busy) for r in rows), view.results())


def entry_line(e: ManifestEntry) -> str:
    parts = [f"line {e.line}", f"S/N {e.serial or '-'}", f"tag {e.asset_tag or '-'}"]
    return "  " + "  ".join([*parts, e.model] if e.model else parts)


def lot_body(view: StationView) -> Text:
    """What the lot screen shows (plain, so a snapshot and a serial console read the same)."""
    desk, drives = view.lot, session_drives(view)
    t = Text(lot_line(view.config.lot, desk, desk.counts(drives)) or "No lot on this station.")
    if desk.manifest is not None:
        missing = desk.not_seen(drives)
        t.append(f"\n\nNot seen yet ({len(missing)}):", style="bold")
        for e in missing:
            t.append("\n" + entry_line(e))
        unlisted = [d.drive for d in drives if desk.entry_of(d.drive) is None]
        here = {d.identity for d in unlisted}
        earlier = [r for r in desk.unlisted_prior() if r.identity not in here]
        t.append(f"\n\nNot on the manifest ({len(unlisted) + len(earlier)}):", style="bold")
        for d in unlisted:
            t.append(f"\n  {d.path}  S/N {d.serial or '-'}  {d.model or ''}".rstrip())
        for r in earlier:  # wiped on an earlier boot (custody/resume.py)
            t.append(f"\n  earlier  S/N {r.serial or '-'}  {r.model}  {r.outcome}".rstrip())
    return t


class LotScreen(Screen[bool]):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("c", "close_lot", "Close lot"),
        Binding("o", "open_lot", "Open lot"),
    ]

    def __init__(self, view: StationView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        cfg = self.view.config
        title = f" Lot {cfg.lot or '-'}" + (f"  customer {cfg.customer}" if cfg.customer else "")
        yield Label(title, id="lot-title")
        with VerticalScroll():
            yield Static(lot_body(self.view), id="lot-body")
        yield Footer(compact=True, show_command_palette=False)

    def action_back(self) -> None:
        self.dismiss(False)

    def action_open_lot(self) -> None:
        cfg = self.view.config
        if cfg.unattended:
            self.notify("Unattended station: the lot is the configuration's.", severity="error")
            return

        def opened(opening: LotOpening | None) -> None:
            if opening is not None:
                self.app.post_message(LotOpened(opening))  # this screen is closing
                self.dismiss(False)  # the drives screen shows the new lot's line

        self.app.push_screen(LotOpenScreen(cfg.lot, cfg.customer, cfg.manifest), opened)

    def action_close_lot(self) -> None:
        desk, drives = self.view.lot, session_drives(self.view)
        states = desk.entry_states(drives)
        open_entries = [e for e in desk.entries if states.get(e.line) not in DONE]
        body = "The lot record and its PDF go to the report target."
        if open_entries:
            listing = "\n".join(entry_line(e) for e in open_entries[:8])
            more = f"\n  ... and {len(open_entries) - 8} more" if len(open_entries) > 8 else ""
            head = f"INCOMPLETE: {len(open_entries)} entries without a PASS or destruction"
            body = f"{head}:\n{listing}{more}\n{body}"

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(True)

        self.app.push_screen(AskScreen(f"CLOSE LOT {self.view.config.lot or '-'}?", body), answered)
