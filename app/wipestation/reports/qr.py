"""The certificate's QR code: reportlab's encoder, with its choice of mask scored faster.

Why: an encoder must try all 8 masks and keep the one whose modules score the fewest penalty
points (ISO/IEC 18004 §7.8.3); reportlab scores each in Python, one module at a time, and that
was a quarter of a certificate's rendering time (issue 18). Here a line of modules is a string
(runs and the finder-like pattern are found by the string machinery) and two adjacent rows are
bits of an integer (2x2 blocks are counted with a few integer operations). The score is
reportlab's own, quirks included (its finder-pattern rule only ever matches along rows, and
not at the last position of a row), so the chosen mask and the code are exactly reportlab's.
"""

from __future__ import annotations

import re
from itertools import chain, repeat

from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel, QRUtil

#: A run of five or more modules of one colour: 3 points, plus 1 per module past five.
RUN = re.compile(r"0{5,}|1{5,}")
#: The 1:1:3:1:1 finder-like pattern followed by four light modules: 40 points.
FINDER_LIKE = "10111010000"


def rows_of(modules: list[list[bool]]) -> list[str]:
    return ["".join("1" if m else "0" for m in row) for row in modules]


def runs_score(lines: list[str]) -> int:
    return sum(len(run) - 2 for line in lines for run in RUN.findall(line))


def blocks_score(rows: list[str]) -> int:
    """3 points per 2x2 block of one colour."""
    width = len(rows[0])
    pairs = (1 << (width - 1)) - 1  # one bit per pair of adjacent columns
    score = 0
    for upper, lower in zip(rows, rows[1:], strict=False):
        a, b = int(upper, 2), int(lower, 2)
        same = ~(a ^ b)  # the two rows agree
        score += 3 * bin(same & (same >> 1) & ~(a ^ (a >> 1)) & pairs).count("1")
    return score


def finder_score(rows: list[str]) -> int:
    """40 points per finder-like pattern along a row, as reportlab scans: from the left, past
    a match, never starting at the row's last possible position."""
    score = 0
    for row in rows:
        j = 0
        while (k := row.find(FINDER_LIKE, j, len(row) - 1)) >= 0:
            score += 40
            j = k + len(FINDER_LIKE)
    return score


def balance_score(rows: list[str]) -> int:
    cells = len(rows) ** 2
    dark = sum(row.count("1") for row in rows)
    return 10 * (abs(100 * dark // cells - 50) // 5)


def lost_points(modules: list[list[bool]]) -> int:
    """reportlab's ``QRUtil.getLostPoint`` of these modules."""
    rows = rows_of(modules)
    columns = ["".join(col) for col in zip(*rows, strict=True)]
    return (
        runs_score(rows)
        + runs_score(columns)
        + blocks_score(rows)
        + finder_score(rows)
        + balance_score(rows)
    )


Positions = list[tuple[int, int]]
#: (version, mask) -> the mask's value at each data position: computed once per process
_MASK_BITS: dict[tuple[int, int], tuple[bool, ...]] = {}


def mask_bits(version: int, mask: int, positions: Positions) -> tuple[bool, ...]:
    """The mask's value at each data position (col, row) of a code of ``version``."""
    key = (version, mask)
    if key not in _MASK_BITS:
        of = QRUtil.getMask(mask)
        _MASK_BITS[key] = tuple(bool(of(row, col)) for col, row in positions)
    return _MASK_BITS[key]


class QuickMaskQRCode(QRCode):
    """reportlab's QR encoder, its 8 trial masks scored by ``lost_points``; the best trial's
    matrix is kept (``makeImpl(False, best)`` would lay the same data out a ninth time)."""

    version: int | None  # reportlab's attributes (it ships no type information)
    modules: list[list[bool]]

    def make(self) -> None:
        if self.version is None:
            self.version = self.calculate_version()
        best: tuple[int, int, list[list[bool]]] | None = None
        for mask in range(8):
            self.makeImpl(True, mask)
            lost = lost_points(self.modules)
            if best is None or lost < best[0]:  # the first of equal scores, as reportlab
                best = (lost, mask, self.modules)
        assert best is not None
        _, mask, self.modules = best
        self.setupTypeInfo(False, mask)  # the format (and version) modules the trials left light
        if self.version >= 7:
            self.setupTypeNumber(False)

    def mapData(self, data: list[int], maskPattern: int) -> None:  # noqa: N802,N803 - reportlab's
        positions = self.dataPosIterator()
        bits = chain(self.dataBitIterator(data), repeat(False))  # remainder bits are light
        masks = mask_bits(self.version or 0, maskPattern, positions)  # set by ``make``
        modules = self.modules
        for (col, row), dark, masked in zip(positions, bits, masks, strict=False):
            modules[row][col] = dark ^ masked


def qr_modules(payload: str) -> list[list[bool]]:
    """The QR code's module matrix (level M, the best mask), rows top to bottom."""
    qr = QuickMaskQRCode(None, QRErrorCorrectLevel.M)
    qr.addData(payload)
    qr.make()
    return [[bool(m) for m in row] for row in qr.modules]
