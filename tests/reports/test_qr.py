"""Issue 18: the QR code's mask scored faster is still reportlab's code, module for module."""

from __future__ import annotations

import random
import string

import pytest
from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel, QRUtil
from wipestation.reports import qr
from wipestation.reports.record import build_record, qr_payload

from tests.reports.factory import STATION, job

RANDOM = random.Random(18)
#: 1 to 600 characters: versions 1 to 14 at level M (7 and up carry version information)
PAYLOADS = [
    "".join(RANDOM.choice(string.printable[:94]) for _ in range(n))
    for n in (1, 7, 20, 45, 60, 100, 144, 180, 230, 300, 420, 600)
    for _ in range(4)
]


def reportlab_code(payload: str) -> QRCode:
    code = QRCode(None, QRErrorCorrectLevel.M)
    code.addData(payload)
    code.make()
    return code


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: str(len(p)))
def test_every_trial_mask_scores_what_reportlab_scores(payload: str) -> None:
    code = QRCode(None, QRErrorCorrectLevel.M)
    code.addData(payload)
    code.version = code.calculate_version()
    for mask in range(8):
        code.makeImpl(True, mask)
        assert qr.lost_points(code.modules) == QRUtil.getLostPoint(code), mask


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: str(len(p)))
def test_the_code_is_reportlabs_own_module_for_module(payload: str) -> None:
    theirs = reportlab_code(payload)
    assert qr.qr_modules(payload) == [[bool(m) for m in row] for row in theirs.modules]


def test_a_record_payload_and_the_versions_with_version_information() -> None:
    payload = qr_payload(build_record(job(), STATION))
    assert qr.qr_modules(payload) == [
        [bool(m) for m in row] for row in reportlab_code(payload).modules
    ]
    assert max(reportlab_code(p).version for p in PAYLOADS) >= 7  # setupTypeNumber is covered


def test_the_scores_count_what_the_standard_penalises() -> None:
    """Hand-made lines: each rule's points, so a wrong rule cannot hide behind reportlab's."""
    assert qr.runs_score(["0000011111"]) == 3 + 3  # two runs of five
    assert qr.runs_score(["1111111"]) == 5  # seven: 3 + 2
    assert qr.runs_score(["0101010101"]) == 0
    assert qr.blocks_score(["110", "110"]) == 3  # one 2x2 dark block
    assert qr.blocks_score(["000", "000"]) == 6  # two overlapping light blocks
    assert qr.finder_score(["10111010000" + "1"]) == 40
    assert qr.finder_score(["10111010000"]) == 0  # reportlab never tests a row's last place
    assert qr.balance_score(["10", "01"]) == 0  # half dark
    assert qr.balance_score(["11", "11"]) == 100
