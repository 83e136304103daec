"""Records to the floor's object store: one background uploader per report writer (issue 20).

Why a thread of its own: the store may be down, slow or refusing for minutes, and neither the
engine (which hands a finished job to the writer) nor the stick delivery may wait for it. The
writer hands each delivered record's bytes here (``submit``); this module uploads them as
conditional creates under ``record_key`` (content-derived), so "created" and "already there"
both mean delivered and a retry, a re-run or a second station never duplicates or overwrites.

At-least-once, never lost: an upload leaves the queue only once the store acknowledged it; a
failure keeps it and retries after a bounded, doubling backoff (1 s .. 60 s). The bytes queued
here are the very bytes written to the stick, so the store's copy is byte-identical.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from wipestation.reports.record import Record
from wipestation.reports.store import StoreSettings, record_key
from wipestation.reports.store_client import (
    BucketMissingError,
    StoreAuthError,
    StoreClient,
    StoreClockError,
    StoreError,
    StoreTLSError,
    StoreUnreachableError,
)

log = logging.getLogger(__name__)
FIRST_DELAY_S = 1.0
MAX_DELAY_S = 60.0

#: The failure, in the few words an operator acts on (the error's own text says the details).
REASONS: tuple[tuple[type[StoreError], str], ...] = (
    (StoreUnreachableError, "store unreachable"),
    (StoreAuthError, "credentials refused (403): check the store's access key and secret"),
    (StoreTLSError, "TLS error: the store's certificate is not trusted (store_ca?)"),
    (BucketMissingError, "bucket missing on the store"),
    (StoreClockError, "the station's clock is too far from the store's"),
)


@dataclass(frozen=True)
class Upload:
    """One object to create: its key, its exact bytes, and the record it belongs to."""

    report_id: str
    key: str
    body: bytes


@dataclass(frozen=True)
class StoreStatus:
    """What the screen, the conveyor log and power-off need to know about the store."""

    pending: int  # records (not objects) not yet acknowledged by the store
    delivered: int  # records the store holds (created now, or already there)
    reason: str = ""  # why the pending ones wait, in operator words ("" while none failed)
    detail: str = ""  # the store error's full text (never a secret)
    required: bool = False  # power-off waits for the store
    created: int = 0  # objects this uploader created
    already: int = 0  # objects the store already held (a re-run, a second station): delivered

    @property
    def ok(self) -> bool:
        return self.pending == 0

    @property
    def message(self) -> str:
        if not self.pending:
            return f"Store: {self.delivered} records in the store"
        why = self.reason or "uploading"
        return f"{self.pending} records not yet in the store: {why}"


class RecordSink(Protocol):
    """The writer's seam: where a delivered record's bytes go besides the stick."""

    def submit(self, record: Record, json_bytes: bytes, pdf_bytes: bytes | None) -> None: ...

    def status(self) -> StoreStatus: ...

    def wait_idle(self, timeout: float) -> bool: ...

    def stop(self, timeout: float = 10.0) -> None: ...


def reason_of(error: StoreError) -> str:
    """The operator's words for ``error``; an unexpected refusal is said with its own text."""
    for kind, words in REASONS:
        if isinstance(error, kind):
            return words
    return f"the store refused the upload ({error})"


def uploads_of(
    settings: StoreSettings, record: Record, json_bytes: bytes, pdf_bytes: bytes | None
) -> list[Upload]:
    """The record's objects, PDF first: the JSON's presence is what "delivered" means (as on
    the stick). Both keys carry the sha256 of the record's JSON bytes."""
    sha = hashlib.sha256(json_bytes).hexdigest()
    lot = str((record.get("station") or {}).get("lot_id") or "")
    identity = str(record["drive"]["identity"])

    def key(suffix: str) -> str:
        return record_key(settings.location, lot, identity, sha, suffix)

    pdf = [] if pdf_bytes is None else [Upload(record["report_id"], key("pdf"), pdf_bytes)]
    return [*pdf, Upload(record["report_id"], key("json"), json_bytes)]


