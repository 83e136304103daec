"""The PDF certificate: the record laid out for a person, one drive per certificate.

Drawn only from the record (never from engine objects), so a stored JSON can be re-rendered
and the two always agree. The layout survives what real drives send: 200-character model names,
no serial at all, text in any script (DejaVu, CJK from a fallback font: reports/fonts.py) and
hundreds of steps (tables split across pages with repeated headers). A one-drive certificate
fits one page with its signature block; every page is footed with the drive's identity, the
result, the record's SHA-256 and "page N of M" (a canvas that keeps its pages until it knows M).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from itertools import groupby
from typing import Any

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from wipestation.reports.fonts import FontSet, escape, fonts
from wipestation.reports.qr import qr_modules
from wipestation.reports.record import Record, display_serial, host_line, qr_payload, record_hash
from wipestation.units import human_size

PASS_GREEN = colors.HexColor("#1b7a2f")
FAIL_RED = colors.HexColor("#b3261e")
GRID = colors.HexColor("#b0b0b0")
SHADE = colors.HexColor("#eeeeee")
LEVELS = {"clear": "Clear", "purge": "Purge", "none": "none (not sanitized)"}
MAX_STEPS = 500
MAX_RANGES = 50


def page_size(paper: str) -> tuple[float, float]:
    size: tuple[float, float] = LETTER if paper.lower() == "letter" else A4
    return size


def human_bytes(n: int) -> str:
    return f"{human_size(n)} ({n:,} bytes)" if n >= 1000 else human_size(n)


class Styles:
    """Paragraph styles bound to the font set in use; ``compact`` a size smaller, for a
    certificate that would otherwise leave its last lines alone on a second page."""

    def __init__(self, f: FontSet, compact: bool = False) -> None:
        self.f = f
        size = 7.2 if compact else 8
        self.body = ParagraphStyle("body", fontName=f.regular, fontSize=size, leading=size * 1.2)
        self.key = ParagraphStyle("key", parent=self.body, fontName=f.bold)
        self.mono = ParagraphStyle("mono", parent=self.body, fontName=f.mono, fontSize=size - 0.5)
        self.serial = ParagraphStyle("serial", fontName=f.bold, fontSize=12, leading=14)
        self.title = ParagraphStyle("title", fontName=f.bold, fontSize=15, leading=18)
        self.h2 = ParagraphStyle(
            "h2",
            fontName=f.bold,
            fontSize=10.5,
            leading=13,
            spaceBefore=3 if compact else 6,
            spaceAfter=1 if compact else 2,
        )
        self.headline = ParagraphStyle(
            "headline", fontName=f.bold, fontSize=26, leading=29, textColor=colors.white
        )
        self.headline_sub = ParagraphStyle(
            "hsub", fontName=f.regular, fontSize=9.5, leading=12, textColor=colors.white
        )

    def p(self, text: object, style: ParagraphStyle | None = None) -> Paragraph:
        return Paragraph(markup(self.f, str(text)).replace("\n", "<br/>"), style or self.body)


_ASCII_TEXT = frozenset(range(32, 127))


def plain_ascii(f: FontSet) -> bool:
    """Whether ``f`` draws printable ASCII as is, in its own font (DejaVu and the core font)."""
    return not f.unicode or f.covered >= _ASCII_TEXT


def markup(f: FontSet, text: str) -> str:
    """``f.markup(text)``, without its per-character walk for printable ASCII (most of a
    record): that walk was a third of a certificate's rendering time (issue 18)."""
    printable = text.isascii() and text.replace("\n", " ").replace("\t", " ").isprintable()
    return escape(text) if printable and plain_ascii(f) else f.markup(text)


#: Light modules around a QR code (the quiet zone the standard asks for).
QR_BORDER = 4


def dark_runs(modules: list[list[bool]]) -> list[tuple[int, int, int]]:
    """(column, row from the bottom, length) of every horizontal run of dark modules."""
    runs, n = [], len(modules)
    for r, row in enumerate(modules):
        c = 0
        for dark, run in groupby(row):
            length = len(list(run))
            if dark:
                runs.append((c, n - 1 - r, length))
            c += length
    return runs


