"""Fonts for the PDFs: DejaVu (Debian's fonts-dejavu-core) so any model name or operator renders.

Models, customers and operators arrive in any script; the PDF core fonts cover Latin-1 only and
would print black boxes. When DejaVu is missing the PDF falls back to Helvetica and replaces what
it cannot show, so a certificate is still produced.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

DEJAVU_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu")


@dataclass(frozen=True)
class FontSet:
    regular: str
    bold: str
    mono: str
    unicode: bool
    #: Code points the regular font has glyphs for (empty: Latin-1 core font).
    covered: frozenset[int] = frozenset()

    def text(self, s: str) -> str:
        """``s`` as this font set can draw it; a missing glyph shows as its code, never a box."""
        if not self.unicode:
            return s.encode("latin-1", "replace").decode("latin-1")
        if all(ord(c) in self.covered or c in "\n\t" for c in s):
            return s
        return "".join(
            c if ord(c) in self.covered or c in "\n\t" else f"<U+{ord(c):04X}>" for c in s
        )


def _find(name: str) -> str | None:
    for d in DEJAVU_DIRS:
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    return None


@cache
def fonts() -> FontSet:
    files = {
        "DejaVuSans": _find("DejaVuSans.ttf"),
        "DejaVuSans-Bold": _find("DejaVuSans-Bold.ttf"),
        "DejaVuSansMono": _find("DejaVuSansMono.ttf"),
    }
    if not all(files.values()):
        return FontSet("Helvetica", "Helvetica-Bold", "Courier", unicode=False)
    faces = {name: TTFont(name, path) for name, path in files.items()}
    for face in faces.values():
        pdfmetrics.registerFont(face)
    covered = frozenset(faces["DejaVuSans"].face.charToGlyph)
    return FontSet("DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono", True, covered)
