"""The station's clock, set once per boot from NTP when a server answers (issue 20).

Why: the records' times are evidence, and a station's RTC may be years off (a flat CMOS
battery, a machine from a pallet). Servers come from the station config (``ntp = [...]``, or
``wipestation.ntp=`` on the kernel command line) and from the DHCP leases networkd keeps
(their NTP= option). The first proper answer (``sntp.py`` checks it) gives the offset; the
clock is stepped only when it is more than ``STEP_THRESHOLD_S`` off, by ``time.clock_settime``
(the step is a seam: tests never set the host's clock). Nothing waits for this but a record:
it runs in its own thread (``BootClock``), retrying while the network comes up, and whatever
signs a record first waits for its outcome (bounded), which the record carries as its
``clock`` block: ``ntp`` with the server and the offset, or ``rtc`` with why not. An NTP
failure never stops anything: one log line, and the RTC's time.

The first process of the boot to ask does the work under a lock, and leaves the outcome in
``paths.CLOCK_FILE``, which the other terminal's process and restarts read back: the clock is
stepped once, and the offset the records state is the boot's.
"""

from __future__ import annotations

import fcntl
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path

from wipestation import leases, paths, sntp
from wipestation.leases import Lease

#: A smaller offset is left alone: stepping the clock under running jobs costs more than it fixes.
STEP_THRESHOLD_S = 1.0
#: All attempts, while the link and DHCP come up (as long as the config fetch's: a switch port
#: with spanning tree forwards only after ~30 s, and a busy DHCP server answers late).
SYNC_BUDGET_S = 90.0
#: With no server in the config, how long a DHCP lease (which may name one) is awaited.
NETWORK_WAIT_S = 30.0
QUERY_TIMEOUT_S = 2.0
RETRY_S = 2.0
#: The longest a record waits for the boot's clock (the sync's budget, name lookups, a margin).
RECORD_WAIT_S = SYNC_BUDGET_S + 15.0
SOURCES = ("ntp", "rtc", "system")
log = logging.getLogger(__name__)


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class ClockOutcome:
    """Where the station's time comes from: ``ntp`` (``server`` answered; ``offset_s`` is how
    far the clock was off, ``stepped`` whether it was set), ``rtc`` (no server answered:
    ``problem`` says why), or ``system`` (not set by Wipestation: a command run on a host)."""

    source: str = "system"
    server: str = ""
    offset_s: float = 0.0
    stepped: bool = False
    stratum: int = 0
    at: str = ""
    problem: str = ""

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: object) -> ClockOutcome:
        """Fails closed: ValueError for anything but an outcome this module wrote."""
        if not isinstance(data, dict) or set(data) != {f.name for f in fields(cls)}:
            raise ValueError("not a clock outcome")
        outcome = cls(**data)
        if outcome.source not in SOURCES or not isinstance(outcome.offset_s, int | float):
            raise ValueError("not a clock outcome")
        return outcome

    def describe(self) -> str:
        """One line for the certificate's "Time source"."""
        if self.source == "ntp":
            done = "stepped" if self.stepped else "within"
            tail = "at boot" if self.stepped else "(not stepped)"
            return f"NTP {self.server} (clock {done} {self.offset_s:+.3f} s {tail})"
        if self.source == "rtc":
            return f"RTC, not set from NTP ({self.problem})"
        return "system clock"


#: Records written where Wipestation did not set the clock (a command on a host).
SYSTEM = ClockOutcome()


def step_realtime(offset_s: float) -> None:
    """Set CLOCK_REALTIME ``offset_s`` ahead (behind, if negative). The monotonic clocks that
    time the jobs do not move."""
    time.clock_settime(time.CLOCK_REALTIME, time.time() + offset_s)


def _query(server: sntp.Server) -> sntp.Answer:
    return sntp.query(server, QUERY_TIMEOUT_S)


@dataclass(frozen=True)
class Seams:
    """What ``settle`` touches outside itself; tests pass a recorder as ``step``."""

    query: Callable[[sntp.Server], sntp.Answer] = _query
    step: Callable[[float], None] = step_realtime
    read_leases: Callable[[], list[Lease]] = leases.read
    sleep: Callable[[float], None] = time.sleep