class QrCode(Flowable):
    """The code, ``size`` points square with its quiet zone: one filled path of a rectangle per
    run of dark modules, written as PDF operators in module units (whole numbers).

    Why not reportlab's ``QrCodeWidget``: it encodes the payload twice (bounds, then drawing; each
    encoding tries all 8 masks in Python) and draws one shape per run, ~60 % of a certificate's
    rendering time; nor a graphics ``Path``: its ~2,000 points formatted one by one were a third
    of what remained (issue 18). ``qr_modules`` encodes once (reports/qr.py)."""

    def __init__(self, payload: str, size: float) -> None:
        super().__init__()
        self.modules = qr_modules(payload)
        self.width = self.height = size

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def operators(self) -> str:
        box = self.width / (len(self.modules) + 2 * QR_BORDER)
        edge = QR_BORDER * box
        rects = " ".join(f"{c} {y} {n} 1 re" for c, y, n in dark_runs(self.modules))
        return f"q 0 g {box:.5f} 0 0 {box:.5f} {edge:.5f} {edge:.5f} cm {rects} f Q"

    def draw(self) -> None:
        self.canv.addLiteral(self.operators())


def serial_barcode(serial: str, max_width: float) -> Flowable | None:
    """Code128 of the serial, narrowed to fit; None when there is no printable ASCII serial."""
    if not serial or not serial.isascii() or not serial.isprintable():
        return None
    bar_width = 0.33 * mm
    code = Code128(serial, barWidth=bar_width, barHeight=11 * mm, humanReadable=False)
    if code.width > max_width:
        bar_width *= max_width / code.width
        code = Code128(serial, barWidth=bar_width, barHeight=11 * mm, humanReadable=False)
    return code


def serial_row(s: Styles, record: Record, width: float) -> Table:
    """Serial as big text beside its Code128; without a serial, the identity across the page."""
    text = [s.p("Serial number", s.key), s.p(display_serial(record), s.serial)]
    d = record["drive"]
    code = serial_barcode("" if d.get("serial_placeholder") else d["serial"], width * 0.55)
    if code is None:
        return Table([[text]], colWidths=[width])
    t = Table([[text, code]], colWidths=[width * 0.42, width * 0.58])
    t.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("ALIGN", (1, 0), (1, 0), "RIGHT")])
    )
    return t


def heading(s: Styles, title: str) -> list[Flowable]:
    """A section title that never sits alone at the bottom of a page."""
    return [CondPageBreak(22 * mm), s.p(title, s.h2)]


def kv_table(s: Styles, rows: list[tuple[str, object]], width: float, pairs: int = 2) -> Table:
    """Key/value rows, ``pairs`` side by side to keep a certificate on one page."""
    cells = [[s.p(k, s.key), s.p(v if v not in (None, "") else "—")] for k, v in rows]
    data = [sum(cells[i : i + pairs], []) for i in range(0, len(cells), pairs)]
    if len(data[-1]) < 2 * pairs:
        data[-1] += ["", ""] * (pairs - len(data[-1]) // 2)
    key_w, val_w = width * 0.34 / pairs, width * 0.66 / pairs
    t = Table(data, colWidths=[key_w, val_w] * pairs)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    style += [("BACKGROUND", (2 * i, 0), (2 * i, -1), SHADE) for i in range(pairs)]
    t.setStyle(TableStyle(style))
    return t


def headline(s: Styles, record: Record, width: float) -> Table:
    res = record["result"]
    passed = res["status"] == "PASS"
    text = [
        s.p(res["status"], s.headline),
        s.p(f"{res['erasure_status'].replace('-', ' ')} — {res['reason']}", s.headline_sub),
    ]
    qr = QrCode(qr_payload(record), 27 * mm)
    t = Table([[text, qr]], colWidths=[width - 31 * mm, 31 * mm])
    t.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (0, 0), PASS_GREEN if passed else FAIL_RED),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ALIGN", (1, 0), (1, 0), "CENTER"),
                ("LEFTPADDING", (0, 0), (0, 0), 8),
            ]
        )
    )
    return t


