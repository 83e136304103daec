"""What a drive's own health report does to its plan: it can only narrow it, never widen it.

Why apart from the policy: the policy picks the method the drive *supports*; whether the medium
can still take writes is a separate fact (SMART overall-health, the NVMe Critical Warning bits)
that the plan must state before anything runs. A drive that put its media in read-only mode gets
no plan that writes through the block layer (an overwrite, a discard, BLKZEROOUT): a firmware
sanitize may still work, an overwrite cannot. A failing drive is planned as usual, and the plan
says so. Unknown health is said, never read as healthy.
"""

from __future__ import annotations

from dataclasses import replace

from wipestation.errors import UnsupportedError
from wipestation.planning.capabilities import Capabilities
from wipestation.steps.plan import Plan, StepKind
from wipestation.tools.smartctl import HealthState

#: step kinds that write through the block layer: a read-only medium refuses them
_BLOCK_WRITES = (StepKind.OVERWRITE, StepKind.IOCTL)
FAILING_NOTE = (
    "failing drive: the erase may run, but sectors it cannot write or read back fail the "
    "verification (the record names them); destroy the drive if it fails"
)
READ_ONLY_NOTE = "read-only media: no overwrite fallback (it could not write a sector)"


def writes_blocks(p: Plan) -> bool:
    return any(s.kind in _BLOCK_WRITES for s in p.steps)


def shape(p: Plan, path: str, caps: Capabilities) -> Plan:
    """``p`` as the drive's health allows it, with the health in its reasons.

    Raises:
        UnsupportedError: the media is read-only and ``p`` writes through the block layer.
    """
    health = caps.health
    line = f"health: {health.describe()}"
    if health.state == HealthState.FAILING:
        return replace(p, reasons=(*p.reasons, line, FAILING_NOTE))
    if health.state != HealthState.READ_ONLY:
        return replace(p, reasons=(*p.reasons, line))
    if writes_blocks(p):
        skipped = [r for r in p.reasons if r.startswith("skipped ")]
        raise UnsupportedError(
            f"{path}: {line}: {p.method} writes through the block layer and the drive refuses "
            "writes; only a firmware sanitize the drive reports could still erase it"
            + (f" ({'; '.join(skipped)})" if skipped else "")
            + ", else destroy the drive"
        )
    return replace(p, fallback=None, reasons=(*p.reasons, line, READ_ONLY_NOTE))
