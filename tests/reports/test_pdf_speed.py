"""Issue 18: the certificate's QR code and text markup, made cheap, draw what they drew."""

from __future__ import annotations

import subprocess
from pathlib import Path

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.pdfgen.canvas import Canvas
from wipestation.reports import pdf
from wipestation.reports.fonts import fonts
from wipestation.reports.record import build_record, qr_payload

from tests.reports.factory import STATION, job

TEXTS = [
    "plain ASCII 0123 / - _ :",
    "a < b & c > d \"quoted\" 'single'",
    "two\nlines\tand a tab",
    "Ana Pérez",  # Latin-1: the slow path
    "日本語のモデル名",  # CJK fallback font
    "control \x01 character",
    "",
]


def test_markup_fast_path_equals_the_font_sets_markup() -> None:
    f = fonts()
    for text in TEXTS:
        assert pdf.markup(f, text) == f.markup(text), text


def test_qr_modules_are_reportlabs_own_encoding() -> None:
    payload = qr_payload(build_record(job(), STATION))
    widget = QrCodeWidget(payload, barLevel="M")
    widget.qr.make()
    assert pdf.qr_modules(payload) == [[bool(m) for m in row] for row in widget.qr.modules]


def gray_pixels(pdf_path: Path, dpi: int) -> tuple[int, int, bytes]:
    """The page rasterised by poppler, as (width, height, one byte per pixel)."""
    out = subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-gray", "-singlefile", str(pdf_path)],
        capture_output=True,
        check=True,
    ).stdout
    magic, width, height, depth, data = out.split(maxsplit=4)
    assert (magic, depth) == (b"P5", b"255")
    return int(width), int(height), data


def test_the_qr_code_on_the_page_is_the_encoded_matrix_module_for_module(tmp_path: Path) -> None:
    """Rasterised, every module of the drawn code (quiet zone included) is the colour the
    encoder gave it: the PDF operators put the code where it belongs, the right way up."""
    payload = qr_payload(build_record(job(), STATION))
    modules = pdf.qr_modules(payload)
    border = pdf.QR_BORDER
    n = len(modules) + 2 * border
    path = tmp_path / "qr.pdf"
    canvas = Canvas(str(path), pagesize=(n, n))  # one point per module
    code = pdf.QrCode(payload, float(n))
    assert code.wrap(500, 500) == (n, n)
    code.drawOn(canvas, 0, 0)
    canvas.save()
    width, height, pixels = gray_pixels(path, 720)  # 10 pixels per module
    assert (width, height) == (10 * n, 10 * n)
    seen = [[pixels[(10 * r + 5) * width + 10 * c + 5] < 128 for c in range(n)] for r in range(n)]
    light = [False] * n
    expected = [light] * border
    expected += [[False] * border + row + [False] * border for row in modules]
    expected += [light] * border
    assert seen == expected
    runs = sum(1 for row in modules for i, m in enumerate(row) if m and (i == 0 or not row[i - 1]))
    assert code.operators().count(" re") == runs == len(pdf.dark_runs(modules))


def test_the_markup_escape_is_saxutils_escape() -> None:
    """fonts.escape stands in for xml.sax.saxutils.escape (whose import costs the renderer's
    start urllib, http and email): the same text for every kind of input."""
    from xml.sax.saxutils import escape as sax_escape

    from wipestation.reports.fonts import escape

    for text in [*TEXTS, "&amp; &lt;", "<b>bold</b> & more", "a&&<<>>b", "\"'"]:
        assert escape(text) == sax_escape(text), text
