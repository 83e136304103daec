"""Fonts for the PDFs: DejaVu for Latin, Greek and Cyrillic, Droid Sans Fallback for CJK.

Models, customers, operators and station names arrive in any script; the PDF core fonts cover
Latin-1 only and would print black boxes. DejaVu (Debian ``fonts-dejavu-core``) has no Chinese,
Japanese or Korean, so text it cannot draw is set in Droid Sans Fallback (Debian
``fonts-droid-fallback``: all 20,902 CJK unified ideographs, kana and all 11,172 Hangul
syllables in one 3.4 MB TrueType file). It was chosen by its cost to the boot payload: Noto CJK
is ~90 MB, WenQuanYi Micro Hei 5.2 MB; reportlab's built-in CID fonts cost nothing but embed no
glyphs, so a certificate would depend on the reader's fonts. The image keeps the font
xz-compressed (1.2 MB; the base layer's lz4 would only get it to 2.3 MB) and it is unpacked in
memory the first time a PDF needs it. Both fonts are embedded (subset) in the PDF with their
Unicode maps, so any viewer shows, and ``pdftotext`` extracts, the same characters.

When DejaVu is missing the PDF falls back to Helvetica and replaces what it cannot show, so a
certificate is still produced; a character no font has is shown as its code (``<U+XXXX>``).
"""

from __future__ import annotations

import io
import lzma
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property
from itertools import groupby

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

DEJAVU_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu")
CJK_NAME = "DroidSansFallback"
CJK_FILES = (
    "/usr/share/fonts-droid-fallback/truetype/DroidSansFallback.ttf",
    "/usr/share/fonts/truetype/droid/DroidSansFallback.ttf",
)


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` escaped for reportlab's paragraph markup: what
    ``xml.sax.saxutils.escape`` does, without its import of urllib, http and email (~0.03 s of
    the renderer's start, issue 18)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class FontSet:
    regular: str
    bold: str
    mono: str
    unicode: bool
    #: Code points the regular font has glyphs for (empty: Latin-1 core font).
    covered: frozenset[int] = frozenset()
    #: Loads the font for what ``covered`` lacks (CJK), the first time a text needs it: a
    #: certificate in Latin script never parses the 3.4 MB font (~0.1 s of CPU, issue 18).
    load_fallback: Callable[[], TTFont | None] = field(default=lambda: None, compare=False)

    @cached_property
    def _fallback(self) -> tuple[str, frozenset[int]]:
        face = self.load_fallback()
        if face is None:
            return "", frozenset()
        pdfmetrics.registerFont(face)
        return face.fontName, frozenset(face.face.charToGlyph) - self.covered

    @property
    def fallback(self) -> str:
        """The fallback font's name ("" when there is none), loaded and registered now."""
        return self._fallback[0]

    @property
    def fallback_covered(self) -> frozenset[int]:
        """What the fallback font draws that ``covered`` does not."""
        return self._fallback[1]

    def drawable(self, c: str) -> bool:
        n = ord(c)
        return n in self.covered or c in "\n\t" or n in self.fallback_covered

    def font_of(self, c: str) -> str:
        """ "" for the text's own font, else the fallback font's name."""
        if c in "\n\t" or ord(c) in self.covered or ord(c) not in self.fallback_covered:
            return ""
        return self.fallback

    def text(self, s: str) -> str:
        """``s`` as this font set can draw it; a missing glyph shows as its code, never a box."""
        if not self.unicode:
            return s.encode("latin-1", "replace").decode("latin-1")
        if all(self.drawable(c) for c in s):  # the fallback is asked only past ``covered``
            return s
        return "".join(c if self.drawable(c) else f"<U+{ord(c):04X}>" for c in s)

    def runs(self, s: str) -> Iterator[tuple[str, str]]:
        """``(font, text)`` runs of ``self.text(s)``; font "" means the caller's own font."""
        for font, chars in groupby(self.text(s), key=self.font_of):
            yield font, "".join(chars)

    def markup(self, s: str) -> str:
        """Paragraph markup of ``s``: escaped, CJK runs set in the fallback font."""
        return "".join(
            f'<font name="{font}">{escape(run)}</font>' if font else escape(run)
            for font, run in self.runs(s)
        )


def _find(name: str) -> str | None:
    for d in DEJAVU_DIRS:
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    return None


def load_face(name: str, path: str) -> TTFont:
    """A TrueType font from ``path``, or from ``path`` + ``.xz`` as the image keeps it."""
    if os.path.exists(path):
        return TTFont(name, path)
    with lzma.open(path + ".xz") as f:
        return TTFont(name, io.BytesIO(f.read()))


def cjk_face() -> TTFont | None:
    for path in CJK_FILES:
        if os.path.exists(path) or os.path.exists(path + ".xz"):
            return load_face(CJK_NAME, path)
    return None


_parsing = threading.Lock()


def fonts() -> FontSet:
    """The certificate's fonts, parsed once per process. Why the lock: jobs that end together
    all ask at once, and an unlocked cache let each parse the faces itself (48 drives: 48
    parses of pure Python in parallel, ~1.4 GiB and minutes of CPU under TCG, issue 18)."""
    with _parsing:
        return _parsed_fonts()


@cache
def _parsed_fonts() -> FontSet:
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
    return FontSet("DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono", True, covered, cjk_face)
