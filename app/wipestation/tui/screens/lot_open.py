"""Start of shift: open a lot (lot id, customer, manifest), or resume one left open on the stick.

Keyboard and barcode scanner only: a scanner types into the focused box and presses Enter, and
Enter moves on (lot id → customer → manifest). The manifests offered are the CSV files on the boot
stick's copy and on the report target, and "none" (the lot is built by scanning); the open lots
are the ones an earlier boot of this station left on the report target. Choosing an open lot
fills in its lot id and customer; a lot id that is open on the stick is resumed (its records
count). The screen reads nothing itself: it asks the App (``LotSourcesRequested``,
``ManifestLoadRequested``), which reads in a worker thread and answers. A manifest that does not
parse is shown with its file, line and column, and the lot is not opened with it: the operator
picks another, or none. Dismisses with a ``LotOpening``, or None on Esc (the lot stays as is).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from wipestation.custody.manifest import Manifest
from wipestation.tui.lot_sources import LotChoice, LotOpening, LotSources, ManifestChoice
from wipestation.tui.messages import (
    LotSourcesFound,
    LotSourcesRequested,
    ManifestLoaded,
    ManifestLoadRequested,
)

NONE_ID = "none"
NONE_TEXT = "none (build it by scanning)"


def fold(text: str) -> str:
    return " ".join(text.split()).casefold()


class LotOpenScreen(ModalScreen[LotOpening | None]):
    BINDINGS = [Binding("escape", "cancel", "Back (lot unchanged)")]
    AUTO_FOCUS = "#lot-id"

    def __init__(self, lot_id: str = "", customer: str = "", manifest: str = "") -> None:
        super().__init__()
        self.lot_id, self.customer, self.current_manifest = lot_id, customer, manifest
        self.sources = LotSources()
        self._manifests: dict[str, ManifestChoice] = {}
        self._pending: ManifestChoice | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="lot-open"):
            yield Label("OPEN A LOT", id="title")
            yield Static("Scan or type the lot id, Enter; then the customer, Enter.")
            with Horizontal(classes="field"):
                yield Label("Lot id   ")
                yield self._input(self.lot_id, "lot id (typed or scanned)", "lot-id")
            with Horizontal(classes="field"):
                yield Label("Customer ")
                yield self._input(self.customer, "customer", "customer")
            yield Label("Manifest (Enter opens the lot with it):", classes="section")
            yield OptionList(Option("looking on the sticks ...", disabled=True), id="manifests")
            yield Label("Or resume a lot left open on the report stick:", classes="section")
            yield OptionList(Option("looking ...", disabled=True), id="open-lots")
            yield Static("", id="lot-open-note")
            yield Static("", id="lot-open-error", classes="error")
            yield Label("Tab/Enter: next field  Up/Down: choose  Esc: keep the lot as it is")

    @staticmethod
    def _input(value: str, placeholder: str, id: str) -> Input:
        field = Input(value, placeholder=placeholder, id=id, compact=True)
        field.cursor_blink = False  # no redraws on serial consoles, stable snapshots
        return field

    def on_mount(self) -> None:
        self.post_message(LotSourcesRequested(reply_to=self))

    # ---- what the App found -------------------------------------------------------------------
    def on_lot_sources_found(self, message: LotSourcesFound) -> None:
        self.sources = message.sources
        self._manifests = {f"m{i}": c for i, c in enumerate(message.sources.manifests)}
        manifests = self.query_one("#manifests", OptionList)
        manifests.set_options(
            [*(Option(c.label, id=key) for key, c in self._manifests.items()),
             Option(NONE_TEXT, id=NONE_ID)]
        )  # fmt: skip
        current = [k for k, c in self._manifests.items() if c.name == self.current_manifest]
        manifests.highlighted = list(self._manifests).index(current[0]) if current else 0
        lots = self.query_one("#open-lots", OptionList)
        if message.sources.open_lots:
            lots.set_options(
                Option(lot.label, id=f"l{i}") for i, lot in enumerate(message.sources.open_lots)
            )
            lots.highlighted = 0
        else:
            why = message.sources.problem or "no open lot found on the report stick"
            lots.set_options([Option(why, disabled=True)])
        self._note()

    def on_manifest_loaded(self, message: ManifestLoaded) -> None:
        if message.choice != self._pending:
            return  # an answer to an earlier pick
        self._pending = None
        if message.manifest is None:
            self._error(f"Manifest not loaded: {message.error}\nPick another one, or none.")
            self.query_one("#manifests", OptionList).focus()
            return
        self.dismiss(self._opening(message.manifest))

    # ---- the operator -------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        lot = self._open_lot()
        if event.input.id == "lot-id" and lot is not None and lot.customer:
            self.query_one("#customer", Input).value = lot.customer  # the open lot's customer
        nxt = "#customer" if event.input.id == "lot-id" else "#manifests"
        self.query_one(nxt).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "lot-id":
            self._note()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        key = event.option.id or ""
        if event.option_list.id == "open-lots":
            self._resume(self.sources.open_lots[int(key[1:])])
            return
        if not self._lot_id():
            self._error("Type or scan the lot id first.")
            self.query_one("#lot-id").focus()
            return
        if key == NONE_ID:
            self.dismiss(self._opening(None))
            return
        self._pending = self._manifests[key]
        self._error("")
        self._show("#lot-open-note", f"Reading {self._pending.label} ...")
        self.post_message(ManifestLoadRequested(self._pending, reply_to=self))

    def _resume(self, lot: LotChoice) -> None:
        self.query_one("#lot-id", Input).value = lot.lot_id
        self.query_one("#customer", Input).value = lot.customer
        self._note()
        self.query_one("#manifests", OptionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    # ---- helpers ------------------------------------------------------------------------------
    def _lot_id(self) -> str:
        return " ".join(self.query_one("#lot-id", Input).value.split())

    def _open_lot(self) -> LotChoice | None:
        """The open lot this lot id names, if any: then the lot is resumed, not started anew."""
        key = fold(self._lot_id())
        return next((lot for lot in self.sources.open_lots if fold(lot.lot_id) == key), None)

    def _opening(self, manifest: Manifest | None) -> LotOpening:
        customer = " ".join(self.query_one("#customer", Input).value.split())
        lot = self._open_lot()
        lot_id = lot.lot_id if lot else self._lot_id()
        return LotOpening(lot_id, customer, manifest, resumed=lot is not None)

    def _note(self) -> None:
        lot = self._open_lot()
        text = (
            f"Resuming lot {lot.lot_id}: its {lot.records} earlier record(s) count. "
            "Now pick its manifest."
            if lot
            else ""
        )
        self._show("#lot-open-note", text)

    def _error(self, text: str) -> None:
        self._show("#lot-open-error", text)

    def _show(self, where: str, text: str) -> None:
        """A line that takes no room while it is empty (24 rows are few)."""
        line = self.query_one(where, Static)
        line.update(Text(text))
        line.display = bool(text)