def media_rows(record: Record) -> list[tuple[str, object]]:
    d = record["drive"]
    return [
        ("Manufacturer", d["manufacturer"]),
        ("Model", d["model"]),
        ("Serial number", serial_cell(d)),
        *([("Serial sources", d["serial_disagreement"])] if d.get("serial_disagreement") else []),
        ("WWN", d["wwn"]),
        ("Firmware", d["firmware"]),
        ("Media type", d["media_type"]),
        ("Interface", d["transport"]),
        ("Capacity", human_bytes(d["capacity_bytes"])),
        ("Identity", f"{d['identity']} ({d['identity_source']})"),
        ("Asset tag", record["asset_tag"]),
        ("Customer", record["customer"]),
    ]


def serial_cell(d: dict[str, Any]) -> str:
    """The serial as the drive reports it; a placeholder says it identifies nothing."""
    if d.get("serial_placeholder"):
        return f"{d['serial']} (placeholder serial: not an identity, see Identity)"
    return str(d["serial"]) or "none (see Identity)"


def method_line(z: dict[str, Any]) -> str:
    """The method asked for and, when another one ran (``auto``'s choice, a fallback), that one."""
    executed = z.get("executed") or z["method"]
    return z["method"] if executed == z["method"] else f"{z['method']} \u2192 {executed}"


def sanitization_rows(record: Record) -> list[tuple[str, object]]:
    z = record["sanitization"]
    resumed = z["resumed_from"]
    return [
        ("Level", LEVELS.get(z["level"], z["level"])),
        ("Method", method_line(z)),
        ("Technique", z["standard"]),
        ("Tool", z["tool"]),
        ("Started", z["started_at"]),
        ("Finished", z["ended_at"]),
        ("Fallbacks", "\n".join(z["fallbacks"])),
        ("Resumed from", ", ".join(f"{k} {v}" for k, v in resumed.items()) if resumed else ""),
    ]


def verification_rows(record: Record) -> list[tuple[str, object]]:
    v = record["verification"]
    if not v["performed"]:
        return [("Verification", "none: the media was not read back")]
    return [
        ("Verification", f"{v['mode']} read-back"),
        ("Expected", v.get("expected", "")),
        ("Observed", v.get("observed_class", "")),
        (
            "Coverage",
            f"{v.get('bytes_checked', 0):,} of {v.get('bytes_total', 0):,} bytes "
            f"({v.get('coverage_pct', 0):.3f} %)",
        ),
        ("Result", "passed" if v.get("passed") else "FAILED"),
        ("Mismatches", v.get("mismatch_count", 0)),
        ("Detail", v.get("detail", "")),
    ]


def dict_row(label: str, data: dict[str, Any] | None) -> tuple[str, object]:
    """A free-form engine dict (SMART, HPA/DCO) as one line; what the drive did not say (None,
    nothing) is left out rather than printed as "None"."""
    said = {k: v for k, v in (data or {}).items() if v not in (None, "", [], {})}
    if not said:
        return (label, "not available")
    return (label, " · ".join(f"{k.replace('_', ' ')}: {v}" for k, v in said.items()))


#: What the certificate shows of the SMART summary (the identity is in its own section; the
#: record keeps the whole summary).
SMART_SHOWN = (
    "passed",
    "power_on_hours",
    "reallocated_sectors",
    "pending_sectors",
    "media_errors",
    "percentage_used",
)


def smart_of(health: dict[str, Any] | None) -> dict[str, Any] | None:
    if not health:
        return None
    return {k: health.get(k) for k in SMART_SHOWN}


def clock(ts: str) -> str:
    """Time of day from an ISO timestamp (the date and zone are in the job's start/finish)."""
    return ts[11:19] if len(ts) >= 19 else ts


