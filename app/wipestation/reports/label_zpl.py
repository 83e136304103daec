"""Zebra ZPL label text: the same facts as the ESC/POS label, QR and Code128 drawn by the printer.

ZPL is plain text (``^XA … ^XZ``); field data goes through ``^FH`` hex escapes so a ``^`` or
``~`` in a model name can never be read as a command. ``^CI28`` selects UTF-8.

Font 0 is proportional and its metrics are the printer's, but for a scalable font ``^A0N,h,w``
``w`` is the width of the whole character cell, so no character is wider: a line of ``n``
characters fits a ``^FB`` box of ``n * w`` dots. Every text line is its own one-line field
wrapped to that bound (``label_text.wrap``), so nothing runs past its box or into the QR code.
A serial too long for its line at the normal cell is printed with a narrower one (down to
``MIN_TEXT_W``) before it is split (``field_lines``).
"""

from __future__ import annotations

from wipestation.reports.label_text import (
    NO_BARCODE,
    LabelField,
    label_fields,
    label_serial,
    printable_ascii,
    whole_lines,
    wrap,
)
from wipestation.reports.record import Record, qr_payload

MARGIN = 20
#: Room the QR code keeps at the top right: it starts 270 dots from the edge (``^BQN,2,5``,
#: version 7-8 for a serial's payload: 225-245 dots), and text keeps 30 dots clear of it.
QR_AREA = 300
TEXT_H, TEXT_W = 28, 16  # ^A0N,28,16: a 16-dot cell bounds every character
#: The narrowest cell a long serial is shrunk to: 10 dots (1.25 mm at 203 dpi), 18 dots high.
MIN_TEXT_W = 10
LINE_PITCH = 32
BAR_MODULE = (2, 1)  # ^BY: 2-dot modules, 1 when the serial's symbol would not fit


def field(s: str) -> str:
    """``^FH_`` field data: escape the characters ZPL would interpret."""
    return "".join(f"_{ord(c):02X}" if c in "_^~" else c for c in s)


def text_box(width_dots: int) -> int:
    """Width of the text fields beside the QR code."""
    return width_dots - QR_AREA - MARGIN


def code128_dots(data: str, module: int) -> int:
    """A ``^BCN`` symbol's width: start, 11 modules per character, check, stop (13)."""
    return (11 * (len(data) + 2) + 13) * module


def barcode(serial: str, x: int, y: int, width_dots: int) -> str:
    """The serial's Code128, with modules narrowed to fit the label; "" when it cannot fit."""
    if not printable_ascii(serial):
        return ""
    room = width_dots - x - MARGIN
    module = next((m for m in BAR_MODULE if code128_dots(serial, m) <= room), 0)
    if not module:
        return ""  # the QR code still carries the serial
    return f"^FO{x},{y}^BY{module}^BCN,70,Y,N,N^FH_^FD{field(serial)}^FS"


def field_lines(f: LabelField, box: int) -> list[tuple[str, int]]:
    """One field's lines, each with its character cell: a whole value (a serial) too long for
    a line at ``TEXT_W`` is shrunk, down to ``MIN_TEXT_W``, before it is split."""
    if f.whole and not whole_lines(f, box // TEXT_W):
        for cell in range(TEXT_W - 1, MIN_TEXT_W - 1, -1):
            if shrunk := whole_lines(f, box // cell):
                return [(t, TEXT_W if t == f"{f.key}:" else cell) for t in shrunk]
    return [(t, TEXT_W) for t in wrap(f, box // TEXT_W)]


def text_field(text: str, y: int, cell: int, box: int) -> str:
    font = f"^A0N,{round(TEXT_H * cell / TEXT_W)},{cell}"
    return f"^FO{MARGIN},{y}{font}^FB{box},1,0,L^FH_^FD{field(text)}^FS"


def build_zpl_label(record: Record, *, width_dots: int = 800, cut: bool = True) -> bytes:
    """A 4-inch (203 dpi) label: result, facts, Code128 of the serial, QR (``^BQ``)."""
    lines = ["^XA", "^CI28", f"^PW{width_dots}", "^MMC" if cut else "^MMT", "^LH0,0"]
    lines.append(f"^FO{MARGIN},20^A0N,56,56^FH_^FD{field(record['result']['status'])}^FS")
    box, serial = text_box(width_dots), label_serial(record)
    fields = label_fields(record)
    if printable_ascii(serial) and not barcode(serial, MARGIN, 0, width_dots):
        fields.append(LabelField("Note", NO_BARCODE))
    y = 90
    for text, cell in (line for f in fields for line in field_lines(f, box)):
        lines.append(text_field(text, y, cell, box))
        y += LINE_PITCH
    code = barcode(serial, MARGIN, y + 10, width_dots)
    if code:
        lines.append(code)
    lines.append(f"^FO{width_dots - 270},20^BQN,2,5^FH_^FDMA,{field(qr_payload(record))}^FS")
    lines.append("^PQ1")
    lines.append("^XZ")
    return ("\n".join(lines) + "\n").encode("utf-8")
