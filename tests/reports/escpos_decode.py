"""A small ESC/POS decoder for the tests: bytes → text lines, QR payload, barcodes, cut.

It knows only the commands the label uses and fails on anything else, so a stray or malformed
command in the label is caught rather than printed as garbage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ESC, GS, LF = 0x1B, 0x1D, 0x0A
ESC_ARGS = {ord("@"): 0, ord("t"): 1, ord("a"): 1, ord("E"): 1, ord("d"): 1, ord("!"): 1}
GS_ARGS = {ord("!"): 1, ord("h"): 1, ord("w"): 1, ord("H"): 1}


@dataclass
class Decoded:
    lines: list[str] = field(default_factory=list)
    qr_stored: bytes = b""
    qr_printed: bool = False
    qr_model: int = 0
    barcodes: list[tuple[int, bytes]] = field(default_factory=list)
    cut: bool = False
    initialised: bool = False

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def flat(self) -> str:
        """The text with the label's line wrapping undone."""
        return " ".join(line.strip() for line in self.lines)


def _gs_paren_k(data: bytes, i: int, out: Decoded) -> int:
    plen = data[i] | data[i + 1] << 8
    body = data[i + 2 : i + 2 + plen]
    if len(body) != plen or body[0] != ord("1"):
        raise ValueError(f"bad GS ( k at {i}")
    fn = body[1]
    if fn == ord("A"):
        out.qr_model = body[2] - ord("0")
    elif fn == ord("P"):
        assert body[2] == ord("0")
        out.qr_stored = body[3:]
    elif fn == ord("Q"):
        out.qr_printed = bool(out.qr_stored)
    elif fn not in (ord("C"), ord("E")):
        raise ValueError(f"unknown QR function {fn:#x}")
    return i + 2 + plen


def _gs(data: bytes, i: int, out: Decoded) -> int:
    cmd = data[i]
    if cmd in GS_ARGS:
        return i + 1 + GS_ARGS[cmd]
    if cmd == ord("V"):
        out.cut = True
        return i + 2 + (1 if data[i + 1] >= 65 else 0)
    if cmd == ord("k"):
        m, n = data[i + 1], data[i + 2]
        if m < 65:
            raise ValueError("function A barcodes not used")
        out.barcodes.append((m, data[i + 3 : i + 3 + n]))
        return i + 3 + n
    if cmd == ord("(") and data[i + 1] == ord("k"):
        return _gs_paren_k(data, i + 2, out)
    raise ValueError(f"unknown GS command {cmd:#x} at {i}")


def decode(data: bytes) -> Decoded:
    out, line, i = Decoded(), bytearray(), 0
    while i < len(data):
        b = data[i]
        if b == ESC:
            cmd = data[i + 1]
            if cmd not in ESC_ARGS:
                raise ValueError(f"unknown ESC command {cmd:#x} at {i}")
            out.initialised |= cmd == ord("@")
            i += 2 + ESC_ARGS[cmd]
        elif b == GS:
            i = _gs(data, i + 1, out)
        elif b == LF:
            out.lines.append(line.decode("cp437"))
            line.clear()
            i += 1
        elif b < 0x20:
            raise ValueError(f"stray control byte {b:#x} at {i}")
        else:
            line.append(b)
            i += 1
    if line:
        out.lines.append(line.decode("cp437"))
    return out
