"""The PDF certificate and session summary, read back with poppler (pdftotext, pdfinfo)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from wipestation.model import IdentitySource
from wipestation.reports.pdf import render_certificate
from wipestation.reports.record import build_record, record_hash
from wipestation.reports.sign import Signer
from wipestation.reports.summary import render_csv, render_pdf

from tests.reports.factory import STATION, drive, job, step, validate

SIGNER = Signer.generate()


def pdf_of(tmp_path: Path, data: bytes, name: str = "c.pdf") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def text_of(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True)
    return out.stdout.decode()


def info_of(pdf: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)


def words_outside_page(pdf: Path) -> list[str]:
    """Words whose box leaves the page: what an overflowing long model name would do."""
    html = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    bad: list[str] = []
    for page in re.findall(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', html, re.S):
        width = float(page[0])
        for x0, x1, word in re.findall(
            r'xMin="([\d.]+)"[^>]*xMax="([\d.]+)"[^>]*>([^<]*)<', page[2]
        ):
            if float(x0) < 0 or float(x1) > width:
                bad.append(word)
    return bad


def test_certificate_text_has_serial_model_method_result(tmp_path: Path) -> None:
    rec = validate(SIGNER.sign(build_record(job(), STATION, asset_tag="AT-0042")))
    pdf = pdf_of(tmp_path, render_certificate(rec))
    text = text_of(pdf)
    for want in (
        "S6PYNX0T123456A",
        "Samsung SSD 870 EVO 500GB",
        "ata-sanitize-crypto",
        "PASS",
        "Purge",
        "AT-0042",
        "Ana Pérez",
        SIGNER.fingerprint,
        record_hash(rec)[:20],
    ):
        assert want in text, want
    assert info_of(pdf)["Pages"].strip() == "1"
    assert "595.276 x 841.89" in info_of(pdf)["Page size"]  # A4


def test_auto_says_what_it_chose_and_the_record_says_why(tmp_path: Path) -> None:
    decision = (
        "auto: interface nvme, medium ssd",
        "skipped nvme-sanitize-crypto: SANICAP does not offer crypto erase",
        "chose nvme-format-crypto (purge); fallback: overwrite-random (clear)",
        "nvme-format-crypto: the drive reports support; NVMe Format with SES=2",
    )
    result = job(method="auto", decision=decision, executed="nvme-format-crypto")
    rec = validate(build_record(result, STATION))
    assert rec["sanitization"]["decision"] == list(decision)
    assert rec["sanitization"]["executed"] == "nvme-format-crypto"
    for paper in ("A4", "Letter"):
        pdf = pdf_of(tmp_path, render_certificate(rec, paper), f"{paper}.pdf")
        text = " ".join(text_of(pdf).split())
        assert "auto \u2192 nvme-format-crypto" in text
        assert info_of(pdf)["Pages"].strip() == "1"


def test_a_job_that_ran_no_step_names_no_executed_method(tmp_path: Path) -> None:
    """Cancelled before its first step: the record must not say a method ran."""
    result = job(method="overwrite-zero", passed=False, executed="", steps=(), fallbacks=())
    rec = validate(build_record(result, STATION))
    assert rec["sanitization"]["executed"] == ""
    assert rec["sanitization"]["method"] == "overwrite-zero"
    text = " ".join(text_of(pdf_of(tmp_path, render_certificate(rec, "A4"))).split())
    assert "Method overwrite-zero Technique" in text, text


def test_failed_certificate_on_letter(tmp_path: Path) -> None:
    rec = validate(build_record(job(passed=False), STATION))
    pdf = pdf_of(tmp_path, render_certificate(rec, "Letter"))
    text = text_of(pdf)
    assert "FAIL" in text
    assert "not erased" in text
    assert "UNSIGNED" in text  # not yet signed: says so instead of printing a stale fingerprint
    assert "612 x 792" in info_of(pdf)["Page size"]


def test_long_model_missing_serial_non_ascii_and_many_steps_lay_out(tmp_path: Path) -> None:
    odd = drive(
        serial="",
        identity="Disk@pci-0000:00:1f.2-ata-2#500",
        identity_source=IdentitySource.PATH,
        model="Ünïcødé Сверхдлинная модель " + "X" * 160,
    )
    result = job(
        passed=False,
        drive=odd,
        steps=tuple(step(i, ok=i % 7 != 0) for i in range(120)),
        bad_ranges=tuple((i * 4096, 512) for i in range(80)),
        notes=("Σημείωση: δοκιμή",),
    )
    station = replace(STATION, operator="Jürgen Łukasz")
    rec = validate(SIGNER.sign(build_record(result, station)))
    pdf = pdf_of(tmp_path, render_certificate(rec))
    text = text_of(pdf)
    pages = int(info_of(pdf)["Pages"])
    assert pages >= 3  # the steps table continues over pages
    assert "no serial; identity Disk@pci-0000:00:1f.2-ata-2#500" in re.sub(r"\s+", " ", text)
    assert "Сверхдлинная модель" in text
    assert "Jürgen Łukasz" in text
    assert "Σημείωση" in text
    assert "overwrite pass 119" in text
    assert "30 more in the JSON" in text
    assert f"page {pages}" in text  # every page is numbered
    assert text.count("Validated by") == 1
    assert words_outside_page(pdf) == []


def test_missing_glyph_is_shown_as_its_code_point(tmp_path: Path) -> None:
    """Yi and Tibetan are in neither DejaVu nor the CJK fallback: their codes, never a box."""
    rec = validate(build_record(job(drive=drive(model="\ua000\u0f00 X1")), STATION))
    text = text_of(pdf_of(tmp_path, render_certificate(rec)))
    assert "<U+A000><U+0F00> X1" in text


def test_session_summary_csv_and_pdf(tmp_path: Path) -> None:
    records = [
        SIGNER.sign(build_record(job(), STATION)),
        SIGNER.sign(
            build_record(job(passed=False, drive=drive(serial="ZZ9", identity="ZZ9")), STATION)
        ),
    ]
    csv_text = render_csv(records).decode("utf-8-sig")
    lines = csv_text.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("serial,model,capacity_bytes")
    assert "S6PYNX0T123456A" in lines[1]
    assert ",PASS," in lines[1]
    assert lines[2].startswith("ZZ9,")
    assert ",FAIL," in lines[2]
    pdf = pdf_of(tmp_path, render_pdf(records, STATION, "2026-11-27T03:00:00+01:00", "A4"))
    text = " ".join(text_of(pdf).split())
    assert "2 drive(s), 1 PASS, 1 FAIL" in text
    assert "S6PYNX0T123456A" in text
    assert "ZZ9" in text


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_pages_render_to_images(tmp_path: Path, paper: str) -> None:
    rec = SIGNER.sign(build_record(job(), STATION))
    pdf = pdf_of(tmp_path, render_certificate(rec, paper))
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(tmp_path / "p")], check=True)
    assert sorted(p.name for p in tmp_path.glob("p*.png")) == ["p-1.png"]
