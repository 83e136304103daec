"""The station App: wiring between the engine, hotplug and the screens, and nothing else.

The App gets the station's ``Services`` (planner, engine, drive source, watcher, report writer)
so tests run the real screens against fakes. Engine and watcher threads only ``post_message``;
hot counters are read from ``engine.snapshot()`` on a timer (style.md, two progress channels).
Unattended mode is the ``Autopilot``'s (``unattended.py``, shared with the headless conveyor).
The engine outlives the App: if the UI crashes, the supervisor starts a new App on the same
services and ``Station.adopt`` reattaches the running jobs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from textual import events, work
from textual.app import App
from textual.message_pump import MessagePump

from wipestation import boottimes, computermode, paths, power
from wipestation.custody.close import close_lot, identity_of
from wipestation.custody.computer_close import certify
from wipestation.custody.desk import LotDesk, open_desk
from wipestation.custody.resume import Prior, describe, prior_from
from wipestation.discovery.inventory import listing_order
from wipestation.discovery.monitor import DriveEvent
from wipestation.engine.job import lower_priority
from wipestation.errors import ReportError, WipestationError
from wipestation.model import Drive, JobState, Progress, VerifyMode
from wipestation.planning.catalogue import Method, all_methods
from wipestation.planning.locks import lock_of
from wipestation.reports.target import TargetUnavailableError
from wipestation.services import Services
from wipestation.tui import POWEROFF, RESTART
from wipestation.tui.destruction import record_destruction
from wipestation.tui.format import ascii_terminal, serial_terminal, use_ascii_scrollbars
from wipestation.tui.health import health_word
from wipestation.tui.joblog import JobLogRelay
from wipestation.tui.lot_sources import LotFinder, LotOpening
from wipestation.tui.messages import (
    CancelRequested,
    CodeScanned,
    DestroyRecorded,
    DriveAdded,
    DriveChanged,
    DriveRemoved,
    HealthProbed,
    JobChanged,
    JobLogged,
    JobStarted,
    LabelReprintRequested,
    LotCloseRequested,
    LotOpened,
    LotSourcesFound,
    LotSourcesRequested,
    ManifestLoaded,
    ManifestLoadRequested,
    MethodChosen,
    OperatorSignedIn,
    PlanRequested,
    PlanWorkedOut,
    PowerOffRequested,
    StartRefused,
    WipeRequested,
)
from wipestation.tui.ports import ReportStatus
from wipestation.tui.reporting import delivery_of, key_notice_of, report_status_of, reprint_label
from wipestation.tui.screens.ask import AskScreen
from wipestation.tui.screens.details import plan_lines
from wipestation.tui.screens.drives import DrivesScreen
from wipestation.tui.screens.lot_open import LotOpenScreen
from wipestation.tui.screens.secret import SecretGiven
from wipestation.tui.screens.signin import SignInScreen
from wipestation.tui.station import Station
from wipestation.tui.view import StationView
from wipestation.unattended import Autopilot, Refused

log = logging.getLogger("wipestation.tui")
TICK_S = 1 / 3  # 3 Hz: smooth enough for people, cheap for 48 rows
SERIAL_TICK_S = 1.0  # a 115200-baud line carries ~11 KiB/s; 48 moving rows at 3 Hz use half
CERTIFY_RETRY_S = 2.0  # computer mode: the certificate is tried again until a stick takes it
POWEROFF_QUIET_S = 3.0  # unattended power-off waits this long with nothing left to do


class WipestationApp(App[str | None]):
    CSS_PATH = Path(__file__).with_name("wipestation.tcss")  # absolute: subclasses live elsewhere
    TITLE = "Wipestation"

    def __init__(
        self,
        *,
        services: Services,
        methods: tuple[Method, ...] | None = None,
        clock: Callable[[], float] = time.time,
        ascii_only: bool | None = None,
        tick_s: float | None = None,
        stick_arrived: Callable[[], bool] | None = None,
        lot_finder: LotFinder | None = None,
    ) -> None:
        super().__init__()
        self.services = services
        self.engine = services.engine
        self.config = services.config
        self.watcher = services.watcher
        self.report_writer = services.reports
        self.methods = methods if methods is not None else all_methods()
        #: set while the boot stick named on the command line has not appeared (station.py)
        self.stick_arrived = stick_arrived
        self.ascii_only = ascii_terminal() if ascii_only is None else ascii_only
        if self.ascii_only:
            use_ascii_scrollbars()
        self.tick_s = tick_s or (SERIAL_TICK_S if serial_terminal() else TICK_S)
        self.method = self.config.method
        #: True while udev is still reading devices at boot ("looking for drives", not "none").
        self.udev_busy = services.udev_busy
        self.station = Station(services, clock)
        self.autopilot = Autopilot(services, self._autopilot_said)
        self._done_since: float | None = None
        self._closing_for_poweroff = False  # the lot is being closed; power-off follows
        #: computer mode: the certificate's line once written ('' before), and its worker's run
        self.computer_line = ""
        self._certifying = False
        self._certify_told = ""
        self._restart_told = False
        self._view_due = False  # a redraw is queued (refresh_view)
        self._probes_held: list[Drive] | None = []  # None once the first frame is up
        self.lot, self._lot_problem = open_desk(self.config.manifest, self.report_writer)
        #: where the lot dialog finds manifests and open lots (the boot stick's copy, the target)
        self.lot_finder = lot_finder or LotFinder(
            paths.RUN_DIR, getattr(self.report_writer, "target", None), self.config.manifest
        )

        self.view = StationView(
            station=self.station,
            config=self.config,
            methods=self.methods,
            ascii_only=self.ascii_only,
            method=lambda: self.method,
            looking=lambda: self.udev_busy(),
            report_status=self.report_status,
            results=lambda: self.engine.results(),
            delivery=lambda job_id: delivery_of(self.report_writer, job_id),
            lot=self.lot,
            key_notice=key_notice_of(self.report_writer),
        )
        self.drives_screen = DrivesScreen(self.view)
        self._relay = JobLogRelay(self.post_message)

    # ---- input -------------------------------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        """A key first holds the wipe threads back for a moment (engine/courtesy.py): the
        screen's answer then does not wait behind every job for the interpreter."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            self.engine.courtesy.hold()
        await super().on_event(event)

    # ---- start-up -----------------------------------------------------------------------------
    async def on_mount(self) -> None:
        await self.push_screen(self.drives_screen)
        try:
            self.station.load(self.initial_drives())
        except (OSError, WipestationError) as e:
            self.show_error(f"could not list drives: {e}")
        snapshot = self.engine.snapshot()
        self.station.adopt(snapshot)
        self.autopilot.adopt(snapshot.values())  # no re-wipe after a restart of the screen
        self.engine.subscribe(self._from_engine)
        self._relay.attach()
        if self.watcher is not None:
            self.watcher.subscribe(self._from_watcher)
        if computermode.on(self.config):  # a laptop on a low battery: before any overwrite
            self._warn_power(power.low_battery_warning(power.read_power()))
        if self.config.unattended:
            self._auto_start([r.drive for r in self.station.rows.values()])
        self.request_probe([r.drive for r in self.station.rows.values()])
        self.set_interval(self.tick_s, self.tick)
        self.refresh_view()
        if self._lot_problem:
            self.show_error(self._lot_problem)
        if self.config.lot:  # the lot's records from earlier boots count (custody/resume.py)
            self._resume_lot(self.lot, self.config.lot, quiet=True)
        if self.config.lot and not self.config.operator and not self.config.unattended:
            self.start_shift()
        self.call_after_refresh(self._screen_up)

    def initial_drives(self) -> list[Drive]:
        """The watcher listed the drives as it started, and has followed every event since:
        asking udev again would cost half a second of a boot under QEMU TCG."""
        known = self.watcher.known() if self.watcher is not None else {}
        return listing_order(known.values()) if known else self.services.inventory.drives()

    def _screen_up(self) -> None:
        boottimes.mark(f"screen-up drives={len(self.station.rows)}")
        boottimes.startup_done()
        held, self._probes_held = self._probes_held, None
        if held:
            self.probe_drives(held)

    def request_probe(self, drives: list[Drive]) -> None:
        """Probe now, or once the first frame is drawn: a tool run per drive would otherwise
        compete with it for a slow CPU at boot."""
        if self._probes_held is not None:
            self._probes_held.extend(drives)
        else:
            self.probe_drives(drives)

    def on_unmount(self) -> None:
        self._relay.detach()

    # ---- threads → messages (never touch widgets here) ----------------------------------------
    def _from_engine(self, progress: Progress) -> None:
        self.post_message(JobChanged(progress))

    def _from_watcher(self, event: DriveEvent) -> None:
        if event.action == "removed":
            self.post_message(DriveRemoved(event.name))
        elif event.drive is not None:
            cls = DriveAdded if event.action == "added" else DriveChanged
            self.post_message(cls(event.drive))

    # ---- rare state changes -------------------------------------------------------------------
    def on_job_changed(self, message: JobChanged) -> None:
        p = message.progress
        row = self.station.apply(p)
        if row is not None and p.state == JobState.FAILED:
            self.show_error(f"{row.drive.path} FAILED: {p.last_error or 'see details (d)'}")
        self.refresh_view()

    def on_job_logged(self, message: JobLogged) -> None:
        self.station.log_line(message.job_id, message.text)

    def on_drive_added(self, message: DriveAdded) -> None:
        self.station.add_drive(message.drive)
        if message.drive.protected and self.config.lot:  # maybe the report stick, at last
            self._resume_lot(self.lot, self.config.lot, quiet=True)
        boottimes.mark(f"drive-listed {message.drive.name} drives={len(self.station.rows)}")
        self.show_info(f"{message.drive.path} added ({message.drive.serial or 'no serial'})")
        if self.config.unattended:
            self._auto_start([message.drive])
        self.request_probe([message.drive])
        self.refresh_view()

    def on_drive_changed(self, message: DriveChanged) -> None:
        self.station.change_drive(message.drive)
        row = self.station.row_of(message.drive.name)
        if row is not None and row.caps is None and not message.drive.protected:
            self.request_probe([message.drive])  # e.g. udev finished identifying it
        if self.config.unattended:  # e.g. udev finished identifying it after start-up
            self._auto_start([message.drive])
        self.refresh_view()

    def on_drive_removed(self, message: DriveRemoved) -> None:
        was_busy = self.station.remove_drive(message.name)  # the engine heard it (assembly)
        if was_busy:
            self.show_error(f"/dev/{message.name} was removed during its wipe")
        self.refresh_view()

    def _auto_start(self, drives: list[Drive]) -> None:
        """Unattended mode: the autopilot offers each drive (resuming an interrupted wipe)."""
        rows = [r for d in drives if (r := self.station.row_of(d.name)) and not r.busy]
        if rows:
            self._offer([r.drive for r in rows])

    @work(thread=True, exit_on_error=False, group="start")
    def _offer(self, drives: list[Drive]) -> None:
        """The autopilot plans (probes) and starts: never on the UI thread (and steps aside
        between drives while the screen answers a key), at the wipes' priority as its tools."""
        lower_priority()
        for d in drives:
            self.engine.courtesy.pause()
            self.lot.adopt_tag(d)  # nothing is scanned here: the manifest names the asset tag
            try:
                started = self.autopilot.offer(d)
            except Exception as e:  # noqa: BLE001 - a refusal must free the row, never wedge it
                self.post_message(StartRefused(d.name, d.path, str(e) or repr(e)))
                continue
            if isinstance(started, Refused):  # the row says so (REFUSED), not "idle"
                self.post_message(StartRefused(d.name, d.path, started.reason))
            elif started is not None:
                self.post_message(JobStarted(d.name, started.job_id, started.method))

    def _autopilot_said(self, line: str) -> None:
        """The autopilot's decisions (START/SKIP lines) go to the station log."""
        log.info("unattended: %s", line)

    # ---- requests from the screens (messages.py; screens never call the App) -----------------
    def on_wipe_requested(self, message: WipeRequested) -> None:
        self.start_wipe(message.names, message.method)

    def on_cancel_requested(self, message: CancelRequested) -> None:
        rows = [r for n in message.names if (r := self.station.row_of(n)) is not None]
        self.show_info(f"Cancelling {self.station.cancel(rows)} wipe(s)")

    def on_method_chosen(self, message: MethodChosen) -> None:
        self.method = message.method
        self.show_info(f"Method for the next wipe: {message.method}")
        self.refresh_view()

    def on_code_scanned(self, message: CodeScanned) -> None:
        """A barcode: the lot desk gives it its meaning (custody.desk.LotDesk.scan)."""
        rows = self.station.rows
        here = rows[message.name].drive if message.name in rows else None
        present = [r.drive for r in rows.values() if r.present]
        outcome = self.lot.scan(message.code, present, here)
        if outcome.select:
            self.drives_screen.highlight(outcome.select)
        self._say(outcome.text, outcome.error)
        self.refresh_view()

    def on_operator_signed_in(self, message: OperatorSignedIn) -> None:
        self.lot.sign_in(message.name)
        if self.report_writer is not None:  # read by the engine's thread: one reference swap
            self.report_writer.station = replace(self.report_writer.station, operator=message.name)
        self.show_info(f"Signed in: {message.name} (on every record from now on)")

    # ---- the lot: opened or resumed at the start of a shift (screens/lot_open.py) -------------
    def start_shift(self) -> None:
        """The sign-in, then the lot dialog; Esc at the sign-in goes on with the configured lot
        (never for an unattended station: its configuration decides, nothing waits for a key)."""

        def signed(name: str | None) -> None:
            if name:
                self.post_message(OperatorSignedIn(name))
                self.open_lot_dialog()

        self.push_screen(SignInScreen(self.config.lot, self.config.operator), signed)

    def open_lot_dialog(self) -> None:
        cfg = self.config
        dialog = LotOpenScreen(cfg.lot, cfg.customer, cfg.manifest)
        self.push_screen(dialog, lambda o: self.apply_lot(o) if o else None)

    def on_lot_opened(self, message: LotOpened) -> None:
        self.apply_lot(message.opening)

    def apply_lot(self, opening: LotOpening) -> None:
        """The station works this lot from now on: its records carry the lot id and customer
        (the writer's station info: one reference swap, read by the engine's thread), the desk
        is a new one with the lot's manifest, and the lot's earlier records are read."""
        self.config = replace(self.config, lot=opening.lot_id, customer=opening.customer,
                              manifest=opening.manifest_path or "")  # fmt: skip
        if self.report_writer is not None:
            station = self.report_writer.station
            self.report_writer.station = replace(
                station, lot_id=opening.lot_id, customer=opening.customer
            )
        desk, _ = open_desk("", self.report_writer)
        desk.manifest = opening.manifest
        desk.operators = self.lot.operators[-1:]  # who is signed in now works this lot
        self.lot = desk
        self.view = replace(self.view, config=self.config, lot=desk)
        self.drives_screen.view = self.view
        entries = f"{len(opening.manifest.entries)} expected" if opening.manifest else "no manifest"
        self.show_info(f"Lot {opening.lot_id} open ({entries})")
        # the lot's earlier records count, offered for resuming or not (a lot id typed again)
        self._resume_lot(desk, opening.lot_id, quiet=not opening.resumed)
        self.refresh_view()

    @work(thread=True, exit_on_error=False, group="lot")
    def _resume_lot(self, desk: LotDesk, lot_id: str, *, quiet: bool = False) -> None:
        """The lot's earlier records, verified against the station's own key (the report stick,
        signatures): never on the UI thread. ``quiet``: at start or when a stick arrives, no
        report target is no news (the header says so already)."""
        if self.report_writer is None:
            return
        try:
            prior = prior_from(self.report_writer, lot_id)
        except (OSError, WipestationError) as e:
            if not (quiet and isinstance(e, TargetUnavailableError)):
                why = f"Lot {lot_id}: earlier records not read: {e}"
                self.call_from_thread(self.show_error, why)
        else:
            self.call_from_thread(self._resumed, desk, lot_id, prior)

    def _resumed(self, desk: LotDesk, lot_id: str, prior: Prior) -> None:
        if desk is not self.lot:
            return  # another lot was opened meanwhile
        desk.prior = list(prior.records)
        if prior.records or prior.rejected:
            self._say(f"Lot {lot_id} resumed: {describe(prior)}", bool(prior.rejected))
        self.refresh_view()

    def on_lot_sources_requested(self, message: LotSourcesRequested) -> None:
        self._look_for_lots(message.reply_to)

    @work(thread=True, exit_on_error=False, group="lot")
    def _look_for_lots(self, reply_to: MessagePump) -> None:
        """Mounts the report stick for a moment: never on the UI thread."""
        reply_to.post_message(LotSourcesFound(self.lot_finder.look()))

    def on_manifest_load_requested(self, message: ManifestLoadRequested) -> None:
        self._load_manifest(message)

    @work(thread=True, exit_on_error=False, group="lot")
    def _load_manifest(self, message: ManifestLoadRequested) -> None:
        try:
            manifest = self.lot_finder.load(message.choice)
        except (OSError, WipestationError) as e:
            message.reply_to.post_message(ManifestLoaded(message.choice, None, str(e)))
        else:
            message.reply_to.post_message(ManifestLoaded(message.choice, manifest, ""))

    @work(thread=True, exit_on_error=False, group="lot")
    def on_lot_close_requested(self, _: LotCloseRequested) -> None:
        """The lot record and its PDF (reportlab, signing): never on the UI thread."""
        if self.report_writer is None:
            self.call_from_thread(self.show_error, "Lot not closed: no report writer")
            return
        try:
            closed = close_lot(self.report_writer, self.lot, identity_of(self.config))
        except (OSError, WipestationError) as e:
            self.call_from_thread(self.show_error, f"Lot not closed: {e}")
        else:
            self.call_from_thread(self._say, closed.message(), closed.status != "COMPLETE")

    @work(thread=True, exit_on_error=False, group="lot")
    def on_destroy_recorded(self, message: DestroyRecorded) -> None:
        """A signed destruction record (signing, the stick): never on the UI thread."""
        row = self.station.row_of(message.name)
        if row is None or self.report_writer is None:
            self.call_from_thread(self.show_error, "Nothing recorded: no such drive or no writer")
            return
        try:
            why = row.refused or (lock_of(row.caps) if row.caps else "")
            record_destruction(
                self.report_writer, self.config, self.lot, row.drive, message.method, why
            )
        except (OSError, WipestationError) as e:
            self.call_from_thread(self.show_error, f"Nothing recorded: {e}")
        else:
            self.call_from_thread(self._destroyed, row.drive, message.method)

    def _destroyed(self, drive: Drive, method: str) -> None:
        self.lot.destroyed.add(drive.identity)
        self.show_info(f"{drive.path} recorded as {method} (S/N {drive.serial or '-'})")
        self.refresh_view()

    def on_power_off_requested(self, _: PowerOffRequested) -> None:
        self.power_off()

    def on_plan_requested(self, message: PlanRequested) -> None:
        self._work_out_plan(message.name, message.reply_to)

    def start_wipe(self, names: tuple[str, ...], method: str) -> None:
        rows = [r for n in names if (r := self.station.row_of(n)) is not None]
        ok, errors = self.station.claim(rows)
        if ok:
            self.show_info(f"Starting {len(ok)} wipe(s) with {method}")
            self._start_jobs([r.drive for r in ok], method, self.config.verify)
        for err in errors:  # after the summary, so the last line on screen is the problem
            self.show_error(err)
        self.refresh_view()

    @work(thread=True, exit_on_error=False, group="start")
    def _start_jobs(self, drives: list[Drive], method: str, verify: VerifyMode) -> None:
        """Planning probes the drive (tools, seconds each): never on the UI thread. Between
        drives it steps aside while the screen answers a key (engine/courtesy.py)."""
        lower_priority()  # its probe tools too: starting 48 drives must not outrank the screen
        for d in drives:
            self.engine.courtesy.pause()
            try:
                started = self.services.start(d, method, verify)
            except Exception as e:  # noqa: BLE001 - any refusal must free the row, never wedge it
                self.post_message(StartRefused(d.name, d.path, str(e) or repr(e)))
            else:
                self.post_message(JobStarted(d.name, started.job_id, started.method))

    def on_job_started(self, message: JobStarted) -> None:
        self.station.started(message.name, message.job_id, message.method)
        self.refresh_view()

    def on_start_refused(self, message: StartRefused) -> None:
        self.station.refused_start(message.name, message.error)
        self.show_error(f"{message.path}: not started: {message.error}")
        self.refresh_view()

    def on_label_reprint_requested(self, message: LabelReprintRequested) -> None:
        row = self.station.row_of(message.name)
        result = self.engine.results().get(row.job_id) if row and row.job_id else None
        if result is None:
            self.show_error("No finished wipe on this drive: no label to print.")
            return
        try:
            reprint_label(self.report_writer, result.job_id)
        except (OSError, WipestationError) as e:
            self.show_error(f"Label not printed: {e}")
        else:
            self.show_info(f"Label for {result.drive.serial or result.drive.path} queued")

    async def action_quit(self) -> None:
        running = self.station.counts().running
        if not running:
            self.exit()
            return
        body = f"{running} wipe(s) are running: quitting cancels them (recorded as cancelled)."

        def answered(yes: bool | None) -> None:
            if yes:
                self.engine.cancel_all()
                self.exit()

        self.push_screen(AskScreen("QUIT THE STATION SCREEN?", body), answered)

    def power_off(self) -> None:
        self.engine.cancel_all()
        self.exit(POWEROFF)

    # ---- hot path -----------------------------------------------------------------------------
    def tick(self) -> None:
        self.station.refresh(self.engine.snapshot())
        self.refresh_view()
        if self.config.unattended and (again := self.autopilot.due()):
            self._offer(again)  # starts that failed by a fault, tried again
        if self.stick_arrived is not None and self.stick_arrived():
            self._restart_for_stick()
        elif computermode.powers_off(self.config):
            self._power_off_when_done()
        elif computermode.on(self.config):
            self._certify_when_done()

    def _power_off_when_done(self) -> None:
        """Unattended + poweroff: off once the autopilot says everything ended and every report
        is saved, for a few quiet seconds (a late hotplug restarts the wait)."""
        busy = any(w.group == "start" and w.is_running for w in self.workers)
        if busy or not self.autopilot.may_power_off():
            self._done_since = None
            return
        now = time.monotonic()
        self._done_since = self._done_since or now
        if now - self._done_since < POWEROFF_QUIET_S or self._closing_for_poweroff:
            return
        if self.config.lot or computermode.on(self.config):
            self._closing_for_poweroff = True
            self._close_lot_and_power_off()
        else:
            self.exit(POWEROFF)

    @work(thread=True, exit_on_error=False, group="lot")
    def _close_lot_and_power_off(self) -> None:
        """An unattended station closes its lot before it powers off, as the conveyor does; a
        lot that cannot be written does not hold the power-off (its drive records are saved)."""
        try:
            if self.report_writer is None:
                raise ReportError("no report writer")
            if self.config.lot:
                line = close_lot(self.report_writer, self.lot, identity_of(self.config)).line()
                log.info("%s", line)
        except (OSError, WipestationError) as e:
            log.info("LOT %s NOT-WRITTEN %s", self.config.lot, e)
        if computermode.on(self.config):  # off only once the certificate is on the stick
            while self.is_running and not self._write_certificate():
                time.sleep(CERTIFY_RETRY_S)
        self.call_from_thread(self.exit, POWEROFF)

    def _warn_power(self, warning: str) -> None:
        if warning:
            log.info("POWER %s", warning)
            self.show_error(warning)

    def _certify_when_done(self) -> None:
        """Computer mode on an operator's screen: the certificate once every internal drive's
        job has ended and its record is saved (a failed write is tried again later)."""
        if self.computer_line or self._certifying or not self._internal_drives_ended():
            return
        if not self.autopilot.may_power_off():  # a job still running or a record unsaved
            return
        self._certifying = True
        self._certify_once()

    @work(thread=True, exit_on_error=False, group="computer")
    def _certify_once(self) -> None:
        try:
            self._write_certificate()
        finally:
            self._certifying = False

    def _internal_drives_ended(self) -> bool:
        rows = [r for r in self.station.rows.values() if computermode.takes(r.drive)]
        return bool(rows) and all(r.job_id and not r.busy for r in rows)

    def _write_certificate(self) -> bool:
        """The computer certificate over every internal drive; True once it is written."""
        drives = computermode.certified(
            [*(r.drive for r in self.station.rows.values()),
             *(r.drive for r in self.autopilot.results())]
        )  # fmt: skip
        try:
            if self.report_writer is None:
                raise ReportError("no report writer")
            done = certify(self.report_writer, drives, power.read_power().to_json())
        except (OSError, WipestationError) as e:
            if str(e) != self._certify_told:  # once per reason, not every retry
                self._certify_told = str(e)
                log.info("COMPUTER NOT-WRITTEN %s", e)
                self.call_from_thread(self.show_error, f"Computer certificate not written: {e}")
            return False
        log.info("%s", done.line())
        self.computer_line = done.line()
        self.call_from_thread(self.show_info, f"Computer certificate {done.status}: "
                              f"{done.paths[0].name if done.paths else ''}")  # fmt: skip
        return True

    def _restart_for_stick(self) -> None:
        """The boot stick arrived late: restart the station so its settings apply — at once
        when nothing runs, else when the running wipes have ended (never cancel them)."""
        if self.station.counts().running == 0:
            self.exit(RESTART)
        elif not self._restart_told:
            self._restart_told = True
            self.show_info(
                "The boot stick arrived: its settings apply after a restart, which happens when "
                "the running wipes have ended."
            )

    def refresh_view(self) -> None:
        """Redraw the drives screen once for a burst of changes: 48 drives starting post ~200
        messages, and a redraw per message kept a key waiting behind them for minutes under
        load (issue 18). The redraw runs after the messages already queued."""
        if not self._view_due:
            self._view_due = True
            self.call_later(self._redraw)

    def _redraw(self) -> None:
        self._view_due = False
        if not self.drives_screen.is_mounted:
            return
        with self.batch_update():
            self.drives_screen.show()

    # ---- helpers for screens and workers ------------------------------------------------------
    def report_status(self) -> ReportStatus:
        return report_status_of(self.report_writer, self.config)

    @work(thread=True, exit_on_error=False, group="plan")
    def _work_out_plan(self, name: str, reply_to: MessagePump) -> None:
        """A details screen's plan: the planner may probe the drive, so never on the UI thread.
        The answer goes back to the screen that asked, as a message."""
        reply_to.post_message(PlanWorkedOut(name, self._plan_lines(name)))

    def _plan_lines(self, name: str) -> list[str]:
        row = self.station.row_of(name)
        if row is None:
            return ["no such drive"]
        method = row.progress.method if row.progress else self.method
        try:
            return plan_lines(self.services.plan(row.drive, method, self.config.verify))
        except (WipestationError, OSError) as e:
            return [f"{method}: {e}"]

    @work(thread=True, exit_on_error=False, group="probe")
    def probe_drives(self, drives: list[Drive]) -> None:
        """The health column's probes, at the wipes' priority as their tools: the screen goes
        first when 48 drives arrive at once (the planner runs one probe per drive: a start of
        the same drive meanwhile takes this answer)."""
        lower_priority()
        for drive in drives:
            if drive.protected:  # never worth a tool run; the reason is what matters
                continue
            try:
                caps = self.services.planner.capabilities(drive)
            except (WipestationError, OSError) as e:
                self.post_message(HealthProbed(drive.name, None, str(e)))
            else:
                self.post_message(HealthProbed(drive.name, caps, ""))

    def on_secret_given(self, message: SecretGiven) -> None:
        """A locked drive's password or PSID: kept by the planner for that drive's next plan."""
        row = self.station.row_of(message.name)
        if row is None:
            return
        self.services.planner.give_secret(row.drive.identity, message.secret)
        self.show_info(f"{row.drive.path}: {message.secret.kind} given; w wipes with it")

    def on_health_probed(self, message: HealthProbed) -> None:
        row = self.station.row_of(message.name)
        if row is None:
            return
        row.caps = message.caps
        row.health = health_word(message.caps) if message.caps is not None else "?"
        if message.error:
            self.show_error(f"{row.drive.path}: probe failed: {message.error}")
        self.refresh_view()

    def show_error(self, text: str) -> None:
        self._say(text, error=True)

    def show_info(self, text: str) -> None:
        self._say(text, error=False)

    def _say(self, text: str, error: bool) -> None:
        if self.drives_screen.is_mounted:
            self.drives_screen.say(text, error)
        if error:
            self.notify(text, severity="error", timeout=8)
