"""Puts the station's status (``station_status``) into the store every few seconds, in a thread.

Why a thread of its own: a store that is slow or down must never hold a wipe or the screen. A
status is put when it changed, or at least every ``heartbeat`` seconds (the floor console tells
a live station from a dead one by ``updated_at``); a failed put is retried at the next tick,
quietly (the record uploader already says on screen what is wrong with the store). On close the
last status says how the station ended ("stopped").
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from wipestation.reports.station_status import StationStatus
from wipestation.reports.store_client import StoreClient, StoreError

log = logging.getLogger(__name__)
INTERVAL_S = 5.0
HEARTBEAT_S = 30.0


class StatusPublisher:
    """Publishes ``status(state)`` to ``key`` until ``stop``."""

    def __init__(
        self,
        client: StoreClient,
        key: str,
        status: Callable[[str], StationStatus],
        *,
        interval: float = INTERVAL_S,
        heartbeat: float = HEARTBEAT_S,
    ) -> None:
        self.client, self.key, self._status = client, key, status
        self.interval, self.heartbeat = interval, heartbeat
        self._last: dict[str, object] | None = None
        self._last_at = 0.0
        self._failing: type[Exception] | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="station-status", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        return f"StatusPublisher({self.key!r})"

    def stop(self, state: str = "stopped", timeout: float = 10.0) -> bool:
        """End the thread, then put the final status once; True when the store took it."""
        self._stopping.set()
        self._thread.join(timeout)
        return self._publish(state, force=True)

    def _run(self) -> None:
        while True:
            self._publish("running")
            if self._stopping.wait(self.interval):
                return

    def _publish(self, state: str, *, force: bool = False) -> bool:
        """Put the status when it changed or the heartbeat is due; never raises."""
        try:
            status = self._status(state)
        except Exception:  # a status that cannot be made this tick is tried again next tick
            log.exception("station status: not built")
            return False
        due = time.monotonic() - self._last_at >= self.heartbeat
        if not force and not due and status.content() == self._last:
            return True
        return self._put(status)

    def _put(self, status: StationStatus) -> bool:
        try:
            self.client.overwrite(self.key, status.body(), "application/json")
        except StoreError as e:
            if type(e) is not self._failing:  # once per kind of failure, not once per tick
                log.info("station status not in the store yet: %s", e)
            self._failing = type(e)
            return False
        self._last, self._last_at, self._failing = status.content(), time.monotonic(), None
        return True
