"""How many ATA password attempts this station made on each drive since boot, and what that
leaves of the drive's allowance.

Why: an ATA drive allows ``ALLOWED`` (5) failed SECURITY UNLOCK / SECURITY ERASE UNIT attempts
per power cycle. Its password attempt counter starts at five at a power-on (or hardware) reset
and each mismatch decrements it; at zero the drive sets SECURITY COUNT EXPIRED (IDENTIFY DEVICE
word 128 bit 4, hdparm -I "expired: security count") and aborts both commands until the next
reset. Source: ATA8-ACS (T13/1699-D), the "Security feature set" clause and its attempt
limit counter, as proposed for it in T13 e05179 "ATA Security feature Set Clarifications"
(r1, r4), section 1.1.9 "Attempt Limit counter" (the clause number of the published standard
was not checked: no copy of it here); drive manuals say the same (Hitachi Travelstar 5K160
specification, 12.9.1.4 "Attempt limit for SECURITY UNLOCK command"). The drive reports no
count, only EXPIRE, so the station counts its own attempts to say at most how many remain.
Attempts before this boot or by other software are unknown: the count is a lower bound and
what remains an upper bound ("at most"), never more.

The tally lives in this boot's tmpfs (``/run/wipestation``), so a restarted station or a
``wipestation wipe`` in another shell counts the same attempts; a lock makes it safe for the
engine's parallel jobs and ``flock`` for other processes. It holds drive identities and counts,
never a password.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

log = logging.getLogger(__name__)

#: failed SECURITY UNLOCK / SECURITY ERASE UNIT attempts an ATA drive takes per power cycle
ALLOWED = 5
#: ``paths.RUN_DIR`` / password-attempts.json (steps/ may not import ``paths``)
DEFAULT_PATH = Path("/run/wipestation/password-attempts.json")
#: another file for the tally (tests); unset on the station
PATH_ENV = "WIPESTATION_ATTEMPTS_FILE"
SINCE_BOOT = "since boot"
SINCE_START = "since this station program started"  # the boot's file could not be used


@dataclass(frozen=True)
class Tally:
    """One drive's attempts by this station since the last reset the station saw."""

    made: int = 0
    #: the drive reported EXPIRE since: a later "not expired" means it was power-cycled
    expired_seen: bool = False
    scope: str = SINCE_BOOT

    @property
    def at_most_left(self) -> int:
        return max(ALLOWED - self.made, 0)


Change = Callable[[Tally], Tally]


class AttemptLog:
    """Attempts per drive identity; thread-safe, and process-safe through its file."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._mem: dict[str, Tally] = {}

    @property
    def scope(self) -> str:
        return SINCE_BOOT if self._path is not None else SINCE_START

    def tally(self, identity: str) -> Tally:
        return self._update(identity, lambda t: t)

    def add(self, identity: str) -> Tally:
        """One more password sent to the drive and not accepted."""
        return self._update(identity, lambda t: replace(t, made=t.made + 1))

    def observe(self, identity: str, expired: bool | None) -> Tally:
        """The drive's EXPIRE as just read: set after it was seen set means a power cycle (only
        a power-on or hardware reset clears it), so the station's count starts again."""

        def seen(t: Tally) -> Tally:
            if expired:
                return replace(t, expired_seen=True)
            return Tally(scope=t.scope) if expired is False and t.expired_seen else t

        return self._update(identity, seen)

    def _update(self, identity: str, change: Change) -> Tally:
        with self._lock:
            if self._path is not None:
                try:
                    self._mem[identity] = self._update_file(self._path, identity, change)
                    return self._mem[identity]
                except (OSError, ValueError) as e:
                    log.warning(
                        "password attempts: %s unusable (%s): counting in memory", self._path, e
                    )
                    self._path = None
            t = change(replace(self._mem.get(identity, Tally()), scope=SINCE_START))
            self._mem[identity] = t
            return t

    @staticmethod
    def _update_file(path: Path, identity: str, change: Change) -> Tally:
        if not path.exists() and change(Tally()) == Tally():
            return Tally()  # nothing counted this boot: reading creates no file
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes
            f.seek(0)
            data = _parse(f.read())
            old = data.get(identity, Tally())
            new = change(old)
            if new != old:
                data[identity] = new
                f.seek(0)
                f.truncate()
                f.write(json.dumps({k: [t.made, t.expired_seen] for k, t in data.items()}))
        return new


def _parse(text: str) -> dict[str, Tally]:
    """The file's tallies; ValueError when it is not what this module writes (then the earlier
    count is unknown, and the log says so by counting in memory)."""
    raw = json.loads(text) if text.strip() else {}
    if not isinstance(raw, dict):
        raise ValueError("not a JSON object")
    out = {}
    for key, value in raw.items():
        if not (isinstance(value, list) and len(value) == 2 and type(value[0]) is int):
            raise ValueError(f"entry {key!r} is not [count, expired_seen]")
        out[key] = Tally(made=value[0], expired_seen=bool(value[1]))
    return out


_LOGS: dict[Path, AttemptLog] = {}
_LOGS_LOCK = threading.Lock()


def station_log() -> AttemptLog:
    """The log every step and plan of this station shares (one per file)."""
    path = Path(os.environ.get(PATH_ENV) or DEFAULT_PATH)
    with _LOGS_LOCK:
        return _LOGS.setdefault(path, AttemptLog(path))


def made(t: Tally) -> str:
    """'2 password attempts by this station since boot'."""
    return f"{t.made} password attempt{'' if t.made == 1 else 's'} by this station {t.scope}"


def budget(t: Tally, expired: bool | None = False) -> str:
    """What the station's count leaves of the drive's allowance, in the operator's words
    (``expired``: the drive's EXPIRE as last read, None when unreadable)."""
    if t.made >= ALLOWED and expired is None:
        return f"the drive allows {ALLOWED} per power cycle: none may remain (power-cycle it)"
    if t.made >= ALLOWED:
        return (
            f"the drive allows {ALLOWED} per power cycle and does not report them used up, so it "
            f"was power-cycled or reset since: how many remain is unknown (at most {ALLOWED})"
        )
    left = t.at_most_left
    return (
        f"the drive allows {ALLOWED} per power cycle, so at most {left} "
        f"remain{'s' if left == 1 else ''} — after that it needs a power cycle"
    )


def after_refusal(t: Tally, expired: bool | None) -> str:
    """The count after a refused password, with the EXPIRE the drive reported afterwards."""
    said = f"attempt {t.made} by this station {t.scope}"
    if expired:
        return f"{said}; expired: the drive refuses further attempts until it is power-cycled"
    if expired is None:
        return f"{said}; the drive's EXPIRE bit could not be read; {budget(t, None)}"
    return f"{said}; {budget(t)}"


def before_attempt(t: Tally) -> str:
    """For the plan's reasons: what the next attempt would be ('' when none was made)."""
    if t.made == 0:
        return ""
    nth = t.made + 1
    if nth == ALLOWED:
        return (
            f"warning: {made(t)}; this is attempt {nth}, the last of the {ALLOWED} the drive "
            "allows per power cycle (at most: attempts before this boot or by other software "
            "are unknown): if this password is wrong too, the drive refuses every further "
            "attempt until it is power-cycled"
        )
    return f"{made(t)}; {budget(t)} (attempts before this boot or by other software are unknown)"
