"""Certificates in Chinese, Japanese and Korean, on one page, and "page N of M" when longer."""

from __future__ import annotations

import lzma
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from wipestation.model import IdentitySource
from wipestation.reports.fonts import CJK_FILES, CJK_NAME, fonts, load_face
from wipestation.reports.pdf import render_certificate
from wipestation.reports.record import Record, build_record, display_serial, record_hash
from wipestation.reports.sign import Signer

from tests.reports.factory import STATION, drive, job, step, validate

SIGNER = Signer.generate()
STATION_JA = "長野県リサイクル第2工場"  # 県 (U+770C) printed as <U+770C> before
CUSTOMER_ZH = "北京绿色回收有限公司"
OPERATOR_KO = "김민준"
LOCATION_JA = "東京都 江東区"


def pages_of(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", out.stdout, re.M).group(1))  # type: ignore[union-attr]


def page_text(pdf: Path, page: int | None = None) -> str:
    pick = ["-f", str(page), "-l", str(page)] if page else []
    out = subprocess.run(["pdftotext", *pick, str(pdf), "-"], capture_output=True, check=True)
    return out.stdout.decode()


def write(tmp_path: Path, record: Record, paper: str = "A4", name: str = "c.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(render_certificate(record, paper))
    return path


def test_japanese_chinese_and_korean_names_come_back_as_the_same_characters(
    tmp_path: Path,
) -> None:
    station = replace(
        STATION,
        station_id=STATION_JA,
        customer=CUSTOMER_ZH,
        operator=OPERATOR_KO,
        location=LOCATION_JA,
    )
    rec = validate(SIGNER.sign(build_record(job(), station, asset_tag="資産-0042")))
    pdf = write(tmp_path, rec)
    text = page_text(pdf)
    for name in (STATION_JA, CUSTOMER_ZH, OPERATOR_KO, LOCATION_JA, "資産-0042"):
        assert name in text, name
    assert "<U+" not in text
    assert pages_of(pdf) == 1
    fonts_used = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    cjk = [line for line in fonts_used.splitlines() if CJK_NAME in line]
    assert cjk, fonts_used
    assert all(" yes " in line for line in cjk)  # embedded: no viewer needs the font
    png = tmp_path / "p"
    subprocess.run(["pdftoppm", "-png", "-r", "30", str(pdf), str(png)], check=True)
    assert (tmp_path / "p-1.png").stat().st_size > 0


def test_the_image_keeps_the_cjk_font_xz_compressed(tmp_path: Path) -> None:
    """image/slim.sh stores DroidSansFallback.ttf.xz; it loads to the same font."""
    source = next(Path(p) for p in CJK_FILES if Path(p).exists())
    packed = tmp_path / source.name
    Path(f"{packed}.xz").write_bytes(lzma.compress(source.read_bytes(), preset=6))
    face = load_face("CJKFromXz", str(packed))
    assert face.face.charToGlyph == load_face("CJKPlain", str(source)).face.charToGlyph
    assert ord("県") in face.face.charToGlyph
    assert ord("김") in face.face.charToGlyph
    assert fonts().fallback == CJK_NAME


SERIAL_LESS = [
    drive(
        serial="", identity="Disk@pci-0000:00:1f.2-ata-2#500", identity_source=IdentitySource.PATH
    ),
    drive(
        serial="",
        wwn="",
        model="WDC PC SN730 SDBQNTY-256G-1001",
        identity="WDC PC SN730 SDBQNTY-256G-1001 256060514304 pci-0000:00:1f.2-ata-2",
        identity_source=IdentitySource.PATH,
    ),
]


@pytest.mark.parametrize("paper", ["A4", "Letter"])
@pytest.mark.parametrize("passed", [True, False])
@pytest.mark.parametrize("odd", SERIAL_LESS, ids=["by-path", "model+size+path"])
def test_a_serial_less_drive_certificate_is_one_page_with_its_signature_block(
    tmp_path: Path, paper: str, passed: bool, odd: object
) -> None:
    rec = validate(
        SIGNER.sign(build_record(job(passed=passed, drive=odd), STATION, asset_tag="AT-1"))
    )
    pdf = write(tmp_path, rec, paper)
    assert pages_of(pdf) == 1
    text = " ".join(page_text(pdf, 1).split())
    for want in ("Validated by", "Record SHA-256", SIGNER.fingerprint, "page 1 of 1"):
        assert want in text, want


def test_a_long_certificate_numbers_its_pages_and_names_the_drive_on_each(tmp_path: Path) -> None:
    result = job(
        passed=False,
        steps=tuple(step(i, ok=i % 5 != 0) for i in range(90)),
        notes=tuple(f"note {i}: " + "operator remark " * 30 for i in range(6)),
    )
    rec = validate(SIGNER.sign(build_record(result, STATION)))
    pdf = write(tmp_path, rec)
    total = pages_of(pdf)
    assert total >= 2
    digest = record_hash(rec)
    for page in range(1, total + 1):
        text = " ".join(page_text(pdf, page).split())
        assert f"page {page} of {total}" in text
        assert display_serial(rec) in text
        assert digest in text


def test_a_certificate_forced_onto_two_pages_says_page_1_of_2(tmp_path: Path) -> None:
    result = job(steps=tuple(step(i) for i in range(20)), notes=("long note " * 40,))
    rec = validate(SIGNER.sign(build_record(result, STATION)))
    pdf = write(tmp_path, rec)
    assert pages_of(pdf) == 2
    first, second = (" ".join(page_text(pdf, n).split()) for n in (1, 2))
    assert "page 1 of 2" in first
    assert "page 2 of 2" in second
    assert record_hash(rec) in first
    assert record_hash(rec) in second
    assert "Validated by" in second  # the signature block ends the certificate
