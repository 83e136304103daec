"""What a job writes into its ``JobResult`` besides the steps that succeeded.

Why a module: a report must show what went wrong as precisely as what went right. A step that
raised still becomes a (failed) ``StepRecord`` with the command it ran; a fallback line names the
step that failed and why; health and HPA/DCO come from the job's one probe. Pure functions over
values: nothing here runs a tool, opens a device or decides whether a job passes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from wipestation.errors import ToolFailedError
from wipestation.model import Drive, HiddenAreas, SectorFormat, StepRecord, now_iso
from wipestation.steps.sector_format import NAME as REFORMAT
from wipestation.steps.sector_format import TARGET_BLOCK

#: hdparm options whose next argument is a password: never copied into a report.
_SECRET_OPTIONS = ("--security-set-pass", "--security-erase", "--security-unlock")


def describe_error(error: BaseException) -> str:
    """One line for a person: the tool's own message, without the station's tool directory."""
    if isinstance(error, ToolFailedError) and error.argv:
        exe = error.argv[0]
        return str(error).replace(exe, os.path.basename(exe), 1)
    return str(error) or type(error).__name__


def masked_argv(argv: Sequence[str]) -> str:
    """``argv`` as one string with the tool's basename and any password replaced by ****."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        secret = i > 0 and argv[i - 1].startswith(_SECRET_OPTIONS)
        out.append("****" if secret else (os.path.basename(arg) if i == 0 else arg))
    return " ".join(out)


def command_of(error: BaseException, logged: Sequence[str]) -> str:
    """The command a failed step ran: the first line it logged (steps log their command, with
    passwords masked, before running it), else the failing tool's argv, else ''."""
    if logged:
        return logged[0]
    if isinstance(error, ToolFailedError) and len(error.argv) > 1:
        return masked_argv(error.argv)
    return ""


def failed_step(
    name: str, kind: str, started: str, error: BaseException, logged: Sequence[str]
) -> StepRecord:
    """The record of a step that raised instead of returning one."""
    tool = error if isinstance(error, ToolFailedError) else None
    return StepRecord(
        name=name,
        kind=kind,
        command=command_of(error, logged),
        started_at=started,
        ended_at=now_iso(),
        ok=False,
        exit_status=tool.returncode if tool else None,
        output_excerpt=tool.stderr_tail[-500:] if tool else "",
        error=describe_error(error),
    )


def fallback_line(method: str, why: str, fallback: str) -> str:
    """``auto: nvme sanitize (crypto erase) failed: … ; fallback → nist-clear``."""
    return f"{method}: {why}; fallback → {fallback}"


def hpa_dco_of(hidden: HiddenAreas | None, steps: Sequence[StepRecord]) -> dict[str, object] | None:
    """HPA/DCO as probed before the wipe, and whether a hidden area is left after it.

    ``hidden_after`` is True unless every hidden area was removed by a prepare step that
    succeeded (the HPA reset reads ``hdparm -N`` back before it reports success).
    """
    if hidden is None:
        return None
    hpa_left = hidden.hpa_hidden > 0 and not _done(steps, "reset HPA")
    dco_left = hidden.dco_hidden > 0 and not _done(steps, "restore DCO")
    return {
        "hpa": _hpa_json(hidden),
        "dco": None if hidden.dco_real_max is None else {"real_max": hidden.dco_real_max},
        "hidden_sectors_before": hidden.hidden_sectors,
        "hidden_before": hidden.hidden_sectors > 0,
        "hidden_after": hpa_left or dco_left,
    }


def sector_format_of(
    probed: SectorFormat | None, steps: Sequence[StepRecord]
) -> dict[str, object] | None:
    """The sector format as probed, and ``reformatted_to`` when a reformat step succeeded."""
    if probed is None:
        return None
    return {
        "logical_block_size": probed.logical_block_size,
        "blocks": probed.blocks,
        "protection": probed.protection,
        "nonstandard": probed.nonstandard,
        "reformatted_to": TARGET_BLOCK if _done(steps, REFORMAT) else None,
    }


def _hpa_json(h: HiddenAreas) -> dict[str, object] | None:
    if h.hpa_native is None:
        return None
    return {
        "current": h.hpa_current,
        "native": h.hpa_native,
        "enabled": h.hpa_enabled,
        "hidden": h.hpa_hidden,
    }


def _done(steps: Sequence[StepRecord], prefix: str) -> bool:
    return any(s.ok and s.kind == "prepare" and s.name.startswith(prefix) for s in steps)


def size_note(after: str, old: Drive, new: Drive) -> str:
    """The drive's size before and after a prepare step, for the report's notes."""
    if (old.size_bytes, old.logical_block_size) == (new.size_bytes, new.logical_block_size):
        return f"size after {after}: unchanged, {new.size_bytes} bytes"
    return (
        f"size after {after}: {old.size_bytes} → {new.size_bytes} bytes "
        f"(logical block {old.logical_block_size} → {new.logical_block_size})"
    )
