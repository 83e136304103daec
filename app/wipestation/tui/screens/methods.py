"""Choose the erase method: each with its NIST level and how many chosen drives can run it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from wipestation.model import Drive
from wipestation.planning.catalogue import Method
from wipestation.tui.catalog import supported_by
from wipestation.tui.format import fit


def method_prompt(m: Method, drives: list[Drive], current: str) -> Text:
    ok, total = supported_by(m, drives)
    t = Text()
    t.append("> " if m.name == current else "  ", style="bold")
    t.append(fit(m.name, 16), style="bold")
    t.append(fit(m.level_text, 12), style="green" if "purge" in m.level_text else "")
    t.append(fit(m.title, 26))
    if total:
        t.append(f" {ok}/{total} ok", style="" if ok == total else "bold yellow")
    return t


class MethodScreen(ModalScreen[str | None]):
    """Dismisses with the chosen method name, or None on Esc."""

    BINDINGS = [Binding("escape", "cancel", "Back")]
    AUTO_FOCUS = "#method-list"

    def __init__(self, methods: tuple[Method, ...], drives: list[Drive], current: str) -> None:
        super().__init__()
        self.methods = methods
        self.drives = drives
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            scope = "k/n: selected drives on a bus that can run it" if self.drives else ""
            yield Label("Erase method", id="title")
            if scope:
                yield Label(scope)
            options = [
                Option(method_prompt(m, self.drives, self.current), id=m.name) for m in self.methods
            ]
            yield OptionList(*options, id="method-list")
            yield Label("Up/Down to move, Enter to choose, Esc to keep the current one.")

    def on_mount(self) -> None:
        names = [m.name for m in self.methods]
        if self.current in names:
            self.query_one(OptionList).highlighted = names.index(self.current)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
