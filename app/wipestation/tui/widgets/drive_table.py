"""The drive table: a line-API widget that re-renders only the rows whose text changed.

Why not ``DataTable``: every ``update_cell`` bumps a table-wide counter that invalidates the
render cache of every row, so with 48 drives moving each tick it re-rendered ~540 cells through
Rich per tick (24% of a core at 160x50, measured with bench/tui_cpu.py). Here each row is one
``Strip`` built from fixed-width, pre-fitted cell text (format.py) and cached until that row's
text, or the cursor, changes; a tick repaints only changed lines. This is the escape hatch that
style.md names. No sorting or clearing on a tick: rows are rebuilt only when the set changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from wipestation.discovery.controllers import not_a_drive, raid_member_notice
from wipestation.tui import format as fmt
from wipestation.tui.station import Row

Cell = tuple[str, str]  # (text fitted to its column, Rich style string)
PAD = 1  # blank cells each side of a column


def row_cells(row: Row, columns: tuple[fmt.Column, ...], ascii_only: bool) -> tuple[Cell, ...]:
    """Every visible cell of ``row``: text already fitted to its column, and its style."""
    d, p, state = row.drive, row.progress, row.state
    values = {
        "dev": f"{'*' if row.selected else ' '} {d.name}",
        "transport": str(d.transport),
        "model": d.model or "-",
        "serial": f"(placeholder) {d.serial}" if d.serial_placeholder else d.serial or "-",
        "size": fmt.size_cell(d.size_bytes),
        "health": row.health,
        "method": p.method if p else "",
        "progress": _progress_text(row, _width(columns, "progress"), ascii_only),
        "rate": fmt.rate_cell(p.rate_bps) if row.busy and p else "",
        "eta": fmt.eta_cell(p.eta_s) if row.busy and p else "",
        "pass": f"{p.pass_index}/{p.pass_count}" if p and p.pass_count else "",
        "state": state,
    }
    base = _row_style(row)
    styles = {"state": fmt.STATE_STYLES.get(state, ""), "health": _health_style(row, base)}
    return tuple((fmt.fit(values[c.key], c.width), styles.get(c.key, base)) for c in columns)


def _health_style(row: Row, base: str) -> str:
    """The health word's colour, except on a greyed (protected or gone) row."""
    return base if base == "bright_black" else fmt.HEALTH_STYLES.get(row.health, base)


def _width(columns: tuple[fmt.Column, ...], key: str) -> int:
    return next((c.width for c in columns if c.key == key), 0)


def _progress_text(row: Row, width: int, ascii_only: bool) -> str:
    p = row.progress
    if p is None:
        if row.drive.protected:
            return "; ".join(row.drive.protected_reasons) or "protected"
        return row.refused or not_a_drive(row.drive) or raid_member_notice(row.drive)
    if p.state.finished and p.state.value != "passed":
        return p.last_error or p.phase or ""
    fraction = 1.0 if p.state.value == "passed" else p.fraction
    return fmt.progress_cell(fraction, width, ascii_only)


def _row_style(row: Row) -> str:
    # A drive our own job holds open can read as "busy" (protected) in a re-scan: not greyed.
    if (row.drive.protected and not row.busy) or not row.present:
        return "bright_black"
    return "bold" if row.selected else ""


@lru_cache(maxsize=256)
def _style(spec: str, cursor: bool) -> Style:
    style = Style.parse(spec) if spec else Style()
    return style + Style(bgcolor="blue", color="white") if cursor else style


def build_strip(cells: tuple[Cell, ...], cursor: bool, keep_last: bool = True) -> Strip:
    """One row as segments; the state cell keeps its colours under the cursor."""
    segments = []
    last = len(cells) - 1
    for i, (text, spec) in enumerate(cells):
        on_cursor = cursor and not (keep_last and i == last)
        pad = Segment(" " * PAD, _style("", cursor))
        segments += [pad, Segment(text, _style(spec, on_cursor)), pad]
    return Strip(segments)


