"""The resume rule, in one place: which journal entry continues which drive, with which method.

An interrupted wipe resumes only on the drive it was started on (same identity, same size) and
only with the method and verification it was started with; a front end asks ``interrupted`` for
what to plan, and the engine checks the plan against the entry with ``entry_for`` before it
starts. A cancelled job's entry is removed when it ends (the operator chose to stop), so only a
power cut or a crash leaves one behind.
"""

from __future__ import annotations

from dataclasses import dataclass

from wipestation.engine.journal import Journal, JournalEntry
from wipestation.errors import SafetyError, UnsupportedError
from wipestation.model import Drive, VerifyMode, verify_mode
from wipestation.steps.plan import Plan


@dataclass(frozen=True)
class Interrupted:
    """An interrupted wipe of a drive, as its journal entry tells it."""

    method: str
    verify: VerifyMode
    offset: int
    step_index: int


def interrupted(journal: Journal, drive: Drive) -> Interrupted | None:
    """The wipe to resume on ``drive``, or None (no entry, or the drive is not the same size)."""
    entry = journal.load(drive.identity)
    if entry is None or entry.size_bytes != drive.size_bytes:
        return None
    return Interrupted(entry.method, verify_mode(entry.verify), entry.offset, entry.step_index)


def entry_for(journal: Journal, drive: Drive, plan: Plan) -> JournalEntry | None:
    """The journal entry a resumed job continues, after checking it belongs to this plan.

    Raises:
        UnsupportedError: the interrupted wipe used another method.
        SafetyError: the drive changed size since.
    """
    entry = journal.load(drive.identity)
    if entry is None:
        return None
    if entry.method != plan.asked_for:
        raise UnsupportedError(
            f"{drive.path} was interrupted during {entry.method!r}; resume it with that method"
        )
    if entry.size_bytes != drive.size_bytes:
        raise SafetyError(f"{drive.path} changed size since the interrupted wipe; not resuming")
    return entry
