"""Recording that a drive was physically destroyed: how (a number or a name), by the operator
signed in, now. Esc records nothing."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from wipestation.custody.destroy import METHODS
from wipestation.model import Drive
from wipestation.tui.destruction import method_named


class DestroyScreen(ModalScreen[str]):
    """Dismisses with the method ('' on Esc)."""

    BINDINGS = [Binding("escape", "cancel", "Back (nothing recorded)")]
    AUTO_FOCUS = "#method"

    def __init__(self, drive: Drive, state: str, by: str) -> None:
        super().__init__()
        self.drive = drive
        self.state = state
        self.by = by

    def compose(self) -> ComposeResult:
        d = self.drive
        choices = "  ".join(f"{i} {m}" for i, m in enumerate(METHODS, 1))
        with Vertical(classes="dialog"):
            yield Label(f"DRIVE DESTROYED: {d.path}", id="title")
            yield Static(
                f"S/N {d.serial or '-'}  {d.model}  ({self.state})\n"
                f"Destroyed by {self.by}, now. How? {choices}"
            )
            field = Input(placeholder="number or name, then Enter", id="method")
            field.cursor_blink = False  # no redraws on serial consoles, stable snapshots
            yield field
            yield Static("", id="destroy-error", classes="error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        method = method_named(event.value)
        if method:
            self.dismiss(method)
            return
        self.query_one("#destroy-error", Static).update(f"Not a method: {event.value.strip()!r}")
        event.input.value = ""

    def action_cancel(self) -> None:
        self.dismiss("")