@dataclass
class _Line:
    cells: tuple[Cell, ...]
    strips: dict[bool, Strip]  # cursor flag → rendered strip


class DriveTable(Widget, can_focus=True):
    """Rows keyed by drive name; a header line; a cursor moved with the arrow keys."""

    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "move(-100000)", "First", show=False),
        Binding("end", "move(100000)", "Last", show=False),
        Binding("enter", "choose", "Details", show=False),
    ]

    @dataclass
    class Highlighted(Message):
        name: str | None

    @dataclass
    class Chosen(Message):
        name: str

    def __init__(self, ascii_only: bool, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.ascii_only = ascii_only
        self.columns_spec: tuple[fmt.Column, ...] = ()
        self._names: list[str] = []
        self._lines: dict[str, _Line] = {}
        self._header = Strip([])
        self.cursor = 0
        self.top = 0  # index of the first row on screen

    # ---- what the screen reads ----------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._names)

    @property
    def highlighted_name(self) -> str | None:
        return self._names[self.cursor] if self._names else None

    @property
    def visible_rows(self) -> int:
        return max(1, self.size.height - 1)

    # ---- updates ------------------------------------------------------------------------------
    def show(self, rows: list[Row], width: int) -> None:
        """Bring the table up to date: rebuild on a new row set or width class, else diff."""
        columns = fmt.layout_for(width)
        names = [r.name for r in rows]
        if columns != self.columns_spec or names != self._names:
            self._rebuild(rows, columns)
            return
        for i, row in enumerate(rows):
            cells = row_cells(row, columns, self.ascii_only)
            line = self._lines[row.name]
            if cells != line.cells:
                line.cells, line.strips = cells, {}
                self._refresh_row(i)

    def _rebuild(self, rows: list[Row], columns: tuple[fmt.Column, ...]) -> None:
        keep = self.highlighted_name
        self.columns_spec = columns
        self._header = build_strip(
            tuple((fmt.fit(c.label, c.width), "bold underline") for c in columns), False
        )
        self._names = [r.name for r in rows]
        self._lines = {r.name: _Line(row_cells(r, columns, self.ascii_only), {}) for r in rows}
        self.cursor = self._names.index(keep) if keep in self._names else 0
        self.cursor = min(self.cursor, max(0, len(self._names) - 1))
        self._scroll_to_cursor()
        self.refresh()
        self.post_message(self.Highlighted(self.highlighted_name))

    def _refresh_row(self, index: int) -> None:
        y = index - self.top + 1
        if 1 <= y <= self.visible_rows:
            self.refresh(Region(0, y, self.size.width, 1))

    # ---- cursor -------------------------------------------------------------------------------
    def move_cursor(self, row: int) -> None:
        if not self._names:
            return
        old, self.cursor = self.cursor, max(0, min(row, len(self._names) - 1))
        if old == self.cursor:
            return
        if self._scroll_to_cursor():
            self.refresh()
        else:
            self._refresh_row(old)
            self._refresh_row(self.cursor)
        self.post_message(self.Highlighted(self.highlighted_name))

    def _scroll_to_cursor(self) -> bool:
        top = min(self.top, self.cursor)
        top = max(top, self.cursor - self.visible_rows + 1, 0)
        moved, self.top = top != self.top, top
        return moved

    def action_move(self, delta: int) -> None:
        self.move_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor + direction * self.visible_rows)

    def action_choose(self) -> None:
        if self.highlighted_name is not None:
            self.post_message(self.Chosen(self.highlighted_name))

    def on_resize(self) -> None:
        self._scroll_to_cursor()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # ---- rendering ----------------------------------------------------------------------------
    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._names) + 1

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            return self._header.crop_extend(0, width, None)
        index = self.top + y - 1
        if index >= len(self._names):
            return Strip.blank(width)
        line = self._lines[self._names[index]]
        cursor = index == self.cursor and self.has_focus
        strip = line.strips.get(cursor)
        if strip is None:
            strip = line.strips[cursor] = build_strip(line.cells, cursor)
        return strip.crop_extend(0, width, None)
