"""ESC/POS label bytes (Epson-style thermal printers): the drive's facts, its QR code, a cut.

Byte-level and printer-agnostic: the QR is printer-native (``GS ( k``, no bitmap rendering, no
Pillow on the station), text is CP437 because receipt printers have no UTF-8 (what cannot be
encoded becomes ``?``; a non-ASCII serial is transliterated by ``label_text``, which says so; the
QR carries UTF-8 bytes), and the serial is also a Code128 barcode for hand scanners. Text is
wrapped by ``label_text.wrap`` (a serial is never split when it fits on a line), and the barcode
is narrowed — or left out, the QR still carries the serial — so it fits the paper.
"""

from __future__ import annotations

from wipestation.reports.label_text import (
    NO_BARCODE,
    LabelField,
    label_lines,
    label_serial,
    printable_ascii,
    wrap,
)
from wipestation.reports.record import Record, qr_payload

ESC, GS, LF = b"\x1b", b"\x1d", b"\n"
INIT = ESC + b"@"
CODEPAGE_CP437 = ESC + b"t\x00"
ALIGN_LEFT, ALIGN_CENTER = ESC + b"a\x00", ESC + b"a\x01"
BOLD_ON, BOLD_OFF = ESC + b"E\x01", ESC + b"E\x00"
SIZE_NORMAL, SIZE_DOUBLE = GS + b"!\x00", GS + b"!\x11"
CUT_PARTIAL = GS + b"V\x01"


def qr_native(data: bytes, module: int = 5, ec: int = 0x31) -> bytes:
    """The five ``GS ( k`` commands: model 2, module size, error level (M), store, print."""
    if len(data) > 7089:
        raise ValueError("QR payload too long")
    n = len(data) + 3
    return b"".join(
        [
            GS + b"(k\x04\x001A2\x00",
            GS + b"(k\x03\x001C" + bytes([module]),
            GS + b"(k\x03\x001E" + bytes([ec]),
            GS + b"(k" + bytes([n & 0xFF, n >> 8]) + b"1P0" + data,
            GS + b"(k\x03\x001Q0",
        ]
    )


#: 58 mm paper: 384 printable dots, 32 columns of font A (12 dots).
PAPER_DOTS = 384


def code128_modules(data: str) -> int:
    """Width of a code set B symbol in modules: start, 11 per character, check, stop (13)."""
    return 11 * (len(data) + 2) + 13


def code128(data: str, paper_dots: int = PAPER_DOTS) -> bytes:
    """``GS k 73``: CODE128, code set B (HRI below), 2-dot modules, 1-dot when 2 would not fit
    the paper; empty for what code set B cannot carry or the paper cannot hold (a printer drops
    a symbol wider than the paper without a word)."""
    raw = data.encode("ascii", "replace")
    if not data or not data.isascii() or not data.isprintable() or len(raw) > 250:
        return b""
    module = next((m for m in (2, 1) if code128_modules(data) * m <= paper_dots), 0)
    if not module:
        return b""
    payload = b"{B" + raw
    return (
        GS + b"h\x50" + GS + b"w" + bytes([module]) + GS + b"H\x02" + GS + b"kI"
        + bytes([len(payload)]) + payload
    )  # fmt: skip


def text(s: str) -> bytes:
    return s.encode("cp437", "replace")


def build_escpos_label(record: Record, *, width: int = 32, cut: bool = True) -> bytes:
    """The whole label: headline, facts, serial barcode, QR, feed and cut."""
    out = [INIT, CODEPAGE_CP437, ALIGN_CENTER, BOLD_ON, SIZE_DOUBLE]
    out += [text(record["result"]["status"]), LF, SIZE_NORMAL, BOLD_OFF, ALIGN_LEFT]
    serial = label_serial(record)
    lines = label_lines(record, width)
    if printable_ascii(serial) and not code128(serial):
        lines += wrap(LabelField("Note", NO_BARCODE), width)
    for line in lines:
        out += [text(line), LF]
    out += [ALIGN_CENTER, code128(serial), LF]
    out += [qr_native(qr_payload(record).encode("utf-8")), LF]  # the certificate's QR, exactly
    out += [ESC + b"d\x04"]
    if cut:
        out.append(CUT_PARTIAL)
    return b"".join(out)
