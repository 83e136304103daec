"""The computer certificate's page: COMPLETE or INCOMPLETE in large type, the computer's
identity, then one row per internal drive (serial, model, capacity, method, NIST level,
verification, result, the drive record's hash).

Drawn from the signed computer record only (``computer_record.py``), so the two always agree.
One page for a computer's handful of drives; a drive's serial is never wrapped.
"""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from wipestation.custody.lot_pdf import _footer_canvas, _one_line
from wipestation.reports.fonts import fonts
from wipestation.reports.pdf import (
    FAIL_RED,
    GRID,
    LEVELS,
    PASS_GREEN,
    SHADE,
    Styles,
    heading,
    kv_table,
    page_size,
)
from wipestation.reports.record import Record
from wipestation.units import human_size

#: serial, model, capacity, method, NIST level, verification, result, record hash
COLUMNS = (0.15, 0.13, 0.08, 0.17, 0.07, 0.12, 0.09, 0.19)


def _verdict(s: Styles, rec: Record, width: float) -> Table:
    complete = rec["status"] == "COMPLETE"
    big = ParagraphStyle("verdict", fontName=s.f.bold, fontSize=36, leading=42,
                         textColor=colors.white)  # fmt: skip
    sub = ParagraphStyle("vsub", fontName=s.f.regular, fontSize=10, leading=13,
                         textColor=colors.white)  # fmt: skip
    n = len(rec["drives"])
    line = f"{n} internal drive(s), {n - len(rec['not_passed'])} passed"
    if rec["not_passed"]:
        line += ": not passed: " + "; ".join(rec["not_passed"])
    t = Table([[s.p(rec["status"], big)], [s.p(line, sub)]], colWidths=[width])
    t.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), PASS_GREEN if complete else FAIL_RED),
        ("BOTTOMPADDING", (0, -1), (-1, -1), 8),
        ("LEFTPADDING", (0, 0), (-1, -1), 8),
    ]))  # fmt: skip
    return t


def secure_boot(boot: dict[str, Any]) -> str:
    value = boot.get("secure_boot")
    said = "enforced" if value is True else "not enforced" if value is False else "unknown"
    return f"{said} ({boot.get('detail', '')})"


def computer_rows(rec: Record) -> list[tuple[str, object]]:
    h = rec["host"] or {}
    said = h.get("placeholders") or {}
    serial = h.get("serial") or (f"unknown (placeholder {said['serial']!r})" if "serial" in said
                                 else "unknown")  # fmt: skip
    return [
        ("Manufacturer", h.get("manufacturer")),
        ("Product", " ".join(str(h[k]) for k in ("product", "version") if h.get(k))),
        ("Serial number", serial),
        ("UUID", h.get("uuid")),
        ("SKU", h.get("sku")),
        ("Chassis", h.get("chassis_type")),
        ("Board", " ".join(str(h[k]) for k in ("board_vendor", "board_name") if h.get(k))),
        ("Board serial", h.get("board_serial")),
        (
            "BIOS",
            " ".join(str(h[k]) for k in ("bios_vendor", "bios_version", "bios_date") if h.get(k)),
        ),  # fmt: skip
        ("Secure Boot", secure_boot(rec["boot"])),
    ]


def station_rows(rec: Record) -> list[tuple[str, object]]:
    power = rec.get("power") or {}
    return [
        ("Station", rec["station"]["id"]),
        ("Location", rec["station"]["location"]),
        ("Operator", rec["operator"]),
        ("Customer", rec["customer"]),
        ("Lot", rec["lot_id"]),
        ("Power", power.get("summary", "not read")),
        ("Created", rec["created_at"]),
        ("Software", f"wipestation {rec['software']['version']}"),
        ("Certificate SHA-256", rec["signature"]["record_sha256"]),
        ("Signed by key", rec["signature"]["key_fingerprint"]),
    ]


def _row(s: Styles, width: float, d: dict[str, Any]) -> list[Any]:
    small = ParagraphStyle("small", parent=s.mono, fontSize=5.6, leading=6.6)
    colour = PASS_GREEN if d["result"] == "PASS" else FAIL_RED
    v = d["verification"]
    verified = {True: "passed", False: "FAILED"}.get(v["passed"], "not run")
    return [
        _one_line(s, d["serial"] or f"({d['identity']})", width * COLUMNS[0]),
        s.p(d["model"] or "—"),
        _one_line(s, human_size(d["capacity_bytes"]), width * COLUMNS[2]),
        _one_line(s, d["method"] or "—", width * COLUMNS[3]),
        s.p(LEVELS.get(d["nist_level"], d["nist_level"]) or "—"),
        _one_line(
            s, f"{v['mode']}: {verified}" if v["mode"] != "none" else "none", width * COLUMNS[5]
        ),  # fmt: skip
        s.p(d["result"], ParagraphStyle("out", parent=s.key, textColor=colour)),
        Paragraph(d["json_sha256"] or "—", small),
    ]


def drive_table(s: Styles, rec: Record, width: float) -> Table:
    head = ["Serial", "Model", "Size", "Method", "NIST", "Verification", "Result",
            "Drive record SHA-256 (file)"]  # fmt: skip
    data: list[list[Any]] = [[s.p(h, s.key) for h in head]]
    data += [_row(s, width, d) for d in rec["drives"]]
    t = Table(data, colWidths=[width * c for c in COLUMNS], repeatRows=1)
    t.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))  # fmt: skip
    return t


def story(rec: Record, width: float) -> list[Flowable]:
    s = Styles(fonts())
    out: list[Flowable] = [s.p("Computer certificate of sanitization", s.title)]
    out += [Spacer(1, 3 * mm), _verdict(s, rec, width), Spacer(1, 3 * mm)]
    out += heading(s, "Computer")
    out.append(kv_table(s, computer_rows(rec), width))
    out += heading(s, f"Internal drives: {len(rec['drives'])}")
    out.append(drive_table(s, rec, width) if rec["drives"] else s.p("No internal drive found."))
    out += heading(s, "Station and signature")
    out.append(kv_table(s, station_rows(rec), width))
    return out


def render_computer_pdf(rec: Record, paper: str = "A4") -> bytes:
    buf = io.BytesIO()
    digest = rec["signature"]["record_sha256"]
    serial = (rec["host"] or {}).get("serial") or "unknown"
    doc = SimpleDocTemplate(
        buf, pagesize=page_size(paper), leftMargin=16 * mm, rightMargin=16 * mm,
        topMargin=11 * mm, bottomMargin=16 * mm, author="Wipestation", subject=digest,
        title=fonts().text(f"Computer certificate {serial}"),
    )  # fmt: skip
    label = f"Computer S/N {serial} · {rec['status']} · certificate sha256 {digest}"
    doc.build(story(rec, doc.width), canvasmaker=_footer_canvas(label))
    return buf.getvalue()
