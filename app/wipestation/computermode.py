"""Computer mode: the stick booted on the asset itself, to erase that computer's own drives.

Why: an IT-asset-disposal floor wipes whole computers, not only loose drives; the asset is the
computer, and its certificate covers the drives inside it. Which drives those are is what
discovery/attachment.py decides; this module is the one rule built on it. Only an *internal*
drive is the computer's: an external (USB, Thunderbolt, SD) disk is listed but never selected
by default nor wiped unattended, and a drive whose attachment is unknown is not taken either —
unknown is never guessed internal.
"""

from __future__ import annotations

from collections.abc import Iterable

from wipestation.config import StationConfig
from wipestation.discovery.controllers import not_a_drive
from wipestation.model import Attachment, Drive


def on(config: StationConfig) -> bool:
    """Whether the station runs in computer mode (``mode = "computer"``)."""
    return config.mode == "computer"


def takes(drive: Drive) -> bool:
    """The drive is this computer's own and may be wiped: internal, wipeable, a real drive."""
    return drive.attachment == Attachment.INTERNAL and drive.wipeable and not not_a_drive(drive)


def left_out(drive: Drive) -> str:
    """Why computer mode does not take a drive by itself ('' when it does)."""
    if drive.attachment == Attachment.EXTERNAL:
        return (
            f"external ({drive.attachment_why or 'not inside this computer'}): not this computer's"
        )
    if drive.attachment != Attachment.INTERNAL:
        return "not known to be inside this computer"
    return "" if takes(drive) else "not wipeable"


def certified(drives: Iterable[Drive]) -> list[Drive]:
    """The drives the computer certificate covers: every internal drive, once (by identity),
    a protected one too — its certificate then says NOT WIPED rather than leaving it out."""
    out: dict[str, Drive] = {}
    for d in drives:
        if d.attachment == Attachment.INTERNAL and not not_a_drive(d):
            out.setdefault(d.identity, d)
    return list(out.values())


def powers_off(config: StationConfig) -> bool:
    """Unattended, the station powers off when done: with ``poweroff``, and always in computer
    mode (the computer is finished once its certificate is on the stick)."""
    return config.unattended and (config.poweroff or on(config))
