"""The methods the operator can choose from, as the method picker shows them.

The methods themselves are planning's one table (``planning/catalogue.py``); this module only
counts which of the chosen drives can run one, and never decides anything itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from wipestation.model import Drive
from wipestation.planning.catalogue import Method


def supports(method: Method, drive: Drive) -> bool:
    """Whether ``drive``'s transport can run ``method`` at all (the plan decides the rest)."""
    return drive.transport in method.transports


def supported_by(method: Method, drives: Iterable[Drive]) -> tuple[int, int]:
    found = list(drives)
    return sum(1 for d in found if supports(method, d)), len(found)