def servers(configured: Sequence[str], found: Sequence[Lease]) -> list[sntp.Server]:
    """The config's servers first (the operator chose them), then the leases' NTP= ones."""
    out: list[sntp.Server] = []
    for text in configured:
        try:
            out.append(sntp.parse_server(text))
        except ValueError as e:  # config.py rejects these already; never fatal here
            log.warning("NTP server ignored: %s", e)
    out += [sntp.Server(addr) for lease in found for addr in lease.ntp]
    return list(dict.fromkeys(out))


def apply(answer: sntp.Answer, step: Callable[[float], None]) -> ClockOutcome:
    """Step the clock by the answer's offset when it is large enough; the outcome either way."""
    stepped = abs(answer.offset_s) > STEP_THRESHOLD_S
    if stepped:
        step(answer.offset_s)
    offset = round(answer.offset_s, 3)
    return ClockOutcome("ntp", str(answer.server), offset, stepped, answer.stratum, now_iso())


def rtc(problem: str) -> ClockOutcome:
    return ClockOutcome("rtc", at=now_iso(), problem=problem)


def settle(
    configured: Sequence[str],
    seams: Seams = Seams(),
    budget_s: float = SYNC_BUDGET_S,
    network_wait_s: float = NETWORK_WAIT_S,
) -> ClockOutcome:
    """Ask each server in turn, again every ``RETRY_S`` while the budget lasts (the link and
    DHCP may still be coming up); the first proper answer sets the clock."""
    start, problems = time.monotonic(), dict[str, str]()
    while True:
        found = seams.read_leases()
        candidates = servers(configured, found)
        for server in candidates:
            try:
                return apply(seams.query(server), seams.step)
            except sntp.SntpError as e:
                problems[str(server)] = str(e)
        waited = time.monotonic() - start
        if not candidates and (found or waited >= network_wait_s):
            return rtc("no NTP server in the station config (ntp) or the DHCP lease")
        if waited >= budget_s:
            return rtc("no NTP server answered: " + "; ".join(problems.values()))
        seams.sleep(min(RETRY_S, budget_s - waited))


def read_outcome(path: Path) -> ClockOutcome | None:
    """This boot's outcome, if one was written (and is whole)."""
    try:
        return ClockOutcome.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def boot_outcome(
    configured: Sequence[str], result: Path = paths.CLOCK_FILE, seams: Seams = Seams()
) -> ClockOutcome:
    """This boot's clock: settled by the first process to ask, read back by the others."""
    result.parent.mkdir(parents=True, exist_ok=True)
    with open(result.with_name(result.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        known = read_outcome(result)
        if known is not None:
            return known
        outcome = settle(configured, seams)
        part = result.with_name(f".{result.name}.part")
        part.write_text(json.dumps(outcome.to_json()) + "\n", encoding="utf-8")
        part.replace(result)
    level = logging.INFO if outcome.source == "ntp" else logging.WARNING
    log.log(level, "station clock: %s", outcome.describe())
    return outcome


class BootClock:
    """This process's view of the boot's clock: started once by the station (never on the
    screen's thread), awaited by whatever signs a record."""

    def __init__(self, result: Path = paths.CLOCK_FILE) -> None:
        self.result = result
        self._done = threading.Event()
        self._outcome: ClockOutcome | None = None
        self._started = False

    def start(self, configured: Sequence[str], seams: Seams = Seams()) -> None:
        if self._started:
            return
        self._started = True
        worker = threading.Thread(
            target=self._run, args=(tuple(configured), seams), name="clock", daemon=True
        )
        worker.start()

    def _run(self, configured: tuple[str, ...], seams: Seams) -> None:
        try:
            self._outcome = boot_outcome(configured, self.result, seams)
        except Exception as e:  # noqa: BLE001 - the clock never stops the station
            log.warning("station clock not set from NTP: %s", e)
            self._outcome = rtc(f"not set from NTP: {e}")
        finally:
            self._done.set()

    def settled(self) -> ClockOutcome | None:
        """The outcome without waiting: None while the clock is being set (status.json)."""
        if self._started and not self._done.is_set():
            return None
        return self.outcome(timeout=0)

    def outcome(self, timeout: float = RECORD_WAIT_S) -> ClockOutcome:
        """The boot's outcome, waiting up to ``timeout`` while it is being settled; in a
        process that never started it, what the station's wrote, else ``SYSTEM``."""
        if not self._started:
            return read_outcome(self.result) or SYSTEM
        if not self._done.wait(timeout):
            return rtc("the clock was still being set from NTP")
        return self._outcome or SYSTEM


#: The station process's boot clock (``station.py`` starts it, the report writer awaits it).
BOOT = BootClock()
