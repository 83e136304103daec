"""Start of shift: the operator signs in by typing a name or scanning a badge (a scanner types
into the focused box and presses Enter). Every record from then on names that operator.

Esc goes on without signing in (the configured operator, if any, stays on the records).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class SignInScreen(ModalScreen[str]):
    """Dismisses with the name or badge ('' on Esc)."""

    BINDINGS = [Binding("escape", "skip", "Skip")]
    AUTO_FOCUS = "#operator"

    def __init__(self, lot_id: str, current: str = "") -> None:
        super().__init__()
        self.lot_id = lot_id
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"SIGN IN  (lot {self.lot_id or '-'})", id="title")
            now = f"Now signed in: {self.current}" if self.current else "Nobody is signed in."
            yield Static(f"{now}\nType your name or scan your badge, then Enter; Esc skips.")
            field = Input(placeholder="name or badge", id="operator")
            field.cursor_blink = False  # no redraws on serial consoles, stable snapshots
            yield field

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        name = " ".join(event.value.split())
        if name:
            self.dismiss(name)

    def action_skip(self) -> None:
        self.dismiss("")
