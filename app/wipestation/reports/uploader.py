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
from wipestation.reports.store import (
    COMPUTER_SCHEMA,
    IDENTITY_SCHEMA,
    LOT_SCHEMA,
    StoreSettings,
    computer_record_key,
    identity_key,
    lot_record_key,
    record_key,
)
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
    """One object to create: its key, its exact bytes, and the document it belongs to (a
    record's report_id; a lot record's or identity file's JSON key)."""

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
    found: int = 0  # records found on the report stick at start (a restart), new to this uploader
    recovered: int = 0  # of those, the ones the store did not hold yet: pending at the restart

    @property
    def ok(self) -> bool:
        return self.pending == 0

    @property
    def message(self) -> str:
        if not self.pending:
            late = f" ({self.recovered} pending from before the restart)" if self.recovered else ""
            return f"Store: {self.delivered} records in the store{late}"
        why = self.reason or "uploading"
        again = f" ({self.found} found on the stick at start)" if self.found else ""
        return f"{self.pending} records not yet in the store: {why}{again}"


class RecordSink(Protocol):
    """The writer's seam: where a delivered record's bytes go besides the stick."""

    def submit(
        self, record: Record, json_bytes: bytes, pdf_bytes: bytes | None, *, again: bool = False
    ) -> None: ...

    def status(self) -> StoreStatus: ...

    def holds(self, document: str) -> bool: ...

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
    """The document's objects, PDF first: the JSON's presence is what "delivered" means (as on
    the stick). Both keys carry the sha256 of the JSON bytes; where they go depends on what
    the document is (its schema): a drive or destruction record under its lot and drive, a lot
    record under its lot, an identity file under its station (``reports.store``).

    Raises:
        ValueError: the document lacks what its key is made of (not one of the station's).
    """
    try:
        return _uploads(settings, record, json_bytes, pdf_bytes)
    except (KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"not a record the store can key: {e!r}") from None


def _uploads(
    settings: StoreSettings, record: Record, json_bytes: bytes, pdf_bytes: bytes | None
) -> list[Upload]:
    location, sha, schema = (
        settings.location,
        hashlib.sha256(json_bytes).hexdigest(),
        record["schema"],
    )
    if schema == IDENTITY_SCHEMA:
        key = identity_key(
            location, str(record["station"]["id"]), str(record["key"]["fingerprint"])
        )
        return [Upload(key, key, json_bytes)]
    if schema == LOT_SCHEMA:
        lot = str(record["lot_id"] or "")
        keys = {s: lot_record_key(location, lot, sha, s) for s in ("pdf", "json")}
        doc = keys["json"]
    elif schema == COMPUTER_SCHEMA:
        lot, host = str(record["lot_id"] or ""), record["host"] or {}
        name = str(host.get("serial") or host.get("uuid") or "")
        keys = {s: computer_record_key(location, lot, name, sha, s) for s in ("pdf", "json")}
        doc = keys["json"]
    else:
        lot = str(record.get("lot_id") or "")  # top level, as custody.records reads it
        identity = str(record["drive"]["identity"])
        keys = {s: record_key(location, lot, identity, sha, s) for s in ("pdf", "json")}
        doc = str(record["report_id"])
    pdf = [] if pdf_bytes is None else [Upload(doc, keys["pdf"], pdf_bytes)]
    return [*pdf, Upload(doc, keys["json"], json_bytes)]


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
        self._keys: set[str] = set()  # queued or delivered: offered again, they are not re-sent
        self._delivered: set[str] = set()
        self._again: set[str] = set()  # documents offered again at start (``again``)
        self._new: set[str] = set()  # documents of which this uploader created an object
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

    def submit(
        self, record: Record, json_bytes: bytes, pdf_bytes: bytes | None, *, again: bool = False
    ) -> None:
        """Queue the document's objects not queued or delivered yet; returns at once (the
        thread uploads them). ``again``: found on the report stick at start (a restart).

        Raises:
            ValueError: not a document the store can key (``uploads_of``).
        """
        uploads = uploads_of(self._settings, record, json_bytes, pdf_bytes)
        with self._cond:
            uploads = [u for u in uploads if u.key not in self._keys]
            if not uploads:
                return
            if again:
                self._again.add(uploads[-1].report_id)
            self._keys.update(u.key for u in uploads)
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
            if old.location != settings.location:  # what was delivered went to the old one
                self._keys = {u.key for u in self._queue}
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
                len(self._again),
                len(self._again & self._new & self._delivered),
            )

    def holds(self, document: str) -> bool:
        """The store acknowledged every object of ``document`` (a record's report_id)."""
        with self._cond:
            return document in self._delivered

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
            if created:
                self._new.add(upload.report_id)
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
