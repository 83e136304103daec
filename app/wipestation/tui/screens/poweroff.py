"""Power-off confirmation: says what happens to running wipes before the station goes dark.

A cancelled job's journal entry is deleted, so a wipe cancelled here starts over next time; only
one interrupted by a power cut or a crash (its entry still there) resumes.
"""

from __future__ import annotations

from wipestation.tui.screens.ask import AskScreen


class PowerOffScreen(AskScreen):
    def __init__(self, running: int, pending_reports: int) -> None:
        lines = ["The station will shut down."]
        if running:
            lines.append(
                f"{running} wipe(s) are still running: they will be CANCELLED and recorded as "
                "cancelled, and start over when wiped again (only a wipe cut off by a power "
                "failure or a crash resumes)."
            )
        if pending_reports:
            lines.append(
                f"{pending_reports} report(s) are not saved yet: insert the report stick first."
            )
        super().__init__("POWER OFF?", "\n".join(lines))