def steps_table(s: Styles, record: Record, width: float) -> Table:
    head = [s.p(h, s.key) for h in ("#", "Step", "Command / ioctl", "Time", "Result")]
    rows = [head]
    for i, st in enumerate(record["steps"][:MAX_STEPS], 1):
        result = "ok" if st["ok"] else f"FAILED {st['error']}".strip()
        if st["exit_status"] is not None:
            result += f" (exit {st['exit_status']})"
        cmd = st["command"] + (f"\n→ {st['output_excerpt']}" if st["output_excerpt"] else "")
        when = f"{clock(st['started_at'])} –\n{clock(st['ended_at'])}"
        rows.append([s.p(i), s.p(st["name"]), s.p(cmd, s.mono), s.p(when, s.mono), s.p(result)])
    if len(record["steps"]) > MAX_STEPS:
        more = len(record["steps"]) - MAX_STEPS
        rows.append([s.p(""), s.p(f"… {more} more steps: see the JSON record"), "", "", ""])
    cols = [0.05, 0.22, 0.41, 0.16, 0.16]
    t = Table(rows, colWidths=[width * c for c in cols], repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return t


#: How the signing key is kept, as the certificate says it (``signature.key_protection``).
KEY_PROTECTION_TEXT = {
    "tpm": "inside the station's TPM 2.0, never exportable",
    "file": "key file on the station's boot stick",
    "ephemeral": "made at this boot, in RAM only: no station identity can name it later",
}


def key_line(sig: dict[str, Any]) -> str:
    """The signing key's algorithm and protection, or UNSIGNED."""
    if not sig:
        return "UNSIGNED"
    protection = str(sig.get("key_protection", "file"))
    return f"{sig.get('algorithm', '?')}, {KEY_PROTECTION_TEXT.get(protection, protection)}"


def signature_block(s: Styles, record: Record, width: float) -> KeepTogether:
    sig = record.get("signature") or {}
    station = record["station"]
    rows = [
        ("Station", f"{station['id']} {station['location']}".strip()),
        ("Software", f"{station['software']} {station['software_version']}"),
        ("Time source", station["time_source"]),
        ("Report id", record["report_id"]),
        ("Created", record["created_at"]),
        *([("Computer", host_line(record["host"]))] if record.get("host") else []),
    ]
    proof = [
        ("Record SHA-256", record_hash(record)),
        ("Key fingerprint", sig.get("key_fingerprint", "UNSIGNED")),
        ("Signing key", key_line(sig)),
    ]
    attest = (
        "I attest that the media described above was sanitized as recorded here. "
        "Verify the signed JSON record with: wipestation verify-report FILE.json"
    )
    sign_rows = [
        [s.p("Technician", s.key), s.p(record["operator"]), s.p("Signature", s.key), ""],
        [s.p("Date", s.key), "", s.p("Validated by", s.key), ""],
    ]
    sign = Table(sign_rows, colWidths=[width * 0.14, width * 0.36, width * 0.14, width * 0.36])
    sign.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("TOPPADDING", (0, 0), (-1, -1), 10),
                ("LINEBELOW", (1, 0), (1, -1), 0.6, colors.black),
                ("LINEBELOW", (3, 0), (3, -1), 0.6, colors.black),
            ]
        )
    )
    return KeepTogether(
        [
            s.p("Station, record and signature", s.h2),
            kv_table(s, rows, width),
            kv_table(s, proof, width, 1),
            Spacer(1, 3),
            s.p(attest),
            sign,
        ]
    )


def story(record: Record, width: float, compact: bool = False) -> list[Flowable]:
    s = Styles(fonts(), compact)
    out: list[Flowable] = [s.p("Certificate of Sanitization", s.title), Spacer(1, 4)]
    out += [headline(s, record, width), Spacer(1, 6)]
    out.append(serial_row(s, record, width))
    out += [*heading(s, "Media"), kv_table(s, media_rows(record), width)]
    out += [*heading(s, "Sanitization"), kv_table(s, sanitization_rows(record), width)]
    out += [*heading(s, "Verification"), kv_table(s, verification_rows(record), width)]
    health = [
        dict_row("SMART", smart_of(record["health"])),
        dict_row("HPA / DCO", record["hpa_dco"]),
    ]
    out += [*heading(s, "Health and hidden areas"), kv_table(s, health, width, 1)]
    out += [*heading(s, f"Steps executed ({len(record['steps'])})")]
    out.append(steps_table(s, record, width) if record["steps"] else s.p("none recorded"))
    out += extras(s, record, width)
    out.append(signature_block(s, record, width))
    return out


