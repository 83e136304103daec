"""The secret that opens a locked drive: its ATA user/master password or its TCG PSID, typed or
scanned (a scanner is a keyboard: the code, then Enter), never shown (masked as typed).

Why a dialog of its own: the secret must reach the plan of this one drive and nothing else (no
log, no record, no screen). It dismisses with a checked ``Secret`` (a PSID is 32 letters and
digits; spaces and dashes from the label are dropped) or None on Esc; a malformed entry is
said on the dialog and the dialog stays. Which kinds it asks for follows the lock: a locked SED
takes a PSID only; an ATA lock a user or a master password (F2 switches).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from wipestation.errors import UnsupportedError
from wipestation.steps.secret import Secret, SecretKind, make_secret

PROMPTS = {
    SecretKind.USER: "the drive's ATA USER password",
    SecretKind.MASTER: "the drive's ATA MASTER password",
    SecretKind.PSID: "the PSID from the drive's label (32 characters)",
}


@dataclass
class SecretGiven(Message):
    """The operator gave the secret of this drive: the App hands it to the planner, for that
    drive's next plan only."""

    name: str
    secret: Secret


class SecretScreen(ModalScreen[Secret | None]):
    """Dismisses with the Secret, or None on Esc."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("f2", "switch", "User/master", show=False),
    ]
    AUTO_FOCUS = "#secret"

    def __init__(self, drive: str, why: str, kinds: tuple[SecretKind, ...]) -> None:
        super().__init__()
        self.drive, self.why, self.kinds = drive, why, kinds
        self.kind = kinds[0]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"UNLOCK {self.drive}", id="title")
            yield Static(self.why)
            yield Static(self._prompt(), id="prompt")
            field = Input(placeholder="typed or scanned; hidden", password=True, id="secret")
            field.cursor_blink = False  # no redraws on serial consoles, stable snapshots
            yield field
            yield Static("", id="problem")

    def _prompt(self) -> str:
        switch = "; F2: user/master" if len(self.kinds) > 1 else ""
        return f"Enter {PROMPTS[self.kind]}, then Enter (Esc cancels{switch})."

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            secret = make_secret(self.kind, event.value)
        except UnsupportedError as e:
            self.query_one("#problem", Static).update(f"Not accepted: {e}")
            event.input.value = ""
            return
        self.dismiss(secret)

    def action_switch(self) -> None:
        if len(self.kinds) > 1:
            self.kind = self.kinds[(self.kinds.index(self.kind) + 1) % len(self.kinds)]
            self.query_one("#prompt", Static).update(self._prompt())

    def action_cancel(self) -> None:
        self.dismiss(None)
