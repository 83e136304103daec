"""The per-session summary: one line per drive, as CSV (for asset systems) and as a PDF table.

Rewritten after every delivery, so a session cut short still leaves a summary of what was done.
"""

from __future__ import annotations

import csv
import io

from wipestation.reports.record import Record, StationInfo, record_hash
from wipestation.units import human_size

COLUMNS = (
    "serial",
    "model",
    "capacity_bytes",
    "media_type",
    "method",
    "level",
    "verification",
    "coverage_pct",
    "result",
    "erasure_status",
    "ended_at",
    "asset_tag",
    "report_id",
    "record_sha256",
)


def row_of(record: Record) -> dict[str, object]:
    d, z, v = record["drive"], record["sanitization"], record["verification"]
    return {
        "serial": d["serial"] or d["identity"],
        "model": d["model"],
        "capacity_bytes": d["capacity_bytes"],
        "media_type": d["media_type"],
        "method": z["method"],
        "level": z["level"],
        "verification": v["mode"],
        "coverage_pct": v.get("coverage_pct", 0),
        "result": record["result"]["status"],
        "erasure_status": record["result"]["erasure_status"],
        "ended_at": z["ended_at"],
        "asset_tag": record["asset_tag"],
        "report_id": record["report_id"],
        "record_sha256": record_hash(record),
    }


def render_csv(records: list[Record]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\r\n")
    w.writeheader()
    for r in records:
        w.writerow(row_of(r))
    return buf.getvalue().encode("utf-8-sig")  # the BOM makes spreadsheet apps read UTF-8


def render_pdf(records: list[Record], station: StationInfo, started: str, paper: str) -> bytes:
    """The summary as a PDF table. reportlab is imported here, not with the module: the CSV
    is written by the wiping process, the PDF in the renderer's (reports/render_worker.py)."""
    from reportlab.lib.pagesizes import landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from wipestation.reports.fonts import fonts
    from wipestation.reports.pdf import FAIL_RED, GRID, PASS_GREEN, SHADE, Styles, page_size

    s = Styles(fonts())
    small = ParagraphStyle("small", parent=s.body, fontSize=7.5, leading=9)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=landscape(page_size(paper)),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title="Wipestation session summary",
    )
    passed = sum(r["result"]["status"] == "PASS" for r in records)
    head = (
        f"Station {station.station_id} · session started {started} · operator "
        f"{station.operator or '—'} · customer {station.customer or '—'} · "
        f"{len(records)} drive(s), {passed} PASS, {len(records) - passed} FAIL"
    )
    cols = ("Serial", "Model", "Capacity", "Method", "Level", "Verify", "Result", "Finished")
    rows = [[Paragraph(c, s.key) for c in cols]]
    verdict = {
        "PASS": ParagraphStyle("pass", parent=small, fontName=s.f.bold, textColor=PASS_GREEN),
        "FAIL": ParagraphStyle("fail", parent=small, fontName=s.f.bold, textColor=FAIL_RED),
    }
    for r in records:
        x = row_of(r)
        cells = (
            x["serial"],
            x["model"],
            human_size(r["drive"]["capacity_bytes"]),
            x["method"],
            x["level"],
            f"{x['verification']} {x['coverage_pct']}%",
            str(x["ended_at"])[:16].replace("T", " "),
        )
        row = [s.p(c, small) for c in cells]
        row.insert(6, s.p(x["result"], verdict[str(x["result"])]))
        rows.append(row)
    widths = [0.17, 0.23, 0.08, 0.16, 0.06, 0.1, 0.06, 0.14]
    t = Table(rows, colWidths=[doc.width * w for w in widths], repeatRows=1)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    t.setStyle(TableStyle(style))
    doc.build([s.p("Sanitization session summary", s.title), s.p(head), Spacer(1, 6), t])
    return buf.getvalue()
