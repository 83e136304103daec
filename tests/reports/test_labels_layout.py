"""Label layout with the longest serials, models and identities the project has seen.

From tests/fixtures and /work/shared/fixtures/real-drives: a Kioxia USB stick's 24-character
serial, a Seagate SAS serial, NVMe model strings (40 characters in the controller data), a WD
SATA model, and the by-path / udev identities a serial-less drive is named by.
"""

from __future__ import annotations

import itertools
import re

import pytest
from wipestation.reports.label_escpos import PAPER_DOTS, build_escpos_label
from wipestation.reports.label_text import LabelField, wrap
from wipestation.reports.label_zpl import build_zpl_label
from wipestation.reports.record import Record, build_record, qr_payload

from tests.reports.escpos_decode import decode
from tests.reports.factory import STATION, drive, job, validate

SERIALS = (
    "0022CFF6BD70C670E32160AA",  # KIOXIA TransMemory (udev ID_SERIAL_SHORT), the longest seen
    "Z4028VRY0000C810BZXB",  # Seagate ST16000NM001G (SAS), 20 characters
    "WD-WCATR9571703",
    "S666NT0X601348",
)
MODELS = (
    "WDC WD4000FYYZ-01UL1B2",
    "WDC PC SN730 SDBQNTY-256G-1001",  # NVMe "mn", 40 characters with its padding
    "SAMSUNG MZ1L21T9HCLS-00A07",
    "HGST HUS724020ALE640",
    "Micron_7300_MTFDHBG3T8TDF-1AW1ZABYY_7T6B",  # 40 characters, no space
    "X" * 40,  # 40 characters and nowhere to break
)
IDENTITIES = (  # what names a drive without a serial
    "Disk@pci-0000:00:1f.2-ata-2#500",
    "WD_PC_SN740_SDDQNQD-256G-1006_225051442012_1",
    "Kingston_DT_microDuo_3C_001A4D5D52A8B08039492BD5-0:0",
)
ASSET, LOT = "AT-2026-000123456", "LOT-2026-11-27-ACME-RECYCLING-0042"


def record_of(serial: str, model: str, identity: str | None = None) -> Record:
    d = drive(serial=serial, model=model, identity=identity or serial)
    rec = validate(build_record(job(drive=d), STATION, asset_tag=ASSET))
    rec["lot_id"] = LOT  # added to the record by reports/record.py (issue 17)
    return rec


CASES = [(s, m, None) for s in SERIALS for m in MODELS] + [
    ("", m, i) for i in IDENTITIES for m in MODELS[:3]
]


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize(("serial", "model", "identity"), CASES)
def test_escpos_lines_fit_and_keep_every_identity_whole(
    serial: str, model: str, identity: str | None
) -> None:
    rec = record_of(serial, model, identity)
    data = build_escpos_label(rec)
    d = decode(data)
    body = d.lines[1 : d.lines.index("")]
    assert all(len(line) <= 32 for line in body), body
    who = serial or identity or ""
    if len(who) <= 32:  # fits on a line: never split
        assert any(who in line for line in body), body
    for word in model.split():
        if len(word) <= 30:  # a model's word that fits a continuation line stays whole
            assert any(word in line for line in body), (word, body)
    # nothing lost: the label's text is the field's text, only wrapped
    assert _squeezed(f"Model: {model}") in _squeezed("".join(body))
    assert _squeezed(f"Serial: {serial or '(none) ' + (identity or '')}") in _squeezed(
        "".join(body)
    )
    assert f"Asset tag: {ASSET}" in body
    assert any(line.startswith("Lot:") for line in body)
    assert _squeezed(f"Lot: {LOT}") in _squeezed("".join(body))
    assert d.qr_stored.decode() == qr_payload(rec)
    if serial:  # the Code128 fits the 58 mm paper (a wider one is silently dropped)
        module = data[data.index(b"\x1dw") + 2]
        assert module in (1, 2)
        assert (11 * (len(serial) + 2) + 13) * module <= PAPER_DOTS
        assert d.barcodes == [(73, b"{B" + serial.encode())]


ZPL_TEXT = re.compile(r"\^FO(\d+),(\d+)\^A0N,(\d+),(\d+)\^FB(\d+),(\d+),\d+,L\^FH_\^FD(.*?)\^FS")


def _unescape(field: str) -> str:
    return re.sub(r"_([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), field)


@pytest.mark.parametrize(("serial", "model", "identity"), CASES)
def test_zpl_fields_fit_their_boxes(serial: str, model: str, identity: str | None) -> None:
    rec = record_of(serial, model, identity)
    zpl = build_zpl_label(rec).decode()
    width = int(re.search(r"\^PW(\d+)", zpl).group(1))  # type: ignore[union-attr]
    qr_x = int(re.search(r"\^FO(\d+),\d+\^BQN", zpl).group(1))  # type: ignore[union-attr]
    fields = ZPL_TEXT.findall(zpl)
    assert len(fields) >= 10
    texts = []
    tops = [int(f[1]) for f in fields]
    assert all(b - a >= int(fields[0][2]) for a, b in itertools.pairwise(tops)), "overlap"
    for x, _y, _h, w, box, max_lines, data in fields:
        text = _unescape(data)
        texts.append(text)
        assert max_lines == "1"
        # ^A0N,h,w: w is the whole character cell, so no character is wider
        assert len(text) * int(w) <= int(box), (text, w, box)
        assert int(x) + int(box) <= qr_x - 20, "a text box reaches into the QR code"
        assert int(x) + int(box) <= width
    who = serial or identity or ""
    if len(who) * int(fields[0][3]) <= int(fields[0][4]):
        assert any(who in t for t in texts), texts
    assert _squeezed(f"Model: {model}") in _squeezed("".join(texts))
    assert f"Asset tag: {ASSET}" in texts
    assert _squeezed(f"Lot: {LOT}") in _squeezed("".join(texts))
    code = re.search(r"\^FO(\d+),\d+\^BY(\d)\^BCN,70,Y,N,N\^FH_\^FD(.*?)\^FS", zpl)
    if serial:
        assert code is not None
        x, module, data = int(code.group(1)), int(code.group(2)), code.group(3)
        assert _unescape(data) == serial
        assert x + (11 * (len(serial) + 2) + 13) * module <= width


def test_a_record_without_asset_tag_or_lot_has_no_such_lines() -> None:
    rec = validate(build_record(job(), STATION))
    text = decode(build_escpos_label(rec)).text
    assert "Asset tag" not in text
    assert "Lot" not in text
    assert "Asset tag" not in build_zpl_label(rec).decode()


@pytest.mark.parametrize(
    ("value", "width", "want"),
    [
        ("WDC PC SN730 SDBQNTY-256G-1001", 32, ["Model: WDC PC SN730", "  SDBQNTY-256G-1001"]),
        ("ABCDEFGHIJ123456789012345678901", 32, ["Model:", "ABCDEFGHIJ123456789012345678901"]),
        ("ab-cdefghij_klmnopq", 14, ["Model: ab-", "  cdefghij_", "  klmnopq"]),
        ("ABCDEFGH12345678", 12, ["Model:", "  ABCDEFGH", "  12345678"]),
        ("XXXXXXXXXXXXXXXX", 10, ["Model:", "  XXXXXXXX", "  XXXXXXXX"]),
    ],
)
def test_wrap_breaks_between_words_then_after_punctuation_then_letters_and_digits(
    value: str, width: int, want: list[str]
) -> None:
    assert wrap(LabelField("Model", value), width) == want
