"""Start-up milestones of a station process, stamped with the kernel's uptime.

Each line is ``<uptime s> <tty> <milestone>``: how long after the kernel started the station
reached it. The image's station unit names the file in ``WIPESTATION_BOOT_TIMES`` (anywhere else
nothing is written); ``make bench`` and the boot test read it to show where a boot's seconds go.
"""

from __future__ import annotations

import contextlib
import gc
import os
from pathlib import Path

ENV = "WIPESTATION_BOOT_TIMES"


def uptime(path: str = "/proc/uptime") -> float | None:
    try:
        with open(path, encoding="ascii") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def mark(milestone: str) -> None:
    """Append one milestone when the unit asked for it; never fails the station."""
    target = os.environ.get(ENV)
    up = uptime() if target else None
    if not target or up is None:
        return
    with contextlib.suppress(OSError):
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(f"{up:.2f} {os.environ.get('WIPESTATION_TTY') or '-'} {milestone}\n")


def read(path: Path) -> list[tuple[float, str, str]]:
    """The milestones written so far, oldest first."""
    out = []
    with contextlib.suppress(OSError):
        for line in path.read_text(encoding="utf-8").splitlines():
            up, _, rest = line.partition(" ")
            tty, _, milestone = rest.partition(" ")
            with contextlib.suppress(ValueError):
                out.append((float(up), tty, milestone))
    return out


def pause_gc() -> None:
    """Start-up allocates much and frees little: the cycle collector only costs time then
    (about 12 % of the imports, a second of a boot under QEMU TCG). See ``startup_done``."""
    gc.disable()


def startup_done() -> None:
    """The collector back on, with everything start-up made frozen out of later full
    collections (they stay shorter on a slow CPU). Idempotent."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def yield_if_log_view(tty: str, cmdline: str = "/proc/cmdline") -> bool:
    """Both station instances start together at boot; the one that will only show the log
    steps back so the controlling one reaches its screen first. Decided from the kernel command
    line alone (``wipestation.console=``, default tty1): a stick file naming another console
    only costs the priority, never the screen."""
    try:
        with open(cmdline, encoding="utf-8", errors="replace") as f:
            words = f.read().split()
    except OSError:
        return False
    console = "tty1"
    for w in words:
        if w.startswith("wipestation.console="):
            console = w.partition("=")[2]
    if tty == console:
        return False
    with contextlib.suppress(OSError):
        os.nice(15)
    return True
