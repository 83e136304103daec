"""The keys, in words a first-day operator understands."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

HELP = """\
Up/Down     move between drives
Space       select / deselect the drive (protected drives cannot be selected)
a           select every wipeable drive not wiped yet (again: deselect all)
m           choose the erase method (shows the NIST level of each)
w           WIPE the selected drives: you type WIPE <count> to confirm
c           stop (cancel) the wipe on the selected drives (or the highlighted one)
Enter / d   info: identity, SMART health, plan and fallbacks, log, report
l           print the label of the highlighted drive again
s           summary of every finished drive in this session
?           this help
p           power off the station (asks first)
o           the lot: counts, entries not seen yet; close the lot there (c),
            or open a new lot / resume one left open on the stick (o)
i           sign in (type your name or scan your badge)
x           record the highlighted drive as physically destroyed (shredded ...)
k           unlock: give a locked drive's password or the PSID from its label
            (typed or scanned, never shown); w then wipes it with that

Barcode scanner: scan anywhere (or type 3+ characters, then Enter).
A drive's serial or WWN picks that drive and checks its label; then
scan its asset tag (or its manifest tag) to put it on the drive's record.

Colours: PASS green, FAIL red, erasing yellow, verifying magenta,
protected grey (the reason is shown; such drives are never written).
UNATTENDED in the header: every drive plugged in is wiped without asking.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="help-box"):
            yield Label("Keys", id="title")
            with VerticalScroll():
                yield Static(HELP)
            yield Label("Esc closes this help.")

    def action_close(self) -> None:
        self.dismiss(None)
