"""The lot certificate: COMPLETE or INCOMPLETE in large type, then every manifest entry.

Drawn from the signed lot record only (like the drive certificate from its record). Page one
carries the verdict and the counts; an INCOMPLETE lot lists the entries with no PASS or
destruction record first; then one row per manifest entry (a drive wiped more than once gets a
row per earlier record under it), then the drives not on the manifest, rejected files and chain
issues. Every page is footed with the lot, its verdict, the lot record hash and "page N of M".
Nothing in the manifest is left out: the table is built from ``entries``, which holds them all.
"""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from wipestation.reports.fonts import fonts
from wipestation.reports.pdf import FAIL_RED, GRID, PASS_GREEN, SHADE, Styles, heading, page_size
from wipestation.reports.record import Record

OUTCOME_COLOUR = {"PASS": PASS_GREEN, "DESTROYED": PASS_GREEN, "FAIL": FAIL_RED}
#: column shares of the entry table: serial, asset tag, model, outcome, date, station, hash
COLUMNS = (0.22, 0.11, 0.12, 0.11, 0.11, 0.1, 0.23)
#: the narrowest a serial is drawn to keep it on one line (pdftotext and a reader see it whole)
MIN_SERIAL_PT = 4.5
CELL_PADDING = 8.0  # 3 pt each side (``_table``) and a little slack


def _footer_canvas(label: str) -> type[Canvas]:
    """A canvas that knows the page count when it saves ("page N of M" on every page)."""

    class Numbered(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for n, state in enumerate(self._pages, 1):
                self.__dict__.update(state)
                f = fonts()
                self.setFont(f.regular, 7)
                self.drawString(16 * mm, 9 * mm, f.text(label)[:120])
                self.drawRightString(self._pagesize[0] - 16 * mm, 9 * mm, f"page {n} of {total}")
                super().showPage()
            super().save()

    return Numbered


def _verdict(s: Styles, lot: Record, width: float) -> Table:
    complete = lot["status"] == "COMPLETE"
    big = ParagraphStyle(
        "verdict", fontName=s.f.bold, fontSize=40, leading=46, textColor=colors.white
    )
    sub = ParagraphStyle(
        "vsub", fontName=s.f.regular, fontSize=11, leading=14, textColor=colors.white
    )
    c = lot["counts"]
    line = (
        f"{c['expected']} expected · {c['passed']} passed · {c['destroyed']} destroyed · "
        f"{c['failed']} failed · {c['missing']} not seen · {c['unexpected']} not on the manifest"
    )
    t = Table([[s.p(lot["status"], big)], [s.p(line, sub)]], colWidths=[width])
    t.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), PASS_GREEN if complete else FAIL_RED),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 8),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return t


