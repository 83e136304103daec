"""The main view: every drive, its state, and the keys that act on the selection.

Actions here open dialogs and post confirmed requests upward as messages (``messages.py``); the
App talks to the engine. What the screen shows it reads from the ``StationView`` it is given.
The table is refreshed by the App's tick (``show``), never by the engine's threads.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Key, Resize
from textual.screen import Screen
from textual.widgets import Footer, Static

from wipestation import computermode
from wipestation.custody.desk import Custody, drive_states, lot_line
from wipestation.discovery.controllers import hidden_disks, not_a_drive, raid_member_notice
from wipestation.model import Attachment, Drive
from wipestation.planning.locks import lock_of, unlock_kinds
from wipestation.steps.secret import Secret
from wipestation.tui.messages import (
    CancelRequested,
    CodeScanned,
    DestroyRecorded,
    LabelReprintRequested,
    LotCloseRequested,
    MethodChosen,
    OperatorSignedIn,
    PowerOffRequested,
    WipeRequested,
)
from wipestation.tui.scan import ScanBuffer
from wipestation.tui.screens.ask import AskScreen
from wipestation.tui.screens.confirm import ConfirmWipeScreen
from wipestation.tui.screens.destroy import DestroyScreen
from wipestation.tui.screens.details import DetailsScreen
from wipestation.tui.screens.help import HelpScreen
from wipestation.tui.screens.lot import LotScreen
from wipestation.tui.screens.methods import MethodScreen
from wipestation.tui.screens.poweroff import PowerOffScreen
from wipestation.tui.screens.secret import SecretGiven, SecretScreen
from wipestation.tui.screens.signin import SignInScreen
from wipestation.tui.screens.summary import SummaryScreen
from wipestation.tui.station import Row
from wipestation.tui.view import StationView
from wipestation.tui.widgets.drive_table import DriveTable
from wipestation.tui.widgets.status_bar import StatusBar


def custody_hint(c: Custody | None) -> str:
    """What the labels said about the drive ('' when nothing was scanned for it)."""
    if c is None:
        return ""
    parts = ["label checked"] if c.label_checked else []
    parts += [f"tag {c.asset_tag}"] if c.asset_tag else []
    parts += [f"manifest line {c.entry.line}"] if c.entry else []
    parts += [f"LABEL S/N {c.label_serial}"] if c.label_serial else []
    return "  [" + ", ".join(parts) + "]" if parts else ""


def attached_tag(d: Drive) -> str:
    """'  [internal]' / '  [external]'; nothing where discovery could not tell."""
    return "" if d.attachment == Attachment.UNKNOWN else f"  [{d.attachment}]"


def computer_banner(computer: str) -> str:
    """Computer mode's identity line: which computer, and that only its own drives are taken."""
    return (
        f"COMPUTER: {computer or 'unknown computer'}: internal drives selected, "
        "external disks never by default"
    )


def hint_for(row: Row | None, method: str, looking: bool = False) -> str:
    if row is None and looking:
        return "Looking for drives: the system is still reading its devices."
    if row is None:
        return "No drives found. Plug one in; it appears here by itself."
    d = row.drive
    head = f"{d.path}  {d.model or '-'}  S/N {d.serial or '-'}{attached_tag(d)}"
    if row.why_not_wipeable and not row.busy:
        return f"{head}  -  {row.why_not_wipeable}"
    if row.refused and row.progress is None:
        return f"{head}  -  not started: {row.refused}"
    if row.caps is not None and row.progress is None and lock_of(row.caps):
        return f"{head}  -  {lock_of(row.caps)} (k: give it)"
    if not_a_drive(d) and row.progress is None:
        return f"{head}  -  {not_a_drive(d)} (Space + w to wipe it on purpose)"
    if raid_member_notice(d) and row.progress is None:
        return f"{head}  -  {raid_member_notice(d)}"
    if row.progress is not None and row.progress.last_error:
        return f"{head}  -  {row.progress.last_error}"
    return f"{head}  -  method {row.progress.method if row.progress else method}"


