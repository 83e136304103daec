"""Power-off confirmation: says what happens to running wipes before the station goes dark."""

from __future__ import annotations

from wipestation.tui.screens.ask import AskScreen


class PowerOffScreen(AskScreen):
    def __init__(self, running: int, pending_reports: int) -> None:
        lines = ["The station will shut down."]
        if running:
            lines.append(
                f"{running} wipe(s) are still running: they will be CANCELLED and recorded as "
                "cancelled (the journal lets them resume after the next boot)."
            )
        if pending_reports:
            lines.append(
                f"{pending_reports} report(s) are not saved yet: insert the report stick first."
            )
        super().__init__("POWER OFF?", "\n".join(lines))
