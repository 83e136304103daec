"""The reports front door: a finished job in, signed record + certificate + label out.

``ReportWriter(report_dir).write(result) -> list[Path]`` is what the engine calls when a job ends.
The record is built and spooled first (memory + tmpfs), the label is queued for the printer, and
then delivery is attempted: sign with the target's station key, render the PDF, write both
durably under ``reports/YYYY-MM-DD/`` and update the session summary. When no target takes it
(absent, full, read-only) the record waits in the spool, ``status`` says so for the screen, and
the next hotplug event (``watch(DriveWatcher)``) or ``flush()`` delivers it. A report problem never
raises into the engine: a finished wipe is never failed by its paperwork.
"""

from __future__ import annotations

import logging
import math
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from wipestation import paths, timesync
from wipestation.config import StationConfig
from wipestation.discovery.host import HostIdentity, this_host
from wipestation.discovery.identity import safe_filename
from wipestation.errors import ReportError
from wipestation.model import JobResult
from wipestation.power import POWER_SUPPLY, read_power
from wipestation.reports.atomic import mkdirs_durable, syncfs, write_atomic
from wipestation.reports.printer import LabelPrinter
from wipestation.reports.readrecord import parse_object
from wipestation.reports.record import (
    SCHEMA_ID,
    Record,
    StationInfo,
    build_record,
    serialize,
    stamp_clock,
)
from wipestation.reports.render_worker import RenderError, RenderPool, adopt, workers_for
from wipestation.reports.spool import Spool
from wipestation.reports.target import (
    DirectoryTarget,
    ReportTarget,
    StickTarget,
    TargetState,
    TargetUnavailableError,
    state_of_oserror,
)

if TYPE_CHECKING:  # signing loads OpenSSL's bindings: imported with the first report
    from wipestation.discovery.monitor import DriveEvent, DriveWatcher
    from wipestation.reports.keystore import KeyHome, StationKey
    from wipestation.reports.sign import StationSigner
    from wipestation.reports.store_offer import Backlog
    from wipestation.reports.uploader import RecordSink, StoreStatus

log = logging.getLogger(__name__)
REPORTS_DIR = "reports"
#: How long a ``write`` waits for an earlier record's rendering to deliver its own record.
AWAIT_DELIVERY_S = 120.0
#: How long ``close`` lets a reachable store take the last records before stopping the uploader.
STORE_CLOSE_WAIT_S = 30.0
#: Bytes of the report target's papers queued for the store at once at a start (the queue is
#: RAM); the next batch follows when the store has taken these (``reports/store_offer.py``).
REOFFER_BUDGET = 64 * 2**20
#: How often the re-offer looks whether the store took a batch (it waits on the uploader).
REOFFER_POLL_S = 30.0


def render_certificate(record: Record, paper: str) -> bytes:
    """The record's PDF certificate.

    reportlab on first use: ~1 s of a station's start-up under QEMU TCG, when no report is due
    (tests/test_import_hygiene.py)."""
    from wipestation.reports import pdf

    return pdf.render_certificate(record, paper)


def chain_order(record: Record) -> float:
    """Records signed at once first, by their chain's sequence number, then those still to be
    signed (numbered at delivery; ``sorted`` keeps their spool order)."""
    seq = (record.get("chain") or {}).get("sequence")
    return float(seq) if isinstance(seq, int) else math.inf


@dataclass(frozen=True)
class WriterStatus:
    """What the screen shows about reports; ``message`` is the persistent one-liner."""

    target: str  # "present" | "absent" | "full" | "read-only" | "error" | "off" | "unknown"
    target_detail: str
    pending: int
    delivered: int
    printer: str  # "none" | "ready" | "printing" | "error: ..."
    last_error: str = ""
    store: StoreStatus | None = None  # the object store's side, when one is configured

    @property
    def ok(self) -> bool:
        return self.pending == 0 and self.target in ("present", "unknown")

    @property
    def message(self) -> str:
        if self.pending:
            why = self.target_detail or "no report target configured"
            return f"Reports: {self.pending} NOT YET SAVED (kept in memory) — {why}"
        if self.target in ("present", "unknown"):
            return f"Reports: {self.delivered} saved to {self.target_detail}"
        return f"Reports: {self.delivered} saved; {self.target_detail}"


