"""Pure formatting of a drive row: fixed-width cell text and a style per state.

Kept free of Textual so it is cheap to call on every tick and easy to unit-test. Hot columns are
formatted to exactly their column width, so the table never has to re-measure (style.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from wipestation.units import human_size

#: state label → Rich style. Colours are chosen to read at two metres on a 16-colour console.
STATE_STYLES: dict[str, str] = {
    "idle": "",
    "PROTECTED": "bright_black",
    "starting": "cyan",
    "queued": "cyan",
    "probing": "cyan",
    "erasing": "bold yellow",
    "verifying": "bold magenta",
    "reporting": "bold magenta",
    "PASS": "bold black on green",
    "FAIL": "bold white on red",
    "CANCELLED": "bold black on yellow",
    "REMOVED": "bold white on blue",
    "REFUSED": "bold red",
    "RAID SET": "yellow",  # a member of a firmware/software RAID set: wiping it ends the set
}

#: health word (tui/health.py) → Rich style: a drive that may fail its erase stands out.
HEALTH_STYLES: dict[str, str] = {
    "READ-ONLY": "bold white on red",
    "FAILING": "bold red",
    "WARN": "yellow",
}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int


#: Fits 80 columns including cell padding and a one-cell scrollbar.
COMPACT = (
    Column("dev", "Device", 9),
    Column("serial", "Serial", 15),
    Column("size", "Size", 8),
    Column("progress", "Progress", 11),
    Column("rate", "MB/s", 5),
    Column("eta", "ETA", 6),
    Column("state", "State", 9),
)

FULL = (
    Column("dev", "Device", 12),
    Column("transport", "Bus", 6),
    Column("model", "Model", 18),
    Column("serial", "Serial", 18),
    Column("size", "Size", 8),
    Column("health", "Health", 9),  # "READ-ONLY" (tui/health.py)
    Column("method", "Method", 14),
    Column("progress", "Progress", 22),
    Column("rate", "MB/s", 5),
    Column("eta", "ETA", 6),
    Column("pass", "Pass", 5),
    Column("state", "State", 9),
)

#: Terminal width from which the full column set is shown.
FULL_FROM = 150


def layout_for(width: int) -> tuple[Column, ...]:
    return FULL if width >= FULL_FROM else COMPACT


def ascii_terminal(term: str | None = None) -> bool:
    """The Linux console and serial terminals lack the block glyphs: draw bars with # and -."""
    t = (os.environ.get("TERM", "") if term is None else term).lower()
    return t.startswith(("linux", "vt", "dumb")) or t == ""


def serial_terminal(term: str | None = None) -> bool:
    """vt100/vt220 means a serial line, where every byte costs: the App ticks slower there."""
    t = (os.environ.get("TERM", "") if term is None else term).lower()
    return t.startswith("vt")


def fit(text: str, width: int) -> str:
    """Exactly ``width`` cells: cut with a trailing '~' or pad with spaces (ASCII on purpose)."""
    if len(text) > width:
        return text[: width - 1] + "~" if width > 1 else text[:width]
    return text.ljust(width)


def bar(fraction: float, width: int, ascii_only: bool) -> str:
    fraction = min(max(fraction, 0.0), 1.0)
    if ascii_only:
        full = int(fraction * width)
        return "#" * full + "-" * (width - full)
    eighths = int(fraction * width * 8)
    full, part = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[part] if full < width and part else ""
    return ("█" * full + partial).ljust(width, "·")[:width]


def progress_cell(fraction: float, width: int, ascii_only: bool) -> str:
    pct = f"{int(fraction * 100):3d}%"
    return bar(fraction, width - len(pct) - 1, ascii_only) + " " + pct


def rate_cell(rate_bps: float) -> str:
    if rate_bps <= 0:
        return ""
    mbs = rate_bps / 1e6
    return f"{mbs:5.0f}" if mbs < 99_999 else "99999"


def eta_cell(eta_s: float | None) -> str:
    if eta_s is None or eta_s < 0:
        return ""
    s = int(eta_s)
    if s < 3600:
        return f"{s // 60:2d}m{s % 60:02d}s"
    if s < 100 * 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return ">99h"


def size_cell(size_bytes: int) -> str:
    return human_size(size_bytes)


def use_ascii_scrollbars() -> None:
    """Scrollbar thumbs drawn with spaces on their background colour: no eighth-block glyphs."""
    from textual.scrollbar import ScrollBarRender  # only the TUI calls this

    ScrollBarRender.VERTICAL_BARS = [" "] * 8
    ScrollBarRender.HORIZONTAL_BARS = [" "] * 8
