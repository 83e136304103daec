"""Every finished drive of this session on one screen: what to hand back, what to pull aside."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label

from wipestation.model import JobResult
from wipestation.tui.format import STATE_STYLES, size_cell

COLUMNS = ("Device", "Serial", "Size", "Method", "Level", "Result", "Reason")


def result_label(r: JobResult) -> str:
    return "PASS" if r.passed else {"failed": "FAIL"}.get(r.state.value, r.state.value.upper())


def summary_rows(results: list[JobResult]) -> list[tuple[Text, ...]]:
    out: list[tuple[Text, ...]] = []
    for r in sorted(results, key=lambda r: r.ended_at):
        label = result_label(r)
        out.append(
            (
                Text(r.drive.path),
                Text(r.drive.serial or "-"),
                Text(size_cell(r.drive.size_bytes)),
                Text(r.method),
                Text(r.level),
                Text(label, style=STATE_STYLES.get(label, "")),
                Text(r.reason),
            )
        )
    return out


class SummaryScreen(Screen[None]):
    BINDINGS = [Binding("escape,s", "close", "Back")]

    def __init__(self, results: list[JobResult]) -> None:
        super().__init__()
        self.results = results

    def compose(self) -> ComposeResult:
        passed = sum(1 for r in self.results if r.passed)
        yield Label(
            f" Session summary: {len(self.results)} finished, {passed} passed, "
            f"{len(self.results) - passed} not passed",
            id="summary-title",
        )
        table: DataTable[Text] = DataTable(cursor_type="row", id="summary-table")
        table.add_columns(*COLUMNS)
        table.add_rows(summary_rows(self.results))
        yield table
        yield Footer(compact=True, show_command_palette=False)

    def action_close(self) -> None:
        self.dismiss(None)
