"""The main view: every drive, its state, and the keys that act on the selection.

Actions here open dialogs and hand confirmed requests to the App; the App talks to the engine.
The table is refreshed by the App's tick (``show``), never by the engine's threads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Static

from wipestation.tui.screens.ask import AskScreen
from wipestation.tui.screens.confirm import ConfirmWipeScreen
from wipestation.tui.screens.details import DetailsScreen
from wipestation.tui.screens.help import HelpScreen
from wipestation.tui.screens.methods import MethodScreen
from wipestation.tui.screens.poweroff import PowerOffScreen
from wipestation.tui.screens.summary import SummaryScreen
from wipestation.tui.station import Row
from wipestation.tui.widgets.drive_table import DriveTable
from wipestation.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from wipestation.tui.app import WipestationApp


def hint_for(row: Row | None, method: str, looking: bool = False) -> str:
    if row is None and looking:
        return "Looking for drives: the system is still reading its devices."
    if row is None:
        return "No drives found. Plug one in; it appears here by itself."
    d = row.drive
    head = f"{d.path}  {d.model or '-'}  S/N {d.serial or '-'}"
    if row.why_not_wipeable and not row.busy:
        return f"{head}  -  {row.why_not_wipeable}"
    if row.refused and row.progress is None:
        return f"{head}  -  not started: {row.refused}"
    if row.progress is not None and row.progress.last_error:
        return f"{head}  -  {row.progress.last_error}"
    return f"{head}  -  method {row.progress.method if row.progress else method}"


class DrivesScreen(Screen[None]):
    BINDINGS = [
        Binding("space", "toggle", "Select"),
        Binding("a", "select_all", "All"),
        Binding("m", "method", "Method"),
        Binding("w", "wipe", "Wipe"),
        Binding("c", "cancel", "Stop"),
        Binding("d", "details", "Info"),
        Binding("l", "app.reprint_label", "Label"),
        Binding("s", "summary", "Summary"),
        Binding("question_mark,f1", "help", "Help"),
        Binding("p", "poweroff", "Off"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._hint = ""
        self.table = DriveTable(False, id="drives")  # ascii_only is set in compose
        self.status = StatusBar(id="status")
        self.hint = Static("", id="hint")
        self.message = Static("", id="message")

    @property
    def station_app(self) -> WipestationApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        app = self.station_app
        self.table.ascii_only = app.ascii_only
        yield self.status
        yield Static(self._banner(), id="banner", classes="" if self._banner() else "hidden")
        yield self.table
        yield self.hint
        yield self.message
        yield Footer(compact=True, show_command_palette=False)

    def _banner(self) -> Text:
        app = self.station_app
        t = Text()
        if app.config.unattended:
            t.append(
                f" UNATTENDED: every drive plugged in is wiped with {app.config.method} ",
                style="bold white on red",
            )
        for err in app.config.errors:
            t.append(f"\n config: {err}", style="bold yellow")
        return t

    def show(self) -> None:
        """Called by the App's tick and after every state change."""
        if not self.table.is_attached:  # a last tick while the App shuts down
            return
        app = self.station_app
        self.table.show(list(app.station.rows.values()), app.size.width)
        self.status.show(app.config.station, app.station.counts(), app.report_status())
        self._show_hint()

    def _show_hint(self) -> None:
        app = self.station_app
        name = self.table.highlighted_name
        row = app.station.row_of(name) if name else None
        text = hint_for(row, app.method, looking=row is None and app.udev_busy())
        if text != self._hint:
            self._hint = text
            self.hint.update(Text(text))

    def say(self, text: str, error: bool = False) -> None:
        self.message.update(Text(text, style="bold red" if error else "bold"))

    def on_resize(self, _: Resize) -> None:
        self.show()

    def on_drive_table_highlighted(self, _: DriveTable.Highlighted) -> None:
        self._show_hint()

    def on_drive_table_chosen(self, event: DriveTable.Chosen) -> None:
        event.stop()
        self.action_details()

    # ---- actions ------------------------------------------------------------------------------
    def _highlighted(self) -> Row | None:
        name = self.table.highlighted_name
        return self.station_app.station.row_of(name) if name else None

    def action_toggle(self) -> None:
        row = self._highlighted()
        if row is None:
            return
        problem = self.station_app.station.toggle(row.name)
        self.say(problem or f"{len(self.station_app.station.selected())} selected", bool(problem))
        self.show()

    def action_select_all(self) -> None:
        station = self.station_app.station
        if station.selected():
            station.clear_selection()
            self.say("Selection cleared")
        else:
            self.say(f"{station.select_all()} wipeable drive(s) selected")
        self.show()

    def action_method(self) -> None:
        app = self.station_app
        drives = [r.drive for r in app.station.selected()]
        app.push_screen(MethodScreen(app.methods, drives, app.method), self._method_chosen)

    def _method_chosen(self, name: str | None) -> None:
        if name:
            self.station_app.method = name
            self.say(f"Method for the next wipe: {name}")
            self._show_hint()

    def action_wipe(self) -> None:
        app = self.station_app
        rows = app.station.selected()
        if not rows:
            self.say("Select drives first: Space selects one, a selects all wipeable.", True)
            return
        names = tuple(r.name for r in rows)
        method = app.method

        def confirmed(ok: bool | None) -> None:
            if ok:
                app.start_wipe(names, method)
            else:
                self.say("Nothing was started.")

        app.push_screen(ConfirmWipeScreen([r.drive for r in rows], method), confirmed)

    def action_cancel(self) -> None:
        app = self.station_app
        rows = [r for r in app.station.selected() if r.busy]
        highlighted = self._highlighted()
        if not rows and highlighted is not None and highlighted.busy:
            rows = [highlighted]
        if not rows:
            self.say("No running wipe selected or highlighted.", True)
            return
        listing = "\n".join(f"  {r.drive.path}  S/N {r.drive.serial or '-'}" for r in rows)
        body = f"Stop erasing these drives? They will NOT be clean.\n{listing}"

        def answered(yes: bool | None) -> None:
            if yes:
                self.say(f"Cancelling {app.station.cancel(rows)} wipe(s)")

        app.push_screen(AskScreen(f"CANCEL {len(rows)} WIPE(S)?", body), answered)

    def action_details(self) -> None:
        row = self._highlighted()
        if row is not None:
            self.station_app.push_screen(DetailsScreen(row.name))

    def action_summary(self) -> None:
        app = self.station_app
        app.push_screen(SummaryScreen(list(app.engine.results().values())))

    def action_help(self) -> None:
        self.station_app.push_screen(HelpScreen())

    def action_poweroff(self) -> None:
        app = self.station_app
        screen = PowerOffScreen(app.station.counts().running, app.report_status().pending)
        app.push_screen(screen, lambda yes: app.power_off() if yes else None)
