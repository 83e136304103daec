"""Sizes for people: one formatter, so the table, the label and the certificate never disagree."""

from __future__ import annotations


def human_size(n: int) -> str:
    """Decimal units, as drive makers print them on the drive: 16777216 → "16.8 MB"."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000:
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} PB"
