"""A serial longer than a label line (40 and 64 characters, blanks included) is never cut: ZPL
prints it in a narrower font where that fits, else both printers split it into pieces of the
line's width under 'Serial (N chars, K lines):'; the barcode and the QR carry it whole, and a
barcode too wide for the label is left out with a note saying so.

The serials are made up for these tests (SCSI unit serials up to 252 bytes are allowed by SPC's
page 0x80; the longest real one in tests/fixtures is the 32-character LSI volume serial).
"""

from __future__ import annotations

import re

import pytest
from wipestation.reports.label_escpos import build_escpos_label
from wipestation.reports.label_text import NO_BARCODE, LabelField, continued, wrap
from wipestation.reports.label_zpl import MIN_TEXT_W, TEXT_W, build_zpl_label
from wipestation.reports.record import Record, build_record, qr_payload

from tests.reports.escpos_decode import decode
from tests.reports.factory import STATION, drive, job, validate
from tests.reports.test_labels_layout import ZPL_TEXT, _unescape

SERIAL_40 = "ZA 1234/5678 9012 3456 7890 ABCD EFGH IJ"  # 40, blanks and a slash
SERIAL_40_SOLID = "600508E000000000F8253AAC9A1ABD0C7D3F9A21"  # 40, nowhere to break
SERIAL_64 = "3600508e000000000f8253aac9a1abd0c 0000 WD-WX41A  S/N 0123456789A"  # 64
LONG = (SERIAL_40, SERIAL_40_SOLID, SERIAL_64)


def record_of(serial: str) -> Record:
    return validate(build_record(job(drive=drive(serial=serial, identity=serial)), STATION))


def squeezed(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def pieces_after(lines: list[str], head: str) -> str:
    """The serial as an operator reads it back: the lines under ``head``, indent removed."""
    start = lines.index(head) + 1
    count = int(re.search(r", (\d+) lines\):$", head).group(1))  # type: ignore[union-attr]
    body = lines[start : start + count]
    assert all(line.startswith("  ") for line in body), body
    return "".join(line[2:] for line in body)


@pytest.mark.parametrize("serial", LONG)
def test_escpos_splits_a_long_serial_into_stated_pieces_and_keeps_every_character(
    serial: str,
) -> None:
    assert len(serial) in (40, 64)
    rec = record_of(serial)
    d = decode(build_escpos_label(rec))
    body = d.lines[1 : d.lines.index("")]
    assert all(len(line) <= 32 for line in body), body
    lines = -(-len(serial) // 30)  # pieces of 32 - 2 (indent) characters
    head = f"Serial ({len(serial)} chars, {lines} lines):"
    assert pieces_after(body, head) == serial  # blanks kept, nothing cut
    assert d.qr_stored.decode() == qr_payload(rec)
    assert f"|{serial}|" in qr_payload(rec)
    assert d.barcodes == []  # 11 modules a character: wider than 384 dots
    assert squeezed(f"Note: {NO_BARCODE}") in squeezed(" ".join(body))


def zpl_texts(zpl: str) -> list[tuple[str, int, int]]:
    """(text, cell width, box) of every one-line text field."""
    return [(_unescape(f[6]), int(f[3]), int(f[4])) for f in ZPL_TEXT.findall(zpl)]


@pytest.mark.parametrize("serial", [SERIAL_40, SERIAL_40_SOLID])
def test_zpl_shrinks_a_40_character_serial_onto_one_line(serial: str) -> None:
    zpl = build_zpl_label(record_of(serial)).decode()
    fields = zpl_texts(zpl)
    assert all(len(t) * w <= box for t, w, box in fields)
    [(text, cell, _box)] = [f for f in fields if serial in f[0]]
    assert text == f"  {serial}"
    assert MIN_TEXT_W <= cell < TEXT_W
    assert ("Serial:", TEXT_W) in [(t, w) for t, w, _ in fields]
    code = re.search(r"\^BY(\d)\^BCN,70,Y,N,N\^FH_\^FD(.*?)\^FS", zpl)
    assert code is not None
    assert _unescape(code.group(2)) == serial  # the Code128 carries it whole
    assert NO_BARCODE not in zpl


def test_zpl_splits_a_64_character_serial_it_cannot_shrink_enough() -> None:
    rec = record_of(SERIAL_64)
    zpl = build_zpl_label(rec).decode()
    fields = zpl_texts(zpl)
    assert all(len(t) * w <= box for t, w, box in fields)
    texts = [t for t, _, _ in fields]
    assert pieces_after(texts, "Serial (64 chars, 3 lines):") == SERIAL_64
    code = re.search(r"\^BY(\d)\^BCN,70,Y,N,N\^FH_\^FD(.*?)\^FS", zpl)
    assert code is not None
    assert (code.group(1), _unescape(code.group(2))) == ("1", SERIAL_64)
    qr = re.search(r"\^BQN,2,5\^FH_\^FDMA,(.*?)\^FS", zpl)
    assert qr is not None
    assert _unescape(qr.group(1)) == qr_payload(rec)


def test_a_serial_no_barcode_fits_is_said_on_the_zpl_label_too() -> None:
    serial = "S" * 70  # 11 * 72 + 13 = 805 modules: wider than the 760 dots left
    zpl = build_zpl_label(record_of(serial)).decode()
    assert "^BC" not in zpl
    texts = " ".join(_unescape(t) for t in re.findall(r"\^FD(.*?)\^FS", zpl))
    assert squeezed(f"Note: {NO_BARCODE}") in squeezed(texts)


@pytest.mark.parametrize(
    ("value", "width", "want"),
    [
        ("A" * 40, 32, ["Serial (40 chars, 2 lines):", "  " + "A" * 30, "  " + "A" * 10]),
        ("AB CD EF GH", 8, ["Serial:", "  AB CD ", "  EF GH"]),  # no room for the count
        ("AB  CD", 5, ["Serial:", "  AB ", "   CD"]),  # both blanks kept where they fall
    ],
)
def test_continued_states_the_count_when_it_fits_and_keeps_blanks(
    value: str, width: int, want: list[str]
) -> None:
    assert continued(LabelField("Serial", value, whole=True), width) == want


def test_a_whole_value_that_fits_is_never_split() -> None:
    field = LabelField("Serial", "WD-WX  41/A", whole=True)
    assert wrap(field, 32) == ["Serial: WD-WX  41/A"]
    assert wrap(LabelField("Serial", SERIAL_40, whole=True), 32)[0] == (
        "Serial (40 chars, 2 lines):"
    )