class DrivesScreen(Screen[None]):
    """Also takes barcode scans anywhere (``tui/scan.py``): no input box needed."""

    BINDINGS = [
        Binding("space", "toggle_row", "Select"),
        Binding("a", "select_all", "All"),
        Binding("m", "method", "Method"),
        Binding("w", "wipe", "Wipe"),
        Binding("c", "cancel", "Stop"),
        Binding("d", "details", "Info"),
        Binding("l", "label", "Label"),
        Binding("s", "summary", "Summary"),
        Binding("question_mark,f1", "help", "Help"),
        Binding("p", "poweroff", "Off"),
        Binding("o", "lot", "Lot", show=False),  # the lot line says so when there is a lot
        Binding("i", "sign_in", "Sign in", show=False),
        Binding("x", "destroyed", "Destroyed", show=False),
        Binding("k", "unlock", "Unlock", show=False),  # a locked drive's password or PSID
    ]
    BOUND = frozenset(k for b in BINDINGS if isinstance(b, Binding) for k in b.key.split(","))

    def __init__(self, view: StationView) -> None:
        super().__init__()
        self.view = view
        self._hint = ""
        self.table = DriveTable(view.ascii_only, id="drives")
        self.status = StatusBar(id="status")
        self.hint = Static("", id="hint")
        self.message = Static("", id="message")
        self.lot = Static("", id="lot")
        self.controllers = Static("", id="controllers")  # RAID controllers that hide disks
        self.controllers.display = False
        self.sys_root = "/sys"  # where the controllers are read (a test's sysfs tree)
        #: the station's row-set version and udev's state when they were read
        self._controllers_at: tuple[int, bool] = (-1, False)
        self._controllers_reading = False
        self.scans = ScanBuffer()

    def compose(self) -> ComposeResult:
        yield self.status
        yield Static(self._banner(), id="banner", classes="" if self._banner() else "hidden")
        yield self.table
        yield self.controllers
        yield self.lot
        yield self.hint
        yield self.message
        yield Footer(compact=True, show_command_palette=False)

    def _banner(self) -> Text:
        config = self.view.config
        t = Text()
        computer = computermode.on(config)
        if config.unattended:
            which = (
                "this computer's internal drives are" if computer else "every drive plugged in is"
            )
            t.append(f" UNATTENDED: {which} wiped with {config.method} ", style="bold white on red")
        if computer:  # the asset itself: which computer, and what is selected
            t.append("\n" if t.plain else "")
            t.append(f" {computer_banner(self.view.report_status().computer)} ", style="bold cyan")
        if self.view.key_notice:  # every record of this boot needs a decision at the office
            t.append("\n" if t.plain else "")
            t.append(f" {self.view.key_notice} ", style="bold black on yellow")
        for err in config.errors:
            t.append(f"\n config: {err}", style="bold yellow")
        return t

    def show(self) -> None:
        """Called by the App's tick and after every state change."""
        if not self.table.is_attached:  # a last tick while the App shuts down
            return
        view = self.view
        self.table.show(list(view.station.rows.values()), self.app.size.width)
        self.status.show(view.config.station, view.station.counts(), view.report_status())
        self._show_controllers()
        self._show_lot()
        self._show_hint()

    def _show_controllers(self) -> None:
        """RAID controllers that hide disks ("MegaRAID controller at ...: no disks visible"),
        read again when the set of drives changes or udev is done (a MegaRAID's driver binds
        late in a boot). The read walks sysfs (slow under load, and 48 drives change the set
        48 times), so a worker does it, one at a time; a change seen meanwhile is read at the
        next redraw."""
        station = self.view.station
        at = (station.version, self.view.looking())
        if at == self._controllers_at or self._controllers_reading:
            return
        self._controllers_at, self._controllers_reading = at, True
        self._read_controllers([r.drive for r in station.rows.values()])

    @work(thread=True, exit_on_error=False, group="controllers")
    def _read_controllers(self, drives: list[Drive]) -> None:
        lines: list[str] = []
        try:
            lines = hidden_disks(drives, self.sys_root)
        finally:  # whatever happened, the next change is read again
            self.app.call_from_thread(self._controllers_read, lines)

    def _controllers_read(self, lines: list[str]) -> None:
        self._controllers_reading = False
        self.controllers.display = bool(lines)
        self.controllers.update(Text("\n".join(lines), style="bold yellow"))

    def _show_lot(self) -> None:
        view = self.view
        rows = [r for r in view.station.rows.values() if not r.drive.protected]
        drives = drive_states(((r.drive, r.busy) for r in rows), view.results())
        text = lot_line(view.config.lot, view.lot, view.lot.counts(drives))
        self.lot.display = bool(text)
        self.lot.update(Text(f"[o] {text}", style="bold"))

    def _show_hint(self) -> None:
        row = self._highlighted()
        text = hint_for(row, self.view.method(), looking=row is None and self.view.looking())
        if row is not None:
            text += custody_hint(self.view.lot.custody.get(row.drive.identity))
        if text != self._hint:
            self._hint = text
            self.hint.update(Text(text))

    def say(self, text: str, error: bool = False) -> None:
        self.message.update(Text(text, style="bold red" if error else "bold"))

    def highlight(self, name: str) -> None:
        """Put the cursor on this drive (a scan picked it)."""
        names = list(self.view.station.rows)
        if name in names:
            self.table.move_cursor(names.index(name))
        self._show_hint()

    def on_key(self, event: Key) -> None:
        """Barcode scans: a run of characters ended by Enter goes up as ``CodeScanned``."""
        if event.key == "enter":
            code = self.scans.enter()
            if code:
                event.stop()
                self.post_message(CodeScanned(code, self.table.highlighted_name or ""))
            return
        char = event.character
        if not (event.is_printable and char):
            self.scans.clear()
            return
        if self.scans.take(char, bound=event.key in self.BOUND, now=time.monotonic()):
            event.stop()

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
        return self.view.station.row_of(name) if name else None

    def action_toggle_row(self) -> None:
        row = self._highlighted()
        if row is None:
            return
        problem = self.view.station.toggle(row.name)
        self.say(problem or f"{len(self.view.station.selected())} selected", bool(problem))
        self.show()

    def action_select_all(self) -> None:
        station = self.view.station
        if station.selected():
            station.clear_selection()
            self.say("Selection cleared")
        else:
            self.say(f"{station.select_all()} wipeable drive(s) selected")
        self.show()

    def action_method(self) -> None:
        view = self.view
        drives = [r.drive for r in view.station.selected()]
        self.app.push_screen(MethodScreen(view.methods, drives, view.method()), self._chosen)

    def _chosen(self, name: str | None) -> None:
        if name:
            self.post_message(MethodChosen(name))

    def action_wipe(self) -> None:
        rows = self.view.station.selected()
        if not rows:
            self.say("Select drives first: Space selects one, a selects all wipeable.", True)
            return
        names = tuple(r.name for r in rows)
        method = self.view.method()

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.post_message(WipeRequested(names, method))
            else:
                self.say("Nothing was started.")

        self.app.push_screen(ConfirmWipeScreen([r.drive for r in rows], method), confirmed)

    def action_cancel(self) -> None:
        rows = [r for r in self.view.station.selected() if r.busy]
        highlighted = self._highlighted()
        if not rows and highlighted is not None and highlighted.busy:
            rows = [highlighted]
        if not rows:
            self.say("No running wipe selected or highlighted.", True)
            return
        listing = "\n".join(f"  {r.drive.path}  S/N {r.drive.serial or '-'}" for r in rows)
        body = f"Stop erasing these drives? They will NOT be clean.\n{listing}"
        names = tuple(r.name for r in rows)

        def answered(yes: bool | None) -> None:
            if yes:
                self.post_message(CancelRequested(names))

        self.app.push_screen(AskScreen(f"CANCEL {len(rows)} WIPE(S)?", body), answered)

    def action_details(self) -> None:
        row = self._highlighted()
        if row is not None:
            self.app.push_screen(DetailsScreen(row.name, self.view))

    def action_label(self) -> None:
        self.post_message(LabelReprintRequested(self.table.highlighted_name or ""))

    def action_summary(self) -> None:
        self.app.push_screen(SummaryScreen(list(self.view.results().values())))

    def action_lot(self) -> None:
        def closed(yes: bool | None) -> None:
            if yes:
                self.post_message(LotCloseRequested())

        self.app.push_screen(LotScreen(self.view), closed)

    def action_sign_in(self) -> None:
        lot = self.view.lot
        current = lot.operators[-1] if lot.operators else self.view.config.operator

        def signed(name: str | None) -> None:
            if name:
                self.post_message(OperatorSignedIn(name))

        self.app.push_screen(SignInScreen(self.view.config.lot, current), signed)

    def action_destroyed(self) -> None:
        """Record that the highlighted drive was physically destroyed (a failed one, usually)."""
        row, lot = self._highlighted(), self.view.lot
        if row is None or row.drive.protected or row.busy:
            self.say("Highlight a drive that is not protected and not being wiped.", True)
            return
        by = lot.operators[-1] if lot.operators else self.view.config.operator
        if not by:
            self.say("Sign in first (i): a destruction record names who did it.", True)
            return
        name = row.name

        def answered(method: str | None) -> None:
            if method:
                self.post_message(DestroyRecorded(name, method))

        self.app.push_screen(DestroyScreen(row.drive, row.state, by), answered)

    def action_unlock(self) -> None:
        """The password or PSID of the highlighted locked drive (typed or scanned, masked)."""
        row = self._highlighted()
        if row is None or row.drive.protected or row.busy:
            self.say("Highlight a drive that is not protected and not being wiped.", True)
            return
        name, why = row.name, lock_of(row.caps) if row.caps else "not probed yet"
        screen = SecretScreen(row.drive.path, why or "no lock seen", unlock_kinds(row.caps))

        def answered(secret: Secret | None) -> None:
            if secret is not None:
                self.post_message(SecretGiven(name, secret))

        self.app.push_screen(screen, answered)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    def action_poweroff(self) -> None:
        view = self.view
        screen = PowerOffScreen(view.station.counts().running, view.report_status().pending)

        def answered(yes: bool | None) -> None:
            if yes:
                self.post_message(PowerOffRequested())

        self.app.push_screen(screen, answered)
