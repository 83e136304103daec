"""The typed confirmation: nothing is erased until the operator types ``WIPE <count>``.

Typing the count (not pressing a key) forces a look at how many drives are about to be erased;
the list shows each one's serial and size, the things written on the drive's own label.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from wipestation.model import Drive
from wipestation.tui.format import fit, size_cell


def phrase_for(count: int) -> str:
    return f"WIPE {count}"


def phrase_matches(typed: str, count: int) -> bool:
    """Case and extra spaces do not matter; the word and the number do."""
    return " ".join(typed.split()).upper() == phrase_for(count)


def drive_lines(drives: list[Drive]) -> Text:
    t = Text()
    for d in drives:
        t.append(f"{fit(d.path, 14)} {fit(d.serial or '(no serial)', 20)} ", style="bold")
        t.append(f"{fit(size_cell(d.size_bytes), 9)} {d.model}\n")
    return t


class ConfirmWipeScreen(ModalScreen[bool]):
    """Dismisses with True only after the exact phrase; Esc dismisses with False."""

    BINDINGS = [Binding("escape", "cancel", "Back (nothing erased)")]
    AUTO_FOCUS = "#phrase"

    def __init__(self, drives: list[Drive], method: str) -> None:
        super().__init__()
        self.drives = drives
        self.method = method

    @property
    def phrase(self) -> str:
        return phrase_for(len(self.drives))

    def compose(self) -> ComposeResult:
        n = len(self.drives)
        with Vertical(id="confirm-box", classes="dialog"):
            yield Label(f"ERASE {n} DRIVE{'S' if n != 1 else ''} with {self.method}", id="title")
            yield Static("Everything on these drives will be destroyed:", classes="warn")
            with VerticalScroll(id="confirm-list"):
                yield Static(drive_lines(self.drives))
            yield Label(f"Type  {self.phrase}  and press Enter, or Esc to go back:")
            field = Input(placeholder=self.phrase, id="phrase")
            field.cursor_blink = False  # no redraws on serial consoles, stable snapshots
            yield field
            yield Static("", id="confirm-error", classes="error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if phrase_matches(event.value, len(self.drives)):
            self.dismiss(True)
            return
        shown = event.value.strip() or "nothing"
        self.query_one("#confirm-error", Static).update(
            f"You typed {shown!r}, not {self.phrase!r}. Nothing was started."
        )
        event.input.value = ""

    def action_cancel(self) -> None:
        self.dismiss(False)
