"""Zebra ZPL label text: the same facts as the ESC/POS label, QR and Code128 drawn by the printer.

ZPL is plain text (``^XA … ^XZ``); field data goes through ``^FH`` hex escapes so a ``^`` or
``~`` in a model name can never be read as a command. ``^CI28`` selects UTF-8.

Font 0 is proportional and its metrics are the printer's, but for a scalable font ``^A0N,h,w``
``w`` is the width of the whole character cell, so no character is wider: a line of ``n``
characters fits a ``^FB`` box of ``n * w`` dots. Every text line is its own one-line field
wrapped to that bound (``label_text.wrap``), so nothing runs past its box or into the QR code.
"""

from __future__ import annotations

from wipestation.reports.label_text import label_lines, label_serial
from wipestation.reports.record import Record, qr_payload

MARGIN = 20
#: Room the QR code keeps at the top right: it starts 270 dots from the edge (``^BQN,2,5``,
#: version 7-8 for a serial's payload: 225-245 dots), and text keeps 30 dots clear of it.
QR_AREA = 300
TEXT_H, TEXT_W = 28, 16  # ^A0N,28,16: a 16-dot cell bounds every character
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
    if not serial or not serial.isascii() or not serial.isprintable():
        return ""
    room = width_dots - x - MARGIN
    module = next((m for m in BAR_MODULE if code128_dots(serial, m) <= room), 0)
    if not module:
        return ""  # the QR code still carries the serial
    return f"^FO{x},{y}^BY{module}^BCN,70,Y,N,N^FH_^FD{field(serial)}^FS"


def build_zpl_label(record: Record, *, width_dots: int = 800, cut: bool = True) -> bytes:
    """A 4-inch (203 dpi) label: result, facts, Code128 of the serial, QR (``^BQ``)."""
    lines = ["^XA", "^CI28", f"^PW{width_dots}", "^MMC" if cut else "^MMT", "^LH0,0"]
    lines.append(f"^FO{MARGIN},20^A0N,56,56^FH_^FD{field(record['result']['status'])}^FS")
    box = text_box(width_dots)
    y = 90
    for text in label_lines(record, box // TEXT_W):
        font = f"^A0N,{TEXT_H},{TEXT_W}"
        lines.append(f"^FO{MARGIN},{y}{font}^FB{box},1,0,L^FH_^FD{field(text)}^FS")
        y += LINE_PITCH
    code = barcode(label_serial(record), MARGIN, y + 10, width_dots)
    if code:
        lines.append(code)
    lines.append(f"^FO{width_dots - 270},20^BQN,2,5^FH_^FDMA,{field(qr_payload(record))}^FS")
    lines.append("^PQ1")
    lines.append("^XZ")
    return ("\n".join(lines) + "\n").encode("utf-8")
