"""A yes/no question for actions that cannot be undone (cancel a wipe, power off).

``y`` or Enter on "Yes" confirms; ``n`` or Esc backs out. Keys only: no mouse on the station.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class AskScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, id="title")
            yield Static(self.body, id="ask-body")
            yield Label("Press  y  for yes,  n  or Esc for no.")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
