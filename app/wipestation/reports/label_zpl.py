"""Zebra ZPL label text: the same facts as the ESC/POS label, QR and Code128 drawn by the printer.

ZPL is plain text (``^XA … ^XZ``); field data goes through ``^FH`` hex escapes so a ``^`` or
``~`` in a model name can never be read as a command. ``^CI28`` selects UTF-8.
"""

from __future__ import annotations

from wipestation.reports.label_text import label_lines, label_serial
from wipestation.reports.record import Record, qr_payload


def field(s: str) -> str:
    """``^FH_`` field data: escape the characters ZPL would interpret."""
    return "".join(f"_{ord(c):02X}" if c in "_^~" else c for c in s)


def build_zpl_label(record: Record, *, width_dots: int = 800, cut: bool = True) -> bytes:
    """A 4-inch (203 dpi) label: result, facts, Code128 of the serial, QR (``^BQ``)."""
    lines = ["^XA", "^CI28", f"^PW{width_dots}", "^MMC" if cut else "^MMT", "^LH0,0"]
    lines.append(f"^FO20,20^A0N,56,56^FH_^FD{field(record['result']['status'])}^FS")
    y = 90
    for text in label_lines(record):
        lines.append(f"^FO20,{y}^A0N,26,26^FB{width_dots - 300},1,0,L^FH_^FD{field(text)}^FS")
        y += 32
    serial = label_serial(record)
    if serial and serial.isascii() and serial.isprintable():
        lines.append(f"^FO20,{y + 10}^BY2^BCN,70,Y,N,N^FH_^FD{field(serial)}^FS")
    lines.append(f"^FO{width_dots - 270},20^BQN,2,5^FH_^FDMA,{field(qr_payload(record))}^FS")
    lines.append("^PQ1")
    lines.append("^XZ")
    return ("\n".join(lines) + "\n").encode("utf-8")
