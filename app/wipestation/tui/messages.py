"""Rare state changes, posted as messages (style.md: the first of the two progress channels).

Hot counters (bytes done, rate, ETA) are never sent as messages: the App reads them from
``engine.snapshot()`` on a timer. Everything here is posted from other threads with
``post_message``, which is thread-safe and never blocks the sender.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from wipestation.model import Drive, Progress


@dataclass
class DriveAdded(Message):
    drive: Drive


@dataclass
class DriveRemoved(Message):
    name: str


@dataclass
class DriveChanged(Message):
    drive: Drive


@dataclass
class JobChanged(Message):
    """A job changed state or reported an error (engine subscriber)."""

    progress: Progress


@dataclass
class HealthProbed(Message):
    """The probe answered for one drive (``caps`` None when it failed: see ``error``)."""

    name: str
    caps: Any
    error: str


@dataclass
class JobStarted(Message):
    """The start worker handed a drive to the engine."""

    name: str
    job_id: str
    method: str


@dataclass
class StartRefused(Message):
    """The engine refused a drive before writing anything (unsupported, protected, gone)."""

    name: str
    path: str
    error: str


@dataclass
class JobLogged(Message):
    """One line the engine logged for a job (a step, a command, a retry)."""

    job_id: str
    text: str
