"""The methods the operator can choose from, read from ``wipestation.methods``.

The method registry belongs to the engine and hardware modules; this module only adapts it for
display (NIST level, which of the chosen drives support it) and never decides anything itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from wipestation.model import Drive


@dataclass(frozen=True)
class MethodInfo:
    name: str
    title: str
    level: str  # "purge", "clear", "clear/purge", ... as the registry states it
    transports: tuple[str, ...] = ()  # empty: any drive

    def supports(self, drive: Drive) -> bool:
        return not self.transports or str(drive.transport) in self.transports


FALLBACK = (MethodInfo("auto", "Best method each drive supports", "purge or clear"),)


def load_methods() -> tuple[MethodInfo, ...]:
    """The registry's methods, or a single ``auto`` entry if the registry is not installed."""
    try:
        registry = importlib.import_module("wipestation.methods")
        found = tuple(_info(m) for m in registry.all_methods())
    except (ImportError, AttributeError):
        return FALLBACK
    return found or FALLBACK


def _info(m: Any) -> MethodInfo:
    return MethodInfo(
        name=str(m.name),
        title=str(getattr(m, "title", "") or m.name),
        level=_level_text(getattr(m, "levels", None) or getattr(m, "level", "")),
        transports=tuple(str(t) for t in (getattr(m, "transports", None) or ())),
    )


def _level_text(level: Any) -> str:
    """``level`` is a string, or a mapping medium → level; show the distinct levels."""
    if isinstance(level, dict):
        values = sorted({str(v) for v in level.values() if v})
        return "/".join(values) or "-"
    return str(level or "-")


def supported_by(method: MethodInfo, drives: Iterable[Drive]) -> tuple[int, int]:
    drives = list(drives)
    return sum(1 for d in drives if method.supports(d)), len(drives)