def _facts(s: Styles, lot: Record, width: float) -> Table:
    c, m = lot["counts"], lot["manifest"]
    rows: list[tuple[str, object]] = [
        ("Lot", lot["lot_id"] or "—"),
        ("Customer", lot["customer"] or "—"),
        ("Operators", ", ".join(lot["operators"]) or "—"),
        ("Stations", ", ".join(lot["stations"]) or "—"),
        ("Opened", lot["opened_at"] or "—"),
        ("Closed", lot["closed_at"] or "—"),
        ("Expected", c["expected"]),
        ("Passed", c["passed"]),
        ("Destroyed", c["destroyed"]),
        ("Failed", c["failed"]),
        ("Not seen", c["missing"]),
        ("Not on the manifest", c["unexpected"]),
        ("Rejected files", c["rejected"]),
        *_per_boot_keys(c),
        ("Record-chain issues", c["chain_gaps"]),
        (
            "Manifest",
            f"{m['file']} ({m['entries']} entries, sha256 {m['sha256']})" if m else "none",
        ),
        ("Trusted keys", ", ".join(lot["trusted_keys"])),
        ("Lot record SHA-256", lot["signature"]["record_sha256"]),
        ("Signed by key", lot["signature"]["key_fingerprint"]),
    ]
    cells = [[s.p(k, s.key), s.p(v)] for k, v in rows]
    t = Table(cells, colWidths=[width * 0.25, width * 0.75])
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                ("BACKGROUND", (0, 0), (0, -1), SHADE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return t


def _one_line(s: Styles, text: str, width: float) -> Paragraph:
    """``text`` shrunk (down to MIN_SERIAL_PT) to fit ``width`` unbroken: a serial that wraps
    is a serial nobody can search for or compare."""
    shown = s.f.text(text)
    size = s.body.fontSize
    natural = stringWidth(shown, s.f.regular, size)
    if natural > width - CELL_PADDING:
        size = max(MIN_SERIAL_PT, size * (width - CELL_PADDING) / natural)
    style = ParagraphStyle("one-line", parent=s.body, fontSize=size, leading=size * 1.2)
    return s.p(text, style)


def _row(
    s: Styles,
    width: float,
    serial: str,
    tag: str,
    model: str,
    ref: dict[str, Any] | None,
    outcome: str,
) -> list[Any]:
    small = ParagraphStyle("small", parent=s.mono, fontSize=5.6, leading=6.6)
    small_text = ParagraphStyle("small-text", parent=s.body, fontSize=6.5, leading=7.8)
    colour = OUTCOME_COLOUR.get(outcome.split()[-1], FAIL_RED)
    out = ParagraphStyle("out", parent=s.key, textColor=colour)
    return [
        _one_line(s, serial or "—", width * COLUMNS[0]),
        s.p(tag or "—"),
        s.p(model or "—"),
        s.p(outcome, out),
        s.p((ref or {}).get("date", "")[:19].replace("T", " ") or "—", small_text),
        s.p((ref or {}).get("station", "") or "—"),
        Paragraph((ref or {}).get("record_sha256", "") or "—", small),
    ]


def _entry_table(s: Styles, entries: list[dict[str, Any]], width: float) -> Table:
    head = ["Serial", "Asset tag", "Model", "Outcome", "Date", "Station", "Record SHA-256"]
    data: list[list[Any]] = [[s.p(h, s.key) for h in head]]
    for e in entries:
        records = e["records"]
        deciding = _deciding(records)
        model = e["model"] or (deciding or {}).get("model", "")
        data.append(_row(s, width, e["serial"], e["asset_tag"], model, deciding, e["outcome"]))
        for r in records:
            if r is not deciding:
                data.append(_row(s, width, "", "", "(another record)", r, f"was {r['outcome']}"))
    return _table(data, width)


def _deciding(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    destroyed = [r for r in records if r["outcome"] == "DESTROYED"]
    chosen = destroyed or records
    return chosen[-1] if chosen else None


def _per_boot_keys(c: dict[str, Any]) -> list[tuple[str, object]]:
    """Records of per-boot (ephemeral) keys: held back, or counted because accepted; lot
    records from before these counts have neither."""
    rows: list[tuple[str, object]] = []
    if c.get("unenrolled"):
        rows.append(("Unenrolled (per-boot key, not counted)", c["unenrolled"]))
    if c.get("accepted_ephemeral"):
        rows.append(("Counted with per-boot keys (--accept-ephemeral)", c["accepted_ephemeral"]))
    return rows


def _unexpected_table(s: Styles, rows: list[dict[str, Any]], width: float) -> Table:
    head = ["Serial", "Asset tag", "Model", "Outcome", "Date", "Station", "Record SHA-256"]
    data: list[list[Any]] = [[s.p(h, s.key) for h in head]]
    for u in rows:
        data.append(_row(s, width, u["serial"], u["asset_tag"], u["model"], u, u["outcome"]))
        data.append([s.p(f"↳ {u['reason']} ({u['file']})"), "", "", "", "", "", ""])
    t = _table(data, width)
    t.setStyle(TableStyle([("SPAN", (0, i), (-1, i)) for i in range(2, len(data), 2)]))
    return t


def _table(data: list[list[Any]], width: float) -> Table:
    t = Table(data, colWidths=[width * c for c in COLUMNS], repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return t


def _pairs(s: Styles, rows: list[tuple[str, str]], width: float) -> Table:
    t = Table([[s.p(a), s.p(b)] for a, b in rows], colWidths=[width * 0.45, width * 0.55])
    t.setStyle(
        TableStyle([("GRID", (0, 0), (-1, -1), 0.4, GRID), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    )
    return t


def story(lot: Record, width: float) -> list[Flowable]:
    s = Styles(fonts())
    title = f"Lot certificate of sanitization · {lot['lot_id'] or 'unnamed lot'}"
    out: list[Flowable] = [s.p(title, s.title), Spacer(1, 3 * mm), _verdict(s, lot, width)]
    out += [Spacer(1, 4 * mm), _facts(s, lot, width)]
    not_done = [e for e in lot["entries"] if e["outcome"] not in ("PASS", "DESTROYED")]
    if not_done:
        out += heading(s, f"Not done: {len(not_done)} entries with no PASS or destruction record")
        out.append(_entry_table(s, not_done, width))
    out += heading(s, f"Manifest: all {len(lot['entries'])} entries")
    if lot["entries"]:
        out.append(_entry_table(s, lot["entries"], width))
    else:
        out.append(s.p("No manifest entries."))
    if lot["unexpected"]:
        out += heading(s, f"Drives not on the manifest: {len(lot['unexpected'])} records")
        out.append(_unexpected_table(s, lot["unexpected"], width))
    if held := lot.get("unenrolled"):
        out += heading(s, f"Unenrolled, not counted: {len(held)} records of per-boot keys")
        keyed = [{**u, "reason": f"key {u['key_fingerprint']}: {u['reason']}"} for u in held]
        out.append(_unexpected_table(s, keyed, width))
    if lot["rejected"]:
        out += heading(s, f"Rejected files (not counted): {len(lot['rejected'])}")
        out.append(_pairs(s, [(r["file"], r["reason"]) for r in lot["rejected"]], width))
    if lot["chain_gaps"]:
        out += heading(s, f"Record-chain issues: {len(lot['chain_gaps'])}")
        out.append(_pairs(s, [(g["kind"], g["message"]) for g in lot["chain_gaps"]], width))
    return out


def render_lot_pdf(lot: Record, paper: str = "A4") -> bytes:
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=page_size(paper),
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=11 * mm,
        bottomMargin=16 * mm,
        title=fonts().text(f"Lot certificate {lot['lot_id']}"),
        author="Wipestation",
        subject=lot["signature"]["record_sha256"],
    )
    digest = lot["signature"]["record_sha256"]
    label = f"Lot {lot['lot_id']} · {lot['status']} · lot record sha256 {digest}"
    doc.build(story(lot, doc.width), canvasmaker=_footer_canvas(label))
    return buf.getvalue()
