"""Issue 18: the certificate's QR code and text markup, made cheap, draw what they drew."""

from __future__ import annotations

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Path as PdfPath
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


def test_qr_drawing_is_one_path_with_a_square_per_dark_run() -> None:
    payload = qr_payload(build_record(job(), STATION))
    modules = pdf.qr_modules(payload)
    d = pdf.qr_drawing(payload, 100.0)
    (path,) = d.contents
    assert isinstance(path, PdfPath)
    runs = sum(1 for row in modules for i, m in enumerate(row) if m and (i == 0 or not row[i - 1]))
    assert path.operators.count(0) == runs  # one moveTo per dark run
    xs, ys = path.points[0::2], path.points[1::2]
    box = 100.0 / (len(modules) + 2 * pdf.QR_BORDER)
    inside = (pdf.QR_BORDER * box - 1e-9, 100 - pdf.QR_BORDER * box + 1e-9)  # the quiet zone
    assert inside[0] <= min(xs) <= max(xs) <= inside[1]
    assert inside[0] <= min(ys) <= max(ys) <= inside[1]
