"""The record, certificate, QR and labels carry the serial on the drive's label (issue 19).

``AB 12/34`` used to be certified as udev's ``AB_12_34``; a placeholder serial names no drive; a
non-ASCII serial must not crash a label printer, which gets a transliteration and says so.
"""

from __future__ import annotations

import re
from pathlib import Path

from wipestation.model import IdentitySource
from wipestation.reports.label_escpos import build_escpos_label
from wipestation.reports.label_zpl import build_zpl_label
from wipestation.reports.pdf import render_certificate
from wipestation.reports.record import build_record, display_serial, qr_payload

from tests.reports.escpos_decode import decode
from tests.reports.factory import STATION, drive, job, validate
from tests.reports.test_pdf import pdf_of, text_of

RAW = "AB 12/34"
SPACED = drive(
    serial=RAW,
    identity=RAW,
    serial_sources=(("sysfs device/vpd_pg80", RAW), ("udev ID_SERIAL_SHORT", "AB_12_34")),
)
WWN = "0x5002538f42a1b2c3"
PLACEHOLDER = drive(
    serial="To Be Filled By O.E.M.",
    identity=WWN,
    identity_source=IdentitySource.WWN,
    serial_placeholder=True,
)


def record_of(**kw: object) -> dict:
    return validate(build_record(job(drive=drive(**kw)), STATION))


def zpl_fields(zpl: str) -> list[str]:
    raw = re.findall(r"\^FD(.*?)\^FS", zpl, re.S)
    return [re.sub(r"_([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), f) for f in raw]


def test_record_holds_the_raw_serial_and_its_sources() -> None:
    rec = validate(build_record(job(drive=SPACED), STATION))
    d = rec["drive"]
    assert (d["serial"], d["identity"], d["serial_placeholder"]) == (RAW, RAW, False)
    assert d["serial_sources"][1] == {"source": "udev ID_SERIAL_SHORT", "value": "AB_12_34"}
    assert f"|{RAW}|PASS|" in qr_payload(rec)


def test_certificate_text_carries_the_raw_serial(tmp_path: Path) -> None:
    rec = validate(build_record(job(drive=SPACED), STATION))
    text = text_of(pdf_of(tmp_path, render_certificate(rec)))
    assert RAW in text
    assert "AB_12_34" not in text


def test_labels_print_and_barcode_the_raw_serial() -> None:
    rec = validate(build_record(job(drive=SPACED), STATION))
    esc = decode(build_escpos_label(rec))
    assert f"Serial: {RAW}" in esc.flat
    assert esc.barcodes == [(73, b"{B" + RAW.encode())]
    assert esc.qr_stored.decode() == qr_payload(rec)
    fields = zpl_fields(build_zpl_label(rec).decode())
    assert RAW in fields  # the ^BC barcode's data
    assert any(f.startswith(f"MA,WIPESTATION/1|{RAW}|") for f in fields)


def test_disagreement_is_a_record_field_and_a_certificate_row(tmp_path: Path) -> None:
    why = "sysfs and udev disagree: sysfs device/serial gives 'S1', udev ID_SERIAL_SHORT 'S2'"
    rec = record_of(serial="S1", identity="S1", serial_disagreement=why)
    assert rec["drive"]["serial_disagreement"] == why
    text = " ".join(text_of(pdf_of(tmp_path, render_certificate(rec))).split())
    assert "Serial sources" in text
    assert "udev ID_SERIAL_SHORT 'S2'" in text


def test_placeholder_is_flagged_everywhere_and_never_scanned(tmp_path: Path) -> None:
    rec = validate(build_record(job(drive=PLACEHOLDER), STATION))
    assert rec["drive"]["serial_placeholder"] is True
    assert "placeholder" in display_serial(rec)
    assert f"|{WWN}|PASS|" in qr_payload(rec)  # the identity, not the placeholder
    text = " ".join(text_of(pdf_of(tmp_path, render_certificate(rec))).split())
    assert "To Be Filled By O.E.M. (placeholder serial" in text
    esc = decode(build_escpos_label(rec))
    assert esc.barcodes == []
    assert "placeholder" in esc.flat
    zpl = build_zpl_label(rec).decode()
    assert "^BC" not in zpl


def test_non_ascii_serial_is_transliterated_on_labels_and_says_so() -> None:
    rec = record_of(serial="ÄB-12/序", identity="ÄB-12/序")
    assert rec["drive"]["serial"] == "ÄB-12/序"  # the record is exact
    esc = decode(build_escpos_label(rec))
    assert "Serial: AB-12/\\u5e8f" in esc.flat
    assert "Note: serial transliterated to ASCII" in esc.flat
    assert esc.barcodes == []  # Code128 cannot carry it; the QR does
    assert esc.qr_stored.decode("utf-8") == qr_payload(rec)
    fields = zpl_fields(build_zpl_label(rec).decode())
    assert "Serial: AB-12/\\u5e8f" in fields
    assert "^BC" not in build_zpl_label(rec).decode()


def test_a_record_from_before_the_serial_fields_still_renders(tmp_path: Path) -> None:
    rec = validate(build_record(job(), STATION))
    for key in ("serial_sources", "serial_disagreement", "serial_placeholder"):
        del rec["drive"][key]
    validate(rec)
    assert display_serial(rec) == "S6PYNX0T123456A"
    assert "S6PYNX0T123456A" in text_of(pdf_of(tmp_path, render_certificate(rec)))
    assert decode(build_escpos_label(rec)).barcodes == [(73, b"{BS6PYNX0T123456A")]


def test_a_serial_with_blanks_is_printed_exactly_on_one_line() -> None:
    rec = record_of(serial="WD-WX  41/A", identity="WD-WX  41/A")  # two blanks, as reported
    esc = decode(build_escpos_label(rec))
    assert "Serial: WD-WX  41/A" in esc.lines
    assert "Serial: WD-WX  41/A" in zpl_fields(build_zpl_label(rec).decode())
    long = "ZA 1234/5678 9012 3456 78"  # 25 characters: not beside the key on 32 columns
    lines = decode(build_escpos_label(record_of(serial=long, identity=long))).lines
    assert lines[lines.index("Serial:") + 1] == f"  {long}"
