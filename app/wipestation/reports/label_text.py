"""What a drive label says, shared by every printer language so they never disagree.

Both printers lay text out in fixed columns (ESC/POS: 32 characters on 58 mm paper; ZPL: the
field box width over the font's character cell), so one wrapper serves both. It breaks between
words; a word — a model number, an identity — is only broken when it is longer than a whole
line, and then after punctuation (``-``, ``_``, ``/``, ``:`` …) or between letters and digits
before anywhere else: an operator must be able to read it off the label in one go.

A serial is printed exactly (blanks and all). One longer than a line (a 40- or 64-character SCSI
unit serial) is never cut: ZPL first prints it in a narrower font (``label_zpl``); where it still
does not fit, it is split into pieces of the line's width under a key line that says how many
characters on how many lines (``continued``). The barcode and the QR code carry it whole; a
barcode too wide for the label is left out and the label says so (``NO_BARCODE``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from wipestation.reports.record import Record
from wipestation.units import human_size as human_capacity

INDENT = "  "
#: Said on a label whose serial's Code128 would not fit it (the printer would drop it unsaid).
NO_BARCODE = "the serial is too long for a barcode on this label; the QR code carries it"
#: A piece of an over-long word may end after one of these (``WD_PC_SN740_`` ``SDDQNQD-``).
BREAK_AFTER = "-_/:.#@,;|)+="


@dataclass(frozen=True)
class LabelField:
    key: str
    value: str
    #: printed exactly (blanks and all) when it fits one line: a serial as its label has it
    whole: bool = False


def printable_ascii(serial: str) -> bool:
    """What a Code128 (code set B) can carry: printable ASCII, nothing else."""
    return bool(serial) and serial.isascii() and serial.isprintable()


def label_serial(record: Record) -> str:
    """What the barcode carries: the serial, none for a placeholder (it names no drive)."""
    d = record["drive"]
    return "" if d.get("serial_placeholder") else str(d["serial"])


def ascii_label(text: str) -> str:
    r"""Printable by any label printer (receipt printers have no UTF-8, a ZPL font few scripts):
    accents dropped (NFKD), any other character as ``\uXXXX``."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return plain.encode("ascii", "backslashreplace").decode("ascii")


def serial_fields(d: Record) -> list[LabelField]:
    """The serial as the drive reports it; transliterated (and saying so) when not ASCII."""
    serial, shown = str(d["serial"]), ascii_label(str(d["serial"]))
    fields = [LabelField("Serial", shown or f"(none) {d['identity']}", whole=bool(serial))]
    if d.get("serial_placeholder"):
        fields.append(LabelField("Note", f"placeholder serial; identity {d['identity']}"))
    if not serial.isascii():
        fields.append(LabelField("Note", "serial transliterated to ASCII; the record has it exact"))
    return fields


def label_fields(record: Record) -> list[LabelField]:
    """Model, serial, asset tag and lot (when the record has them), capacity, method (level),
    result, date, station."""
    d, z = record["drive"], record["sanitization"]
    fields = [
        LabelField("Model", d["model"] or "-"),
        *serial_fields(d),
    ]
    if record.get("asset_tag"):
        fields.append(LabelField("Asset tag", str(record["asset_tag"])))
    if record.get("lot_id"):
        fields.append(LabelField("Lot", str(record["lot_id"])))
    return (
        fields
        + [
            LabelField("Capacity", human_capacity(d["capacity_bytes"])),
            LabelField("Method", f"{z.get('executed') or z['method']} ({z['level']})"),  # what ran
            LabelField(
                "Result", f"{record['result']['status']} {record['result']['erasure_status']}"
            ),
            LabelField("Date", (z["ended_at"] or record["created_at"])[:10]),
            LabelField("Station", record["station"]["id"]),
        ]
    )


def _cut(word: str, room: int, *, hard: bool = True) -> int:
    """Where to end the first piece of ``word`` (at most ``room`` characters): after punctuation,
    else between a letter and a digit, else at ``room`` (or 0 when not ``hard``)."""
    after_punct = [i for i in range(1, room + 1) if word[i - 1] in BREAK_AFTER]
    if after_punct:
        return after_punct[-1]
    class_change = [i for i in range(1, room + 1) if word[i - 1].isdigit() != word[i].isdigit()]
    return class_change[-1] if class_change else room if hard else 0


def wrap(field: LabelField, width: int) -> list[str]:
    """``Key: value`` in lines of at most ``width`` characters (continuations indented)."""
    if field.whole:
        return whole_lines(field, width) or continued(field, width)
    lines = [f"{field.key}:"]
    for word in field.value.split():
        line = lines[-1]
        if len(line) + 1 + len(word) <= width:
            lines[-1] = f"{line} {word}"
        elif len(word) <= width - len(INDENT):
            lines.append(INDENT + word)
        elif len(word) <= width:
            lines.append(word)  # a whole line of its own rather than a broken identity
        else:
            room = width - len(line) - 1  # broken anyway: start on this line if it breaks well
            cut = _cut(word, min(room, len(word) - 1), hard=False) if room >= 4 else 0
            if cut:
                lines[-1], word = f"{line} {word[:cut]}", word[cut:]
            while len(word) > width - len(INDENT):
                cut = _cut(word, width - len(INDENT))
                lines.append(INDENT + word[:cut])
                word = word[cut:]
            lines.append(INDENT + word)
    return lines


def whole_lines(field: LabelField, width: int) -> list[str]:
    """The value unchanged on the key's line, else on a line of its own; [] when too long."""
    if len(f"{field.key}: {field.value}") <= width:
        return [f"{field.key}: {field.value}"]
    return [f"{field.key}:", INDENT + field.value] if len(INDENT + field.value) <= width else []


def continued(field: LabelField, width: int) -> list[str]:
    """A value longer than any line, in pieces of exactly ``width - 2`` characters (the last
    one shorter), under ``Serial (40 chars, 2 lines):``: every character is kept, blanks
    included, and no piece can be taken for the whole value."""
    value, room = field.value, max(1, width - len(INDENT))
    pieces = [value[i : i + room] for i in range(0, len(value), room)]
    head = f"{field.key} ({len(value)} chars, {len(pieces)} lines):"
    return [head if len(head) <= width else f"{field.key}:", *(INDENT + p for p in pieces)]


def label_lines(record: Record, width: int = 1000) -> list[str]:
    """Every line of the label's text, wrapped to ``width`` characters."""
    return [line for field in label_fields(record) for line in wrap(field, width)]