class Uploader:
    """Uploads queued records in one background thread, retrying with a bounded backoff."""

    def __init__(
        self,
        settings: StoreSettings,
        *,
        first_delay: float = FIRST_DELAY_S,
        max_delay: float = MAX_DELAY_S,
        client: Callable[[StoreSettings], StoreClient] = lambda s: s.client(),
    ) -> None:
        self._settings = settings
        self._make_client = client
        self._client = client(settings)
        self.first_delay, self.max_delay = first_delay, max_delay
        self._queue: list[Upload] = []
        self._delivered: set[str] = set()
        self._created = self._already = 0
        self._reason = self._detail = ""
        self._last_kind: type[StoreError] | None = None
        self._cond = threading.Condition()
        self._wake = False
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="store-upload", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        return f"Uploader({self._settings.location})"

    # ---- the writer's side ---------------------------------------------------------------------

    def submit(self, record: Record, json_bytes: bytes, pdf_bytes: bytes | None) -> None:
        """Queue the record's objects; returns at once (the thread uploads them)."""
        uploads = uploads_of(self._settings, record, json_bytes, pdf_bytes)
        with self._cond:
            self._queue.extend(uploads)
            self._wake = True
            self._cond.notify_all()

    def use(self, settings: StoreSettings) -> None:
        """New settings (credentials fixed, endpoint changed): retry everything now with them.
        Queued keys were derived from the old location; they are derived again."""
        with self._cond:
            old = self._settings
            self._settings, self._client = settings, self._make_client(settings)
            self._queue = [rekeyed(u, old, settings) for u in self._queue]
            self._wake = True
            self._cond.notify_all()

    def status(self) -> StoreStatus:
        with self._cond:
            pending = len({u.report_id for u in self._queue})
            return StoreStatus(
                pending,
                len(self._delivered),
                self._reason if pending else "",
                self._detail if pending else "",
                self._settings.required,
                self._created,
                self._already,
            )

    def wait_idle(self, timeout: float) -> bool:
        """Wait (bounded) until the store acknowledged everything queued; True when it has."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue and (left := deadline - time.monotonic()) > 0:
                self._cond.wait(left)
            return not self._queue

    def stop(self, timeout: float = 10.0) -> None:
        """End the thread (what is still queued stays on the stick / in the spool)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout)
        if self._queue:
            log.warning("store: %s", self.status().message)

    # ---- the thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        delay = self.first_delay
        while self._next_round(delay):
            delay = self.first_delay if self._drain() else min(delay * 2, self.max_delay)

    def _next_round(self, delay: float) -> bool:
        """Wait for work; after a failure wait ``delay`` unless woken (new record, new
        settings). False once stopping."""
        with self._cond:
            if self._reason and not self._wake:
                self._cond.wait_for(lambda: self._stopping or self._wake, delay)
            self._cond.wait_for(lambda: self._stopping or bool(self._queue))
            self._wake = False
            return not self._stopping

    def _drain(self) -> bool:
        """Upload the queue's head until empty (True) or the store fails (False)."""
        while (head := self._head()) is not None:
            upload, client, settings = head
            try:
                put = client.put(upload.key, upload.body, settings.retain_until(_now()))
            except StoreError as e:
                self._failed(e)
                return False
            self._done(upload, put.created)
        return True

    def _head(self) -> tuple[Upload, StoreClient, StoreSettings] | None:
        with self._cond:
            if self._stopping or not self._queue:
                return None
            return self._queue[0], self._client, self._settings

    def _done(self, upload: Upload, created: bool) -> None:
        with self._cond:
            self._created += created
            self._already += not created
            if upload in self._queue:  # ``use`` may have re-keyed it meanwhile: then again
                self._queue.remove(upload)
            if not any(u.report_id == upload.report_id for u in self._queue):
                self._delivered.add(upload.report_id)
            if not self._queue:
                self._reason = self._detail = ""
                self._last_kind = None
            self._cond.notify_all()

    def _failed(self, error: StoreError) -> None:
        with self._cond:
            first = error.__class__ is not self._last_kind
            self._reason, self._detail = reason_of(error), str(error)
            self._last_kind = error.__class__
        if first:  # once per kind of failure, not once per retry
            log.warning("store: %d records waiting: %s", self.status().pending, error)


def rekeyed(upload: Upload, old: StoreSettings, new: StoreSettings) -> Upload:
    """``upload`` under ``new``'s prefix (the part after the old prefix is content-derived)."""
    if old.location == new.location:
        return upload
    tail = upload.key[len(old.location.key()) :].lstrip("/")
    return Upload(upload.report_id, new.location.key(tail), upload.body)


def _now() -> datetime:
    return datetime.now(UTC)
