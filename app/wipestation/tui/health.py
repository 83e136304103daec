"""One word of drive health for the table, from the probe's SMART summary.

The probe runs tools (smartctl, nvme, hdparm), so the App calls it from a worker thread, once
per drive; this module only turns its answer into text.
"""

from __future__ import annotations

from wipestation.model import Drive
from wipestation.planning.capabilities import Capabilities
from wipestation.planning.medium import medium_of


def health_word(caps: Capabilities) -> str:
    """ "OK", "WARN", "FAILING", "n/a" (no SMART on this transport) or "?"."""
    smart = getattr(caps, "smart", None)
    if smart is None:
        return "n/a"
    if smart.passed is False:
        return "FAILING"
    counters = (smart.reallocated_sectors, smart.pending_sectors, smart.media_errors)
    if any(c for c in counters):
        return "WARN"
    return "OK" if smart.passed else "?"


def health_lines(drive: Drive, caps: Capabilities | None) -> list[str]:
    """The SMART summary and capability notes for the details view; the medium is planning's
    word for it (the one the plan's level and the record use)."""
    if caps is None:
        return ["not probed yet"]
    smart = caps.smart
    lines = [f"medium: {medium_of(drive, caps)}"]
    if smart is None:
        lines.append("SMART: not available on this transport")
    else:
        lines.append(f"SMART: {health_word(caps)} (self-assessment {_yes_no(smart.passed)})")
        for label, value in (
            ("power-on hours", smart.power_on_hours),
            ("reallocated sectors", smart.reallocated_sectors),
            ("pending sectors", smart.pending_sectors),
            ("media errors", smart.media_errors),
            ("percentage used", smart.percentage_used),
        ):
            if value is not None:
                lines.append(f"  {label}: {value}")
        if smart.security_frozen:
            lines.append("  ATA security: FROZEN (firmware erase needs a suspend/resume)")
    lines += [f"missing tool: {e}" for e in caps.availability_errors]
    lines += [f"note: {n}" for n in caps.notes]
    return lines


def _yes_no(value: bool | None) -> str:
    return {True: "passed", False: "FAILED", None: "unknown"}[value]
