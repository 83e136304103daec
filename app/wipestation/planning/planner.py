"""The planning package's only I/O: probe a drive once, then plan from that answer.

Why a cache: a start is checked, then planned, then shown on the details screen within seconds,
and each probe runs smartctl/hdparm/nvme, which take seconds on a real drive and may wake it.
The key is the drive's identity, device number *and* size, so another drive in the same bay, an
HPA reset or a reformat to 512-byte sectors is asked afresh; a finished job forgets its drive.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from wipestation.model import Drive, Progress, VerifyMode
from wipestation.planning import policy
from wipestation.planning.capabilities import Capabilities
from wipestation.planning.checks import DEFAULT_OPTIONS, PolicyOptions
from wipestation.planning.medium import Medium, medium_of
from wipestation.planning.probe import probe
from wipestation.steps.plan import Plan
from wipestation.steps.secret import Secret

#: Drives probed at once by ``prefetch``: each probe mostly waits for its tools (hdparm,
#: smartctl, sg_*, nvme subprocesses), so threads overlap them; bounded for a 48-bay station.
PROBE_PARALLEL = 16

#: How long a probe answer is reused: long enough for check → start → the job's worker, short
#: enough that a drive whose state changed (e.g. unfrozen by a replug) is asked afresh.
PROBE_CACHE_TTL_S = 60.0

CacheKey = tuple[str, tuple[int, int], int]

#: How long an ask waits for the same drive's probe already under way before it probes itself:
#: the tools have timeouts of their own, so this is only a bound, never the usual path.
FLIGHT_WAIT_S = 300.0


class _Flight:
    """One probe under way; whoever asks for the same drive meanwhile waits for its answer."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._caps: Capabilities | None = None

    def land(self, caps: Capabilities | None) -> None:
        """The answer, or None when the probe failed (the waiters then probe themselves)."""
        self._caps = caps
        self._done.set()

    def answer(self) -> Capabilities | None:
        return self._caps if self._done.wait(FLIGHT_WAIT_S) else None


class Planner:
    """``plan(drive, method, verify)`` from a cached probe; thread-safe."""

    def __init__(
        self,
        prober: Callable[[Drive], Capabilities] = probe,
        options: PolicyOptions = DEFAULT_OPTIONS,
        *,
        ttl: float = PROBE_CACHE_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.prober, self.options, self.ttl, self.clock = prober, options, ttl, clock
        self._cache: dict[CacheKey, tuple[float, Capabilities]] = {}
        self._flights: dict[CacheKey, _Flight] = {}
        self._lock = threading.Lock()
        #: the secrets operators gave to open locked drives, by drive identity (never persisted)
        self._secrets: dict[str, Secret] = {}

    def capabilities(self, drive: Drive) -> Capabilities:
        """What the drive reported, asked at most once per ``ttl`` for the same key. A drive
        already being asked is not asked again meanwhile: the screen's health probe and a start
        of that drive take one answer (48 starts at once had run every tool twice: issue 18)."""
        key = (drive.identity, drive.devnum, drive.size_bytes)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and self.clock() - hit[0] < self.ttl:
                return hit[1]
            flight = self._flights.get(key)
            owner = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not owner and (caps := flight.answer()) is not None:
            return caps
        return self._ask(drive, key, flight if owner else None)

    def _ask(self, drive: Drive, key: CacheKey, flight: _Flight | None) -> Capabilities:
        """Probe; the answer is cached and handed to whoever waits on ``flight``. A failure is
        not cached: the waiters and the next ask probe again."""
        try:
            caps = self.prober(drive)
        except BaseException:
            self._land(key, flight, None)
            raise
        self._land(key, flight, caps)
        return caps

    def _land(self, key: CacheKey, flight: _Flight | None, caps: Capabilities | None) -> None:
        with self._lock:
            if caps is not None:
                self._cache[key] = (self.clock(), caps)
            if flight is not None and self._flights.get(key) is flight:
                del self._flights[key]
        if flight is not None:
            flight.land(caps)

    def prefetch(self, drives: Iterable[Drive]) -> None:
        """Probe ``drives`` concurrently into the cache: checking N drives then costs the
        slowest probe, not the sum of them (issue 18). Never raises: a probe does not raise for
        a missing tool or a refusing drive, and anything else surfaces again at ``plan``."""
        todo = list({d.identity: d for d in drives}.values())
        if len(todo) < 2:
            return
        with ThreadPoolExecutor(min(PROBE_PARALLEL, len(todo)), "probe") as pool:
            for d in todo:  # a failure is not cached: the check that follows asks again
                pool.submit(self.capabilities, d)

    def plan(self, drive: Drive, method: str, verify: VerifyMode) -> Plan:
        """Raises UnsupportedError when the drive cannot run ``method``."""
        with self._lock:
            secret = self._secrets.get(drive.identity)
        caps = self.capabilities(drive)
        return policy.plan(drive, caps, method, verify, self.options, secret=secret)

    def give_secret(self, identity: str, secret: Secret | None) -> None:
        """The password or PSID an operator gave for one drive (None takes it back): the next
        plan for that drive may open its lock with it (``planning/locks.py``)."""
        with self._lock:
            if secret is None:
                self._secrets.pop(identity, None)
            else:
                self._secrets[identity] = secret

    def medium(self, drive: Drive) -> Medium:
        return medium_of(drive, self.capabilities(drive))

    def forget(self, identity: str) -> None:
        """Drop every answer about ``identity``: what it reported may no longer be true."""
        with self._lock:
            for key in [k for k in self._cache if k[0] == identity]:
                del self._cache[key]

    def on_progress(self, p: Progress) -> None:
        """Engine subscriber: a finished job changed what its drive reports."""
        if p.state.finished:
            self.forget(p.identity)
            self.give_secret(p.identity, None)  # a secret opens one job, then it is gone