def is_drive_record(record: Record) -> bool:
    """A wipe's record (certificate, label, session summary), not e.g. a destruction record."""
    return record.get("schema") == SCHEMA_ID


def record_stem(record: Record) -> str:
    prefix = "" if is_drive_record(record) else "destroyed-"  # beside the drive's wipe records
    return prefix + safe_filename(record["drive"]["identity"])


def day_dir(root: Path, record: Record) -> Path:
    ended = (record.get("sanitization") or {}).get("ended_at")  # none on a destruction record
    day = str(ended or record["created_at"])[:10]
    return root / REPORTS_DIR / day


def free_stem(directory: Path, stem: str) -> str:
    """``stem``, or ``stem-2``, ``stem-3`` ...: never the name of an earlier record."""
    taken = {p.name.lower() for p in directory.iterdir()} if directory.exists() else set()
    candidate, n = stem, 1
    while f"{candidate}.json".lower() in taken or f"{candidate}.pdf".lower() in taken:
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


class ReportWriter:
    """Builds, signs, renders and delivers the proof for every finished job."""

    def __init__(
        self,
        report_dir: str | Path | None = None,
        *,
        station: StationInfo | None = None,
        target: ReportTarget | None = None,
        signer: StationSigner | None = None,
        key_home: KeyHome | str | Path | None = None,
        printer: LabelPrinter | str | None = None,
        paper: str = "A4",
        spool_dir: str | Path | None = None,
        pdf_enabled: bool = True,
        store: RecordSink | None = None,
        host: HostIdentity | None = None,
    ) -> None:
        if target is None and report_dir:
            target = DirectoryTarget(Path(report_dir))
        self.target = target
        self.station = station or StationInfo(station_id=socket.gethostname())
        #: The computer the station runs on (SMBIOS, discovery/host.py): every record names it.
        self.host = host if host is not None else this_host()
        #: Read as each record is made (power.py): the record says mains, battery or unknown.
        self.power_supply = POWER_SUPPLY
        self.signer = signer
        #: Where the station key and its record counter live: never the report target
        #: (reports/keystore.py); a path is a key directory, None the default one.
        self.key_home = key_home
        self._key: StationKey | None = None
        self.printer = LabelPrinter.from_spec(printer) if isinstance(printer, str) else printer
        self.paper = paper
        self.pdf_enabled = pdf_enabled
        self.spool = Spool(spool_dir)
        self.session_started = datetime.now().astimezone()
        self.delivered: list[Record] = []
        #: Drive identity → asset tag / notes the station's screen learned from barcode scans;
        #: they go on that drive's records (``custody/desk.py`` fills them).
        self.asset_tags: dict[str, str] = {}
        self.drive_notes: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        #: report_id → its certificate, rendered outside ``_lock`` (``submit``) so that one
        #: record's rendering overlaps other jobs' wiping and signing instead of queueing them.
        self._rendered: dict[str, bytes] = {}
        self._rendering: set[str] = set()  # being rendered: their own ``submit`` delivers them
        self._pool: RenderPool | None = None  # the renderer's processes, once ``warm`` started them
        #: ``write`` calls between signing and their flush: only the last one writes the session
        #: summary (it lists every record; rewriting it per record made N records cost N²).
        self._writers = 0
        self._summary_due = False  # a delivery left the summary to a later writer
        #: report_id → paths, for a ``submit`` whose record another writer's flush delivered
        self._awaiting: dict[str, list[Path]] = {}
        self._delivered_cond = threading.Condition(self._lock)  # a flush delivered something
        self._kick_thread: threading.Thread | None = None
        self._target_state = "unknown" if target else "off"
        self._target_detail = target.description if target else "no report target configured"
        self._last_error = ""
        self._reoffer_due = False
        self._backlog: Backlog | None = None  # the target's papers not offered again yet
        self.reoffer_budget = REOFFER_BUDGET
        self._closed = False
        self._identity_offered = ""  # the fingerprint whose identity file the store has queued
        self._papers_dir: Path | None = None  # lot records written to RAM (no report target)
        #: Where each delivered record's bytes also go (reports/uploader.py), or None.
        self.store = store
        #: The boot's clock (timesync.py), awaited (bounded) before a record is built: the
        #: record's times are evidence. Tests pass their own.
        self.clock: Callable[[], timesync.ClockOutcome] = timesync.BOOT.outcome

    @property
    def store(self) -> RecordSink | None:
        return self._store

    @store.setter
    def store(self, sink: RecordSink | None) -> None:
        """A new store is offered everything the report target holds at its next opening (a
        restart's records not yet acknowledged: ``reports/store_offer.py``)."""
        self._store = sink
        self._reoffer_due = sink is not None

    @classmethod
    def from_config(
        cls,
        cfg: StationConfig,
        *,
        spool_dir: str | Path | None = paths.SPOOL_DIR,
        time_source: str = "system clock",
    ) -> ReportWriter:
        """The station's writer: ``report_dir`` if configured, else the report/boot stick."""
        station = StationInfo(
            station_id=cfg.station,
            operator=cfg.operator,
            customer=cfg.customer,
            location=cfg.location,
            lot_id=cfg.lot,
            time_source=time_source,
        )
        target: ReportTarget = (
            DirectoryTarget(Path(cfg.report_dir)) if cfg.report_dir else StickTarget()
        )
        from wipestation.reports.keystore import station_key_home

        return cls(
            station=station,
            target=target,
            key_home=station_key_home(cfg.report_dir),
            printer=cfg.printer or None,
            paper=cfg.paper,
            spool_dir=spool_dir,
        )

    # ---- the engine's entry point --------------------------------------------------------------

    def write(self, result: JobResult, *, asset_tag: str = "") -> list[Path]:
        """Record one finished job; the paths written now (empty while the record waits)."""
        identity = result.drive.identity
        tag = asset_tag or self.asset_tags.get(identity, "")
        clock = self.clock()  # before the record takes its times
        record = build_record(result, self.station, asset_tag=tag, host=self.host)
        record["power"] = read_power(self.power_supply).to_json()  # a laptop's battery matters
        record["notes"] = [*record["notes"], *self.drive_notes.get(identity, ())]
        stamp_clock(record, clock)
        return self.submit(record)

    def submit(self, record: Record) -> list[Path]:
        with self._lock:
            self._writers += 1
            self._awaiting[record["report_id"]] = []
        try:
            record = self._sign_now(record)
            self.spool.add(record)
            if "signature" in record:  # else its label prints once it is signed (delivery)
                self._label(record)
                self._prerender(record)
                self._offer_now(record)
        finally:
            with self._lock:  # whatever happened, a flush may take it now
                self._rendering.discard(record["report_id"])
                self._delivered_cond.notify_all()
            written = self.flush(last_writer=True)
            elsewhere = self._await_delivery(record["report_id"])
        return written.get(record["report_id"]) or elsewhere

    def _await_delivery(self, report_id: str) -> list[Path]:
        """The paths another writer's flush delivered ``report_id`` to. Records are delivered
        in their chain's order, so an earlier one still being rendered holds this one back
        until its writer delivers both; then this returns (never while the target is absent)."""
        deadline = time.monotonic() + AWAIT_DELIVERY_S
        with self._lock:
            while (
                not self._awaiting.get(report_id)
                and self._rendering
                and any(r["report_id"] == report_id for r in self.spool.pending())
                and (left := deadline - time.monotonic()) > 0
            ):
                self._delivered_cond.wait(left)
            return self._awaiting.pop(report_id, [])

    def _prerender(self, record: Record) -> None:
        """The signed record's certificate, rendered now and outside the delivery lock (the PDF
        shows the signature and sequence number, so never before signing)."""
        if not (self.pdf_enabled and is_drive_record(record)):
            return
        report_id = record["report_id"]  # in _rendering since it was signed (_sign_now)
        try:
            data = self._render(record)
        except Exception:  # noqa: BLE001 - delivery renders it again and reports the failure
            log.exception("certificate %s not rendered ahead", report_id)
            return
        with self._lock:
            self._rendered[report_id] = data

    def _offer_now(self, record: Record) -> None:
        """The signed record to the store at once, stick or not (a station without a report
        stick has only the store and RAM); its PDF is the one the stick will get (rendered
        ahead). One whose PDF failed to render ahead is offered at delivery, with its PDF."""
        pdf = self._rendered.get(record["report_id"])
        if self.store is None or (pdf is None and self.pdf_enabled and is_drive_record(record)):
            return
        self.store.submit(record, serialize(record), pdf)

    def _render(self, record: Record) -> bytes:
        if self._pool is not None:
            try:
                return self._pool.certificate(record, self.paper)
            except RenderError as e:
                log.warning("certificate %s rendered here: %s", record["report_id"], e)
        return render_certificate(record, self.paper)

    def warm(self, reports: int = 1) -> None:
        """Start the renderer's processes now, for a command that will write ``reports``
        records: they import reportlab and parse the fonts on other cores while the drives are
        probed and wiped, then render every PDF of this writer (``reports/render_worker.py``:
        why not a thread of this process). Without it, PDFs are rendered here, on first use."""
        if self.pdf_enabled and self._pool is None:
            self._pool = adopt(workers_for(reports))  # the command's early one, if it has one

    def _sign_now(self, record: Record) -> Record:
        """Signed and numbered at once when the station key is at hand, so its label's QR code
        names the very record that will be on the stick; else as is (signed at delivery)."""
        with self._lock:
            try:
                with self.station_key().session() as key:
                    signed = key.sign_next(record)
                if self.pdf_enabled and is_drive_record(signed):  # see _prerender
                    self._rendering.add(signed["report_id"])
                return signed
            except (TargetUnavailableError, OSError) as e:
                log.warning("record %s waits for the station key: %s", record["report_id"], e)
                return record

    def _label(self, record: Record) -> None:
        if self.printer is not None and is_drive_record(record):  # a label is a wipe's
            self.printer.submit(record)

    # ---- delivery ------------------------------------------------------------------------------

    def flush(self, *, last_writer: bool = False) -> dict[str, list[Path]]:
        """Deliver every waiting record to the target; report_id → paths written.

        ``last_writer``: called by ``submit``, which counted itself in ``_writers``; the session
        summary is then written only by the last of the concurrent writers."""
        with self._lock:
            if last_writer:
                self._writers -= 1
            summary = self._writers == 0
            if self.target is None or not (len(self.spool) or (summary and self._summary_due)):
                return {}
            try:
                return self._flush_locked(self.target, summary=summary)
            except TargetUnavailableError as e:
                self._set_target(e.state, str(e))
            except OSError as e:
                self._set_target(state_of_oserror(e), f"{self.target.description}: {e}")
            except Exception as e:  # noqa: BLE001 - paperwork must never kill the engine
                log.exception("report delivery failed")
                self._set_target(TargetState.ERROR, f"report delivery failed: {e}")
            self._offer_identity_from_ram()
            return {}

    def _flush_locked(self, target: ReportTarget, *, summary: bool = True) -> dict[str, list[Path]]:
        out: dict[str, list[Path]] = {}
        with target.open() as root, self.station_key().session() as key:
            for record in sorted(self.spool.pending(), key=chain_order):
                if record["report_id"] in self._rendering:
                    break  # it and those after it: by its own submit, once it is rendered
                signed = record if "signature" in record else key.sign_next(record)
                if signed is not record:  # numbered in the station's chain only now
                    self._label(signed)
                out[record["report_id"]] = self._deliver(root, signed)
                if record["report_id"] in self._awaiting:
                    self._awaiting[record["report_id"]] = out[record["report_id"]]
                self.spool.remove(record["report_id"])
                self.delivered.append(signed)
            from wipestation.reports.identity import IDENTITY_DIR, write_identity

            path = write_identity(root / IDENTITY_DIR, key.signer, self.station.station_id)
            self._offer_identity(key.signer, path)
            self._reoffer(root)
            if summary:
                self._write_summary(root)
            self._summary_due = not summary
            syncfs(root)
            self._set_target(TargetState.PRESENT, target.description)
            self._delivered_cond.notify_all()
        return out

    def write_signed(
        self, write: Callable[[Path, StationSigner], list[Path]], *, share: bool = False
    ) -> list[Path]:
        """``write(root, signer)`` on the open report target, under the delivery lock: for the
        station's signed papers that are not drive records (a lot record closed at the screen).

        ``share``: the papers written are records the store gets too (each JSON written, with the
        PDF of its stem). With a store and no usable report target they are then written to RAM
        (the spool's ``papers/``) and go to the store only: a station without a stick still
        closes its lot.

        Raises:
            TargetUnavailableError: no report target (and no store to share with), or it cannot
                be written now.
        """
        with self._lock:
            try:
                if self.target is None:
                    raise TargetUnavailableError(TargetState.ABSENT, "no report target configured")
                with self.target.open() as root, self.station_key().session() as key:
                    written = write(root, key.signer)
                    syncfs(root)
            except (TargetUnavailableError, OSError):
                if not (share and self.store is not None):
                    raise
                with self.station_key().session() as key:
                    written = write(self.papers_dir(), key.signer)
            if share:
                self._offer_written(written)
            return written

    def papers_dir(self) -> Path:
        """Where signed papers with no report target are kept (RAM): the spool's ``papers/``."""
        if self._papers_dir is None:
            import tempfile

            spool = self.spool.directory
            self._papers_dir = spool / "papers" if spool else Path(tempfile.mkdtemp())
        return self._papers_dir

    # ---- the object store ----------------------------------------------------------------------

    def _offer_written(self, written: list[Path]) -> None:
        from wipestation.reports.store_offer import paper_at

        for path in written:
            paper = paper_at(path) if path.suffix == ".json" else None
            if paper is not None:
                self._offer(paper.record, paper.json_bytes, paper.pdf_bytes)

    def _offer(self, record: Record, body: bytes, pdf: bytes | None, again: bool = False) -> bool:
        """To the store, if any; a paper it cannot key is logged, never raised (paperwork)."""
        if self.store is None:
            return False
        try:
            self.store.submit(record, body, pdf, again=again)
        except ValueError as e:
            log.warning("store: a paper not sent: %s", e)
            return False
        return True

    def _offer_identity(self, signer: StationSigner, path: Path | None) -> None:
        """The station's identity file to the store once per key: the target's copy (``path``),
        else one made now (no report target: the store is then the only place it goes)."""
        if self.store is None or self._identity_offered == signer.fingerprint:
            return
        from wipestation.reports.identity import build_identity

        if path is None:
            record = build_identity(signer, self.station.station_id)
            body = serialize(record)
        else:
            try:
                body = path.read_bytes()
                record = parse_object(body)
            except (OSError, ReportError) as e:
                log.warning("store: identity file %s not sent: %s", path, e)
                return
        if self._offer(record, body, None):
            self._identity_offered = signer.fingerprint

    def _offer_identity_from_ram(self) -> None:
        """No report target: the identity file from the key in memory (if it is loaded)."""
        if self.store is None or self._identity_offered:
            return
        try:
            with self.station_key().session() as key:
                self._offer_identity(key.signer, None)
        except (TargetUnavailableError, OSError, ReportError) as e:
            log.info("identity file not offered to the store yet: %s", e)

    def _reoffer(self, root: Path) -> None:
        """Once per store: every signed paper on the target offered again (a restart), in
        batches of ``reoffer_budget`` bytes, each once the store took the one before;
        conditional creates make those already in the store count as delivered."""
        from wipestation.reports.store_offer import Backlog

        if self.store is None or not self._reoffer_due:
            return
        if self._backlog is None:
            self._backlog = Backlog(root)
        elif self.store.status().pending:
            return  # the batch before is not in the store yet
        batch = self._backlog.take(root, self.reoffer_budget)
        found = sum(self._offer(p.record, p.json_bytes, p.pdf_bytes, True) for p in batch)
        self._reoffer_due = bool(len(self._backlog))
        rest = f", {len(self._backlog)} files to follow" if self._reoffer_due else ""
        log.info("store: %d signed papers on %s offered again%s", found, root, rest)

    def _offer_papers(self, root: Path) -> int:
        from wipestation.reports.store_offer import papers

        return sum(self._offer(p.record, p.json_bytes, p.pdf_bytes, True) for p in papers(root))

    def reoffer(self) -> None:
        """A restart: what RAM kept (the spool's signed records, rendered now so the store gets
        each with its PDF; lot records in ``papers/``), then, once the report target opens,
        everything on it. For a thread of its own (rendering and reading a stick take time)."""
        if self.store is None:
            return
        for record in self.spool.pending():
            if "signature" in record:
                self._offer_spooled(record)
        spool = self.spool.directory
        if spool is not None and (spool / "papers").is_dir():
            self._offer_papers(spool / "papers")
        self._open_target()
        while self._backlog is not None and self._reoffer_due and not self._closed:
            if self.store.wait_idle(REOFFER_POLL_S):  # the batch before is in the store
                self._open_target()

    def _open_target(self) -> None:
        """Deliver what waits, else just open the target (either offers a batch again)."""
        if len(self.spool):
            self.flush()
        else:
            self.check_target()

    def _offer_spooled(self, record: Record) -> None:
        report_id = record["report_id"]
        if self.pdf_enabled and is_drive_record(record):
            with self._lock:
                if report_id in self._rendered or report_id in self._rendering:
                    return  # being delivered or offered by its own ``submit``
                self._rendering.add(report_id)  # delivery waits for this rendering
            try:
                self._prerender(record)
            finally:
                with self._lock:
                    self._rendering.discard(report_id)
                    self._delivered_cond.notify_all()
        self._offer_now(record)

    def station_key(self) -> StationKey:
        """The station key and record chain, loaded from their home on first use."""
        if self._key is None:
            from wipestation.reports.keystore import (  # see TYPE_CHECKING above
                DEFAULT_KEY_DIR,
                KeyHome,
                StationKey,
            )

            home = self.key_home
            if not isinstance(home, KeyHome):
                home = KeyHome.directory(home or DEFAULT_KEY_DIR)
            self._key = StationKey(home, self.station.station_id, self.signer)
        return self._key

    def _deliver(self, root: Path, record: Record) -> list[Path]:
        directory = day_dir(root, record)
        mkdirs_durable(directory)
        stem = free_stem(directory, record_stem(record))
        paths: list[Path] = []
        data: bytes | None = None
        if self.pdf_enabled and is_drive_record(record):  # a destruction record is JSON only
            ahead = self._rendered.pop(record["report_id"], None)  # as signed: same bytes
            data = ahead if ahead is not None else self._render(record)
            paths.append(write_atomic(directory / f"{stem}.pdf", data))
        # The JSON last: its presence is what "delivered" means.
        body = serialize(record)
        paths.insert(0, write_atomic(directory / f"{stem}.json", body))
        log.info("report written: %s", paths[0])
        if self.store is not None:  # the very bytes on the stick, queued for the store
            self.store.submit(record, body, data)
        return paths

    def _write_summary(self, root: Path) -> None:
        wiped = [r for r in self.delivered if is_drive_record(r)]
        if not wiped:
            return
        stamp = self.session_started
        directory = root / REPORTS_DIR / stamp.strftime("%Y-%m-%d")
        mkdirs_durable(directory)
        name = f"session-{stamp:%H%M%S}-{safe_filename(self.station.station_id)}"
        from wipestation.reports import summary

        write_atomic(directory / f"{name}.csv", summary.render_csv(wiped))
        if self.pdf_enabled:
            started = stamp.isoformat(timespec="seconds")
            write_atomic(directory / f"{name}.pdf", self._summary_pdf(wiped, started))

    def _summary_pdf(self, wiped: list[Record], started: str) -> bytes:
        if self._pool is not None:
            try:
                return self._pool.summary(wiped, self.station, started, self.paper)
            except RenderError as e:
                log.warning("session summary rendered here: %s", e)
        from wipestation.reports import summary  # reportlab, on first use (see _deliver)

        return summary.render_pdf(wiped, self.station, started, self.paper)

    def _set_target(self, state: TargetState, detail: str) -> None:
        if state != TargetState.PRESENT:
            log.warning("reports: %s (%d waiting)", detail, len(self.spool))
            self._last_error = detail
        self._target_state, self._target_detail = str(state), detail

    # ---- hotplug -------------------------------------------------------------------------------

    def watch(self, watcher: DriveWatcher) -> None:
        """Subscribe to a ``discovery.monitor.DriveWatcher``: a new drive may be a report stick."""
        watcher.subscribe(self.on_drive_event)

    def on_drive_event(self, event: DriveEvent) -> None:
        """A drive came or changed (maybe a report stick): deliver or re-check, in background."""
        if event.action in ("added", "changed"):
            self.kick()

    def kick(self) -> None:
        """Deliver what waits, or just re-check the target; never blocks the caller."""
        if self._kick_thread is not None and self._kick_thread.is_alive():
            return
        work = self.flush if len(self.spool) else self.check_target
        self._kick_thread = threading.Thread(target=work, name="report-flush", daemon=True)
        self._kick_thread.start()

    def check_target(self) -> str:
        """Open the target once (a stick is mounted and unmounted) to show its state early."""
        with self._lock:
            if self.target is None:
                return self._target_state
            try:
                with self.target.open() as root:
                    self._set_target(TargetState.PRESENT, self.target.description)
                    self._reoffer(root)
            except TargetUnavailableError as e:
                self._set_target(e.state, str(e))
            except OSError as e:
                self._set_target(state_of_oserror(e), f"{self.target.description}: {e}")
            return self._target_state

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait for a background delivery and the printer queue; True when both are done."""
        t = self._kick_thread
        if t is not None:
            t.join(timeout)
            if t.is_alive():
                return False
        return self.printer.wait_idle(timeout) if self.printer else True

    def close(self) -> None:
        self._closed = True
        self.wait_idle(30)
        self._close_store()
        if len(self.spool):
            where = self.spool.directory or "memory only"
            log.error("reports: %d record(s) NOT saved (spool: %s)", len(self.spool), where)
        if self.printer is not None:
            self.printer.close()
        if self._pool is not None:
            self._pool.close()
            self._pool = None  # a PDF after this is rendered here

    # ---- for the screen ------------------------------------------------------------------------

    @property
    def status(self) -> WriterStatus:
        return WriterStatus(
            target=self._target_state,
            target_detail=self._target_detail,
            pending=len(self.spool),
            delivered=len(self.delivered),
            printer=self.printer.state if self.printer else "none",
            last_error=self.spool.last_error or self._last_error,
            store=self.store.status() if self.store is not None else None,
        )

    def _close_store(self) -> None:
        """Give a working store a bounded moment to take what was just written, then stop the
        uploader; what it has not acknowledged stays on the stick (and is said in the log)."""
        if self.store is None:
            return
        if not self.store.status().reason:
            self.store.wait_idle(STORE_CLOSE_WAIT_S)
        self.store.stop()