def extras(s: Styles, record: Record, width: float) -> list[Flowable]:
    rows: list[tuple[str, object]] = [("Exception", e) for e in record["result"]["exceptions"]]
    ranges = record["bad_ranges"][:MAX_RANGES]
    rows += [("Bad range", f"offset {r['offset']:,}, {r['length']:,} bytes") for r in ranges]
    if len(record["bad_ranges"]) > MAX_RANGES:
        rows.append(("Bad ranges", f"… {len(record['bad_ranges']) - MAX_RANGES} more in the JSON"))
    rows += [("Note", n) for n in record["notes"]]
    return [*heading(s, "Exceptions and notes"), kv_table(s, rows, width, 1)] if rows else []


def text_width(f: FontSet, text: str, font: str, size: float) -> float:
    return sum(pdfmetrics.stringWidth(run, rf or font, size) for rf, run in f.runs(text))


def fitted(f: FontSet, text: str, font: str, size: float, width: float) -> str:
    """``f.text(text)`` cut (with an ellipsis) to ``width`` points."""
    text = f.text(text)
    if text_width(f, text, font, size) <= width:
        return text
    while text and text_width(f, text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def draw_text(
    canvas: Canvas, f: FontSet, at: tuple[float, float], text: str, font: str, size: float
) -> None:
    """``text`` at ``x, y``, each run in the font that has its glyphs (CJK in the fallback)."""
    x, y = at
    for run_font, run in f.runs(text):
        canvas.setFont(run_font or font, size)
        canvas.drawString(x, y, run)
        x += pdfmetrics.stringWidth(run, run_font or font, size)


def footer(record: Record, paper: str) -> Callable[[Canvas, int, int], None]:
    """What every page says at its foot: identity, result, record hash, page N of M."""
    f = fonts()
    who = f"Serial {display_serial(record)} · {record['result']['status']}"
    digest = f"Record SHA-256 {record_hash(record)}"

    def draw(canvas: Canvas, page: int, pages: int) -> None:
        w, _h = page_size(paper)
        left, right = 16 * mm, w - 16 * mm
        number = f"Wipestation · page {page} of {pages}"
        room = right - left - pdfmetrics.stringWidth(number, f.regular, 7.5) - 12
        canvas.saveState()
        draw_text(canvas, f, (left, 10 * mm), fitted(f, who, f.regular, 7.5, room), f.regular, 7.5)
        canvas.setFont(f.regular, 7.5)
        canvas.drawRightString(right, 10 * mm, number)
        canvas.setFont(f.mono, 6.5)
        canvas.drawString(left, 6.5 * mm, digest)
        canvas.restoreState()

    return draw


def numbered_canvas(draw: Callable[[Canvas, int, int], None]) -> type[Canvas]:
    """A canvas that holds its pages until the document ends, so each can say "of M"."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab's name)
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for state in self._held:
                self.__dict__.update(state)
                draw(self, self._pageNumber, len(self._held))
                super().showPage()
            super().save()

    return NumberedCanvas


def render_certificate(record: Record, paper: str = "A4") -> bytes:
    """The certificate PDF for one record: on one page whenever a size smaller gets it there."""
    pdf, pages = build_pdf(record, paper)
    if pages == 2:
        compact, compact_pages = build_pdf(record, paper, compact=True)
        if compact_pages == 1:
            return compact
    return pdf


def build_pdf(record: Record, paper: str, compact: bool = False) -> tuple[bytes, int]:
    """The PDF and its page count."""
    buf = io.BytesIO()
    size = page_size(paper)
    doc = SimpleDocTemplate(
        buf,
        pagesize=size,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=11 * mm,
        bottomMargin=16 * mm,
        title=f"Certificate of Sanitization {fonts().text(display_serial(record))}",
        author="Wipestation",
        subject=record["report_id"],
    )
    canvas = numbered_canvas(footer(record, paper))
    doc.build(story(record, doc.width, compact), canvasmaker=canvas)
    return buf.getvalue(), doc.page
