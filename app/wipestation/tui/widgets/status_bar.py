"""The header: station, version, counts, where reports go, the printer, and mode banners.

Re-rendered only when its text changes (checked on the App's tick), so an idle station costs
nothing here.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from wipestation import __version__
from wipestation.tui.ports import ReportStatus
from wipestation.tui.station import Counts

_TARGET_STYLE = {
    "present": "green",
    "unknown": "yellow",
    "absent": "bold red",
    "full": "bold red",
    "off": "yellow",
}


def status_text(station: str, counts: Counts, reports: ReportStatus) -> Text:
    t = Text()
    t.append(" WIPESTATION ", style="bold reverse")
    t.append(f" {station}  v{__version__}   ")
    t.append(f"drives {counts.drives}  ")
    t.append(f"running {counts.running}  ", style="bold yellow" if counts.running else "")
    t.append(f"passed {counts.passed}  ", style="bold green" if counts.passed else "")
    t.append(f"failed {counts.failed}", style="bold red" if counts.failed else "")
    if reports.computer:  # which computer this is (SMBIOS): last, the first thing cut
        t.append(f"   {reports.computer}", style="cyan")
    t.append("\n reports: ")
    t.append(_target_text(reports), style=_TARGET_STYLE.get(reports.target, ""))
    if reports.pending:
        t.append(f" ({reports.pending} pending)", style="bold yellow")
    t.append("   printer: ")
    printer_ok = reports.printer in ("ready", "none")
    t.append(reports.printer, style="" if printer_ok else "bold red")
    if reports.store:  # records on the stick but not yet in the floor's object store
        t.append(f"   {reports.store}", style="bold yellow")
    return t


def _target_text(r: ReportStatus) -> str:
    words = {
        "present": "ready",
        "absent": "NO REPORT STICK",
        "full": "REPORT STICK FULL",
        "off": "not saved",
        "unknown": "not checked yet",
    }
    text = words.get(r.target, r.target)
    return f"{text} ({r.where})" if r.where else text


class StatusBar(Static):
    """Two lines of station status; ``show()`` is cheap when nothing changed."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id)
        self._last = ""

    def show(self, station: str, counts: Counts, reports: ReportStatus) -> None:
        text = status_text(station, counts, reports)
        if text.markup != self._last:
            self._last = text.markup
            self.update(text)
