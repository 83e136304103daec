"""One word of drive health for the table, and the details view's lines, from the one source the
planner reads: ``caps.health`` (SMART overall-health and the NVMe Critical Warning bits, with the
drive's reasons). The SMART counters only add a WARN to a drive that is otherwise OK.

The probe runs tools (smartctl, nvme, hdparm), so the App calls it from a worker thread, once
per drive; this module only turns its answer into text.
"""

from __future__ import annotations

from wipestation.model import Drive
from wipestation.planning.capabilities import Capabilities
from wipestation.planning.medium import medium_of
from wipestation.tools.smartctl import HealthState, SmartSummary

#: the table's word per health state (planning/health.py decides what each does to the plan)
WORDS = {
    HealthState.READ_ONLY: "READ-ONLY",
    HealthState.FAILING: "FAILING",
    HealthState.OK: "OK",
    HealthState.UNKNOWN: "?",
}


def health_word(caps: Capabilities) -> str:
    """ "READ-ONLY" (media read-only: the NVMe critical warning), "FAILING" (SMART FAILED or
    another critical warning), "WARN" (healthy, but counters show reallocated/pending sectors or
    media errors), "OK", "n/a" (no SMART on this transport) or "?" (SMART said nothing usable)."""
    if caps.smart is None:
        return "n/a"
    state = caps.health.state
    if state in (HealthState.OK, HealthState.UNKNOWN) and _counted(caps.smart):
        return "WARN"
    return WORDS[state]


def _counted(smart: SmartSummary) -> bool:
    counters = (smart.reallocated_sectors, smart.pending_sectors, smart.media_errors)
    return any(c for c in counters)


def health_lines(drive: Drive, caps: Capabilities | None) -> list[str]:
    """The health as the planner reads it (state and the drive's reasons), the SMART counters
    and capability notes; the medium is planning's word for it (the plan's level and the
    record use the same)."""
    if caps is None:
        return ["not probed yet"]
    smart = caps.smart
    lines = [f"medium: {medium_of(drive, caps)}", f"health: {health_word(caps)}"]
    lines += [f"  {reason}" for reason in caps.health.reasons]
    if smart is None:
        lines.append("SMART: not available on this transport")
    else:
        lines.append(f"SMART: self-assessment {_yes_no(smart.passed)}")
        lines += _counter_lines(smart)
        if smart.security_frozen:
            lines.append("  ATA security: FROZEN (firmware erase needs a suspend/resume)")
    lines += [f"missing tool: {e}" for e in caps.availability_errors]
    lines += [f"note: {n}" for n in caps.notes]
    return lines


def _counter_lines(smart: SmartSummary) -> list[str]:
    counters = (
        ("power-on hours", smart.power_on_hours),
        ("reallocated sectors", smart.reallocated_sectors),
        ("pending sectors", smart.pending_sectors),
        ("media errors", smart.media_errors),
        ("percentage used", smart.percentage_used),
    )
    return [f"  {label}: {value}" for label, value in counters if value is not None]


def _yes_no(value: bool | None) -> str:
    return {True: "passed", False: "FAILED", None: "unknown"}[value]
